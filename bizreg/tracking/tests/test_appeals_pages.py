"""The appeal and department pages: who may open them (403 by role, 404 for another authority's or another
department's appeal), the list with its filters and Excel export (masked), raising an appeal (from a visit,
bad input shown on the form), the steps (an appeal closed without feedback refused on the page, a stale
step 409), the full contact (logged) and the department admin."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bizreg.core.models import AccessLog
from bizreg.testing.factories import EnterpriseFactory
from bizreg.tracking.models import Appeal, AppealState, Department, Visit
from bizreg.tracking.services import appeals as services
from bizreg.tracking.tests.fixtures_appeals import *  # noqa: F403 — fixtures
from bizreg.tracking.tests.fixtures_appeals import PHONE, add_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("appeal_clock")]
D = dt.date


def detail(appeal) -> str:
    return reverse("tracking:appeal_detail", args=[appeal.pk])


def step(appeal, action: str) -> str:
    return reverse(f"tracking:appeal_{action}", args=[appeal.pk])


# --- who may open what ---------------------------------------------------------------------------------


def test_list_by_role(client_for, role_users, routed_appeal, member):
    routed_appeal()
    url = reverse("tracking:appeal_list")
    for code in ("registration_clerk", "hotline_agent", "archivist", "investigator", "finance_officer"):
        assert client_for(role_users[code]).get(url).status_code == 403, code
    for code in ("enterprise_officer", "manager", "department_viewer"):
        assert client_for(role_users[code]).get(url).status_code == 200, code
    page = client_for(member).get(url).content.decode()
    assert "本部门诉求" in page and "区发展和改革局" in page


def test_a_member_lists_and_opens_only_their_departments_appeals(
    client_for, raise_appeal, routed_appeal, member, other_department, officer
):
    mine = routed_appeal(title="贷款贴息")
    theirs = services.appeal_route(
        appeal=raise_appeal(title="招工难"), department=other_department, actor=officer
    )
    unrouted = raise_appeal(title="租金补贴")
    client = client_for(member)
    page = client.get(reverse("tracking:appeal_list")).content.decode()
    assert "贷款贴息" in page and "招工难" not in page and "租金补贴" not in page
    assert client.get(detail(mine)).status_code == 200
    assert client.get(detail(theirs)).status_code == 404
    assert client.get(detail(unrouted)).status_code == 404


def test_another_authority_gets_404(client_for, make_user, other_authority, raise_appeal):
    appeal = raise_appeal()
    stranger = client_for(make_user("enterprise_officer", authorities=[other_authority]))
    assert stranger.get(detail(appeal)).status_code == 404
    assert (
        stranger.post(step(appeal, "close"), {"close-satisfaction": "5", "close-feedback": "x"}).status_code
        == 404
    )
    assert appeal.number not in stranger.get(reverse("tracking:appeal_list")).content.decode()
    appeal.refresh_from_db()
    assert appeal.state == AppealState.REGISTERED


def test_detail_shows_the_timeline_and_the_steps_the_user_may_take(
    client_for, routed_appeal, officer, member, manager
):
    appeal = routed_appeal()
    page = client_for(officer).get(detail(appeal)).content.decode()
    assert 'data-testid="timeline"' in page and "登记诉求" in page and "转办" in page
    assert 'data-testid="step-close"' in page and 'data-testid="step-route"' in page
    assert 'data-testid="step-answer"' not in page
    assert PHONE not in page and "139****5678" in page
    page = client_for(member).get(detail(appeal)).content.decode()
    assert 'data-testid="step-answer"' in page and 'data-testid="step-close"' not in page
    page = client_for(manager).get(detail(appeal)).content.decode()
    assert 'data-testid="actions"' not in page


# --- list, filters, export -----------------------------------------------------------------------------


def test_list_filters_and_paging(client_for, raise_appeal, routed_appeal, officer):
    routed_appeal(title="贷款贴息")
    raise_appeal(title="招工难", category="labour")
    client = client_for(officer)
    url = reverse("tracking:appeal_list")
    page = client.get(url, {"category": "labour"}).content.decode()
    assert "招工难" in page and "贷款贴息" not in page
    page = client.get(url, {"state": "routed"}).content.decode()
    assert "贷款贴息" in page and "招工难" not in page
    page = client.get(url, {"raised_from": "2026-03-05", "raised_to": "2026-03-01"}).content.decode()
    assert "起始日期不能晚于截止日期。" in page
    page = client.get(url, {"q": "贴息"}).content.decode()
    assert page.count('data-testid="appeal-row"') == 1


def test_excel_export_is_masked_and_logged(client_for, routed_appeal, officer):
    appeal = routed_appeal()
    response = client_for(officer).get(reverse("tracking:appeal_list"), {"export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "诉求编号" and rows[1][0] == appeal.number
    assert "139****5678" in rows[1] and PHONE not in rows[1] and "刘*务" in rows[1]
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT, object_type="tracking.Appeal").exists()


def test_the_full_contact_is_shown_to_the_department_and_logged(
    client_for, routed_appeal, member, manager, officer
):
    appeal = routed_appeal()
    url = reverse("tracking:appeal_contact", args=[appeal.pk])
    assert client_for(officer).post(url).status_code == 403  # no personal-data permission, not the department
    assert client_for(manager).post(url).status_code == 200  # core.view_full_personal_data
    response = client_for(member).post(url)
    assert response.status_code == 200 and PHONE in response.content.decode()
    assert AccessLog.objects.filter(
        user=member, action=AccessLog.Action.VIEW, object_id=str(appeal.pk)
    ).exists()


# --- raising -------------------------------------------------------------------------------------------


def form_data(company, **overrides) -> dict:
    data = {
        "enterprise": company.uscc,
        "category": "premises",
        "title": "厂房租金补贴",
        "description": "咨询新落户企业厂房租金补贴的申请条件。",
        "contact_name": "刘财务",
        "contact_phone": PHONE,
    }
    data.update(overrides)
    return data


def phoned_visit(authority, company, officer, number: str) -> Visit:
    return Visit.objects.create(
        authority=authority,
        number=number,
        enterprise=company,
        officer=officer,
        method="phone",
        visited_on=D(2026, 3, 2),
        contact_name="刘财务",
        contact_phone=PHONE,
    )


def test_officer_raises_an_appeal_from_a_visit(client_for, officer, authority, company):
    visit = phoned_visit(authority, company, officer, "走202600007")
    client = client_for(officer)
    page = client.get(reverse("tracking:appeal_new"), {"visit": visit.pk}).content.decode()
    assert company.uscc in page and "走202600007" in page and f'value="{visit.pk}"' in page
    response = client.post(reverse("tracking:appeal_new"), form_data(company, visit=visit.pk))
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(appeal)
    assert appeal.visit == visit and appeal.raised_by == officer
    assert client.get(reverse("tracking:appeal_new"), {"visit": 99999}).status_code == 404


def test_the_source_visit_links_only_for_who_may_open_it(
    client_for, officer, authority, company, raise_appeal, department, member
):
    """The department the appeal is routed to sees which visit it came from, but not as a link to a visit
    page it may not open (403)."""
    visit = phoned_visit(authority, company, officer, "走202600008")
    appeal = services.appeal_route(appeal=raise_appeal(visit=visit), department=department, actor=officer)
    as_officer = client_for(officer).get(detail(appeal)).content.decode()
    assert f'href="/tracking/visits/{visit.pk}/" data-testid="visit-link"' in as_officer
    as_member = client_for(member).get(detail(appeal)).content.decode()
    assert 'data-testid="visit-link"' not in as_member
    assert '<span data-testid="visit-number">走202600008</span>' in as_member
    assert client_for(member).get(f"/tracking/visits/{visit.pk}/").status_code == 403


def test_raising_for_an_enterprise_that_does_not_exist_is_refused_on_the_page(client_for, officer, company):
    response = client_for(officer).post(
        reverse("tracking:appeal_new"), form_data(company, enterprise="91440115MA00000000")
    )
    assert response.status_code == 400
    assert "企业不存在或不属于本登记机关" in response.content.decode()
    assert not Appeal.objects.exists()


def test_raising_for_another_authoritys_enterprise_is_refused_on_the_page(
    client_for, officer, other_authority, company
):
    elsewhere = EnterpriseFactory(authority=other_authority)
    response = client_for(officer).post(
        reverse("tracking:appeal_new"), form_data(company, enterprise=elsewhere.uscc)
    )
    assert response.status_code == 400 and "企业不存在" in response.content.decode()


def test_bad_phone_is_shown_on_the_field(client_for, officer, company):
    response = client_for(officer).post(
        reverse("tracking:appeal_new"), form_data(company, contact_phone="123")
    )
    assert response.status_code == 400
    assert 'data-field="contact_phone"' in response.content.decode()


@pytest.mark.parametrize("who", ["manager", "member"])
def test_only_officers_may_raise(client_for, request, who, company):
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("tracking:appeal_new")).status_code == 403
    assert client.post(reverse("tracking:appeal_new"), form_data(company)).status_code == 403


# --- the steps -----------------------------------------------------------------------------------------


def test_route_answer_close_through_the_pages(client_for, raise_appeal, officer, member, department):
    appeal = raise_appeal()
    officer_client, member_client = client_for(officer), client_for(member)
    response = officer_client.post(
        step(appeal, "route"), {"route-department": department.pk, "route-reason": ""}
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == AppealState.ROUTED and appeal.due_on == D(2026, 3, 16)
    response = member_client.post(step(appeal, "answer"), {"answer-feedback": "已办理完毕。"})
    assert response.status_code == 302
    response = officer_client.post(
        step(appeal, "close"), {"close-satisfaction": "5", "close-comment": "满意"}
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == AppealState.CLOSED and appeal.satisfaction == 5 and appeal.closed_on_time


def test_an_appeal_closed_without_feedback_is_refused_on_the_page(client_for, routed_appeal, officer):
    appeal = routed_appeal()
    response = client_for(officer).post(
        step(appeal, "close"), {"close-satisfaction": "4", "close-feedback": ""}
    )
    assert response.status_code == 400
    assert "办结诉求须填写办理反馈。" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.state == AppealState.ROUTED


def test_close_without_satisfaction_is_refused(client_for, answered_appeal, officer):
    appeal = answered_appeal()
    response = client_for(officer).post(step(appeal, "close"), {"close-satisfaction": ""})
    assert response.status_code == 400 and "请选择企业满意度。" in response.content.decode()


def test_a_step_the_state_no_longer_allows_is_409(client_for, answered_appeal, officer):
    appeal = answered_appeal()
    client = client_for(officer)
    assert client.post(step(appeal, "close"), {"close-satisfaction": "5"}).status_code == 302
    response = client.post(step(appeal, "close"), {"close-satisfaction": "5"})
    assert response.status_code == 409
    assert "不能执行“办结”" in response.content.decode()


def test_a_member_of_another_department_cannot_answer(
    client_for, routed_appeal, other_member, other_department, make_user
):
    appeal = routed_appeal()
    # A pure department member does not even see another department's appeal.
    assert (
        client_for(other_member).post(step(appeal, "answer"), {"answer-feedback": "越权"}).status_code == 404
    )
    # Someone who sees the whole authority and answers for another department: refused.
    dual = make_user("manager", username="dual_role")
    add_role(dual, "department_viewer")
    other_department.members.add(dual)
    response = client_for(dual).post(step(appeal, "answer"), {"answer-feedback": "越权"})
    assert response.status_code == 403
    appeal.refresh_from_db()
    assert appeal.state == AppealState.ROUTED and appeal.feedback == ""


def test_reopen_and_withdraw_need_their_reason(client_for, answered_appeal, raise_appeal, officer):
    client = client_for(officer)
    appeal = answered_appeal()
    response = client.post(step(appeal, "reopen"), {"reopen-reason": ""})
    assert response.status_code == 400 and "请填写退回理由。" in response.content.decode()
    assert client.post(step(appeal, "reopen"), {"reopen-reason": "答复不完整"}).status_code == 302
    other = raise_appeal()
    response = client.post(step(other, "withdraw"), {"withdraw-reason": ""})
    assert response.status_code == 400 and "请填写撤回原因。" in response.content.decode()
    assert client.post(step(other, "withdraw"), {"withdraw-reason": "企业已自行解决"}).status_code == 302
    other.refresh_from_db()
    assert other.state == AppealState.WITHDRAWN


def test_step_page_renders_its_form(client_for, raise_appeal, officer, department):
    appeal = raise_appeal()
    page = client_for(officer).get(step(appeal, "route")).content.decode()
    assert "区发展和改革局" in page and 'data-testid="step-form"' in page


def test_manager_may_not_route(client_for, raise_appeal, manager, department):
    appeal = raise_appeal()
    response = client_for(manager).post(step(appeal, "route"), {"route-department": department.pk})
    assert response.status_code == 403


# --- departments ---------------------------------------------------------------------------------------


def test_department_pages_by_role(client_for, role_users, department):
    url = reverse("tracking:department_list")
    for code in ("manager", "enterprise_officer"):
        assert client_for(role_users[code]).get(url).status_code == 200, code
    for code in ("department_viewer", "registration_clerk", "hotline_agent"):
        assert client_for(role_users[code]).get(url).status_code == 403, code
    assert (
        client_for(role_users["enterprise_officer"]).get(reverse("tracking:department_new")).status_code
        == 403
    )
    edit = reverse("tracking:department_edit", args=[department.pk])
    assert client_for(role_users["enterprise_officer"]).get(edit).status_code == 403
    assert client_for(role_users["manager"]).get(edit).status_code == 200


def test_manager_creates_and_edits_a_department(client_for, manager, member):
    client = client_for(manager)
    response = client.post(
        reverse("tracking:department_new"),
        {"name": "区税务局", "default_days": "7", "is_active": "on", "members": [member.pk]},
    )
    assert response.status_code == 302
    dep = Department.objects.get(name="区税务局")
    assert dep.default_days == 7 and list(dep.members.all()) == [member]
    response = client.post(
        reverse("tracking:department_edit", args=[dep.pk]), {"name": "区税务局", "default_days": "9"}
    )
    assert response.status_code == 302
    dep.refresh_from_db()
    assert dep.default_days == 9 and not dep.is_active and not dep.members.exists()
    page = client.get(reverse("tracking:department_list")).content.decode()
    assert "区税务局" in page


def test_duplicate_department_name_is_shown_on_the_form(client_for, manager, department):
    response = client_for(manager).post(
        reverse("tracking:department_new"), {"name": "区发展和改革局", "default_days": "10"}
    )
    assert response.status_code == 400
    assert "已有名为“区发展和改革局”的承办部门。" in response.content.decode()


def test_another_authoritys_department_is_404(client_for, make_user, other_authority, department):
    foreign_manager = client_for(make_user("manager", authorities=[other_authority]))
    assert foreign_manager.get(reverse("tracking:department_edit", args=[department.pk])).status_code == 404
    assert "区发展和改革局" not in foreign_manager.get(reverse("tracking:department_list")).content.decode()


def test_new_for_an_enterprise_prefills_its_uscc(client_for, officer, company, make_user, other_authority):
    client = client_for(officer)
    page = client.get(reverse("tracking:appeal_new"), {"enterprise": company.pk}).content.decode()
    assert company.uscc in page and company.name in page
    elsewhere = EnterpriseFactory(authority=other_authority)
    assert client.get(reverse("tracking:appeal_new"), {"enterprise": elsewhere.pk}).status_code == 404


def test_list_and_api_queries_do_not_grow_with_the_rows(client_for, officer, routed_appeal, raise_appeal):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(officer)
    routed_appeal()
    raise_appeal()

    def queries(url) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = (queries(reverse("tracking:appeal_list")), queries("/api/appeals/"))
    for _ in range(4):
        routed_appeal()
    assert (queries(reverse("tracking:appeal_list")), queries("/api/appeals/")) == few
