"""The cockpit page: who may open it, which project and day it shows, and what a manager reads on it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from bizreg.performance.models import ProjectStatus
from bizreg.performance.selectors import monitoring
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


@pytest.fixture
def project(authority, role_users):
    project = make_project(authority)
    line = make_line(project, "L01", "1000000", name="商事登记辅助项目")
    pay(project, line, D(2023, 3, 1), "400000")
    clerk = role_users["registration_clerk"]
    for year in (2021, 2022):
        service_records(authority, clerk, year, BUSY_DECEMBER)
    service_records(authority, clerk, 2023, BUSY_DECEMBER, until=D(2023, 7, 1))
    make_indicator(project, "1", target_value=Decimal(300))  # 200 projected by 30 June: red
    return project


def cockpit_url(project, **query) -> str:
    url = reverse("performance:cockpit", args=[project.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def page_data(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="cockpit-data" type="application/json">') + len(
        '<script id="cockpit-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


@pytest.mark.parametrize("role", ["manager", "finance_officer"])
def test_manager_and_finance_officer_see_the_cockpit(client_for, role_users, project, role):
    response = client_for(role_users[role]).get(cockpit_url(project, as_of="2023-06-30"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "绩效双监控驾驶舱" in html
    assert "预计无法完成年度指标" in html
    assert "全年预计 200份，低于年度指标值 300份" in html
    assert 'data-light="red"' in html
    assert "vendor/echarts/echarts.min.js" in html and "performance/cockpit.js" in html
    data = page_data(response)
    assert data["as_of"] == "2023-06-30"
    assert data["indicators"][0]["projected"] == 200.0
    assert data["budget"]["rate"] == 40.0


def test_only_the_finance_officer_gets_the_adjustment_link(client_for, role_users, project, monkeypatch):
    monkeypatch.setattr(
        monitoring, "reverse", lambda name, args: f"/performance/indicators/{args[0]}/adjust/"
    )
    officer = client_for(role_users["finance_officer"]).get(cockpit_url(project, as_of="2023-06-30"))
    manager = client_for(role_users["manager"]).get(cockpit_url(project, as_of="2023-06-30"))
    assert 'data-testid="suggest-adjustment"' in officer.content.decode()
    assert "suggested=1" in page_data(officer)["indicators"][0]["adjust_url"]
    assert 'data-testid="suggest-adjustment"' not in manager.content.decode()
    assert "建议调整年度指标值为 200" in manager.content.decode()


@pytest.mark.parametrize("role", ["registration_clerk", "archivist", "hotline_agent"])
def test_other_roles_are_refused(client_for, role_users, project, role):
    client = client_for(role_users[role])
    assert client.get(cockpit_url(project)).status_code == 403
    assert client.get(reverse("performance:cockpit_home")).status_code == 403


def test_another_authoritys_project_is_not_found(client_for, make_user, other_authority, project):
    outsider = make_user("manager", authorities=[other_authority])
    client = client_for(outsider)
    assert client.get(cockpit_url(project)).status_code == 404
    assert client.get(reverse("performance:cockpit_home") + f"?project={project.pk}").status_code == 404
    # Their own home page does not fall back to someone else's project.
    response = client.get(reverse("performance:cockpit_home"))
    assert response.status_code == 200 and 'data-testid="cockpit-empty"' in response.content.decode()


def test_anonymous_is_sent_to_login(client, project):
    response = client.get(cockpit_url(project))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_home_opens_the_latest_active_project(client_for, role_users, authority, project):
    make_project(authority, year=2024, code="DRAFT", status=ProjectStatus.DRAFT)
    older = make_project(authority, year=2022, code="OLD")
    response = client_for(role_users["manager"]).get(reverse("performance:cockpit_home"))
    assert response.status_code == 200
    assert page_data(response)["project"]["id"] == project.pk
    chosen = client_for(role_users["manager"]).get(
        reverse("performance:cockpit_home") + f"?project={older.pk}&as_of=2022-03-31"
    )
    assert page_data(chosen)["project"]["id"] == older.pk
    assert page_data(chosen)["as_of"] == "2022-03-31"


def test_as_of_defaults_to_today_clamped_into_the_year(client_for, role_users, project):
    # Today is after 2023: the year-end state, with every payment and record of the year.
    response = client_for(role_users["manager"]).get(cockpit_url(project))
    assert page_data(response)["as_of"] == "2023-12-31"
    outside = client_for(role_users["manager"]).get(cockpit_url(project, as_of="2025-05-01"))
    assert page_data(outside)["as_of"] == "2023-12-31"
    assert 'data-testid="as-of-clamped"' in outside.content.decode()


def test_a_bad_date_is_a_form_error_not_a_crash(client_for, role_users, project):
    response = client_for(role_users["manager"]).get(cockpit_url(project, as_of="2023-13-45"))
    assert response.status_code == 200
    assert "请输入有效日期" in response.content.decode()
    assert page_data(response)["as_of"] == "2023-12-31"


def test_bad_project_parameter_is_not_found(client_for, role_users, project):
    response = client_for(role_users["manager"]).get(reverse("performance:cockpit_home") + "?project=abc")
    assert response.status_code == 404


def test_query_count_does_not_grow_with_indicators(
    client_for, role_users, project, django_assert_max_num_queries
):
    client = client_for(role_users["manager"])
    client.get(cockpit_url(project, as_of="2023-06-30"))
    with django_assert_max_num_queries(60) as ctx:
        client.get(cockpit_url(project, as_of="2023-06-30"))
    few = len(ctx.captured_queries)
    for code in ("2", "3", "4"):
        make_indicator(project, code, metric_key="", manual_value=Decimal(1))
    with django_assert_max_num_queries(few) as ctx:
        client.get(cockpit_url(project, as_of="2023-06-30"))


def test_the_date_box_shows_the_day_displayed(client_for, role_users, project):
    response = client_for(role_users["manager"]).get(cockpit_url(project, as_of="2023-06-30"))
    assert 'type="date"' in response.content.decode()
    assert 'value="2023-06-30"' in response.content.decode()


def test_the_suggestion_link_opens_the_prefilled_adjustment_request(client_for, role_users, project):
    officer = client_for(role_users["finance_officer"])
    row = page_data(officer.get(cockpit_url(project, as_of="2023-06-30")))["indicators"][0]
    indicator_pk = row["id"]
    assert row["adjust_url"].startswith(reverse("performance:adjustment_create", args=[indicator_pk]) + "?")
    form = officer.get(row["adjust_url"])
    assert form.status_code == 200
    html = form.content.decode()
    assert "全年预计 200份，低于年度指标值 300份" in html
    assert 'value="200"' in html
