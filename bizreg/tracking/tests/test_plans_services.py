"""Visit plans: the default rules, rule edits, generation by each rule (idempotent, set-based), assignment,
cancellation and manual plans — with every refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.tracking.models import PlanReason, PlanRule, PlanState, VisitPlan
from bizreg.tracking.services import plans as services
from bizreg.tracking.tests.fixtures_visits import *  # noqa: F403
from bizreg.tracking.tests.fixtures_visits import (
    change_register,
    make_enterprise,
    move_out_case,
    yuan,
)

pytestmark = pytest.mark.django_db


def _plans(authority, reason):
    return list(VisitPlan.objects.filter(authority=authority, reason=reason).order_by("id"))


def _old_enterprise(authority, today, **fields):
    """An enterprise registered long before any window, its creation recorded then too."""
    day = today - dt.timedelta(days=800)
    fields.setdefault("established_on", day)
    return make_enterprise(authority, recorded=day, **fields)


# --- rules ---------------------------------------------------------------------------------------------


def test_default_rules_are_created_once_on_first_use(authority):
    rules = services.plan_rules_for(authority=authority)
    by_reason = {rule.reason: rule for rule in rules}
    assert [rule.reason for rule in rules] == list(services.GENERATED_REASONS)
    assert by_reason["new"].window_days == 90 and by_reason["new"].due_days == 30
    assert by_reason["capital"].threshold == Decimal("20") and by_reason["capital"].window_days == 90
    assert by_reason["scope"].threshold == Decimal("1")
    assert by_reason["move_out"].due_days == 5
    assert all(rule.enabled for rule in rules)
    services.plan_rules_for(authority=authority)
    assert PlanRule.objects.filter(authority=authority).count() == 5


def test_manager_edits_a_rule_and_the_history_names_them(authority, manager):
    rule = {r.reason: r for r in services.plan_rules_for(authority=authority)}["capital"]
    updated = services.plan_rule_update(
        rule=rule, actor=manager, threshold="50", window_days=30, enabled=False
    )
    assert (updated.threshold, updated.window_days, updated.enabled) == (Decimal("50.00"), 30, False)
    assert updated.history.first().history_user == manager


@pytest.mark.parametrize(
    ("reason", "fields", "field"),
    [
        ("new", {"window_days": 0}, "window_days"),
        ("new", {"window_days": "九十"}, "window_days"),
        ("new", {"due_days": 400}, "due_days"),
        ("capital", {"threshold": "2000"}, "threshold"),
        ("capital", {"threshold": "-1"}, "threshold"),
        ("scope", {"threshold": "0.5"}, "threshold"),
        ("scope", {"threshold": "abc"}, "threshold"),
    ],
)
def test_rule_values_out_of_range_are_refused(authority, manager, reason, fields, field):
    rule = {r.reason: r for r in services.plan_rules_for(authority=authority)}[reason]
    with pytest.raises(ValidationError) as exc:
        services.plan_rule_update(rule=rule, actor=manager, **fields)
    assert field in exc.value.message_dict


def test_only_a_manager_of_the_authority_edits_rules(authority, other_authority, officer, make_user):
    rule = services.plan_rules_for(authority=authority)[0]
    with pytest.raises(PermissionDenied):
        services.plan_rule_update(rule=rule, actor=officer, window_days=10)
    foreign_manager = make_user("manager", authorities=[other_authority])
    with pytest.raises(PermissionDenied):
        services.plan_rule_update(rule=rule, actor=foreign_manager, window_days=10)


# --- generation ----------------------------------------------------------------------------------------


def test_new_enterprises_within_the_window_get_a_plan_once(authority, other_authority, today):
    new = make_enterprise(authority, established_on=today - dt.timedelta(days=10))
    make_enterprise(authority, established_on=today - dt.timedelta(days=200))
    make_enterprise(authority, established_on=today - dt.timedelta(days=5), status="deregistered")
    make_enterprise(other_authority, established_on=today - dt.timedelta(days=5))

    assert services.plans_generate(authority=authority, today=today) == 1
    (plan,) = _plans(authority, PlanReason.NEW_ENTERPRISE)
    assert plan.enterprise == new
    assert plan.state == PlanState.OPEN
    assert plan.trigger == f"新设立企业，成立日期 {new.established_on:%Y-%m-%d}"
    assert (plan.planned_on, plan.due_on) == (today, today + dt.timedelta(days=30))
    # A second run (the daily task after the manager's click) adds nothing.
    assert services.plans_generate(authority=authority, today=today) == 0
    assert services.plans_generate(authority=authority, today=today + dt.timedelta(days=1)) == 0


def test_individual_businesses_and_branches_are_not_new_enterprises(authority, today):
    company = make_enterprise(authority, established_on=today - dt.timedelta(days=10))
    make_enterprise(authority, established_on=today - dt.timedelta(days=10), entity_type="individual")
    make_enterprise(authority, established_on=today - dt.timedelta(days=10), entity_type="branch")

    services.plans_generate(authority=authority, today=today)
    assert [p.enterprise for p in _plans(authority, PlanReason.NEW_ENTERPRISE)] == [company]


def test_capital_increase_at_or_over_the_threshold(authority, today):
    raised = _old_enterprise(authority, today, registered_capital=yuan("100"))
    change_register(raised, on=today - dt.timedelta(days=5), registered_capital=yuan("150"))
    small = _old_enterprise(authority, today, registered_capital=yuan("100"))
    change_register(small, on=today - dt.timedelta(days=5), registered_capital=yuan("110"))
    long_ago = _old_enterprise(authority, today, registered_capital=yuan("100"))
    change_register(long_ago, on=today - dt.timedelta(days=200), registered_capital=yuan("300"))
    other_change = _old_enterprise(authority, today, registered_capital=yuan("100"))
    change_register(other_change, on=today - dt.timedelta(days=3), address="广州市南沙区海滨路1号")

    services.plans_generate(authority=authority, today=today)
    (plan,) = _plans(authority, PlanReason.CAPITAL_INCREASE)
    assert plan.enterprise == raised
    assert plan.trigger == "注册资本由 100 万元增至 150 万元"
    assert plan.trigger_key.startswith("history:")
    assert services.plans_generate(authority=authority, today=today) == 0


def test_two_small_raises_in_the_window_add_up(authority, today):
    enterprise = _old_enterprise(authority, today, registered_capital=yuan("100"))
    change_register(enterprise, on=today - dt.timedelta(days=40), registered_capital=yuan("110"))
    change_register(enterprise, on=today - dt.timedelta(days=4), registered_capital=yuan("123.2"))
    services.plans_generate(authority=authority, today=today)
    (plan,) = _plans(authority, PlanReason.CAPITAL_INCREASE)
    assert plan.trigger == "注册资本由 100 万元增至 123.2 万元"
    # Once the first raise has left the window, the same event is not planned again.
    assert services.plans_generate(authority=authority, today=today + dt.timedelta(days=60)) == 0


def test_scope_widened_by_the_threshold_number_of_items(authority, manager, today):
    widened = _old_enterprise(authority, today, business_scope="软件开发；信息技术咨询服务")
    change_register(
        widened,
        on=today - dt.timedelta(days=8),
        business_scope="软件开发；信息技术咨询服务；数据处理和存储支持服务",
    )
    reordered = _old_enterprise(authority, today, business_scope="软件开发；信息技术咨询服务")
    change_register(reordered, on=today - dt.timedelta(days=8), business_scope="信息技术咨询服务、软件开发。")

    services.plans_generate(authority=authority, today=today)
    (plan,) = _plans(authority, PlanReason.SCOPE_WIDENED)
    assert plan.enterprise == widened
    assert plan.trigger == "经营范围新增 1 项：数据处理和存储支持服务"

    rule = PlanRule.objects.get(authority=authority, reason=PlanReason.SCOPE_WIDENED)
    services.plan_rule_update(rule=rule, actor=manager, threshold=2)
    VisitPlan.objects.filter(reason=PlanReason.SCOPE_WIDENED).delete()
    assert services.plans_generate(authority=authority, today=today) == 0


def test_new_branch_plans_a_visit_to_its_local_parent(authority, today):
    parent = _old_enterprise(authority, today, name="广州南沙甲乙科技有限公司")
    _old_enterprise(authority, today, name="广州南沙甲乙科技有限公司天河分公司", status="deregistered")
    make_enterprise(
        authority,
        name="广州南沙甲乙科技有限公司天河分公司",
        entity_type="branch",
        established_on=today - dt.timedelta(days=3),
    )
    make_enterprise(
        authority,
        name="深圳某某集团有限公司南沙分公司",
        entity_type="branch",
        established_on=today - dt.timedelta(days=3),
    )
    services.plans_generate(authority=authority, today=today)
    (plan,) = _plans(authority, PlanReason.NEW_BRANCH)
    assert plan.enterprise == parent
    assert plan.trigger.startswith("新设分支机构：广州南沙甲乙科技有限公司天河分公司")


def test_every_move_out_application_gets_a_plan(authority, enterprise, today):
    case = move_out_case(enterprise, received=today - dt.timedelta(days=2))
    move_out_case(enterprise, received=today - dt.timedelta(days=1), state="withdrawn")
    move_out_case(enterprise, received=today - dt.timedelta(days=300))

    assert services.plans_generate(authority=authority, today=today) == 1
    (plan,) = _plans(authority, PlanReason.MOVE_OUT)
    assert plan.trigger_key == f"case:{case.number}"
    assert plan.source_case_number == case.number
    assert "深圳市市场监督管理局" in plan.trigger
    assert plan.due_on == today + dt.timedelta(days=5)
    assert services.plans_generate(authority=authority, today=today) == 0


def test_a_disabled_rule_generates_nothing(authority, manager, today):
    make_enterprise(authority, established_on=today - dt.timedelta(days=10))
    rule = PlanRule.objects.get(pk=services.plan_rules_for(authority=authority)[0].pk)
    services.plan_rule_update(rule=rule, actor=manager, enabled=False)
    assert services.plans_generate(authority=authority, today=today) == 0


def test_a_shorter_window_leaves_older_enterprises_out(authority, manager, today):
    make_enterprise(authority, established_on=today - dt.timedelta(days=40))
    rule = services.plan_rules_for(authority=authority)[0]
    services.plan_rule_update(rule=rule, actor=manager, window_days=30)
    assert services.plans_generate(authority=authority, today=today) == 0


def test_generation_needs_the_manager_permission_and_the_authority(
    authority, other_authority, officer, make_user
):
    with pytest.raises(PermissionDenied):
        services.plans_generate(authority=authority, actor=officer)
    with pytest.raises(PermissionDenied):
        services.plans_generate(
            authority=authority, actor=make_user("manager", authorities=[other_authority])
        )


def test_generation_reads_the_register_set_based(authority, today):
    """The same number of reads for 3 or 30 events of each kind (no per-enterprise query)."""

    def populate(n):
        for i in range(n):
            make_enterprise(authority, established_on=today - dt.timedelta(days=5))
            grown = _old_enterprise(
                authority, today, registered_capital=yuan("100"), name=f"成长{i}{n}有限公司"
            )
            change_register(
                grown,
                on=today - dt.timedelta(days=2),
                registered_capital=yuan("200"),
                business_scope="甲；乙",
            )
            make_enterprise(
                authority,
                name=f"成长{i}{n}有限公司南沙分公司",
                entity_type="branch",
                established_on=today - dt.timedelta(days=2),
            )
            move_out_case(grown, received=today - dt.timedelta(days=1))

    def count():
        # The inserts come in batches (SQLite binds few parameters a statement); the reads must not grow.
        with CaptureQueriesContext(connection) as queries:
            services.plans_generate(authority=authority, today=today)
        return sum(1 for query in queries.captured_queries if not query["sql"].startswith("INSERT"))

    services.plan_rules_for(authority=authority)
    populate(3)
    small = count()
    VisitPlan.objects.all().delete()
    populate(27)
    assert VisitPlan.objects.count() == 0
    large = count()
    assert VisitPlan.objects.filter(reason=PlanReason.NEW_BRANCH).count() == 30
    assert large == small
    assert small < 15


def test_the_capital_and_scope_rules_read_the_register_history_once_when_they_share_a_window(
    authority, manager, today
):
    grown = _old_enterprise(authority, today, registered_capital=yuan("100"), business_scope="甲")
    change_register(
        grown, on=today - dt.timedelta(days=5), registered_capital=yuan("200"), business_scope="甲；乙"
    )

    def history_reads() -> int:
        with CaptureQueriesContext(connection) as queries:
            services.plans_generate(authority=authority, today=today)
        return sum(
            1
            for query in queries.captured_queries
            # a read: a SELECT, or on PostgreSQL the DECLARE of the server-side cursor `iterator()` uses
            if query["sql"].startswith(("SELECT", "DECLARE"))
            and "enterprises_historicalenterprise" in query["sql"]
        )

    assert history_reads() == 1  # both rules at the default 90 days
    assert {p.reason for p in VisitPlan.objects.all()} >= {
        PlanReason.CAPITAL_INCREASE,
        PlanReason.SCOPE_WIDENED,
    }
    rule = PlanRule.objects.get(authority=authority, reason=PlanReason.SCOPE_WIDENED)
    services.plan_rule_update(rule=rule, actor=manager, window_days=30)
    assert history_reads() == 2


# --- assignment, cancellation, manual plans --------------------------------------------------------------


def test_manager_assigns_a_plan_to_an_officer(plan, manager, officer, other_officer, today):
    assigned = services.plan_assign(
        plan=plan, officer=other_officer, actor=manager, due_on=today + dt.timedelta(days=3)
    )
    assert assigned.state == PlanState.ASSIGNED
    assert assigned.officer == other_officer
    assert assigned.due_on == today + dt.timedelta(days=3)
    assert assigned.history.first().history_user == manager


def test_assignment_refusals(plan, manager, officer, clerk, foreign_officer, today):
    with pytest.raises(ValidationError) as exc:
        services.plan_assign(plan=plan, officer=clerk, actor=manager)
    assert "不是企业服务专员" in exc.value.message_dict["officer"][0]
    with pytest.raises(ValidationError) as exc:
        services.plan_assign(plan=plan, officer=foreign_officer, actor=manager)
    assert "不属于该登记机关" in exc.value.message_dict["officer"][0]
    with pytest.raises(ValidationError) as exc:
        services.plan_assign(plan=plan, officer=None, actor=manager)
    assert exc.value.message_dict["officer"] == ["请选择走访专员。"]
    with pytest.raises(ValidationError) as exc:
        services.plan_assign(plan=plan, officer=officer, actor=manager, due_on=today - dt.timedelta(days=1))
    assert exc.value.message_dict["due_on"] == ["走访期限不能早于今天。"]
    with pytest.raises(PermissionDenied):
        services.plan_assign(plan=plan, officer=officer, actor=officer)


def test_a_cancelled_plan_cannot_be_assigned(plan, manager, officer):
    with pytest.raises(ValidationError) as exc:
        services.plan_cancel(plan=plan, actor=manager, reason="  ")
    assert exc.value.message_dict["reason"] == ["请填写取消原因。"]
    cancelled = services.plan_cancel(plan=plan, actor=manager, reason="企业已注销")
    assert (cancelled.state, cancelled.cancel_reason) == (PlanState.CANCELLED, "企业已注销")
    with pytest.raises(TransitionNotAllowed):
        services.plan_assign(plan=cancelled, officer=officer, actor=manager)
    with pytest.raises(TransitionNotAllowed):
        services.plan_cancel(plan=cancelled, actor=manager, reason="再次")


def test_an_officer_cannot_cancel(plan, officer):
    with pytest.raises(PermissionDenied):
        services.plan_cancel(plan=plan, actor=officer, reason="不想去")


def test_manual_plan(authority, enterprise, foreign_enterprise, manager, officer, today):
    plan = services.plan_add(
        authority=authority,
        enterprise=enterprise,
        actor=manager,
        due_on=today + dt.timedelta(days=7),
        note="区领导交办",
    )
    assert (plan.reason, plan.state, plan.officer) == (PlanReason.MANUAL, PlanState.OPEN, None)
    assert plan.trigger == "人工添加：区领导交办"
    assigned = services.plan_add(
        authority=authority, enterprise=enterprise, actor=manager, due_on=today, officer=officer, note="回访"
    )
    assert (assigned.state, assigned.officer) == (PlanState.ASSIGNED, officer)

    with pytest.raises(ValidationError) as exc:
        services.plan_add(
            authority=authority, enterprise=foreign_enterprise, actor=manager, due_on=today, note="x"
        )
    assert "enterprise" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.plan_add(authority=authority, enterprise=enterprise, actor=manager, due_on=None, note="")
    assert set(exc.value.message_dict) == {"due_on", "note"}
    with pytest.raises(PermissionDenied):
        services.plan_add(authority=authority, enterprise=enterprise, actor=officer, due_on=today, note="x")
