"""The REST API of cases: intake (201/400), steps (200/409/403/400), scoping (404), masking and the access
log, the extension endpoints, and the list's pinned query count."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizreg.core.models import AccessLog
from bizreg.enterprises import services as enterprise_services
from bizreg.registration.models import CaseState, CaseTransitionLog, RegistrationCase
from bizreg.registration.tests.cases_fixtures import *  # noqa: F403 — fixtures
from bizreg.registration.tests.cases_fixtures import AGENT_ID, APPLICANT_ID, all_material_codes, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def payload(intake_data):
    def make(case_type="establishment", **overrides):
        data = intake_data(case_type, **overrides)
        return data

    return make


def test_intake_through_the_api(client_for, clerk, payload, freeze):
    freeze(at(dt.date(2025, 3, 4), 9))
    response = post(client_for(clerk), "/api/registration-cases/", payload())
    assert response.status_code == 201, response.content
    data = response.json()
    case = RegistrationCase.objects.get()
    assert data["number"] == case.number == "4401152025030400001"
    assert data["state"] == "received" and data["state_display"] == "已收件"
    assert data["applicant_id_number"] == APPLICANT_ID[:4] + "*" * 10 + APPLICANT_ID[-4:]
    assert data["applicant_phone"] == "138****8000"
    assert data["applicant_name"] == "王*明"
    assert "*" in data["requested_changes"]["legal_rep_id_number"]
    assert case.applicant_id_number == APPLICANT_ID


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"applicant_id_number": "440115198504121011"}, "applicant_id_number", "校验码错误"),
        ({"applicant_phone": "23800138000"}, "applicant_phone", "手机号码"),
        ({"uscc": "91440115MA5ABC"}, "uscc", "18 位"),
        ({"materials": ["articles", 999999]}, "materials", "999999"),
        ({"requested_changes": {"street": "x"}}, "requested_changes.street", "街道"),
    ],
)
def test_api_intake_bad_input_is_400_with_field_errors(client_for, clerk, payload, overrides, field, message):
    data = payload()
    if "requested_changes" in overrides:
        data["requested_changes"] = data["requested_changes"] | overrides.pop("requested_changes")
    data.update(overrides)
    response = post(client_for(clerk), "/api/registration-cases/", data)
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not RegistrationCase.objects.exists()


def test_api_intake_of_a_locked_enterprise_is_refused_with_the_reason(
    client_for, clerk, payload, enterprise, role_users
):
    entry = enterprise()
    enterprise_services.enterprise_lock(
        enterprise=entry, actor=role_users["investigator"], reason="核查冒用身份"
    )
    response = post(client_for(clerk), "/api/registration-cases/", payload("filing", enterprise=entry.pk))
    assert response.status_code == 400
    assert "核查冒用身份" in response.json()["enterprise"][0]


def test_api_missing_required_fields(client_for, clerk):
    response = post(client_for(clerk), "/api/registration-cases/", {"case_type": "establishment"})
    assert response.status_code == 400
    assert set(response.json()) >= {"channel", "applicant_name", "applicant_id_number", "applicant_phone"}


def test_api_steps(client_for, clerk, intake, licence_stock):
    licence_stock(2)
    case = intake()
    client = client_for(clerk)
    url = f"/api/registration-cases/{case.pk}/transition/"
    for action, state in (
        ("pass_pre_review", "pre_reviewed"),
        ("accept", "accepted"),
        ("approve", "approved"),
    ):
        response = post(client, url, {"action": action})
        assert response.status_code == 200, response.content
        assert response.json()["state"] == state
    response = post(client, url, {"action": "accept"})
    assert response.status_code == 409
    assert "当前状态为“已核准”" in response.json()["detail"]
    response = post(client, url, {"action": "issue_licence"})
    assert response.json()["state"] == "licensed"
    detail = client.get(f"/api/registration-cases/{case.pk}/").json()
    assert detail["available_actions"] == ["archive"]
    assert [t["action"] for t in detail["transitions"]] == [
        "pass_pre_review",
        "accept",
        "approve",
        "issue_licence",
    ]
    assert {m["code"] for m in detail["materials"]} >= set(
        all_material_codes("establishment", mandatory_only=True)
    )
    assert detail["working_days_used"] == 0


def test_api_step_refusals(client_for, clerk, role_users, intake):
    case = intake(materials=["application"])
    url = f"/api/registration-cases/{case.pk}/transition/"
    missing = post(client_for(clerk), url, {"action": "pass_pre_review"})
    assert missing.status_code == 409 and "公司章程" in missing.json()["detail"]
    forbidden = post(client_for(role_users["hotline_agent"]), url, {"action": "pass_pre_review"})
    assert forbidden.status_code == 403 and "预审通过" in forbidden.json()["detail"]
    no_items = post(client_for(clerk), url, {"action": "return_for_correction", "deficiencies": []})
    assert no_items.status_code == 400 and "至少一项" in no_items.json()["deficiencies"][0]
    unknown = post(client_for(clerk), url, {"action": "teleport"})
    assert unknown.status_code == 400 and "action" in unknown.json()
    returned = post(
        client_for(clerk),
        url,
        {"action": "return_for_correction", "deficiencies": ["补交章程", {"requirement": "domicile_proof"}]},
    )
    assert returned.status_code == 200 and returned.json()["state"] == "returned"
    case.refresh_from_db()
    assert case.deficiencies.count() == 2
    assert CaseTransitionLog.objects.filter(case=case).count() == 1


def test_api_reject_needs_a_reason(client_for, clerk, intake, step):
    case = step(step(intake(), "pass_pre_review"), "accept")
    response = post(client_for(clerk), f"/api/registration-cases/{case.pk}/transition/", {"action": "reject"})
    assert response.status_code == 400 and "理由" in response.json()["reason"][0]
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED


def test_api_is_scoped_by_authority(client_for, intake, make_user, other_authority):
    case = intake()
    outsider = make_user("registration_clerk", authorities=[other_authority])
    client = client_for(outsider)
    assert client.get(f"/api/registration-cases/{case.pk}/").status_code == 404
    assert (
        post(client, f"/api/registration-cases/{case.pk}/transition/", {"action": "withdraw"}).status_code
        == 404
    )
    assert client.get("/api/registration-cases/").json()["count"] == 0
    case.refresh_from_db()
    assert case.state == CaseState.RECEIVED


def test_api_full_personal_data_needs_the_permission_and_is_logged(client_for, clerk, role_users, intake):
    case = intake()
    full = client_for(clerk).get(f"/api/registration-cases/{case.pk}/", {"full_id": "1"})
    assert full.json()["applicant_id_number"] == APPLICANT_ID
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.object_id) == (clerk, "api", str(case.pk))
    refused = client_for(role_users["hotline_agent"]).get(
        f"/api/registration-cases/{case.pk}/", {"full_id": "1"}
    )
    assert refused.status_code == 403
    assert AccessLog.objects.count() == 1


def test_api_list_filters_and_rejects_bad_filters(client_for, clerk, intake, enterprise):
    entry = enterprise()
    change = intake("change", enterprise_uscc=entry.uscc)
    intake()
    client = client_for(clerk)
    data = client.get("/api/registration-cases/", {"case_type": "change"}).json()
    assert [row["number"] for row in data["results"]] == [change.number]
    assert data["count_capped"] is False
    assert client.get("/api/registration-cases/", {"state": "bogus"}).status_code == 400


def test_api_extension_endpoints(client_for, clerk, manager, intake, step, freeze):
    freeze(at(dt.date(2025, 3, 3), 10))
    case = step(step(intake(), "pass_pre_review"), "accept")
    requested = post(client_for(clerk), f"/api/registration-cases/{case.pk}/extension/", {"reason": "需核实"})
    assert requested.status_code == 201 and requested.json()["status"] == "requested"
    by_clerk = post(
        client_for(clerk), f"/api/registration-cases/{case.pk}/extension/decide/", {"approve": True}
    )
    assert by_clerk.status_code == 403
    decided = post(
        client_for(manager), f"/api/registration-cases/{case.pk}/extension/decide/", {"approve": True}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    assert client_for(clerk).get(f"/api/registration-cases/{case.pk}/").json()["due_on"] == "2025-03-11"
    again = post(client_for(clerk), f"/api/registration-cases/{case.pk}/extension/", {"reason": "再延"})
    assert again.status_code == 409


# Token and user, authorities, permissions (1, own and groups' at once), the persons' intake checks (1, all
# people at once), streets and FTZ rules, materials checklist, the day's number, BEGIN, case, history row,
# materials, COMMIT.
API_INTAKE_STATEMENTS = 13


def test_api_intake_statement_count_is_pinned(clerk, payload, freeze):
    from django.test import Client
    from rest_framework.authtoken.models import Token

    freeze(at(dt.date(2025, 3, 4), 9))
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=clerk).key}")  # as API clients do
    assert post(client, "/api/registration-cases/", payload()).status_code == 201  # opens the day's counter
    data = payload(agent_name="李代理", agent_id_number=AGENT_ID, agent_phone="13900139000")
    with CaptureQueriesContext(connection) as ctx:
        response = post(client, "/api/registration-cases/", data)
    assert response.status_code == 201, response.content
    statements = [q["sql"] for q in ctx.captured_queries]
    # applicant, agent and the new legal representative are checked against the 3-year list in one query
    assert sum("investigations_registrationban" in sql for sql in statements) == 1
    assert len(statements) <= API_INTAKE_STATEMENTS, "\n".join(sql[:120] for sql in statements)


# Session (read, and the save in a savepoint: 3), user, authorities, permissions (1), capped count, page
# rows (receiver in the same query), the calendar of the due horizon (overrides and manual years at once).
API_LIST_QUERIES = 10


def test_api_list_query_count_does_not_grow_with_rows(client_for, clerk, intake, second_clerk):
    client = client_for(clerk)
    intake()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/registration-cases/", {"q": "测试"}).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(15):
        intake(actor=second_clerk)
    assert count() == few <= API_LIST_QUERIES
