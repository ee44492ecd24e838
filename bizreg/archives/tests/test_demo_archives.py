"""The demo year of the archives module: every completed case of the registration demo year is filed in
its enterprise's archive, listed on its month's transfer list, and the year's queries give the seed's
100 % query service rate through the indicator's own metric."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

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
from bizreg.core.metrics_registry import get_metric
from bizreg.core.models import Authority, BackgroundJob
from bizreg.registration.models import RegistrationCase
from bizreg.testing.demo import seeded_demo_year

SCALE = 0.01
YEAR = 2023
_CODE = re.compile(r"^[A-Z0-9]+-SS·\d{4}-(Y|D30|D10)-[A-Z0-9]+-\d{4}-\d{4}$")


@pytest.fixture(scope="module")
def demo_year(django_db_setup, django_db_blocker):
    with seeded_demo_year(django_db_blocker, SCALE) as printed:
        yield printed


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
    lists = {t.number: t for t in TransferList.objects.filter(authority=authority)}
    assert lists[f"YJ-{YEAR}-0001"].state == "received" and lists[f"YJ-{YEAR}-0001"].entries.exists()
    assert lists[f"YJ-{YEAR}-0012"].state == "draft"
    done = DigitizationBatch.objects.filter(authority=authority, state=BatchState.DONE)
    assert done.count() == 10
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
    assert archives.filter(status=ArchiveStatus.LENT).count() == 3


def test_the_query_service_rate_is_the_seeds_hundred_percent(demo_year):
    authority = Authority.objects.get(code="440115")
    assert AccessRequest.objects.filter(authority=authority).exists()
    metric = get_metric("archives.query_service_rate")
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)  # metrics take [start, end)
    assert metric.compute([authority.pk], start, end) == Decimal(100)
