"""Demo year of the consultation module: the hotline, a year of calls and online tickets, the knowledge base.

Seeder `consultation.year` (after the demo users and the registration year, whose case numbers the
progress calls quote) writes for the demo authority and ctx.year, at the seed's size × ctx.scale:

- the hotline 39914115 (企业登记咨询热线) with five lines in hunt order (SIP/line1 … SIP/line5), an agent
  for every demo user with the hotline_agent role, and their shifts on every working day (09:00–12:00,
  13:00–18:00);
- ~36,000 offered calls (≈150 a working day, none on rest days; Mondays and the first day after a holiday
  busier; hourly peaks 9–11 and 14–16). Each working day is played through the linear hunt group: a call
  takes the first free line, so line 1 carries the most and a call finding all five taken is blocked
  (busy). Ringing, talk, hold and wrap-up follow a call centre's usual spread (AHT ≈ 3.5 min); a few
  callers hang up while it rings. ~97 % are settled on the call, ~2.6 % become follow-up tickets closed
  within a day or two, the rest are referred elsewhere; ~30 % of answered calls are rated in the post-call
  survey, ≥ 95 % of them 4–5;
- ~6,000 online tickets (portal chat, WeChat, e-mail, QQ) with their messages, transition log, SLA
  deadlines from services.tickets.sla_terms in business minutes (consultation.sla's hours and the
  working calendar), pauses while waiting for the citizen, CSAT on a share; ~150 complaints (投诉) with
  their own deadline, a few escalated; a few duplicates merged;
- the knowledge base: every article of demo_content as Article + published ArticleVersion (a fifth with
  an earlier superseded version), owners among the agents and the manager, review-by dates of which ~5 %
  have passed (知识新鲜度), usage rows and counts from the engine answers and canned replies of the year,
  the SYNONYMS, AnswerLog rows, ~40 open knowledge gaps; the knowledge-base revision is bumped.

Rows are written with raw bulk inserts (COPY on PostgreSQL, executemany on SQLite), with their
simple_history "created" rows where the model keeps history. Generation draws only from
ctx.rng("consultation.year"); running it twice adds nothing (seed_demo's DemoSeedRun, and a guard on the
hotline). CSAT tokens come from `secrets`: they are capabilities, never derived from the public seed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from bizreg.accounts.roles import ROLE_BY_CODE
from bizreg.consultation import sla
from bizreg.consultation.answering.text import normalize_question
from bizreg.consultation.demo_content import SYNONYMS, DemoArticle, all_articles
from bizreg.consultation.models import (
    Agent,
    AnswerLog,
    Article,
    ArticleTransitionLog,
    ArticleUsage,
    ArticleVersion,
    ArticleVersionState,
    Call,
    CallOutcome,
    CallSource,
    CallTopic,
    Contact,
    HotlineLine,
    HotlineNumber,
    KnowledgeGap,
    Shift,
    Synonym,
    Ticket,
    TicketChannel,
    TicketKind,
    TicketMessage,
    TicketNumberCounter,
    TicketPriority,
    TicketState,
    TicketTransitionLog,
)
from bizreg.consultation.services.knowledge import kb_revision_bump, review_period_days
from bizreg.consultation.services.tickets import SlaTerms, sla_terms
from bizreg.core.demo import DemoContext, register_seeder
from bizreg.core.demo_loader import RawLoader
from bizreg.core.masking import mask_phone
from bizreg.core.models import Authority
from bizreg.core.workdays import CalendarDataMissing, WorkingCalendar

HOTLINE_NUMBER = "39914115"
HOTLINE_NAME = "企业登记咨询热线"
LINES = 5
SHIFT_WINDOWS = ((dt.time(9), dt.time(12)), (dt.time(13), dt.time(18)))

CALLS_AT_SCALE_1 = 36_000
TICKETS_AT_SCALE_1 = 5_850  # consultation and guidance, every online channel
COMPLAINTS_AT_SCALE_1 = 150
ANSWER_LOGS_AT_SCALE_1 = 9_000  # engine answers that settled the question without a ticket
OPEN_GAPS = 40
HISTORY_REASON = "演示数据"

# Arrivals by hour of the shift (09–12, 13–18): the morning peak 9–11, the afternoon one 14–16.
HOUR_WEIGHTS = ((9, 1.25), (10, 1.45), (11, 1.15), (13, 0.55), (14, 1.3), (15, 1.35), (16, 1.05), (17, 0.6))
WEEKDAY_WEIGHTS = (1.2, 1.05, 1.0, 0.95, 0.85, 0.9, 0.9)  # Mon … Sun (a Sat/Sun is a make-up working day)
AFTER_HOLIDAY_WEIGHT = 1.45  # the first working day after a public holiday
MONTH_WEIGHTS = (1.0, 0.78, 1.15, 1.0, 0.98, 1.05, 1.0, 1.0, 1.02, 0.85, 1.05, 1.1)

# Callers: most hang up only after a long ring; a handful drop almost at once.
ABANDON_RATE = 0.0035
MISSED_RATE = 0.0008
FOLLOW_UP_RATE = 0.026
LATE_TICKET_RATE = 0.02  # online tickets answered after their resolution deadline
REFERRED_RATE = 0.004  # not ours to settle (tax, social insurance …): told where to go, not completed
SURVEY_RATE = 0.30
SURVEY_SCORES = ((5, 78.0), (4, 18.3), (3, 2.5), (2, 0.7), (1, 0.5))
TICKET_CSAT_RATE = 0.25
TICKET_CSAT_SCORES = ((5, 70.0), (4, 22.0), (3, 5.0), (2, 2.0), (1, 1.0))

CALL_TOPICS = (
    (CallTopic.ESTABLISHMENT, 20),
    (CallTopic.CHANGE, 16),
    (CallTopic.DEREGISTRATION, 8),
    (CallTopic.FILING, 6),
    (CallTopic.MIGRATION, 2),
    (CallTopic.ONLINE_SERVICE, 16),
    (CallTopic.MATERIALS, 9),
    (CallTopic.PROGRESS, 10),
    (CallTopic.LICENCE, 6),
    (CallTopic.ARCHIVES, 2),
    (CallTopic.IDENTITY_MISUSE, 1),
    (CallTopic.COMPLAINT, 0.5),
    (CallTopic.OTHER, 3.5),
)
TICKET_CHANNELS = (
    (TicketChannel.WEB_CHAT, 40),
    (TicketChannel.WECHAT, 31),
    (TicketChannel.EMAIL, 17),
    (TicketChannel.QQ, 12),
)
COMPLAINT_CHANNELS = (
    (TicketChannel.EMAIL, 30),
    (TicketChannel.WECHAT, 25),
    (TicketChannel.WEB_CHAT, 20),
    (TicketChannel.PHONE, 25),
)
# Engine-fronted channels: a ticket there is a question the engine handed over.
ENGINE_CHANNELS = (TicketChannel.WEB_CHAT, TicketChannel.WECHAT, TicketChannel.QQ)
PUSH_CHANNELS = (TicketChannel.EMAIL, TicketChannel.WECHAT, TicketChannel.QQ)
ENGINE_THRESHOLD = 0.55

OTHER_SUMMARIES = (
    "咨询社保开户事宜，已告知向社保经办机构咨询",
    "咨询发票申领，已告知向税务部门咨询",
    "咨询银行开户所需材料，已告知向开户银行咨询",
    "咨询南沙政务服务中心办公时间和地址",
    "咨询人才引进补贴政策，已转告区人才服务窗口电话",
)
REFERRED_SUMMARIES = (
    "咨询个人所得税汇算，非本机关职责，已告知拨打 12366 纳税服务热线",
    "咨询劳动合同纠纷，非本机关职责，已告知向劳动监察部门反映",
    "咨询商标注册，已告知向知识产权部门咨询",
    "来电方中途挂断，未完成咨询",
    "咨询外地企业登记事项，已告知向企业所在地登记机关咨询",
)
FOLLOW_UP_NOTES = (
    "需核实业务退回原因后回电",
    "需查询档案后回电告知",
    "需与审核人员确认材料要求后回电",
    "来电方要求书面答复，需整理后回复",
    "涉及特殊情形，需请示科室负责人后回电",
)
COMPLAINT_TEXTS = (
    ("网上申请多次被退回，退回理由前后不一致", CallTopic.ONLINE_SERVICE),
    ("热线高峰期一直占线，打了很多次才接通", CallTopic.OTHER),
    ("邮寄的营业执照超过一周仍未收到", CallTopic.LICENCE),
    ("窗口取号后等候时间过长", CallTopic.OTHER),
    ("窗口工作人员解释不清楚，要求补正的材料说法不一", CallTopic.MATERIALS),
    ("迁移调档函开具时间过长，影响企业迁入", CallTopic.MIGRATION),
    ("在线客服转人工后长时间没有回复", CallTopic.OTHER),
    ("变更登记超过三个工作日还没有审核结果", CallTopic.PROGRESS),
    ("注销登记被要求提交清单以外的材料", CallTopic.DEREGISTRATION),
    ("档案查询需要往返跑多次", CallTopic.ARCHIVES),
    ("电子签名链接多次失效，耽误办理", CallTopic.ONLINE_SERVICE),
    ("被冒名登记的举报提交后一直没有回音", CallTopic.IDENTITY_MISUSE),
)
COMPLAINT_REPLIES = (
    "您反映的问题已收悉。经核查，相关业务已安排专人跟进办理，给您带来不便深表歉意，我们将加强业务培训和内部"
    "沟通，统一补正口径。如仍有疑问，请拨打 39914115。",
    "经核实，您反映的情况属实，我们已对相关工作人员进行提醒，并优化了高峰时段的人员安排。感谢您的监督。",
    "经核查，您的业务已于今日办结，办理结果已通过短信告知。对办理过程中给您造成的不便，我们深表歉意。",
    "您反映的问题已转相关科室核查处理，处理结果已电话告知您本人。感谢您对我们工作的理解和支持。",
)
GAP_REPLIES = (
    "您好，您咨询的事项不属于商事登记业务，建议向相关主管部门咨询；如涉及登记事项，欢迎继续提问。",
    "您好，已为您核实：该事项需结合具体情况办理，工作人员已通过电话与您联系说明。",
    "您好，该问题我们已记录并转相关科室研究，答复如下：请以办理时窗口工作人员的审核意见为准，详询 39914115。",
)
CLARIFY_REPLIES = (
    "您好，为便于核查，请提供业务编号或企业名称（统一社会信用代码）。",
    "您好，请问您办理的是有限责任公司还是个体工商户？不同类型所需材料不同。",
    "您好，请补充说明您是在网上办理还是到窗口办理，以及目前办理到哪一步。",
)
CUSTOMER_FOLLOW_UPS = (
    "业务编号已发，麻烦帮忙看一下。",
    "是有限责任公司，两个股东。",
    "网上办的，提交后显示退回。",
    "企业名称已经补充在上面了，谢谢。",
)
GREETING_REPLIES = ("您好，", "您好！", "")
CLOSING_REPLIES = ("如还有疑问，欢迎继续咨询。", "感谢您的咨询。", "如需进一步帮助，请拨打 39914115。", "")
CSAT_COMMENTS = ("解答很清楚", "回复及时，谢谢", "很耐心", "", "", "", "希望回复再快一点", "按指引已办好")

# Questions people asked that no article answered (the list staff write new articles from).
GAP_QUESTIONS = (
    "南沙的企业可以申请哪些人才补贴",
    "公司注册后多久必须开立对公账户",
    "跨境电商企业在南沙有没有办公场地租金补贴",
    "外籍员工的工作许可在哪里办理",
    "个体工商户能开增值税专用发票吗",
    "营业执照上的经营范围能加注英文吗",
    "南沙企业所得税百分之十五优惠怎么申请",
    "香港律师事务所在南沙设立代表处怎么办理",
    "公司章程可以约定同股不同权吗",
    "电子营业执照能在香港银行开户时使用吗",
    "餐饮店门头招牌要不要审批",
    "民办非企业单位在哪里登记",
    "营业执照可以拿去抵押贷款吗",
    "合伙企业的普通合伙人可以是外国公司吗",
    "公司被列入异常名录影响法人坐高铁吗",
    "法定代表人出国期间公司怎么签字",
    "员工持股平台用合伙企业还是公司好",
    "网约车个体户需要办营业执照吗",
    "无人售货机摆放需要办理营业执照吗",
    "直播带货的主播要办个体户吗",
    "社区团购团长需要登记吗",
    "公司可以用虚拟货币出资吗",
    "股东是未成年人的公司怎么开股东会",
    "注册资本可以从一百万减到十万吗需要多久",
    "企业集团登记证还要办理吗",
    "外国人可以当个人独资企业投资人吗",
    "南沙的企业可以在前海设分公司吗",
    "营业执照印章能不能在线刻制",
    "企业名称能用生僻字吗",
    "公司可以没有实际办公地点吗",
    "住所在商务秘书公司的地址可以变更吗",
    "公司之间可以相互持股吗",
    "跨境通办在澳门哪里可以办理",
    "港澳青年创业基地注册有什么优惠",
    "营业执照可以放大打印吗",
    "分公司可以独立对外签合同吗",
    "个体户转让给别人要交税吗",
    "公司变更后银行预留信息要改吗",
    "营业执照照片可以放在美团上吗",
    "企业年报填错社保人数会被处罚吗",
    "公司注销后商标怎么办",
    "被列为失信被执行人能注册公司吗",
    "登记窗口周末上班吗",
    "南沙哪里可以刻公章",
    "营业执照副本可以邮寄到香港吗",
    "开公司需要买社保吗",
    "个体户可以雇佣多少人",
    "外资企业可以做个体户的股东吗",
    "农民专业合作社可以跨县吸收成员吗",
    "合伙企业可以转为有限公司吗",
    "小程序上的电子执照显示异常",
    "企业迁出后原住所的租赁合同怎么办",
    "营业执照能贴在电梯里吗",
    "税务报到和工商登记是一起的吗",
    "外国公司在南沙设常驻代表机构怎么办",
)
GAP_DISMISS_NOTES = ("非商事登记业务，已在答复中引导至相关部门", "重复提问，已有条目覆盖", "问题表述不清")

SURNAMES = "陈李黄张梁林刘吴何罗郑杨谢周冯邓曾朱许彭麦苏卢蔡余叶胡郭潘钟欧"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志文斌浩宇嘉欣晓婷俊杰锦荣家豪子健诗琪"
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "foxmail.com", "gmail.com", "sina.com", "outlook.com")
ENTERPRISE_WORDS = ("南沙", "明珠", "海港", "粤港", "湾区", "蕉门", "黄阁", "星河", "凯利", "汇智", "鼎信")
ENTERPRISE_TRADES = ("贸易", "科技", "供应链", "餐饮管理", "物流", "咨询服务", "建材", "电子商务")


# --- small tools ----------------------------------------------------------------------------------------


class _Weighted:
    def __init__(self, pairs: Iterable[tuple[Any, float]]):
        pairs = list(pairs)
        self.values = [p[0] for p in pairs]
        self.cum = list(itertools.accumulate(p[1] for p in pairs))

    def pick(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


class _BusinessClock:
    """consultation.sla's business-minute arithmetic over a calendar loaded once (the service builds a
    WorkingCalendar per call, too slow for a year of tickets); same windows, same results."""

    def __init__(self, first: dt.date, last: dt.date, tz) -> None:
        calendar = WorkingCalendar(first, last)
        self.working = {day for day in calendar.working_days()}
        self.windows = sla.business_windows()
        self.tz = tz

    def _day_windows(self, day: dt.date):
        return [
            (dt.datetime.combine(day, a, tzinfo=self.tz), dt.datetime.combine(day, b, tzinfo=self.tz))
            for a, b in self.windows
        ]

    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        if minutes <= 0:
            return start
        local = start.astimezone(self.tz)
        remaining = dt.timedelta(minutes=minutes)
        day = local.date()
        while True:
            if day in self.working:
                for opens, closes in self._day_windows(day):
                    if closes <= local:
                        continue
                    begin = max(opens, local)
                    if remaining <= closes - begin:
                        return begin + remaining
                    remaining -= closes - begin
            day += dt.timedelta(days=1)

    def between(self, a: dt.datetime, b: dt.datetime) -> int:
        if b <= a:
            return 0
        la, lb = a.astimezone(self.tz), b.astimezone(self.tz)
        total = dt.timedelta(0)
        day = la.date()
        while day <= lb.date():
            if day in self.working:
                for opens, closes in self._day_windows(day):
                    begin, end = max(opens, la), min(closes, lb)
                    if end > begin:
                        total += end - begin
            day += dt.timedelta(days=1)
        return total // dt.timedelta(minutes=1)

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.tz)
        if local.date() not in self.working:
            return False
        return any(a <= local.time() < b for a, b in self.windows)


@dataclass(slots=True)
class _Ticket:
    pk: int
    kind: str
    channel: str
    opened_at: dt.datetime
    contact: int
    subject: str
    topic: str
    terms: SlaTerms
    assignee: int | None = None
    state: str = TicketState.NEW
    priority: str = TicketPriority.NORMAL
    related_case_number: str = ""
    thread_key: str = ""
    first_due: dt.datetime | None = None
    resolution_due: dt.datetime | None = None
    first_responded_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    paused: int = 0
    escalation_level: int = 0
    escalated_at: dt.datetime | None = None
    merged_into: _Ticket | None = None
    csat_score: int | None = None
    csat_comment: str = ""
    csat_at: dt.datetime | None = None
    number: str = ""
    messages: list[dict] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)


# --- the generated year ---------------------------------------------------------------------------------


class ConsultationYear:
    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.rng = ctx.rng("consultation.year")
        self.authority: Authority = ctx.authority
        self.year = ctx.year
        self.scale = ctx.scale
        self.tz = timezone.get_default_timezone()
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.articles: list[DemoArticle] = all_articles()
        self.by_topic: dict[str, list[DemoArticle]] = defaultdict(list)
        for article in self.articles:
            self.by_topic[article.topic].append(article)
        self.version_of: dict[str, int] = {}  # article code → published version id
        self.article_pk: dict[str, int] = {}
        self.usage: list[dict] = []
        self.contacts: dict[tuple[str, str], int] = {}
        self.contact_rows: list[dict] = []
        self.msg_seq = itertools.count(1)

    # -- time and calendar --
    def _calendar(self) -> None:
        first, last = dt.date(self.year, 1, 1), dt.date(self.year + 1, 3, 31)
        try:
            self.clock = _BusinessClock(first - dt.timedelta(days=7), last, self.tz)
        except CalendarDataMissing as exc:
            raise ValueError(str(exc)) from None  # seed_demo reports a seeder's ValueError to the operator
        # A demo of the running year stops two weeks back, so every generated story has ended by now.
        self.last_day = min(dt.date(self.year, 12, 31), self.today - dt.timedelta(days=14))
        self.working_days = sorted(
            d for d in self.clock.working if d.year == self.year and d <= self.last_day
        )
        if not self.working_days:
            raise ValueError(f"{self.year} 年没有工作日数据，无法生成热线演示数据。")

    def _day_weight(self, day: dt.date, previous: dt.date | None) -> float:
        weight = WEEKDAY_WEIGHTS[day.weekday()] * MONTH_WEIGHTS[day.month - 1]
        # A gap of more than a weekend since the last working day: the day after a public holiday.
        if previous is not None and (day - previous).days > 3:
            weight *= AFTER_HOLIDAY_WEIGHT
        return weight

    def _at(self, day: dt.date, seconds: float) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.tz) + dt.timedelta(seconds=round(seconds))

    def _daily_counts(self, total: int, days: Sequence[dt.date]) -> list[int]:
        previous = None
        weights = []
        for day in days:
            weights.append(self._day_weight(day, previous))
            previous = day
        scale = total / sum(weights)
        counts = [max(0, round(self.rng.gauss(w * scale, math.sqrt(w * scale) * 0.5))) for w in weights]
        # Keep the year's total exactly at the size asked for.
        diff = total - sum(counts)
        while diff:
            i = self.rng.randrange(len(counts))
            if diff > 0:
                counts[i] += 1
                diff -= 1
            elif counts[i] > 0:
                counts[i] -= 1
                diff += 1
        return counts

    # -- people --
    def _users(self) -> bool:
        User = get_user_model()
        staff = User.objects.filter(authorities=self.authority, is_active=True).order_by("pk")
        self.agent_users = list(
            staff.filter(groups__name=ROLE_BY_CODE["hotline_agent"].name)
            .values_list("pk", flat=True)
            .distinct()
        )
        managers = list(staff.filter(groups__name=ROLE_BY_CODE["manager"].name).values_list("pk", flat=True))
        if not self.agent_users:
            return False
        self.manager = managers[0] if managers else self.agent_users[0]
        self.owners = [*self.agent_users, self.manager]
        return True

    def _name(self) -> str:
        surname = self.rng.choice(SURNAMES)
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
        return surname + given

    def _phone(self) -> str:
        if self.rng.random() < 0.82:
            return f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
        return f"020{self.rng.choice('38')}{self.rng.randrange(10**7):07d}"

    def _enterprise(self) -> str:
        return (
            f"广州{self.rng.choice(ENTERPRISE_WORDS)}{self.rng.choice(ENTERPRISE_WORDS)}"
            f"{self.rng.choice(ENTERPRISE_TRADES)}有限公司"
        )

    def _contact(self, channel: str, external_id: str, **fields) -> int:
        key = (channel, external_id)
        if key not in self.contacts:
            self.contacts[key] = len(self.contact_rows)
            self.contact_rows.append(
                {"channel": channel, "external_id": external_id, "display_name": "", "phone": "", "email": ""}
                | fields
            )
        return self.contacts[key]

    def _new_contact(self, channel: str, when: dt.datetime) -> int:
        """A contact for a new ticket: mostly someone new, sometimes one who wrote before."""
        pool = self._recent.get(channel)
        if pool and self.rng.random() < 0.12:
            return self.rng.choice(pool)
        rng = self.rng
        if channel == TicketChannel.WEB_CHAT:
            index = self._contact(channel, secrets_free_token(rng, 18), display_name="网站访客")
        elif channel == TicketChannel.WECHAT:
            openid = "o" + secrets_free_token(rng, 27)[:27]
            index = self._contact(channel, openid, display_name="微信用户")
        elif channel == TicketChannel.QQ:
            qq = str(rng.randrange(10_000_000, 3_999_999_999))
            index = self._contact(channel, f"qq:{qq}", display_name=f"QQ用户{qq[-4:]}")
        elif channel == TicketChannel.EMAIL:
            name = self._name()
            user = (
                f"{secrets_free_token(rng, 8).lower().replace('-', '').replace('_', '')}{rng.randrange(100)}"
            )
            address = f"{user}@{rng.choice(EMAIL_DOMAINS)}"
            index = self._contact(channel, address, display_name=name, email=address)
        else:  # phone
            number = self._phone()
            index = self._contact(channel, number, phone=number)
        self._recent[channel].append(index)
        if rng.random() < 0.3:
            self.contact_rows[index]["enterprise_name"] = self._enterprise()
        return index

    # -- the hotline --
    def _hotline(self) -> None:
        created = self._at(dt.date(self.year - 1, 12, 20), 10 * 3600)
        stamp = {"created_at": created, "updated_at": created}
        self.hotline_pk = self.loader.ids(HotlineNumber, 1)[0]
        self.loader.insert(
            HotlineNumber,
            [
                {
                    "id": self.hotline_pk,
                    "authority_id": self.authority.pk,
                    "number": HOTLINE_NUMBER,
                    "name": HOTLINE_NAME,
                    "service_level_seconds": 20,
                    "is_active": True,
                    **stamp,
                }
            ],
        )
        self.line_pks = self.loader.ids(HotlineLine, LINES)
        self.loader.insert(
            HotlineLine,
            [
                {
                    "id": pk,
                    "hotline_id": self.hotline_pk,
                    "position": position,
                    "label": f"{position} 号线",
                    "pbx_channel": f"SIP/line{position}",
                    "is_active": True,
                    **stamp,
                }
                for position, pk in enumerate(self.line_pks, start=1)
            ],
        )
        self.agent_pks = self.loader.ids(Agent, len(self.agent_users))
        self.agent_of_user = dict(zip(self.agent_users, self.agent_pks, strict=True))
        self.loader.insert(
            Agent,
            [
                {
                    "id": pk,
                    "authority_id": self.authority.pk,
                    "user_id": user,
                    "pbx_code": f"Agent/{1001 + i}",
                    "extension": str(8001 + i),
                    "is_active": True,
                    **stamp,
                }
                for i, (user, pk) in enumerate(zip(self.agent_users, self.agent_pks, strict=True))
            ],
        )
        shifts = []
        for day in self.working_days:
            for agent in self.agent_pks:
                for start, end in SHIFT_WINDOWS:
                    moment = dt.datetime.combine(day, start, tzinfo=self.tz)
                    shifts.append(
                        {
                            "authority_id": self.authority.pk,
                            "agent_id": agent,
                            "starts_at": moment,
                            "ends_at": dt.datetime.combine(day, end, tzinfo=self.tz),
                            "note": "",
                            "created_at": created,
                            "updated_at": created,
                        }
                    )
        self.loader.insert(Shift, shifts)

    # -- calls --
    def _case_numbers(self) -> list[tuple[dt.datetime, str]]:
        """The year's registration case numbers (what a caller asking about progress quotes)."""
        from bizreg.registration.selectors.cases import cases_visible_to

        User = get_user_model()
        manager = User.objects.filter(pk=self.manager).first()
        if manager is None:
            return []
        rows = (
            cases_visible_to(manager)
            .filter(authority=self.authority, received_at__year=self.year)
            .exclude(number="")
            .order_by("received_at")
            .values_list("received_at", "number")
        )
        return list(rows)

    def _summary(self, topic: str) -> str:
        if topic == CallTopic.OTHER:
            return self.rng.choice(OTHER_SUMMARIES)
        if topic == CallTopic.COMPLAINT:
            return f"反映{self.rng.choice(COMPLAINT_TEXTS)[0]}，已记录并解释"
        pool = self.by_topic.get(topic)
        if not pool:
            return ""
        return "咨询：" + self.rng.choice(pool).title

    def _calls(self) -> None:
        rng = self.rng
        total = max(1, round(CALLS_AT_SCALE_1 * self.scale))
        counts = self._daily_counts(total, self.working_days)
        hours = _Weighted(HOUR_WEIGHTS)
        topics = _Weighted(CALL_TOPICS)
        scores = _Weighted(SURVEY_SCORES)
        cases = self._case_numbers_cached()
        case_times = [c[0] for c in cases]
        n_agents = len(self.agent_pks)
        repeaters: list[str] = []
        self.call_rows: list[dict] = []
        self.follow_ups: list[tuple[int, dict]] = []  # (index in call_rows, row)
        for day, n in zip(self.working_days, counts, strict=True):
            offsets = sorted(hours.pick(rng) * 3600 + rng.random() * 3600 for _ in range(n))
            free_at = [0.0] * LINES
            for offset in offsets:
                offered = self._at(day, offset)
                if repeaters and rng.random() < 0.15:
                    caller = rng.choice(repeaters)
                else:
                    caller = self._phone()
                    if rng.random() < 0.1:
                        repeaters.append(caller)
                row = {
                    "authority_id": self.authority.pk,
                    "source": CallSource.ASTERISK_CDR,
                    "external_id": f"{int(offered.timestamp())}.{len(self.call_rows) + 1}",
                    "hotline_id": self.hotline_pk,
                    "line_id": None,
                    "agent_id": None,
                    "caller_number": caller,
                    "offered_at": offered,
                    "answered_at": None,
                    "ended_at": offered,
                    "wait_seconds": 0,
                    "talk_seconds": 0,
                    "hold_seconds": 0,
                    "wrap_up_seconds": 0,
                    "topic": "",
                    "summary": "",
                    "resolved": False,
                    "needs_follow_up": False,
                    "follow_up_ticket_id": None,
                    "related_case_number": "",
                    "satisfaction_score": None,
                    "satisfaction_at": None,
                    "logged_by_id": None,
                }
                # Linear hunt: the first line that is free takes the call.
                line = next((i for i in range(LINES) if free_at[i] <= offset), None)
                if line is None:
                    row["outcome"] = CallOutcome.BUSY
                    self.call_rows.append(row)
                    continue
                row["line_id"] = self.line_pks[line]
                ring = min(60, max(2, round(rng.lognormvariate(math.log(7), 0.55))))
                draw = rng.random()
                if draw < ABANDON_RATE:
                    waited = rng.randint(3, 45)
                    row.update(outcome=CallOutcome.ABANDONED, wait_seconds=waited)
                    row["ended_at"] = offered + dt.timedelta(seconds=waited)
                    free_at[line] = offset + waited
                    self.call_rows.append(row)
                    continue
                if draw < ABANDON_RATE + MISSED_RATE:
                    row.update(outcome=CallOutcome.MISSED, wait_seconds=30)
                    row["ended_at"] = offered + dt.timedelta(seconds=30)
                    free_at[line] = offset + 30
                    self.call_rows.append(row)
                    continue
                talk = min(1500, max(20, round(rng.lognormvariate(math.log(150), 0.5))))
                hold = rng.randint(10, 90) if rng.random() < 0.15 else 0
                wrap = rng.randint(15, 90)
                agent_user = self.agent_users[line % n_agents]
                answered = offered + dt.timedelta(seconds=ring)
                ended = answered + dt.timedelta(seconds=talk + hold)
                free_at[line] = offset + ring + talk + hold
                topic = topics.pick(rng)
                row.update(
                    outcome=CallOutcome.ANSWERED,
                    agent_id=self.agent_pks[line % n_agents],
                    answered_at=answered,
                    ended_at=ended,
                    wait_seconds=ring,
                    talk_seconds=talk,
                    hold_seconds=hold,
                    wrap_up_seconds=wrap,
                    topic=topic,
                    summary=self._summary(topic),
                    logged_by_id=agent_user,
                )
                if topic == CallTopic.PROGRESS and cases:
                    # A case received a few days before the call.
                    at = bisect.bisect_left(case_times, offered) - 1 - rng.randrange(0, 40)
                    if at >= 0:
                        row["related_case_number"] = cases[at][1]
                        row["summary"] = f"查询业务 {cases[at][1]} 的办理进度"
                outcome = rng.random()
                if outcome < FOLLOW_UP_RATE:
                    row["needs_follow_up"] = True
                    row["summary"] = f"{row['summary'] or '来电咨询'}。{rng.choice(FOLLOW_UP_NOTES)}"
                    self.follow_ups.append((len(self.call_rows), row))
                elif outcome < FOLLOW_UP_RATE + REFERRED_RATE:
                    row["summary"] = rng.choice(REFERRED_SUMMARIES)
                else:
                    row["resolved"] = True
                if rng.random() < SURVEY_RATE:
                    row["satisfaction_score"] = scores.pick(rng)
                    row["satisfaction_at"] = ended + dt.timedelta(seconds=rng.randint(20, 90))
                self.call_rows.append(row)

    def _write_calls(self) -> None:
        ids = self.loader.ids(Call, len(self.call_rows))
        for pk, row in zip(ids, self.call_rows, strict=True):
            row["id"] = pk
            row["created_at"] = row["updated_at"] = row["ended_at"] or row["offered_at"]
        # The agent who logged a call made its record; the demo keeps no PBX import batch for the others.
        self.loader.insert(Call, self.call_rows, history_user_of=lambda row: row["logged_by_id"])

    # -- tickets --
    def _new_ticket(
        self, *, kind: str, channel: str, opened_at: dt.datetime, contact: int, **extra
    ) -> _Ticket:
        terms = self.terms[kind]
        ticket = _Ticket(
            pk=0,
            kind=kind,
            channel=channel,
            opened_at=opened_at,
            contact=contact,
            terms=terms,
            subject=extra.pop("subject"),
            topic=extra.pop("topic", ""),
            **extra,
        )
        ticket.first_due = self.clock.add(opened_at, terms.first_response_minutes)
        ticket.resolution_due = self.clock.add(opened_at, terms.resolution_minutes)
        return ticket

    def _message(
        self,
        ticket: _Ticket,
        direction: str,
        body: str,
        at: dt.datetime,
        *,
        author: int | None = None,
        version: int | None = None,
        automatic: bool = False,
    ) -> None:
        channel_message_id = ""
        if direction == TicketMessage.Direction.INBOUND:
            seq = next(self.msg_seq)
            if ticket.channel == TicketChannel.WECHAT:
                channel_message_id = str(23_000_000_000_000_000 + seq * 7919)
            elif ticket.channel == TicketChannel.QQ:
                channel_message_id = f"qq:m{seq:08d}"
            elif ticket.channel == TicketChannel.EMAIL:
                channel_message_id = f"<{self.year}{seq:07d}.{secrets_free_token(self.rng, 10)}@mail.demo>"
                ticket.thread_key = ticket.thread_key or channel_message_id
        delivery = ""
        if direction == TicketMessage.Direction.OUTBOUND and ticket.channel in PUSH_CHANNELS:
            delivery = TicketMessage.Delivery.SENT
        ticket.messages.append(
            {
                "authority_id": self.authority.pk,
                "direction": direction,
                "channel": ticket.channel,
                "channel_message_id": channel_message_id,
                "author_id": author,
                "body": body,
                "body_html": "",
                "created_at": at,
                "cited_version_id": version,
                "is_automatic": automatic,
                "delivery": delivery,
                "delivery_error": "",
            }
        )
        if version is not None and direction == TicketMessage.Direction.OUTBOUND:
            self._use(
                version_code=version, at=at, kind=ArticleUsage.Kind.CANNED_REPLY, channel=ticket.channel
            )

    def _log(
        self, ticket: _Ticket, action: str, to_state: str, at: dt.datetime, actor, reason: str = ""
    ) -> None:
        ticket.logs.append(
            {
                "action": action,
                "from_state": ticket.state,
                "to_state": to_state,
                "actor_id": actor,
                "occurred_at": at,
                "reason": reason,
            }
        )
        ticket.state = to_state

    def _use(self, *, version_code: int, at: dt.datetime, kind: str, channel: str) -> None:
        self.usage.append(
            {
                "article_id": self._article_of_version[version_code],
                "version_id": version_code,
                "kind": kind,
                "channel": channel,
                "used_at": at,
            }
        )

    def _after(self, at: dt.datetime, lo: float, hi: float) -> dt.datetime:
        """lo–hi business minutes after `at` (a random point; the clock skips nights and rest days)."""
        return self.clock.add(at, max(1, round(self.rng.uniform(lo, hi)))) + dt.timedelta(
            seconds=self.rng.randrange(60)
        )

    def _reply_text(self, article: DemoArticle) -> str:
        return f"{self.rng.choice(GREETING_REPLIES)}{article.answer}{self.rng.choice(CLOSING_REPLIES)}"

    def _work(
        self,
        t: _Ticket,
        article: DemoArticle | None,
        agent: int,
        *,
        late: bool = False,
        not_before: dt.datetime | None = None,
        body: str = "",
    ) -> None:
        """Take the ticket, answer it (maybe after asking the citizen something), resolve and close it."""
        rng = self.rng
        terms = t.terms
        first_delay = rng.lognormvariate(math.log(min(12, terms.first_response_minutes / 3)), 0.8)
        if rng.random() < 0.03:  # a busy hour: the first answer is late
            first_delay = terms.first_response_minutes * rng.uniform(1.05, 1.6)
        first = self._after(t.opened_at, first_delay, first_delay + 1)
        t.assignee = agent
        self._log(t, "assign", TicketState.OPEN, first, agent)
        t.first_responded_at = first
        version = self.version_of.get(article.code) if article else None
        if rng.random() < 0.09:
            # Ask first, wait for the citizen (the SLA clock stops), then answer.
            self._message(
                t, TicketMessage.Direction.OUTBOUND, rng.choice(CLARIFY_REPLIES), first, author=agent
            )
            self._log(t, "wait_for_customer", TicketState.WAITING, first, agent)
            back = first + dt.timedelta(minutes=rng.uniform(10, 60 * 30))
            paused = self.clock.between(first, back)
            t.paused += paused
            t.resolution_due = self.clock.add(t.resolution_due, paused)
            self._message(t, TicketMessage.Direction.INBOUND, rng.choice(CUSTOMER_FOLLOW_UPS), back)
            self._log(t, "customer_replied", TicketState.OPEN, back, None)
            answer_at = self._after(back, 5, 90)
        else:
            answer_at = first
        if not_before is not None and answer_at < not_before:
            answer_at = self._after(not_before, 10, 240)
        if late:
            answer_at = max(answer_at, t.resolution_due + dt.timedelta(minutes=rng.uniform(30, 60 * 20)))
        elif answer_at > t.resolution_due:
            answer_at = t.resolution_due - dt.timedelta(minutes=rng.uniform(1, 30))
        if not body:
            body = self._reply_text(article) if article else rng.choice(COMPLAINT_REPLIES)
        use_version = version if version and rng.random() < 0.6 else None
        self._message(t, TicketMessage.Direction.OUTBOUND, body, answer_at, author=agent, version=use_version)
        resolved = answer_at + dt.timedelta(seconds=rng.randint(20, 240))
        self._log(t, "resolve", TicketState.RESOLVED, resolved, agent)
        t.resolved_at = resolved
        closed = self._after(resolved, 60, 3 * 420)
        self._log(t, "close", TicketState.CLOSED, closed, agent)
        t.closed_at = closed
        if rng.random() < TICKET_CSAT_RATE:
            t.csat_score = self.csat_scores.pick(rng)
            t.csat_comment = rng.choice(CSAT_COMMENTS) if t.csat_score >= 4 else "答复不够具体"
            t.csat_at = closed + dt.timedelta(minutes=rng.uniform(5, 60 * 24 * 3))

    def _ticket_moments(self, total: int) -> list[dt.datetime]:
        """Opening moments: mostly office hours, some evenings and rest days (online never closes)."""
        rng = self.rng
        first = dt.date(self.year, 1, 1)
        days = [first + dt.timedelta(days=i) for i in range((dt.date(self.year + 1, 1, 1) - first).days)]
        days = [day for day in days if day <= self.last_day]
        pick = _Weighted(
            (day, MONTH_WEIGHTS[day.month - 1] * (1.0 if day in self.clock.working else 0.18)) for day in days
        )
        moments = []
        for _ in range(total):
            day = pick.pick(rng)
            if day in self.clock.working and rng.random() < 0.82:
                hour = rng.choice((9, 9, 10, 10, 10, 11, 13, 14, 14, 15, 15, 16, 17))
            else:
                hour = rng.choice((7, 8, 12, 18, 19, 20, 20, 21, 21, 22, 23))
            moments.append(self._at(day, hour * 3600 + rng.random() * 3600))
        moments.sort()
        return moments

    def _tickets(self) -> None:
        rng = self.rng
        self._recent: dict[str, list[int]] = defaultdict(list)
        self.terms = {
            kind: sla_terms(authority_id=self.authority.pk, kind=kind) for kind in TicketKind.values
        }
        self.csat_scores = _Weighted(TICKET_CSAT_SCORES)
        channels = _Weighted(TICKET_CHANNELS)
        complaint_channels = _Weighted(COMPLAINT_CHANNELS)
        topics = _Weighted((t, w) for t, w in CALL_TOPICS if t not in (CallTopic.COMPLAINT, CallTopic.OTHER))
        self.tickets: list[_Ticket] = []
        self.answer_logs: list[dict] = []
        self.gap_asks: list[tuple[str, str, dt.datetime]] = []
        n_tickets = max(1, round(TICKETS_AT_SCALE_1 * self.scale))
        n_complaints = max(1, round(COMPLAINTS_AT_SCALE_1 * self.scale))
        kinds = [TicketKind.COMPLAINT] * n_complaints + [TicketKind.CONSULTATION] * n_tickets
        rng.shuffle(kinds)
        late_complaints = round(n_complaints * 0.02)
        escalated = max(1, round(n_complaints * 0.08))
        complaint_no = 0
        for opened, kind in zip(self._ticket_moments(len(kinds)), kinds, strict=True):
            agent = rng.choice(self.agent_users)
            if kind == TicketKind.COMPLAINT:
                complaint_no += 1
                channel = complaint_channels.pick(rng)
                text, topic = rng.choice(COMPLAINT_TEXTS)
                t = self._new_ticket(
                    kind=kind,
                    channel=channel,
                    opened_at=opened,
                    contact=self._new_contact(channel, opened),
                    subject=f"投诉：{text}"[:200],
                    topic=topic,
                    priority=TicketPriority.HIGH,
                )
                body = f"{text}。希望尽快处理并给予答复。"
                actor = agent if channel == TicketChannel.PHONE else None
                self._message(t, TicketMessage.Direction.INBOUND, body, opened, author=actor)
                self._log(t, "open", TicketState.NEW, opened, actor, reason=f"{t_label(channel)}来件")
                late = complaint_no <= late_complaints
                if late or complaint_no <= late_complaints + escalated:
                    used = round(t.terms.resolution_minutes * t.terms.escalate_at_percent / 100)
                    t.escalation_level = 1
                    t.escalated_at = self.clock.add(opened, used)
                    note = "投诉已用时限超过升级阈值，已提请科室负责人督办"
                    t.messages.append(self._note(t, note, t.escalated_at))
                    self._work(t, None, agent, late=late, not_before=t.escalated_at)
                    if late:
                        t.escalation_level = 2
                        t.escalated_at = t.resolution_due
                    # The section head answers an escalated complaint.
                    t.messages[-1]["author_id"] = self.manager
                    for entry in t.logs:
                        if entry["action"] in ("resolve", "close"):
                            entry["actor_id"] = self.manager
                else:
                    self._work(t, None, agent)
                self.tickets.append(t)
                continue
            channel = channels.pick(rng)
            topic = topics.pick(rng)
            pool = self.by_topic.get(topic) or self.articles
            article = rng.choice(pool)
            question = rng.choice((article.title, *article.variants))
            kind = TicketKind.GUIDANCE if rng.random() < 0.1 else TicketKind.CONSULTATION
            t = self._new_ticket(
                kind=kind,
                channel=channel,
                opened_at=opened,
                contact=self._new_contact(channel, opened),
                subject=question[:60],
                topic=topic,
            )
            if topic == CallTopic.PROGRESS and self.case_numbers_sample:
                t.related_case_number = rng.choice(self.case_numbers_sample)
            gap = channel in ENGINE_CHANNELS and rng.random() < 0.12
            if gap:
                # Something no article covers: handed over, and counted as a knowledge gap.
                question = rng.choice(GAP_QUESTIONS)
                t.subject, t.topic = question[:60], CallTopic.OTHER
                self.gap_asks.append((question, channel, opened))
            self._message(t, TicketMessage.Direction.INBOUND, question, opened)
            self._log(t, "open", TicketState.NEW, opened, None, reason=f"{t_label(channel)}来件")
            if channel in ENGINE_CHANNELS:
                self.answer_logs.append(
                    {
                        "authority_id": self.authority.pk,
                        "asked_at": opened,
                        "channel": channel,
                        "question": question,
                        "version_id": None if gap else self.version_of.get(article.code),
                        "score": round(rng.uniform(0.12, ENGINE_THRESHOLD - 0.01), 4),
                        "handed_over": True,
                        "latency_ms": round(rng.uniform(2.0, 18.0), 2),
                        "ticket": t,
                    }
                )
            if gap:
                self._work(t, None, agent, body=rng.choice(GAP_REPLIES))
            else:
                self._work(t, article, agent, late=rng.random() < LATE_TICKET_RATE)
            self.tickets.append(t)
        self._merge_duplicates()
        self._follow_up_tickets()

    def _note(self, t: _Ticket, body: str, at: dt.datetime) -> dict:
        return {
            "authority_id": self.authority.pk,
            "direction": TicketMessage.Direction.NOTE,
            "channel": t.channel,
            "channel_message_id": "",
            "author_id": self.manager,
            "body": body,
            "body_html": "",
            "created_at": at,
            "cited_version_id": None,
            "is_automatic": False,
            "delivery": "",
            "delivery_error": "",
        }

    def _merge_duplicates(self) -> None:
        """About 1 % of consultations: the same person wrote twice; the second is merged into the first."""
        rng = self.rng
        originals = [t for t in self.tickets if t.kind == TicketKind.CONSULTATION]
        for original in rng.sample(originals, k=max(1, len(originals) // 100)):
            opened = original.opened_at + dt.timedelta(minutes=rng.uniform(1, 20))
            dup = self._new_ticket(
                kind=original.kind,
                channel=original.channel,
                opened_at=opened,
                contact=original.contact,
                subject=original.subject,
                topic=original.topic,
            )
            self._message(dup, TicketMessage.Direction.INBOUND, original.messages[0]["body"], opened)
            self._log(dup, "open", TicketState.NEW, opened, None, reason=f"{t_label(dup.channel)}来件")
            merged = self._after(opened, 2, 30)
            dup.merged_into = original  # resolved to a pk once numbered
            self._log(
                dup,
                "merge",
                TicketState.MERGED,
                merged,
                original.assignee,
                reason="同一咨询人重复提问，合并处理",
            )
            self.tickets.append(dup)

    def _follow_up_tickets(self) -> None:
        """Calls that needed a call-back: the agent's ticket, called back and closed within a day or two."""
        for _index, row in self.follow_ups:
            agent = row["logged_by_id"]
            opened = row["ended_at"] + dt.timedelta(seconds=row["wrap_up_seconds"])
            topic_label = CallTopic(row["topic"]).label if row["topic"] else "来电"
            t = self._new_ticket(
                kind=TicketKind.FOLLOW_UP,
                channel=TicketChannel.PHONE,
                opened_at=opened,
                contact=self._contact(TicketChannel.PHONE, row["caller_number"], phone=row["caller_number"]),
                subject=f"来电跟进：{topic_label}（来电 {mask_phone(row['caller_number'])}）"[:200],
                topic=row["topic"],
                related_case_number=row["related_case_number"],
            )
            self._message(t, TicketMessage.Direction.INBOUND, row["summary"], opened, author=agent)
            self._log(t, "open", TicketState.NEW, opened, agent, reason="电话（来电跟进）来件")
            pool = self.by_topic.get(row["topic"]) or []
            article = self.rng.choice(pool) if pool else None
            self._work(t, article, agent)
            # A call-back closes by phone: no CSAT link goes out for it.
            t.csat_score, t.csat_comment, t.csat_at = None, "", None
            # Called back: the reply is what the agent told the caller on the phone.
            reply = t.messages[-1]
            reply["body"] = "已回电告知：" + (article.answer if article else "处理结果已电话告知来电人。")
            row["_ticket"] = t
            self.tickets.append(t)

    def _number_tickets(self) -> None:
        self.tickets.sort(key=lambda t: t.opened_at)
        ids = self.loader.ids(Ticket, len(self.tickets))
        per_day: Counter = Counter()
        for pk, t in zip(ids, self.tickets, strict=True):
            t.pk = pk
            day = t.opened_at.astimezone(self.tz).date()
            per_day[day] += 1
            t.number = f"ZX{self.authority.code}{day:%Y%m%d}{per_day[day]:04d}"
        self.ticket_counters = per_day
        for _index, row in self.follow_ups:
            row["follow_up_ticket_id"] = row.pop("_ticket").pk

    def _write_tickets(self) -> None:
        # Contacts first (tickets point at them).
        contact_ids = self.loader.ids(Contact, len(self.contact_rows))
        first_seen: dict[int, dt.datetime] = {}
        for t in self.tickets:
            first_seen.setdefault(t.contact, t.opened_at)
        for pk, (index, row) in zip(contact_ids, enumerate(self.contact_rows), strict=True):
            at = first_seen.get(index, self.now)
            row.update(id=pk, authority_id=self.authority.pk, created_at=at, updated_at=at)
            row.setdefault("enterprise_name", "")
        self.loader.insert(Contact, self.contact_rows)
        rows, messages, logs = [], [], []
        for t in self.tickets:
            last = max([t.opened_at] + [log["occurred_at"] for log in t.logs] + [t.csat_at or t.opened_at])
            rows.append(
                {
                    "id": t.pk,
                    "authority_id": self.authority.pk,
                    "created_at": t.opened_at,
                    "updated_at": last,
                    "number": t.number,
                    "kind": t.kind,
                    "channel": t.channel,
                    "state": t.state,
                    "priority": t.priority,
                    "subject": t.subject,
                    "contact_id": contact_ids[t.contact],
                    "assignee_id": t.assignee,
                    "topic": t.topic,
                    "related_case_number": t.related_case_number,
                    "thread_key": t.thread_key,
                    "opened_at": t.opened_at,
                    "first_response_due_at": t.first_due,
                    "resolution_due_at": t.resolution_due,
                    "first_responded_at": t.first_responded_at,
                    "resolved_at": t.resolved_at,
                    "closed_at": t.closed_at,
                    "waiting_since": None,
                    "paused_business_minutes": t.paused,
                    "escalation_level": t.escalation_level,
                    "escalated_at": t.escalated_at,
                    "merged_into_id": t.merged_into.pk if t.merged_into else None,
                    "csat_token": secrets.token_urlsafe(32),
                    "csat_score": t.csat_score,
                    "csat_comment": t.csat_comment,
                    "csat_at": t.csat_at,
                }
            )
            for message in t.messages:
                messages.append({**message, "ticket_id": t.pk})
            for log in t.logs:
                logs.append({**log, "ticket_id": t.pk})
        # Whoever opened the ticket made it: the agent who took the call, no user for what the public sent.
        opened_by = {t.pk: t.logs[0]["actor_id"] for t in self.tickets}
        self.loader.insert(Ticket, rows, history_user_of=lambda row: opened_by[row["id"]])
        self.loader.insert(TicketMessage, sorted(messages, key=lambda m: m["created_at"]))
        self.loader.insert(TicketTransitionLog, sorted(logs, key=lambda row: row["occurred_at"]))
        self.loader.insert(
            TicketNumberCounter,
            [
                {"authority_id": self.authority.pk, "day": day, "last": last}
                for day, last in sorted(self.ticket_counters.items())
            ],
        )

    # -- knowledge base --
    def _knowledge_base(self) -> None:
        rng = self.rng
        n = len(self.articles)
        article_ids = self.loader.ids(Article, n)
        # A fifth were revised once: v1 superseded by v2.
        revised = {a.code for a in rng.sample(self.articles, k=n // 5)}
        versions_needed = n + len(revised)
        version_ids = iter(self.loader.ids(ArticleVersion, versions_needed))
        stale = set(rng.sample(range(n), k=max(1, round(n * 0.05))))
        period = review_period_days()
        articles, versions, logs = [], [], []
        self._article_of_version: dict[int, int] = {}
        base = dt.datetime(self.year - 1, 3, 1, 10, tzinfo=self.tz)
        for i, (pk, article) in enumerate(zip(article_ids, self.articles, strict=True)):
            owner = rng.choice(self.owners)
            created = base + dt.timedelta(days=rng.uniform(0, 270), hours=rng.uniform(0, 6))
            numbers = (1, 2) if article.code in revised else (1,)
            published_pk = None
            moment = created
            for number in numbers:
                vpk = next(version_ids)
                submitted = moment + dt.timedelta(hours=rng.uniform(1, 30))
                reviewed = submitted + dt.timedelta(hours=rng.uniform(1, 48))
                current = number == numbers[-1]
                versions.append(
                    {
                        "id": vpk,
                        "article_id": pk,
                        "number": number,
                        "state": ArticleVersionState.PUBLISHED if current else ArticleVersionState.SUPERSEDED,
                        "title": article.title,
                        "question_variants": article.question_variants,
                        "answer": article.answer,
                        "legal_basis": article.legal_basis,
                        "case_types": list(article.case_types),
                        "topic": article.topic,
                        "visibility": article.visibility,
                        "author_id": owner,
                        "created_at": moment,
                        "submitted_at": submitted,
                        "reviewer_id": self.manager,
                        "reviewed_at": reviewed,
                        "review_comment": "内容准确，同意发布" if current else "同意",
                        "published_at": reviewed,
                    }
                )
                self._article_of_version[vpk] = pk
                logs += [
                    _alog(vpk, "create" if number == 1 else "draft", "draft", "draft", owner, moment),
                    _alog(vpk, "submit", "draft", "in_review", owner, submitted),
                    _alog(vpk, "publish", "in_review", "published", self.manager, reviewed),
                ]
                if not current:
                    # Revised in the demo year: the old version superseded when the new one was published.
                    moment = dt.datetime(self.year, 1, 1, 10, tzinfo=self.tz) + dt.timedelta(
                        days=rng.uniform(0, 330)
                    )
                    later = moment + dt.timedelta(hours=rng.uniform(2, 60))
                    logs.append(_alog(vpk, "supersede", "published", "superseded", self.manager, later))
                else:
                    published_pk = vpk
                    last_published = reviewed
            if i in stale:
                review_by = self.today - dt.timedelta(days=rng.randint(1, 60))
                notified = dt.datetime.combine(review_by + dt.timedelta(days=1), dt.time(2), tzinfo=self.tz)
            else:
                review_by = self.today + dt.timedelta(days=rng.randint(5, period))
                notified = None
                confirmed = dt.datetime.combine(
                    review_by - dt.timedelta(days=period), dt.time(10), tzinfo=self.tz
                ) + dt.timedelta(minutes=rng.randrange(420))
                if confirmed > last_published:
                    logs.append(
                        _alog(published_pk, "confirm_current", "published", "published", owner, confirmed)
                    )
            self.version_of[article.code] = published_pk
            self.article_pk[article.code] = pk
            articles.append(
                {
                    "id": pk,
                    "authority_id": self.authority.pk,
                    "created_at": created,
                    "updated_at": max(created, last_published),
                    "code": article.code,
                    "owner_id": owner,
                    "published_version_id": published_pk,
                    "review_by": review_by,
                    "is_retired": False,
                    "usage_count": 0,
                    "stale_notified_at": notified,
                }
            )
        self.article_rows = articles
        self.version_rows = versions
        self.article_logs = logs

    def _engine_answers(self) -> None:
        """Questions the engine answered with confidence (no ticket): AnswerLog + usage rows."""
        rng = self.rng
        total = max(1, round(ANSWER_LOGS_AT_SCALE_1 * self.scale))
        public = [a for a in self.articles if a.visibility == "public"]
        weights = _Weighted((a, 1.0 / (1 + i % 40)) for i, a in enumerate(public))  # a long tail
        chan = _Weighted(((TicketChannel.WEB_CHAT, 55), (TicketChannel.WECHAT, 38), (TicketChannel.QQ, 7)))
        for at in self._ticket_moments(total):
            article = weights.pick(rng)
            channel = chan.pick(rng)
            version = self.version_of[article.code]
            self.answer_logs.append(
                {
                    "authority_id": self.authority.pk,
                    "asked_at": at,
                    "channel": channel,
                    "question": rng.choice((article.title, *article.variants)),
                    "version_id": version,
                    "score": round(rng.uniform(ENGINE_THRESHOLD, 0.98), 4),
                    "handed_over": False,
                    "latency_ms": round(rng.uniform(1.5, 14.0), 2),
                    "ticket": None,
                }
            )
            self._use(version_code=version, at=at, kind=ArticleUsage.Kind.ENGINE_ANSWER, channel=channel)

    def _gaps(self) -> list[dict]:
        rng = self.rng
        asked: dict[str, dict] = {}
        for question, channel, at in sorted(self.gap_asks, key=lambda g: g[2]):
            key = normalize_question(question)
            gap = asked.get(key)
            if gap is None:
                asked[key] = {
                    "question": question,
                    "normalized_question": key,
                    "channel": channel,
                    "first_asked_at": at,
                    "last_asked_at": at,
                    "occurrences": 1,
                    "best_score": round(rng.uniform(0.1, ENGINE_THRESHOLD - 0.02), 4),
                }
            else:
                gap["occurrences"] += 1
                gap["last_asked_at"] = at
        # Every gap question at least once, so the list is full at any scale.
        start = dt.datetime(self.year, 11, 1, 10, tzinfo=self.tz)
        for question in GAP_QUESTIONS:
            key = normalize_question(question)
            if key not in asked:
                at = start + dt.timedelta(days=rng.uniform(0, 58), minutes=rng.randrange(400))
                asked[key] = {
                    "question": question,
                    "normalized_question": key,
                    "channel": rng.choice(ENGINE_CHANNELS),
                    "first_asked_at": at,
                    "last_asked_at": at,
                    "occurrences": 1,
                    "best_score": round(rng.uniform(0.1, ENGINE_THRESHOLD - 0.02), 4),
                }
        rows = sorted(asked.values(), key=lambda g: g["first_asked_at"])
        handled = rows[: max(0, len(rows) - OPEN_GAPS)]
        for gap in rows:
            gap.update(
                authority_id=self.authority.pk,
                created_at=gap["first_asked_at"],
                updated_at=gap["last_asked_at"],
                status=KnowledgeGap.Status.OPEN,
                best_version_id=None,
                covered_by_id=None,
                ticket_id=None,
                handled_by_id=None,
                handled_at=None,
                handling_note="",
            )
        for gap in handled:
            at = gap["last_asked_at"] + dt.timedelta(days=rng.uniform(1, 10))
            if rng.random() < 0.6:
                code = rng.choice(self.articles).code
                gap.update(
                    status=KnowledgeGap.Status.COVERED,
                    covered_by_id=self.article_pk[code],
                    handling_note=f"已补充到条目 {code}",
                )
            else:
                gap.update(status=KnowledgeGap.Status.DISMISSED, handling_note=rng.choice(GAP_DISMISS_NOTES))
            gap.update(handled_by_id=self.manager, handled_at=at, updated_at=at)
        return rows

    def _write_knowledge_base(self) -> None:
        self.loader.insert(Article, self.article_rows, history_user_of=lambda row: row["owner_id"])
        self.loader.insert(ArticleVersion, self.version_rows)
        self.loader.insert(
            ArticleTransitionLog, sorted(self.article_logs, key=lambda row: row["occurred_at"])
        )
        existing = set(Synonym.objects.values_list("term", flat=True))
        stamp = self._at(dt.date(self.year - 1, 12, 15), 10 * 3600)
        self.synonyms_added = self.loader.insert(
            Synonym,
            [
                {"term": term, "canonical": canonical, "created_at": stamp, "updated_at": stamp}
                for term, canonical in SYNONYMS
                if term not in existing
            ],
        )

    def _write_usage_and_logs(self) -> None:
        self.usage.sort(key=lambda row: row["used_at"])
        self.loader.insert(ArticleUsage, self.usage)
        counts = Counter(row["article_id"] for row in self.usage)
        # One UPDATE per distinct count (a few dozen), not one per article.
        by_count: dict[int, list[int]] = defaultdict(list)
        for article_id, count in counts.items():
            by_count[count].append(article_id)
        for count, pks in by_count.items():
            Article.objects.filter(pk__in=pks).update(usage_count=count)
        for row in self.answer_logs:
            ticket = row.pop("ticket")
            row["ticket_id"] = ticket.pk if ticket else None
        self.answer_logs.sort(key=lambda row: row["asked_at"])
        self.loader.insert(AnswerLog, self.answer_logs)
        self.loader.insert(KnowledgeGap, self._gaps())

    # -- all of it --
    def run(self) -> int:
        import time

        started = time.monotonic()

        def log(message: str) -> None:
            self.ctx.log(f"  {message}（{time.monotonic() - started:.1f} 秒）")

        if HotlineNumber.objects.filter(authority=self.authority, number=HOTLINE_NUMBER).exists():
            self.ctx.log(f"  热线 {HOTLINE_NUMBER} 已存在，未改动")
            return 0
        if not self._users():
            self.ctx.log("  没有本登记机关的咨询坐席账号，跳过咨询演示数据")
            return 0
        self._calendar()
        self.loader = RawLoader(history=True, history_user=self.manager, history_reason=HISTORY_REASON)
        self._hotline()
        self._knowledge_base()
        self._calls()
        log(f"生成来电 {len(self.call_rows):,} 个")
        cases = self._case_numbers_cached()
        self.case_numbers_sample = [number for _at, number in cases[:: max(1, len(cases) // 500)]]
        self._tickets()
        self._engine_answers()
        self._number_tickets()
        log(f"生成在线工单 {len(self.tickets):,} 件")
        self._write_knowledge_base()
        self._write_calls()
        self._write_tickets()
        self._write_usage_and_logs()
        kb_revision_bump(self.authority.pk)
        if self.synonyms_added:
            # Synonyms are shared by every authority's index.
            for pk in Authority.objects.exclude(pk=self.authority.pk).values_list("pk", flat=True):
                kb_revision_bump(pk)
        log(f"写入热线、来电、工单与知识库：共 {self.loader.rows:,} 行")
        return self.loader.rows

    def _case_numbers_cached(self) -> list[tuple[dt.datetime, str]]:
        if not hasattr(self, "_cases"):
            self._cases = self._case_numbers()
        return self._cases


def t_label(channel: str) -> str:
    return TicketChannel(channel).label


def _alog(version: int, action: str, from_state: str, to_state: str, actor: int, at: dt.datetime) -> dict:
    return {
        "version_id": version,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "actor_id": actor,
        "occurred_at": at,
        "reason": "",
    }


_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def secrets_free_token(rng: random.Random, length: int) -> str:
    """An identifier-looking string from the seeded generator (openids, visitor keys): not a secret."""
    return "".join(rng.choice(_TOKEN_ALPHABET) for _ in range(length))


@register_seeder("consultation.year", after=("accounts.demo_users", "registration.year"))
def seed_consultation_year(ctx: DemoContext) -> int:
    return ConsultationYear(ctx).run()
