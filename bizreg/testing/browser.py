"""Browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright against pytest-django's
live server. The `browser` fixture (root conftest) launches it; `new_page` opens a Chinese-locale tab and
`sign_in` logs a user in through the real login form. Screenshots go to artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

from django.urls import reverse

from bizreg.testing.factories import TEST_PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# A loaded 2-core CI machine can take more than Playwright's default 5 s for a round trip.
DEFAULT_TIMEOUT_MS = 15_000


def new_page(browser, *, viewport: tuple[int, int] = (1280, 900), accept_downloads: bool = True):
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        locale="zh-CN",
        accept_downloads=accept_downloads,
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context.new_page()


def sign_in(page, base_url: str, user, next_path: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + reverse("accounts:login") + "?next=" + next_path)
    page.fill("#id_username", user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(base_url + next_path)
