"""The demo year of the archives module: every completed case of the registration demo year is filed in
its enterprise's archive, listed on its month's transfer list, and the year's queries give the seed's
100 % query service rate through the indicator's own metric."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db.models import Count

from bizreg.archives.demo import transfer_parts
from bizreg.archives.models import (
    AccessRequest,
    ArchiveFile,
    ArchiveItem,
    ArchiveStatus,
    BatchState,
    DigitizationBatch,
    DigitizationStatus,
    TransferList,
)
from bizreg.archives.services.transfers import MAX_CASES
from bizreg.core.metrics_registry import get_metric
from bizreg.core.models import Authority, BackgroundJob
from bizreg.registration.models import RegistrationCase
from bizreg.testing.demo import demo_year_fixture

SCALE = 0.01
YEAR = 2023
_CODE = re.compile(r"^[A-Z0-9]+-SS·\d{4}-(Y|D30|D10)-[A-Z0-9]+-\d{4}-\d{4}$")


demo_year = demo_year_fixture(SCALE)


pytestmark = pytest.mark.django_db


def test_completed_cases_are_filed_with_their_materials_and_notices(demo_year):
    assert demo_year.index("registration.year") < demo_year.index("archives.year")
    authority = Authority.objects.get(code="440115")
    completed = RegistrationCase.objects.filter(
        authority=authority, state__in=("licensed", "archived", "approved", "rejected", "withdrawn")
    ).exclude(decided_at=None, state__in=("licensed", "archived", "approved", "rejected"))
    filed = set(ArchiveItem.objects.filter(archive__authority=authority).values_list("case_id", flat=True))
    assert filed and filed <= set(completed.values_list("pk", flat=True))
    for item in ArchiveItem.objects.filter(archive__authority=authority)[:200]:
        assert _CODE.match(item.archival_code), item.archival_code
        assert item.archival_code.startswith(item.archive.archival_code + "-")
    # One enterprise, one archive.
    with_enterprise = ArchiveFile.objects.filter(authority=authority).exclude(enterprise=None)
    assert with_enterprise.count() == with_enterprise.values("enterprise").distinct().count()


def test_the_months_lists_batches_and_shelves(demo_year):
    authority = Authority.objects.get(code="440115")
    lists = list(TransferList.objects.filter(authority=authority).annotate(cases=Count("entries")))
    states = {t.period_start.month: t.state for t in lists}
    assert states[1] == "received" and states[11] == "sent" and states[12] == "draft"
    # No list holds more cases than services.transfers lets one take.
    assert all(0 < t.cases <= MAX_CASES for t in lists)
    assert sorted(t.number for t in lists) == [f"YJ-{YEAR}-{n:04d}" for n in range(1, len(lists) + 1)]
    done = DigitizationBatch.objects.filter(authority=authority, state=BatchState.DONE)
    # One finished batch per list of January–October.
    assert sorted(done.values_list("transfer__period_start__month", flat=True)) == sorted(
        t.period_start.month for t in lists if t.period_start.month <= 10
    )
    for batch in done:
        assert batch.qa_sampled >= 1 and batch.qa_passed / batch.qa_sampled >= 0.95
    open_batch = DigitizationBatch.objects.get(authority=authority, state=BatchState.INTAKE)
    assert BackgroundJob.objects.filter(kind="archives.search_rebuild").exists()
    job = BackgroundJob.objects.get(kind="archives.demo_scans")
    assert job.parameters["batch_id"] == open_batch.pk
    items = ArchiveItem.objects.filter(archive__authority=authority)
    digitized = items.filter(digitization=DigitizationStatus.DIGITIZED)
    assert digitized.exists() and not digitized.filter(text="").exists()
    archives = ArchiveFile.objects.filter(authority=authority)
    assert archives.filter(status=ArchiveStatus.SHELVED).exclude(location=None).exists()
    # The loans still out at the year's end came back in January (test_demo_settled).
    assert not archives.filter(status=ArchiveStatus.LENT).exists()


def test_the_query_service_rate_is_the_seeds_hundred_percent(demo_year):
    authority = Authority.objects.get(code="440115")
    assert AccessRequest.objects.filter(authority=authority).exists()
    metric = get_metric("archives.query_service_rate")
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)  # metrics take [start, end)
    assert metric.compute([authority.pk], start, end) == Decimal(100)


def test_a_months_cases_fill_as_few_lists_as_the_limit_allows_in_even_parts():
    cases = {month: [{"pk": n} for n in range(count)] for month, count in ((1, 7), (2, 3), (3, 0))}
    parts = transfer_parts(cases, 3)
    assert [(month, part, of, [c["pk"] for c in listed]) for month, part, of, listed in parts] == [
        (1, 1, 3, [0, 1, 2]),
        (1, 2, 3, [3, 4]),
        (1, 3, 3, [5, 6]),
        (2, 1, 1, [0, 1, 2]),
        (3, 1, 1, []),
    ]
