"""Acceptance test in a real browser: a finance officer files an indicator adjustment through the form, a
manager approves it from the queue, and the indicator shows the new target. Screenshots are kept under
artifacts/browser/performance_adjustment_*.png."""

# ruff: noqa: F811 — `page` is the shared Playwright fixture of test_enterprise_search_browser

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bizreg.performance.models import AdjustmentStatus, IndicatorAdjustment
from bizreg.performance.tests.indicators_fixtures import add_seed_indicators, make_project
from bizreg.testing.factories import UserFactory
from tests.browser.test_enterprise_search_browser import ARTIFACTS, _sign_in, page  # noqa: F401 — fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(180),
]


def _shot(page, name: str) -> None:
    path = ARTIFACTS / f"performance_adjustment_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_officer_files_an_adjustment_and_manager_approves(live_server, page, authority):
    officer = UserFactory(username="perf_officer", role="finance_officer", authorities=[authority])
    UserFactory(username="perf_manager", role="manager", authorities=[authority])
    indicators = add_seed_indicators(make_project(authority))
    one, five = indicators["1"], indicators["5"]
    base = live_server.url

    _sign_in(page, base, officer.username)
    page.goto(f"{base}/performance/indicators/{one.pk}/")
    expect(page.get_by_test_id("target")).to_have_text("≥382000件")
    page.get_by_test_id("request-adjustment").click()
    page.fill("#id_new_target_value", "350000")
    page.fill("#id_new_weight", "12")
    page.select_option("#id_counterpart", str(five.pk))
    page.fill("#id_reason", "受政策调整影响，预计全年业务量低于原目标")
    _shot(page, "form")
    page.get_by_test_id("submit-adjustment").click()
    expect(page.get_by_test_id("open-adjustment")).to_be_visible()
    expect(page.get_by_test_id("target")).to_have_text("≥382000件")  # unchanged until approved
    _shot(page, "requested")

    page.context.clear_cookies()
    _sign_in(page, base, "perf_manager")
    page.goto(f"{base}/performance/adjustments/")
    row = page.locator("tr", has_text="受政策调整影响")
    expect(row).to_be_visible()
    row.locator('input[name="reason"]').fill("同意调整")
    _shot(page, "queue")
    row.get_by_test_id("approve").click()
    expect(page.get_by_text("已批准：1 业务服务量")).to_be_visible()

    page.goto(f"{base}/performance/indicators/{one.pk}/")
    expect(page.get_by_test_id("target")).to_have_text("≥350000件")
    expect(page.get_by_test_id("weight")).to_have_text("12.00")
    expect(page.get_by_test_id("adjustment-status").first).to_have_text("已批准")
    _shot(page, "approved")
    adjustment = IndicatorAdjustment.objects.get(indicator=one)
    assert adjustment.status == AdjustmentStatus.APPROVED
    five.refresh_from_db()
    assert five.weight == Decimal(13)
