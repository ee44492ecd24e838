"""Every bad-input rule of the register, sent the way staff send it: the create page and the API."""

import datetime as dt
import json

import pytest
from stdnum.cn import uscc as stdnum_uscc

from bizreg.core.identifiers import build_resident_id
from bizreg.enterprises.models import Enterprise
from bizreg.enterprises.tests.conftest import VALID_USCC, next_uscc, wrong_check_digit

pytestmark = pytest.mark.django_db


def wrong_org_check(uscc: str) -> str:
    """A code whose 18th character is right but whose organization-code check character (17th) is wrong."""
    wrong = "0" if uscc[16] != "0" else "1"
    partial = uscc[:16] + wrong
    return partial + stdnum_uscc.calc_check_digit(partial)


BAD_USCC = [
    ("9144011512345678", "应为 18 位，当前为 16 位"),
    ("91440115123456789XY", "应为 18 位，当前为 19 位"),
    ("91440115I2345678X0", "不得含字母 I、O、Z、S、V，发现：I"),
    ("91440115O2345678X0", "发现：O"),
    ("91440115Z2345678X0", "发现：Z"),
    ("91440115S2345678X0", "发现：S"),
    ("91440115V2345678X0", "发现：V"),
    ("9144011#12345678X0", "非法字符"),
    (wrong_check_digit(VALID_USCC), "第 18 位校验码错误：应为 L"),
    (wrong_org_check(VALID_USCC), "第 9–17 位（组织机构代码）的校验码错误"),
    ("", "请填写统一社会信用代码"),
]

BAD_ID = [
    (build_resident_id("440115", dt.date(1980, 3, 15), 1)[:-1] + "X", "校验码错误"),
    ("440115" + "19800230" + "0011", "出生日期 19800230 不存在"),
    ("440115" + "21990101" + "0011", "不合理"),
    ("44011519800315123", "应为 18 位"),
    ("44011519800315A23X", "前 17 位应为数字"),
]


def form_data(entry, **overrides):
    data = entry(**overrides)
    data["street"] = data["street"].pk if hasattr(data["street"], "pk") else data["street"]
    if isinstance(data["established_on"], dt.date):
        data["established_on"] = data["established_on"].isoformat()
    data["status"] = data.get("status", "active")
    data["registered_capital"] = data["registered_capital"] or ""
    return data


def field_errors(html: str, field: str) -> str:
    import re

    return " ".join(re.findall(rf'data-field-error="{field}">([^<]*)<', html))


@pytest.mark.parametrize("code, message", BAD_USCC)
def test_bad_uscc_on_the_form_names_the_failed_check(client_for, clerk, entry, code, message):
    response = client_for(clerk).post("/enterprises/new/", form_data(entry, uscc=code))
    assert response.status_code == 200
    assert message in field_errors(response.content.decode(), "uscc")
    assert not Enterprise.objects.exists()


@pytest.mark.parametrize("code, message", BAD_USCC)
def test_bad_uscc_on_the_api_is_a_400_field_error(client_for, clerk, entry, code, message):
    payload = form_data(entry, uscc=code)
    response = client_for(clerk).post(
        "/api/enterprises/", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 400
    assert any(message in m for m in response.json()["uscc"])
    assert not Enterprise.objects.exists()


@pytest.mark.parametrize("number, message", BAD_ID)
def test_bad_resident_id_names_the_failed_check(client_for, clerk, entry, number, message):
    response = client_for(clerk).post("/enterprises/new/", form_data(entry, legal_rep_id_number=number))
    assert response.status_code == 200
    assert message in field_errors(response.content.decode(), "legal_rep_id_number")
    assert not Enterprise.objects.exists()


@pytest.mark.parametrize("number, message", BAD_ID[:2])
def test_bad_resident_id_on_the_api(client_for, clerk, entry, number, message):
    payload = form_data(entry, legal_rep_id_number=number)
    response = client_for(clerk).post(
        "/api/enterprises/", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 400
    assert any(message in m for m in response.json()["legal_rep_id_number"])


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"name": "  "}, "name", "请填写名称"),
        ({"name": "名" * 201}, "name", "200"),
        ({"address": ""}, "address", "请填写住所"),
        (
            {"established_on": (dt.date.today() + dt.timedelta(days=2)).isoformat()},
            "established_on",
            "不能晚于今天",
        ),
        ({"established_on": "2023-02-30"}, "established_on", ""),
        ({"registered_capital": "-5"}, "registered_capital", ""),
        ({"registered_capital": "abc"}, "registered_capital", ""),
        ({"entity_type": "bogus"}, "entity_type", ""),
        ({"street": "999999"}, "street", ""),
        ({"ftz_override": "1", "ftz_override_reason": ""}, "ftz_override_reason", "须填写理由"),
    ],
)
def test_other_bad_fields_are_form_errors(client_for, clerk, entry, overrides, field, message):
    response = client_for(clerk).post("/enterprises/new/", form_data(entry, **overrides))
    assert response.status_code == 200
    errors = field_errors(response.content.decode(), field)
    assert errors and message in errors
    assert not Enterprise.objects.exists()


def test_street_outside_the_authoritys_district_is_refused(clerk, authority, entry):
    from django.core.exceptions import ValidationError

    from bizreg.enterprises import services
    from bizreg.enterprises.models import Street

    elsewhere = Street.objects.create(code="440106001", name="天河某街道", division_code="440106")
    with pytest.raises(ValidationError) as info:
        services.enterprise_create(actor=clerk, authority=authority, **entry(street=elsewhere))
    assert "不在本登记机关辖区内" in info.value.message_dict["street"][0]


def test_duplicate_uscc_on_the_form_and_the_api(client_for, clerk, create, entry):
    existing = create()
    response = client_for(clerk).post("/enterprises/new/", form_data(entry, uscc=existing.uscc))
    assert "该统一社会信用代码已登记" in field_errors(response.content.decode(), "uscc")
    payload = form_data(entry, uscc=existing.uscc)
    api = client_for(clerk).post("/api/enterprises/", json.dumps(payload), content_type="application/json")
    assert api.status_code == 400 and api.json()["uscc"] == ["该统一社会信用代码已登记。"]
    assert Enterprise.objects.count() == 1


def test_check_digit_failure_is_accepted_after_confirmation_and_marked_in_the_api(
    client_for, clerk, manager, entry
):
    code = wrong_check_digit(next_uscc())
    refused = client_for(clerk).post("/enterprises/new/", form_data(entry, uscc=code))
    assert "科室负责人" in field_errors(refused.content.decode(), "uscc")
    client_for(manager).post("/enterprises/uscc-exceptions/", {"uscc": code, "reason": "试点地区核发"})
    accepted = client_for(clerk).post("/enterprises/new/", form_data(entry, uscc=code))
    assert accepted.status_code == 302
    enterprise = Enterprise.objects.get(uscc=code)
    api = client_for(clerk).get(f"/api/enterprises/{enterprise.pk}/").json()
    assert api["uscc_is_exception"] is True
