import datetime as dt
import json

import pytest

from bizreg.core.identifiers import build_resident_id
from bizreg.core.models import AccessLog
from bizreg.enterprises import services
from bizreg.enterprises.models import Enterprise, EnterpriseLock
from bizreg.enterprises.tests.conftest import next_uscc

pytestmark = pytest.mark.django_db


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def payload(street_, **overrides):
    data = {
        "uscc": next_uscc(),
        "name": "广州接口测试有限公司",
        "entity_type": "llc",
        "legal_rep_name": "吴九",
        "legal_rep_id_number": build_resident_id("440115", dt.date(1979, 9, 9), 99),
        "registered_capital": "500000.00",
        "established_on": "2022-06-06",
        "industry": "M",
        "address": "南沙区进港大道 5 号",
        "street": street_.pk,
    }
    data.update(overrides)
    return data


def test_list_fields_masking_and_flags(client_for, clerk, create, investigator, ftz_rule):
    enterprise = create()
    services.enterprise_lock(enterprise=enterprise, actor=investigator, reason="x")
    body = client_for(investigator).get("/api/enterprises/").json()
    assert body["count"] == 1 and body["count_capped"] is False
    row = body["results"][0]
    assert row["uscc"] == enterprise.uscc
    assert (
        row["legal_rep_id_number"]
        == enterprise.legal_rep_id_number[:4] + "*" * 10 + enterprise.legal_rep_id_number[-4:]
    )
    assert row["is_locked"] is True
    assert row["uscc_is_exception"] is False
    assert row["in_ftz"] is True and row["ftz_area"] == "南沙片区·龙穴岛" and row["ftz_rule"] == ftz_rule.pk
    assert row["entity_type_display"] == "有限责任公司"
    assert row["street_name"] == "南沙街道"
    assert "uscc_exception_reason" not in row


def test_full_id_with_permission_is_logged(client_for, investigator, create):
    enterprise = create()
    detail = client_for(investigator).get(f"/api/enterprises/{enterprise.pk}/", {"full_id": "1"}).json()
    assert detail["legal_rep_id_number"] == enterprise.legal_rep_id_number
    listing = client_for(investigator).get("/api/enterprises/", {"full_id": "1"}).json()
    assert listing["results"][0]["legal_rep_id_number"] == enterprise.legal_rep_id_number
    logs = list(AccessLog.objects.order_by("id"))
    assert [(log.action, log.record_count, log.object_id) for log in logs] == [
        ("api", 1, str(enterprise.pk)),
        ("api", 1, "list"),
    ]


def test_search_filters_and_sort_like_the_list(client_for, clerk, create):
    create(name="广州南沙海港科技有限公司", entity_type="llc", established_on=dt.date(2020, 1, 1))
    create(name="广州精工制造有限公司", entity_type="joint_stock", established_on=dt.date(2018, 1, 1))
    client = client_for(clerk)
    assert [r["name"] for r in client.get("/api/enterprises/", {"q": "gznshg"}).json()["results"]] == [
        "广州南沙海港科技有限公司"
    ]
    assert [
        r["name"] for r in client.get("/api/enterprises/", {"entity_type": "joint_stock"}).json()["results"]
    ] == ["广州精工制造有限公司"]
    oldest = client.get("/api/enterprises/", {"sort": "established_on"}).json()["results"]
    assert oldest[0]["name"] == "广州精工制造有限公司"


def test_invalid_filter_is_a_400_in_chinese(client_for, clerk):
    response = client_for(clerk).get(
        "/api/enterprises/", {"established_from": "not-a-date", "in_ftz": "maybe"}
    )
    assert response.status_code == 400
    body = response.json()
    assert "established_from" in body and "in_ftz" in body
    assert "有效" in body["in_ftz"][0]


def test_create_through_the_service(client_for, clerk, street, ftz_rule):
    response = post_json(client_for(clerk), "/api/enterprises/", payload(street))
    assert response.status_code == 201, response.content
    body = response.json()
    enterprise = Enterprise.objects.get(pk=body["id"])
    assert enterprise.name_initials == "gzjkcsyxgs" and enterprise.in_ftz
    assert body["legal_rep_id_number"].count("*") == 10
    assert body["is_locked"] is False
    assert enterprise.history.get().history_user == clerk


def test_create_reports_every_field_error(client_for, clerk, street):
    bad = payload(street, uscc="91440115I2345678X0", name="", established_on="2099-01-01", street=999999)
    response = post_json(client_for(clerk), "/api/enterprises/", bad)
    assert response.status_code == 400
    body = response.json()
    assert set(body) >= {"name", "street"}
    assert body["name"] == ["请填写名称。"]
    assert not Enterprise.objects.exists()


def test_patch_updates_and_renames(client_for, clerk, create):
    enterprise = create(name="旧名有限公司")
    response = client_for(clerk).patch(
        f"/api/enterprises/{enterprise.pk}/",
        json.dumps({"name": "新名有限公司"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["former_names"] == ["旧名有限公司"]


def test_patch_of_locked_enterprise_is_409(client_for, clerk, create, investigator):
    enterprise = create()
    services.enterprise_lock(enterprise=enterprise, actor=investigator, reason="冒用身份调查")
    response = client_for(clerk).patch(
        f"/api/enterprises/{enterprise.pk}/", json.dumps({"address": "别处"}), content_type="application/json"
    )
    assert response.status_code == 409
    assert "冒用身份调查" in response.json()["detail"]


def test_lock_and_unlock_actions(client_for, investigator, create):
    enterprise = create()
    client = client_for(investigator)
    url = f"/api/enterprises/{enterprise.pk}/"
    response = post_json(client, url + "lock/", {"reason": "冒用身份", "case_reference": "MY-1"})
    assert response.status_code == 201
    assert response.json()["case_reference"] == "MY-1"
    again = post_json(client, url + "lock/", {"reason": "再次"})
    assert again.status_code == 409 and "已被" in again.json()["detail"]
    assert post_json(client, url + "lock/", {}).status_code == 400
    assert client.get(url).json()["is_locked"] is True
    released = post_json(client, url + "unlock/", {"reason": "结案"})
    assert released.status_code == 200 and released.json()["release_reason"] == "结案"
    assert EnterpriseLock.objects.get().released_at is not None


def test_markup_in_names_is_returned_as_data_not_rendered(client_for, clerk, create):
    create(name="<script>alert('x')</script>有限公司")
    row = client_for(clerk).get("/api/enterprises/").json()["results"][0]
    assert row["name"] == "<script>alert('x')</script>有限公司"
    response = client_for(clerk).get("/api/enterprises/", HTTP_ACCEPT="text/html")
    assert "<script>alert('x')</script>" not in response.content.decode()


def test_openapi_schema_renders_with_the_endpoints(client_for, clerk):
    response = client_for(clerk).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/enterprises/" in text
    assert "/api/enterprises/{id}/lock/" in text
    assert "count_capped" in text
    assert client_for(clerk).get("/api/docs/").status_code == 200


def test_schema_generation_has_no_warnings_for_the_register():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    SchemaGenerator().get_schema(request=None, public=True)
    mine = [
        message
        for message in list(GENERATOR_STATS._warn_cache) + list(GENERATOR_STATS._error_cache)
        if "nterprise" in str(message)
    ]
    assert mine == []
