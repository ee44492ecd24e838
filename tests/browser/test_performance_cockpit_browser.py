"""Acceptance test in a real browser: a manager opens the 双监控 cockpit of a project with budget lines,
payments and indicators, sees the lights and the warning of an indicator that will miss its target, and
the ECharts charts render without a JavaScript error. Screenshot: artifacts/browser/performance_cockpit.png.
"""

# ruff: noqa: F811 — `page` is the shared Playwright fixture of test_enterprise_search_browser

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bizreg.performance.models import Direction, Level1, Level2, MonthlySnapshot
from bizreg.performance.tests.monitoring_fixtures import (
    BUSY_DECEMBER,
    make_indicator,
    make_line,
    make_project,
    pay,
    service_records,
)
from bizreg.testing.factories import UserFactory
from tests.browser.test_enterprise_search_browser import ARTIFACTS, _sign_in, page  # noqa: F401 — fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(180),
]

D = dt.date


def _build_project(authority):
    clerk = UserFactory(username="cockpit_clerk", role="registration_clerk", authorities=[authority])
    project = make_project(authority)
    lines = [
        make_line(project, "L01", "400000", name="商事登记辅助项目", order=1),
        make_line(project, "L02", "350000", name="企业综合服务项目", order=2),
        make_line(project, "L03", "250000", name="电话咨询服务项目", order=3),
    ]
    for month in range(1, 7):
        pay(project, lines[0], D(2023, month, 20), "35000")
        pay(project, lines[1], D(2023, month, 25), "25000")
    pay(project, lines[2], D(2023, 4, 10), "60000")  # 42.00 % of the budget vs 49.59 % elapsed
    for year in (2021, 2022):
        service_records(authority, clerk, year, BUSY_DECEMBER)
    service_records(authority, clerk, 2023, BUSY_DECEMBER, until=D(2023, 7, 1))
    on_track = make_indicator(project, "1", name="企业信息录入及指引份数", target_value=Decimal(200))
    missing = make_indicator(project, "2", name="一网通办指引份数（按年度目标）", target_value=Decimal(300))
    make_indicator(
        project,
        "3",
        name="解答群众的电话咨询满意度",
        direction=Direction.QUALITATIVE,
        target_value=None,
        target_text="满意",
        metric_key="",
        level1=Level1.SATISFACTION,
        level2=Level2.SERVICE_OBJECT,
    )
    for indicator in (on_track, missing):
        for month in range(1, 6):
            MonthlySnapshot.objects.create(
                indicator=indicator, month=D(2023, month, 1), month_value=10, ytd_value=10 * month
            )
    return project


def test_manager_reads_the_cockpit(live_server, page, authority):
    UserFactory(username="cockpit_manager", display_name="周婉清", role="manager", authorities=[authority])
    project = _build_project(authority)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    base = live_server.url
    _sign_in(page, base, "cockpit_manager")
    page.goto(f"{base}/performance/projects/{project.pk}/cockpit/?as_of=2023-06-30")
    expect(page.get_by_test_id("cockpit-as-of")).to_have_text("2023年6月30日")
    for chart in ("chart-budget", "chart-lines", "chart-trend"):
        expect(page.locator(f"#{chart} canvas").first).to_be_visible()

    rows = page.get_by_test_id("indicator-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-light", "green")
    expect(rows.nth(0).get_by_test_id("indicator-light")).to_have_text("正常")
    expect(rows.nth(1)).to_have_attribute("data-light", "red")
    expect(rows.nth(1).get_by_test_id("indicator-light")).to_have_text("预警")
    expect(rows.nth(2).get_by_test_id("indicator-light")).to_have_text("无法测算")
    warning = page.get_by_test_id("indicator-warning")
    expect(warning).to_have_count(1)
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("全年预计 200份，低于年度指标值 300份")
    expect(page.get_by_test_id("budget-light")).to_have_attribute("data-light", "green")

    # Another indicator's trend redraws the chart in place.
    page.get_by_test_id("trend-indicator").select_option(index=1)
    expect(page.locator("#chart-trend canvas").first).to_be_visible()
    page.wait_for_timeout(600)  # ECharts animates in; let the screenshot show the drawn charts
    path = ARTIFACTS / "performance_cockpit.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000
    assert errors == []
