"""The staff pages of investigations: who may open them (and that every refusal is logged), the list with
its filters and Excel export, intake of a report with its bad inputs, the steps, the decision, evidence
uploads, the full-data reveal, and the portal's application and survey."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bizreg.core.models import AccessLog
from bizreg.investigations.models import (
    CaseEvent,
    CaseState,
    Evidence,
    InvestigationCase,
    ReportedEnterprise,
    VerificationResult,
)
from bizreg.investigations.services import cases as case_services
from bizreg.investigations.services import intake
from bizreg.testing.factories import EnterpriseFactory, valid_resident_id

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def investigator(make_user):
    return make_user("investigator", display_name="张调查")


@pytest.fixture
def manager(make_user):
    return make_user("manager", display_name="王科长")


@pytest.fixture
def enterprise(authority):
    return EnterpriseFactory(authority=authority, name="广州南沙冒名贸易有限公司")


def receive(authority, actor, enterprise=None, **overrides):
    data = {
        "source": "task_force",
        "referral_reference": "ZZ-2026-017",
        "reporter": {"name": "李被冒", "id_number": valid_resident_id(), "phone": "13800138000"},
        "verification_method": "task_force",
        "verification_result": "passed",
        "narrative": "本人从未申请设立该企业，身份证曾遗失。",
        "enterprises": [{"name": enterprise.name, "uscc": enterprise.uscc}] if enterprise else [],
    }
    data.update(overrides)
    return intake.report_receive(authority=authority, actor=actor, **data)


def test_list_needs_the_investigation_role_and_refusals_are_logged(client_for, role_users):
    url = reverse("investigations:case_list")
    for code in ("registration_clerk", "hotline_agent", "archivist", "enterprise_officer"):
        user = role_users[code]
        response = client_for(user).get(url)
        assert response.status_code == 403, code
        assert AccessLog.objects.filter(user=user, action=AccessLog.Action.DENIED).exists(), code
    for code in ("investigator", "manager"):
        assert client_for(role_users[code]).get(url).status_code == 200, code


def test_nav_shows_the_cases_only_to_investigators_and_managers(client_for, role_users):
    home = reverse("core:home")
    link = reverse("investigations:case_list")
    assert link in client_for(role_users["investigator"]).get(home).content.decode()
    assert link not in client_for(role_users["registration_clerk"]).get(home).content.decode()


def test_a_clerk_opening_a_case_gets_403_and_is_logged(
    client_for, role_users, authority, investigator, enterprise
):
    case = receive(authority, investigator, enterprise).case
    clerk = role_users["registration_clerk"]
    response = client_for(clerk).get(reverse("investigations:case_detail", args=[case.pk]))
    assert response.status_code == 403
    refusal = AccessLog.objects.get(user=clerk, action=AccessLog.Action.DENIED)
    assert refusal.object_id == str(case.pk)


def test_a_case_of_another_authority_is_404_and_logged(
    client_for, make_user, other_authority, authority, investigator, enterprise
):
    case = receive(authority, investigator, enterprise).case
    outsider = make_user("investigator", authorities=[other_authority])
    response = client_for(outsider).get(reverse("investigations:case_detail", args=[case.pk]))
    assert response.status_code == 404
    assert AccessLog.objects.filter(
        user=outsider, action=AccessLog.Action.DENIED, object_id=str(case.pk)
    ).exists()


def test_intake_page_creates_a_case_and_masks_the_victim(client_for, investigator, enterprise):
    victim_id = valid_resident_id()
    response = client_for(investigator).post(
        reverse("investigations:case_new"),
        {
            "source": "victim",
            "reporter_name": "陈小明",
            "reporter_id_number": victim_id,
            "reporter_phone": "13912345678",
            "verification_method": "offline_window",
            "verification_result": "passed",
            "verification_note": "窗口核验身份证原件",
            "narrative": "本人身份被冒用登记为法定代表人。",
            "enterprises": f"{enterprise.name} {enterprise.uscc}\n广州南沙查无此司有限公司",
        },
        follow=True,
    )
    assert response.status_code == 200
    case = InvestigationCase.objects.get()
    page = response.content.decode()
    assert case.number in page
    assert victim_id not in page  # masked until revealed
    assert "登记簿中未找到" in page
    assert ReportedEnterprise.objects.filter(
        unmatched=True, name_as_given="广州南沙查无此司有限公司"
    ).exists()


def test_intake_page_refuses_an_invalid_id_number(client_for, investigator, enterprise):
    response = client_for(investigator).post(
        reverse("investigations:case_new"),
        {
            "source": "victim",
            "reporter_name": "陈小明",
            "reporter_id_number": "440115199001011234",  # wrong check digit
            "reporter_phone": "13912345678",
            "verification_method": "offline_window",
            "verification_result": "passed",
            "narrative": "本人身份被冒用。",
            "enterprises": enterprise.name,
        },
    )
    assert response.status_code == 400
    assert "公民身份号码校验码错误" in response.content.decode()
    assert not InvestigationCase.objects.exists()


def test_reveal_shows_the_full_id_and_logs_it(client_for, authority, investigator, enterprise):
    report = receive(authority, investigator, enterprise)
    client = client_for(investigator)
    response = client.post(reverse("investigations:case_reveal", args=[report.case_id]))
    assert report.reporter_id_number in response.content.decode()
    log = AccessLog.objects.get(user=investigator, action=AccessLog.Action.VIEW)
    assert log.object_id == str(report.case_id)


def test_list_filters_and_export(client_for, authority, investigator, enterprise):
    first = receive(authority, investigator, enterprise).case
    second_enterprise = EnterpriseFactory(authority=authority)
    second = receive(
        authority,
        investigator,
        second_enterprise,
        reporter={"name": "赵某", "id_number": valid_resident_id(), "phone": ""},
    ).case
    case_services.case_not_accept(case=second, actor=investigator, reason="申请人撤回申请")
    client = client_for(investigator)
    url = reverse("investigations:case_list")
    page = client.get(url, {"state": "received"}).content.decode()
    assert first.number in page and second.number not in page
    page = client.get(url, {"q": second.number}).content.decode()
    assert second.number in page and first.number not in page
    bad = client.get(url, {"received_from": "2026-12-31", "received_to": "2026-01-01"})
    assert "起始日期不能晚于截止日期" in bad.content.decode()
    unparsable = client.get(url, {"received_from": "2026-13-01"}).content.decode()
    assert "收到日期自：请输入有效日期（YYYY-MM-DD）。" in unparsable
    export = client.get(url, {"export": "xlsx"})
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    numbers = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert numbers == {first.number, second.number}
    assert AccessLog.objects.filter(user=investigator, action=AccessLog.Action.EXPORT).exists()


def test_steps_from_the_case_page_record_who_and_why(client_for, authority, investigator, enterprise):
    case = receive(authority, investigator, enterprise).case
    client = client_for(investigator)
    response = client.post(
        reverse("investigations:case_step", args=[case.pk, "accept"]), {"reason": "材料齐全"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.INVESTIGATING
    event = CaseEvent.objects.filter(case=case, action="accept").get()
    assert event.actor == investigator and event.reason.startswith("材料齐全")
    # A reason is required to suspend.
    response = client.post(
        reverse("investigations:case_step", args=[case.pk, "suspend"]), {"ground": "civil_dispute"}
    )
    assert response.status_code == 400


def test_decision_without_legal_basis_is_refused(client_for, authority, investigator, manager, enterprise):
    case = receive(authority, investigator, enterprise).case
    case_services.case_accept(case=case, actor=investigator)
    response = client_for(manager).post(
        reverse("investigations:case_decide", args=[case.pk]),
        {"outcome": "revoke_all", "legal_basis": "", "reasoning": "经查属冒用身份。"},
    )
    assert response.status_code == 400
    assert "法律依据" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.INVESTIGATING


def test_investigator_may_not_decide(client_for, authority, investigator, enterprise):
    case = receive(authority, investigator, enterprise).case
    response = client_for(investigator).get(reverse("investigations:case_decide", args=[case.pk]))
    assert response.status_code == 403


def test_any_action_after_closing_is_409(client_for, authority, investigator, enterprise):
    case = receive(authority, investigator, enterprise).case
    case = case_services.case_not_accept(case=case, actor=investigator, reason="不属于本机关管辖")
    case_services.case_close(case=case, actor=investigator, reason="")
    client = client_for(investigator)
    response = client.post(reverse("investigations:case_step", args=[case.pk, "accept"]), {"reason": "x"})
    assert response.status_code == 409
    assert "案件已结案" in response.content.decode()
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    response = client.post(
        reverse("investigations:evidence_new", args=[case.pk]),
        {"kind": "photo", "description": "现场照片", "upload": upload},
    )
    assert response.status_code == 409
    assert not Evidence.objects.exists()


def test_evidence_of_a_forbidden_type_is_refused_on_the_page(client_for, authority, investigator, enterprise):
    case = receive(authority, investigator, enterprise).case
    case_services.case_accept(case=case, actor=investigator)
    upload = SimpleUploadedFile("run.exe", b"MZ\x90\x00" + b"\x00" * 100, content_type="image/png")
    response = client_for(investigator).post(
        reverse("investigations:evidence_new", args=[case.pk]),
        {"kind": "photo", "description": "现场照片", "upload": upload},
    )
    assert response.status_code == 400
    assert "不支持的文件类型" in response.content.decode()


def test_evidence_upload_and_download_is_logged(client_for, authority, investigator, enterprise):
    case = receive(authority, investigator, enterprise).case
    case_services.case_accept(case=case, actor=investigator)
    client = client_for(investigator)
    upload = SimpleUploadedFile("door.png", PNG, content_type="image/png")
    response = client.post(
        reverse("investigations:evidence_new", args=[case.pk]),
        {"kind": "photo", "description": "登记住所大门", "upload": upload},
    )
    assert response.status_code == 302
    item = Evidence.objects.get()
    page = client.get(reverse("investigations:case_detail", args=[case.pk])).content.decode()
    assert item.sha256[:16] in page
    download = client.get(reverse("investigations:evidence_download", args=[item.pk]))
    assert b"".join(download.streaming_content) == PNG
    assert AccessLog.objects.filter(object_type="investigations.Evidence", object_id=str(item.pk)).exists()


def test_portal_report_is_pending_until_staff_verify(client, client_for, authority, investigator, enterprise):
    victim_id = valid_resident_id()
    response = client.post(
        reverse("investigations_public:report"),
        {
            "reporter_name": "周某某",
            "reporter_id_number": victim_id,
            "reporter_phone": "13700001111",
            "verification_method": "offline_window",
            "enterprises": enterprise.name,
            "narrative": "我的身份证被人冒用注册了公司。",
            "consent": "on",
        },
    )
    assert response.status_code == 200
    case = InvestigationCase.objects.get()
    assert case.number in response.content.decode()
    assert victim_id not in response.content.decode()
    report = case.reports.get()
    assert report.via_portal and report.verification_result == VerificationResult.PENDING
    staff = client_for(investigator)
    response = staff.post(
        reverse("investigations:report_verify", args=[report.pk]),
        {"result": "passed", "note": "窗口核验身份证原件一致"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.verification_result == VerificationResult.PASSED
    # Recorded once: a second attempt is refused.
    again = staff.post(
        reverse("investigations:report_verify", args=[report.pk]), {"result": "failed", "note": "x"}
    )
    assert again.status_code == 409


def test_portal_report_with_an_invalid_id_is_refused(client, authority, enterprise):
    response = client.post(
        reverse("investigations_public:report"),
        {
            "reporter_name": "周某某",
            "reporter_id_number": "12345",
            "reporter_phone": "13700001111",
            "verification_method": "offline_window",
            "enterprises": enterprise.name,
            "narrative": "我的身份证被人冒用注册了公司。",
            "consent": "on",
        },
    )
    assert response.status_code == 400
    assert "公民身份号码应为 18 位" in response.content.decode()
    assert not InvestigationCase.objects.exists()


def test_portal_report_is_rate_limited(client, authority, enterprise, settings):
    settings.INVESTIGATIONS_PORTAL_REPORT_RATE_LIMIT = (1, 3600)
    data = {"reporter_name": "周某某", "reporter_id_number": "x", "reporter_phone": "1"}
    assert client.post(reverse("investigations_public:report"), data).status_code == 400
    assert client.post(reverse("investigations_public:report"), data).status_code == 429


def test_survey_on_the_portal_once(client, authority, investigator, enterprise):
    case = receive(authority, investigator, enterprise).case
    case = case_services.case_not_accept(case=case, actor=investigator, reason="不属于冒用情形")
    case_services.case_close(case=case, actor=investigator, reason="")
    survey = InvestigationCase.objects.get(pk=case.pk).survey
    url = reverse("investigations_public:survey", args=[survey.token])
    assert client.get(url).status_code == 200
    response = client.post(url, {"score": "5", "comment": "处理及时"})
    assert "评价已提交" in response.content.decode()
    survey.refresh_from_db()
    assert survey.score == 5 and survey.answered_at is not None
    assert "已提交过评价" in client.get(url).content.decode()
    assert client.get(reverse("investigations_public:survey", args=["nope"])).status_code == 404


def test_due_page_lists_overdue_acceptance(client_for, authority, investigator, enterprise):
    received = timezone.now() - dt.timedelta(days=10)
    case = receive(authority, investigator, enterprise, received_at=received).case
    page = client_for(investigator).get(reverse("investigations:case_due")).content.decode()
    assert case.number in page and "已超期" in page
