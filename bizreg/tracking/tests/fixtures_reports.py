"""Test data of the issues, the periodic report and the metrics: the officer, the manager, a clerk, an
officer of another authority, two departments, and a hand-counted first quarter of 2023 (rows written
directly: the report only reads them).

A test module takes the fixtures with `from bizreg.tracking.tests.fixtures_reports import *` (only the
fixtures are exported, see __all__) and imports the plain helpers by name.

The quarter (authority A, 1 Jan – 31 Mar 2023), hand-counted:

visits   plans due: P1 new 20 Jan (done), P2 new 10 Feb (assigned), P3 capital 5 Mar (done),
         P6 capital 25 Mar (open); P4 move-out 20 Mar cancelled and P5 new 10 Apr do not count → 4 due.
         submitted visits: V1 (P1, on site, 18 Jan), V3 (no plan, on site, 15 Feb), V2 (P3, phone, 1 Mar);
         V4 is a draft, V5 is in April → 3 done; of the 4 plans due, P1 and P3 are done → completion
         2 ÷ 4 = 50.00 %. March alone: due P3, P6 → 2; P3 done → 50.00 %.
appeals  raised in Q1: A1 A2 A3 A4 A6 A7 → 6. closed in Q1: A1 (on time, 5), A2 (late, 2), A3 (on time, 4),
         A5 (raised Dec, on time, no rating) → 4 closed, 3 on time = 75.00 %; rated 3, satisfied 2 = 66.67 %;
         average (5 + 2 + 4) ÷ 3 = 3.67. Overdue on 31 Mar: A4 (due 15 Mar, open), A7 (due 20 Jan, closed only
         on 5 Apr) → 2. March alone: closed A2 (late), A3 (on time) → 50.00 %; satisfied 1 of 2 → 50.00 %.
migration in: 10 Jan (I), 5 Feb (C), 12 Mar (I); out: 20 Feb (I, cost), 25 Mar (F, policy) → 3 in, 2 out,
         net 1. Outside: out 30 Dec 2022, in 1 Apr 2023; another authority's out in Feb. March: 1 in, 1 out.
watch    flagged in Q1: enquiry 15 Jan, appeals 2 Feb → 2 new; one flagged Nov 2022 still watching → 3
         enterprises watched at the end.
issues   I1 found 1 Feb, measure done 1 Mar, resolved 5 Mar; I2 found 10 Mar, measure due 20 Mar still
         planned; I3 found and resolved in 2022 → found 2, resolved 1, unresolved 1, measures 2, done 1,
         overdue 1.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from pypdf import PdfReader

from bizreg.testing.factories import EnterpriseFactory
from bizreg.tracking.models import (
    Appeal,
    Department,
    Migration,
    PlanState,
    Visit,
    VisitPlan,
    WatchEntry,
)
from bizreg.tracking.services import issues as issue_services

__all__ = [
    "private_media",
    "officer",
    "manager",
    "clerk",
    "department_member",
    "stranger",
    "department",
    "other_department",
    "company",
    "quarter",
]

TZ = ZoneInfo("Asia/Shanghai")
D = dt.date
Q1 = (D(2023, 1, 1), D(2023, 4, 1))
MARCH = (D(2023, 3, 1), D(2023, 4, 1))


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def pdf_text(data: bytes) -> str:
    """The PDF's text without line breaks and spaces (CJK lines wrap anywhere)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\n", "").replace(" ", "")


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.footer.paragraphs]
    return "".join(parts).replace("\n", "").replace(" ", "")


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Stored reports go to a per-test folder, not the shared var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def officer(make_user):
    return make_user("enterprise_officer", username="rpt_officer", display_name="陈专员")


@pytest.fixture
def manager(make_user):
    return make_user("manager", username="rpt_manager", display_name="周科长")


@pytest.fixture
def clerk(make_user):
    return make_user("registration_clerk", username="rpt_clerk")


@pytest.fixture
def department_member(make_user):
    return make_user("department_viewer", username="rpt_member")


@pytest.fixture
def stranger(make_user, other_authority):
    """An enterprise-service officer of another authority."""
    return make_user("enterprise_officer", authorities=[other_authority], username="rpt_stranger")


@pytest.fixture
def department(authority):
    return Department.objects.create(authority=authority, name="区发展和改革局")


@pytest.fixture
def other_department(authority):
    return Department.objects.create(authority=authority, name="区税务局")


@pytest.fixture
def company(authority):
    return EnterpriseFactory(authority=authority, name="广州南沙报告测试科技有限公司")


# --- row builders ----------------------------------------------------------------------------------------


def plan(
    authority, enterprise, reason: str, due_on: dt.date, state: str = PlanState.OPEN, key: str = ""
) -> VisitPlan:
    return VisitPlan.objects.create(
        authority=authority,
        enterprise=enterprise,
        reason=reason,
        trigger="测试",
        trigger_key=key or f"{reason}:{due_on.isoformat()}",
        state=state,
        planned_on=due_on - dt.timedelta(days=30),
        due_on=due_on,
    )


_numbers = {"visit": 0, "appeal": 0}


def visit(
    authority, enterprise, officer, visited_on: dt.date, *, plan=None, method="on_site", state="submitted"
):
    _numbers["visit"] += 1
    return Visit.objects.create(
        authority=authority,
        number=f"走{visited_on.year}{_numbers['visit']:05d}",
        plan=plan,
        enterprise=enterprise,
        officer=officer,
        method=method,
        visited_on=visited_on,
        findings="经营正常。",
        state=state,
        submitted_at=at(visited_on) if state == "submitted" else None,
    )


def appeal(
    authority,
    enterprise,
    officer,
    raised_on: dt.date,
    category: str,
    *,
    department=None,
    due_on=None,
    state="registered",
    closed_on=None,
    on_time=None,
    satisfaction=None,
    title="诉求",
):
    _numbers["appeal"] += 1
    return Appeal.objects.create(
        authority=authority,
        number=f"诉{raised_on.year}{_numbers['appeal']:05d}",
        enterprise=enterprise,
        category=category,
        title=title,
        description="诉求内容",
        contact_name="王五",
        contact_phone="13912345678",
        state=state,
        raised_on=raised_on,
        raised_by=officer,
        department=department,
        routed_on=raised_on if department else None,
        due_on=due_on,
        feedback="已办理" if closed_on else "",
        closed_at=at(closed_on) if closed_on else None,
        closed_on_time=on_time,
        satisfaction=satisfaction,
    )


_cases = {"n": 0}


def migration(
    authority, direction: str, moved_on: dt.date, industry: str, region: str, reason: str = "unknown"
):
    _cases["n"] += 1
    return Migration.objects.create(
        authority=authority,
        direction=direction,
        enterprise_name=f"迁移测试{_cases['n']}有限公司",
        uscc=f"91440115MA{_cases['n']:08d}",
        case_number=f"QY{moved_on:%Y%m%d}{_cases['n']:05d}",
        moved_on=moved_on,
        industry=industry,
        entity_type="llc",
        counterpart_authority="某地市场监督管理局",
        counterpart_region=region,
        reason=reason,
    )


def watch(authority, enterprise, rule: str, flagged_on: dt.date, state: str = "watching"):
    return WatchEntry.objects.create(
        authority=authority,
        enterprise=enterprise,
        rule=rule,
        detail="测试",
        flagged_on=flagged_on,
        state=state,
    )


def make_issue(authority, officer, *, title: str, found_on: dt.date, category: str = "policy"):
    return issue_services.issue_create(
        authority=authority,
        actor=officer,
        title=title,
        category=category,
        description=f"{title}的描述",
        owner=officer,
        found_on=found_on,
    )


@pytest.fixture
def quarter(authority, other_authority, officer, department, other_department):
    """The hand-counted first quarter of 2023 (see the module docstring); returns the rows by name."""
    firms = [EnterpriseFactory(authority=authority) for _ in range(8)]
    rows = {}
    rows["P1"] = plan(authority, firms[0], "new", D(2023, 1, 20), PlanState.DONE)
    rows["P2"] = plan(authority, firms[1], "new", D(2023, 2, 10), PlanState.ASSIGNED)
    rows["P3"] = plan(authority, firms[2], "capital", D(2023, 3, 5), PlanState.DONE)
    rows["P4"] = plan(authority, firms[3], "move_out", D(2023, 3, 20), PlanState.CANCELLED)
    rows["P5"] = plan(authority, firms[4], "new", D(2023, 4, 10), PlanState.DONE)
    rows["P6"] = plan(authority, firms[5], "capital", D(2023, 3, 25))
    rows["V1"] = visit(authority, firms[0], officer, D(2023, 1, 18), plan=rows["P1"])
    rows["V2"] = visit(authority, firms[2], officer, D(2023, 3, 1), plan=rows["P3"], method="phone")
    rows["V3"] = visit(authority, firms[6], officer, D(2023, 2, 15))
    rows["V4"] = visit(authority, firms[1], officer, D(2023, 2, 20), plan=rows["P2"], state="draft")
    rows["V5"] = visit(authority, firms[4], officer, D(2023, 4, 2), plan=rows["P5"])

    a = dict(department=department)
    rows["A1"] = appeal(
        authority, firms[0], officer, D(2023, 1, 5), "policy", **a, due_on=D(2023, 1, 19), state="closed",
        closed_on=D(2023, 1, 18), on_time=True, satisfaction=5, title="政策兑现",
    )  # fmt: skip
    rows["A2"] = appeal(
        authority, firms[1], officer, D(2023, 2, 1), "policy", **a, due_on=D(2023, 2, 15), state="closed",
        closed_on=D(2023, 3, 10), on_time=False, satisfaction=2,
    )  # fmt: skip
    rows["A3"] = appeal(
        authority, firms[2], officer, D(2023, 2, 15), "tax", department=other_department,
        due_on=D(2023, 3, 1), state="closed", closed_on=D(2023, 3, 1), on_time=True, satisfaction=4,
    )  # fmt: skip
    rows["A4"] = appeal(
        authority, firms[3], officer, D(2023, 3, 1), "finance", department=other_department,
        due_on=D(2023, 3, 15), state="routed", title="融资对接",
    )  # fmt: skip
    rows["A5"] = appeal(
        authority, firms[4], officer, D(2022, 12, 20), "labour", state="closed", due_on=D(2022, 12, 20),
        closed_on=D(2023, 1, 10), on_time=True,
    )  # fmt: skip
    rows["A6"] = appeal(authority, firms[5], officer, D(2023, 3, 20), "premises", state="withdrawn")
    rows["A7"] = appeal(
        authority, firms[6], officer, D(2023, 1, 10), "other", **a, due_on=D(2023, 1, 20), state="closed",
        closed_on=D(2023, 4, 5), on_time=False, satisfaction=3, title="道路改造",
    )  # fmt: skip

    migration(authority, "in", D(2023, 1, 10), "I", "广州市（市内）")
    migration(authority, "in", D(2023, 2, 5), "C", "广东省（省内）")
    migration(authority, "in", D(2023, 3, 12), "I", "外省")
    migration(authority, "out", D(2023, 2, 20), "I", "外省", "cost")
    migration(authority, "out", D(2023, 3, 25), "F", "广东省（省内）", "policy")
    migration(authority, "out", D(2022, 12, 30), "I", "外省", "talent")
    migration(authority, "in", D(2023, 4, 1), "I", "外省")
    migration(other_authority, "out", D(2023, 2, 11), "I", "外省", "cost")

    watch(authority, firms[0], "enquiry", D(2023, 1, 15))
    watch(authority, firms[1], "appeals", D(2023, 2, 2))
    watch(authority, firms[2], "address", D(2022, 11, 1))

    i1 = make_issue(authority, officer, title="开办企业银行开户慢", found_on=D(2023, 2, 1))
    i1 = issue_services.issue_analyse(issue=i1, actor=officer, analysis="银行网点预约名额不足。")
    m1 = issue_services.measure_add(
        issue=i1,
        actor=officer,
        description="协调银行增设开户专窗",
        due_on=D(2023, 3, 1),
        owner_department=department,
    )
    issue_services.measure_done(measure=m1, actor=officer, done_on=D(2023, 3, 1))
    rows["I1"] = issue_services.issue_resolve(issue=i1, actor=officer, resolved_on=D(2023, 3, 5))
    i2 = make_issue(
        authority, officer, title="园区停车位紧张", found_on=D(2023, 3, 10), category="infrastructure"
    )
    i2 = issue_services.issue_analyse(issue=i2, actor=officer, analysis="园区配建车位不足。")
    issue_services.measure_add(issue=i2, actor=officer, description="协调临时停车场", due_on=D(2023, 3, 20))
    rows["I2"] = i2
    i3 = make_issue(authority, officer, title="旧问题", found_on=D(2022, 10, 1))
    i3 = issue_services.issue_analyse(issue=i3, actor=officer, analysis="旧分析。")
    m3 = issue_services.measure_add(issue=i3, actor=officer, description="旧措施", due_on=D(2022, 11, 1))
    issue_services.measure_done(measure=m3, actor=officer, done_on=D(2022, 11, 1))
    rows["I3"] = issue_services.issue_resolve(issue=i3, actor=officer, resolved_on=D(2022, 12, 1))
    return rows
