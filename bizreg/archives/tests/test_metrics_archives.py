"""The archives figures on small hand-counted fixtures, and their wiring to the performance catalog."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from bizreg.archives import metrics
from bizreg.archives.models import (
    AccessRequest,
    AccessState,
    ArchiveStatus,
    BatchState,
    DigitizationBatch,
    DocType,
    ItemSource,
    QueryChannel,
    RequesterKind,
    ScanPage,
)
from bizreg.archives.services.digitization import item_store_file
from bizreg.archives.services.records import item_add
from bizreg.archives.tests.factories import pdf_bytes
from bizreg.core.metrics_registry import autodiscover, get_metric

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
START = TODAY - dt.timedelta(days=30)
END = TODAY + dt.timedelta(days=1)


def ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def request_row(authority, n: int, *, submitted: dt.datetime, due: dt.datetime, **kwargs) -> AccessRequest:
    return AccessRequest.objects.create(
        authority=authority,
        reference=f"DA-TEST-{n:04d}",
        channel=QueryChannel.WINDOW,
        requester_kind=RequesterKind.ENTERPRISE,
        uscc="91440115MA59TEST00",
        applicant_name="",
        applicant_id_number="",
        applicant_phone="",
        purpose="测试",
        submitted_at=submitted,
        due_at=due,
        **kwargs,
    )


def test_query_service_rate_counts_served_and_decided_in_time(authority, other_authority):
    ids = [authority.pk]
    # in time: served before due; rejected with a decision before due
    request_row(authority, 1, submitted=ago(20), due=ago(17), state=AccessState.SERVED, served_at=ago(19))
    request_row(authority, 2, submitted=ago(20), due=ago(17), state=AccessState.REJECTED, decided_at=ago(18))
    # counted, not in time: served late; still open past its due date
    request_row(authority, 3, submitted=ago(20), due=ago(17), state=AccessState.SERVED, served_at=ago(16))
    request_row(authority, 4, submitted=ago(10), due=ago(7), state=AccessState.SUBMITTED)
    # an expired grant was served in time: it counts as served
    request_row(authority, 5, submitted=ago(12), due=ago(9), state=AccessState.EXPIRED, served_at=ago(11))
    # excluded: open and not yet due; submitted before the period; another authority
    request_row(authority, 6, submitted=ago(1), due=ago(-2), state=AccessState.APPROVED)
    request_row(authority, 7, submitted=ago(40), due=ago(37), state=AccessState.SUBMITTED)
    request_row(other_authority, 8, submitted=ago(5), due=ago(2), state=AccessState.SUBMITTED)
    assert metrics.query_service_counts(ids, START, END) == (3, 5)
    assert metrics.query_service_rate(ids, START, END) == Decimal("60.00")
    # request 7 is the only one before the period: open past due, so 0 of 1
    assert metrics.query_service_rate(ids, TODAY - dt.timedelta(days=400), START) == Decimal(0)


def test_a_portal_lookup_counts_as_served(client, enterprise, archive):
    client.get("/portal/archives/", {"q": enterprise.uscc})
    assert metrics.query_service_rate([enterprise.authority_id], START, END) == Decimal("100.00")


def _batch(authority, user, number: str, *, state: str, finished_at=None, sampled=0, passed=0):
    return DigitizationBatch.objects.create(
        authority=authority,
        number=number,
        created_by=user,
        state=state,
        finished_at=finished_at,
        qa_sampled=sampled,
        qa_passed=passed,
    )


def _pages(batch, items):
    for sequence, item in enumerate(items, start=1):
        ScanPage.objects.create(
            batch=batch,
            item=item,
            sequence=sequence,
            original_name=f"{sequence}.jpg",
            original=f"archives/scans/original/{batch.number}-{sequence}.jpg",
            original_sha256="0" * 64,
        )


@pytest.fixture
def batches(authority, archivist, archive):
    items = list(archive.items.order_by("item_number"))
    done = _batch(
        authority, archivist, "B-DONE", state=BatchState.DONE, finished_at=ago(5), sampled=4, passed=3
    )
    _pages(done, [items[0], items[0], items[1], None])  # 3 bound pages + 1 unbound
    done2 = _batch(
        authority, archivist, "B-DONE2", state=BatchState.DONE, finished_at=ago(2), sampled=6, passed=6
    )
    _pages(done2, [items[2]])
    old = _batch(
        authority, archivist, "B-OLD", state=BatchState.DONE, finished_at=ago(60), sampled=10, passed=0
    )
    _pages(old, [items[0], items[1]])
    qa = _batch(authority, archivist, "B-QA", state=BatchState.QA, sampled=5, passed=1)
    _pages(qa, items)
    return done, done2, old, qa


def test_pages_digitized_counts_bound_pages_of_done_batches_and_born_digital_pages(
    authority, archivist, archive, batches
):
    born = item_add(
        archive=archive,
        actor=archivist,
        doc_type=DocType.APPLICATION,
        title="电子申请书",
        pages=4,
        source=ItemSource.BORN_DIGITAL,
    )
    item_store_file(item=born, data=pdf_bytes("电子"), text="", pages=4, actor=archivist)
    # A born-digital item that became digitized before the period does not count again now.
    early = item_add(
        archive=archive,
        actor=archivist,
        doc_type=DocType.ARTICLES,
        title="电子章程",
        pages=9,
        source=ItemSource.BORN_DIGITAL,
    )
    item_store_file(item=early, data=pdf_bytes("章程"), text="", pages=9, actor=archivist)
    early.history.all().update(history_date=ago(90))
    # 3 (B-DONE) + 1 (B-DONE2) + 4 (born digital) = 8
    assert metrics.pages_digitized([authority.pk], START, END) == Decimal(8)


def test_qa_pass_rate_over_batches_finished_in_the_period(authority, batches):
    # (3 + 6) ÷ (4 + 6)
    assert metrics.qa_pass_rate([authority.pk], START, END) == Decimal("90.00")
    assert metrics.qa_pass_rate([authority.pk], TODAY - dt.timedelta(days=3), END) == Decimal("100.00")


def test_backlog_at_the_period_end(authority, archivist, archive, other_archive):
    ids = [authority.pk]
    # one pending archive + its three undigitized items
    assert metrics.backlog(ids, START, END) == Decimal(4)
    item_store_file(item=archive.items.first(), data=pdf_bytes("x"), text="", pages=1, actor=None)
    archive.status = ArchiveStatus.SHELVED
    archive.save()
    assert metrics.backlog(ids, START, END) == Decimal(2)
    # at the end of a period that closed before the archive was opened, nothing was waiting
    assert metrics.backlog(ids, START - dt.timedelta(days=10), START) == Decimal(0)


def test_the_metrics_are_registered_for_the_catalog():
    from bizreg.performance.catalog import SEED_INDICATORS

    autodiscover()
    keys = {
        "archives.query_service_rate",
        "archives.pages_digitized",
        "archives.qa_pass_rate",
        "archives.backlog",
    }
    for key in keys:
        assert get_metric(key).compute is not None
    assert get_metric("archives.query_service_rate").unit == "%"
    indicator_6 = next(i for i in SEED_INDICATORS if i.code == "6")
    assert indicator_6.metric_key == "archives.query_service_rate"
    assert indicator_6.unit == get_metric(indicator_6.metric_key).unit
    url = get_metric("archives.query_service_rate").drill_down_url([1], START, END)
    assert url.startswith("/archives/access/?submitted_from=")
