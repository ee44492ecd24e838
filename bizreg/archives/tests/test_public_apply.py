"""Applying for the full file on the portal, and the applicant's status page: bad input is refused with
its reason and nothing is stored; a good application gets a reference and a 3-working-day deadline."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from bizreg.archives.models import AccessRequest, AccessState, RequesterKind
from bizreg.archives.tests.factories import pdf_bytes
from bizreg.core.workdays import add_working_days
from bizreg.testing.factories import valid_resident_id

pytestmark = pytest.mark.django_db

URL = "/portal/archives/apply/"
STATUS_URL = "/portal/archives/status/"
APPLICANT_NAME = "李晓明"
PHONE = "13812345678"


def visitor(ip: str = "203.0.113.20") -> Client:
    return Client(REMOTE_ADDR=ip)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    # add_js is gone from pypdf 7; add_open_action is its replacement (document-level JavaScript).
    writer.add_open_action(JavaScript("app.alert('hello');"))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def form(enterprise, **overrides):
    data = {
        "requester_kind": RequesterKind.LAWYER,
        "uscc": enterprise.uscc,
        "applicant_name": APPLICANT_NAME,
        "applicant_id_number": overrides.pop("id_number", None) or valid_resident_id(),
        "applicant_phone": PHONE,
        "organization": "广东某某律师事务所",
        "purpose": "合同纠纷诉讼（立案号附后）",
        "proof": SimpleUploadedFile("立案证明.pdf", pdf_bytes("立案证明"), content_type="application/pdf"),
    }
    data.update(overrides)
    return data


def post(enterprise, **overrides):
    return visitor().post(URL, form(enterprise, **overrides))


def test_a_good_application_gets_a_reference_and_a_deadline(enterprise, archive):
    id_number = valid_resident_id()
    response = post(enterprise, id_number=id_number)
    assert response.status_code == 200, response.content.decode()
    access = AccessRequest.objects.get()
    page = response.content.decode()
    assert access.reference in page
    today = timezone.localdate()
    assert access.reference == f"DA{today:%Y%m%d}-0001"
    assert access.state == AccessState.SUBMITTED
    assert access.full_file is True
    assert access.archive == archive
    assert access.authority == enterprise.authority
    assert access.applicant_id_number == id_number
    assert timezone.localtime(access.due_at).date() == add_working_days(
        timezone.localtime(access.submitted_at).date(), 3
    )
    assert len(access.proof_sha256) == 64
    assert access.proof.name.endswith(".pdf")
    assert id_number not in page and APPLICANT_NAME not in page


def test_an_image_proof_is_accepted(enterprise, archive):
    proof = SimpleUploadedFile("授权书.png", png_bytes(), content_type="image/png")
    response = post(enterprise, requester_kind=RequesterKind.ENTERPRISE, organization="", proof=proof)
    assert response.status_code == 200
    assert AccessRequest.objects.get().proof.name.endswith(".png")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"id_number": "440115199001011234"}, "applicant_id_number", "校验码错误"),
        ({"id_number": "44011519900101"}, "applicant_id_number", "应为 18 位"),
        ({"applicant_phone": "12345"}, "applicant_phone", "有效的手机号码"),
        ({"requester_kind": RequesterKind.PUBLIC}, "requester_kind", ""),
        ({"uscc": "91440115MA00000000"}, "uscc", "未找到该统一社会信用代码"),
        ({"organization": ""}, "organization", "请填写所在单位"),
        ({"purpose": ""}, "purpose", "请填写"),
    ],
)
def test_bad_fields_are_refused_with_their_reason(enterprise, archive, overrides, field, message):
    response = post(enterprise, **overrides)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'data-field-error="{field}"' in page
    assert message in page
    assert AccessRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("空文件.pdf", b"", "文件为空"),
        ("脚本.pdf", None, "证明材料未通过检查"),
        ("说明.txt", "这不是图片".encode(), "只接受 PDF、JPEG 或 PNG"),
        ("伪装.jpg", b"GIF89a" + b"\x00" * 40, "只接受 PDF、JPEG 或 PNG"),
        ("损坏.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "已损坏"),
        ("太大.jpg", b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024), "超过 10 MB"),
    ],
)
def test_bad_proofs_are_refused_with_their_reason(enterprise, archive, name, data, message):
    data = pdf_with_javascript() if data is None else data
    response = post(enterprise, proof=SimpleUploadedFile(name, data))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-field-error="proof"' in page
    assert message in page
    assert AccessRequest.objects.count() == 0


def test_the_status_page_shows_the_state_masked_and_refuses_a_wrong_phone(enterprise, archive):
    post(enterprise)
    access = AccessRequest.objects.get()
    response = visitor().post(STATUS_URL, {"reference": access.reference.lower(), "phone": PHONE})
    assert response.status_code == 200
    page = response.content.decode()
    assert "待审核" in page
    assert "李*明" in page
    assert APPLICANT_NAME not in page and access.applicant_id_number not in page and PHONE not in page
    wrong = visitor().post(STATUS_URL, {"reference": access.reference, "phone": "13900000000"})
    unknown = visitor().post(STATUS_URL, {"reference": "DA20000101-0001", "phone": PHONE})
    assert wrong.status_code == unknown.status_code == 404
    for answer in (wrong, unknown):
        body = answer.content.decode()
        assert 'data-testid="status-not-found"' in body and 'data-testid="status-result"' not in body


def test_the_status_page_is_throttled_after_wrong_tries(enterprise, archive, settings):
    settings.ARCHIVES_PORTAL_STATUS_FAILURE_LIMIT = (2, 3600)
    post(enterprise)
    access = AccessRequest.objects.get()
    for _ in range(2):
        assert visitor().post(STATUS_URL, {"reference": access.reference, "phone": "1"}).status_code == 404
    right = visitor().post(STATUS_URL, {"reference": access.reference, "phone": PHONE})
    assert right.status_code == 429


def test_the_status_page_says_access_is_ready_without_the_link(enterprise, archive, manager, archivist):
    from bizreg.archives.services import access as services

    post(enterprise)
    access = services.access_approve(access_request=AccessRequest.objects.get(), actor=manager)
    access, token = services.access_serve(access_request=access, actor=archivist)
    page = visitor().post(STATUS_URL, {"reference": access.reference, "phone": PHONE}).content.decode()
    assert 'data-testid="grant-ready"' in page
    assert token not in page
    assert timezone.localtime(access.grant_until).strftime("%Y-%m-%d") in page
    assert access.grant_until - access.served_at == dt.timedelta(days=7)
