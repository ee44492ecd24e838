"""The public verification page: a real notice says 真实有效, anything else the same neutral page, and one
address is throttled after 20 lookups — counted in the shared cache, not in one process's memory."""

# ruff: noqa: F811 — the shared fixtures are imported from docs_fixtures and requested by name

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import caches
from django.test import Client

from bizreg.portal import ratelimit
from bizreg.registration.models import NoticeKind
from bizreg.registration.services import documents
from bizreg.registration.tests.docs_fixtures import (  # noqa: F401
    APPLICANT_ID,
    APPLICANT_NAME,
    APPLICANT_PHONE,
    at,
    case,
    clerk,
    private_media,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice(case, clerk):
    return documents.notice_issue(
        case=case, kind=NoticeKind.APPROVAL_ESTABLISHMENT, actor=clerk, issued_at=at(dt.date(2023, 3, 2), 16)
    )


def visitor(ip: str = "203.0.113.7") -> Client:
    return Client(REMOTE_ADDR=ip)


def test_a_real_notice_is_confirmed_with_its_public_facts_only(notice, case):
    response = visitor().get(f"/portal/verify/{notice.verification_code}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "真实有效" in page
    assert "准予设立登记通知书" in page
    assert notice.number in page
    assert "2023年3月2日" in page
    assert "广州南沙海洋科技有限公司" in page
    assert notice.sha256 in page
    for personal in (APPLICANT_NAME, APPLICANT_ID, APPLICANT_PHONE, APPLICANT_PHONE[-4:], case.number):
        assert personal not in page
    assert "退出" not in page  # a public page: no staff menu


def test_the_code_may_be_typed_in_groups_and_lower_case(notice):
    code = documents.display_verification_code(notice.verification_code).lower()
    response = visitor().get("/portal/verify/", {"code": f" {code} "})
    assert response.status_code == 302
    assert response["Location"] == f"/portal/verify/{notice.verification_code}/"
    assert visitor().get(f"/portal/verify/{code}/").status_code == 200


@pytest.mark.parametrize(
    "code",
    ["ABCDEFGHJKMNPQRS", "abc", "x" * 200, "%3Cscript%3E", "ABCD-EFGH-JKMN-PQR0"],
)
def test_unknown_or_malformed_codes_get_the_same_neutral_page(notice, code):
    response = visitor().get(f"/portal/verify/{code}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "未找到该文书" in page
    assert "真实有效" not in page
    assert "<script>" not in page


def test_the_form_explains_a_malformed_code(db):
    response = visitor().get("/portal/verify/", {"code": "12-34"})
    assert response.status_code == 400
    assert "16 位验证码" in response.content.decode()
    assert visitor().get("/portal/verify/").status_code == 200


def test_twenty_lookups_then_429_in_chinese(notice):
    client = visitor("198.51.100.20")
    answers = [client.get(f"/portal/verify/WRONGCODE{n:07d}/").status_code for n in range(20)]
    assert answers == [404] * 20
    throttled = client.get(f"/portal/verify/{notice.verification_code}/")
    assert throttled.status_code == 429
    assert "查询过于频繁" in throttled.content.decode()
    assert throttled["Retry-After"] == "60"
    # Another address is not affected.
    assert visitor("198.51.100.21").get(f"/portal/verify/{notice.verification_code}/").status_code == 200


def test_the_count_lives_in_the_shared_cache(notice, settings):
    assert settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.locmem.LocMemCache"
    client = visitor("198.51.100.30")
    for _ in range(5):
        client.get(f"/portal/verify/{notice.verification_code}/")
    # What another gunicorn worker sees: a cache connection of its own reads the same five claimed slots.
    other_worker = caches.create_connection("default")
    rate = ratelimit.Rate(limit=20, window=60)
    keys = [f"{ratelimit._base_key('portal.verify', '198.51.100.30')}:{slot}" for slot in range(rate.limit)]
    assert len(other_worker.get_many(keys)) == 5


def test_behind_a_trusted_proxy_the_forwarded_address_counts(notice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PORTAL_VERIFY_RATE_LIMIT = (2, 60)
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    url = f"/portal/verify/{notice.verification_code}/"
    assert proxy.get(url, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9").status_code == 200
    assert proxy.get(url, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 200
    # A client cannot escape the limit by writing its own X-Forwarded-For: the proxy appends the real one.
    assert proxy.get(url, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.9").status_code == 429
    assert proxy.get(url, HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == 200
