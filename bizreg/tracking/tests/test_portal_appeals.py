"""/portal/appeals/: the enterprise follows its appeal by number and phone suffix — state, dates, department,
feedback and the public steps, never a staff name or the phone; a wrong suffix answers like an unknown number;
wrong tries and look-ups are throttled per address in the shared cache."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from bizreg.tracking.services import appeals as services
from bizreg.tracking.tests.fixtures_appeals import *  # noqa: F403 — fixtures
from bizreg.tracking.tests.fixtures_appeals import PHONE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("appeal_clock")]
URL = "/portal/appeals/"
CSRF = re.compile(r'"X-CSRFToken": "[^"]*"')


def visitor(ip: str = "203.0.113.9") -> Client:
    return Client(REMOTE_ADDR=ip)


def test_the_url_name():
    assert reverse("tracking_public:appeal_query") == URL


def test_the_form_is_public():
    response = visitor().get(URL)
    assert response.status_code == 200
    assert 'data-testid="appeal-query-form"' in response.content.decode()
    assert "退出" not in response.content.decode()


def test_the_enterprise_sees_state_department_feedback_and_steps(answered_appeal, officer, member):
    appeal = answered_appeal()
    services.appeal_close(appeal=appeal, actor=officer, satisfaction=5)
    response = visitor().get(URL, {"number": appeal.number, "phone_suffix": PHONE[-4:]})
    assert response.status_code == 200
    page = response.content.decode()
    assert appeal.number in page and "已办结" in page
    assert "区发展和改革局" in page
    assert "贴息申报材料清单已告知企业" in page  # the department's feedback
    for label in ("登记诉求", "转办", "反馈办理结果", "办结"):
        assert label in page
    assert "2026-03-16" in page  # the deadline
    for private in (PHONE, "刘财务", str(officer), str(member), officer.username, member.username):
        assert private not in page


def test_digits_only_and_spaces_are_accepted(routed_appeal):
    appeal = routed_appeal()
    digits = appeal.number.removeprefix("诉")
    response = visitor().get(URL, {"number": f" {digits[:4]} {digits[4:]} ", "phone_suffix": PHONE[-4:]})
    assert response.status_code == 200 and "承办部门办理中" in response.content.decode()


def test_a_wrong_suffix_answers_like_an_unknown_number(routed_appeal):
    appeal = routed_appeal()
    wrong = visitor("198.51.100.1").get(URL, {"number": appeal.number, "phone_suffix": "0000"})
    unknown = visitor("198.51.100.2").get(URL, {"number": "诉202699999", "phone_suffix": PHONE[-4:]})
    assert wrong.status_code == unknown.status_code == 404
    assert "未查询到相符的诉求" in wrong.content.decode()
    normalized = [
        CSRF.sub("", r.content.decode().replace(appeal.number, "N").replace("诉202699999", "N"))
        for r in (wrong, unknown)
    ]
    assert normalized[0] == normalized[1]
    assert "区发展和改革局" not in normalized[0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"number": "", "phone_suffix": "5678"}, "number"),
        ({"number": "ABC123", "phone_suffix": "5678"}, "number"),
        ({"number": "诉202600001", "phone_suffix": "56"}, "phone_suffix"),
        ({"number": "诉202600001", "phone_suffix": "abcd"}, "phone_suffix"),
    ],
)
def test_malformed_input_is_400_and_not_counted(settings, params, field):
    settings.TRACKING_PORTAL_APPEAL_FAILURE_LIMIT = (1, 3600)
    client = visitor()
    for _ in range(3):
        response = client.get(URL, params)
        assert response.status_code == 400
        assert f'data-field-error="{field}"' in response.content.decode()


def test_wrong_tries_throttle_the_address(settings, routed_appeal):
    settings.TRACKING_PORTAL_APPEAL_FAILURE_LIMIT = (3, 3600)
    appeal = routed_appeal()
    client = visitor("192.0.2.10")
    for _ in range(3):
        assert client.get(URL, {"number": appeal.number, "phone_suffix": "0000"}).status_code == 404
    # Throttled now, even with the right suffix: the answer tells nothing.
    response = client.get(URL, {"number": appeal.number, "phone_suffix": PHONE[-4:]})
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert 'data-testid="throttled"' in response.content.decode()
    # Another address is not affected.
    assert (
        visitor("192.0.2.11").get(URL, {"number": appeal.number, "phone_suffix": PHONE[-4:]}).status_code
        == 200
    )


def test_lookups_have_a_ceiling(settings, routed_appeal):
    settings.TRACKING_PORTAL_APPEAL_RATE_LIMIT = (2, 60)
    appeal = routed_appeal()
    client = visitor("192.0.2.20")
    params = {"number": appeal.number, "phone_suffix": PHONE[-4:]}
    assert client.get(URL, params).status_code == 200
    assert client.get(URL, params).status_code == 200
    response = client.get(URL, params)
    assert response.status_code == 429 and response["Retry-After"] == "60"


def test_portal_answers_are_not_cached(routed_appeal):
    appeal = routed_appeal()
    response = visitor().get(URL, {"number": appeal.number, "phone_suffix": PHONE[-4:]})
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
