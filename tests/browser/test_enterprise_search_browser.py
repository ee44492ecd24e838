"""Acceptance test in a real browser: sign in, find an enterprise by pinyin initials, open it.

Playwright drives Debian's Chromium (/usr/bin/chromium, installed by `make test` through
scripts/ensure-debian-packages) against pytest-django's live server. Screenshots are kept as test
artifacts under artifacts/browser/.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from bizreg.testing.browser import ARTIFACTS, new_page
from bizreg.testing.factories import TEST_PASSWORD, EnterpriseFactory, UserFactory

# serialized_rollback: the roles (groups) and streets come from data migrations that a transactional
# flush would remove for the tests after this one.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(120),
]


@pytest.fixture
def page(browser):
    return new_page(browser, viewport=(1366, 860))


def _sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/")
    expect(page).to_have_url(base_url + "/accounts/login/?next=/")
    expect(page.get_by_role("heading", name="商事登记运行与绩效平台")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "login.png"), full_page=True)
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(base_url + "/")


def test_clerk_finds_an_enterprise_by_pinyin_initials(live_server, page, authority):
    UserFactory(
        username="browser_clerk", display_name="王晓红", role="registration_clerk", authorities=[authority]
    )
    target = EnterpriseFactory(
        authority=authority, name="广州南沙海洋科技有限公司", established_on=dt.date(2019, 3, 12)
    )
    for name, established in [("广州南沙港航物流有限公司", 2021), ("广州黄埔海洋工程有限公司", 2022)]:
        EnterpriseFactory(authority=authority, name=name, established_on=dt.date(established, 1, 5))
    base = live_server.url

    _sign_in(page, base, "browser_clerk")
    expect(page.get_by_test_id("current-user")).to_have_text("王晓红")
    expect(page.locator('[data-figure="enterprises_total"]')).to_have_text("3")
    expect(page.locator("#chart-established canvas")).to_have_count(1)  # ECharts drew the chart
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)

    page.get_by_test_id("nav-enterprises-list").click()
    expect(page).to_have_url(base + "/enterprises/")
    expect(page.get_by_test_id("enterprise-link")).to_have_count(3)
    page.fill("input[name=q]", "gznshy")
    page.keyboard.press("Enter")
    links = page.get_by_test_id("enterprise-link")
    expect(links).to_have_count(1)
    expect(links.first).to_have_text("广州南沙海洋科技有限公司")

    links.first.click()
    expect(page).to_have_url(f"{base}/enterprises/{target.pk}/")
    expect(page.locator("h1")).to_have_text("广州南沙海洋科技有限公司")
    shot = ARTIFACTS / "enterprise_search.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
