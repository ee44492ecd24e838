"""Plan pages: who may see them (officer, manager; 403 for other roles, 404 for another authority's plan),
the list's filters and export, "generate now", assignment, cancellation, manual plans and the rules page."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bizreg.tracking.models import PlanReason, PlanRule, PlanState, VisitPlan
from bizreg.tracking.services import plans as services
from bizreg.tracking.tests.fixtures_visits import *  # noqa: F403
from bizreg.tracking.tests.fixtures_visits import make_enterprise, make_plan

pytestmark = pytest.mark.django_db


def _user(role, **users):
    return users[role]


@pytest.mark.parametrize(
    ("role", "status"), [("officer", 200), ("manager", 200), ("department_member", 403), ("clerk", 403)]
)
def test_plan_pages_by_role(client_for, plan, officer, manager, department_member, clerk, role, status):
    user = {"officer": officer, "manager": manager, "department_member": department_member, "clerk": clerk}[
        role
    ]
    client = client_for(user)
    for url in (
        reverse("tracking:plan_list"),
        reverse("tracking:plan_detail", args=[plan.pk]),
        reverse("tracking:plan_rules"),
    ):
        assert client.get(url).status_code == status, url


def test_another_authoritys_plan_is_not_found(client_for, foreign_enterprise, officer, manager):
    plan = make_plan(foreign_enterprise)
    assert client_for(officer).get(reverse("tracking:plan_detail", args=[plan.pk])).status_code == 404
    assert client_for(manager).get(reverse("tracking:plan_assign", args=[plan.pk])).status_code == 404
    assert client_for(manager).get(reverse("tracking:plan_list")).content.decode().count("plan-row") == 0


def test_list_filters(client_for, authority, enterprise, officer, manager, today):
    other = make_enterprise(
        authority, name="广州南沙海港物流有限公司", established_on=today - dt.timedelta(days=20)
    )
    overdue = make_plan(enterprise, officer=officer, due_in=-3)
    make_plan(other, reason=PlanReason.MOVE_OUT)
    client = client_for(manager)

    def rows(query):
        return (
            client.get(reverse("tracking:plan_list") + query).content.decode().count('data-testid="plan-row"')
        )

    assert rows("") == 2
    assert rows("?due=overdue") == 1
    assert rows("?reason=move_out") == 1
    assert rows("?officer=none") == 1
    assert rows(f"?officer={officer.pk}") == 1
    assert rows("?q=海港") == 1
    assert rows(f"?q={enterprise.uscc}") == 1
    assert rows("?state=assigned") == 1
    assert (
        client_for(officer)
        .get(reverse("tracking:plan_list") + "?officer=me")
        .content.decode()
        .count('data-testid="plan-row"')
        == 1
    )
    assert overdue.due_on < today


def test_list_export(client_for, plan, manager):
    response = client_for(manager).get(reverse("tracking:plan_list") + "?export=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    header, row = list(sheet.iter_rows(values_only=True))[:2]
    assert header[0] == "企业名称" and row[0] == plan.enterprise.name and row[5] == "已分派"


def test_manager_generates_now_and_officer_may_not(client_for, authority, manager, officer, today):
    make_enterprise(authority, established_on=today - dt.timedelta(days=3))
    assert client_for(officer).post(reverse("tracking:plan_generate")).status_code == 403
    response = client_for(manager).post(reverse("tracking:plan_generate"), follow=True)
    assert "已按规则生成 1 条走访计划。" in response.content.decode()
    assert VisitPlan.objects.filter(authority=authority, reason=PlanReason.NEW_ENTERPRISE).count() == 1
    response = client_for(manager).post(reverse("tracking:plan_generate"), follow=True)
    assert "没有需要新增的走访计划" in response.content.decode()
    assert client_for(manager).get(reverse("tracking:plan_generate")).status_code == 405


def test_assign_page(client_for, enterprise, manager, officer, other_officer, clerk, today):
    plan = make_plan(enterprise)
    url = reverse("tracking:plan_assign", args=[plan.pk])
    assert client_for(officer).get(url).status_code == 403
    client = client_for(manager)
    page = client.get(url).content.decode()
    assert str(other_officer) in page and str(clerk) not in page
    response = client.post(url, {"officer": clerk.pk})
    assert response.status_code == 400
    due = today + dt.timedelta(days=2)
    response = client.post(url, {"officer": other_officer.pk, "due_on": due.isoformat()})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.state, plan.officer, plan.due_on) == (PlanState.ASSIGNED, other_officer, due)


def test_cancel_page_needs_a_reason_and_a_cancelled_plan_is_a_conflict(client_for, plan, manager):
    url = reverse("tracking:plan_cancel", args=[plan.pk])
    client = client_for(manager)
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "请填写取消原因。" in response.content.decode()
    assert client.post(url, {"reason": "企业已迁出"}).status_code == 302
    plan.refresh_from_db()
    assert plan.state == PlanState.CANCELLED
    assert client.post(url, {"reason": "再次"}).status_code == 409
    assert client.post(reverse("tracking:plan_assign", args=[plan.pk]), {"officer": ""}).status_code in (
        400,
        409,
    )
    assert client.get(reverse("tracking:plan_assign", args=[plan.pk])).status_code == 409


def test_manual_plan_page(client_for, enterprise, foreign_enterprise, manager, officer, today):
    url = reverse("tracking:plan_add")
    assert client_for(officer).get(url).status_code == 403
    client = client_for(manager)
    response = client.post(
        url, {"enterprise": foreign_enterprise.uscc, "note": "x", "due_on": today.isoformat()}
    )
    assert response.status_code == 400
    assert "企业不存在或不属于本登记机关。" in response.content.decode()
    response = client.post(
        url,
        {
            "enterprise": enterprise.uscc,
            "note": "区领导交办",
            "due_on": today.isoformat(),
            "officer": officer.pk,
        },
    )
    assert response.status_code == 302
    plan = VisitPlan.objects.get(reason=PlanReason.MANUAL)
    assert (plan.enterprise, plan.officer, plan.state) == (enterprise, officer, PlanState.ASSIGNED)


def _rules_post(authority, **overrides):
    data = {}
    for rule in services.plan_rules_for(authority=authority):
        prefix = rule.reason
        if rule.enabled:
            data[f"{prefix}-enabled"] = "on"
        data[f"{prefix}-window_days"] = rule.window_days
        data[f"{prefix}-threshold"] = rule.threshold
        data[f"{prefix}-due_days"] = rule.due_days
        data[f"{prefix}-note"] = rule.note
    data.update(overrides)
    return data


def test_rules_page(client_for, authority, manager, officer):
    url = reverse("tracking:plan_rules")
    assert client_for(officer).post(url, _rules_post(authority)).status_code == 403
    page = client_for(officer).get(url).content.decode()
    assert "disabled" in page and "rules-save" not in page
    client = client_for(manager)
    data = _rules_post(authority, **{"capital-threshold": "30", "new-window_days": "60"})
    data.pop("branch-enabled")
    assert client.post(url, data).status_code == 302
    rules = {r.reason: r for r in PlanRule.objects.filter(authority=authority)}
    assert rules["capital"].threshold == 30 and rules["new"].window_days == 60 and not rules["branch"].enabled


def test_rules_page_refuses_bad_values_and_saves_nothing(client_for, authority, manager):
    url = reverse("tracking:plan_rules")
    data = _rules_post(authority, **{"scope-threshold": "0.5", "new-window_days": "45"})
    response = client_for(manager).post(url, data)
    assert response.status_code == 400
    assert "经营范围新增项目数须为不小于 1 的整数。" in response.content.decode()
    assert PlanRule.objects.get(authority=authority, reason="new").window_days == 90
