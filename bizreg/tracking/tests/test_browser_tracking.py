"""Acceptance test in a real browser (issue 8): an officer completes the visit of a new enterprise and raises
an appeal, the department it is routed to answers, the enterprise follows it on the portal, and the quarterly
tracking report is generated and read back (PDF and .docx). Screenshots go to
artifacts/browser/tracking_*.png."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from docx import Document
from playwright.sync_api import expect
from pypdf import PdfReader

from bizreg.core.models import WorkingCalendarYear
from bizreg.core.workdays import CalendarDataMissing, add_working_days
from bizreg.testing.browser import ARTIFACTS, new_page, sign_in
from bizreg.testing.factories import EnterpriseFactory
from bizreg.tracking.models import Appeal, Department, PlanReason, Visit, VisitPlan
from bizreg.tracking.services import plans as plan_services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
]

ENTERPRISE = "广州南沙跟踪智造科技有限公司"
PHONE = "13912345678"
FEEDBACK = "已对接区职业技术学院，安排12月专场招聘会，企业可报名参加。"


def _shot(page, name: str) -> None:
    path = ARTIFACTS / f"tracking_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def _ensure_calendar() -> None:
    today = timezone.localdate()
    try:
        add_working_days(today, 30)
    except CalendarDataMissing:
        WorkingCalendarYear.objects.get_or_create(year=today.year)
        WorkingCalendarYear.objects.get_or_create(year=today.year + 1)


def _opened(page, action: str) -> None:
    """The step's accordion panel has finished opening (Bootstrap's collapse animates its height; a form
    filled and sent while it moves can lose the click)."""
    expect(page.locator(f"#step-{action}")).to_have_class(re.compile(r"\bshow\b"))
    expect(page.locator(f"#step-{action}")).not_to_have_class(re.compile(r"\bcollapsing\b"))


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def test_a_visit_raises_an_appeal_the_department_answers_it_the_enterprise_sees_it_and_the_report_says_so(
    live_server, browser, authority, make_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    _ensure_calendar()
    base = live_server.url
    today = timezone.localdate()
    officer = make_user("enterprise_officer", display_name="何家豪")
    manager = make_user("manager", display_name="刘建国")
    member = make_user("department_viewer", display_name="罗美玲")
    department = Department.objects.create(
        authority=authority, name="区人力资源和社会保障局", default_days=10
    )
    department.members.add(member)
    enterprise = EnterpriseFactory(
        authority=authority, name=ENTERPRISE, entity_type="llc", established_on=today - dt.timedelta(days=12)
    )
    # The register gives a plan for the new enterprise; the manager assigns it to the officer.
    assert plan_services.plans_generate(authority=authority, actor=manager, today=today) >= 1
    plan = VisitPlan.objects.get(enterprise=enterprise, reason=PlanReason.NEW_ENTERPRISE)
    plan_services.plan_assign(plan=plan, officer=officer, actor=manager)

    page = new_page(browser)
    # 1. The officer records the visit from the plan, answering the questionnaire.
    sign_in(page, base, officer, f"/tracking/plans/{plan.pk}/")
    expect(page.get_by_test_id("trigger")).to_contain_text("新设立企业")
    page.locator('a[data-action="visit"]').click()
    expect(page.get_by_test_id("visit-enterprise")).to_contain_text(ENTERPRISE)
    page.select_option("#id_method", "on_site")
    page.fill("#id_contact_name", "陈志远")
    page.fill("#id_contact_phone", PHONE)
    page.fill("#id_q_employees", "36")
    page.select_option("#id_q_revenue_trend", "小幅增长")
    page.check('input[name="q_difficulties"][value="用工招工难"]')
    page.check('input[name="q_expand_plan"][value="yes"]')
    page.check('input[name="q_move_out_plan"][value="no"]')
    page.select_option("#id_q_satisfaction", "满意")
    page.fill("#id_findings", "企业已投产，计划扩大产线，数控技工招聘困难。")
    _shot(page, "1_visit_form")
    page.get_by_test_id("visit-submit").click()
    expect(page.get_by_test_id("visit-state")).to_have_text("已提交")
    expect(page.get_by_test_id("answers")).to_contain_text("36")
    visit = Visit.objects.get(enterprise=enterprise)
    assert visit.answers["employees"] == 36 and visit.answers["move_out_plan"] is False
    plan.refresh_from_db()
    assert plan.state == "done"
    _shot(page, "2_visit_submitted")

    # 2. The appeal raised at the visit, routed to the department.
    page.get_by_test_id("appeal-new").click()
    expect(page.get_by_test_id("from-visit")).to_contain_text(visit.number)
    page.select_option("#id_category", "labour")
    page.fill("#id_title", "数控技工招聘困难")
    page.fill("#id_description", "企业扩产需招聘数控技工 10 名，希望协助对接职业院校。")
    page.fill("#id_contact_name", "陈志远")
    page.fill("#id_contact_phone", PHONE)
    page.get_by_test_id("appeal-submit").click()
    expect(page.get_by_test_id("appeal-state")).to_have_text("已登记")
    appeal = Appeal.objects.get(enterprise=enterprise)
    page.locator('button[data-action="route"]').click()
    route = page.get_by_test_id("step-route")
    _opened(page, "route")
    route.locator('select[name="route-department"]').select_option(str(department.pk))
    route.locator('button[type="submit"]').click()
    expect(page.get_by_test_id("appeal-state")).to_have_text("已转办")
    expect(page.get_by_test_id("department")).to_have_text("区人力资源和社会保障局")
    _shot(page, "3_appeal_routed")
    page.context.close()

    # 3. The department's member answers it.
    page = new_page(browser)
    sign_in(page, base, member, f"/tracking/appeals/{appeal.pk}/")
    page.locator('button[data-action="answer"]').click()
    answer = page.get_by_test_id("step-answer")
    _opened(page, "answer")
    answer.locator('textarea[name="answer-feedback"]').fill(FEEDBACK)
    answer.locator('button[type="submit"]').click()
    expect(page.get_by_test_id("appeal-state")).to_have_text("已反馈")
    expect(page.get_by_test_id("feedback")).to_contain_text(FEEDBACK)
    _shot(page, "4_department_answered")
    page.context.close()

    # 4. The enterprise follows its appeal on the portal: a wrong suffix says nothing, the right one shows it.
    page = new_page(browser)
    page.goto(base + "/portal/appeals/")
    page.fill("#id_number", appeal.number)
    page.fill("#id_phone_suffix", "0000")
    page.get_by_test_id("appeal-query-submit").click()
    expect(page.get_by_test_id("verdict")).to_have_text("未查询到相符的诉求")
    page.fill("#id_number", appeal.number)
    page.fill("#id_phone_suffix", PHONE[-4:])
    page.get_by_test_id("appeal-query-submit").click()
    expect(page.get_by_test_id("appeal-number")).to_have_text(appeal.number)
    expect(page.get_by_test_id("appeal-status")).to_contain_text("已反馈")
    expect(page.get_by_test_id("appeal-feedback")).to_contain_text(FEEDBACK)
    expect(page.get_by_test_id("appeal-department")).to_have_text("区人力资源和社会保障局")
    assert PHONE not in page.content() and "陈志远" not in page.content()
    _shot(page, "5_portal_follow_up")
    page.context.close()

    # 5. The quarterly report, generated by the officer and read back from the PDF and the .docx.
    page = new_page(browser)
    sign_in(page, base, officer, "/tracking/reports/generate/")
    page.select_option("#id_period", "quarter")
    page.fill("#id_period_start", _quarter_start(today).isoformat())
    page.get_by_test_id("report-submit").click()
    expect(page.get_by_test_id("report-title")).to_contain_text("企业跟踪服务季度报告")
    expect(page.get_by_test_id("narrative")).to_contain_text("共完成企业走访 1 户次")
    _shot(page, "6_quarterly_report")
    with page.expect_download() as pdf_download:
        page.get_by_test_id("download-pdf").click()
    pdf_text = "".join(p.extract_text() for p in PdfReader(pdf_download.value.path()).pages)
    with page.expect_download() as docx_download:
        page.get_by_test_id("download-docx").click()
    document = Document(io.BytesIO(docx_download.value.path().read_bytes()))
    docx_text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    # Lines wrap anywhere in the PDF: compare without any whitespace.
    for text in ("".join(pdf_text.split()), "".join(docx_text.split())):
        assert "企业跟踪服务季度报告" in text
        assert "共完成企业走访1户次" in text
        assert "登记企业诉求1件" in text
        assert "区人力资源和社会保障局" in text
    page.context.close()
