"""/api/appeals/: officers raise and work appeals through the services, the phone masked unless ?full_id=1
(logged); a department member sees and answers only their departments' appeals; an appeal closed without
feedback is 400; another authority's appeal 404; other roles 403; a step the state refuses 409."""

from __future__ import annotations

import pytest

from bizreg.core.models import AccessLog
from bizreg.testing.factories import EnterpriseFactory
from bizreg.tracking.models import Appeal, AppealState
from bizreg.tracking.tests.fixtures_appeals import *  # noqa: F403 — fixtures
from bizreg.tracking.tests.fixtures_appeals import PHONE, add_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("appeal_clock")]
URL = "/api/appeals/"


def payload(company, **overrides) -> dict:
    data = {
        "enterprise": company.pk,
        "category": "tax",
        "title": "研发费用加计扣除咨询",
        "description": "企业首次申报研发费用加计扣除，咨询归集口径。",
        "contact_name": "刘财务",
        "contact_phone": PHONE,
    }
    data.update(overrides)
    return data


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def test_officer_raises_and_reads_it_masked(client_for, officer, manager, company):
    client = client_for(officer)
    created = post(client, URL, payload(company))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["number"] == "诉202600001" and body["state"] == "registered"
    assert body["contact_phone"] == "139****5678" and body["enterprise_uscc"] == company.uscc
    listed = client.get(URL).json()
    assert [row["number"] for row in listed["results"]] == ["诉202600001"]
    detail = client.get(f"{URL}{body['id']}/").json()
    assert detail["events"][0]["action"] == "raise" and detail["events"][0]["actor"]
    # The full phone needs core.view_full_personal_data (the manager holds it) and is logged.
    assert client.get(f"{URL}{body['id']}/", {"full_id": "1"}).status_code == 403
    full = client_for(manager).get(f"{URL}{body['id']}/", {"full_id": "1"}).json()
    assert full["contact_phone"] == PHONE
    assert AccessLog.objects.filter(action=AccessLog.Action.API, object_id=str(body["id"])).exists()


def test_raise_by_uscc(client_for, officer, company):
    response = post(client_for(officer), URL, payload(company, enterprise=None, enterprise_uscc=company.uscc))
    assert response.status_code == 201
    assert Appeal.objects.get().enterprise == company


def test_raise_for_an_enterprise_that_does_not_exist_is_400(client_for, officer, company, other_authority):
    client = client_for(officer)
    response = post(client, URL, payload(company, enterprise=987654))
    assert response.status_code == 400
    assert "企业不存在或不属于本登记机关" in response.json()["enterprise"][0]
    elsewhere = EnterpriseFactory(authority=other_authority)
    assert post(client, URL, payload(company, enterprise=elsewhere.pk)).status_code == 400
    assert not Appeal.objects.exists()


def test_bad_phone_and_category_are_400(client_for, officer, company):
    client = client_for(officer)
    response = post(client, URL, payload(company, contact_phone="12345"))
    assert response.status_code == 400 and "contact_phone" in response.json()
    assert post(client, URL, payload(company, category="weather")).status_code == 400


def test_the_steps_through_the_api(client_for, raise_appeal, officer, member, department):
    appeal = raise_appeal()
    officer_client, member_client = client_for(officer), client_for(member)
    routed = post(officer_client, f"{URL}{appeal.pk}/route/", {"department": department.pk})
    assert routed.status_code == 200, routed.content
    assert routed.json()["due_on"] == "2026-03-16" and routed.json()["department_name"] == "区发展和改革局"
    answered = post(member_client, f"{URL}{appeal.pk}/answer/", {"feedback": "已答复企业。"})
    assert answered.status_code == 200 and answered.json()["state"] == "answered"
    closed = post(officer_client, f"{URL}{appeal.pk}/close/", {"satisfaction": 4})
    assert closed.status_code == 200 and closed.json()["closed_on_time"] is True
    again = post(officer_client, f"{URL}{appeal.pk}/close/", {"satisfaction": 4})
    assert again.status_code == 409 and "不能执行“办结”" in again.json()["detail"]


def test_an_appeal_closed_without_feedback_is_400(client_for, routed_appeal, officer):
    appeal = routed_appeal()
    response = post(client_for(officer), f"{URL}{appeal.pk}/close/", {"satisfaction": 5, "feedback": ""})
    assert response.status_code == 400
    assert response.json()["feedback"] == ["办结诉求须填写办理反馈。"]
    appeal.refresh_from_db()
    assert appeal.state == AppealState.ROUTED


def test_close_without_satisfaction_is_400(client_for, answered_appeal, officer):
    appeal = answered_appeal()
    response = post(client_for(officer), f"{URL}{appeal.pk}/close/", {})
    assert response.status_code == 400 and response.json()["satisfaction"] == ["请选择企业满意度。"]


def test_reopen_and_withdraw_need_reasons(client_for, answered_appeal, raise_appeal, officer):
    client = client_for(officer)
    appeal = answered_appeal()
    response = post(client, f"{URL}{appeal.pk}/reopen/", {"reason": ""})
    assert response.status_code == 400 and response.json()["reason"] == ["请填写退回理由。"]
    assert post(client, f"{URL}{appeal.pk}/reopen/", {"reason": "答复不完整"}).json()["state"] == "routed"
    other = raise_appeal()
    assert post(client, f"{URL}{other.pk}/withdraw/", {"reason": "企业撤回"}).json()["state"] == "withdrawn"


def test_a_department_member_sees_and_answers_only_their_own(
    client_for, routed_appeal, raise_appeal, other_member, member, other_department, make_user
):
    appeal = routed_appeal()
    unrouted = raise_appeal()
    client = client_for(member)
    assert [row["id"] for row in client.get(URL).json()["results"]] == [appeal.pk]
    assert client.get(f"{URL}{unrouted.pk}/").status_code == 404
    assert client.get(URL).json()["results"][0]["contact_phone"] == "139****5678"
    # Another department's member: the appeal does not exist for them.
    outsider = client_for(other_member)
    assert outsider.get(f"{URL}{appeal.pk}/").status_code == 404
    assert post(outsider, f"{URL}{appeal.pk}/answer/", {"feedback": "越权"}).status_code == 404
    # A manager who also sits in another department sees it, but may not answer for 发改局.
    dual = make_user("manager", username="dual_api")
    add_role(dual, "department_viewer")
    other_department.members.add(dual)
    response = post(client_for(dual), f"{URL}{appeal.pk}/answer/", {"feedback": "越权"})
    assert response.status_code == 403 and "该诉求未转办至您所在的部门。" in response.json()["detail"]
    # Members do not raise appeals.
    assert post(client, URL, payload(appeal.enterprise)).status_code == 403


def test_manager_reads_but_may_not_raise_or_close(client_for, manager, answered_appeal, company):
    appeal = answered_appeal()
    client = client_for(manager)
    assert client.get(URL).status_code == 200
    assert post(client, URL, payload(company)).status_code == 403
    assert post(client, f"{URL}{appeal.pk}/close/", {"satisfaction": 5}).status_code == 403


@pytest.mark.parametrize("role", ["registration_clerk", "hotline_agent", "investigator", "finance_officer"])
def test_other_roles_are_refused(client_for, role_users, raise_appeal, company, role):
    appeal = raise_appeal()
    client = client_for(role_users[role])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{appeal.pk}/").status_code == 403
    assert post(client, URL, payload(company)).status_code == 403
    assert post(client, f"{URL}{appeal.pk}/close/", {"satisfaction": 5, "feedback": "x"}).status_code == 403


def test_another_authority_gets_404(client_for, make_user, other_authority, raise_appeal):
    appeal = raise_appeal()
    stranger = client_for(make_user("enterprise_officer", authorities=[other_authority]))
    assert stranger.get(f"{URL}{appeal.pk}/").status_code == 404
    assert post(stranger, f"{URL}{appeal.pk}/close/", {"satisfaction": 5, "feedback": "x"}).status_code == 404
    assert stranger.get(URL).json()["results"] == []


def test_list_filters(client_for, officer, raise_appeal, routed_appeal):
    routed_appeal(title="贴息")
    raise_appeal(title="招工", category="labour")
    client = client_for(officer)
    assert [r["title"] for r in client.get(URL, {"category": "labour"}).json()["results"]] == ["招工"]
    assert [r["title"] for r in client.get(URL, {"state": "routed"}).json()["results"]] == ["贴息"]
    assert client.get(URL, {"state": "bogus"}).status_code == 400
