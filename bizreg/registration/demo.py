"""Demo year of the registration module: a realistic year of cases, entries, licences and mail.

Seeder `registration.year` (after the register and the demo users) fills the demo authority's year at the
seed's scale × ctx.scale: about 65,000 registration cases (变更 and 备案 the most common, 设立 ~17,000,
注销, 迁入/迁出 a few hundred), through every step of the declared workflow with its transition log rows,
returns for correction with their deficiencies and clock pauses, extensions, the notices each step issues,
licence batches and the sheets printed (a few spoiled, a few voided), ~156,000 information-entry and
guidance records, mail packages with their hand-overs, and the follow-up tasks of failed online
applications with their contact logs. Cases are received within the year and worked to their end into the
next one (until DemoContext.settled_until), so none shows as years overdue; the work in hand at the window
is registration.today's (demo_today).

Rules kept so the rows equal what the services produce: case numbers `{机关代码}{yyyymmdd}{序号:05d}` with
the day counters (CaseNumberCounter), notice numbers per kind and year with their counters
(NoticeCounter, documents.number_prefix), licence serials (licences.format_serial), statutory due dates
in working days from core.workdays (3 after acceptance, +3 when extended), which types print a licence
(cases.LICENCE_CONTENT_FIELDS) and which notice an approval issues (cases.APPROVAL_NOTICE). Courier
tracking numbers follow mail.TRACKING_RULES.

Demo notices carry no PDF: their `content` holds only what the public verification page shows and
`sha256` is empty; services.documents.notice_stored_bytes renders and stores one the first time it is
downloaded (from the case, its transition log and deficiencies, as notice_issue would have).

Cases and register tell one story: an approved 设立 (or a 注销/迁出 of the previous year's sample) takes
the register's own event of its decision day where there is one (the register draws no 注销, 迁出 or
rename in the demo year: those are all the year's cases); otherwise the register is told through the
enterprises demo writer (`add_enterprises` for 设立/迁入, `close_enterprises` for 注销/迁出 of an active
enterprise), as the case services' effects would have done. The converse holds too: an establishment of
the demo year that no generated case took (a day the register drew more than the cases approved) gets a
设立 case drawn to be approved that day, in place of one that would have entered a new enterprise; the
identity-misuse ring's establishments are 全程电子化 cases filed by its agent on the victims' identities.
A 设立 asks for what the register entered. An approved 变更 — of the year or of the
previous year's sample — changes its enterprise on the decision (`apply_changes`: the values, the derived
columns, a history row by the approver, former names, the legal representative's person-roles), and later
cases name the enterprise as it then is (its name on the day). A 变更 asks for values the entry does not
hold (as far as the seeder tracks it: name, legal representative, industry, capital, scope, address); 备案
and 迁出 name their items and destination in both years.

Generation draws only from ctx.rng("registration.year") (same seed, same year); the rows are written with
COPY on PostgreSQL and executemany on SQLite (raw inserts: model instances would take minutes here). No
simple_history rows are written for demo rows (the case timeline reads CaseTransitionLog).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from bizreg.accounts.roles import ROLE_BY_CODE
from bizreg.core.demo import DemoContext, register_seeder
from bizreg.core.demo_loader import RawLoader
from bizreg.core.identifiers import build_uscc, random_org_body
from bizreg.core.workdays import CalendarDataMissing, WorkingCalendar
from bizreg.enterprises.models import EnterpriseStatus, EntityType
from bizreg.registration.models import (
    CaseDeficiency,
    CaseExtension,
    CaseMaterial,
    CaseNumberCounter,
    CasePause,
    CaseState,
    CaseTransitionLog,
    CaseType,
    Channel,
    ContactLog,
    ContactMethod,
    Courier,
    FollowUpTask,
    LicenceBatch,
    LicenceKind,
    LicenceSheet,
    MailHandover,
    MailPackage,
    MaterialRequirement,
    Notice,
    NoticeCounter,
    NoticeKind,
    RegistrationCase,
    ServiceRecord,
)
from bizreg.registration.services.mail import (
    PURPOSE_ARCHIVE,
    PURPOSE_POSTING,
    PURPOSE_PRINTING,
    validate_tracking_number,
)

CASES_AT_SCALE_1 = 65_000
SERVICE_RECORDS_AT_SCALE_1 = 156_000

# Shares of the year's cases by type (Nansha: changes and filings dominate; ~17,000 establishments).
TYPE_SHARES = (
    (CaseType.CHANGE, 0.37),
    (CaseType.FILING, 0.23),
    (CaseType.ESTABLISHMENT, 0.26),
    (CaseType.DEREGISTRATION, 0.05),
    (CaseType.SIMPLE_DEREGISTRATION, 0.06),
    (CaseType.MIGRATION_IN, 0.011),
    (CaseType.MIGRATION_OUT, 0.017),
)
# Channels: most establishments go through 全程电子化; changes and filings are often 一网通办.
CHANNEL_WEIGHTS = {
    CaseType.ESTABLISHMENT: (
        (Channel.FULL_ELECTRONIC, 62),
        (Channel.ONE_STOP_ONLINE, 18),
        (Channel.WINDOW, 16),
        (Channel.MAIL, 4),
    ),
    CaseType.CHANGE: (
        (Channel.FULL_ELECTRONIC, 44),
        (Channel.ONE_STOP_ONLINE, 32),
        (Channel.WINDOW, 18),
        (Channel.MAIL, 6),
    ),
    CaseType.FILING: (
        (Channel.FULL_ELECTRONIC, 40),
        (Channel.ONE_STOP_ONLINE, 40),
        (Channel.WINDOW, 15),
        (Channel.MAIL, 5),
    ),
    CaseType.DEREGISTRATION: (
        (Channel.FULL_ELECTRONIC, 30),
        (Channel.ONE_STOP_ONLINE, 25),
        (Channel.WINDOW, 38),
        (Channel.MAIL, 7),
    ),
    CaseType.SIMPLE_DEREGISTRATION: (
        (Channel.FULL_ELECTRONIC, 45),
        (Channel.ONE_STOP_ONLINE, 35),
        (Channel.WINDOW, 16),
        (Channel.MAIL, 4),
    ),
    CaseType.MIGRATION_IN: ((Channel.WINDOW, 70), (Channel.ONE_STOP_ONLINE, 20), (Channel.MAIL, 10)),
    CaseType.MIGRATION_OUT: ((Channel.WINDOW, 70), (Channel.ONE_STOP_ONLINE, 20), (Channel.MAIL, 10)),
}
ONLINE = (Channel.ONE_STOP_ONLINE, Channel.FULL_ELECTRONIC)
# Months: Spring Festival (Feb) and National Day (Oct) are quiet, March and the year end busy.
MONTH_WEIGHTS = (1.0, 0.72, 1.18, 1.0, 0.98, 1.06, 1.0, 1.0, 1.02, 0.82, 1.05, 1.12)

RETURN_RATE = 0.12
NEVER_RESUBMITTED = 0.08  # of returned cases: withdrawn instead
EARLY_WITHDRAWAL_RATE = 0.007
REJECTION_RATE = 0.01
EXTENSION_RATE = 0.004
EXTENSION_REASONS = (
    "涉及多个股东的出资信息需逐一核实，情形复杂",
    "住所（经营场所）使用证明需向产权登记部门核实",
    "涉及前置审批文件，需向审批部门核实",
    "股东含境外投资者，主体资格证明文件需核实",
)
# The head does not approve every request: a case that is not complex is to be decided in the 3 days.
EXTENSION_REFUSED_SHARE = 0.12
EXTENSION_REFUSALS = ("材料齐全、情形不属复杂，请在法定期限内办结", "核实事项可在原期限内完成，不予延长")
# Working days from acceptance to decision: most on the spot, a few late.
DECISION_DAYS = ((0, 62), (1, 18), (2, 10), (3, 8.6), (4, 1.0), (5, 0.4))
# The year before, slower (the base of the year-on-year change of processing time): only a sample of its
# decided cases is written, with their transitions, so the comparison has something to compare with.
PREVIOUS_YEAR_SHARE = 0.2
# Draws per register establishment left without its case (_case_approved_on). Most cases are decided on
# the day they are received, so most draws hit their day; running out means something other than chance.
ESTABLISHMENT_DRAWS = 200
PREVIOUS_DECISION_DAYS = ((0, 46), (1, 22), (2, 14), (3, 14.5), (4, 2.2), (5, 1.3))
SPOIL_RATE = 0.004
BLANK_VOID_RATE = 0.0006

DEFICIENCIES = (
    "公司章程未经全体股东签署，请补签后重新提交",
    "住所使用证明载明的地址与申请书填报的住所不一致",
    "法定代表人任职文件缺少股东签名",
    "股东会决议未载明表决情况",
    "经营范围表述不规范，请按经营范围规范表述目录填写",
    "清税证明已超过有效期，请重新开具",
    "授权委托书未载明委托事项和权限",
    "联络员身份证明复印件模糊不清",
    "名称自主申报告知书已过有效期",
    "章程修正案的条款序号与原章程不对应",
    "投资人承诺书缺少部分投资人签字",
    "迁出地登记机关出具的调档函已超过有效期",
)
REJECTION_REASONS = (
    "申请登记的名称与他人已登记的同行业名称近似，不符合企业名称登记管理规定",
    "经核查，申报住所不具备经营场所条件",
    "申请人提交的身份信息经实名核验不一致，且未能在规定期限内补正",
    "申请登记的经营范围含须经前置审批的事项，未提交批准文件",
)
WITHDRAWAL_REASONS = ("申请人申请撤回", "申请人重新规划后撤回申请", "超过补正期限未补正，申请人撤回")
FILING_ITEMS = ("章程修正案备案", "董事、监事、经理备案", "联络员备案", "受益所有人信息备案", "清算组备案")
LIQUIDATION_FILING = "清算组备案"
# An enterprise whose licence was revoked (吊销) still winds itself up: it files its liquidation group and
# applies for 注销（普通） (services.cases REVOKED_MAY_FILE). Shares of those two kinds of case that are such
# an enterprise's; a revocation less than a month old has not yet led to either.
REVOKED_DEREGISTRATION_SHARE = 0.12
REVOKED_FILING_SHARE = 0.03
REVOKED_SETTLING_DAYS = 30
CHANGE_KINDS = (
    ("address", 34),
    ("legal_rep_name", 15),
    ("business_scope", 20),
    ("registered_capital", 11),
    ("name", 8),
    ("industry", 12),
)
DESTINATIONS = (
    "广州市天河区市场监督管理局",
    "广州市黄埔区市场监督管理局",
    "广州市番禺区市场监督管理局",
    "深圳市市场监督管理局前海分局",
    "佛山市顺德区市场监督管理局",
    "珠海市横琴新区市场监督管理局",
)
ORIGINS = DESTINATIONS[:4] + ("东莞市市场监督管理局", "中山市市场监督管理局")
ORIGIN_DIVISIONS = ("440106", "440112", "440113", "440300", "441900", "442000")
# What staff note on a record, by kind: most records carry none.
SERVICE_NOTES = {
    ServiceRecord.Kind.INFO_ENTRY: (
        *("",) * 6,
        "核对住所信息",
        "补录联络员信息",
        "补录股东出资信息",
        "纸质申请材料录入",
        "更正经营范围表述",
    ),
    ServiceRecord.Kind.ONLINE_GUIDANCE: (
        *("",) * 4,
        "指导填报经营范围",
        "协助上传股东身份证明",
        "指导电子签名",
        "指导选择一网通办事项",
        "指导实名认证",
    ),
}
# What a contact achieved, by why the task was opened and how the applicant was reached.
CONTACT_RESULTS = {
    CaseState.RETURNED: {
        ContactMethod.PHONE: ("已电话告知补正要求，申请人表示三日内补正", "已电话逐项说明需补正的材料"),
        ContactMethod.SMS: ("已短信发送补正清单",),
        ContactMethod.EMAIL: ("已邮件发送一次性告知书及补正清单",),
        ContactMethod.ON_SITE: ("申请人到窗口，已现场指导补正",),
    },
    CaseState.REJECTED: {
        ContactMethod.PHONE: ("已电话解释不予登记理由及救济途径", "已电话指导申请人调整名称后重新申报"),
        ContactMethod.SMS: ("已短信告知不予登记理由及咨询电话",),
        ContactMethod.EMAIL: ("已邮件说明不予登记理由及重新申报要求",),
        ContactMethod.ON_SITE: ("申请人到窗口，已现场解释不予登记理由",),
    },
    CaseState.WITHDRAWN: {
        ContactMethod.PHONE: ("已电话了解撤回原因，申请人暂缓办理", "已电话指导申请人重新提交申请"),
        ContactMethod.SMS: ("已短信提醒可重新提交申请",),
        ContactMethod.EMAIL: ("已邮件发送网上申报操作指引",),
        ContactMethod.ON_SITE: ("申请人到窗口，已现场指导重新申报",),
    },
}
OUTCOMES = ("申请人已知悉并按要求办理", "已重新提交申请", "申请人暂不办理", "已指导完成网上申报")


# Registered capital (yuan) a 变更 may ask for, as services.cases stores it (two decimals); a shop's is small.
def _yuan(*ten_thousands: int) -> tuple[Decimal, ...]:
    return tuple(Decimal(n * 10000).quantize(Decimal("0.01")) for n in ten_thousands)


CAPITAL_AMOUNTS = _yuan(100, 200, 300, 500, 1000, 2000, 5000)
SHOP_CAPITAL_AMOUNTS = _yuan(2, 5, 10, 20, 30, 50)
MAIL_DOCUMENTS = ("登记申请书", "公司章程", "股东会决议", "营业执照正本、副本", "授权委托书", "清税证明")


# --- small tools ----------------------------------------------------------------------------------------


class _Weighted:
    def __init__(self, pairs: Iterable[tuple[Any, float]]):
        pairs = list(pairs)
        self.values = [p[0] for p in pairs]
        self.cum = list(itertools.accumulate(p[1] for p in pairs))

    def pick(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


class _Calendar:
    """Working days of the demo year and its neighbours, computed once (core.workdays rules)."""

    def __init__(self, year: int):
        first, last = dt.date(year - 1, 1, 1), dt.date(year + 1, 6, 30)
        try:
            calendar = WorkingCalendar(first, last)
        except CalendarDataMissing as exc:
            raise ValueError(str(exc)) from None  # seed_demo reports a seeder's ValueError to the operator
        self.first = first
        self.days: list[dt.date] = []
        self.is_work: list[bool] = []
        self.cumulative: list[int] = []
        running = 0
        day = first
        while day <= last:
            work = calendar.is_working_day(day)
            running += work
            self.is_work.append(work)
            self.cumulative.append(running)
            self.days.append(day)
            day += dt.timedelta(days=1)
        self.working = [d for d, w in zip(self.days, self.is_work, strict=True) if w]
        self.working_index = {d: i for i, d in enumerate(self.working)}

    def working_day(self, day: dt.date) -> bool:
        return self.is_work[(day - self.first).days]

    def next_working(self, day: dt.date, *, inclusive: bool = True) -> dt.date:
        if not inclusive:
            day += dt.timedelta(days=1)
        while not self.working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add(self, day: dt.date, n: int) -> dt.date:
        """n working days after `day` (core.workdays.add_working_days)."""
        if n == 0:
            return day
        base = self.next_working(day, inclusive=False)
        return self.working[self.working_index[base] + n - 1]

    def between(self, a: dt.date, b: dt.date) -> int:
        """Working days in (a, b] (core.workdays.working_days_between)."""
        if b <= a:
            return 0
        return self.cumulative[(b - self.first).days] - self.cumulative[(a - self.first).days]


# --- the generated year ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Event:
    action: str
    from_state: str
    to_state: str
    at: dt.datetime
    actor: int
    reason: str = ""


@dataclass(slots=True)
class _DemoCase:
    case_type: str
    channel: str
    received_at: dt.datetime
    clerk: int
    change_kind: str = ""
    state: str = CaseState.RECEIVED
    events: list[_Event] = field(default_factory=list)
    pauses: list[list] = field(default_factory=list)  # [started_on, ended_on | None]
    deficiencies: list[tuple[int, str, bool]] = field(default_factory=list)
    notices: list[tuple[str, dt.datetime, int]] = field(default_factory=list)
    follow_ups: list[tuple[str, dt.datetime]] = field(default_factory=list)
    # (requested_at, reason, decided_at | None, decided_by | None, CaseExtension.Status)
    extension: tuple | None = None
    accepted_at: dt.datetime | None = None
    due_on: dt.date | None = None
    extended: bool = False
    decided_at: dt.datetime | None = None
    licensed_at: dt.datetime | None = None
    archived_at: dt.datetime | None = None
    paused_days: int = 0
    on_the_spot: bool = False
    rejected: bool = False
    enterprise_id: int | None = None
    enterprise_name: str = ""
    uscc: str = ""
    requested_changes: dict = field(default_factory=dict)
    applicant: tuple[str, str, str] = ("", "", "")
    agent: tuple[str, str, str] = ("", "", "")
    number: str = ""
    external_id: str = ""
    pk: int = 0

    @property
    def approved(self) -> bool:
        return self.decided_at is not None and not self.rejected


@dataclass(slots=True)
class _RegisterEntry:
    pk: int
    uscc: str
    name: str
    status: str
    status_changed_on: dt.date | None
    established_on: dt.date
    legal_rep: tuple[str, str]
    entity_type: str = ""
    renamed_on: dt.date | None = None  # its last change of name
    industry: str = ""
    registered_capital: Decimal | None = None
    business_scope: str = ""
    address: str = ""
    changed_on: dt.date | None = None  # the decision day of its last approved 变更 (either year)
    street_id: int | None = None
    # What its 设立 asked for (services.cases requested_changes): the register's values before the demo
    # year's 变更 cases change them; set (_register) for the entries established in the two years.
    established_facts: dict | None = None
    former_names: list[tuple[dt.date, str]] = field(default_factory=list)  # (last day used, name), by day

    def name_on(self, day: dt.date) -> str:
        """The name it held at the end of `day` (a name is used until the end of its last day)."""
        for until, name in self.former_names:
            if until > day:
                return name
        return self.name

    def rename(self, day: dt.date, new: str) -> None:
        """Take `new` from the day after `day` until the next rename the register holds, if any."""
        at = next((i for i, (until, _name) in enumerate(self.former_names) if until > day), None)
        if at is None:
            self.former_names.append((day, self.name))
            self.name = new
        else:
            until, old = self.former_names[at]
            self.former_names[at : at + 1] = [(day, old), (until, new)]
        self.renamed_on = max(self.renamed_on or day, day)


OFFICE_START = 9 * 60


def _new_enterprise_facts(source: Any, legal_rep: tuple[str, str]) -> dict:
    """requested_changes of a 设立 (services.cases' keys) for an enterprise of `source`'s values: a register
    entry or a generated enterprise."""
    facts = {
        "entity_type": source.entity_type,
        "legal_rep_name": legal_rep[0],
        "legal_rep_id_number": legal_rep[1],
        "business_scope": source.business_scope,
        "industry": source.industry,
        "address": source.address,
        "street": source.street_id,
    }
    if source.registered_capital is not None:
        facts["registered_capital"] = str(source.registered_capital)
    return facts


# The register event an approved case of these types is (its status value, or establishment).
REGISTER_EVENT = {
    CaseType.ESTABLISHMENT: "establishment",
    CaseType.DEREGISTRATION: "deregistered",
    CaseType.SIMPLE_DEREGISTRATION: "deregistered",
    CaseType.MIGRATION_OUT: "moved_out",
}
# The kinds of enterprise that move between registration authorities (迁入/迁出) keeping their code.
MOVABLE_ENTITY_TYPES = frozenset(
    (
        EntityType.LLC,
        EntityType.JOINT_STOCK,
        EntityType.SOLE_PROPRIETORSHIP,
        EntityType.PARTNERSHIP,
        EntityType.FOREIGN_INVESTED,
    )
)
OFFICE_END = 17 * 60 + 30


class RegistrationYear:
    def __init__(self, ctx: DemoContext):
        from bizreg.registration.services import cases as case_rules

        self.ctx = ctx
        self.rng = ctx.rng("registration.year")
        self.authority = ctx.authority
        self.year = ctx.year
        self.tz = timezone.get_default_timezone()
        self.cal = _Calendar(ctx.year)
        self.now = timezone.now()
        last_working = max(d for d in self.cal.working if d.year == ctx.year)
        # Cases, records and deliveries of the year end at its last working day at noon.
        self.cutoff = min(self._moment(last_working, 12 * 60), self.now)
        # The year's cases are worked to their end, into the next one (core.demo says why; the calendar
        # spans it).
        self.settled = ctx.settled_until
        self.loader = RawLoader()
        # Register effects of approved cases the generated register has no event for (_enter_effects).
        self.openings: list[tuple[_DemoCase, Any]] = []
        self.closings: list[tuple[int, str, dt.date]] = []
        self.changes: list[_DemoCase] = []  # approved 变更 cases of register entries (_apply_changes)
        self.licence_fields = case_rules.LICENCE_CONTENT_FIELDS
        self.new_types = case_rules.NEW_ENTERPRISE_TYPES
        self.approval_notice = case_rules.APPROVAL_NOTICE
        self.decision_days = _Weighted(DECISION_DAYS)

    # -- time --
    def _moment(self, day: dt.date, minute: int) -> dt.datetime:
        minute = max(0, min(minute, 24 * 60 - 1))
        return dt.datetime.combine(
            day, dt.time(minute // 60, minute % 60, self.rng.randrange(60)), tzinfo=self.tz
        )

    def _local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    def _office_after(self, t: dt.datetime, lo: float, hi: float) -> dt.datetime:
        """A moment lo–hi minutes after t, moved into the next office hours of a working day."""
        cand = self._local(t + dt.timedelta(minutes=self.rng.uniform(lo, hi)))
        day, minute = cand.date(), cand.hour * 60 + cand.minute
        if self.cal.working_day(day):
            if OFFICE_START <= minute < OFFICE_END:
                return cand
            if minute < OFFICE_START:
                return self._moment(day, OFFICE_START + self.rng.randrange(0, 60))
        return self._moment(
            self.cal.next_working(day, inclusive=False), OFFICE_START + self.rng.randrange(0, 90)
        )

    def _office_on(self, day: dt.date) -> dt.datetime:
        return self._moment(day, OFFICE_START + self.rng.randrange(0, OFFICE_END - OFFICE_START - 30))

    # -- users --
    def _users(self) -> bool:
        User = get_user_model()
        staff = User.objects.filter(authorities=self.authority, is_active=True).order_by("pk")
        self.clerks = list(
            staff.filter(groups__name=ROLE_BY_CODE["registration_clerk"].name).values_list("pk", flat=True)
        )
        managers = list(staff.filter(groups__name=ROLE_BY_CODE["manager"].name).values_list("pk", flat=True))
        archivists = list(
            staff.filter(groups__name=ROLE_BY_CODE["archivist"].name).values_list("pk", flat=True)
        )
        if not self.clerks:
            return False
        self.manager = managers[0] if managers else self.clerks[0]
        # The archive receives the paper of archived cases (移交档案管理).
        self.archivists = archivists
        return True

    # -- register --
    def _register(self) -> None:
        from bizreg.enterprises.demo import EnterpriseGenerator, ftz_rule_views, identity_misuse_ring
        from bizreg.enterprises.models import EnterpriseFormerName, Street
        from bizreg.enterprises.selectors import enterprises_listed

        User = get_user_model()
        viewer = User.objects.get(pk=self.manager)
        rows = (
            enterprises_listed(viewer)
            # A locked enterprise (an identity-misuse investigation) takes no cases: it is left out.
            .filter(authority=self.authority, is_locked=False)
            .order_by("pk")
            .values_list(
                "pk",
                "uscc",
                "name",
                "status",
                "status_changed_on",
                "established_on",
                "legal_rep_name",
                "legal_rep_id_number",
                "entity_type",
                "industry",
                "registered_capital",
                "business_scope",
                "address",
                "street_id",
                named=True,
            )
        )
        former: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
        former_names = EnterpriseFormerName.objects.filter(
            enterprise__authority=self.authority, used_until__isnull=False
        )
        for pk, until, name in former_names.values_list("enterprise_id", "used_until", "name"):
            former[pk].append((until, name))
        self.register = [
            _RegisterEntry(
                row.pk,
                row.uscc,
                row.name,
                row.status,
                row.status_changed_on,
                row.established_on,
                (row.legal_rep_name, row.legal_rep_id_number),
                row.entity_type,
                max(former[row.pk])[0] if row.pk in former else None,
                industry=row.industry,
                registered_capital=row.registered_capital,
                business_scope=row.business_scope,
                address=row.address,
                street_id=row.street_id,
                former_names=sorted(former.get(row.pk, ())),
            )
            for row in rows
        ]
        # The identity-misuse ring (enterprises.identity_ring) was registered by its agent on the victims'
        # identities: only its own 设立 cases name it (_cover_register_establishments); no other case of the
        # year may, since the investigation locks and rescinds it.
        ring = identity_misuse_ring(self.year)
        self.ring_agent = (ring.agent_name, ring.agent_id_number, ring.agent_phone)
        ring_usccs = set(ring.usccs)
        self.ring_entries = [e for e in self.register if e.uscc in ring_usccs]
        self.register = [e for e in self.register if e.uscc not in ring_usccs]
        self.register.sort(key=lambda e: (e.established_on, e.pk))
        self.established_dates = [e.established_on for e in self.register]
        self.revoked = sorted(
            (e for e in self.register if e.status == EnterpriseStatus.REVOKED),
            key=lambda e: e.status_changed_on,
        )
        self.revoked_dates = [e.status_changed_on for e in self.revoked]
        self.taken_usccs = {e.uscc for e in self.register + self.ring_entries}
        self.taken_names = {e.name for e in self.register + self.ring_entries}
        # The register's own events of the two years, by (event, day), for the cases decided that day.
        years = (self.year - 1, self.year)
        pools: dict[tuple[str, dt.date], list[_RegisterEntry]] = defaultdict(list)
        for e in self.register + self.ring_entries:
            if e.established_on.year in years:
                e.established_facts = _new_enterprise_facts(e, e.legal_rep)
        for e in self.register:
            if e.established_on.year in years:
                pools[("establishment", e.established_on)].append(e)
            if e.status_changed_on and e.status_changed_on.year in years:
                pools[(e.status, e.status_changed_on)].append(e)
        for pool in pools.values():
            self.rng.shuffle(pool)
        self.pools = pools
        street_ids = dict(
            Street.objects.filter(division_code=self.authority.division_code).values_list("code", "id")
        )
        self.people = EnterpriseGenerator(
            rng=self.rng,
            year=self.year,
            division_code=self.authority.division_code,
            street_ids=street_ids,
            ftz_rules=ftz_rule_views(authority=self.authority),
        )

    def _fake(self, *, movable: bool = False):
        """A generated enterprise (not in the register) with a code and a name no one holds; `movable`: of a
        kind that can move between authorities (迁入)."""
        fake = self.people.enterprise()
        while (
            fake.uscc in self.taken_usccs
            or fake.name in self.taken_names
            or (movable and fake.entity_type not in MOVABLE_ENTITY_TYPES)
        ):
            fake = self.people.enterprise()
        self.taken_usccs.add(fake.uscc)
        self.taken_names.add(fake.name)
        return fake

    def _person(self, day: dt.date) -> tuple[str, str, str]:
        name, id_number = self.people._person(day)
        phone = "1" + self.rng.choice("35789") + "".join(self.rng.choice("0123456789") for _ in range(9))
        return name, id_number, phone

    def _closable_enterprise(self, day: dt.date, *, moving: bool) -> _RegisterEntry | None:
        """An active register entry established at least a year before `day` and neither renamed nor changed
        by a case since: what a 注销 closes, or with `moving` what a 迁出 moves away (a company or firm; shops
        and branches close instead)."""
        limit = bisect.bisect_left(self.established_dates, day - dt.timedelta(days=365))
        for _attempt in range(64):
            if limit == 0:
                return None
            e = self.register[self.rng.randrange(limit)]
            if (
                e.status == "active"
                and (e.renamed_on is None or e.renamed_on < day)
                and (e.changed_on is None or e.changed_on < day)
                and (not moving or e.entity_type in MOVABLE_ENTITY_TYPES)
            ):
                return e
        return None

    def _revoked_enterprise(self, day: dt.date) -> _RegisterEntry | None:
        """A register entry whose licence was revoked at least REVOKED_SETTLING_DAYS before `day` and that is
        still 吊销 (not yet wound up by an earlier case), unchanged by a case since."""
        limit = bisect.bisect_right(self.revoked_dates, day - dt.timedelta(days=REVOKED_SETTLING_DAYS))
        for _attempt in range(16):
            if limit == 0:
                return None
            e = self.revoked[self.rng.randrange(limit)]
            if e.status == EnterpriseStatus.REVOKED and (e.changed_on is None or e.changed_on < day):
                return e
        return None

    def _active_enterprise(self, day: dt.date) -> _RegisterEntry | None:
        """A register entry established before `day` and not closed within a month after it."""
        limit = bisect.bisect_left(self.established_dates, day - dt.timedelta(days=30))
        for _attempt in range(8):
            if limit == 0:
                return None
            e = self.register[self.rng.randrange(limit)]
            if e.status == "active" or (
                e.status_changed_on and e.status_changed_on > day + dt.timedelta(days=60)
            ):
                return e
        return None

    # -- cases --
    def _received_days(self):
        year_days = [d for d in self.cal.days if d.year == self.year and d <= self._local(self.cutoff).date()]
        office = _Weighted((d, MONTH_WEIGHTS[d.month - 1]) for d in year_days if self.cal.working_day(d))
        online = _Weighted(
            (d, MONTH_WEIGHTS[d.month - 1] * (1.0 if self.cal.working_day(d) else 0.3)) for d in year_days
        )
        return office, online

    def _received_at(self, channel: str, office, online) -> dt.datetime:
        return self._received_on(channel, (online if channel in ONLINE else office).pick(self.rng))

    def _received_on(self, channel: str, day: dt.date) -> dt.datetime:
        rng = self.rng
        if channel in ONLINE:
            r = rng.random()
            minute = (
                rng.randrange(9 * 60, 18 * 60)
                if r < 0.75
                else rng.randrange(18 * 60, 23 * 60)
                if r < 0.93
                else rng.randrange(7 * 60, 9 * 60)
            )
        else:
            minute = rng.randrange(OFFICE_START, 17 * 60)
        return self._moment(day, minute)

    def _generate_cases(self) -> list[_DemoCase]:
        rng = self.rng
        total = max(1, round(CASES_AT_SCALE_1 * self.ctx.scale))
        types = _Weighted(TYPE_SHARES)
        channels = {t: _Weighted(w) for t, w in CHANNEL_WEIGHTS.items()}
        change_kinds = _Weighted(CHANGE_KINDS)
        office, online = self._received_days()
        cases = []
        for _ in range(total):
            case_type = types.pick(rng)
            channel = channels[case_type].pick(rng)
            case = _DemoCase(
                case_type=case_type,
                channel=channel,
                received_at=self._received_at(channel, office, online),
                clerk=rng.choice(self.clerks),
                change_kind=change_kinds.pick(rng) if case_type == CaseType.CHANGE else "",
            )
            self._timeline(case)
            cases.append(case)
        cases.sort(key=lambda c: c.received_at)
        return cases

    def _cover_register_establishments(self, cases: list[_DemoCase]) -> None:
        """Give a 设立 case to each establishment of the year that no case took: the generated register's
        entries of a day it drew more than the cases approved, and the identity-misuse ring (全程电子化, the
        victim as applicant with the agent's phone, the agent as 委托代理人). Then every establishment of the
        year is the approval of its case. Each is drawn like the others — received some working days
        before, walked through _timeline — and kept only when it came out approved on that very day. For
        each, an approved 设立 that entered a new enterprise (self.openings) is dropped, so the year keeps
        its number of cases."""
        channels = _Weighted(CHANNEL_WEIGHTS[CaseType.ESTABLISHMENT])
        electronic = _Weighted(((Channel.FULL_ELECTRONIC, 1),))
        untaken = [
            entry
            for (event, day), pool in sorted(self.pools.items())
            if event == "establishment" and day.year == self.year
            for entry in pool
        ]
        ring = [e for e in self.ring_entries if e.established_on.year == self.year]
        ring_usccs = {e.uscc for e in ring}
        extra: list[_DemoCase] = []
        for entry in untaken + ring:
            in_ring = entry.uscc in ring_usccs
            day = entry.established_on
            case = self._case_approved_on(day, electronic if in_ring else channels)
            if case is None:
                continue
            legal_rep = self._establishing_party(case, entry, day)
            if in_ring:
                case.applicant = (*legal_rep, self.ring_agent[2])
                case.agent = self.ring_agent
            else:
                self._draw_applicant_and_agent(case, legal_rep, day)
            extra.append(case)
        of_the_year = {id(c) for c in cases}
        dropped = set()
        for _ in extra:
            opened = [
                n
                for n, (c, _fake) in enumerate(self.openings)
                if c.case_type == CaseType.ESTABLISHMENT and id(c) in of_the_year
            ]
            if not opened:
                break
            case, _fake = self.openings.pop(self.rng.choice(opened))
            dropped.add(id(case))
        cases[:] = [c for c in cases if id(c) not in dropped] + extra
        cases.sort(key=lambda c: c.received_at)

    def _case_approved_on(self, day: dt.date, channels: _Weighted) -> _DemoCase | None:
        rng = self.rng
        index = self.cal.working_index.get(day)
        if index is None:  # not a working day: no case decides on it
            return None
        for _ in range(ESTABLISHMENT_DRAWS):
            channel = channels.pick(rng)
            received_on = self.cal.working[max(0, index - self.decision_days.pick(rng))]
            if received_on.year != self.year:  # a case of the year (the year before is numbered apart)
                continue
            case = _DemoCase(
                case_type=CaseType.ESTABLISHMENT,
                channel=channel,
                received_at=self._received_on(channel, received_on),
                clerk=rng.choice(self.clerks),
            )
            if case.received_at > self.cutoff:
                continue
            self._timeline(case)
            if case.approved and self._local(case.decided_at).date() == day:
                return case
        return None

    def _needs_licence(self, case: _DemoCase) -> bool:
        if case.case_type in self.new_types:
            return True
        return case.case_type == CaseType.CHANGE and case.change_kind in self.licence_fields

    def _timeline(self, c: _DemoCase) -> None:
        rng = self.rng
        cut = self.settled
        online = c.channel in ONLINE

        def step(action: str, to: str, at: dt.datetime, reason: str = "", actor: int | None = None) -> bool:
            if at > cut:
                return False
            c.events.append(_Event(action, c.state, to, at, actor or c.clerk, reason))
            c.state = to
            return True

        def follow_up(state: str, at: dt.datetime) -> None:
            if online:
                c.follow_ups.append((state, at))

        def archive(after: dt.datetime) -> None:
            at = self._office_after(after, 60 * 24 * 2, 60 * 24 * 25)
            if step("archive", CaseState.ARCHIVED, at):
                c.archived_at = at

        def close_pause(at: dt.datetime) -> None:
            end = self._local(at).date()
            c.pauses[-1][1] = end
            c.paused_days += self.cal.between(c.pauses[-1][0], end)

        if rng.random() < EARLY_WITHDRAWAL_RATE:
            at = self._office_after(c.received_at, 60, 60 * 24 * 4)
            if step("withdraw", CaseState.WITHDRAWN, at, rng.choice(WITHDRAWAL_REASONS[:2])):
                follow_up(CaseState.WITHDRAWN, at)
                archive(at)
            return
        # Window cases are reviewed while the applicant waits; online ones in the next office hours.
        review = self._office_after(c.received_at, *((5, 40) if not online else (20, 60 * 6)))
        rounds = 0
        while rng.random() < (RETURN_RATE if rounds == 0 else 0.15):
            rounds += 1
            items = rng.sample(DEFICIENCIES, rng.choice((1, 1, 1, 2, 2, 3)))
            if not step("return_for_correction", CaseState.RETURNED, review, "；".join(items)):
                return
            c.deficiencies.extend((rounds, text, False) for text in items)
            c.pauses.append([self._local(review).date(), None])
            c.notices.append((NoticeKind.CORRECTION, review, c.clerk))
            follow_up(CaseState.RETURNED, review)
            if rng.random() < NEVER_RESUBMITTED:
                at = self._office_after(review, 60 * 24 * 20, 60 * 24 * 40)
                if step("withdraw", CaseState.WITHDRAWN, at, WITHDRAWAL_REASONS[2]):
                    close_pause(at)
                    follow_up(CaseState.WITHDRAWN, at)
                    archive(at)
                return
            resubmit = review + dt.timedelta(days=rng.uniform(0.3, 10))
            if not online:
                resubmit = self._office_after(resubmit, 0, 1)
            if not step("resubmit", CaseState.RECEIVED, resubmit):
                return
            close_pause(resubmit)
            c.deficiencies = [(r, text, True) for r, text, _done in c.deficiencies]
            review = self._office_after(resubmit, 10, 60 * 6)
        if not step("pass_pre_review", CaseState.PRE_REVIEWED, review):
            return
        accept = self._office_after(review, 2, 25)
        if not step("accept", CaseState.ACCEPTED, accept):
            return
        accepted_on = self._local(accept).date()
        c.accepted_at = accept
        c.due_on = self.cal.add(accepted_on, 3)
        c.notices.append((NoticeKind.ACCEPTANCE, accept, c.clerk))
        days = self.decision_days.pick(rng)
        refused = None
        if rng.random() < EXTENSION_RATE:
            requested = self._office_on(self.cal.add(accepted_on, rng.choice((1, 2))))
            reason = rng.choice(EXTENSION_REASONS)
            if requested > cut:
                return
            c.events.append(_Event("request_extension", c.state, c.state, requested, c.clerk, reason))
            answered = self._office_after(requested, 30, 240)
            if answered > cut:
                c.extension = (requested, reason, None, None, CaseExtension.Status.REQUESTED)
                return
            if rng.random() < EXTENSION_REFUSED_SHARE:
                refusal = rng.choice(EXTENSION_REFUSALS)
                c.events.append(_Event("refuse_extension", c.state, c.state, answered, self.manager, refusal))
                c.extension = (requested, reason, answered, self.manager, CaseExtension.Status.REFUSED)
                refused, days = answered, 3
            else:
                c.events.append(_Event("approve_extension", c.state, c.state, answered, self.manager, reason))
                c.extension = (requested, reason, answered, self.manager, CaseExtension.Status.APPROVED)
                c.extended = True
                c.due_on = self.cal.add(c.due_on, 3)
                c.notices.append((NoticeKind.EXTENSION, answered, self.manager))
                days = rng.randint(4, 6)
        if days == 0:
            decided = self._office_after(accept, 5, 90)
        else:
            decided = self._office_on(self.cal.add(accepted_on, days))
            if refused is not None and decided <= refused:
                decided = self._office_after(refused, 10, 120)
        if rng.random() < REJECTION_RATE:
            if not step("reject", CaseState.REJECTED, decided, rng.choice(REJECTION_REASONS)):
                return
            c.decided_at = decided
            c.rejected = True
            c.notices.append((NoticeKind.REJECTION, decided, c.clerk))
            follow_up(CaseState.REJECTED, decided)
            archive(decided)
            return
        if not step("approve", CaseState.APPROVED, decided):
            return
        c.decided_at = decided
        c.on_the_spot = self._local(decided).date() == accepted_on
        c.notices.append((self.approval_notice[c.case_type], decided, c.clerk))
        last = decided
        if self._needs_licence(c):
            printed = self._office_after(decided, 5, 60 * 30)
            if not step("issue_licence", CaseState.LICENSED, printed):
                return
            c.licensed_at = printed
            last = printed
        archive(last)

    # -- who the cases are about --
    def _new_enterprise_changes(self, fake, case_type: str, day: dt.date) -> dict:
        if case_type == CaseType.MIGRATION_IN and fake.established_on > day - dt.timedelta(days=365):
            # It moves in with its history: established elsewhere well before.
            fake.established_on = day - dt.timedelta(days=self.rng.randint(365, 3650))
        changes = _new_enterprise_facts(fake, (fake.legal_rep_name, fake.legal_rep_id_number))
        if case_type == CaseType.MIGRATION_IN:
            changes["established_on"] = fake.established_on.isoformat()
            changes["origin_authority"] = self.rng.choice(ORIGINS)
        return changes

    def _decided_entry(self, c: _DemoCase) -> _RegisterEntry | None:
        """The register entry an approved 设立/注销/迁出 names: the register's own event of its decision day,
        so the case and the register tell one story; failing that, for 注销/迁出, an active enterprise the
        case closes, which the register is told of (_enter_effects) as services.cases would have done."""
        key = REGISTER_EVENT.get(c.case_type)
        if key is None or not c.approved:
            return None
        decided_on = self._local(c.decided_at).date()
        pool = self.pools.get((key, decided_on))
        if pool:
            return pool.pop()
        if key == "establishment":
            return None
        received_on = self._local(c.received_at).date()
        entry = None
        if c.case_type == CaseType.DEREGISTRATION and self.rng.random() < REVOKED_DEREGISTRATION_SHARE:
            entry = self._revoked_enterprise(received_on)
        if entry is None:
            entry = self._closable_enterprise(received_on, moving=key == "moved_out")
        if entry is not None:
            entry.status, entry.status_changed_on = key, decided_on
            self.closings.append((entry.pk, key, decided_on))
        return entry

    def _new_enterprise_party(
        self, c: _DemoCase, entry: _RegisterEntry | None, day: dt.date
    ) -> tuple[str, str]:
        """Name, code and requested facts of a 设立/迁入 case; an approved one the register has no entry for
        is queued to enter it (_enter_effects). Returns the legal representative."""
        if entry is not None:
            return self._establishing_party(c, entry, day)
        fake = self._fake(movable=c.case_type == CaseType.MIGRATION_IN)
        c.requested_changes = self._new_enterprise_changes(fake, c.case_type, day)
        c.enterprise_name = fake.name
        if c.case_type == CaseType.MIGRATION_IN:
            c.uscc = self._origin_uscc()
        elif c.approved:
            c.uscc = fake.uscc  # assigned at approval
        if c.approved:
            self.openings.append((c, fake))
        return fake.legal_rep_name, fake.legal_rep_id_number

    def _establishing_party(self, c: _DemoCase, entry: _RegisterEntry, day: dt.date) -> tuple[str, str]:
        """A 设立 of a register entry asked for what the register then entered. Returns its legal
        representative."""
        c.enterprise_id, c.enterprise_name, c.uscc = entry.pk, entry.name_on(day), entry.uscc
        c.requested_changes = dict(entry.established_facts)
        return c.requested_changes["legal_rep_name"], c.requested_changes["legal_rep_id_number"]

    def _draw_applicant_and_agent(self, c: _DemoCase, legal_rep: tuple[str, str], day: dt.date) -> None:
        rng = self.rng
        phone = "1" + rng.choice("35789") + "".join(rng.choice("0123456789") for _ in range(9))
        c.applicant = (*legal_rep, phone) if rng.random() < 0.55 else self._person(day)
        if rng.random() < 0.45:
            c.agent = self._person(day)

    def _assign_parties(self, cases: list[_DemoCase]) -> None:
        for c in cases:
            day = self._local(c.received_at).date()
            entry: _RegisterEntry | None = None
            if c.case_type in REGISTER_EVENT:
                entry = self._decided_entry(c)
            elif c.case_type == CaseType.FILING and self.rng.random() < REVOKED_FILING_SHARE:
                entry = self._revoked_enterprise(day) or self._active_enterprise(day)
            elif c.case_type not in self.new_types:
                entry = self._active_enterprise(day)
            if c.case_type in self.new_types:
                legal_rep = self._new_enterprise_party(c, entry, day)
            elif entry is not None:
                c.enterprise_id, c.enterprise_name, c.uscc = entry.pk, entry.name_on(day), entry.uscc
                legal_rep = entry.legal_rep
            else:
                fake = self._fake()
                c.enterprise_name, c.uscc = fake.name, fake.uscc
                legal_rep = (fake.legal_rep_name, fake.legal_rep_id_number)
            self._requests(c, day, entry)
            self._draw_applicant_and_agent(c, legal_rep, day)

    def _requests(self, c: _DemoCase, day: dt.date, entry: _RegisterEntry | None) -> None:
        """requested_changes of a 变更, 备案 or 迁出 received on `day`; an approved 变更 of a register entry
        changes it (_changed)."""
        rng = self.rng
        if c.case_type == CaseType.CHANGE:
            c.requested_changes = self._change(c.change_kind, day, entry)
            if entry is not None and c.approved:
                self._changed(c, entry)
        elif (
            c.case_type == CaseType.FILING and entry is not None and entry.status == EnterpriseStatus.REVOKED
        ):
            c.requested_changes = {"filing_items": LIQUIDATION_FILING}
        elif c.case_type == CaseType.FILING:
            c.requested_changes = {"filing_items": "、".join(rng.sample(FILING_ITEMS, rng.choice((1, 1, 2))))}
        elif c.case_type == CaseType.MIGRATION_OUT:
            c.requested_changes = {
                "destination_authority": rng.choice(DESTINATIONS),
                "destination_address": self._fake_address(),
            }

    def _origin_uscc(self) -> str:
        """The code a moved-in enterprise brings from its origin authority."""
        while True:
            code = build_uscc(self.rng.choice(ORIGIN_DIVISIONS), random_org_body(self.rng))
            if code not in self.taken_usccs:
                self.taken_usccs.add(code)
                return code

    def _enter_effects(self) -> None:
        """Enter the approved cases the generated register had no event for through the enterprises demo
        writer: 设立/迁入 add the enterprise (established that day / moved in that day), 注销/迁出 close the
        one the case named. Afterwards every approved case of the year names its enterprise in the
        register."""
        from bizreg.enterprises.demo import add_enterprises, close_enterprises

        entered = []
        for c, fake in self.openings:
            decided_on = self._local(c.decided_at).date()
            fake.name, fake.uscc, fake.status, fake.status_changed_on = (
                c.enterprise_name,
                c.uscc,
                "active",
                None,
            )
            fake.former_name = fake.renamed_on = None
            if c.case_type == CaseType.MIGRATION_IN:
                fake.established_on = dt.date.fromisoformat(c.requested_changes["established_on"])
                fake.registered_on, fake.registered_as = decided_on, "迁入登记"
            else:
                fake.established_on = decided_on
            entered.append(fake)
        for (c, _fake), pk in zip(
            self.openings, add_enterprises(entered, authority_id=self.authority.pk), strict=True
        ):
            c.enterprise_id = pk
        close_enterprises(self.closings, authority_id=self.authority.pk)

    def _fake_address(self) -> str:
        return self.people.enterprise().address

    def _change(self, kind: str, day: dt.date, entry: _RegisterEntry | None) -> dict:
        """requested_changes of a 变更 of `kind`, as services.cases stores them: values that differ from the
        entry's (an entry without a registered capital changes its scope instead — a licence item too)."""
        rng = self.rng
        if kind == "registered_capital" and entry is not None and entry.registered_capital is None:
            kind = "business_scope"
        if kind == "address":
            moved = self.people.enterprise()
            while entry is not None and moved.address == entry.address:
                moved = self.people.enterprise()
            return {"address": moved.address, "street": moved.street_id}
        if kind == "legal_rep_name":
            name, id_number, _phone = self._person(day)
            return {"legal_rep_name": name, "legal_rep_id_number": id_number}
        if kind == "business_scope":
            scope = self.people.enterprise().business_scope
            while entry is not None and scope == entry.business_scope:
                scope = self.people.enterprise().business_scope
            return {"business_scope": scope}
        if kind == "registered_capital":
            held = entry.registered_capital if entry is not None else None
            shop = entry is not None and entry.entity_type == EntityType.INDIVIDUAL_BUSINESS
            amounts = [a for a in (SHOP_CAPITAL_AMOUNTS if shop else CAPITAL_AMOUNTS) if a != held]
            return {"registered_capital": str(rng.choice(amounts))}
        if kind == "name":
            return {"name": self._new_name(entry.entity_type if entry is not None else None)}
        held = entry.industry if entry is not None else ""
        return {"industry": rng.choice([s for s in "FGILM" if s != held])}

    def _new_name(self, entity_type: str | None) -> str:
        """A name no one holds, in the form of `entity_type` (a shop stays a shop, a company a company)."""
        if entity_type is None:
            return self._fake().name
        name = self.people.name_of(entity_type)
        while name in self.taken_names:
            name = self.people.name_of(entity_type)
        self.taken_names.add(name)
        return name

    def _changed(self, c: _DemoCase, entry: _RegisterEntry) -> None:
        """Keep the entry as an approved 变更 leaves it, so cases received later name it as it then is (the
        register itself is changed once the cases are numbered: _apply_changes)."""
        changes = c.requested_changes
        decided_on = self._local(c.decided_at).date()
        entry.changed_on = decided_on
        if "name" in changes:
            entry.rename(decided_on, changes["name"])
            c.enterprise_name = changes["name"]
        if "legal_rep_id_number" in changes:
            entry.legal_rep = (changes["legal_rep_name"], changes["legal_rep_id_number"])
        if "industry" in changes:
            entry.industry = changes["industry"]
        if "registered_capital" in changes:
            entry.registered_capital = Decimal(changes["registered_capital"])
        if "business_scope" in changes:
            entry.business_scope = changes["business_scope"]
        if "address" in changes:
            entry.address = changes["address"]
        self.changes.append(c)

    def _apply_changes(self) -> None:
        """Tell the register of the year's approved 变更 cases through the enterprises demo writer, with the
        reason and approver services.cases records."""
        from bizreg.enterprises.demo import RegisterChange, apply_changes

        apply_changes(
            [
                RegisterChange(
                    enterprise_id=c.enterprise_id,
                    at=c.decided_at,
                    values=c.requested_changes,
                    reason=f"变更登记（业务 {c.number}）",
                    user_id=next(e.actor for e in c.events if e.action == "approve"),
                )
                for c in self.changes
            ],
            authority=self.authority,
            rng=self.ctx.rng("registration.register_changes"),
        )

    # -- numbers --
    def _number(self, cases: list[_DemoCase]) -> list[dict]:
        code = self.authority.code
        existing: dict[dt.date, int] = {}
        for year in sorted({self._local(c.received_at).year for c in cases}):
            numbers = RegistrationCase.objects.filter(number__startswith=f"{code}{year}")
            for number in numbers.values_list("number", flat=True):
                tail = number[len(code) :]
                if len(tail) == 13 and tail.isdigit():
                    day = dt.date(int(tail[:4]), int(tail[4:6]), int(tail[6:8]))
                    existing[day] = max(existing.get(day, 0), int(tail[8:]))
        sequence: dict[dt.date, int] = dict(existing)
        for c in cases:
            day = self._local(c.received_at).date()
            sequence[day] = sequence.get(day, 0) + 1
            c.number = f"{code}{day:%Y%m%d}{sequence[day]:05d}"
            if c.channel in ONLINE:
                system = "YWTB" if c.channel == Channel.ONE_STOP_ONLINE else "QCDZH"
                c.external_id = f"{system}{day:%Y%m%d}{sequence[day]:05d}"
        return [
            {"day": day, "last": last} for day, last in sorted(sequence.items()) if existing.get(day) != last
        ]

    def _previous_year(self) -> list[_DemoCase]:
        """Decided cases of the year before (a sample, PREVIOUS_YEAR_SHARE), archived, with transitions."""
        rng = self.rng
        year = self.year - 1
        total = round(CASES_AT_SCALE_1 * self.ctx.scale * PREVIOUS_YEAR_SHARE)
        days = _Weighted((d, MONTH_WEIGHTS[d.month - 1]) for d in self.cal.working if d.year == year)
        types = _Weighted(TYPE_SHARES)
        decision_days = _Weighted(PREVIOUS_DECISION_DAYS)
        change_kinds = _Weighted(CHANGE_KINDS)
        cases = []
        for _ in range(total):
            case_type = types.pick(rng)
            received = self._moment(days.pick(rng), rng.randrange(OFFICE_START, 17 * 60))
            c = _DemoCase(
                case_type=case_type,
                channel=CHANNEL_WEIGHTS[case_type][0][0],
                received_at=received,
                clerk=rng.choice(self.clerks),
                change_kind=change_kinds.pick(rng) if case_type == CaseType.CHANGE else "",
            )
            review = self._office_after(received, 10, 60 * 8)
            accept = self._office_after(review, 2, 25)
            accepted_on = self._local(accept).date()
            n = decision_days.pick(rng)
            decided = (
                self._office_after(accept, 5, 90) if n == 0 else self._office_on(self.cal.add(accepted_on, n))
            )
            c.accepted_at, c.due_on, c.decided_at = accept, self.cal.add(accepted_on, 3), decided
            c.on_the_spot = self._local(decided).date() == accepted_on
            events = [("pass_pre_review", CaseState.RECEIVED, CaseState.PRE_REVIEWED, review)]
            events.append(("accept", CaseState.PRE_REVIEWED, CaseState.ACCEPTED, accept))
            events.append(("approve", CaseState.ACCEPTED, CaseState.APPROVED, decided))
            last, state = decided, CaseState.APPROVED
            if self._needs_licence(c):
                c.licensed_at = self._office_after(decided, 5, 60 * 30)
                events.append(("issue_licence", state, CaseState.LICENSED, c.licensed_at))
                last, state = c.licensed_at, CaseState.LICENSED
            c.archived_at = self._office_after(last, 60 * 24 * 2, 60 * 24 * 25)
            events.append(("archive", state, CaseState.ARCHIVED, c.archived_at))
            c.events = [_Event(a, f, t, at, c.clerk) for a, f, t, at in events]
            c.state = CaseState.ARCHIVED
            cases.append(c)
        cases.sort(key=lambda c: c.received_at)
        # Parties in the order received, so no case names an enterprise an earlier decision closed.
        for c in cases:
            day = self._local(c.received_at).date()
            if c.case_type in self.new_types:
                legal_rep = self._new_enterprise_party(c, self._decided_entry(c), day)
            else:
                entry = self._decided_entry(c) or self._active_enterprise(day)
                if entry is None:
                    c.enterprise_name, c.applicant = "广州市南沙区某企业", self._person(day)
                    continue
                c.enterprise_id, c.enterprise_name, c.uscc = entry.pk, entry.name_on(day), entry.uscc
                legal_rep = entry.legal_rep
                self._requests(c, day, entry)
            c.applicant = (*legal_rep, "1" + rng.choice("35789") + f"{rng.randrange(10**9):09d}")
        return cases

    def _decision_clock(self, c: _DemoCase) -> dict:
        """processing_working_days / decided_on_time as services.cases records them at a decision: working
        days from acceptance to decision less the pauses inside that span."""
        if c.decided_at is None or c.accepted_at is None:
            return {"processing_working_days": None, "decided_on_time": None}
        accepted, decided = self._local(c.accepted_at).date(), self._local(c.decided_at).date()
        used = self.cal.between(accepted, decided)
        for started, ended in c.pauses:
            lo, hi = max(started, accepted), min(ended or decided, decided)
            if hi > lo:
                used -= self.cal.between(lo, hi)
        return {
            "processing_working_days": max(used, 0),
            "decided_on_time": c.due_on is None or decided <= c.due_on,
        }

    # -- writing the cases and what hangs on them --
    def _write_cases(self, cases: list[_DemoCase]) -> None:
        authority_id = self.authority.pk
        ids = self.loader.ids(RegistrationCase, len(cases))
        rows = []
        for c, pk in zip(cases, ids, strict=True):
            c.pk = pk
            rows.append(
                {
                    "id": pk,
                    "created_at": c.received_at,
                    "updated_at": (c.events[-1].at if c.events else c.received_at),
                    "authority_id": authority_id,
                    "number": c.number,
                    "external_id": c.external_id,
                    "case_type": c.case_type,
                    "channel": c.channel,
                    "state": c.state,
                    "enterprise_id": c.enterprise_id,
                    "enterprise_name": c.enterprise_name,
                    "uscc": c.uscc,
                    "requested_changes": c.requested_changes,
                    "investigation_reference": "",
                    "applicant_name": c.applicant[0],
                    "applicant_id_number": c.applicant[1],
                    "applicant_phone": c.applicant[2],
                    "agent_name": c.agent[0],
                    "agent_id_number": c.agent[1],
                    "agent_phone": c.agent[2],
                    "received_at": c.received_at,
                    "received_by_id": c.clerk,
                    "accepted_at": c.accepted_at,
                    "due_on": c.due_on,
                    "extended": c.extended,
                    "decided_at": c.decided_at,
                    "licensed_at": c.licensed_at,
                    "archived_at": c.archived_at,
                    "paused_working_days": c.paused_days,
                    "on_the_spot": c.on_the_spot,
                    **self._decision_clock(c),
                }
            )
        self.loader.insert(RegistrationCase, rows)
        del rows
        self.loader.insert(
            CaseTransitionLog,
            [
                {
                    "case_id": c.pk,
                    "action": e.action,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "actor_id": e.actor,
                    "occurred_at": e.at,
                    "reason": e.reason,
                }
                for c in cases
                for e in c.events
            ],
        )
        self.loader.insert(
            CasePause,
            [
                {"case_id": c.pk, "started_on": start, "ended_on": end}
                for c in cases
                for start, end in c.pauses
            ],
        )
        self.loader.insert(
            CaseDeficiency,
            [
                {"case_id": c.pk, "round": r, "requirement_id": None, "description": text, "resolved": done}
                for c in cases
                for r, text, done in c.deficiencies
            ],
        )
        extensions = []
        for c in cases:
            if c.extension is None:
                continue
            requested, reason, decided, decided_by, status = c.extension
            extensions.append(
                {
                    "created_at": requested,
                    "updated_at": decided or requested,
                    "case_id": c.pk,
                    "reason": reason,
                    "requested_by_id": c.clerk,
                    "status": status,
                    "decided_by_id": decided_by,
                    "decided_at": decided,
                }
            )
        self.loader.insert(CaseExtension, extensions)
        self._write_materials(cases)
        counters = self._day_counters
        for row in counters:  # a few hundred days: ORM writes are fine here
            CaseNumberCounter.objects.update_or_create(
                authority=self.authority, day=row["day"], defaults={"last": row["last"]}
            )
        self.loader.rows += len(counters)

    def _write_materials(self, cases: list[_DemoCase]) -> None:
        rng = self.rng
        checklists: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        for pk, case_type, mandatory in (
            MaterialRequirement.objects.filter(is_active=True)
            .order_by("case_type", "order", "pk")
            .values_list("pk", "case_type", "mandatory")
        ):
            checklists[case_type].append((pk, mandatory))
        rows = []
        for c in cases:
            checklist = checklists.get(c.case_type, [])
            # A case waiting for correction still lacks one mandatory item; every other case had them all.
            missing = None
            if c.state == CaseState.RETURNED:
                mandatory = [pk for pk, m in checklist if m]
                missing = rng.choice(mandatory) if mandatory else None
            for pk, mandatory in checklist:
                received = (mandatory and pk != missing) or (not mandatory and rng.random() < 0.35)
                rows.append({"case_id": c.pk, "requirement_id": pk, "received": received, "note": ""})
        self.loader.insert(CaseMaterial, rows)

    def _write_notices(self, cases: list[_DemoCase]) -> None:
        from bizreg.registration.services.documents import (
            CODE_ALPHABET,
            CODE_LENGTH,
            format_notice_number,
            number_prefix,
        )

        rng = self.rng
        issued = sorted(
            ((at, kind, actor, c) for c in cases for kind, at, actor in c.notices), key=lambda item: item[0]
        )
        existing_codes = (
            set(Notice.objects.values_list("verification_code", flat=True))
            if Notice.objects.exists()
            else set()
        )
        prefixes = {kind: number_prefix(authority=self.authority, kind=kind) for kind in NoticeKind.values}
        last = {
            (row["kind"], row["year"]): row["last"]
            for row in NoticeCounter.objects.filter(authority=self.authority).values("kind", "year", "last")
        }
        issuer = self.authority.name
        labels = dict(NoticeKind.choices)
        rows = []
        for at, kind, actor, c in issued:
            year = self._local(at).year
            sequence = last.get((kind, year), 0) + 1
            last[(kind, year)] = sequence
            code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            while code in existing_codes:
                code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            existing_codes.add(code)
            rows.append(
                {
                    "created_at": at,
                    "updated_at": at,
                    "authority_id": self.authority.pk,
                    "case_id": c.pk,
                    "kind": kind,
                    "number": format_notice_number(prefixes[kind], year, sequence),
                    "verification_code": code,
                    "issued_at": at,
                    "issued_by_id": actor,
                    # What the public verification page shows; the PDF is rendered on first download.
                    "content": {
                        "demo": True,
                        "title": labels[kind],
                        "issuer": issuer,
                        "issued_on": self._local(at).date().isoformat(),
                        "enterprise_name": c.enterprise_name,
                        "case_number": c.number,
                    },
                    "file": "",
                    "sha256": "",
                }
            )
        self.loader.insert(Notice, rows)
        for (kind, year), value in last.items():
            NoticeCounter.objects.update_or_create(
                authority=self.authority, kind=kind, year=year, defaults={"last": value}
            )
        self.loader.rows += len(last)

    # -- licences --
    def _write_licences(self, cases: list[_DemoCase]) -> None:
        from bizreg.registration.services.licences import format_serial

        rng = self.rng
        printed = sorted((c for c in cases if c.licensed_at is not None), key=lambda c: c.licensed_at)
        batches, sheets = [], []
        for kind, cost in ((LicenceKind.ORIGINAL, Decimal("4.80")), (LicenceKind.DUPLICATE, Decimal("3.80"))):
            prefix = f"{self.authority.code}{'Z' if kind == LicenceKind.ORIGINAL else 'F'}"
            top = (
                LicenceSheet.objects.filter(serial__startswith=prefix)
                .order_by("-number")
                .values_list("number", flat=True)
                .first()
                or (self.year % 100) * 1_000_000
            )
            used = self._sheets_of_kind(kind, prefix, top, printed)
            number = used[-1]["number"] if used else top
            # Deliveries a few days before each quarter, each covering its quarter with ~8 % to spare.
            # What the year's last cases print in the next one comes from the fourth delivery.
            by_quarter = Counter(
                3 if (at := self._moment_of(row)).year > self.year else (at.month - 1) // 3 for row in used
            )
            start = top + 1
            for quarter in range(4):
                needed = by_quarter.get(quarter, 0)
                size = max(500, -(-int(needed * 1.08) // 500) * 500)
                received = dt.date(self.year, quarter * 3 + 1, 1) - dt.timedelta(days=rng.randint(3, 6))
                if quarter and dt.datetime.combine(received, dt.time(9), tzinfo=self.tz) > self.cutoff:
                    break
                batches.append(
                    {
                        "created_at": self._moment(received, 10 * 60),
                        "updated_at": self._moment(received, 10 * 60),
                        "authority_id": self.authority.pk,
                        "kind": kind,
                        "prefix": prefix,
                        "serial_start": start,
                        "serial_end": start + size - 1,
                        "unit_cost": cost,
                        "received_on": received,
                        "received_by_id": self.manager,
                        "supplier": "广东省定点营业执照印制企业",
                    }
                )
                start += size
            last_number = start - 1
            if last_number < number:  # never fewer blanks than were used
                batches[-1]["serial_end"] += number - last_number
                last_number = number
            used.extend(
                {
                    "kind": kind,
                    "serial": format_serial(prefix, n),
                    "number": n,
                    "status": LicenceSheet.Status.BLANK,
                }
                for n in range(number + 1, last_number + 1)
            )
            sheets.append((kind, used))
        batch_ids = self.loader.ids(LicenceBatch, len(batches))
        for row, pk in zip(batches, batch_ids, strict=True):
            row["id"] = pk
        self.loader.insert(LicenceBatch, batches)
        rows = []
        ids = iter(self.loader.ids(LicenceSheet, sum(len(used) for _kind, used in sheets)))
        for kind, used in sheets:
            kind_batches = [b for b in batches if b["kind"] == kind]
            for row in used:
                row["id"] = next(ids)
            for row in used:
                batch = next(b for b in kind_batches if b["serial_start"] <= row["number"] <= b["serial_end"])
                index = row.pop("replaced_by_index", None)
                row.update(
                    {
                        "authority_id": self.authority.pk,
                        "batch_id": batch["id"],
                        "replaced_by_id": used[index]["id"] if index is not None else None,
                    }
                )
                for key in ("case_id", "used_at", "used_by_id", "retired_at", "retired_by_id"):
                    row.setdefault(key, None)
                row.setdefault("reason", "")
                rows.append(row)
        self.loader.insert(LicenceSheet, rows)

    def _sheets_of_kind(self, kind: str, prefix: str, top: int, printed: list[_DemoCase]) -> list[dict]:
        """The sheets one kind used, in serial order: prints, spoiled prints with their reprints, and the
        odd blank voided in stock."""
        from bizreg.registration.services.licences import format_serial

        rng = self.rng
        spoil_reasons = ("打印错位", "卡纸损坏", "墨迹污损", "套印偏移")
        void_reasons = ("入库清点发现破损", "保管中受潮损坏")
        number = top
        used: list[dict] = []

        def take(**values) -> dict:
            nonlocal number
            number += 1
            row = {"kind": kind, "serial": format_serial(prefix, number), "number": number, **values}
            used.append(row)
            return row

        for c, after in itertools.zip_longest(printed, printed[1:]):
            at = c.licensed_at
            # A spoiled sheet is reprinted at once, before the next licence takes its blank.
            next_print = after.licensed_at if after is not None else at + dt.timedelta(hours=1)
            if rng.random() < BLANK_VOID_RATE:
                take(
                    status=LicenceSheet.Status.VOIDED,
                    retired_at=at - dt.timedelta(minutes=rng.randrange(5, 600)),
                    retired_by_id=self.manager,
                    reason=rng.choice(void_reasons),
                )
            sheet = take(status=LicenceSheet.Status.PRINTED, case_id=c.pk, used_at=at, used_by_id=c.clerk)
            while rng.random() < SPOIL_RATE:
                room = next_print - sheet["used_at"]
                sheet["status"] = LicenceSheet.Status.SPOILED
                sheet["retired_at"] = sheet["used_at"] + min(dt.timedelta(minutes=1), room / 4)
                sheet["retired_by_id"] = c.clerk
                sheet["reason"] = rng.choice(spoil_reasons)
                replacement = take(
                    status=LicenceSheet.Status.PRINTED,
                    case_id=c.pk,
                    used_at=sheet["used_at"] + min(dt.timedelta(minutes=2), room / 2),
                    used_by_id=c.clerk,
                )
                sheet["replaced_by_index"] = len(used) - 1
                sheet = replacement
        return used

    def _moment_of(self, row: dict) -> dt.datetime:
        return self._local(row.get("used_at") or row["retired_at"])

    # -- mail --
    def _colleague(self, clerk: int) -> int:
        """Another member of the window team than `clerk` (`clerk` when the team is one person)."""
        others = [k for k in self.clerks if k != clerk]
        return self.rng.choice(others) if others else clerk

    def _inbound_handover(self, c: _DemoCase, package: dict) -> dict | None:
        """The hand-over of a package that arrived for case `c`, as services.mail records one: after it was
        recorded, by the one who recorded it, to someone else, for one of HANDOVER_PURPOSES. A mailed
        application is recorded by the clerk who receives the case and goes to the archive with the case's
        paper once archived; an old licence sent back for exchange, recorded by the mail room, goes to the
        case's clerk for printing (sheets are used by the case's clerk), or to the archive when it comes
        after the new licence was printed."""
        recorder, arrived = package["recorded_by_id"], package["recorded_at"]
        if c.channel == Channel.MAIL:
            if c.archived_at is None:
                return None
            purpose, handed = PURPOSE_ARCHIVE, self._office_after(c.archived_at, 10, 120)
        else:
            handed = self._office_after(arrived, 10, 60)
            purpose = (
                PURPOSE_PRINTING if c.licensed_at is not None and handed < c.licensed_at else PURPOSE_ARCHIVE
            )
        to_user = c.clerk if purpose == PURPOSE_PRINTING else self.rng.choice(self.archivists or [c.clerk])
        if to_user == recorder or handed > self.settled:
            return None
        return {"from_user_id": recorder, "to_user_id": to_user, "purpose": purpose, "occurred_at": handed}

    def _tracking(self, courier: str, used: set) -> str:
        rng = self.rng
        digits = "0123456789"

        def d(n: int) -> str:
            return "".join(rng.choice(digits) for _ in range(n))

        while True:
            if courier == Courier.EMS:
                number = "E" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + d(9) + "CN"
            elif courier == Courier.SF:
                number = "SF" + d(13)
            elif courier == Courier.JD:
                number = "JDV" + rng.choice("ABCDEF") + d(11)
            elif courier == Courier.ZTO:
                number = "7" + rng.choice("3456789") + d(10)
            elif courier == Courier.YTO:
                number = "YT" + d(13)
            elif courier == Courier.STO:
                number = "77" + d(13)
            else:
                number = "43" + d(11)
            if (courier, number) not in used:
                used.add((courier, number))
                return number

    def _write_mail(self, cases: list[_DemoCase]) -> None:

        rng = self.rng
        inbound_couriers = _Weighted(
            (
                (Courier.EMS, 45),
                (Courier.SF, 35),
                (Courier.JD, 7),
                (Courier.ZTO, 5),
                (Courier.YTO, 4),
                (Courier.YUNDA, 4),
            )
        )
        used_in: set = set()
        used_out: set = set()
        checklist_names: dict[str, list[str]] = defaultdict(list)
        for case_type, name in (
            MaterialRequirement.objects.filter(is_active=True, mandatory=True)
            .order_by("case_type", "order")
            .values_list("case_type", "name")
        ):
            checklist_names[case_type].append(name)
        packages: list[dict] = []
        handovers: list[tuple[int, dict]] = []  # (index of the package, row)
        for c in cases:
            inbound_index = None
            # The colleague on mail duty that day records what arrives and hands on what is posted.
            mail_room = self._colleague(c.clerk)
            changes_licence = c.case_type == CaseType.CHANGE and c.licensed_at is not None
            if c.channel == Channel.MAIL or (changes_licence and c.channel in ONLINE and rng.random() < 0.06):
                courier = inbound_couriers.pick(rng)
                docs = (
                    checklist_names[c.case_type][:5]
                    if c.channel == Channel.MAIL
                    else ["营业执照正本、副本（换照交回）"]
                )
                packages.append(
                    {
                        "direction": MailPackage.Direction.INBOUND,
                        "courier": courier,
                        "tracking_number": self._tracking(courier, used_in),
                        "enterprise_name": c.enterprise_name,
                        "enterprise_id": c.enterprise_id,
                        "documents": "\n".join(docs),
                        "case_id": c.pk,
                        "recorded_at": c.received_at
                        if c.channel == Channel.MAIL
                        else self._office_after(c.received_at, 60 * 24, 60 * 24 * 3),
                        "recorded_by_id": c.clerk if c.channel == Channel.MAIL else mail_room,
                    }
                )
                inbound_index = len(packages) - 1
                handover = self._inbound_handover(c, packages[inbound_index])
                if handover is not None:
                    handovers.append((inbound_index, handover))
            if c.licensed_at is not None and (
                c.channel == Channel.MAIL or (c.channel in ONLINE and rng.random() < 0.25)
            ):
                sent = self._office_after(c.licensed_at, 60, 60 * 24 * 2)
                if sent > self.settled:
                    continue
                courier = Courier.EMS if rng.random() < 0.8 else Courier.SF
                packages.append(
                    {
                        "direction": MailPackage.Direction.OUTBOUND,
                        "courier": courier,
                        "tracking_number": self._tracking(courier, used_out),
                        "enterprise_name": c.enterprise_name,
                        "enterprise_id": c.enterprise_id,
                        "documents": "营业执照正本\n营业执照副本",
                        "case_id": c.pk,
                        "recorded_at": sent,
                        "recorded_by_id": c.clerk,
                        "address": self._fake_address()
                        if rng.random() < 0.3
                        else c.requested_changes.get("address", ""),
                        "reply_to_index": inbound_index,
                    }
                )
                posted = self._office_after(sent, 10, 90)
                if mail_room != c.clerk and posted <= self.settled:
                    handovers.append(
                        (
                            len(packages) - 1,
                            {
                                "from_user_id": c.clerk,
                                "to_user_id": mail_room,
                                "purpose": PURPOSE_POSTING,
                                "occurred_at": posted,
                            },
                        )
                    )
        for row in packages[:20]:
            validate_tracking_number(row["courier"], row["tracking_number"])  # the format table is the truth
        ids = self.loader.ids(MailPackage, len(packages))
        for row, pk in zip(packages, ids, strict=True):
            row["id"] = pk
        for row in packages:
            index = row.pop("reply_to_index", None)
            row["reply_to_id"] = packages[index]["id"] if index is not None else None
            row.update(
                {
                    "authority_id": self.authority.pk,
                    "created_at": row["recorded_at"],
                    "updated_at": row["recorded_at"],
                    "note": "",
                }
            )
            row.setdefault("address", "")
        self.loader.insert(MailPackage, packages)
        self.loader.insert(MailHandover, [{"package_id": packages[i]["id"], **row} for i, row in handovers])

    # -- follow-up of failed online applications --
    def _write_follow_ups(self, cases: list[_DemoCase]) -> None:
        rng = self.rng
        methods = _Weighted(
            (
                (ContactMethod.PHONE, 70),
                (ContactMethod.SMS, 20),
                (ContactMethod.EMAIL, 7),
                (ContactMethod.ON_SITE, 3),
            )
        )
        tasks, contacts = [], []
        for c in cases:
            if not c.follow_ups:
                continue
            # The task stays open through a second return (the service then keeps it as it is), so it
            # carries the first event; it is done after a contact that follows the last one.
            trigger, opened_at = c.follow_ups[0]
            last_at = c.follow_ups[-1][1]
            task = {
                "created_at": opened_at,
                "updated_at": last_at,
                "authority_id": self.authority.pk,
                "case_id": c.pk,
                "status": FollowUpTask.Status.OPEN,
                "assignee_id": c.clerk,
                "due_on": self.cal.add(self._local(opened_at).date(), 2),
                "trigger_state": trigger,
                "opened_at": opened_at,
                "opened_by_id": c.clerk,
                "closed_at": None,
                "closed_by_id": None,
                "outcome": "",
            }
            mine = []
            for n, (state, at) in enumerate(c.follow_ups):
                # The contacts after a return end when the applicant resubmits (or the case is returned
                # or withdrawn again, which reopens the task).
                until = c.follow_ups[n + 1][1] if n + 1 < len(c.follow_ups) else self.settled
                moment = at
                for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                    moment = self._office_after(moment, 20, 60 * 24 * 1.5)
                    if moment > until:
                        break
                    method = methods.pick(rng)
                    mine.append(
                        {
                            "staff_id": c.clerk,
                            "occurred_at": moment,
                            "method": method,
                            "result": rng.choice(CONTACT_RESULTS[state][method]),
                        }
                    )
            if mine and mine[-1]["occurred_at"] > last_at:
                closed = self._office_after(mine[-1]["occurred_at"], 5, 60 * 8)
                if closed <= self.settled:
                    task.update(
                        status=FollowUpTask.Status.DONE,
                        closed_at=closed,
                        closed_by_id=c.clerk,
                        outcome=rng.choice(OUTCOMES),
                        updated_at=closed,
                    )
            tasks.append(task)
            contacts.append(mine)
        ids = self.loader.ids(FollowUpTask, len(tasks))
        for row, pk in zip(tasks, ids, strict=True):
            row["id"] = pk
        self.loader.insert(FollowUpTask, tasks)
        self.loader.insert(
            ContactLog,
            [
                {"task_id": task["id"], **row}
                for task, mine in zip(tasks, contacts, strict=True)
                for row in mine
            ],
        )

    # -- information entry and guidance --
    def _write_service_records(self, cases: list[_DemoCase]) -> None:
        rng = self.rng
        total = max(1, round(SERVICE_RECORDS_AT_SCALE_1 * self.ctx.scale))
        last_day = self._local(self.cutoff).date()
        days = _Weighted(
            (d, MONTH_WEIGHTS[d.month - 1]) for d in self.cal.working if d.year == self.year and d <= last_day
        )
        cases_by_day: dict[dt.date, list[_DemoCase]] = defaultdict(list)
        for c in cases:
            cases_by_day[self._local(c.received_at).date()].append(c)
        new_names = [c.enterprise_name for c in cases if c.case_type == CaseType.ESTABLISHMENT] or [
            "拟设立企业"
        ]
        rows = []
        authority_id = self.authority.pk
        for _ in range(total):
            day = days.pick(rng)
            at = self._moment(day, rng.randrange(OFFICE_START, OFFICE_END))
            if at > self.cutoff:
                at = self.cutoff - dt.timedelta(minutes=rng.randrange(1, 180))
            guidance = rng.random() < 0.45
            r = rng.random()
            case_id = enterprise_id = None
            linked = None
            if r < 0.35 and cases_by_day.get(day):
                c = rng.choice(cases_by_day[day])
                # Guidance helps an applicant file the case, so it comes first; the entry of what was
                # received comes after it (the next office hours for a case filed online at night).
                if guidance:
                    moment = min(at, c.received_at - dt.timedelta(minutes=rng.randrange(5, 60)))
                else:
                    moment = self._office_after(max(at, c.received_at), 5, 60)
                if moment <= self.cutoff:
                    linked, at = c, moment
            if linked is not None:
                case_id, enterprise_id, name = linked.pk, linked.enterprise_id, linked.enterprise_name
            elif r < 0.8 and (entry := self._active_enterprise(day)) is not None:
                enterprise_id, name = entry.pk, entry.name_on(day)
            else:
                name = rng.choice(new_names)
            minutes = int(rng.triangular(3, 40, 10)) if guidance else int(rng.triangular(2, 20, 6))
            kind = ServiceRecord.Kind.ONLINE_GUIDANCE if guidance else ServiceRecord.Kind.INFO_ENTRY
            rows.append(
                {
                    "created_at": at,
                    "updated_at": at,
                    "authority_id": authority_id,
                    "kind": kind,
                    "staff_id": rng.choice(self.clerks),
                    "enterprise_name": name,
                    "enterprise_id": enterprise_id,
                    "case_id": case_id,
                    "occurred_at": at,
                    "minutes": minutes,
                    "note": rng.choice(SERVICE_NOTES[kind]),
                }
            )
        rows.sort(key=lambda row: row["occurred_at"])
        self.loader.insert(ServiceRecord, rows)

    # -- all of it --
    def run(self) -> int:
        import time

        started = time.monotonic()

        def log(message: str) -> None:
            self.ctx.log(f"  {message}（{time.monotonic() - started:.1f} 秒）")

        if not self._users():
            self.ctx.log("  没有本登记机关的窗口人员账号，跳过登记业务演示数据")
            return 0
        self._register()
        previous = self._previous_year()
        cases = self._generate_cases()
        self._assign_parties(cases)
        self._cover_register_establishments(cases)
        self._enter_effects()
        self._day_counters = self._number(previous) + self._number(cases)
        self._apply_changes()
        log(f"生成登记业务 {len(cases):,} 件（另有上年已办结样本 {len(previous):,} 件）")
        self._write_cases(previous + cases)
        self._day_counters = []
        log(f"写入登记业务、流转记录、补正、暂停、材料：累计 {self.loader.rows:,} 行")
        self._write_notices(cases)
        log(f"写入文书：累计 {self.loader.rows:,} 行")
        self._write_licences(cases)
        log(f"写入执照入库与用纸：累计 {self.loader.rows:,} 行")
        self._write_mail(cases)
        self._write_follow_ups(cases)
        log(f"写入邮寄件与网办跟进：累计 {self.loader.rows:,} 行")
        self._write_service_records(cases)
        log(f"写入信息录入与指引记录：累计 {self.loader.rows:,} 行")
        return self.loader.rows


@register_seeder(
    "registration.year",
    after=(
        "enterprises.register",
        "enterprises.demo_cases",
        "enterprises.identity_ring",
        "accounts.demo_users",
        "accounts.window_colleagues",
    ),
)
def seed_registration_year(ctx: DemoContext) -> int:
    return RegistrationYear(ctx).run()


# The work in hand at the window (its own seeder, after the other modules' years).
from bizreg.registration import demo_today  # noqa: E402, F401
