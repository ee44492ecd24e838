"""The demo year of enterprise tracking: visit plans generated from the demo register month by month, the
visits made for them, the appeals raised at those visits and their handling by the departments, the
migrations of the year with the reasons learnt at the move-out visits, the watch list, eight
business-environment issues with their measures, and the last quarterly and monthly reports.

Plans, the migration copy, the watch list, issues and reports go through the real services (under
`core.demo.simulated_now`, so they are dated across the year). The thousands of visits and hundreds of appeals
are written with the raw loader (a service call each would cost minutes of `make run`), with the same fields,
numbers, events and history rows the services write.

What the year received is worked on into the next, until `DemoContext.settled_until` (core.demo says
why): the year's last plans are visited and their appeals answered in January–March, plans never reached
are cancelled by the manager once their deadline has passed, and the measures of the year's later issues
are done after the Q4 report (which shows them still open).
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections import Counter
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from bizreg.accounts.demo import ensure_demo_users
from bizreg.core.demo import DemoContext, register_seeder, simulated_now
from bizreg.core.demo_loader import RawLoader
from bizreg.core.workdays import WorkingCalendar
from bizreg.tracking.models import (
    AnswerType,
    Appeal,
    AppealCategory,
    AppealEvent,
    AppealState,
    BusinessIssue,
    Department,
    ImprovementMeasure,
    MoveOutReason,
    NumberCounter,
    PlanReason,
    PlanState,
    ReportPeriod,
    Visit,
    VisitMethod,
    VisitPlan,
    VisitState,
)
from bizreg.tracking.services import appeals as appeal_services
from bizreg.tracking.services import issues as issue_services
from bizreg.tracking.services import migrations as migration_services
from bizreg.tracking.services import plans as plan_services
from bizreg.tracking.services import questionnaires as questionnaire_services
from bizreg.tracking.services import reports as report_services
from bizreg.tracking.services import watchlist as watchlist_services

TZ = ZoneInfo("Asia/Shanghai")
# The officers who visit, the manager, and the members of two departments (bizreg.accounts.demo).
DEMO_USERNAMES = ("officer", "officer2", "manager", "dept", "dept2")

# (name, default working days, demo member username or "")
DEPARTMENTS = (
    ("区人力资源和社会保障局", 10, "dept"),
    ("区税务局", 10, "dept2"),
    ("区发展和改革局", 15, ""),
    ("区商务局", 10, ""),
    ("区科技局", 15, ""),
    ("区住房和城乡建设局", 15, ""),
    ("区交通运输局", 15, ""),
    ("区政务服务和数据管理局", 5, ""),
)
# Where each kind of appeal goes, and how often it is raised (weights).
ROUTING = {
    AppealCategory.POLICY: ("区发展和改革局", 22),
    AppealCategory.FINANCE: ("区商务局", 10),
    AppealCategory.LABOUR: ("区人力资源和社会保障局", 18),
    AppealCategory.PREMISES: ("区住房和城乡建设局", 12),
    AppealCategory.APPROVAL: ("区政务服务和数据管理局", 14),
    AppealCategory.TAX: ("区税务局", 12),
    AppealCategory.INFRASTRUCTURE: ("区交通运输局", 7),
    AppealCategory.MOVE_OUT: ("区商务局", 3),
    AppealCategory.OTHER: ("区科技局", 2),
}
APPEAL_TEXTS = {
    AppealCategory.POLICY: (
        "高新技术企业认定补贴申领咨询",
        "企业希望了解高新技术企业认定奖励的申领条件和办理时限。",
    ),
    AppealCategory.FINANCE: (
        "流动资金贷款贴息申请",
        "企业扩大生产需流动资金，希望对接区内政策性贷款和贴息。",
    ),
    AppealCategory.LABOUR: ("技术工人招聘困难", "企业反映数控技工招聘难，希望协助对接职业院校和招聘会。"),
    AppealCategory.PREMISES: ("厂房租金上涨", "企业所在园区租金上涨，希望了解区内产业用房租金补贴。"),
    AppealCategory.APPROVAL: ("食品经营许可变更办理进度", "企业反映许可变更材料已提交，希望加快办理。"),
    AppealCategory.TAX: ("研发费用加计扣除政策辅导", "企业首次申报研发费用加计扣除，希望获得政策辅导。"),
    AppealCategory.INFRASTRUCTURE: ("园区公交线路不足", "员工通勤不便，希望增加园区至地铁站的公交接驳线路。"),
    AppealCategory.MOVE_OUT: (
        "迁出手续与政策咨询",
        "企业计划调整注册地，咨询迁出办理流程及对已享受政策的影响。",
    ),
    AppealCategory.OTHER: ("知识产权保护咨询", "企业希望了解专利侵权投诉的处理渠道。"),
}
FEEDBACK = "经核实，已向企业说明相关政策和办理流程，并安排专人跟进对接，企业表示清楚。"
SURNAMES = "陈李黄张梁刘林何吴郑罗周冯邓谢曾许杨麦卢"
GIVEN = (
    "伟明",
    "嘉欣",
    "志强",
    "丽华",
    "建国",
    "晓敏",
    "家豪",
    "静怡",
    "文杰",
    "美玲",
    "国栋",
    "慧琳",
    "子轩",
    "雅婷",
)
FINDINGS = {
    PlanReason.NEW_ENTERPRISE: "企业已正常开业，经营场所与登记住所一致，已告知惠企政策及申报渠道。",
    PlanReason.CAPITAL_INCREASE: "企业增资用于扩大产能，计划年内新增生产线，关注用地和用工需求。",
    PlanReason.NEW_BRANCH: "企业新设分支机构拓展业务，运营正常，已介绍区内配套服务。",
    PlanReason.SCOPE_WIDENED: "企业新增业务方向，已说明相关许可的办理要求。",
    PlanReason.MOVE_OUT: "企业已提交迁出申请，已了解迁出原因并反馈区内可提供的支持。",
    PlanReason.MANUAL: "走访了解企业经营情况，记录企业诉求。",
}
MOVE_OUT_REASONS = (
    (MoveOutReason.COST, 26),
    (MoveOutReason.PREMISES, 18),
    (MoveOutReason.POLICY, 14),
    (MoveOutReason.MARKET, 16),
    (MoveOutReason.GROUP, 14),
    (MoveOutReason.TALENT, 6),
    (MoveOutReason.SERVICE, 3),
    (MoveOutReason.OTHER, 3),
)
PLAN_CANCEL_REASONS = (
    "多次电话无法接通，登记住所无人，转由经营异常名录核查",
    "企业负责人长期在外，约访未果，改列下一轮走访计划",
    "同一企业已在另一走访计划中走访",
)
REASON_CODES = [code for code, _ in MOVE_OUT_REASONS]
REASON_WEIGHTS = [weight for _, weight in MOVE_OUT_REASONS]
ISSUES = (
    ("园区至地铁站公交接驳不足", AppealCategory.INFRASTRUCTURE, "区交通运输局", "增开两条园区接驳公交线路"),
    (
        "技术工人供给不足",
        AppealCategory.LABOUR,
        "区人力资源和社会保障局",
        "每季度举办专场招聘会并对接职业院校",
    ),
    (
        "产业用房租金补贴申领材料繁琐",
        AppealCategory.PREMISES,
        "区住房和城乡建设局",
        "精简申报材料，推行网上申领",
    ),
    ("研发费用加计扣除政策知晓率低", AppealCategory.TAX, "区税务局", "开展政策宣讲并编制办事指引"),
    (
        "许可变更办理时限偏长",
        AppealCategory.APPROVAL,
        "区政务服务和数据管理局",
        "推行告知承诺制，压缩办理时限",
    ),
    ("中小企业融资渠道少", AppealCategory.FINANCE, "区商务局", "搭建银企对接平台，每月组织对接会"),
    ("惠企政策分散难查找", AppealCategory.POLICY, "区发展和改革局", "上线惠企政策一站式查询专栏"),
    ("外地招商政策吸引企业迁出", AppealCategory.MOVE_OUT, "区商务局", "建立拟迁出企业挽留会商机制"),
)


def _moment(day: dt.date, rng: random.Random, *, start: int = 9, end: int = 17) -> dt.datetime:
    return dt.datetime(
        day.year, day.month, day.day, rng.randint(start, end - 1), rng.randint(0, 59), tzinfo=TZ
    )


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def _answers(questions, rng: random.Random, *, moving: bool) -> dict:
    """Answers in each question's type, as services.questionnaires.answers_clean returns them."""
    answers: dict = {}
    for q in questions:
        if q.signals_move_out:
            answers[q.code] = moving
        elif q.answer_type == AnswerType.INTEGER:
            answers[q.code] = rng.choice((3, 5, 8, 12, 20, 35, 60, 120))
        elif q.answer_type == AnswerType.DECIMAL:
            answers[q.code] = f"{rng.uniform(10, 500):.2f}"
        elif q.answer_type == AnswerType.YES_NO:
            answers[q.code] = rng.random() < 0.35
        elif q.answer_type == AnswerType.CHOICE and q.choices:
            weights = [5, 8, 4, 2, 1][: len(q.choices)] + [1] * max(0, len(q.choices) - 5)
            answers[q.code] = rng.choices(q.choices, weights=weights)[0]
        elif q.answer_type == AnswerType.MULTI and q.choices:
            answers[q.code] = sorted(rng.sample(q.choices, rng.randint(0, 2)), key=q.choices.index)
        elif q.answer_type == AnswerType.DATE:
            if moving:
                answers[q.code] = None
        elif q.answer_type == AnswerType.TEXT and rng.random() < 0.2:
            answers[q.code] = "希望加强政策宣传，简化办事流程。"
    return {k: v for k, v in answers.items() if v not in (None, "", [])}


class _TrackingYear:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.authority = ctx.authority
        self.year = ctx.year
        self.rng = ctx.rng("tracking")
        ensure_demo_users(ctx, usernames=list(DEMO_USERNAMES))
        users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_USERNAMES)}
        self.users = users
        self.officers = [users["officer"], users["officer2"]]
        self.manager = users["manager"]
        self.loader = RawLoader(history=True, history_user=self.manager.pk, history_reason="演示数据")
        self.year_end = dt.date(self.year, 12, 31)
        # What the year received is worked on into the next (core.demo says why): visits, appeals, measures.
        self.settled_until = ctx.settled_until
        self.settled_on = timezone.localtime(self.settled_until).date()
        self.resolved_later: list[tuple[BusinessIssue, ImprovementMeasure, dt.date]] = []
        # One calendar load for the whole replay (core.workdays.add_working_days reads it per call).
        calendar = WorkingCalendar(dt.date(self.year - 1, 12, 1), dt.date(self.year + 1, 6, 30))
        self.working_days = list(calendar.working_days())

    def add_working_days(self, day: dt.date, days: int) -> dt.date:
        """The date `days` working days after `day` (0: `day` itself, or the next working day)."""
        index = (
            bisect.bisect_right(self.working_days, day)
            if days
            else bisect.bisect_left(self.working_days, day)
        )
        return self.working_days[index + max(days, 1) - 1]

    def move_out_reason(self, plan: VisitPlan) -> str:
        if plan.reason != PlanReason.MOVE_OUT:
            return ""
        return self.rng.choices(REASON_CODES, weights=REASON_WEIGHTS)[0]

    def first_working_day(self, year: int, month: int) -> dt.date:
        return self.add_working_days(dt.date(year, month, 1), 0)

    # --- departments ---------------------------------------------------------------------------------
    def departments(self) -> dict[str, Department]:
        made = {}
        with simulated_now(_moment(dt.date(self.year, 1, 3), self.rng)):
            for name, days, member in DEPARTMENTS:
                members = [self.users[member]] if member in self.users else []
                made[name] = appeal_services.department_save(
                    authority=self.authority,
                    actor=self.manager,
                    name=name,
                    default_days=days,
                    members=members,
                )
        return made

    # --- plans ---------------------------------------------------------------------------------------
    def plans(self) -> int:
        created = 0
        # The daily task, sampled: the first working day of each month, and the last day of the year.
        days = [self.first_working_day(self.year, month) for month in range(1, 13)] + [self.year_end]
        for day in days:
            with simulated_now(_moment(day, self.rng, start=7, end=8)):
                created += plan_services.plans_generate(authority=self.authority, today=day)
        return created

    # --- visits and appeals --------------------------------------------------------------------------
    def visits_and_appeals(self, departments: dict[str, Department]) -> tuple[int, int]:
        rng = self.rng
        questionnaire = questionnaire_services.questionnaire_active(authority=self.authority)
        questions = list(questionnaire.questions.all())
        plans = list(
            VisitPlan.objects.filter(authority=self.authority, planned_on__year=self.year).order_by(
                "planned_on", "id"
            )
        )
        visits: list[dict] = []
        done_plans: dict[int, tuple[int, str]] = {}
        assigned: dict[int, int] = {}
        cancelled: dict[int, str] = {}
        numbers = Counter()
        for plan in plans:
            officer = rng.choice(self.officers)
            assigned[plan.pk] = officer.pk
            # About 1 in 12 is never reached: the manager cancels it once its deadline has passed.
            if rng.random() < 0.08:
                if self.add_working_days(plan.due_on, rng.randint(1, 5)) <= self.settled_on:
                    cancelled[plan.pk] = rng.choice(PLAN_CANCEL_REASONS)
                continue
            span = max(1, (plan.due_on - plan.planned_on).days)
            # Most visits are made in time; some a few days late. Plans of the year's last weeks are
            # visited in the next year.
            offset = rng.randint(1, span) if rng.random() < 0.9 else span + rng.randint(1, 12)
            visited_on = self.add_working_days(plan.planned_on + dt.timedelta(days=offset), 0)
            if visited_on > self.settled_on:
                continue
            moving = plan.reason == PlanReason.MOVE_OUT or rng.random() < 0.03
            numbers[visited_on.year] += 1
            submitted_at = _moment(visited_on, rng, start=15, end=18)
            visits.append(
                {
                    "authority_id": self.authority.pk,
                    "number": f"走{visited_on.year}{numbers[visited_on.year]:05d}",
                    "plan_id": plan.pk,
                    "enterprise_id": plan.enterprise_id,
                    "officer_id": officer.pk,
                    "method": VisitMethod.ON_SITE if rng.random() < 0.35 else VisitMethod.PHONE,
                    "visited_on": visited_on,
                    "contact_name": _person(rng),
                    "contact_phone": _phone(rng),
                    "questionnaire_id": questionnaire.pk,
                    "answers": _answers(questions, rng, moving=moving),
                    "findings": FINDINGS[plan.reason],
                    "move_out_reason": (
                        rng.choices(REASON_CODES, weights=REASON_WEIGHTS)[0]
                        if plan.reason == PlanReason.MOVE_OUT
                        else ""
                    ),
                    "state": VisitState.SUBMITTED,
                    "submitted_at": submitted_at,
                    "created_at": _moment(visited_on, rng, start=9, end=12),
                    "updated_at": submitted_at,
                }
            )
            done_plans[plan.pk] = (officer.pk, visited_on)
        visits.sort(key=lambda v: (v["visited_on"], v["number"]))
        # Numbers follow the visit dates (the counter is taken when a visit is recorded).
        per_year = Counter()
        for v in visits:
            per_year[v["visited_on"].year] += 1
            v["number"] = f"走{v['visited_on'].year}{per_year[v['visited_on'].year]:05d}"
        self.loader.insert(Visit, visits, history_user_of=lambda row: row["officer_id"])
        for y, last in per_year.items():
            NumberCounter.objects.update_or_create(
                authority=self.authority, kind="visit", year=y, defaults={"last": last}
            )
        self.loader.update(
            VisitPlan,
            [
                {
                    "id": pk,
                    "officer_id": officer_id,
                    "state": PlanState.DONE
                    if pk in done_plans
                    else PlanState.CANCELLED
                    if pk in cancelled
                    else PlanState.ASSIGNED,
                    "cancel_reason": cancelled.get(pk, ""),
                }
                for pk, officer_id in assigned.items()
            ],
        )
        appeals = self._appeals(visits, departments)
        return len(visits), appeals

    def _appeals(self, visits: list[dict], departments: dict[str, Department]) -> int:
        rng = self.rng
        categories = list(ROUTING)
        weights = [ROUTING[c][1] for c in categories]
        appeals: list[dict] = []
        events: list[dict] = []
        per_year = Counter()
        # The member who answers for each department (None where the demo gives it no member).
        members = {d.pk: d.members.order_by("pk").first() for d in departments.values()}
        for v in visits:
            moving = bool(v["move_out_reason"])
            if not (moving and rng.random() < 0.3) and rng.random() > 0.22:
                continue
            category = AppealCategory.MOVE_OUT if moving else rng.choices(categories, weights=weights)[0]
            department = departments[ROUTING[category][0]]
            title, description = APPEAL_TEXTS[category]
            raised_on = v["visited_on"]
            per_year[raised_on.year] += 1
            number = f"诉{raised_on.year}{per_year[raised_on.year]:05d}"
            raised_at = v["submitted_at"]
            row = {
                "authority_id": self.authority.pk,
                "number": number,
                "enterprise_id": v["enterprise_id"],
                "visit_id": None,  # set after the visits have ids
                "_visit_number": v["number"],
                "category": category,
                "title": title,
                "description": description,
                "contact_name": v["contact_name"],
                "contact_phone": v["contact_phone"],
                "raised_on": raised_on,
                "raised_by_id": v["officer_id"],
                "created_at": raised_at,
                # Every row carries every column (the loader takes the columns of the first row).
                "department_id": None,
                "routed_on": None,
                "due_on": None,
                "feedback": "",
                "answered_at": None,
                "answered_by_id": None,
                "closed_at": None,
                "closed_on_time": None,
                "satisfaction": None,
                "satisfaction_comment": "",
            }
            trail = [("raise", "登记诉求", "", AppealState.REGISTERED, v["officer_id"], raised_at, "")]
            state = AppealState.REGISTERED
            routed_on = self.add_working_days(raised_on, rng.choice((0, 1, 1, 2)))
            if routed_on <= self.settled_on:
                due_on = self.add_working_days(routed_on, department.default_days)
                routed_at = max(_moment(routed_on, rng), raised_at + dt.timedelta(minutes=30))
                row.update(department_id=department.pk, routed_on=routed_on, due_on=due_on)
                trail.append(
                    ("route", "转办", state, AppealState.ROUTED, v["officer_id"], routed_at, department.name)
                )
                state = AppealState.ROUTED
                late = rng.random() < 0.12
                answered_on = self.add_working_days(
                    routed_on,
                    department.default_days + rng.randint(1, 8)
                    if late
                    else rng.randint(1, department.default_days),
                )
                member = members.get(department.pk)
                if answered_on <= self.settled_on:
                    answered_at = max(_moment(answered_on, rng), routed_at + dt.timedelta(hours=1))
                    row.update(
                        feedback=FEEDBACK,
                        answered_at=answered_at,
                        answered_by_id=member.pk if member else None,
                    )
                    trail.append(
                        (
                            "answer",
                            "反馈办理结果",
                            state,
                            AppealState.ANSWERED,
                            member.pk if member else None,
                            answered_at,
                            FEEDBACK,
                        )
                    )
                    state = AppealState.ANSWERED
                    closed_on = self.add_working_days(answered_on, rng.randint(1, 3))
                    if closed_on <= self.settled_on:
                        closed_at = max(_moment(closed_on, rng), answered_at + dt.timedelta(hours=1))
                        score = rng.choices((5, 4, 3, 2, 1), weights=(52, 33, 10, 4, 1))[0]
                        row.update(
                            closed_at=closed_at,
                            closed_on_time=answered_on <= due_on,
                            satisfaction=score,
                            satisfaction_comment="" if score >= 3 else "希望办理更及时。",
                        )
                        trail.append(
                            (
                                "close",
                                "办结",
                                state,
                                AppealState.CLOSED,
                                v["officer_id"],
                                closed_at,
                                f"企业满意度 {score}",
                            )
                        )
                        state = AppealState.CLOSED
            row["state"] = state
            row["updated_at"] = trail[-1][5]
            appeals.append(row)
            events.append(trail)
        visit_ids = dict(Visit.objects.filter(authority=self.authority).values_list("number", "pk"))
        for row in appeals:
            row["visit_id"] = visit_ids[row.pop("_visit_number")]
        registered_by = {row["number"]: trail[0][4] for row, trail in zip(appeals, events, strict=True)}
        self.loader.insert(Appeal, appeals, history_user_of=lambda row: registered_by[row["number"]])
        ids = dict(Appeal.objects.filter(authority=self.authority).values_list("number", "pk"))
        self.loader.insert(
            AppealEvent,
            [
                {
                    "appeal_id": ids[row["number"]],
                    "action": action,
                    "label": label,
                    "from_state": source,
                    "to_state": target,
                    "actor_id": actor,
                    "occurred_at": at,
                    "reason": reason,
                }
                for row, trail in zip(appeals, events, strict=True)
                for action, label, source, target, actor, at, reason in trail
            ],
            with_history=False,
        )
        for y, last in per_year.items():
            NumberCounter.objects.update_or_create(
                authority=self.authority, kind="appeal", year=y, defaults={"last": last}
            )
        return len(appeals)

    # --- migrations, watch list, issues, reports -------------------------------------------------------
    def migrations(self) -> int:
        return migration_services.migrations_sync(authority=self.authority)

    def watch_list(self) -> int:
        day = self.year_end
        with simulated_now(_moment(day, self.rng, start=7, end=8)):
            return watchlist_services.watchlist_refresh(authority=self.authority, today=day)

    def issues(self, departments: dict[str, Department]) -> int:
        rng = self.rng
        owner = self.officers[0]
        made = 0
        for i, (title, category, department_name, measure) in enumerate(ISSUES):
            found_on = self.add_working_days(dt.date(self.year, 1 + i, 10), 0)
            related = list(
                Appeal.objects.filter(authority=self.authority, category=category, raised_on__lte=found_on)
                .order_by("-raised_on")
                .values_list("pk", flat=True)[:5]
            )
            with simulated_now(_moment(found_on, rng)):
                issue = issue_services.issue_create(
                    authority=self.authority,
                    actor=owner,
                    title=title,
                    category=category,
                    description=f"走访和诉求中多家企业反映：{title}。",
                    owner=owner,
                    found_on=found_on,
                    appeal_ids=related,
                )
            analysed_on = self.add_working_days(found_on, 5)
            with simulated_now(_moment(analysed_on, rng)):
                issue = issue_services.issue_analyse(
                    issue=issue,
                    actor=owner,
                    analysis=f"{title}的主要原因已与{department_name}会商，形成改进措施。",
                )
                measure_row = issue_services.measure_add(
                    issue=issue,
                    actor=owner,
                    description=measure,
                    due_on=analysed_on + dt.timedelta(days=60),
                    owner_department=departments[department_name],
                )
            made += 1
            # The first half of the year's issues are resolved within their two months; the measures of
            # the others take longer, some into the next year (done once the Q4 report is out).
            days = rng.randint(30, 55) if i < 5 else rng.randint(120, 200)
            done_on = self.add_working_days(analysed_on + dt.timedelta(days=days), 0)
            if done_on < self.report_day:
                self._resolve(issue, measure_row, done_on)
            else:
                self.resolved_later.append((issue, measure_row, done_on))
        return made

    @property
    def report_day(self) -> dt.date:
        """The officer generates the year's last reports on the next year's first working day."""
        return self.first_working_day(self.year + 1, 1)

    def _resolve(self, issue: BusinessIssue, measure: ImprovementMeasure, done_on: dt.date) -> None:
        if done_on > self.settled_on:
            return
        owner = self.officers[0]
        with simulated_now(_moment(done_on, self.rng)):
            issue_services.measure_done(measure=measure, actor=owner, done_on=done_on)
            issue_services.issue_resolve(issue=issue, actor=owner, resolved_on=done_on)

    def resolve_later_issues(self) -> None:
        for issue, measure, done_on in self.resolved_later:
            self._resolve(issue, measure, done_on)

    def reports(self) -> int:
        """The year's last quarterly and monthly reports, as the officer generates them in early January
        (the other periods are a click away; each render costs about a second of `make run`)."""
        with simulated_now(_moment(self.report_day, self.rng)):
            for period, start in (
                (ReportPeriod.QUARTER, dt.date(self.year, 10, 1)),
                (ReportPeriod.MONTH, dt.date(self.year, 12, 1)),
            ):
                report_services.report_generate(
                    authority=self.authority, period=period, period_start=start, actor=self.officers[0]
                )
        return 2


@register_seeder(
    "tracking.year",
    after=("accounts.demo_users", "enterprises.register", "registration.year"),
)
def seed_tracking_year(ctx: DemoContext) -> int:
    year = _TrackingYear(ctx)
    departments = year.departments()
    plans = year.plans()
    visits, appeals = year.visits_and_appeals(departments)
    migrations = year.migrations()
    watched = year.watch_list()
    issues = year.issues(departments)
    reports = year.reports()
    year.resolve_later_issues()
    ctx.log(
        f"  走访计划 {plans} 条，走访 {visits} 次，诉求 {appeals} 件，迁移 {migrations} 条，"
        f"迁出预警 {watched} 户，营商环境问题 {issues} 个，跟踪服务报告 {reports} 份"
    )
    return len(departments) + plans + visits + appeals + migrations + watched + issues + reports
