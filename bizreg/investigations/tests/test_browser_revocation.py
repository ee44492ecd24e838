"""Acceptance test in a real browser (issue 7): one report of identity misuse from intake through the field
check and the 45-day public notice to revocation, then a new registration by the banned person refused at
intake. Screenshots go to artifacts/browser/investigations_*.png.

The notice period is the one thing the test cannot wait for: once the notice is published, the test moves
its dates 46 days back in the database, as if the period had run out.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from docx import Document
from playwright.sync_api import expect
from pypdf import PdfReader

from bizreg.core.identifiers import build_resident_id
from bizreg.core.models import WorkingCalendarYear
from bizreg.core.workdays import CalendarDataMissing, add_working_days
from bizreg.enterprises.models import Enterprise, EnterpriseStatus
from bizreg.enterprises.services import enterprise_person_add
from bizreg.investigations.models import InvestigationCase, RegistrationBan
from bizreg.testing.browser import ARTIFACTS, new_page, sign_in
from bizreg.testing.factories import EnterpriseFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
]

ENTERPRISE = "广州南沙冒名商贸有限公司"
VICTIM_ID = build_resident_id("440115", dt.date(1979, 3, 8), 112)
CULPRIT_ID = build_resident_id("440115", dt.date(1985, 11, 2), 357)
PNG_SIZE = (64, 48)


def _shot(page, name: str) -> None:
    path = ARTIFACTS / f"investigations_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def _ensure_calendar() -> None:
    today = timezone.localdate()
    try:
        add_working_days(today, 10)
    except CalendarDataMissing:
        WorkingCalendarYear.objects.get_or_create(year=today.year)
        WorkingCalendarYear.objects.get_or_create(year=today.year + 1)


def _photo(tmp_path):
    from PIL import Image

    path = tmp_path / "门牌照片.png"
    Image.new("RGB", PNG_SIZE, (180, 40, 40)).save(path)
    return path


def _pdf_text(download) -> str:
    return "".join(p.extract_text() for p in PdfReader(download.path()).pages).replace(" ", "")


def _step(page, action: str, reason: str, state: str) -> None:
    page.locator(f'a[data-action="{action}"]').click()
    if reason:
        page.fill("#id_reason", reason)
    page.get_by_test_id("step-submit").click()
    expect(page.get_by_test_id("case-state")).to_have_text(state)


def test_a_report_goes_from_intake_through_notice_to_revocation_and_the_culprit_is_banned(
    live_server, browser, authority, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    _ensure_calendar()
    base = live_server.url
    UserFactory(
        username="browser_investigator", display_name="张调查", role="investigator", authorities=[authority]
    )
    UserFactory(username="browser_manager", display_name="王科长", role="manager", authorities=[authority])
    UserFactory(
        username="browser_clerk", display_name="李窗口", role="registration_clerk", authorities=[authority]
    )
    enterprise = EnterpriseFactory(
        authority=authority, name=ENTERPRISE, legal_rep_name="陈被冒", legal_rep_id_number=VICTIM_ID
    )
    # The register's person-roles of the false registration: the victim as shareholder, the culprit as the
    # agent who filed it (the link graph walks these).
    clerk = _user("browser_clerk")
    enterprise_person_add(
        enterprise=enterprise, actor=clerk, role="shareholder", name="陈被冒", id_number=VICTIM_ID
    )
    enterprise_person_add(
        enterprise=enterprise,
        actor=clerk,
        role="agent",
        name="王冒名",
        id_number=CULPRIT_ID,
        phone="13925830000",
    )

    # 收到专责小组转办的线索
    page = new_page(browser)
    sign_in(page, base, _user("browser_investigator"), "/investigations/")
    page.get_by_test_id("case-new").click()
    page.select_option("#id_source", "task_force")
    page.fill("#id_referral_reference", "专责小组转〔2026〕15号")
    page.fill("#id_reporter_name", "陈被冒")
    page.fill("#id_reporter_id_number", VICTIM_ID)
    page.fill("#id_reporter_phone", "13800138001")
    page.select_option("#id_verification_method", "task_force")
    page.select_option("#id_verification_result", "passed")
    page.fill("#id_narrative", "陈被冒称其身份证于 2025 年遗失，从未申请设立该企业，也未委托他人办理。")
    page.fill("#id_enterprises", f"{ENTERPRISE} {enterprise.uscc}")
    _shot(page, "intake")
    page.get_by_test_id("report-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("case-state")).to_have_text("待受理")
    case = InvestigationCase.objects.get()
    expect(page.get_by_test_id("victim-id")).not_to_have_text(VICTIM_ID)  # masked

    # 受理：企业被锁定
    _step(page, "accept", "专责小组转办材料齐全，身份已核验", "调查中")
    expect(page.get_by_test_id("locked")).to_be_visible()
    _shot(page, "accepted")

    # 研判：关联图
    page.get_by_test_id("links").click()
    expect(page.get_by_test_id("link-graph").locator("canvas")).to_be_visible()
    expect(page.get_by_test_id("graph-table")).to_contain_text(ENTERPRISE)
    _shot(page, "links")
    page.go_back()

    # 实地核查：联系记录、现场照片、核查结果
    page.locator('a[data-action="field_check"]').click()
    page.select_option("#id_enterprise", str(enterprise.pk))
    page.fill("#id_address", enterprise.address)
    page.select_option("#id_assigned_to", label="张调查")
    page.fill("#id_due_on", (timezone.localdate() + dt.timedelta(days=5)).isoformat())
    page.get_by_test_id("field-check-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("check-state")).to_have_text("待核查")
    now = timezone.localtime().replace(second=0, microsecond=0)
    page.fill("#id_attempted_at", now.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#id_method", "phone")
    page.fill("#id_target", "企业登记联系电话")
    page.fill("#id_note", "空号")
    page.get_by_test_id("attempt-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("attempts")).to_contain_text("空号")
    page.get_by_test_id("add-evidence").click()
    page.select_option("#id_kind", "photo")
    page.fill("#id_description", "登记住所现场：无该企业招牌")
    page.set_input_files("#id_upload", str(_photo(tmp_path)))
    page.get_by_test_id("evidence-form").locator("button[type=submit]").click()
    page.fill("#id_visited_at", now.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#id_result", "not_found")
    page.fill("#id_findings", "登记住所为住宅，住户称从未有该企业经营，物业亦无该企业登记记录。")
    page.get_by_test_id("report-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("check-state")).to_have_text("已提交")
    expect(page.get_by_test_id("check-result")).to_have_text("登记住所无该企业")
    _shot(page, "field_check")
    page.goto(f"{base}/investigations/{case.pk}/")

    # 企业无法联系：公示 45 日，出具公告
    _step(page, "start_notice", "实地核查登记住所无该企业，电话空号，无法联系", "公示中")
    page.get_by_test_id("document-form").locator("select").select_option("public_notice")
    page.get_by_test_id("document-form").locator("button[type=submit]").click()
    with page.expect_download() as notice_download:
        page.get_by_test_id("doc-pdf-public_notice").click()
    notice_text = _pdf_text(notice_download.value)
    assert ENTERPRISE in notice_text and "45" in notice_text
    _shot(page, "notice")
    page.context.close()

    # 公示期满无异议
    started = timezone.localdate() - dt.timedelta(days=46)
    InvestigationCase.objects.filter(pk=case.pk).update(
        notice_started_on=started, notice_ends_on=started + dt.timedelta(days=45)
    )

    # 负责人作出撤销决定，责任人列入三年限制登记名单
    page = new_page(browser)
    sign_in(page, base, _user("browser_manager"), f"/investigations/{case.pk}/")
    page.locator('a[data-action="decide"]').click()
    page.select_option("#id_outcome", "revoke_all")
    page.fill(
        "#id_legal_basis", "《市场主体登记管理条例》第四十条、《市场主体登记管理条例实施细则》第五十六条"
    )
    page.fill("#id_reasoning", "经调查，该企业系冒用陈被冒身份信息办理的虚假登记，公示期满无异议。")
    page.fill("#id_responsible_persons", f"王冒名 {CULPRIT_ID} 委托代理人")
    _shot(page, "decide")
    page.get_by_test_id("decide-submit").click()
    expect(page.get_by_test_id("case-state")).to_have_text("已作出决定")
    expect(page.get_by_test_id("decision")).to_contain_text("撤销全部登记")
    page.get_by_test_id("document-form").locator("select").select_option("decision")
    page.get_by_test_id("document-form").locator("button[type=submit]").click()
    with page.expect_download() as decision_download:
        page.get_by_test_id("doc-docx-decision").click()
    decision_text = "".join(p.text for p in Document(str(decision_download.value.path())).paragraphs)
    assert ENTERPRISE in decision_text and "撤销" in decision_text
    _shot(page, "decided")
    page.context.close()
    assert Enterprise.objects.get(pk=enterprise.pk).status == EnterpriseStatus.RESCINDED
    ban = RegistrationBan.objects.get(case=case)
    assert ban.id_number == CULPRIT_ID and ban.ends_on.year == timezone.localdate().year + 3

    # 结案
    page = new_page(browser)
    sign_in(page, base, _user("browser_investigator"), f"/investigations/{case.pk}/")
    _step(page, "close", "", "已结案")
    expect(page.get_by_test_id("survey")).to_contain_text("/portal/investigations/survey/")
    _shot(page, "closed")
    page.context.close()

    # 被限制的人员再申请设立登记：收件时被拒绝
    page = new_page(browser)
    sign_in(page, base, _user("browser_clerk"), "/registration/cases/new/")
    page.select_option("#id_case_type", "establishment")
    page.select_option("#id_channel", "window")
    page.fill("#id_enterprise_name", "广州南沙再来一次贸易有限公司")
    page.select_option("#id_rc_entity_type", "llc")
    page.select_option("#id_rc_industry", "F")
    page.fill("#id_rc_legal_rep_name", "王冒名")
    page.fill("#id_rc_legal_rep_id_number", CULPRIT_ID)
    page.fill("#id_rc_registered_capital", "10")
    page.select_option("#id_rc_street", index=1)
    page.fill("#id_rc_address", "广州市南沙区进港大道 1 号")
    page.fill("#id_rc_business_scope", "日用百货销售")
    page.fill("#id_applicant_name", "王冒名")
    page.fill("#id_applicant_id_number", CULPRIT_ID)
    page.fill("#id_applicant_phone", "13912340000")
    for box in page.get_by_test_id("materials-establishment").locator("input[type=checkbox]").all():
        box.check()
    page.get_by_test_id("intake-submit").click()
    refusal = page.locator("body")
    expect(refusal).to_contain_text(case.number)
    expect(refusal).to_contain_text("不得")
    _shot(page, "banned_intake")
    page.context.close()


def _user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)
