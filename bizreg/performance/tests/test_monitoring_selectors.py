"""双监控 figures: budget execution against time, indicator projections (seasonal vs linear), lights,
warnings and the suggested adjustment, and the cockpit bundle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from bizreg.core.metrics_registry import Metric, get_metric
from bizreg.performance.models import Direction, Level1, Level2
from bizreg.performance.selectors import monitoring
from bizreg.performance.selectors.monitoring import (
    GREEN,
    GREY,
    RED,
    YELLOW,
    budget_progress,
    cockpit,
    indicator_projection,
    round_down_significant,
)
from bizreg.performance.tests.monitoring_fixtures import (
    BUSY_DECEMBER,
    make_indicator,
    make_line,
    make_project,
    pay,
    service_records,
)

pytestmark = pytest.mark.django_db

D = dt.date
JUNE_30 = D(2023, 6, 30)


@pytest.fixture
def staff(role_users):
    return role_users["registration_clerk"]


@pytest.fixture
def project(authority):
    return make_project(authority)


@pytest.fixture
def busy_years(authority, staff):
    """2021 and 2022 complete with a December rush; 2023 the same pattern up to 30 June (60 records)."""
    service_records(authority, staff, 2021, BUSY_DECEMBER)
    service_records(authority, staff, 2022, BUSY_DECEMBER)
    return service_records(authority, staff, 2023, BUSY_DECEMBER, until=D(2023, 7, 1))


def fake_metrics(monkeypatch, values: dict[str, Decimal]):
    """Metric keys answering a fixed value, counting their calls."""
    calls: list[str] = []

    def lookup(key):
        if key not in values:
            return get_metric(key)

        def compute(ids, start, end, key=key):
            calls.append(key)
            return values[key]

        return Metric(key=key, label=key, unit="%", definition="", compute=compute)

    monkeypatch.setattr(monitoring, "get_metric", lookup)
    return calls


# --- projection --------------------------------------------------------------------------------------------


def test_seasonality_of_earlier_years_beats_the_linear_projection(project, busy_years, authority, staff):
    assert busy_years == 60
    indicator = make_indicator(project, target_value=Decimal(200))
    p = indicator_projection(indicator, JUNE_30)
    assert p.ytd == Decimal(60)
    assert p.method == monitoring.METHOD_SEASONAL
    assert p.share == Decimal("0.3")
    assert p.seasonal_years == (2022, 2021)
    assert p.projected == Decimal(200)
    assert p.light == GREEN and p.warning == "" and p.suggestion is None

    # The year then ends as the earlier ones did: 200. The linear guess (60 ÷ 181/365) is far off and
    # would have raised a false alarm.
    service_records(authority, staff, 2023, [0] * 6 + BUSY_DECEMBER[6:])
    year_end = indicator_projection(indicator, D(2023, 12, 31))
    assert year_end.ytd == Decimal(200) and year_end.projected == Decimal(200)
    linear = Decimal(60) / (Decimal(181) / Decimal(365))
    assert abs(p.projected - year_end.ytd) < abs(linear - year_end.ytd)
    assert linear < Decimal(200) * Decimal("0.95")  # linear would have been a red light


def test_without_earlier_years_the_projection_is_linear(project, authority, staff):
    service_records(authority, staff, 2023, [10] * 12, until=D(2023, 7, 1))
    indicator = make_indicator(project, target_value=Decimal(120))
    p = indicator_projection(indicator, JUNE_30)
    assert p.method == monitoring.METHOD_LINEAR
    assert p.share == Decimal(181) / Decimal(365)
    assert p.projected == Decimal("120.99")
    assert p.light == GREEN


def test_other_authority_records_do_not_count(project, other_authority, make_user):
    outsider = make_user("registration_clerk", authorities=[other_authority])
    service_records(other_authority, outsider, 2023, [10] * 12)
    p = indicator_projection(make_indicator(project), JUNE_30)
    assert p.light == GREY and p.ytd == 0 and "暂无数据" in p.note


def test_yellow_within_five_percent_with_warning_and_suggestion(project, busy_years):
    indicator = make_indicator(project, target_value=Decimal(205))  # 200 ≥ 205 × 95 %
    p = indicator_projection(indicator, JUNE_30)
    assert p.light == YELLOW
    assert p.warning.startswith("预计无法完成年度指标")
    assert p.suggestion is not None and p.suggestion.target == Decimal(200)


def test_red_warning_names_the_projection_and_suggests_a_rounded_target(project, busy_years, monkeypatch):
    monkeypatch.setattr(
        monitoring, "reverse", lambda name, args: f"/performance/indicators/{args[0]}/adjust/"
    )
    indicator = make_indicator(project, target_value=Decimal(300))
    p = indicator_projection(indicator, JUNE_30)
    assert p.light == RED
    reason = "按截至6月30日累计值及往年同期进度（占全年 30%）测算，全年预计 200份，低于年度指标值 300份"
    assert p.suggestion.reason == reason
    assert reason in p.warning
    assert p.suggestion.target == Decimal(200)
    url = urlsplit(p.suggestion.url)
    assert url.path == f"/performance/indicators/{indicator.pk}/adjust/"
    assert parse_qs(url.query) == {"target": ["200"], "reason": [reason], "suggested": ["1"]}


def test_boundary_exactly_five_percent_short_is_yellow_just_beyond_is_red(project, monkeypatch):
    fake_metrics(monkeypatch, {"fake.rate": Decimal(95)})
    rate = {"unit": "%", "metric_key": "fake.rate", "level2": Level2.QUALITY}
    assert (
        indicator_projection(make_indicator(project, "1", target_value=Decimal(100), **rate), JUNE_30).light
        == YELLOW
    )
    fake_metrics(monkeypatch, {"fake.rate": Decimal("94.99")})
    p = indicator_projection(make_indicator(project, "2", target_value=Decimal(100), **rate), JUNE_30)
    assert p.light == RED
    # A rate is not extrapolated: the YTD value is the projection.
    assert p.method == monitoring.METHOD_RATE and p.projected == Decimal("94.99")
    assert p.suggestion.target == Decimal("94.9")


def test_upper_bound_indicator_warns_when_projected_above_and_suggests_rounding_up(project, monkeypatch):
    fake_metrics(monkeypatch, {"fake.days": Decimal("3.456")})
    indicator = make_indicator(
        project,
        name="平均办理时长",
        unit="工作日",
        direction=Direction.AT_MOST,
        target_value=Decimal(3),
        metric_key="fake.days",
    )
    p = indicator_projection(indicator, JUNE_30)
    assert p.light == RED and p.projected == Decimal("3.46")
    assert "高于年度指标值 3工作日" in p.warning
    assert p.suggestion.target == Decimal("3.46")


@pytest.mark.parametrize(
    ("overrides", "note"),
    [
        ({"direction": Direction.QUALITATIVE, "target_value": None, "target_text": "有效"}, "定性"),
        ({"target_value": Decimal(0)}, "为 0"),
        ({"target_value": None}, "未设定"),
        ({"metric_key": "", "manual_value": Decimal(5)}, "手工"),
        ({"metric_key": "consultation.no_such_metric"}, "尚未由任何模块发布"),
        ({}, "暂无数据"),  # a metric key, but no records anywhere
    ],
)
def test_grey_without_crashing(project, overrides, note):
    p = indicator_projection(make_indicator(project, **overrides), JUNE_30)
    assert p.light == GREY
    assert note in p.note
    assert p.projected is None and p.warning == "" and p.suggestion is None


def test_projection_of_zero_warns_but_suggests_no_zero_target(project, authority, staff):
    # Earlier years worked by June; this year nothing yet: projected 0, a red light, no target-0 suggestion.
    service_records(authority, staff, 2022, BUSY_DECEMBER)
    p = indicator_projection(make_indicator(project), JUNE_30)
    assert p.light == RED and p.projected == 0
    assert p.warning and p.suggestion is None


@pytest.mark.parametrize(
    ("value", "expected", "up"),
    [
        ("299999.99", "299000", False),
        ("382000", "382000", False),
        ("1234567", "1230000", False),
        ("94.99", "94.9", False),
        ("0.012345", "0.0123", False),
        ("3.456", "3.46", True),
        ("1234567", "1240000", True),
    ],
)
def test_round_to_three_significant_figures(value, expected, up):
    assert round_down_significant(Decimal(value), up=up) == Decimal(expected)


# --- budget ------------------------------------------------------------------------------------------------


def test_budget_progress_lights_against_time_elapsed(project):
    on_track = make_line(project, "L01", "400000", order=1)
    behind = make_line(project, "L02", "400000", order=2)
    far_behind = make_line(project, "L03", "200000", order=3)
    pay(project, on_track, D(2023, 3, 15), "160000")  # 40 % vs 49.59 % elapsed: −9.59 → green
    pay(project, behind, D(2023, 6, 30), "120000")  # 30 %: −19.59 → yellow
    pay(project, far_behind, D(2023, 5, 1), "50000")  # 25 %: −24.59 → red… until the day after
    pay(project, far_behind, D(2023, 7, 1), "10000")  # after as_of: not counted
    progress = budget_progress(project, JUNE_30)
    assert progress.total.time_percent == Decimal("49.59")
    assert progress.total.executed == Decimal("330000")
    assert progress.total.rate_percent == Decimal("33.00")
    assert progress.total.light == YELLOW  # −16.59 points
    assert [(p.label, p.rate_percent, p.light) for p in progress.lines] == [
        ("明细L01", Decimal("40.00"), GREEN),
        ("明细L02", Decimal("30.00"), YELLOW),
        ("明细L03", Decimal("25.00"), RED),
    ]
    assert progress.lines[0].gap == Decimal("-9.59")


def test_budget_progress_of_an_empty_budget_is_grey(authority):
    empty = make_project(authority, budget="0")
    line = make_line(empty, "L01", "0")
    progress = budget_progress(empty, JUNE_30)
    assert progress.total.light == GREY and progress.total.rate_percent is None
    assert progress.lines[0].light == GREY and line.pk in progress.line_ids


def test_year_end_state_counts_the_last_day(project):
    line = make_line(project, "L01", "1000000")
    pay(project, line, D(2023, 12, 31), "950000")
    progress = budget_progress(project, D(2023, 12, 31))
    assert progress.total.time_percent == Decimal("100.00")
    assert progress.total.rate_percent == Decimal("95.00") and progress.total.light == GREEN


# --- cockpit bundle ----------------------------------------------------------------------------------------


def test_cockpit_bundles_lights_trends_budget_and_evaluation(project, busy_years, monkeypatch):
    line = make_line(project, "L01", "1000000", name="商事登记辅助项目")
    pay(project, line, D(2023, 2, 10), "200000")
    pay(project, line, D(2023, 5, 10), "300000")
    make_indicator(project, "1", target_value=Decimal(300))  # red
    make_indicator(
        project,
        "2",
        name="定性",
        direction=Direction.QUALITATIVE,
        target_value=None,
        target_text="有效",
        metric_key="",
        level1=Level1.BENEFIT,
        level2=Level2.SOCIAL,
    )
    data = cockpit(project, D(2024, 3, 1), can_adjust=True)  # after the year: clamped to 31 Dec
    assert data["as_of"] == "2023-12-31"
    assert data["budget"]["rate"] == 50.0 and data["budget"]["time"] == 100.0
    assert data["budget"]["light"] == RED
    assert data["lines_monthly"] == [
        {"name": "商事登记辅助项目", "data": [0.0, 20.0, 20.0, 20.0, 50.0] + [50.0] * 7}
    ]
    lights = {row["code"]: row["light"] for row in data["indicators"]}
    assert lights == {"1": RED, "2": GREY}
    assert data["light_counts"] == {GREEN: 0, YELLOW: 0, RED: 1, GREY: 1}
    assert [t["name"] for t in data["trends"]] == ["完成商事登记企业信息录入及一网通办指引份数"]
    assert data["evaluation"]["grade"] in {"优", "良", "中", "差"}
    assert isinstance(data["evaluation"]["total"], float)


def test_cockpit_mid_year_trend_and_months_after_as_of_hidden(project, busy_years):
    line = make_line(project, "L01", "1000000")
    pay(project, line, D(2023, 2, 10), "200000")
    indicator = make_indicator(project, target_value=Decimal(300))
    from bizreg.performance.models import MonthlySnapshot

    for month in range(1, 6):
        MonthlySnapshot.objects.create(
            indicator=indicator, month=D(2023, month, 1), month_value=10, ytd_value=10 * month
        )
    data = cockpit(project, JUNE_30)
    assert data["lines_monthly"][0]["data"][6:] == [None] * 6
    trend = data["trends"][0]
    assert trend["actual"][:6] == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]  # June: the YTD just measured
    assert trend["actual"][6:] == [None] * 6
    assert trend["projection"][5] == 60.0 and trend["projection"][11] == 200.0
    assert trend["target"] == 300.0
    row = data["indicators"][0]
    assert row["light"] == RED and row["suggested_target"] == 200.0
    assert row["adjust_url"] == ""  # not allowed to adjust (can_adjust=False)


def test_cockpit_measures_each_metric_once(project, monkeypatch):
    calls = fake_metrics(monkeypatch, {"fake.count": Decimal(50), "fake.rate": Decimal(99)})
    make_indicator(project, "1", metric_key="fake.count", unit="件")
    make_indicator(project, "2", metric_key="fake.rate", unit="%", level2=Level2.QUALITY)
    cockpit(project, JUNE_30)
    # The count: YTD + 3 earlier years × (to the same day, full year); the rate: YTD only. The evaluation
    # and the trend reuse these values.
    assert calls.count("fake.count") == 7
    assert calls.count("fake.rate") == 1


def test_cockpit_of_a_project_without_anything(project):
    data = cockpit(project, JUNE_30)
    assert data["indicators"] == [] and data["trends"] == [] and data["lines"] == []
    assert data["budget"]["rate"] == 0.0


# --- year-end projection of the score -----------------------------------------------------------------


def test_projected_execution_adds_what_the_payment_schedule_still_owes(project):
    from bizreg.performance.models import Contract, Payment, PaymentMilestone
    from bizreg.performance.selectors.monitoring import projected_execution

    line = make_line(project, "L01", "1000000")
    contract = Contract.objects.create(
        project=project,
        line=line,
        number="HT-1",
        title="辅助服务",
        vendor="某公司",
        amount=Decimal(600000),
        signed_on=D(2023, 1, 5),
        starts_on=D(2023, 1, 5),
        ends_on=D(2023, 12, 31),
    )
    first = PaymentMilestone.objects.create(
        contract=contract, order=1, deliverable="上半年服务", due_on=D(2023, 3, 31), amount=Decimal(200000)
    )
    second = PaymentMilestone.objects.create(
        contract=contract, order=2, deliverable="下半年服务", due_on=D(2023, 9, 30), amount=Decimal(400000)
    )
    for day, amount, milestone in ((D(2023, 3, 30), 200000, first), (D(2023, 10, 8), 150000, second)):
        Payment.objects.create(
            project=project, line=line, contract=contract, milestone=milestone, paid_on=day, amount=amount
        )
    # On 30 June: 20 万 paid, 40 万 still owed this year (the October payment has not happened yet).
    assert projected_execution(project, JUNE_30) == Decimal(600000)
    # On 31 October: 35 万 paid, 25 万 of the second instalment still owed — but it was due in September,
    # before the date, so only what is due later counts.
    assert projected_execution(project, D(2023, 10, 31)) == Decimal(350000)


def test_cockpit_projects_the_year_end_score_above_the_year_to_date_one(project, busy_years):
    """Mid-year the year-to-date figure (60 of a 200 target) scores low; the seasonal projection (200)
    meets the target, so the projected score is the full weight."""
    make_indicator(project, "1", target_value=Decimal(200), weight=Decimal(90))
    data = cockpit(project, JUNE_30)
    assert data["evaluation"]["total"] < data["projected_evaluation"]["total"]
    assert data["projected_evaluation"]["total"] == 90.0  # no budget: its 10 points are not scored
