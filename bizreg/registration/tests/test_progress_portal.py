"""The public progress query at /portal/progress/: status and dates only, no existence leak, throttled."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache

from bizreg.registration.models import CaseState
from bizreg.registration.tests.records_fixtures import at, make_case

pytestmark = pytest.mark.django_db

URL = "/portal/progress/"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def case(authority):
    return make_case(
        authority,
        number="4401152023050800017",
        state=CaseState.LICENSED,
        enterprise_name="广州南沙进度查询有限公司",
        applicant_name="赵敏华",
        applicant_phone="13912345678",
        received_at=at(dt.date(2023, 5, 8), 9),
        accepted_at=at(dt.date(2023, 5, 8), 11),
        decided_at=at(dt.date(2023, 5, 9), 15),
        licensed_at=at(dt.date(2023, 5, 10), 10),
    )


def body(response) -> str:
    # The page carries a per-response CSRF token (random mask); everything else must be identical.
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", response.content.decode())


def test_the_form(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert 'name="phone_suffix"' in response.content.decode()


def test_right_number_and_suffix_show_status_and_dates_only(client, case):
    response = client.get(URL, {"number": " 4401152023050800017 ", "phone_suffix": "5678"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "已发照" in html
    for day in ("2023-05-08", "2023-05-09", "2023-05-10"):
        assert day in html
    for secret in ("赵", "13912345678", "5678", case.applicant_id_number, "进度查询有限公司"):
        assert secret not in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_steps_not_reached_show_no_date(client, authority):
    make_case(
        authority, number="4401152023060100001", state=CaseState.RECEIVED, applicant_phone="13800001234"
    )
    html = client.get(URL, {"number": "4401152023060100001", "phone_suffix": "1234"}).content.decode()
    assert "已收件，审查中" in html
    assert html.count("—") == 3


def test_an_accepted_case_shows_its_statutory_last_day(client, authority, case):
    make_case(
        authority,
        number="4401152023060100002",
        state=CaseState.ACCEPTED,
        applicant_phone="13800004321",
        accepted_at=at(dt.date(2023, 6, 1), 10),
        due_on=dt.date(2023, 6, 12),
        extended=True,
    )
    html = client.get(URL, {"number": "4401152023060100002", "phone_suffix": "4321"}).content.decode()
    assert 'data-testid="progress-due">2023-06-12' in html and "已依法延长" in html
    # Once decided the clock no longer matters to the applicant.
    done = client.get(URL, {"number": case.number, "phone_suffix": "5678"}).content.decode()
    assert "法定办结期限" not in done


def test_wrong_suffix_looks_exactly_like_an_unknown_number(client, case):
    wrong_suffix = client.get(URL, {"number": case.number, "phone_suffix": "0000"})
    unknown = client.get(URL, {"number": "4401152099010100001", "phone_suffix": "5678"})
    assert wrong_suffix.status_code == unknown.status_code == 404
    assert body(wrong_suffix) == body(unknown)
    assert "未查询到相符的业务" in body(unknown)


def test_twenty_wrong_tries_throttle_the_address(client, case):
    for n in range(20):
        response = client.get(URL, {"number": case.number, "phone_suffix": f"{n:04d}"})
        assert response.status_code == 404, n
    throttled = client.get(URL, {"number": case.number, "phone_suffix": "5678"})  # even the right one
    assert throttled.status_code == 429
    assert "查询已暂停" in throttled.content.decode()
    assert int(throttled["Retry-After"]) > 0
    other_address = client.get(URL, {"number": case.number, "phone_suffix": "5678"}, REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 200


def test_right_answers_do_not_count_as_wrong_tries(client, case):
    for _ in range(19):
        client.get(URL, {"number": case.number, "phone_suffix": "0000"})
    for _ in range(5):
        assert client.get(URL, {"number": case.number, "phone_suffix": "5678"}).status_code == 200
    assert client.get(URL, {"number": case.number, "phone_suffix": "0001"}).status_code == 404
    assert client.get(URL, {"number": case.number, "phone_suffix": "5678"}).status_code == 429


def test_the_window_is_configurable(client, case, settings):
    settings.PORTAL_PROGRESS_FAILURE_LIMIT = (2, 60)
    client.get(URL, {"number": case.number, "phone_suffix": "0000"})
    client.get(URL, {"number": case.number, "phone_suffix": "0001"})
    response = client.get(URL, {"number": case.number, "phone_suffix": "5678"})
    assert response.status_code == 429
    assert response["Retry-After"] == "60"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"number": "", "phone_suffix": "5678"}, "number", "请输入业务编号"),
        ({"number": "<script>", "phone_suffix": "5678"}, "number", "数字和字母"),
        ({"number": "4401152023050800017", "phone_suffix": "56a8"}, "phone_suffix", "后 4 位"),
        ({"number": "4401152023050800017", "phone_suffix": "45678"}, "phone_suffix", "后 4 位"),
        ({"number": "4401152023050800017"}, "phone_suffix", "后 4 位"),
    ],
)
def test_malformed_input_is_a_form_error_and_does_not_count(client, case, params, field, message):
    for _ in range(25):
        response = client.get(URL, params)
        assert response.status_code == 400
    html = response.content.decode()
    assert f'data-field-error="{field}"' in html and message in html
    assert "<script>" not in html
    assert client.get(URL, {"number": case.number, "phone_suffix": "5678"}).status_code == 200


def test_post_is_not_allowed(client):
    assert client.post(URL, {"number": "1", "phone_suffix": "1234"}).status_code == 405
