"""Acceptance test in a real browser: a clerk walks one 设立 case from intake to licence, downloads the
approval notice, reads it, and verifies its QR code on the public page.

Playwright drives Debian's Chromium against pytest-django's live server (see
test_enterprise_search_browser.py). Screenshots are kept under artifacts/browser/registration_*.png.
"""

# ruff: noqa: F811 — `page` is the shared Playwright fixture of test_enterprise_search_browser

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from bizreg.core.identifiers import build_resident_id
from bizreg.core.models import WorkingCalendarYear
from bizreg.core.workdays import CalendarDataMissing, add_working_days
from bizreg.registration.models import LicenceKind, LicenceSheet, RegistrationCase
from bizreg.registration.services import licences
from bizreg.testing.factories import UserFactory
from tests.browser.test_enterprise_search_browser import ARTIFACTS, _sign_in, page  # noqa: F401 — fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(180),
]

ENTERPRISE = "广州南沙远洋数字科技有限公司"
APPLICANT_ID = build_resident_id("440115", dt.date(1988, 5, 17), 231)


def _shot(page, name: str) -> None:
    path = ARTIFACTS / f"registration_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def _ensure_calendar() -> None:
    """The statutory clock needs this year's working days; years past the library's data are kept by hand."""
    today = timezone.localdate()
    try:
        add_working_days(today, 3)
    except CalendarDataMissing:
        WorkingCalendarYear.objects.get_or_create(year=today.year)
        WorkingCalendarYear.objects.get_or_create(year=today.year + 1)


def _act(page, action: str, state: str) -> None:
    page.locator(f'button[data-action="{action}"]').click()
    expect(page.get_by_test_id("case-state")).to_have_text(state)


def test_clerk_takes_an_establishment_from_intake_to_licence(
    live_server, page, authority, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PORTAL_BASE_URL = live_server.url  # the QR code must lead to this server
    _ensure_calendar()
    UserFactory(
        username="browser_clerk", display_name="李慧敏", role="registration_clerk", authorities=[authority]
    )
    manager = UserFactory(username="browser_manager", role="manager", authorities=[authority])
    for kind, start in ((LicenceKind.ORIGINAL, 1), (LicenceKind.DUPLICATE, 5001)):
        licences.licence_batch_receive(
            authority=authority,
            actor=manager,
            kind=kind,
            prefix="NS",
            serial_start=start,
            serial_end=start + 9,
            unit_cost="3.50",
            received_on=timezone.localdate(),
        )
    base = live_server.url

    # 收件
    _sign_in(page, base, "browser_clerk")
    expect(page.get_by_test_id("current-user")).to_have_text("李慧敏")
    page.goto(base + "/registration/cases/new/")
    # The form marks what the chosen type requires: the legal representative for 设立, not for 变更.
    legal_rep_star = page.locator('label[for="id_rc_legal_rep_name"] [data-required-for]')
    page.select_option("#id_case_type", "change")
    expect(legal_rep_star).to_be_hidden()
    expect(page.locator('label[for="id_enterprise_uscc"]')).to_contain_text("*")
    page.select_option("#id_case_type", "establishment")
    expect(legal_rep_star).to_be_visible()
    page.select_option("#id_channel", "window")
    page.fill("#id_enterprise_name", ENTERPRISE)
    page.select_option("#id_rc_entity_type", "llc")
    page.select_option("#id_rc_industry", "I")
    page.fill("#id_rc_legal_rep_name", "陈思远")
    page.fill("#id_rc_legal_rep_id_number", APPLICANT_ID)
    page.fill("#id_rc_registered_capital", "100")
    page.select_option("#id_rc_street", index=1)
    page.fill("#id_rc_address", "广州市南沙区海滨路 171 号")
    page.fill("#id_rc_business_scope", "软件开发；信息技术咨询服务")
    page.fill("#id_applicant_name", "陈思远")
    page.fill("#id_applicant_id_number", APPLICANT_ID)
    page.fill("#id_applicant_phone", "13912345678")
    for box in page.get_by_test_id("materials-establishment").locator("input[type=checkbox]").all():
        box.check()
    _shot(page, "intake")
    page.get_by_test_id("intake-submit").click()
    expect(page.get_by_test_id("case-state")).to_have_text("已收件")
    case = RegistrationCase.objects.get(enterprise_name=ENTERPRISE)
    expect(page).to_have_url(f"{base}/registration/cases/{case.pk}/")

    # 预审通过 → 受理 → 核准 → 发照
    _act(page, "pass_pre_review", "预审通过")
    _act(page, "accept", "已受理")
    _shot(page, "accepted")
    _act(page, "approve", "已核准")
    expect(page.get_by_test_id("case-uscc")).not_to_have_text("—")
    _act(page, "issue_licence", "已发照")
    sheets = page.get_by_test_id("case-sheets")
    expect(sheets).to_contain_text("NS00000001")
    expect(sheets).to_contain_text("NS00005001")
    _shot(page, "licensed")
    assert set(
        LicenceSheet.objects.filter(case=case, status=LicenceSheet.Status.PRINTED).values_list(
            "serial", flat=True
        )
    ) == {"NS00000001", "NS00005001"}

    # The licence goes out by post; the stock page shows what is left.
    page.get_by_test_id("case-documents").get_by_role("link", name="登记寄出营业执照").click()
    page.select_option("#id_courier", "ems")
    page.fill("#id_tracking_number", "EA123456789CN")
    page.fill("#id_address", "广州市南沙区海滨路 171 号 陈先生收")
    page.get_by_test_id("outbound-submit").click()
    expect(page.get_by_test_id("package-documents")).to_contain_text("营业执照正本（编号 NS00000001）")
    expect(page.get_by_test_id("package-case")).to_contain_text(case.number)
    _shot(page, "mail_out")
    page.get_by_test_id("nav-registration-licence_stock").click()
    expect(page.locator('[data-kind="original"] [data-testid="stock-blank"]')).to_have_text("9")
    expect(page.get_by_test_id("reorder-warning")).to_have_count(2)  # 9 left of each, below the default 200
    _shot(page, "stock")
    page.goto(f"{base}/registration/cases/{case.pk}/")

    # The approval notice: download it and read it.
    with page.expect_download() as download_info:
        page.locator('[data-testid="notice-download"][data-kind="approval_establishment"]').click()
    download = download_info.value
    assert download.suggested_filename.startswith("准予设立登记通知书_")
    data = download.path().read_bytes()
    (ARTIFACTS / "registration_approval_notice.pdf").write_bytes(data)
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "").replace(" ", "")
    assert text.startswith("准予设立登记通知书")
    assert f"{ENTERPRISE}：" in text
    assert "本机关决定准予设立登记" in text
    case.refresh_from_db()
    assert f"统一社会信用代码：{case.uscc}" in text
    assert APPLICANT_ID not in text and "13912345678" not in text

    # Its QR code leads to the public verification page.
    [verify_url] = [a.get_object()["/A"]["/URI"] for a in reader.pages[0]["/Annots"]]
    assert verify_url.startswith(base + "/portal/verify/")
    public = page.context.browser.new_context(viewport={"width": 1100, "height": 800}, locale="zh-CN")
    try:
        visitor = public.new_page()
        visitor.goto(verify_url)
        expect(visitor.get_by_test_id("verdict")).to_have_text("真实有效")
        expect(visitor.get_by_test_id("notice-kind")).to_have_text("准予设立登记通知书")
        expect(visitor.get_by_test_id("notice-enterprise")).to_have_text(ENTERPRISE)
        expect(visitor.locator("body")).not_to_contain_text("陈思远")
        _shot(visitor, "verify")
        visitor.goto(base + "/portal/verify/")
        visitor.fill("#id_code", "ABCD-EFGH-JKMN-PQRS")
        visitor.get_by_test_id("verify-submit").click()
        expect(visitor.get_by_test_id("verdict")).to_have_text("未找到该文书")
        _shot(visitor, "verify_unknown")
    finally:
        public.close()
