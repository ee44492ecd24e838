"""/api/investigation-cases/: investigators and managers read the register (masked unless ?full_id=1,
which is logged), investigators take in reports; everyone else is refused."""

from __future__ import annotations

import pytest

from bizreg.core.models import AccessLog
from bizreg.investigations.models import InvestigationCase
from bizreg.testing.factories import EnterpriseFactory, valid_resident_id

pytestmark = pytest.mark.django_db

URL = "/api/investigation-cases/"


def _report(enterprise, id_number: str) -> dict:
    return {
        "source": "task_force",
        "referral_reference": "ZZ-2026-031",
        "reporter_name": "黄被冒",
        "reporter_id_number": id_number,
        "reporter_phone": "13600001234",
        "verification_method": "task_force",
        "verification_result": "passed",
        "narrative": "专责小组转办：身份被冒用登记为法定代表人。",
        "enterprises": [{"name": enterprise.name, "uscc": enterprise.uscc}],
    }


def test_investigator_takes_in_a_report_and_reads_it_masked(client_for, role_users, authority):
    enterprise = EnterpriseFactory(authority=authority)
    victim_id = valid_resident_id()
    client = client_for(role_users["investigator"])
    created = client.post(URL, _report(enterprise, victim_id), content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "received" and body["victim_id_number"] != victim_id
    assert body["enterprises"][0]["uscc"] == enterprise.uscc
    listed = client.get(URL).json()
    assert [row["number"] for row in listed["results"]] == [body["number"]]
    detail = client.get(f"{URL}{body['id']}/").json()
    assert detail["events"] and detail["events"][0]["actor"]
    full = client.get(f"{URL}{body['id']}/", {"full_id": "1"}).json()
    assert full["victim_id_number"] == victim_id
    assert AccessLog.objects.filter(action=AccessLog.Action.API, object_id=str(body["id"])).exists()


def test_invalid_id_number_is_400_with_a_chinese_message(client_for, role_users, authority):
    enterprise = EnterpriseFactory(authority=authority)
    response = client_for(role_users["investigator"]).post(
        URL, _report(enterprise, "440115199001011234"), content_type="application/json"
    )
    assert response.status_code == 400
    assert "公民身份号码校验码错误" in response.content.decode()
    assert not InvestigationCase.objects.exists()


@pytest.mark.parametrize("role", ["registration_clerk", "hotline_agent", "archivist", "finance_officer"])
def test_other_roles_are_refused(client_for, role_users, authority, role):
    client = client_for(role_users[role])
    assert client.get(URL).status_code == 403
    enterprise = EnterpriseFactory(authority=authority)
    response = client.post(URL, _report(enterprise, valid_resident_id()), content_type="application/json")
    assert response.status_code == 403


def test_manager_reads_but_may_not_take_in(client_for, role_users, authority):
    client = client_for(role_users["manager"])
    assert client.get(URL).status_code == 200
    enterprise = EnterpriseFactory(authority=authority)
    response = client.post(URL, _report(enterprise, valid_resident_id()), content_type="application/json")
    assert response.status_code == 403
