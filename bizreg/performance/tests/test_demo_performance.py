"""The demo year of the performance module: the seed's project kept as the system would keep it, measured
from the registration demo year, within its budget, and built once."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from bizreg.core.demo import DemoContext
from bizreg.core.models import Authority, DemoSeedRun
from bizreg.performance import catalog
from bizreg.performance.demo import PerformanceYear
from bizreg.performance.models import (
    AdjustmentStatus,
    BudgetLine,
    Contract,
    EvaluationReport,
    Indicator,
    IndicatorAdjustment,
    MonthlySnapshot,
    Payment,
    PaymentMilestone,
    PerformanceTransitionLog,
    Project,
    ProjectStatus,
    ReportStatus,
)
from bizreg.performance.selectors.measurements import evaluate_project, indicator_actual
from bizreg.testing.demo import demo_year_fixture

SCALE = 0.01
YEAR = 2023
WIRED = {
    "1": "registration.business_volume",
    "2": "consultation.hotline_answer_rate",
    "3": "registration.info_entries_and_guidance",
    "4": "registration.licence_usage_rate",
    "6": "archives.query_service_rate",
    "7": "consultation.hotline_completion_rate",
}


demo_year = demo_year_fixture(SCALE)


@pytest.fixture
def project(demo_year):
    authority = Authority.objects.get(code="440115")
    return Project.objects.get(authority=authority, fiscal_year=YEAR, code=catalog.SEED_PROJECT["code"])


pytestmark = pytest.mark.django_db


def test_seeder_ran_after_the_registration_year(demo_year, project):
    assert demo_year.index("registration.year") < demo_year.index("performance.year")
    run = DemoSeedRun.objects.get(seeder="performance.year", authority=project.authority, year=YEAR)
    assert run.rows > 100
    assert project.status == ProjectStatus.ACTIVE
    assert project.adjusted_budget == Decimal("9431000.00")
    assert PerformanceTransitionLog.objects.filter(
        object_type="project", object_id=project.pk, action="activate", actor__username="manager"
    ).exists()


def test_budget_lines_and_components_are_the_seeds(project):
    lines = list(project.lines.order_by("order"))
    assert [(line.code, line.name) for line in lines] == [(c, n) for c, n, _w in catalog.SEED_LINES]
    assert sum(line.amount for line in lines) == Decimal("9430000.00")  # the seed's own 943.0 万元
    components = {c.name: sorted(c.lines.values_list("code", flat=True)) for c in project.components.all()}
    assert components == {name: sorted(codes) for name, codes in catalog.SEED_COMPONENTS}


def test_payments_never_exceed_contracts_or_lines(project):
    lines = {line.pk: line for line in project.lines.all()}
    contracted = defaultdict(Decimal)
    for contract in Contract.objects.filter(project=project):
        contracted[contract.line_id] += contract.amount
        milestones = contract.milestones.aggregate(total=Sum("amount"))["total"]
        assert milestones == contract.amount, contract.number
        paid = contract.payments.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        assert paid <= contract.amount, contract.number
    per_line = dict(Payment.objects.filter(project=project).values_list("line").annotate(total=Sum("amount")))
    for line_id, line in lines.items():
        assert contracted[line_id] <= line.amount, line.code
        assert per_line.get(line_id, Decimal(0)) <= line.amount, line.code
    # Every line has one or two contracts and is paid close to its budget over the year.
    counts = Contract.objects.filter(project=project).values("line").annotate(n=Count("id"))
    assert {row["n"] for row in counts} <= {1, 2} and len(counts) == len(lines)
    total = sum(per_line.values())
    assert Decimal("0.95") * sum(line.amount for line in lines.values()) <= total <= project.adjusted_budget


def test_payments_follow_the_schedule_and_the_seasons(project):
    payments = list(Payment.objects.filter(project=project).select_related("milestone", "contract"))
    assert payments
    for payment in payments:
        assert payment.milestone.contract_id == payment.contract_id
        assert payment.amount == payment.milestone.amount
        assert payment.milestone.delivered_on is not None
        assert payment.milestone.delivered_on <= payment.paid_on
        assert payment.paid_on.year == YEAR
        assert payment.recorded_by.username == "finance"
    by_month = defaultdict(Decimal)
    for payment in payments:
        by_month[payment.paid_on.month] += payment.amount
    q1 = sum(by_month[m] for m in (1, 2, 3))
    q4 = sum(by_month[m] for m in (10, 11, 12))
    assert q1 < q4
    assert by_month[12] == max(by_month.values())  # the year-end settlement
    assert PaymentMilestone.objects.filter(contract__project=project).count() > len(payments) / 2


def test_ten_indicators_weights_total_100(project):
    indicators = list(project.indicators.order_by("order"))
    assert [i.name for i in indicators] == [i.name for i in catalog.SEED_INDICATORS]
    assert sum(i.weight for i in indicators) + project.budget_weight == 100
    for indicator in indicators:
        assert indicator.original_weight == indicator.weight
        assert indicator.original_target_text == indicator.target_text


def test_registered_metrics_are_wired_and_measure_the_demo_year(project):
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)
    wired = {i.code: i for i in project.indicators.exclude(metric_key="")}
    assert {code: i.metric_key for code, i in wired.items()} == WIRED
    for indicator in wired.values():
        actual = indicator_actual(indicator, start, end)
        assert actual.source == "metric"
        assert actual.value > 0, indicator.metric_key
    # Count targets follow the demo's size, so the story (业务服务量 short of its target) holds at any scale.
    volume = wired["1"]
    assert volume.target_value == round(Decimal(382000) * Decimal(str(SCALE)))
    assert indicator_actual(volume, start, end).value < volume.target_value
    for indicator in project.indicators.filter(metric_key=""):
        assert indicator.evidence_note and indicator.data_source, indicator.code
        assert indicator.manual_value is not None or indicator.manual_text, indicator.code


def test_evaluation_total_between_0_and_100(project):
    evaluation = evaluate_project(project)
    assert 0 < evaluation.total <= 100
    assert evaluation.grade in {"优", "良", "中", "差"}
    assert len(evaluation.indicators) == 10
    assert 0 < evaluation.budget.score <= project.budget_weight


def test_adjustments_one_approved_one_pending(project):
    adjustments = IndicatorAdjustment.objects.filter(indicator__project=project)
    approved = adjustments.get(status=AdjustmentStatus.APPROVED)
    pending = adjustments.get(status=AdjustmentStatus.REQUESTED)
    assert adjustments.count() == 2
    for adjustment in (approved, pending):
        assert adjustment.reason and adjustment.requested_by.username == "finance"
        assert adjustment.new_target_value != adjustment.old_target_value
        assert adjustment.created_at.year == YEAR
    assert approved.decided_by.username == "manager" and approved.decided_at > approved.created_at
    assert PerformanceTransitionLog.objects.filter(
        object_type="indicatoradjustment", object_id=approved.pk, action="approve"
    ).exists()
    licence = approved.indicator
    assert licence.target_value == approved.new_target_value
    assert licence.original_target_value == approved.old_target_value == 100
    assert pending.decided_by is None and pending.suggested_by_monitoring
    assert pending.indicator.code == "1"
    assert pending.new_target_value < pending.indicator.target_value


def test_monthly_snapshots_add_up_to_the_year(project):
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)
    # Kept by the month-end job for the indicators a metric measures; manual ones have no monthly data.
    assert MonthlySnapshot.objects.filter(indicator__project=project).count() == 12 * len(WIRED)
    for code in ("1", "3"):  # counts: the months add up to the year-to-date, December's to the year
        indicator = Indicator.objects.get(project=project, code=code)
        snaps = list(indicator.snapshots.order_by("month"))
        assert [s.month for s in snaps] == [dt.date(YEAR, m, 1) for m in range(1, 13)]
        running = Decimal(0)
        for snap in snaps:
            running += snap.month_value
            assert snap.ytd_value == running
        assert snaps[-1].ytd_value == indicator_actual(indicator, start, end).value


def test_report_is_a_draft_with_every_section(project):
    report = EvaluationReport.objects.get(project=project)
    assert report.status == ReportStatus.DRAFT
    assert str(YEAR) in report.title and project.name in report.title
    for field in ("overview", "management", "goals_note", "analysis", "problems", "improvements"):
        assert getattr(report, field), field


def _counts(project) -> dict[str, int]:
    return {
        "projects": Project.objects.count(),
        "lines": BudgetLine.objects.count(),
        "contracts": Contract.objects.count(),
        "payments": Payment.objects.count(),
        "indicators": Indicator.objects.count(),
        "adjustments": IndicatorAdjustment.objects.count(),
        "snapshots": MonthlySnapshot.objects.count(),
        "logs": PerformanceTransitionLog.objects.count(),
    }


def test_rerun_adds_nothing(project):
    before = _counts(project)
    out = io.StringIO()
    call_command("seed_demo", "--scale", str(SCALE), stdout=out)
    assert "performance.year：已生成" in out.getvalue()
    # Even called directly (no DemoSeedRun guard), the seeder leaves an existing project alone.
    ctx = DemoContext(authority=project.authority, year=YEAR, scale=SCALE, stdout=io.StringIO())
    assert PerformanceYear(ctx).run() == 0
    assert _counts(project) == before


def test_same_seed_same_budget(project):
    """Deterministic: a second authority seeded with the same seed gets the very same contracts."""
    from bizreg.accounts.demo import DEMO_USERS, _ensure_demo_user

    other = Authority.objects.create(code="440199", name="测试登记机关", division_code="440199")
    for demo in DEMO_USERS:
        _ensure_demo_user(demo, other)
    ctx = DemoContext(authority=other, year=YEAR, scale=SCALE, stdout=io.StringIO())
    ctx.authority = project.authority  # the rng is keyed by the authority's code: draw as the demo did
    year = PerformanceYear(ctx)
    year.authority = other
    assert year.run() > 0
    copy = Project.objects.get(authority=other, fiscal_year=YEAR)

    def shape(p):
        return list(
            Contract.objects.filter(project=p)
            .order_by("number")
            .values_list("number", "vendor", "amount", "signed_on")
        ), list(
            Payment.objects.filter(project=p).order_by("paid_on", "amount").values_list("paid_on", "amount")
        )

    assert shape(copy) == shape(project)
