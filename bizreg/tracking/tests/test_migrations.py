"""Migration analysis: the region rule, the sync from the registration cases (idempotent, with the reasons
learnt at visits), the analysis figures against hand-computed counts, and the pages (who may open them,
the period picker's bad input, the list's filters and Excel export)."""

# ruff: noqa: F811 — the shared fixtures are imported from fixtures_migrations and requested by name

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bizreg.registration.models import CaseState
from bizreg.tracking.models import Migration, MigrationDirection, MoveOutReason, VisitState
from bizreg.tracking.selectors.migrations import MigrationFilters, migration_analysis, migration_listing
from bizreg.tracking.services.migrations import counterpart_region, migrations_sync
from bizreg.tracking.tests.fixtures_migrations import *  # noqa: F403
from bizreg.tracking.tests.fixtures_migrations import aware

pytestmark = pytest.mark.django_db

NANSHA = "440115"


# --- the region rule -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "region"),
    [
        ("广州市天河区市场监督管理局", "广州市（市内）"),
        ("广州市市场监督管理局", "广州市（市内）"),
        ("深圳市市场监督管理局", "广东省（省内）"),
        ("佛山市顺德区市场监督管理局", "广东省（省内）"),
        ("广东省市场监督管理局", "广东省（省内）"),
        ("东莞市市场监督管理局", "广东省（省内）"),
        ("上海市市场监督管理局", "外省"),
        ("北京市朝阳区市场监督管理局", "外省"),
        ("江苏省苏州市市场监督管理局", "外省"),
        ("昆山市市场监督管理局", "外省"),  # a county-level city named in one place only
        ("海南藏族自治州市场监督管理局", "外省"),  # in 青海, not 海南
        ("朝阳区市场监督管理局", "未知"),  # 朝阳区 exists in 北京 and 长春: names no place
        ("某某登记机关", "未知"),
        ("", "未知"),
        ("  深圳市 市场监督管理局 ", "广东省（省内）"),
    ],
)
def test_counterpart_region_rule(name, region):
    assert counterpart_region(name, division_code=NANSHA) == region


def test_counterpart_region_for_a_municipality_district():
    assert counterpart_region("上海市浦东新区市场监督管理局", division_code="310115") == "上海市（市内）"
    assert counterpart_region("北京市市场监督管理局", division_code="310115") == "外省"


# --- the sync ------------------------------------------------------------------------------------------


def test_sync_copies_approved_cases_with_the_enterprise_facts(authority, make_case, make_enterprise):
    mover_out = make_enterprise(
        name="广州南沙外迁贸易有限公司",
        industry="F",
        entity_type="llc",
        registered_capital=Decimal("5000000.00"),
        status="moved_out",
    )
    mover_in = make_enterprise(
        name="广州南沙新迁入科技有限公司", industry="I", entity_type="joint_stock", registered_capital=None
    )
    out_case = make_case("out", enterprise=mover_out, counterpart="深圳市市场监督管理局")
    in_case = make_case(
        "in", enterprise=mover_in, counterpart="上海市浦东新区市场监督管理局", decided_on=dt.date(2024, 4, 2)
    )
    make_case("out", enterprise=make_enterprise(), state=CaseState.ACCEPTED, decided_on=None)  # not decided
    make_case("out", enterprise=make_enterprise(), state=CaseState.REJECTED)  # refused

    assert migrations_sync(authority=authority) == 2

    out = Migration.objects.get(case_number=out_case.number)
    assert (out.direction, out.enterprise_id, out.moved_on) == ("out", mover_out.pk, dt.date(2024, 3, 15))
    assert (out.industry, out.entity_type, out.registered_capital) == ("F", "llc", Decimal("500.0000"))
    assert (out.counterpart_authority, out.counterpart_region) == ("深圳市市场监督管理局", "广东省（省内）")
    assert out.reason == MoveOutReason.UNKNOWN
    assert out.uscc == mover_out.uscc and out.enterprise_name == mover_out.name
    incoming = Migration.objects.get(case_number=in_case.number)
    assert (incoming.direction, incoming.counterpart_region) == ("in", "外省")
    assert (incoming.industry, incoming.entity_type, incoming.registered_capital) == ("I", "joint_stock", 0)


def _ended(case, clerk, *steps: tuple[str, str, str]) -> None:
    """Give `case` the transition log of its last steps (action, from, to), a minute apart."""
    from bizreg.registration.models import CaseTransitionLog

    for minute, (action, from_state, to_state) in enumerate(steps):
        CaseTransitionLog.objects.create(
            case=case,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=clerk,
            occurred_at=case.received_at + dt.timedelta(days=3, minutes=minute),
        )


def test_sync_leaves_out_archived_cases_that_were_refused(authority, clerk, make_case, make_enterprise):
    """已归档 ends a refusal too: an archived 不予登记 is no migration; an archived approval is one."""
    refused = make_case("in", enterprise=None, state=CaseState.ARCHIVED)
    _ended(refused, clerk, ("reject", "accepted", "rejected"), ("archive", "rejected", "archived"))
    approved = make_case("out", enterprise=make_enterprise(status="moved_out"), state=CaseState.ARCHIVED)
    _ended(approved, clerk, ("approve", "accepted", "approved"), ("archive", "approved", "archived"))

    assert migrations_sync(authority=authority) == 1
    assert list(Migration.objects.values_list("case_number", flat=True)) == [approved.number]


def test_full_sync_removes_rows_whose_case_is_no_approved_migration(
    authority, other_authority, clerk, make_case, make_enterprise
):
    """Rows an older rule copied (an archived refusal) leave the analysis at the next full sync; a sync
    since a date does not look back, and another authority's rows stay."""
    approved = make_case(
        "out", enterprise=make_enterprise(status="moved_out"), decided_on=dt.date(2024, 1, 9)
    )
    refused = make_case("in", enterprise=None, state=CaseState.ARCHIVED, decided_on=dt.date(2024, 1, 10))
    _ended(refused, clerk, ("reject", "accepted", "rejected"), ("archive", "rejected", "archived"))
    foreign = make_case(
        "out", enterprise=make_enterprise(authority=other_authority), case_authority=other_authority
    )
    assert migrations_sync(authority=other_authority) == 1
    assert migrations_sync(authority=authority) == 1
    wrongly_copied = Migration.objects.get(case_number=approved.number)
    wrongly_copied.pk = None
    wrongly_copied.case_number = refused.number
    wrongly_copied.direction = MigrationDirection.IN
    wrongly_copied.save()

    assert migrations_sync(authority=authority, since=aware(dt.date(2024, 1, 1))) == 0
    assert Migration.objects.filter(case_number=refused.number).exists()

    # A row copied after this sync read the cases (by a sync running at the same moment) is left alone.
    Migration.objects.filter(case_number=refused.number).update(
        created_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert migrations_sync(authority=authority) == 0
    Migration.objects.filter(case_number=refused.number).update(
        created_at=timezone.now() - dt.timedelta(hours=1)
    )

    assert migrations_sync(authority=authority) == 1
    assert sorted(Migration.objects.values_list("case_number", flat=True)) == sorted(
        [approved.number, foreign.number]
    )
    assert migrations_sync(authority=authority) == 0


def test_an_archived_withdrawn_move_out_is_no_application(authority, clerk, make_case, make_enterprise):
    from bizreg.registration.selectors.migrations import move_out_applications

    live = make_case("out", enterprise=make_enterprise(), state=CaseState.ACCEPTED, decided_on=None)
    withdrawn = make_case("out", enterprise=make_enterprise(), state=CaseState.ARCHIVED, decided_on=None)
    _ended(withdrawn, clerk, ("withdraw", "received", "withdrawn"), ("archive", "withdrawn", "archived"))

    found = move_out_applications(authority_id=authority.pk, received_since=dt.date(2000, 1, 1))
    assert [a.case_number for a in found] == [live.number]


def test_sync_is_idempotent_and_honours_since(authority, make_case, make_enterprise):
    make_case("out", enterprise=make_enterprise(), decided_on=dt.date(2024, 1, 10))
    make_case("in", enterprise=make_enterprise(), decided_on=dt.date(2024, 2, 10))
    assert migrations_sync(authority=authority) == 2
    assert migrations_sync(authority=authority) == 0
    assert Migration.objects.count() == 2

    later = make_case("in", enterprise=make_enterprise(), decided_on=dt.date(2024, 5, 10))
    assert migrations_sync(authority=authority, since=aware(dt.date(2024, 5, 1))) == 1
    assert Migration.objects.filter(case_number=later.number).exists()
    assert Migration.objects.count() == 3


def test_sync_reads_only_the_authoritys_cases(authority, other_authority, make_case, make_enterprise):
    foreign = make_enterprise(authority=other_authority)
    make_case("out", enterprise=foreign, case_authority=other_authority)
    assert migrations_sync(authority=authority) == 0
    assert migrations_sync(authority=other_authority) == 1
    assert Migration.objects.get().counterpart_region == "广东省（省内）"


def test_sync_takes_the_reason_of_the_latest_submitted_visit(
    authority, make_case, make_enterprise, make_visit
):
    mover = make_enterprise(status="moved_out")
    make_visit(mover, visited_on=dt.date(2024, 2, 1), reason=MoveOutReason.COST)
    make_visit(mover, visited_on=dt.date(2024, 3, 1), reason=MoveOutReason.POLICY)
    make_visit(mover, visited_on=dt.date(2024, 3, 5), reason=MoveOutReason.MARKET, state=VisitState.DRAFT)
    make_visit(mover, visited_on=dt.date(2024, 3, 6), reason="")  # recorded no reason: does not count
    case = make_case("out", enterprise=mover)
    migrations_sync(authority=authority)
    assert Migration.objects.get(case_number=case.number).reason == MoveOutReason.POLICY


def test_resync_updates_the_reason(authority, make_case, make_enterprise, make_visit):
    mover = make_enterprise(status="moved_out")
    case = make_case("out", enterprise=mover, decided_on=dt.date(2024, 1, 10))
    assert migrations_sync(authority=authority) == 1
    assert Migration.objects.get(case_number=case.number).reason == MoveOutReason.UNKNOWN

    # The move-out visit is submitted after the move; a sync of later cases only still updates the reason.
    make_visit(mover, visited_on=dt.date(2024, 1, 20), reason=MoveOutReason.PREMISES)
    assert migrations_sync(authority=authority, since=aware(dt.date(2024, 6, 1))) == 1
    assert Migration.objects.get(case_number=case.number).reason == MoveOutReason.PREMISES
    assert migrations_sync(authority=authority) == 0


def test_sync_of_an_in_move_keeps_the_reason_unknown(authority, make_case, make_enterprise, make_visit):
    mover = make_enterprise()
    make_visit(mover, visited_on=dt.date(2024, 5, 1), reason=MoveOutReason.COST)
    case = make_case("in", enterprise=mover)
    migrations_sync(authority=authority)
    assert Migration.objects.get(case_number=case.number).reason == MoveOutReason.UNKNOWN


# --- the analysis ----------------------------------------------------------------------------------------

ROWS = [
    # direction, moved_on, industry, entity type, capital (万元), region, reason
    ("in", dt.date(2024, 1, 5), "I", "llc", "50", "广东省（省内）", "unknown"),
    ("in", dt.date(2024, 1, 20), "I", "llc", "100", "外省", "unknown"),
    ("in", dt.date(2024, 3, 3), "F", "joint_stock", "499.9999", "广州市（市内）", "unknown"),
    ("in", dt.date(2024, 3, 31), "C", "llc", "500", "外省", "unknown"),
    ("out", dt.date(2024, 1, 15), "I", "llc", "1000", "广东省（省内）", "cost"),
    ("out", dt.date(2024, 3, 1), "F", "sole_prop", "4999", "广东省（省内）", "cost"),
    ("out", dt.date(2024, 3, 2), "I", "llc", "5000", "外省", "policy"),
    ("out", dt.date(2024, 4, 1), "I", "llc", "20000", "外省", "unknown"),  # after the quarter
    ("in", dt.date(2023, 12, 31), "I", "llc", "1", "外省", "unknown"),  # before it
]


@pytest.fixture
def migration_rows(authority, other_authority):
    rows = []
    for n, (direction, moved_on, industry, entity_type, capital, region, reason) in enumerate(ROWS):
        rows.append(
            Migration(
                authority=authority,
                direction=direction,
                enterprise_name=f"企业{n}",
                uscc=f"9144011500000000{n:02d}",
                case_number=f"M{n:05d}",
                moved_on=moved_on,
                industry=industry,
                entity_type=entity_type,
                registered_capital=Decimal(capital),
                counterpart_authority="某市场监督管理局",
                counterpart_region=region,
                reason=reason,
            )
        )
    # Another authority's move in the same quarter: never counted for our users.
    rows.append(
        Migration(
            authority=other_authority,
            direction="in",
            enterprise_name="别区企业",
            uscc="914401060000000000",
            case_number="X00001",
            moved_on=dt.date(2024, 2, 1),
            industry="I",
            entity_type="llc",
            registered_capital=Decimal(10),
            counterpart_authority="深圳市市场监督管理局",
            counterpart_region="广东省（省内）",
        )
    )
    Migration.objects.bulk_create(rows)


Q1 = MigrationFilters(start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31))


def _by_key(rows):
    return {r.key: (r.moved_in, r.moved_out, r.net) for r in rows}


def test_analysis_figures_match_hand_counts(officer, migration_rows):
    analysis = migration_analysis(user=officer, filters=Q1)
    t = analysis.totals
    assert (t.moved_in, t.moved_out, t.net) == (4, 3, 1)
    assert t.capital_in == Decimal("1149.9999") and t.capital_out == Decimal("10999")
    assert [(r.label, r.moved_in, r.moved_out, r.net) for r in analysis.months] == [
        ("2024-01", 2, 1, 1),
        ("2024-02", 0, 0, 0),
        ("2024-03", 2, 2, 0),
    ]
    assert _by_key(analysis.industries) == {"I": (2, 2, 0), "F": (1, 1, 0), "C": (1, 0, 1)}
    assert analysis.industries[0].key == "I" and analysis.industries[0].label.startswith("I 信息传输")
    assert _by_key(analysis.entity_types) == {
        "llc": (3, 2, 1),
        "joint_stock": (1, 0, 1),
        "sole_prop": (0, 1, -1),
    }
    assert [(r.key, r.moved_in, r.moved_out) for r in analysis.capital_bands] == [
        ("lt100", 1, 0),
        ("100_500", 2, 0),
        ("500_1000", 1, 0),
        ("1000_5000", 0, 2),
        ("ge5000", 0, 1),
    ]
    assert _by_key(analysis.regions) == {
        "广东省（省内）": (1, 2, -1),
        "外省": (2, 1, 1),
        "广州市（市内）": (1, 0, 1),
    }
    assert _by_key(analysis.reasons) == {"cost": (0, 2, -2), "policy": (0, 1, -1)}
    assert analysis.reasons[0].label == "经营成本（租金、人力）"
    chart = analysis.chart_data()
    assert chart["months"]["net"] == [1, 0, 0]
    assert {"name": "外地政策吸引", "value": 1} in chart["reasons"]


def test_analysis_filters(manager, migration_rows):
    outs = migration_analysis(
        user=manager, filters=MigrationFilters(start=Q1.start, end=Q1.end, direction="out")
    )
    assert (outs.totals.moved_in, outs.totals.moved_out) == (0, 3)
    info = migration_analysis(
        user=manager, filters=MigrationFilters(start=Q1.start, end=Q1.end, industry="I")
    )
    assert (info.totals.moved_in, info.totals.moved_out) == (2, 2)
    llc = migration_analysis(
        user=manager, filters=MigrationFilters(start=Q1.start, end=Q1.end, industry="I", entity_type="llc")
    )
    assert (llc.totals.moved_in, llc.totals.moved_out) == (2, 2)
    everything = migration_analysis(user=manager, filters=MigrationFilters())
    assert (everything.totals.moved_in, everything.totals.moved_out) == (5, 4)
    assert [m.label for m in everything.months][0] == "2023-12"


def test_analysis_is_scoped(other_officer, department_member, migration_rows):
    theirs = migration_analysis(user=other_officer, filters=Q1)
    assert (theirs.totals.moved_in, theirs.totals.moved_out) == (1, 0)
    nothing = migration_analysis(user=department_member, filters=Q1)
    assert nothing.totals.total == 0
    assert migration_listing(user=department_member, filters=Q1).count() == 0


def test_listing_filters(officer, migration_rows):
    assert migration_listing(user=officer, filters=MigrationFilters()).count() == 9
    assert migration_listing(user=officer, filters=MigrationFilters(region="外省")).count() == 5
    assert migration_listing(user=officer, filters=MigrationFilters(reason="cost")).count() == 2
    assert [m.case_number for m in migration_listing(user=officer, filters=MigrationFilters(q="企业3"))] == [
        "M00003"
    ]


# --- pages -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tracking:migration_analysis", "tracking:migration_list"])
def test_pages_for_officer_and_manager_only(name, officer, manager, clerk, department_member, client_for):
    url = reverse(name)
    assert client_for(officer).get(url).status_code == 200
    assert client_for(manager).get(url).status_code == 200
    assert client_for(clerk).get(url).status_code == 403
    assert client_for(department_member).get(url).status_code == 403


def test_pages_need_login(client):
    response = client.get(reverse("tracking:migration_analysis"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_analysis_page_shows_the_figures(officer, client_for, migration_rows):
    response = client_for(officer).get(
        reverse("tracking:migration_analysis"), {"period": "quarter", "year": "2024", "quarter": "1"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="in">4<' in html and 'data-figure="out">3<' in html and 'data-figure="net">1<' in html
    assert "2024年第1季度" in html
    assert 'id="migration-chart-data"' in html and "echarts.min.js" in html
    analysis = response.context["analysis"]
    assert analysis.filters.start == dt.date(2024, 1, 1) and analysis.filters.end == dt.date(2024, 3, 31)
    assert "period=quarter" in response.context["list_query"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "range", "date_from": "2024-03-01", "date_to": "2024-01-01"}, "date_to"),
        ({"period": "range"}, "date_from"),
        ({"period": "range", "date_from": "2024-03-01"}, "date_to"),
        ({"period": "quarter", "year": "2024"}, "quarter"),
        ({"period": "month", "year": "2024", "month": "13"}, "month"),
        ({"period": "year", "year": "abc"}, "year"),
        ({"period": "decade"}, "period"),
    ],
)
def test_analysis_page_refuses_a_bad_period(params, field, officer, client_for):
    response = client_for(officer).get(reverse("tracking:migration_analysis"), params)
    assert response.status_code == 400
    assert field in response.context["form"].errors


def test_analysis_month_and_range_periods(officer, client_for, migration_rows):
    c = client_for(officer)
    month = c.get(reverse("tracking:migration_analysis"), {"period": "month", "year": "2024", "month": "3"})
    assert month.context["analysis"].totals.total == 4
    span = c.get(
        reverse("tracking:migration_analysis"),
        {"period": "range", "date_from": "2023-12-01", "date_to": "2024-01-31", "direction": "in"},
    )
    assert span.context["analysis"].totals.moved_in == 3


def test_list_page_filters_and_paginates(officer, client_for, migration_rows):
    c = client_for(officer)
    response = c.get(reverse("tracking:migration_list"), {"direction": "out"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 4
    q1 = c.get(reverse("tracking:migration_list"), {"period": "quarter", "year": "2024", "quarter": "1"})
    assert q1.context["page"].paginator.count == 7
    assert "别区企业" not in q1.content.decode()
    bad = c.get(
        reverse("tracking:migration_list"),
        {"period": "range", "date_from": "2024-02-01", "date_to": "2024-01-01"},
    )
    assert bad.status_code == 400


def test_list_page_pages_through(officer, client_for, authority):
    Migration.objects.bulk_create(
        Migration(
            authority=authority,
            direction="in",
            enterprise_name=f"企业{n}",
            uscc="",
            case_number=f"P{n:05d}",
            moved_on=dt.date(2024, 1, 1),
            industry="I",
            entity_type="llc",
            counterpart_authority="",
            counterpart_region="未知",
        )
        for n in range(60)
    )
    second = client_for(officer).get(reverse("tracking:migration_list"), {"page": "2"})
    assert second.context["page"].number == 2 and len(second.context["page"].object_list) == 10


def test_list_export(officer, client_for, migration_rows):
    response = client_for(officer).get(
        reverse("tracking:migration_list"),
        {"period": "quarter", "year": "2024", "quarter": "1", "export": "xlsx"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "登记业务编号" and len(rows) == 8
    by_case = {row[0]: row for row in rows[1:]}
    assert by_case["M00006"][1] == "迁出" and by_case["M00006"][10] == "外地政策吸引"
    assert by_case["M00000"][5].startswith("I ") and by_case["M00000"][6] == "有限责任公司"
