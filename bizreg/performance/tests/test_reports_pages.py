"""Report pages: who may open and do what (role matrix, other authority 404), what the pages show, the
downloads, and issue/revise through the forms."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from docx import Document

from bizreg.accounts.roles import ROLES
from bizreg.performance.models import EvaluationReport, ReportStatus
from bizreg.performance.selectors.reports import consistency_findings
from bizreg.performance.services.golden import load_seed_2023
from bizreg.performance.tests.test_golden_seed_2023 import fix_seed, pdf_text

pytestmark = pytest.mark.django_db

ALL = {role.code for role in ROLES}
READERS = {"finance_officer", "manager"}


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def url(name: str, project) -> str:
    from django.urls import reverse

    return reverse(f"performance:{name}", args=[project.pk])


def issue_post(project) -> dict[str, str]:
    data = {}
    for i, finding in enumerate(consistency_findings(project)):
        data.update({f"ack_{i}": "on", f"reason_{i}": "已核实", f"key_{i}": finding.key})
    return data


# --- role matrix ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize("name", ["report", "report_docx", "report_pdf"])
def test_read_pages_by_role(role, name, seed_2023, role_users, client_for):
    response = client_for(role_users[role]).get(url(name, seed_2023))
    assert response.status_code == (200 if role in READERS else 403)


@pytest.mark.parametrize("role", sorted(ALL))
def test_report_list_by_role(role, seed_2023, role_users, client_for):
    response = client_for(role_users[role]).get("/performance/reports/")
    assert response.status_code == (200 if role in READERS else 403)


def test_anonymous_is_sent_to_login(client, seed_2023):
    for name in ("report", "report_docx", "report_pdf", "report_issue"):
        response = client.get(url(name, seed_2023))
        assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("name", ["report", "report_docx", "report_pdf", "report_issue"])
def test_other_authority_is_404(name, other_authority, role_users, client_for):
    foreign = load_seed_2023(other_authority)
    for role in READERS:
        assert client_for(role_users[role]).get(url(name, foreign)).status_code in (404, 403)
    assert client_for(role_users["manager"]).get(url(name, foreign)).status_code == 404


def test_other_authority_cannot_edit_issue_or_revise(other_authority, role_users, client_for):
    foreign = load_seed_2023(other_authority)
    officer = client_for(role_users["finance_officer"])
    manager = client_for(role_users["manager"])
    assert officer.post(url("report", foreign), {"title": "x"}).status_code == 404
    assert manager.post(url("report_issue", foreign), issue_post(foreign)).status_code == 404
    assert manager.post(url("report_revise", foreign), {"reason": "x"}).status_code == 404
    report = EvaluationReport.objects.get(project=foreign)
    assert report.status == ReportStatus.DRAFT and report.title != "x"


def test_other_authority_projects_not_listed(authority, other_authority, seed_2023, role_users, client_for):
    load_seed_2023(other_authority)
    response = client_for(role_users["manager"]).get("/performance/reports/")
    assert response.context["page"].paginator.count == 1


# --- report page ---------------------------------------------------------------------------------------


def test_report_page_shows_score_and_findings(seed_2023, role_users, client_for):
    response = client_for(role_users["manager"]).get(url("report", seed_2023))
    html = response.content.decode()
    assert 'data-testid="total">99.44<' in html
    assert 'data-testid="grade">优<' in html
    assert "一致性检查：发现 7 项不一致" in html
    assert "业务办理量" in html and "档案场地租赁项目" in html
    assert 'data-testid="narrative-form"' not in html  # the manager reads, does not edit
    assert 'data-testid="issue-link"' in html


def test_officer_edits_narrative_through_the_page(seed_2023, role_users, client_for):
    client = client_for(role_users["finance_officer"])
    page = client.get(url("report", seed_2023)).content.decode()
    assert 'data-testid="narrative-form"' in page and 'data-testid="issue-link"' not in page
    data = {"title": "2023 年度自评报告", "problems": "问题一。", "analysis": "数量指标“业务服务量”未达标。"}
    response = client.post(url("report", seed_2023), data)
    assert response.status_code == 302
    report = EvaluationReport.objects.get(project=seed_2023)
    assert (report.title, report.problems, report.overview) == ("2023 年度自评报告", "问题一。", "")
    # The edited text is what the downloaded document says.
    docx = Document(io.BytesIO(client.get(url("report_docx", seed_2023)).content))
    assert "数量指标“业务服务量”未达标。" in [p.text for p in docx.paragraphs]


def test_narrative_bad_input_shows_error(seed_2023, role_users, client_for):
    response = client_for(role_users["finance_officer"]).post(url("report", seed_2023), {"title": ""})
    assert response.status_code == 400
    assert "该字段是必填项" in response.content.decode()
    assert EvaluationReport.objects.get(project=seed_2023).title.startswith("2023 年度广州市")


def test_manager_cannot_post_narrative(seed_2023, role_users, client_for):
    response = client_for(role_users["manager"]).post(url("report", seed_2023), {"title": "改"})
    assert response.status_code == 403
    assert EvaluationReport.objects.get(project=seed_2023).title != "改"


def test_downloads_are_documents_with_draft_mark(seed_2023, role_users, client_for):
    client = client_for(role_users["finance_officer"])
    docx = client.get(url("report_docx", seed_2023))
    assert docx["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert "attachment" in docx["Content-Disposition"]
    document = Document(io.BytesIO(docx.content))
    assert document.paragraphs[0].text.startswith("（草稿）")
    pdf = client.get(url("report_pdf", seed_2023))
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "草稿" in text and "99.44" in text


# --- issue and revise ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ALL - {"manager"}))
def test_only_manager_may_issue(role, seed_2023, role_users, client_for):
    client = client_for(role_users[role])
    assert client.get(url("report_issue", seed_2023)).status_code == 403
    assert client.post(url("report_issue", seed_2023), issue_post(seed_2023)).status_code == 403
    assert EvaluationReport.objects.get(project=seed_2023).status == ReportStatus.DRAFT


def test_issue_form_requires_each_acknowledgement(seed_2023, role_users, client_for):
    client = client_for(role_users["manager"])
    page = client.get(url("report_issue", seed_2023)).content.decode()
    assert page.count('data-finding="') == 7
    data = issue_post(seed_2023)
    data.pop("ack_3")
    response = client.post(url("report_issue", seed_2023), data)
    assert response.status_code == 400
    assert "请勾选确认并填写理由" in response.content.decode()
    assert EvaluationReport.objects.get(project=seed_2023).status == ReportStatus.DRAFT


def test_issue_form_refuses_stale_findings(seed_2023, role_users, client_for):
    data = issue_post(seed_2023)
    data["key_0"] = "lines_total:something-else"
    response = client_for(role_users["manager"]).post(url("report_issue", seed_2023), data)
    assert response.status_code == 400
    assert "不一致项已变化" in response.content.decode()


def test_manager_issues_then_downloads_stored_file_then_revises(seed_2023, role_users, client_for):
    manager = client_for(role_users["manager"])
    response = manager.post(url("report_issue", seed_2023), issue_post(seed_2023))
    assert response.status_code == 302
    report = EvaluationReport.objects.get(project=seed_2023)
    assert report.status == ReportStatus.ISSUED and report.issued_total_score == Decimal("99.44")
    pdf = manager.get(url("report_pdf", seed_2023))
    body = b"".join(pdf.streaming_content)
    import hashlib

    assert hashlib.sha256(body).hexdigest() == report.pdf_sha256
    assert "草稿" not in pdf_text(body)
    page = manager.get(url("report", seed_2023)).content.decode()
    assert 'data-testid="issued-info"' in page and report.pdf_sha256 in page

    # Issued: the officer's edit is refused with the reason (409), nothing changed.
    officer = client_for(role_users["finance_officer"])
    refused = officer.post(url("report", seed_2023), {"title": "改", "problems": "改"})
    assert refused.status_code == 409 and "已印发" in refused.content.decode()
    # Issuing again is a 409 too.
    assert manager.post(url("report_issue", seed_2023), issue_post(seed_2023)).status_code == 409

    # Revise: the officer may not, the manager needs a reason.
    assert officer.post(url("report_revise", seed_2023), {"reason": "改"}).status_code == 403
    assert manager.post(url("report_revise", seed_2023), {"reason": ""}).status_code == 400
    assert EvaluationReport.objects.get(project=seed_2023).status == ReportStatus.ISSUED
    assert manager.post(url("report_revise", seed_2023), {"reason": "补充说明"}).status_code == 302
    assert EvaluationReport.objects.get(project=seed_2023).status == ReportStatus.DRAFT


def test_revise_a_draft_is_409(seed_2023, role_users, client_for):
    response = client_for(role_users["manager"]).post(url("report_revise", seed_2023), {"reason": "x"})
    assert response.status_code == 409


def test_revise_is_post_only(seed_2023, role_users, client_for):
    assert client_for(role_users["manager"]).get(url("report_revise", seed_2023)).status_code == 405


def test_corrected_report_issues_without_acknowledgements(seed_2023, role_users, client_for):
    fix_seed(seed_2023)
    client = client_for(role_users["manager"])
    assert "未发现不一致项" in client.get(url("report_issue", seed_2023)).content.decode()
    assert client.post(url("report_issue", seed_2023), {}).status_code == 302
    assert EvaluationReport.objects.get(project=seed_2023).status == ReportStatus.ISSUED


# --- list ----------------------------------------------------------------------------------------------


def test_report_list_filters(seed_2023, role_users, client_for):
    client = client_for(role_users["manager"])
    assert client.get("/performance/reports/?year=2023").context["page"].paginator.count == 1
    assert client.get("/performance/reports/?year=2022").context["page"].paginator.count == 0
    assert client.get("/performance/reports/?status=issued").context["page"].paginator.count == 0
    assert client.get("/performance/reports/?status=draft&q=经济服务").context["page"].paginator.count == 1
    bad = client.get("/performance/reports/?year=abc")
    assert bad.status_code == 200 and 'data-testid="filter-errors"' in bad.content.decode()
