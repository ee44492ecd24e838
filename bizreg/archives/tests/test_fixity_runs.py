"""Fixity: real files in a per-test MEDIA_ROOT, one deleted and one altered behind the system's back; the
run finds both, counts every file with a recorded SHA-256, and the page lists the problems."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from bizreg.archives.models import (
    AccessRequest,
    DigitizationBatch,
    FixityRun,
    QueryChannel,
    RequesterKind,
    ScanPage,
)
from bizreg.archives.services.digitization import item_store_file
from bizreg.archives.services.fixity import fixity_check_all
from bizreg.archives.tests.factories import pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(authority, archivist, archive, other_archive):
    items = [
        item_store_file(item=item, data=pdf_bytes(item.title), text="", pages=1, actor=None)
        for item in archive.items.order_by("item_number")
    ]
    batch = DigitizationBatch.objects.create(authority=authority, number="B-FIX", created_by=archivist)
    original = b"\xff\xd8\xff original scan"
    page = ScanPage(
        batch=batch,
        item=items[0],
        sequence=1,
        original_name="1.jpg",
        original_sha256=hashlib.sha256(original).hexdigest(),
    )
    page.original.save("1.jpg", ContentFile(original), save=False)
    processed = b"\xff\xd8\xff processed"
    page.processed.save("1p.jpg", ContentFile(processed), save=False)
    page.processed_sha256 = hashlib.sha256(processed).hexdigest()
    page.save()
    proof = b"%PDF-1.4 proof"
    now = timezone.now()
    access = AccessRequest(
        authority=authority,
        reference="DA20261202-0100",
        channel=QueryChannel.PORTAL,
        requester_kind=RequesterKind.ENTERPRISE,
        uscc=archive.uscc,
        applicant_name="测试",
        applicant_id_number="",
        applicant_phone="",
        purpose="测试",
        submitted_at=now,
        due_at=now + dt.timedelta(days=3),
        proof_sha256=hashlib.sha256(proof).hexdigest(),
    )
    access.proof.save("proof.pdf", ContentFile(proof), save=False)
    access.save()
    item_store_file(item=other_archive.items.first(), data=pdf_bytes("别家"), text="", pages=1, actor=None)
    return items, page, access


def test_a_clean_store_has_no_problems(authority, stored):
    [run] = fixity_check_all(authority=authority)
    assert run.files_checked == 3 + 2 + 1  # item PDFs, original + processed, proof
    assert (run.files_missing, run.files_altered, run.problems) == (0, 0, [])
    assert run.finished_at is not None


def test_a_deleted_and_an_altered_file_are_reported(authority, other_authority, stored):
    items, page, access = stored
    default_storage.delete(items[1].e_file.name)
    with open(default_storage.path(page.processed.name), "ab") as handle:
        handle.write(b"tampered")
    runs = fixity_check_all()
    assert {run.authority_id for run in runs} >= {authority.pk, other_authority.pk}
    run = next(r for r in runs if r.authority_id == authority.pk)
    assert (run.files_checked, run.files_missing, run.files_altered) == (6, 1, 1)
    by_kind = {p["kind"]: p for p in run.problems}
    assert by_kind["missing"]["path"] == items[1].e_file.name
    assert by_kind["missing"]["object"] == f"档案件 {items[1].archival_code}"
    assert by_kind["altered"]["path"] == page.processed.name
    assert by_kind["altered"]["expected"] == page.processed_sha256
    assert by_kind["altered"]["found"] != page.processed_sha256
    other = next(r for r in runs if r.authority_id == other_authority.pk)
    assert (other.files_checked, other.files_missing, other.files_altered) == (1, 0, 0)


def test_the_fixity_pages_list_runs_and_problems(
    client_for, archivist, manager, digitizer, authority, stored
):
    items, _page, _access = stored
    default_storage.delete(items[0].e_file.name)
    [run] = fixity_check_all(authority=authority)
    for user in (archivist, manager):
        listing = client_for(user).get("/archives/fixity/")
        assert listing.status_code == 200
        detail = client_for(user).get(f"/archives/fixity/{run.pk}/").content.decode()
        assert items[0].archival_code in detail and "缺失" in detail
    assert client_for(digitizer).get("/archives/fixity/").status_code == 403
    assert FixityRun.objects.count() == 1
