"""The investigation documents as a user checks them: real PDF and .docx files, read back.

Each kind renders with its key facts and its number in both formats; numbers run without gaps per
authority, kind and year; a stored document re-renders to identical bytes; the state and permission
rules refuse with a Chinese reason.
"""

# ruff: noqa: F811 — the shared fixtures are imported from documents_fixtures and requested by name

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from docx import Document
from docx.oxml.ns import qn

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.investigations.models import (
    CaseDocument,
    CaseEvent,
    CaseState,
    DecisionOutcome,
    DocumentCounter,
    DocumentKind,
    NonRevocationGround,
)
from bizreg.investigations.services.documents import (
    DocumentIntegrityError,
    document_filename,
    document_issue,
    document_render,
)
from bizreg.investigations.tests.documents_fixtures import (  # noqa: F401
    CULPRIT_ID,
    CULPRIT_ID_MASKED,
    CULPRIT_NAME,
    EVIDENCE_SHA,
    FINDINGS,
    ISSUED_AT,
    NARRATIVE,
    VICTIM_ID,
    VICTIM_ID_MASKED,
    VICTIM_NAME,
    decide,
    docx_text,
    investigator,
    make_case,
    manager,
    pdf_text,
    private_media,
    start_notice,
)
from bizreg.registration.models import NoticeIssuerProfile

pytestmark = pytest.mark.django_db

OPINION = "经调查，该企业登记时冒用被冒用人身份信息，建议撤销其全部登记"
BASIS = "《中华人民共和国市场主体登记管理条例》第四十条第一款"


def issue(case, kind, actor, **kwargs):
    kwargs.setdefault("issued_at", ISSUED_AT)
    if kind == DocumentKind.OPINION:
        kwargs.setdefault("opinion", OPINION)
        kwargs.setdefault("legal_basis", BASIS)
    return document_issue(case=case, kind=kind, actor=actor, **kwargs)


def both_texts(document: CaseDocument) -> tuple[str, str]:
    with document.pdf.open("rb") as handle:
        pdf_bytes = handle.read()
    with document.docx.open("rb") as handle:
        docx_bytes = handle.read()
    return pdf_text(pdf_bytes), docx_text(docx_bytes)


def assert_in_both(texts: tuple[str, str], *needles: str) -> None:
    for label, text in zip(("PDF", "docx"), texts, strict=True):
        for needle in needles:
            assert needle.replace(" ", "") in text, f"{label} lacks {needle!r}"


def assert_in_neither(texts: tuple[str, str], *needles: str) -> None:
    for label, text in zip(("PDF", "docx"), texts, strict=True):
        for needle in needles:
            assert needle not in text, f"{label} shows {needle!r}"


# --- each kind, read back from both files ------------------------------------------------------------------


def test_opinion_states_facts_evidence_checks_opinion_and_basis(authority, investigator):
    case = make_case(authority, investigator)
    document = issue(case, DocumentKind.OPINION, investigator)
    assert document.number == "440115〔2026〕冒调意字第1号"
    enterprise = case.enterprises.get().enterprise
    texts = both_texts(document)
    assert_in_both(
        texts,
        "专业意见书",
        document.number,
        case.number,
        enterprise.name,
        enterprise.uscc,
        NARRATIVE,
        "线下窗口核验身份证原件",
        EVIDENCE_SHA[:16],
        "现场照片.png",
        FINDINGS,
        "场所空置",
        OPINION,
        BASIS,
        VICTIM_ID_MASKED,
    )
    # Goes to the parties: the victim's ID number only masked.
    assert_in_neither(texts, VICTIM_ID)


def test_due_diligence_covers_reports_people_checks_evidence_and_timeline(authority, investigator):
    case = make_case(authority, investigator)
    document = issue(case, DocumentKind.DUE_DILIGENCE, investigator, opinion="建议发布公示")
    assert document.number == "440115〔2026〕冒调查字第1号"
    texts = both_texts(document)
    assert_in_both(
        texts,
        "尽职调查报告",
        document.number,
        NARRATIVE,
        "线下窗口核验身份证原件",
        "核验通过",
        "广州查无此号有限公司",  # the name the register does not know, kept and flagged
        "委托代理人",
        CULPRIT_NAME,
        CULPRIT_ID_MASKED,
        "登记联络员",
        "未联系上",
        "电话为空号",
        EVIDENCE_SHA[:16],
        "材料齐全，被冒用人身份已核验",  # the acceptance event's reason
        "待受理→调查中",
        "建议发布公示",
    )
    assert_in_neither(texts, VICTIM_ID, CULPRIT_ID, "13600001111")


def test_decision_letter_outcome_basis_ban_and_remedies(authority, investigator, manager):
    case = make_case(authority, investigator)
    start_notice(case, investigator)
    decide(case, manager)
    document = issue(case, DocumentKind.DECISION, investigator)
    assert document.number == "440115〔2026〕冒调决字第1号"
    enterprise = case.enterprises.get().enterprise
    texts = both_texts(document)
    assert_in_both(
        texts,
        "撤销登记决定书",
        document.number,
        f"{VICTIM_NAME}：",
        "冒用你的身份信息",
        f"撤销{enterprise.name}（统一社会信用代码：{enterprise.uscc}）的市场主体登记",
        "《中华人民共和国市场主体登记管理条例》第四十条",
        "第五十条至第五十八条",
        "3年内不得再次申请市场主体登记",
        CULPRIT_NAME,
        CULPRIT_ID_MASKED,
        "2026年3月1日至2029年3月1日",
        "2026年2月2日至2026年3月19日",  # the notice it went through
        "六十日内",
        "六个月内",
        "二〇二六年三月二日",
    )
    # Addressed to the victim: their own ID in full; the responsible person's stays masked.
    assert_in_both(texts, VICTIM_ID)
    assert_in_neither(texts, CULPRIT_ID)


def test_partial_revocation_lists_items_and_profile_names_review_body(authority, investigator, manager):
    NoticeIssuerProfile.objects.create(
        authority=authority,
        short_name="穗南政数",
        review_body="广州市南沙区人民政府",
        court="广州铁路运输法院",
    )
    case = make_case(authority, investigator)
    decide(case, manager, outcome=DecisionOutcome.REVOKE_ITEMS, items=["法定代表人：欧阳明轩", "住所"])
    document = issue(case, DocumentKind.DECISION, investigator)
    assert document.number == "穗南政数〔2026〕冒调决字第1号"
    texts = both_texts(document)
    assert_in_both(
        texts,
        "撤销登记事项决定书",
        "1．法定代表人：欧阳明轩",
        "2．住所",
        "向广州市南沙区人民政府申请行政复议",
        "向广州铁路运输法院提起行政诉讼",
    )


def test_not_revoked_letter_gives_the_ground(authority, investigator, manager):
    case = make_case(authority, investigator)
    decide(
        case,
        manager,
        outcome=DecisionOutcome.NOT_REVOKED,
        non_revocation_ground=NonRevocationGround.PUBLIC_INTEREST,
    )
    texts = both_texts(issue(case, DocumentKind.DECISION, investigator))
    assert_in_both(texts, "不予撤销登记决定书", "不予撤销", "社会公共利益")


def test_public_notice_names_enterprise_period_and_how_to_object(authority, investigator):
    NoticeIssuerProfile.objects.create(
        authority=authority, address="广州市南沙区凤凰大道1号", contact_phone="020-12345678"
    )
    case = start_notice(make_case(authority, investigator), investigator)
    document = issue(case, DocumentKind.PUBLIC_NOTICE, investigator)
    assert document.number == "440115〔2026〕冒调告字第1号"
    enterprise = case.enterprises.get().enterprise
    texts = both_texts(document)
    assert_in_both(
        texts,
        "公告",
        document.number,
        enterprise.name,
        enterprise.uscc,
        "涉嫌冒用他人身份信息",
        "45日，自2026年2月2日起至2026年3月19日止",
        "书面提出异议",
        "广州市南沙区凤凰大道1号",
        "020-12345678",
        "欧**轩",
        "特此公告",
    )
    # Public: neither the victim's full name nor any ID number.
    assert_in_neither(texts, VICTIM_NAME, VICTIM_ID, VICTIM_ID_MASKED)


# --- numbering ------------------------------------------------------------------------------------------


def test_numbers_are_consecutive_per_authority_kind_and_year(
    authority, other_authority, investigator, make_user
):
    case = make_case(authority, investigator)
    numbers = [issue(case, DocumentKind.OPINION, investigator).number for _ in range(3)]
    assert numbers == [f"440115〔2026〕冒调意字第{n}号" for n in (1, 2, 3)]
    # Another kind has its own series; so has another year.
    assert issue(case, DocumentKind.DUE_DILIGENCE, investigator).number == "440115〔2026〕冒调查字第1号"
    next_year = dt.datetime(2027, 1, 4, 9, 0, tzinfo=ISSUED_AT.tzinfo)
    assert issue(case, DocumentKind.OPINION, investigator, issued_at=next_year).number == (
        "440115〔2027〕冒调意字第1号"
    )
    # Another authority's series starts at 1 and cannot collide with this one.
    other_investigator = make_user("investigator", authorities=[other_authority])
    other_case = make_case(other_authority, other_investigator)
    assert issue(other_case, DocumentKind.OPINION, other_investigator).number == "440106〔2026〕冒调意字第1号"
    assert DocumentCounter.objects.get(authority=authority, kind="opinion", year=2026).last == 3


def test_refused_issue_takes_no_number(authority, investigator, manager):
    case = make_case(authority, investigator)
    with pytest.raises(TransitionNotAllowed):
        issue(case, DocumentKind.DECISION, investigator)
    decide(case, manager)
    assert issue(case, DocumentKind.DECISION, investigator).number.endswith("冒调决字第1号")


# --- reproducible files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [DocumentKind.OPINION, DocumentKind.DUE_DILIGENCE])
def test_rerender_gives_identical_bytes(authority, investigator, kind):
    document = issue(make_case(authority, investigator), kind, investigator)
    time.sleep(1.1)  # a later second: nothing of the wall clock may reach the files
    document = CaseDocument.objects.get(pk=document.pk)
    for fmt, field, digest in (
        ("pdf", document.pdf, document.pdf_sha256),
        ("docx", document.docx, document.docx_sha256),
    ):
        with field.open("rb") as handle:
            stored = handle.read()
        assert hashlib.sha256(stored).hexdigest() == digest
        assert document_render(document, fmt) == stored
    assert document_filename(document, "pdf") == f"{document.get_kind_display()}_{document.number}.pdf"


def test_docx_carries_issue_time_and_east_asian_font(authority, investigator):
    document = issue(make_case(authority, investigator), DocumentKind.OPINION, investigator)
    with document.docx.open("rb") as handle:
        word = Document(io.BytesIO(handle.read()))
    assert word.core_properties.created == ISSUED_AT.astimezone(dt.UTC)
    assert word.core_properties.author == "广州市南沙区政务服务和数据管理局"
    first_run = word.paragraphs[0].runs[0]
    assert first_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    assert word.paragraphs[0].text == "专业意见书"
    assert word.paragraphs[1].text == document.number


def test_altered_content_fails_the_hash_check(authority, investigator):
    document = issue(make_case(authority, investigator), DocumentKind.OPINION, investigator)
    CaseDocument.objects.filter(pk=document.pk).update(
        content={**document.content, "addressee": "某某"},
    )
    document.refresh_from_db()
    with pytest.raises(DocumentIntegrityError, match="校验值不符"):
        document_render(document, "pdf")
    with pytest.raises(DocumentIntegrityError):
        document_render(document, "docx")


def test_unknown_download_format_is_refused(authority, investigator):
    document = issue(make_case(authority, investigator), DocumentKind.OPINION, investigator)
    with pytest.raises(ValidationError, match="PDF 或 Word"):
        document_render(document, "odt")


def test_issue_is_recorded_on_the_case(authority, investigator):
    case = make_case(authority, investigator)
    document = issue(case, DocumentKind.DUE_DILIGENCE, investigator)
    event = CaseEvent.objects.get(case=case, action="document_issue")
    assert (event.label, event.reason, event.actor) == ("出具尽职调查报告", document.number, investigator)
    assert document.issued_by == investigator and document.authority == authority


# --- refusals -------------------------------------------------------------------------------------------


def test_decision_letter_before_a_decision_is_refused(authority, investigator):
    case = make_case(authority, investigator)
    with pytest.raises(TransitionNotAllowed, match="尚未作出处理决定"):
        issue(case, DocumentKind.DECISION, investigator)
    assert not CaseDocument.objects.exists()


def test_second_decision_letter_is_refused(authority, investigator, manager):
    case = make_case(authority, investigator)
    decide(case, manager)
    first = issue(case, DocumentKind.DECISION, investigator)
    with pytest.raises(TransitionNotAllowed, match=f"已出具（{first.number}）"):
        issue(case, DocumentKind.DECISION, investigator)


@pytest.mark.parametrize("role", ["registration_clerk", "archivist", "hotline_agent", "department_viewer"])
def test_without_permission_is_denied(authority, investigator, role_users, role):
    case = make_case(authority, investigator)
    with pytest.raises(PermissionDenied, match="无权出具调查文书"):
        issue(case, DocumentKind.DUE_DILIGENCE, role_users[role])
    assert not CaseDocument.objects.exists()


def test_manager_may_issue(authority, investigator, manager):
    case = make_case(authority, investigator)
    assert issue(case, DocumentKind.DUE_DILIGENCE, manager).issued_by == manager


def test_other_authoritys_investigator_is_denied(authority, other_authority, investigator, make_user):
    case = make_case(authority, investigator)
    outsider = make_user("investigator", authorities=[other_authority])
    with pytest.raises(PermissionDenied, match="不属于您所在的登记机关"):
        issue(case, DocumentKind.DUE_DILIGENCE, outsider)


def test_closed_case_is_refused(authority, investigator, manager):
    case = make_case(authority, investigator)
    decide(case, manager)
    case.state = CaseState.CLOSED
    case.save()
    for kind in DocumentKind:
        with pytest.raises(TransitionNotAllowed, match="案件已结案"):
            issue(case, kind, investigator)
    assert not CaseDocument.objects.exists()


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (CaseState.RECEIVED, "尚未受理"),
        (CaseState.NOT_ACCEPTED, "不予受理"),
        (CaseState.MERGED, "已并入"),
    ],
)
def test_cases_not_under_investigation_are_refused(authority, investigator, state, message):
    case = make_case(authority, investigator, state=state)
    with pytest.raises(TransitionNotAllowed, match=message):
        issue(case, DocumentKind.OPINION, investigator)


def test_public_notice_outside_the_notice_is_refused(authority, investigator, manager):
    case = make_case(authority, investigator)
    with pytest.raises(TransitionNotAllowed, match="公示期间"):
        issue(case, DocumentKind.PUBLIC_NOTICE, investigator)
    # Decided without a notice: still refused.
    decide(case, manager)
    with pytest.raises(TransitionNotAllowed, match="公示期间"):
        issue(case, DocumentKind.PUBLIC_NOTICE, investigator)


def test_public_notice_after_the_decision_of_a_noticed_case(authority, investigator, manager):
    case = start_notice(make_case(authority, investigator), investigator)
    decide(case, manager)
    document = issue(case, DocumentKind.PUBLIC_NOTICE, investigator)
    assert document.kind == DocumentKind.PUBLIC_NOTICE
    with pytest.raises(TransitionNotAllowed, match="本次公示的公告已出具"):
        issue(case, DocumentKind.PUBLIC_NOTICE, investigator)


def test_opinion_needs_opinion_and_legal_basis(authority, investigator):
    case = make_case(authority, investigator)
    with pytest.raises(ValidationError) as error:
        issue(case, DocumentKind.OPINION, investigator, opinion="  ", legal_basis="")
    assert error.value.message_dict == {
        "opinion": ["专业意见书必须写明调查意见。"],
        "legal_basis": ["专业意见书必须写明拟适用的法律依据。"],
    }
    assert not DocumentCounter.objects.exists()


def test_unknown_kind_is_refused(authority, investigator):
    case = make_case(authority, investigator)
    with pytest.raises(ValidationError, match="未知的文书类型"):
        document_issue(case=case, kind="memo", actor=investigator)
