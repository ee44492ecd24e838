"""The UI shell: navigation by role, language, error pages, escaping and the home page's real figures."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from bizreg.accounts.roles import ROLES
from bizreg.core import views
from bizreg.core.models import Authority, BackgroundJob
from bizreg.testing.factories import EnterpriseFactory

NAV_KEYS = {
    "core-home": None,
    "enterprises-list": "enterprises.view_enterprise",
    "accounts-user_list": "accounts.view_user",
    "core-access_log": "core.view_accesslog",
    "consultation-ticket_queue": "consultation.view_ticket",
    "consultation-call_list": "consultation.view_call",
    "consultation-capacity_planner": "consultation.plan_capacity",
    "consultation-pbx_imports": "consultation.import_pbx",
    "consultation-kb_list": "consultation.view_article",
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r.code for r in ROLES])
def test_navigation_shows_only_permitted_entries(role_users, client_for, role):
    user = role_users[role]
    html = client_for(user).get("/").content.decode()
    for key, permission in NAV_KEYS.items():
        visible = permission is None or user.has_perm(permission)
        assert (f'data-testid="nav-{key}"' in html) == visible, (role, key)


@pytest.mark.django_db
def test_manager_and_finance_officer_menus(role_users, client_for):
    from bizreg.core.context_processors import NAVIGATION

    manager_user = role_users["manager"]
    manager = client_for(manager_user).get("/")
    shown = [i["label"] for i in manager.context["nav_items"]]
    expected = [
        str(item.label)
        for item in NAVIGATION
        if item.permission is None or manager_user.has_perm(item.permission)
    ]
    assert shown == expected
    assert {"首页", "商事主体", "用户与角色", "个人信息访问日志"} <= set(shown)
    finance = client_for(role_users["finance_officer"]).get("/")
    assert [i["label"] for i in finance.context["nav_items"]] == [
        "首页",
        "绩效驾驶舱",
        "预算项目",
        "指标调整",
        "绩效自评报告",
    ]


@pytest.mark.django_db
def test_a_project_cockpit_marks_the_cockpit_entry_not_the_project_list(role_users, client_for, authority):
    from bizreg.performance.tests.monitoring_fixtures import make_project

    project = make_project(authority)
    response = client_for(role_users["manager"]).get(f"/performance/projects/{project.pk}/cockpit/")
    assert response.status_code == 200
    assert [i["label"] for i in response.context["nav_items"] if i["active"]] == ["绩效驾驶舱"]
    listing = client_for(role_users["manager"]).get("/performance/projects/")
    assert [i["label"] for i in listing.context["nav_items"] if i["active"]] == ["预算项目"]


@pytest.mark.django_db
def test_active_menu_entry_is_marked(role_users, client_for):
    response = client_for(role_users["manager"]).get("/accounts/users/")
    active = [i["label"] for i in response.context["nav_items"] if i["active"]]
    assert active == ["用户与角色"]


@pytest.mark.django_db
def test_default_language_is_chinese_even_for_an_english_browser(role_users, client_for):
    client = client_for(role_users["manager"])
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-CN">' in html
    assert "商事主体" in html and "退出" in html
    assert "Enterprises" not in html


@pytest.mark.django_db
def test_switching_to_english_renders_the_shell_in_english(role_users, client_for):
    client = client_for(role_users["manager"])
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    for english in ["Home", "Enterprises", "Users and roles", "Personal-data access log", "Sign out"]:
        assert english in html, english
    assert "商事主体</span>" not in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "商事主体" in client.get("/").content.decode()


@pytest.mark.django_db
def test_login_page_in_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    html = client.get("/accounts/login/").content.decode()
    assert "Staff sign-in" in html and "Password" in html


@pytest.mark.django_db
def test_unsupported_language_is_ignored(client):
    client.post("/i18n/setlang/", {"language": "xx", "next": "/accounts/login/"})
    assert "工作人员登录" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_script_in_a_display_name_is_shown_as_text(make_user, client_for):
    user = make_user("manager", display_name='<script>alert("x")</script><b>王</b>')
    html = client_for(user).get("/").content.decode()
    assert "<script>alert" not in html
    assert "<b>王</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;王&lt;/b&gt;" in html


@pytest.mark.django_db
def test_script_in_an_authority_name_is_shown_as_text(make_user, client_for):
    evil = Authority.objects.create(code="X1", name="<img src=x onerror=alert(1)>", division_code="440115")
    user = make_user("registration_clerk", authorities=[evil])
    html = client_for(user).get("/").content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


# --- error pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_404_page_is_chinese(role_users, client_for):
    response = client_for(role_users["registration_clerk"]).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and 'data-testid="error-page"' in html
    assert 'data-testid="main-nav"' in html  # the shell stays around the message


@pytest.mark.django_db
def test_403_page_is_chinese(role_users, client_for):
    response = client_for(role_users["finance_officer"]).get("/accounts/users/")
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls("bizreg.core.tests.urls_failing")
def test_400_page_is_chinese(role_users, client_for):
    response = client_for(role_users["manager"]).get("/suspicious/")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


@pytest.mark.django_db
def test_bad_host_gets_the_400_page(client):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls("bizreg.core.tests.urls_failing")
def test_500_page_is_chinese(role_users, client_for):
    client = client_for(role_users["manager"])
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "系统出错" in html
    assert "数据库连接失败" not in html  # no internals leak to the page


def test_500_page_renders_without_database_or_context_processors():
    # No django_db mark: any database access in here raises.
    request = RequestFactory().get("/anything/")
    response = views.server_error(request)
    assert response.status_code == 500
    assert "系统出错" in response.content.decode()


@pytest.mark.django_db
def test_csrf_failure_page_is_chinese(make_user):
    make_user("manager", username="csrf_user")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "csrf_user", "password": "Bizreg-Test-2026!"})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


# --- home page --------------------------------------------------------------------------------------


def _figures(response) -> dict[str, int]:
    return {f.key: f.value for f in response.context["figures"]}


@pytest.mark.django_db
def test_home_figures_are_counts_of_the_users_authority(make_user, client_for, authority, other_authority):
    EnterpriseFactory.create_batch(3, authority=authority)
    EnterpriseFactory(authority=authority, status="deregistered")
    EnterpriseFactory.create_batch(5, authority=other_authority)
    make_user("registration_clerk", authorities=[other_authority])
    make_user("archivist", is_active=False)
    manager = make_user("manager")
    response = client_for(manager).get("/")
    figures = _figures(response)
    assert figures["enterprises_total"] == 4
    assert figures["enterprises_active"] == 3
    assert figures["users_active"] == 1  # the manager; the other authority's clerk and the disabled user not
    assert figures["access_log_30d"] == 0
    assert 'data-figure="enterprises_total">4' in response.content.decode()


@pytest.mark.django_db
def test_established_per_year_chart_is_scoped(make_user, client_for, authority, other_authority):
    EnterpriseFactory.create_batch(2, authority=authority, established_on=dt.date(2019, 5, 1))
    EnterpriseFactory(authority=authority, established_on=dt.date(2021, 1, 1))
    EnterpriseFactory.create_batch(4, authority=other_authority, established_on=dt.date(2020, 1, 1))
    response = client_for(make_user("registration_clerk")).get("/")
    assert response.context["established_chart"] == [
        {"year": 2019, "count": 2},
        {"year": 2020, "count": 0},
        {"year": 2021, "count": 1},
    ]
    html = response.content.decode()
    assert 'id="chart-established"' in html
    assert "vendor/echarts/echarts.min.js" in html
    start = html.index('<script id="established-data" type="application/json">') + len(
        '<script id="established-data" type="application/json">'
    )
    assert json.loads(html[start : html.index("</script>", start)])[0] == {"year": 2019, "count": 2}
    assert response.context["entity_type_chart"] == [{"code": "llc", "label": "有限责任公司", "count": 3}]


@pytest.mark.django_db
def test_roles_without_register_access_get_no_enterprise_figures(role_users, client_for):
    response = client_for(role_users["finance_officer"]).get("/")
    assert response.context["figures"] == []
    assert response.context["established_chart"] is None
    html = response.content.decode()
    assert "您的角色暂无可显示的统计数据" in html
    assert "echarts" not in html


@pytest.mark.django_db
def test_home_lists_the_users_own_recent_actions(make_user, client_for):
    user = make_user("manager")
    other = make_user("manager")
    mine = Authority(code="440999", name="测试新设机关", division_code="440115")
    mine._history_user = user
    mine.save()
    mine.name = "测试新设机关（更名）"
    mine._history_user = user
    mine.save()
    theirs = Authority(code="440998", name="他人新设机关", division_code="440115")
    theirs._history_user = other
    theirs.save()
    response = client_for(user).get("/")
    actions = response.context["recent_actions"]
    assert [(a.verb, a.object_label) for a in actions[:2]] == [
        ("修改", "测试新设机关（更名）"),
        ("新增", "测试新设机关"),
    ]
    assert all("他人" not in a.object_label for a in actions)
    html = response.content.decode()
    assert "登记机关：测试新设机关（更名）" in html
    # Demo entries are years old: a date without its year would read as this year's.
    assert timezone.localtime(actions[0].when).strftime("%Y-%m-%d %H:%M") in html


@pytest.mark.django_db
def test_home_lists_the_users_own_jobs(make_user, client_for, authority):
    user = make_user("registration_clerk")
    job = BackgroundJob.objects.create(authority=authority, kind="core.ping", created_by=user)
    BackgroundJob.objects.create(
        authority=authority, kind="core.ping", created_by=make_user("registration_clerk")
    )
    response = client_for(user).get("/")
    assert response.context["recent_jobs"] == [job]
    assert timezone.localtime(job.created_at).strftime("%Y-%m-%d %H:%M") in response.content.decode()
    assert f'href="/jobs/{job.pk}/"' in response.content.decode()
    assert "连通性检查" in response.content.decode()


@pytest.mark.django_db
def test_home_query_count_does_not_grow_with_data(
    make_user, client_for, authority, django_assert_max_num_queries
):
    EnterpriseFactory.create_batch(20, authority=authority)
    client = client_for(make_user("manager"))
    with django_assert_max_num_queries(26):
        assert client.get("/").status_code == 200
