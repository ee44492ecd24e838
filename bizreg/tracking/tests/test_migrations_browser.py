"""The migration analysis and the watch list in a real browser: the period picker, the four charts drawn
(ECharts canvases, no script error), and an entry cleared from the list's inline form. Screenshots go to
artifacts/browser/tracking_migrations_*.png."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bizreg.testing.browser import ARTIFACTS, new_page, sign_in
from bizreg.testing.factories import EnterpriseFactory, UserFactory
from bizreg.tracking.models import Migration, WatchEntry, WatchRule, WatchState

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
]

REGIONS = ("广州市（市内）", "广东省（省内）", "外省")
REASONS = ("cost", "premises", "policy", "market")


def test_analysis_charts_and_clearing_a_watch_entry(live_server, browser, authority):
    officer = UserFactory(role="enterprise_officer", authorities=[authority], display_name="陈专员")
    Migration.objects.bulk_create(
        Migration(
            authority=authority,
            direction="in" if n % 3 else "out",
            enterprise_name=f"广州南沙迁移样本{n}有限公司",
            uscc=f"9144011500000{n:05d}",
            case_number=f"B{n:05d}",
            moved_on=dt.date(2024, 1 + n % 12, 1 + n % 28),
            industry="FILMC"[n % 5],
            entity_type="llc",
            registered_capital=Decimal(10 + n * 37 % 6000),
            counterpart_authority="深圳市市场监督管理局",
            counterpart_region=REGIONS[n % 3],
            reason=REASONS[n % 4] if n % 3 == 0 else "unknown",
        )
        for n in range(120)
    )
    enterprise = EnterpriseFactory(authority=authority, name="广州南沙拟迁出科技有限公司")
    WatchEntry.objects.create(
        authority=authority,
        enterprise=enterprise,
        rule=WatchRule.MOVE_OUT_APPLICATION,
        detail="迁出登记申请 T2024（收件 2024-06-01）拟迁往深圳市市场监督管理局",
        flagged_on=timezone.localdate(),
    )
    errors: list[str] = []
    page = new_page(browser)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    path = reverse("tracking:migration_analysis")
    sign_in(page, live_server.url, officer, path)

    page.select_option("#id_period", "year")
    page.fill("#id_year", "2024")
    page.get_by_role("button", name="统计").click()
    expect(page.get_by_test_id("period")).to_contain_text("2024年")
    expect(page.locator('[data-figure="in"]')).to_contain_text("80")
    expect(page.locator('[data-figure="out"]')).to_contain_text("40")
    for chart in ("months", "industries", "regions", "reasons"):
        expect(page.locator(f"#chart-{chart} canvas")).to_have_count(1)
    expect(page.get_by_test_id("table-months").locator("tbody tr")).to_have_count(12)
    # The quarter picker shows the quarter field, hides the range fields.
    page.select_option("#id_period", "quarter")
    expect(page.locator('[data-field="quarter"]')).to_be_visible()
    expect(page.locator('[data-field="date_from"]')).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "tracking_migrations_analysis.png"), full_page=True)

    page.get_by_test_id("watch-link").click()
    row = page.get_by_test_id("watch-row").first
    expect(row.get_by_test_id("rule")).to_have_text("已申请迁出")
    row.locator("summary").click()
    row.locator("textarea[name=reason]").fill("企业经走访已决定留区发展")
    row.get_by_role("button", name="确认解除").click()
    expect(page.get_by_test_id("watch-table")).to_contain_text("名单中没有符合条件的企业")
    page.screenshot(path=str(ARTIFACTS / "tracking_migrations_watch.png"), full_page=True)
    entry = WatchEntry.objects.get()
    assert (entry.state, entry.cleared_reason, entry.cleared_by) == (
        WatchState.CLEARED,
        "企业经走访已决定留区发展",
        officer,
    )
    assert errors == []
