"""Staff pages of archive access: the request list (filters, Excel export), the decision and the grant
through the pages, the logged proof download, the watermarked staff download of items, and the role
matrix (department viewer reads and downloads but cannot decide; the digitizer sees none of it)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from bizreg.archives.models import (
    AccessRequest,
    AccessState,
    ArchiveAccessLog,
    QueryChannel,
    RequesterKind,
)
from bizreg.archives.services.digitization import item_store_file
from bizreg.archives.tests.factories import pdf_bytes
from bizreg.testing.factories import valid_resident_id

pytestmark = pytest.mark.django_db

ID_NUMBER = valid_resident_id()


def make_request(enterprise, archive, *, reference: str, **kwargs) -> AccessRequest:
    now = timezone.now()
    values = {
        "authority": enterprise.authority,
        "reference": reference,
        "channel": QueryChannel.PORTAL,
        "requester_kind": RequesterKind.LAWYER,
        "archive": archive,
        "uscc": enterprise.uscc,
        "enterprise_name": enterprise.name,
        "applicant_name": "赵大勇",
        "applicant_id_number": ID_NUMBER,
        "applicant_phone": "13712345678",
        "organization": "某律师事务所",
        "purpose": "诉讼",
        "full_file": True,
        "submitted_at": now,
        "due_at": now + dt.timedelta(days=3),
    }
    values.update(kwargs)
    return AccessRequest.objects.create(**values)


@pytest.fixture
def requests(enterprise, archive):
    fresh = make_request(enterprise, archive, reference="DA20261202-0001")
    fresh.proof.save("proof.pdf", ContentFile(pdf_bytes("委托书")))
    past = timezone.now() - dt.timedelta(days=10)
    late = make_request(
        enterprise,
        archive,
        reference="DA20261120-0001",
        submitted_at=past,
        due_at=past + dt.timedelta(days=3),
    )
    basic = make_request(
        enterprise,
        archive,
        reference="DA20261202-0002",
        requester_kind=RequesterKind.PUBLIC,
        full_file=False,
        state=AccessState.SERVED,
        served_at=timezone.now(),
    )
    return fresh, late, basic


@pytest.fixture
def item_with_file(archive):
    item = archive.items.order_by("item_number").first()  # open
    return item_store_file(item=item, data=pdf_bytes("申请书正文"), text="", pages=1, actor=None)


@pytest.fixture
def controlled_with_file(archive):
    item = archive.items.get(open_status="controlled")
    return item_store_file(item=item, data=pdf_bytes("身份证明"), text="", pages=1, actor=None)


def test_list_filters_and_masks(client_for, archivist, requests):
    fresh, late, basic = requests
    c = client_for(archivist)
    page = c.get("/archives/access/").content.decode()
    assert all(r.reference in page for r in requests)
    assert "赵*勇" in page and "赵大勇" not in page and ID_NUMBER not in page
    overdue = c.get("/archives/access/", {"overdue": "on"}).content.decode()
    assert late.reference in overdue and fresh.reference not in overdue
    kind = c.get("/archives/access/", {"kind": "public"}).content.decode()
    assert basic.reference in kind and fresh.reference not in kind
    search = c.get("/archives/access/", {"q": "0002"}).content.decode()
    assert basic.reference in search and late.reference not in search
    state = c.get("/archives/access/", {"state": "served"}).content.decode()
    assert basic.reference in state and fresh.reference not in state


def test_export_is_masked(client_for, manager, requests):
    response = client_for(manager).get("/archives/access/export/", {"full_file": "on"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert len(rows) == 3  # header + two full-file requests
    flat = " ".join(str(v) for row in rows for v in row)
    assert ID_NUMBER not in flat and "赵大勇" not in flat and "赵*勇" in flat


def test_other_authority_requests_do_not_exist(client_for, other_archivist, requests):
    assert client_for(other_archivist).get(f"/archives/access/{requests[0].pk}/").status_code == 404


def test_manager_approves_and_archivist_serves_through_the_pages(client_for, manager, archivist, requests):
    fresh = requests[0]
    detail = client_for(manager).get(f"/archives/access/{fresh.pk}/").content.decode()
    assert 'data-testid="decision-form"' in detail
    assert ID_NUMBER not in detail
    response = client_for(manager).post(
        f"/archives/access/{fresh.pk}/decide/", {"decision": "approve", "reason": "材料齐全"}
    )
    assert response.status_code == 302
    fresh.refresh_from_db()
    assert fresh.state == AccessState.APPROVED
    served = client_for(archivist).post(f"/archives/access/{fresh.pk}/serve/", {"days": "5"})
    assert served.status_code == 200
    link = served.content.decode().split('data-testid="grant-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert "/portal/archives/grant/" in link
    fresh.refresh_from_db()
    assert fresh.state == AccessState.SERVED
    assert fresh.grant_until - fresh.served_at == dt.timedelta(days=5)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert client_for(archivist).get(f"/portal/archives/grant/{token}/").status_code == 200
    again = client_for(archivist).get(f"/archives/access/{fresh.pk}/").content.decode()
    assert token not in again


def test_reject_without_reason_is_refused_on_the_page(client_for, manager, requests):
    fresh = requests[0]
    response = client_for(manager).post(f"/archives/access/{fresh.pk}/decide/", {"decision": "reject"})
    assert response.status_code == 400
    assert "不批准时请填写理由" in response.content.decode()
    fresh.refresh_from_db()
    assert fresh.state == AccessState.SUBMITTED


def test_deciding_twice_is_a_conflict(client_for, manager, requests):
    basic = requests[2]
    response = client_for(manager).post(f"/archives/access/{basic.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 409


def test_proof_download_is_logged(client_for, manager, requests):
    fresh = requests[0]
    response = client_for(manager).get(f"/archives/access/{fresh.pk}/proof/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    row = ArchiveAccessLog.objects.get(action="download")
    assert row.access_request == fresh and row.user == manager and "证明材料" in row.detail


def test_staff_download_is_watermarked_and_logged(client_for, archivist, item_with_file):
    response = client_for(archivist).get(f"/archives/items/{item_with_file.pk}/download/")
    assert response.status_code == 200
    row = ArchiveAccessLog.objects.get(action="download")
    assert row.user == archivist and row.item == item_with_file
    assert archivist.get_username() in row.watermark or (archivist.get_full_name() in row.watermark)
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(response.content)).pages)
    assert timezone.localtime(row.occurred_at).strftime("%Y-%m-%d") in text


def test_department_viewer_reads_and_downloads_but_cannot_decide(
    client_for, department_viewer, requests, controlled_with_file
):
    c = client_for(department_viewer)
    assert c.get(f"/archives/items/{controlled_with_file.pk}/download/").status_code == 200
    assert ArchiveAccessLog.objects.get(action="download").user == department_viewer
    fresh = requests[0]
    assert c.post(f"/archives/access/{fresh.pk}/decide/", {"decision": "approve"}).status_code == 403
    assert c.post(f"/archives/access/{fresh.pk}/serve/", {"days": "7"}).status_code == 403
    fresh.refresh_from_db()
    assert fresh.state == AccessState.SUBMITTED


def test_digitizer_sees_no_access_pages_and_cannot_download(client_for, digitizer, requests, item_with_file):
    c = client_for(digitizer)
    assert c.get("/archives/access/").status_code == 403
    assert c.get(f"/archives/access/{requests[0].pk}/").status_code == 403
    assert c.get(f"/archives/access/{requests[0].pk}/proof/").status_code == 403
    assert c.get(f"/archives/items/{item_with_file.pk}/download/").status_code == 403
    assert c.get("/archives/fixity/").status_code == 403
    row = ArchiveAccessLog.objects.get()
    assert row.action == "denied" and row.user == digitizer


def test_controlled_item_needs_its_permission(client_for, make_user, controlled_with_file):
    from django.contrib.auth.models import Permission

    reader = make_user()
    reader.user_permissions.add(Permission.objects.get(codename="view_archiveitem"))
    response = client_for(reader).get(f"/archives/items/{controlled_with_file.pk}/download/")
    assert response.status_code == 403
    assert "控制使用" in ArchiveAccessLog.objects.get(action="denied").detail


def test_another_authority_item_is_refused(client_for, other_archivist, item_with_file):
    assert (
        client_for(other_archivist).get(f"/archives/items/{item_with_file.pk}/download/").status_code == 403
    )
    assert ArchiveAccessLog.objects.filter(action="denied", user=other_archivist).count() == 1


def _scanned(item, authority, actor, texts: list[str | None]) -> None:
    """Processed scans of the item (None: a blank sheet, left out of the PDF and of the page numbers)."""
    from PIL import Image

    from bizreg.archives.models import DigitizationBatch, ScanPage

    batch = DigitizationBatch.objects.create(authority=authority, number="SM-T-1", created_by=actor)
    for sequence, text in enumerate(texts, start=1):
        buffer = io.BytesIO()
        Image.new("RGB", (620, 877), (255, 255, 255) if text is None else (240, 240, 235)).save(
            buffer, "JPEG"
        )
        page = ScanPage(
            batch=batch,
            item=item,
            sequence=sequence,
            original_name=f"{sequence}.jpg",
            original_sha256="0" * 64,
            is_blank=text is None,
            ocr_text=text or "",
        )
        page.processed.save(f"p{sequence}.jpg", ContentFile(buffer.getvalue()), save=False)
        page.save()


def test_page_image_at_the_hit_is_watermarked_and_logged(client_for, archivist, item_with_file, authority):
    _scanned(item_with_file, authority, archivist, ["第一页", None, "第二页"])
    c = client_for(archivist)
    detail = c.get(f"/archives/items/{item_with_file.pk}/?page=2")
    assert "第 2 / 2 页" in detail.content.decode()  # the blank sheet is not a page
    assert f"/archives/items/{item_with_file.pk}/pages/2/image/" in detail.content.decode()
    plain = c.get(f"/archives/items/{item_with_file.pk}/pages/2/image/")
    assert plain.status_code == 200 and plain["Content-Type"] == "image/jpeg"
    assert plain["Cache-Control"] == "private, no-store"
    from PIL import Image

    shown = Image.open(io.BytesIO(plain.content)).convert("RGB")
    assert shown.size == (620, 877)
    # The watermark is drawn across the page: some pixels are no longer the page's flat grey.
    assert shown.getextrema()[0][0] < 200
    row = ArchiveAccessLog.objects.get(action="view", detail__contains="第 2 页图像")
    assert row.user == archivist and "查看" in row.watermark
    assert c.get(f"/archives/items/{item_with_file.pk}/pages/3/image/").status_code == 404
    assert c.get(f"/archives/items/{item_with_file.pk}/pages/0/image/").status_code == 404
    # Out-of-range page numbers on the item page fall back into range instead of failing.
    assert "第 2 / 2 页" in c.get(f"/archives/items/{item_with_file.pk}/?page=99").content.decode()
    assert "第 1 / 2 页" in c.get(f"/archives/items/{item_with_file.pk}/?page=x").content.decode()


def test_page_image_refusals_are_logged(
    client_for, make_user, digitizer, other_archivist, controlled_with_file, authority, archivist
):
    from django.contrib.auth.models import Permission

    _scanned(controlled_with_file, authority, archivist, ["身份证明"])
    url = f"/archives/items/{controlled_with_file.pk}/pages/1/image/"
    reader = make_user()
    reader.user_permissions.add(Permission.objects.get(codename="view_archiveitem"))
    assert client_for(reader).get(url).status_code == 403  # controlled item, no permission for it
    assert client_for(digitizer).get(url).status_code == 403
    assert client_for(other_archivist).get(url).status_code == 403  # another authority's item
    denied = ArchiveAccessLog.objects.filter(action="denied")
    assert {row.user for row in denied} == {reader, digitizer, other_archivist}
    assert not ArchiveAccessLog.objects.filter(action="view").exists()
    assert client_for(archivist).get(url).status_code == 200
