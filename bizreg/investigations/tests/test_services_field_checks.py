"""Field checks (assign, contact attempts, the immutable report, corrections) and evidence (type by
content, size, SHA-256, stored through the storage API, corrections as new versions)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.investigations.models import CaseEvent, Evidence, FieldCheck, FieldCheckState
from bizreg.investigations.services import cases as case_services
from bizreg.investigations.services import evidence as evidence_services
from bizreg.investigations.services import field_checks as services
from bizreg.investigations.tests.services_fixtures import *  # noqa: F403 — fixtures
from bizreg.investigations.tests.services_fixtures import START

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "private_media")]
D = dt.date

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"0" * 200 + b"\n%%EOF\n"
TIFF = b"II*\x00" + b"\x00" * 200


def assign(case, actor, **overrides):
    kwargs = {
        "case": case,
        "actor": actor,
        "address": "广州市南沙区进港大道 8 号 1201",
        "assigned_to": actor,
        "due_on": D(2026, 3, 6),
    }
    kwargs.update(overrides)
    return services.field_check_assign(**kwargs)


def submit(check, actor, **overrides):
    kwargs = {
        "field_check": check,
        "actor": actor,
        "visited_at": START - dt.timedelta(hours=2),
        "result": "vacant",
        "findings": "现场为空置商铺。",
    }
    kwargs.update(overrides)
    return services.field_check_submit(**kwargs)


def upload(data: bytes, name: str = "现场.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- field checks -----------------------------------------------------------------------------------------


def test_assign_attempts_submit(accepted, investigator, enterprise):
    company = enterprise()
    case = accepted(company)
    check = assign(case, investigator, enterprise=company, address="")
    assert check.address == company.address  # the enterprise's registered address by default
    assert check.state == FieldCheckState.ASSIGNED
    attempt = services.contact_attempt_add(
        field_check=check,
        actor=investigator,
        attempted_at=START - dt.timedelta(hours=3),
        method="phone",
        target="法定代表人",
        reached=False,
        note="电话停机",
    )
    assert attempt.field_check == check and not attempt.reached
    check = submit(check, investigator)
    assert check.state == FieldCheckState.SUBMITTED and check.submitted_by == investigator
    assert check.submitted_at == START
    assert [
        a for a in CaseEvent.objects.filter(case=case).values_list("action", flat=True) if "field" in a
    ] == [
        "field_check_assign",
        "field_check_submit",
    ]


def test_assign_bad_inputs(accepted, investigator, enterprise, role_users):
    case = accepted()
    with pytest.raises(ValidationError) as exc:
        assign(
            case,
            investigator,
            enterprise=enterprise(),  # not under the case
            address="",
            assigned_to=role_users["registration_clerk"],
            due_on=D(2026, 3, 1),
        )
    errors = exc.value.message_dict
    assert "涉案企业" in errors["enterprise"][0]
    assert "调查人员" in errors["assigned_to"][0]
    assert "不能早于今天" in errors["due_on"][0]
    with pytest.raises(ValidationError) as exc:
        assign(case, investigator, address="  ", assigned_to=None, due_on=None)
    assert set(exc.value.message_dict) == {"address", "assigned_to", "due_on"}


def test_assign_needs_permission_and_an_accepted_case(receive, accepted, investigator, role_users):
    with pytest.raises(PermissionDenied):
        assign(accepted(), role_users["manager"])
    with pytest.raises(TransitionNotAllowed, match="当前状态为“待受理”"):
        assign(receive().case, investigator)


def test_contact_attempt_bad_inputs(accepted, investigator):
    check = assign(accepted(), investigator)
    with pytest.raises(ValidationError) as exc:
        services.contact_attempt_add(
            field_check=check,
            actor=investigator,
            attempted_at=START + dt.timedelta(days=1),
            method="pigeon",
            target="",
            reached=False,
        )
    assert set(exc.value.message_dict) == {"attempted_at", "method", "target"}


def test_submitted_report_is_immutable(accepted, investigator):
    check = submit(assign(accepted(), investigator), investigator)
    with pytest.raises(ValidationError) as exc:
        submit(check, investigator, findings="改一下")
    assert exc.value.message_dict["__all__"] == ["已提交的核查记录不可修改，请提交更正版本。"]
    with pytest.raises(ValidationError, match="已提交的核查记录不可修改"):
        services.contact_attempt_add(
            field_check=check,
            actor=investigator,
            attempted_at=START,
            method="visit",
            target="物业",
            reached=True,
        )
    check.refresh_from_db()
    assert check.findings == "现场为空置商铺。" and check.contact_attempts.count() == 0


def test_submit_bad_inputs(accepted, investigator):
    check = assign(accepted(), investigator)
    with pytest.raises(ValidationError) as exc:
        submit(check, investigator, visited_at=None, result="gone", findings="")
    assert set(exc.value.message_dict) == {"visited_at", "result", "findings"}
    check.refresh_from_db()
    assert check.state == FieldCheckState.ASSIGNED


def test_correction_is_a_new_version(accepted, investigator):
    original = submit(assign(accepted(), investigator), investigator, result="operating", findings="正常经营")
    with pytest.raises(ValidationError):
        services.field_check_correct(
            field_check=original,
            actor=investigator,
            reason="",
            visited_at=START - dt.timedelta(hours=1),
            result="vacant",
            findings="看错门牌",
        )
    corrected = services.field_check_correct(
        field_check=original,
        actor=investigator,
        reason="门牌号看错，复核后为空置",
        visited_at=START - dt.timedelta(hours=1),
        result="vacant",
        findings="复核：空置",
    )
    original.refresh_from_db()
    assert original.state == FieldCheckState.SUPERSEDED and original.result == "operating"
    assert corrected.version == 2 and corrected.supersedes == original
    assert corrected.state == FieldCheckState.SUBMITTED and corrected.result == "vacant"
    with pytest.raises(ValidationError, match="已有更正版本"):
        services.field_check_correct(
            field_check=original,
            actor=investigator,
            reason="再改",
            visited_at=START - dt.timedelta(hours=1),
            result="vacant",
            findings="x",
        )
    from bizreg.investigations.selectors.cases import field_check_versions

    assert field_check_versions(field_check=corrected) == [original, corrected]


def test_unassigned_report_cannot_be_corrected(accepted, investigator):
    check = assign(accepted(), investigator)
    with pytest.raises(ValidationError, match="尚未提交"):
        services.field_check_correct(
            field_check=check, actor=investigator, reason="x", visited_at=START, result="vacant", findings="x"
        )


def test_superseded_check_does_not_ground_the_notice(accepted, investigator):
    case = accepted()
    vacant = submit(assign(case, investigator), investigator, result="vacant")
    services.field_check_correct(
        field_check=vacant,
        actor=investigator,
        reason="复核",
        visited_at=START,
        result="operating",
        findings="在营",
    )
    with pytest.raises(ValidationError, match="企业无法联系"):
        case_services.case_start_notice(case=case, actor=investigator, reason="无法联系")


# --- evidence ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "content_type", "stored_type"),
    [
        (JPEG, "现场照片.JPG", "image/jpeg", "image/jpeg"),
        (PNG, "截图.png", "image/png", "image/png"),
        (PDF, "营业执照.pdf", "application/pdf", "application/pdf"),
        (TIFF, "扫描件.tif", "application/octet-stream", "image/tiff"),
        (JPEG, "无扩展名", "", "image/jpeg"),
    ],
)
def test_evidence_accepted_by_content(accepted, investigator, data, name, content_type, stored_type):
    case = accepted()
    item = evidence_services.evidence_add(
        case=case,
        actor=investigator,
        upload=upload(data, name, content_type),
        kind="photo",
        description="登记住所现场",
    )
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.size == len(data) and item.content_type == stored_type
    assert item.file_name == name and item.uploaded_by == investigator and item.uploaded_at == START
    assert item.file.name.startswith("investigations/evidence/") and name not in item.file.name
    with item.file.open("rb") as stored:
        assert stored.read() == data
    assert CaseEvent.objects.filter(case=case, action="evidence_add", reason__contains=item.sha256).exists()


@pytest.mark.parametrize(
    ("data", "name", "content_type", "fragment"),
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "照片.jpg", "image/jpeg", "不支持的文件类型"),
        (b"GIF89a" + b"\x00" * 100, "动图.gif", "image/gif", "不支持的文件类型"),
        (b"PK\x03\x04" + b"\x00" * 100, "材料.docx", "application/zip", "不支持的文件类型"),
        (PNG, "照片.jpg", "image/jpeg", "扩展名 .jpg 与文件内容（PNG）不符"),
        (JPEG, "照片.exe", "image/jpeg", "扩展名 .exe 不在允许之列"),
        (PDF, "文件.pdf", "image/png", "声明的类型 image/png 与文件内容（PDF）不符"),
        (b"", "空.jpg", "image/jpeg", "文件是空的"),
    ],
)
def test_evidence_of_a_forbidden_type_refused(accepted, investigator, data, name, content_type, fragment):
    case = accepted()
    with pytest.raises(ValidationError) as exc:
        evidence_services.evidence_add(
            case=case,
            actor=investigator,
            upload=upload(data, name, content_type),
            kind="photo",
            description="x",
        )
    assert fragment in exc.value.message_dict["upload"][0]
    assert not Evidence.objects.exists()


def test_oversized_evidence_refused(accepted, investigator, settings):
    settings.INVESTIGATIONS_EVIDENCE_MAX_BYTES = 1024
    case = accepted()
    with pytest.raises(ValidationError) as exc:
        evidence_services.evidence_add(
            case=case, actor=investigator, upload=upload(JPEG + b"\x00" * 2000), kind="photo", description="x"
        )
    assert "文件超过" in exc.value.message_dict["upload"][0]
    assert not Evidence.objects.exists()


def test_default_limit_is_20_mb(accepted, investigator, settings):
    del settings.INVESTIGATIONS_EVIDENCE_MAX_BYTES
    assert evidence_services.max_evidence_bytes() == 20 * 1024 * 1024
    big = upload(JPEG)
    big.size = 20 * 1024 * 1024 + 1
    with pytest.raises(ValidationError) as exc:
        evidence_services.evidence_add(
            case=accepted(), actor=investigator, upload=big, kind="photo", description="x"
        )
    assert "文件超过 20 MB" in exc.value.message_dict["upload"][0]


def test_evidence_bad_inputs_and_permission(accepted, investigator, role_users):
    case = accepted()
    other_case = accepted()
    check = assign(other_case, investigator)
    with pytest.raises(ValidationError) as exc:
        evidence_services.evidence_add(
            case=case, actor=investigator, upload=None, kind="video", description="", field_check=check
        )
    assert set(exc.value.message_dict) == {"upload", "kind", "description", "field_check"}
    with pytest.raises(PermissionDenied):
        evidence_services.evidence_add(
            case=case, actor=role_users["manager"], upload=upload(JPEG), kind="photo", description="x"
        )


def test_evidence_correction_is_a_new_version(accepted, investigator):
    case = accepted()
    first = evidence_services.evidence_add(
        case=case, actor=investigator, upload=upload(JPEG), kind="photo", description="门牌"
    )
    with pytest.raises(ValidationError) as exc:
        evidence_services.evidence_correct(
            evidence=first, actor=investigator, upload=upload(PNG, "a.png", ""), reason=""
        )
    assert "reason" in exc.value.message_dict
    second = evidence_services.evidence_correct(
        evidence=first,
        actor=investigator,
        upload=upload(PNG, "门牌清晰版.png", "image/png"),
        reason="原图模糊",
    )
    first.refresh_from_db()
    assert first.sha256 == hashlib.sha256(JPEG).hexdigest()  # unchanged
    assert second.supersedes == first and second.version == 2 and second.correction_reason == "原图模糊"
    assert second.kind == "photo" and second.description == "门牌"
    with pytest.raises(ValidationError, match="已有更正版本"):
        evidence_services.evidence_correct(
            evidence=first, actor=investigator, upload=upload(JPEG), reason="再改"
        )
    assert Evidence.objects.count() == 2


def test_no_evidence_or_field_check_after_closing(accepted, investigator, manager):
    case = accepted()
    check = assign(case, investigator)
    item = evidence_services.evidence_add(
        case=case, actor=investigator, upload=upload(JPEG), kind="photo", description="x"
    )
    decision = case_services.case_decide(
        case=case,
        actor=manager,
        outcome="not_revoked",
        non_revocation_ground="confirmed",
        legal_basis="《市场主体登记管理条例》第四十一条",
        reasoning="被冒用人事后追认。",
    )
    case = case_services.case_close(case=decision.case, actor=investigator)
    item.case.refresh_from_db()
    check.case.refresh_from_db()
    for attempt in (
        lambda: evidence_services.evidence_add(
            case=case, actor=investigator, upload=upload(JPEG), kind="photo", description="x"
        ),
        lambda: evidence_services.evidence_correct(
            evidence=item, actor=investigator, upload=upload(JPEG), reason="x"
        ),
        lambda: submit(check, investigator),
        lambda: assign(case, investigator),
    ):
        with pytest.raises(TransitionNotAllowed, match="案件已结案，不能再执行"):
            attempt()
    assert FieldCheck.objects.get(pk=check.pk).state == FieldCheckState.ASSIGNED
