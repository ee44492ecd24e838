"""The window's work in hand, for whoever opens the demo.

The demo year is worked to its end (core.demo), so without this the clerk's due list, the pre-review
queue, 待跟进 and the manager's extension queue would all be empty. Seeder `registration.today` receives
nine cases through the real services, over the three working days before the day the demo is seeded
(core.demo.simulated_now), and takes each to a different open step: received, returned for correction
(一次性告知, with its follow-up when it came online), pre-reviewed, accepted (due on the next working days)
and one accepted case whose clerk asked the head for an extension. None is decided, so the register is not
touched and no figure of the demo year changes. They are dated when the demo was seeded: opened weeks
later they are overdue, as cases nobody took up would be.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from bizreg.core.demo import DemoContext, register_seeder, simulated_now
from bizreg.core.identifiers import build_resident_id
from bizreg.core.workdays import add_working_days
from bizreg.enterprises.models import Enterprise, EnterpriseStatus, Street
from bizreg.registration.models import OPEN_STATES, Channel, MaterialRequirement, RegistrationCase
from bizreg.registration.services import cases as case_services

# A step: (action, working days before the seed day it was taken (1 = the last one), minutes into the day).
Step = tuple[str, int, int]


@dataclass(frozen=True)
class _Spec:
    case_type: str
    channel: str
    received: int  # working days before the seed day (1 = the last working day)
    steps: tuple[Step, ...] = ()
    deficiencies: tuple[str, ...] = ()
    extension_reason: str = ""
    applicant: tuple[str, str] = ("", "")


CASES = (
    _Spec("establishment", Channel.WINDOW, 1, applicant=("周晓琳", "13926481375")),
    _Spec("change", Channel.ONE_STOP_ONLINE, 1, applicant=("黎振华", "13711824096")),
    _Spec(
        "establishment",
        Channel.FULL_ELECTRONIC,
        2,
        steps=(("return_for_correction", 2, 150),),
        deficiencies=("公司章程未经全体股东签署", "住所使用证明的房屋地址与申请书不一致"),
        applicant=("邓嘉欣", "15018827364"),
    ),
    _Spec(
        "filing",
        Channel.WINDOW,
        1,
        steps=(("return_for_correction", 1, 40),),
        deficiencies=("联络员身份证明复印件不清晰，请重新提交",),
        applicant=("罗伟强", "13602289517"),
    ),
    _Spec(
        "change", Channel.WINDOW, 1, steps=(("pass_pre_review", 1, 30),), applicant=("谭美玲", "13825563180")
    ),
    _Spec(
        "establishment",
        Channel.WINDOW,
        3,
        steps=(("pass_pre_review", 3, 35), ("accept", 3, 50)),
        applicant=("冯子健", "13560092846"),
    ),
    _Spec(
        "change",
        Channel.ONE_STOP_ONLINE,
        2,
        steps=(("pass_pre_review", 2, 90), ("accept", 2, 110)),
        applicant=("曾慧敏", "18620135597"),
    ),
    _Spec(
        "filing",
        Channel.WINDOW,
        1,
        steps=(("pass_pre_review", 1, 40), ("accept", 1, 55)),
        applicant=("何志明", "13794415028"),
    ),
    _Spec(
        "establishment",
        Channel.WINDOW,
        3,
        steps=(("pass_pre_review", 3, 120), ("accept", 3, 140), ("request_extension", 1, 200)),
        extension_reason="拟设立企业的股东为境外企业，主体资格公证认证文件须向出具机关核实",
        applicant=("苏国栋", "13318860742"),
    ),
)
FILING_ITEMS = "联络员备案、章程修正案备案"
CHANGED_ADDRESSES = ("广州市南沙区港前大道南 162 号 1201 房", "广州市南沙区金隆路 37 号 505 房")
NEW_NAMES = (
    "广州南沙瀚海供应链管理有限公司",
    "广州市南沙区晨曦文化传播有限公司",
    "广州南沙启航智能科技有限公司",
)


class _TodaysWork:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.clerk = get_user_model().objects.filter(username="clerk").first()
        self.tz = timezone.get_default_timezone()
        # The three working days before the seed day, the latest first.
        self.days = [add_working_days(timezone.localdate(), -back) for back in (1, 2, 3)]
        self.street = (
            Street.objects.filter(division_code=ctx.authority.division_code).order_by("code").first()
        )
        self.new_names = iter(NEW_NAMES)
        self.addresses = iter(CHANGED_ADDRESSES)
        # Active companies no case is open on and no investigation has locked.
        open_cases = RegistrationCase.objects.filter(state__in=OPEN_STATES).exclude(enterprise=None)
        self.entries = iter(
            list(
                Enterprise.objects.filter(authority=ctx.authority, status=EnterpriseStatus.ACTIVE, locks=None)
                .exclude(pk__in=open_cases.values("enterprise_id"))
                .exclude(entity_type__in=("individual", "branch"))
                .order_by("-established_on", "pk")[:20]
            )
        )

    def at(self, back: int, minutes: int) -> dt.datetime:
        """`minutes` after 09:00 of the working day `back` working days before the seed day."""
        start = dt.datetime.combine(self.days[back - 1], dt.time(9), tzinfo=self.tz)
        return start + dt.timedelta(minutes=minutes)

    def _data(self, spec: _Spec, number: int) -> dict:
        name, phone = spec.applicant
        data = {
            "case_type": spec.case_type,
            "channel": spec.channel,
            "applicant_name": name,
            "applicant_id_number": build_resident_id(
                "440115", dt.date(1982, 1, 1) + dt.timedelta(days=397 * number), 31 + number
            ),
            "applicant_phone": phone,
            "materials": list(
                MaterialRequirement.objects.filter(case_type=spec.case_type, is_active=True, mandatory=True)
                .order_by("order")
                .values_list("code", flat=True)
            ),
        }
        if spec.case_type == "establishment":
            data["enterprise_name"] = next(self.new_names, f"广州南沙演示{number}商贸有限公司")
            data["requested_changes"] = {
                "entity_type": "llc",
                "legal_rep_name": name,
                "legal_rep_id_number": data["applicant_id_number"],
                "registered_capital": "1000000",
                "industry": "L",
                "address": "广州市南沙区海滨路 171 号 1808 房",
                "street": self.street.pk,
                "business_scope": "一般项目：企业管理咨询；信息咨询服务（不含许可类信息咨询服务）。",
            }
        else:
            data["enterprise"] = next(self.entries).pk
            data["requested_changes"] = (
                {"filing_items": FILING_ITEMS}
                if spec.case_type == "filing"
                else {"address": next(self.addresses, "广州市南沙区进港大道 99 号"), "street": self.street.pk}
            )
        return data

    def run(self) -> int:
        if self.clerk is None or self.street is None:
            self.ctx.log("  没有窗口人员演示账号或街道数据，跳过当前在办业务")
            return 0
        # Every intake and step in the order of its time, across the cases: the notices are numbered in
        # the order they are issued, so a day's acceptance notice must not be numbered after a later day's.
        events = []
        for number, spec in enumerate(CASES, start=1):
            # Received in the first half hour (3 minutes apart); every step comes after.
            events.append((self.at(spec.received, 3 * number), number, "intake"))
            events += [(self.at(back, minutes), number, action) for action, back, minutes in spec.steps]
        cases = {}
        for moment, number, action in sorted(events):
            spec = CASES[number - 1]
            with simulated_now(moment):
                if action == "intake":
                    cases[number] = case_services.case_intake(
                        authority=self.ctx.authority, actor=self.clerk, data=self._data(spec, number)
                    )
                elif action == "request_extension":
                    case_services.case_extension_request(
                        case=cases[number], actor=self.clerk, reason=spec.extension_reason
                    )
                else:
                    extra = {"deficiencies": list(spec.deficiencies)} if spec.deficiencies else {}
                    cases[number] = case_services.case_transition(
                        case=cases[number], action=action, actor=self.clerk, **extra
                    )
        self.ctx.log(f"  当前在办登记业务 {len(CASES)} 件（近 3 个工作日收件）")
        return len(CASES)


@register_seeder(
    "registration.today",
    after=(
        "registration.year",
        "investigations.year",
        "tracking.year",
        "archives.year",
        "consultation.year",
        "performance.year",
    ),
)
def seed_registration_today(ctx: DemoContext) -> int:
    return _TodaysWork(ctx).run()
