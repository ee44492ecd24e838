"""The full-file path end to end: a manager approves, an archivist serves, the applicant's link lists the
granted archive and hands out watermarked PDFs; an item outside the grant, an internal item, an ended
grant or a made-up token is 403 with a refused row in the archive use log."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from bizreg.archives.models import (
    AccessRequest,
    AccessState,
    ArchiveAccessLog,
    Classification,
    DocType,
    OpenStatus,
    QueryChannel,
    RequesterKind,
)
from bizreg.archives.services import access as services
from bizreg.archives.services.digitization import item_store_file
from bizreg.archives.services.records import item_add
from bizreg.archives.tests.factories import pdf_bytes
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.testing.factories import valid_resident_id

pytestmark = pytest.mark.django_db


def visitor() -> Client:
    return Client(REMOTE_ADDR="203.0.113.30")


def submitted(enterprise, archive, **kwargs) -> AccessRequest:
    now = timezone.now()
    values = {
        "authority": enterprise.authority,
        "reference": kwargs.pop("reference", "DA20261202-0009"),
        "channel": QueryChannel.PORTAL,
        "requester_kind": RequesterKind.ENTERPRISE,
        "archive": archive,
        "uscc": enterprise.uscc,
        "enterprise_name": enterprise.name,
        "applicant_name": "王小红",
        "applicant_id_number": valid_resident_id(),
        "applicant_phone": "13912345678",
        "purpose": "企业自查",
        "full_file": True,
        "submitted_at": now,
        "due_at": now + dt.timedelta(days=3),
    }
    values.update(kwargs)
    return AccessRequest.objects.create(**values)


@pytest.fixture
def stored_items(archive):
    """Every item of the archive with a real PDF."""
    items = list(archive.items.order_by("item_number"))
    for item in items:
        item_store_file(item=item, data=pdf_bytes(f"{item.title} 正文"), text="", pages=1, actor=None)
    return items


@pytest.fixture
def internal_item(archive, archivist):
    item = item_add(
        archive=archive,
        actor=archivist,
        doc_type=DocType.OTHER,
        title="内部审查意见",
        classification=Classification.INTERNAL,
        open_status=OpenStatus.CONTROLLED,
    )
    return item_store_file(item=item, data=pdf_bytes("内部"), text="", pages=1, actor=None)


@pytest.fixture
def granted(enterprise, archive, stored_items, manager, archivist):
    access = submitted(enterprise, archive)
    access = services.access_approve(access_request=access, actor=manager, reason="材料齐全")
    access, token = services.access_serve(access_request=access, actor=archivist)
    return access, token


def denied_rows():
    return ArchiveAccessLog.objects.filter(action=ArchiveAccessLog.Action.DENIED)


def test_approve_then_serve_issues_a_hashed_token(granted, manager):
    access, token = granted
    assert access.state == AccessState.SERVED
    assert access.decided_by == manager
    assert access.access_token_hash == services.token_hash(token)
    assert token not in access.access_token_hash
    assert access.grant_until - access.served_at == dt.timedelta(days=services.GRANT_DAYS)


def test_the_grant_lists_the_archive_without_internal_items(granted, stored_items, internal_item):
    access, token = granted
    response = visitor().get(f"/portal/archives/grant/{token}/")
    assert response.status_code == 200
    page = response.content.decode()
    for item in stored_items:
        assert item.title in page
    assert "股东身份证明" in page  # controlled: granted
    assert "内部审查意见" not in page
    assert access.applicant_name not in page
    assert ArchiveAccessLog.objects.filter(action="view", access_request=access).count() == 1


def test_a_download_is_watermarked_and_logged(granted, stored_items):
    access, token = granted
    item = stored_items[2]
    response = visitor().get(f"/portal/archives/grant/{token}/items/{item.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    log = ArchiveAccessLog.objects.get(action="download")
    assert log.item == item and log.access_request == access
    assert access.reference in log.watermark and "王*红" in log.watermark
    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.content)).pages)
    assert access.reference in text.replace(" ", "").replace("\n", "") or access.reference in text
    assert log.ip_address == "203.0.113.30"


def test_an_item_of_another_archive_is_refused_and_logged(granted, other_archive):
    _access, token = granted
    foreign = other_archive.items.first()
    item_store_file(item=foreign, data=pdf_bytes("别家"), text="", pages=1, actor=None)
    response = visitor().get(f"/portal/archives/grant/{token}/items/{foreign.pk}/")
    assert response.status_code == 403
    row = denied_rows().get()
    assert row.item == foreign
    assert "不在本次批准调阅的档案范围内" in row.detail
    assert not ArchiveAccessLog.objects.filter(action="download").exists()


def test_an_internal_item_is_refused_and_logged(granted, internal_item):
    _access, token = granted
    response = visitor().get(f"/portal/archives/grant/{token}/items/{internal_item.pk}/")
    assert response.status_code == 403
    assert "内部文件" in denied_rows().get().detail


def test_an_expired_grant_shows_a_clear_page_and_is_logged(granted, stored_items):
    access, token = granted
    AccessRequest.objects.filter(pk=access.pk).update(grant_until=timezone.now() - dt.timedelta(minutes=1))
    for url in (
        f"/portal/archives/grant/{token}/",
        f"/portal/archives/grant/{token}/items/{stored_items[0].pk}/",
    ):
        response = visitor().get(url)
        assert response.status_code == 403
        assert "调阅有效期已过" in response.content.decode()
    assert denied_rows().filter(access_request=access).count() == 2
    access.refresh_from_db()
    assert access.state == AccessState.EXPIRED


def test_a_made_up_token_is_refused_and_logged(granted):
    response = visitor().get("/portal/archives/grant/not-a-real-token/")
    assert response.status_code == 403
    assert "调阅链接无效" in response.content.decode()
    row = denied_rows().get()
    assert row.access_request is None and row.who == "外部访问者"


def test_reissue_replaces_the_token(granted, archivist):
    access, old = granted
    access, new = services.access_serve(access_request=access, actor=archivist)
    assert new != old
    assert visitor().get(f"/portal/archives/grant/{old}/").status_code == 403
    assert visitor().get(f"/portal/archives/grant/{new}/").status_code == 200


def test_reject_needs_a_reason_and_the_machine_guards_the_steps(enterprise, archive, manager, archivist):
    access = submitted(enterprise, archive)
    with pytest.raises(ValidationError) as exc:
        services.access_reject(access_request=access, actor=manager, reason="  ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.access_approve(access_request=access, actor=archivist)
    with pytest.raises(TransitionNotAllowed):
        services.access_serve(access_request=access, actor=archivist)  # not approved yet
    access = services.access_reject(access_request=access, actor=manager, reason="未提供授权委托书")
    assert access.state == AccessState.REJECTED
    assert access.decision_reason == "未提供授权委托书"
    with pytest.raises(TransitionNotAllowed):
        services.access_approve(access_request=access, actor=manager)
