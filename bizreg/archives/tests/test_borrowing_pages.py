"""Borrowing pages per role: who may request, approve, lend; digitizers and clerks get 403."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bizreg.archives.models import ArchiveFile, ArchiveStatus, BorrowRequest, BorrowState

pytestmark = pytest.mark.django_db

PAGES = ("borrow_mine", "borrow_new")
STAFF_PAGES = {"borrow_approvals": "manager", "borrow_desk": "archivist"}


def test_who_may_open_which_page(client_for, archivist, manager, department_viewer, digitizer, clerk):
    for user in (archivist, manager, department_viewer):
        for name in PAGES:
            assert client_for(user).get(reverse(f"archives:{name}")).status_code == 200, (user, name)
    for user in (digitizer, clerk):
        for name in (*PAGES, *STAFF_PAGES, "borrow_overdue", "borrow_export"):
            assert client_for(user).get(reverse(f"archives:{name}")).status_code == 403, (user, name)
    assert client_for(manager).get(reverse("archives:borrow_approvals")).status_code == 200
    assert client_for(archivist).get(reverse("archives:borrow_approvals")).status_code == 403
    assert client_for(archivist).get(reverse("archives:borrow_desk")).status_code == 200
    assert client_for(manager).get(reverse("archives:borrow_desk")).status_code == 403
    for user in (archivist, manager):
        assert client_for(user).get(reverse("archives:borrow_overdue")).status_code == 200
    assert client_for(department_viewer).get(reverse("archives:borrow_overdue")).status_code == 403


def test_request_approve_lend_return_through_pages(
    client_for, archive, shelf, department_viewer, manager, archivist, settings
):
    ArchiveFile.objects.filter(pk=archive.pk).update(status=ArchiveStatus.SHELVED, location=shelf)
    viewer = client_for(department_viewer)
    found = viewer.get(reverse("archives:borrow_new"), {"q": "海港科技"})
    assert archive.archival_code in found.content.decode()
    data = {
        "archive": archive.pk,
        "kind": "paper",
        "department": "市场监管科",
        "purpose": "核对",
        "requested_days": 31,
    }
    bad = viewer.post(reverse("archives:borrow_new"), data)
    assert bad.status_code == 400 and "借阅天数须为 1～30 天" in bad.content.decode()
    data["requested_days"] = 5
    assert viewer.post(reverse("archives:borrow_new"), data).status_code == 302
    borrow = BorrowRequest.objects.get()
    assert (
        archive.archival_code
        in client_for(manager).get(reverse("archives:borrow_approvals")).content.decode()
    )

    act = lambda user, action, **extra: client_for(user).post(  # noqa: E731
        reverse("archives:borrow_action", args=[borrow.pk, action]), extra
    )
    assert act(archivist, "cancel").status_code == 403  # not the requester
    assert act(department_viewer, "approve").status_code == 403
    assert act(manager, "approve").status_code == 302
    assert act(manager, "approve").status_code == 409
    assert act(archivist, "lend").status_code == 302
    assert (
        archive.archival_code in client_for(archivist).get(reverse("archives:borrow_desk")).content.decode()
    )
    assert ArchiveFile.objects.get(pk=archive.pk).status == ArchiveStatus.LENT

    # A second paper loan of the lent folder: refused with the clear message.
    second = BorrowRequest.objects.create(
        authority=archive.authority,
        archive=archive,
        kind="paper",
        borrower=manager,
        department="科室",
        purpose="复核",
        requested_days=3,
        state=BorrowState.APPROVED,
    )
    refused = client_for(archivist).post(reverse("archives:borrow_action", args=[second.pk, "lend"]))
    assert refused.status_code == 409 and "归还前不能再次借出" in refused.content.decode()

    assert act(archivist, "return").status_code == 302
    borrow.refresh_from_db()
    assert borrow.state == BorrowState.RETURNED
    # The trail names each step and its states in words.
    trail = client_for(manager).get(reverse("archives:borrow_detail", args=[borrow.pk])).content.decode()
    for step in ("提交借阅申请（— → 待审批）", "批准（待审批 → 已批准）", "借出/开通（已批准 → 借出中）"):
        assert step in trail
    assert "归还/关闭（借出中 → 已归还）" in trail and "lent" not in trail

    export = client_for(manager).get(reverse("archives:borrow_export"))
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    assert archive.archival_code in {str(c.value) for row in sheet.iter_rows() for c in row}


def test_others_requests_are_404_for_a_viewer(client_for, archive, department_viewer, make_user):
    other = make_user("department_viewer", username="viewer_two")
    borrow = BorrowRequest.objects.create(
        authority=archive.authority,
        archive=archive,
        kind="electronic",
        borrower=other,
        department="科室",
        purpose="查",
        requested_days=3,
    )
    assert (
        client_for(department_viewer).get(reverse("archives:borrow_detail", args=[borrow.pk])).status_code
        == 404
    )
    assert client_for(other).get(reverse("archives:borrow_detail", args=[borrow.pk])).status_code == 200
