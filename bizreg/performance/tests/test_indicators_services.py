"""Indicator services: every refusal of the issue's bad-input list, the weight rule, the lint on the seed's
ten indicators, the wiring of published metrics, adjustments with their log, evaluation and snapshots."""

# ruff: noqa: F811 — pytest fixtures imported from indicators_fixtures are redefined as parameters

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.performance.models import (
    AdjustmentStatus,
    Indicator,
    IndicatorAdjustment,
    MonthlySnapshot,
    PerformanceTransitionLog,
    ProjectStatus,
)
from bizreg.performance.scoring import score_quantitative
from bizreg.performance.services import indicators as services
from bizreg.performance.tests.indicators_fixtures import (  # noqa: F401 — fixtures
    add_seed_indicators,
    indicator_data,
    make_project,
    project,
    seed_indicators,
)
from bizreg.registration.models import ServiceRecord
from bizreg.registration.tests.records_fixtures import at

pytestmark = pytest.mark.django_db


def _messages(exc: pytest.ExceptionInfo) -> str:
    return " ".join(exc.value.messages)


# --- create / edit -------------------------------------------------------------------------------------


def test_create_sets_the_original_values(project, officer):
    indicator = services.indicator_create(project=project, actor=officer, data=indicator_data())
    assert indicator.original_target_value == Decimal(1000)
    assert indicator.original_weight == Decimal(10)
    assert indicator.original_target_text == ""


def test_duplicate_code_in_a_project_is_refused(project, officer):
    services.indicator_create(project=project, actor=officer, data=indicator_data())
    with pytest.raises(ValidationError) as exc:
        services.indicator_create(project=project, actor=officer, data=indicator_data(name="另一个"))
    assert "编号为“N1”的指标" in exc.value.message_dict["code"][0]
    assert Indicator.objects.filter(project=project).count() == 1


def test_same_code_in_another_project_is_fine(project, officer, authority):
    other = make_project(authority, code="OTHER")
    services.indicator_create(project=project, actor=officer, data=indicator_data())
    services.indicator_create(project=other, actor=officer, data=indicator_data())
    assert Indicator.objects.filter(code="N1").count() == 2


def test_unknown_metric_key_is_refused(project, officer):
    with pytest.raises(ValidationError) as exc:
        services.indicator_create(
            project=project, actor=officer, data=indicator_data(metric_key="nope.thing")
        )
    assert "nope.thing" in exc.value.message_dict["metric_key"][0]
    assert not Indicator.objects.exists()


@pytest.mark.parametrize("direction", ["ge", "le"])
def test_target_zero_is_refused_for_at_least_and_at_most(project, officer, direction):
    with pytest.raises(ValidationError) as exc:
        services.indicator_create(
            project=project, actor=officer, data=indicator_data(direction=direction, target_value=Decimal(0))
        )
    assert "不能为 0" in exc.value.message_dict["target_value"][0]
    assert not Indicator.objects.exists()


def test_target_zero_is_allowed_for_equal_and_scoring_handles_zero(project, officer):
    indicator = services.indicator_create(
        project=project, actor=officer, data=indicator_data(direction="eq", target_value=Decimal(0))
    )
    assert indicator.target_value == 0
    # scoring.py never crashes on a 0 target, whatever the direction.
    for direction in ("ge", "le", "eq"):
        score, _achievement, _met, flags = score_quantitative(
            direction=direction, target=Decimal(0), actual=Decimal(3), weight=Decimal(10)
        )
        assert score >= 0


def test_numeric_target_required_unless_qualitative(project, officer):
    with pytest.raises(ValidationError) as exc:
        services.indicator_create(project=project, actor=officer, data=indicator_data(target_value=None))
    assert "target_value" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.indicator_create(
            project=project,
            actor=officer,
            data=indicator_data(direction="qual", target_value=None, target_text=""),
        )
    assert "target_text" in exc.value.message_dict
    indicator = services.indicator_create(
        project=project,
        actor=officer,
        data=indicator_data(direction="qual", target_value=None, target_text="有效", metric_key=""),
    )
    assert indicator.original_target_text == "有效"


def test_negative_weight_and_level2_outside_level1_are_refused(project, officer):
    with pytest.raises(ValidationError) as exc:
        services.indicator_create(
            project=project, actor=officer, data=indicator_data(weight=Decimal(-1), level2="social")
        )
    assert "不能为负数" in exc.value.message_dict["weight"][0]
    assert "不属于一级指标“产出指标”" in exc.value.message_dict["level2"][0]


def test_closed_project_refuses_new_indicators(authority, officer):
    closed = make_project(authority, status=ProjectStatus.CLOSED)
    with pytest.raises(ValidationError, match="已结项"):
        services.indicator_create(project=closed, actor=officer, data=indicator_data())


def test_bad_evidence_file_is_refused(project, officer):
    upload = SimpleUploadedFile("evil.exe", b"MZ")
    with pytest.raises(ValidationError) as exc:
        services.indicator_create(project=project, actor=officer, data=indicator_data(), evidence=upload)
    assert "不支持的文件类型" in exc.value.message_dict["evidence"][0]


def test_evidence_is_stored_with_its_checksum(project, officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("proof.pdf", b"%PDF-1.4 evidence")
    indicator = services.indicator_create(
        project=project,
        actor=officer,
        data=indicator_data(metric_key="", manual_value=Decimal(900)),
        evidence=upload,
    )
    assert len(indicator.evidence_sha256) == 64
    assert indicator.evidence.name.endswith(".pdf")


def test_active_project_target_changes_only_through_adjustment(project, officer, seed_indicators):
    indicator = seed_indicators["1"]
    with pytest.raises(ValidationError) as exc:
        services.indicator_update(indicator=indicator, actor=officer, data={"target_value": Decimal(1)})
    assert "指标调整申请" in exc.value.message_dict["target_value"][0]
    updated = services.indicator_update(indicator=indicator, actor=officer, data={"data_source": "业务系统"})
    assert updated.data_source == "业务系统"
    assert updated.target_value == Decimal(382000)


def test_draft_project_edit_moves_the_original_values(authority, officer):
    draft = make_project(authority, status=ProjectStatus.DRAFT)
    indicator = services.indicator_create(project=draft, actor=officer, data=indicator_data())
    services.indicator_update(indicator=indicator, actor=officer, data={"target_value": Decimal(2000)})
    indicator.refresh_from_db()
    assert indicator.original_target_value == Decimal(2000)


# --- weights -------------------------------------------------------------------------------------------


def test_seed_weights_total_100(project, seed_indicators):
    assert services.check_weights(project) == []
    services.ensure_weights_total_100(project)
    summary = services.weight_summary(project)
    by_level = {row.level1: row.total for row in summary.by_level1}
    assert by_level == {"output": Decimal(50), "benefit": Decimal(30), "satisfaction": Decimal(10)}


def test_weights_not_totalling_100_are_refused(project, seed_indicators):
    Indicator.objects.filter(pk=seed_indicators["1"].pk).update(weight=Decimal(5))
    problems = services.check_weights(project)
    assert problems == ["权重合计应为 100，当前为 95（预算执行率 10 + 指标 85）。"]
    with pytest.raises(ValidationError, match="权重合计应为 100"):
        services.ensure_weights_total_100(project)


# --- lint ----------------------------------------------------------------------------------------------


def test_lint_flags_the_seeds_qualitative_indicators(project, seed_indicators):
    findings = services.lint_project(project)
    flagged = {f.indicator.code for f in findings if f.severity in ("error", "warning")}
    assert {"5", "8", "9", "10"} <= flagged
    assert not flagged & {"1", "2", "3", "4", "6", "7"}
    codes_of_8 = {f.code for f in findings if f.indicator.code == "8"}
    assert {"unmeasurable", "qualitative_could_be_numeric", "no_data_source"} <= codes_of_8
    suggestion = next(
        f.message for f in findings if f.indicator.code == "8" and f.code == "qualitative_could_be_numeric"
    )
    assert "registration.processing_time_yoy_change" in suggestion
    # Every seed indicator's key is published now (archives measures 6): no unregistered-key notice.
    notices = {f.indicator.code for f in findings if f.code == "unregistered_key"}
    assert notices == set()


def test_lint_manual_value_without_evidence(project, officer):
    services.indicator_create(
        project=project,
        actor=officer,
        data=indicator_data(metric_key="", manual_value=Decimal(5), data_source="台账"),
    )
    codes = {f.code for f in services.lint_project(project)}
    assert codes == {"manual_without_evidence"}


# --- wiring --------------------------------------------------------------------------------------------


def test_wiring_sets_registered_keys_only(project, officer, seed_indicators):
    Indicator.objects.filter(project=project).update(metric_key="")
    wired = services.wire_published_metrics(project=project, actor=officer)
    # 10 (满意度, qualitative) by the label of consultation.satisfaction_rate: the measured rate is the
    # evaluator's evidence, the tier stays a person's judgement.
    assert {i.code for i in wired} == {"1", "2", "3", "4", "6", "7", "10"}
    keys = dict(Indicator.objects.filter(project=project).values_list("code", "metric_key"))
    assert keys["10"] == "consultation.satisfaction_rate"
    assert keys["1"] == "registration.business_volume"
    assert keys["2"] == "consultation.hotline_answer_rate"
    assert keys["6"] == "archives.query_service_rate"
    assert keys["5"] == ""


def test_wiring_by_registered_metric_label(project, officer):
    services.indicator_create(
        project=project,
        actor=officer,
        data=indicator_data(
            code="X", name="营业执照使用率", unit="%", target_value=Decimal(99), metric_key=""
        ),
    )
    wired = services.wire_published_metrics(project=project, actor=officer)
    assert [i.metric_key for i in wired] == ["registration.licence_usage_rate"]


# --- adjustments ---------------------------------------------------------------------------------------


def test_request_then_approve_applies_target_and_weight(project, officer, manager, seed_indicators):
    one, five = seed_indicators["1"], seed_indicators["5"]
    adjustment = services.request_adjustment(
        indicator=one,
        actor=officer,
        new_target_value=Decimal(360000),
        new_weight=Decimal(12),
        counterpart=five,
        reason="业务量受政策调整影响",
    )
    one.refresh_from_db()
    assert one.target_value == Decimal(382000)  # nothing changes before approval
    services.decide_adjustment(adjustment=adjustment, action="approve", actor=manager, reason="同意")
    one.refresh_from_db()
    five.refresh_from_db()
    assert (one.target_value, one.weight) == (Decimal(360000), Decimal(12))
    assert five.weight == Decimal(13)
    assert one.original_target_value == Decimal(382000) and one.original_weight == Decimal(10)
    assert services.check_weights(project) == []
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.APPROVED
    assert adjustment.decided_by == manager and adjustment.decision_reason == "同意"
    log = list(
        PerformanceTransitionLog.objects.filter(object_type="indicatoradjustment", object_id=adjustment.pk)
    )
    assert [(r.action, r.to_state, r.actor) for r in log] == [
        ("request", "requested", officer),
        ("approve", "approved", manager),
    ]


def test_adjustment_after_close_is_refused(authority, officer):
    closed = make_project(authority, status=ProjectStatus.CLOSED)
    indicators = add_seed_indicators(closed)
    with pytest.raises(ValidationError, match="已结项"):
        services.request_adjustment(
            indicator=indicators["1"], actor=officer, new_target_value=Decimal(1), reason="晚了"
        )
    assert not IndicatorAdjustment.objects.exists()


def test_weight_change_without_counterpart_is_refused(seed_indicators, officer):
    with pytest.raises(ValidationError) as exc:
        services.request_adjustment(
            indicator=seed_indicators["1"], actor=officer, new_weight=Decimal(12), reason="加权"
        )
    assert "counterpart" in exc.value.message_dict
    assert not IndicatorAdjustment.objects.exists()


def test_counterpart_going_negative_is_refused(seed_indicators, officer):
    with pytest.raises(ValidationError) as exc:
        services.request_adjustment(
            indicator=seed_indicators["1"],
            actor=officer,
            new_weight=Decimal(20),
            counterpart=seed_indicators["9"],
            reason="加权",
        )
    assert "负数" in exc.value.message_dict["counterpart"][0]


def test_counterpart_in_another_project_is_refused(seed_indicators, officer, authority):
    other = add_seed_indicators(make_project(authority, code="OTHER"))
    with pytest.raises(ValidationError) as exc:
        services.request_adjustment(
            indicator=seed_indicators["1"],
            actor=officer,
            new_weight=Decimal(9),
            counterpart=other["5"],
            reason="x",
        )
    assert "同一项目" in exc.value.message_dict["counterpart"][0]


def test_reason_is_required_and_target_zero_refused(seed_indicators, officer):
    with pytest.raises(ValidationError) as exc:
        services.request_adjustment(
            indicator=seed_indicators["1"], actor=officer, new_target_value=Decimal(0), reason="  "
        )
    assert exc.value.message_dict["reason"] == ["请填写调整理由。"]
    assert "不能为 0" in exc.value.message_dict["new_target_value"][0]


def test_one_open_request_per_indicator(seed_indicators, officer):
    services.request_adjustment(
        indicator=seed_indicators["1"], actor=officer, new_target_value=Decimal(5), reason="a"
    )
    with pytest.raises(ValidationError, match="待审批"):
        services.request_adjustment(
            indicator=seed_indicators["1"], actor=officer, new_target_value=Decimal(6), reason="b"
        )


def test_request_without_change_is_refused(seed_indicators, officer):
    with pytest.raises(ValidationError, match="无需调整"):
        services.request_adjustment(indicator=seed_indicators["1"], actor=officer, reason="同值")


def test_officer_cannot_approve_manager_cannot_request(seed_indicators, officer, manager):
    adjustment = services.request_adjustment(
        indicator=seed_indicators["1"], actor=officer, new_target_value=Decimal(5), reason="a"
    )
    with pytest.raises(PermissionDenied):
        services.decide_adjustment(adjustment=adjustment, action="approve", actor=officer)
    with pytest.raises(PermissionDenied):
        services.request_adjustment(
            indicator=seed_indicators["3"], actor=manager, new_target_value=Decimal(5), reason="a"
        )
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.REQUESTED


def test_reject_needs_a_reason_and_decided_request_cannot_be_decided_again(seed_indicators, officer, manager):
    adjustment = services.request_adjustment(
        indicator=seed_indicators["1"], actor=officer, new_target_value=Decimal(5), reason="a"
    )
    with pytest.raises(ValidationError):
        services.decide_adjustment(adjustment=adjustment, action="reject", actor=manager, reason="")
    services.decide_adjustment(adjustment=adjustment, action="reject", actor=manager, reason="理由不足")
    with pytest.raises(TransitionNotAllowed):
        services.decide_adjustment(adjustment=adjustment, action="approve", actor=manager)
    seed_indicators["1"].refresh_from_db()
    assert seed_indicators["1"].target_value == Decimal(382000)


def test_withdraw_by_the_requester(seed_indicators, officer):
    adjustment = services.request_adjustment(
        indicator=seed_indicators["1"], actor=officer, new_target_value=Decimal(5), reason="a"
    )
    services.decide_adjustment(adjustment=adjustment, action="withdraw", actor=officer)
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.WITHDRAWN


def test_qualitative_target_adjustment(seed_indicators, officer, manager):
    adjustment = services.request_adjustment(
        indicator=seed_indicators["9"], actor=officer, new_target_text="较满意", reason="调查口径调整"
    )
    services.decide_adjustment(adjustment=adjustment, action="approve", actor=manager)
    seed_indicators["9"].refresh_from_db()
    assert seed_indicators["9"].target_text == "较满意"
    assert seed_indicators["9"].original_target_text == "满意"


# --- evaluation ----------------------------------------------------------------------------------------


def test_qualitative_evaluation_rules(seed_indicators, officer, manager):
    five = seed_indicators["5"]
    with pytest.raises(ValidationError) as exc:
        services.evaluate_indicator(indicator=five, actor=officer, tier="met", percent=Decimal(70), reason="")
    assert "80%–100%" in exc.value.message_dict["percent"][0]
    assert "reason" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.evaluate_indicator(
            indicator=five, actor=manager, tier="met", percent=Decimal(90), reason="x"
        )
    services.evaluate_indicator(
        indicator=five, actor=officer, tier="met", percent=Decimal(96), reason="处理及时", deviation_note="无"
    )
    five.refresh_from_db()
    assert (five.qualitative_tier, five.qualitative_percent, five.evaluated_by) == (
        "met",
        Decimal(96),
        officer,
    )


# --- snapshots -----------------------------------------------------------------------------------------


def _record(authority, staff, when):
    return ServiceRecord.objects.create(
        authority=authority,
        kind=ServiceRecord.Kind.INFO_ENTRY,
        staff=staff,
        enterprise_name="广州南沙测试贸易有限公司",
        occurred_at=when,
        minutes=5,
    )


def test_monthly_snapshots_month_and_ytd(
    project, officer, authority, other_authority, clerk, seed_indicators
):
    for day in (dt.date(2023, 1, 5), dt.date(2023, 1, 31), dt.date(2023, 2, 1), dt.date(2023, 2, 28)):
        _record(authority, clerk, at(day))
    _record(authority, clerk, at(dt.date(2023, 3, 1), 0, 0))  # March: not in February
    _record(other_authority, clerk, at(dt.date(2023, 2, 10)))  # another authority's record
    snapshots = services.take_monthly_snapshots(project, dt.date(2023, 2, 1))
    # Metric-key indicators whose module is registered: 1, 2, 3, 4, 6, 7.
    assert {s.indicator.code for s in snapshots} == {"1", "2", "3", "4", "6", "7"}
    feb = MonthlySnapshot.objects.get(indicator=seed_indicators["3"], month=dt.date(2023, 2, 1))
    assert (feb.month_value, feb.ytd_value) == (Decimal(2), Decimal(4))
    services.take_monthly_snapshots(project, dt.date(2023, 2, 1))  # idempotent
    assert MonthlySnapshot.objects.filter(indicator=seed_indicators["3"]).count() == 1
    call_command("performance_snapshots", "--project", str(project.pk), "--month", "2023-03")
    mar = MonthlySnapshot.objects.get(indicator=seed_indicators["3"], month=dt.date(2023, 3, 1))
    assert (mar.month_value, mar.ytd_value) == (Decimal(1), Decimal(5))


def test_snapshot_outside_the_year_is_empty(project, seed_indicators):
    assert services.take_monthly_snapshots(project, dt.date(2024, 2, 1)) == []


def test_celery_task_snapshots_active_projects(project, seed_indicators, celery_eager):
    from bizreg.performance.tasks import monthly_snapshots

    assert monthly_snapshots.delay(month="2023-05").get() == 6
    assert MonthlySnapshot.objects.filter(month=dt.date(2023, 5, 1)).count() == 6


def test_command_rejects_a_bad_month(project):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("performance_snapshots", "--month", "2023/05")
