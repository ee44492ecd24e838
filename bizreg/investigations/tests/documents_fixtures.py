"""Test data of the investigation documents, imported by test_documents*.py.

Cases are written as rows in the state a test needs (the documents are the subject here, not the workflow
that led there): one case with a report from the victim, one enterprise under investigation with its
register person-roles, a submitted field check with its contact attempts, evidence with real files and
the case's events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from docx import Document
from pypdf import PdfReader

from bizreg.core.identifiers import build_resident_id
from bizreg.enterprises.models import EnterprisePerson
from bizreg.investigations.models import (
    CaseEnterprise,
    CaseEvent,
    CaseState,
    ContactAttempt,
    ContactMethod,
    Decision,
    DecisionOutcome,
    Evidence,
    EvidenceKind,
    FieldCheck,
    FieldCheckResult,
    FieldCheckState,
    InvestigationCase,
    RegistrationBan,
    Report,
    ReportedEnterprise,
    ReportSource,
    VerificationMethod,
    VerificationResult,
)
from bizreg.testing.factories import EnterpriseFactory

TZ = ZoneInfo("Asia/Shanghai")
VICTIM_NAME = "欧阳明轩"
VICTIM_ID = build_resident_id("440115", dt.date(1986, 7, 21), 318)
VICTIM_ID_MASKED = VICTIM_ID[:4] + "*" * 10 + VICTIM_ID[-4:]
CULPRIT_NAME = "钱多多"
CULPRIT_ID = build_resident_id("440106", dt.date(1990, 2, 3), 117)
CULPRIT_ID_MASKED = CULPRIT_ID[:4] + "*" * 10 + CULPRIT_ID[-4:]
ENTERPRISE_ADDRESS = "广州市南沙区海滨路171号1208房"
NARRATIVE = "本人从未办理该企业登记，身份证于2024年遗失，登记材料上的签名并非本人所签"
FINDINGS = "登记住所为空置写字间，物业管理处称该企业从未入驻"
EVIDENCE_BYTES = b"\x89PNG fake site photo of an empty office"
EVIDENCE_SHA = hashlib.sha256(EVIDENCE_BYTES).hexdigest()
ISSUED_AT = dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
_numbers = itertools.count(1)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def make_case(
    authority, investigator, *, state: str = CaseState.INVESTIGATING, **overrides
) -> InvestigationCase:
    n = next(_numbers)
    enterprise = EnterpriseFactory(
        authority=authority,
        name=f"广州南沙冒名测试{n}贸易有限公司",
        legal_rep_name=VICTIM_NAME,
        legal_rep_id_number=VICTIM_ID,
        address=ENTERPRISE_ADDRESS,
        established_on=dt.date(2025, 6, 18),
    )
    data = {
        "authority": authority,
        "number": f"DC{authority.code}{n:05d}",
        "state": state,
        "source": ReportSource.VICTIM,
        "summary": f"反映{enterprise.name}冒用其身份登记",
        "victim_name": VICTIM_NAME,
        "victim_id_number": VICTIM_ID,
        "victim_phone": "13912345678",
        "assigned_to": investigator,
        "received_on": dt.date(2026, 1, 5),
        "acceptance_due_on": dt.date(2026, 1, 8),
        "accepted_on": dt.date(2026, 1, 6),
        "investigation_due_on": dt.date(2026, 4, 6),
    }
    data.update(overrides)
    case = InvestigationCase.objects.create(**data)
    report = Report.objects.create(
        authority=authority,
        case=case,
        source=ReportSource.VICTIM,
        received_at=at(dt.date(2026, 1, 5), 9, 30),
        reporter_name=VICTIM_NAME,
        reporter_id_number=VICTIM_ID,
        reporter_phone="13912345678",
        verification_method=VerificationMethod.OFFLINE_WINDOW,
        verification_result=VerificationResult.PASSED,
        narrative=NARRATIVE,
        submitted_by=investigator,
    )
    ReportedEnterprise.objects.create(report=report, name_as_given=enterprise.name, enterprise=enterprise)
    ReportedEnterprise.objects.create(report=report, name_as_given="广州查无此号有限公司", unmatched=True)
    CaseEnterprise.objects.create(
        case=case, enterprise=enterprise, added_at=at(dt.date(2026, 1, 6)), added_by=investigator, locked=True
    )
    EnterprisePerson.objects.create(
        enterprise=enterprise,
        role="legal_rep",
        name=VICTIM_NAME,
        id_number=VICTIM_ID,
        phone="13912345678",
        started_on=dt.date(2025, 6, 18),
    )
    EnterprisePerson.objects.create(
        enterprise=enterprise,
        role="agent",
        name=CULPRIT_NAME,
        id_number=CULPRIT_ID,
        phone="13600001111",
        started_on=dt.date(2025, 6, 18),
    )
    check = FieldCheck.objects.create(
        authority=authority,
        case=case,
        enterprise=enterprise,
        address=ENTERPRISE_ADDRESS,
        assigned_to=investigator,
        due_on=dt.date(2026, 1, 20),
        state=FieldCheckState.SUBMITTED,
        visited_at=at(dt.date(2026, 1, 12), 14),
        result=FieldCheckResult.VACANT,
        findings=FINDINGS,
        submitted_at=at(dt.date(2026, 1, 12), 17),
        submitted_by=investigator,
    )
    ContactAttempt.objects.create(
        field_check=check,
        attempted_at=at(dt.date(2026, 1, 12), 15),
        method=ContactMethod.PHONE,
        target="登记联络员",
        reached=False,
        note="电话为空号",
    )
    Evidence.objects.create(
        case=case,
        field_check=check,
        kind=EvidenceKind.PHOTO,
        description="登记住所现场照片",
        file=ContentFile(EVIDENCE_BYTES, name="site.png"),
        file_name="现场照片.png",
        content_type="image/png",
        size=len(EVIDENCE_BYTES),
        sha256=EVIDENCE_SHA,
        uploaded_by=investigator,
        uploaded_at=at(dt.date(2026, 1, 12), 17, 30),
    )
    CaseEvent.objects.create(
        case=case,
        action="accept",
        label="受理",
        from_state=CaseState.RECEIVED,
        to_state=CaseState.INVESTIGATING,
        actor=investigator,
        occurred_at=at(dt.date(2026, 1, 6), 9),
        reason="材料齐全，被冒用人身份已核验",
    )
    return case


def start_notice(case: InvestigationCase, actor) -> InvestigationCase:
    case.state = CaseState.PUBLIC_NOTICE
    case.notice_started_on = dt.date(2026, 2, 2)
    case.notice_ends_on = dt.date(2026, 3, 19)
    case.save()
    CaseEvent.objects.create(
        case=case,
        action="start_notice",
        label="发布公示",
        from_state=CaseState.INVESTIGATING,
        to_state=CaseState.PUBLIC_NOTICE,
        actor=actor,
        occurred_at=at(dt.date(2026, 2, 2)),
        reason="企业无法联系",
    )
    return case


def decide(
    case: InvestigationCase, manager, *, outcome: str = DecisionOutcome.REVOKE_ALL, **extra
) -> Decision:
    decided_at = at(dt.date(2026, 3, 1), 16)
    decision = Decision.objects.create(
        case=case,
        outcome=outcome,
        legal_basis="《中华人民共和国市场主体登记管理条例》第四十条",
        reasoning="该企业登记时提交的法定代表人身份证明系冒用他人身份信息，签名非本人所签",
        decided_by=manager,
        decided_at=decided_at,
        **extra,
    )
    RegistrationBan.objects.create(
        authority=case.authority,
        id_number=CULPRIT_ID,
        name=CULPRIT_NAME,
        role="委托代理人",
        case=case,
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2029, 3, 1),
    )
    case.state = CaseState.DECIDED
    case.save()
    return decision


def pdf_text(data: bytes) -> str:
    """The PDF's text without line breaks and spaces (table cells wrap in narrow columns)."""
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    return text.replace("\n", "").replace(" ", "")


def docx_text(data: bytes) -> str:
    """Paragraphs, table cells and footers of the .docx, in order, without line breaks and spaces."""
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.footer.paragraphs]
    return "".join(parts).replace("\n", "").replace(" ", "")


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Stored documents go to a per-test folder, not the shared var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def investigator(role_users):
    return role_users["investigator"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]
