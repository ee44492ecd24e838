"""Real races on PostgreSQL: twenty printers take blanks at the same moment, each its own connection."""

# ruff: noqa: F811 — the shared fixtures are imported from docs_fixtures and requested by name

from __future__ import annotations

import time

import pytest

from bizreg.registration.models import LicenceKind, LicenceSheet
from bizreg.registration.services import licences
from bizreg.registration.tests.docs_fixtures import (  # noqa: F401
    clerk,
    make_case,
    manager,
    private_media,
    receive,
)
from bizreg.testing.concurrency import race

# serialized_rollback: the flush after a transactional test would otherwise also remove the roles the
# migrations created.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def slow_printing(monkeypatch):
    """Each printer holds its sheet's row lock a moment before writing, so the twenty really overlap."""
    original = licences._next_blank

    def next_blank_then_wait(**kwargs):
        sheet = original(**kwargs)
        time.sleep(0.2)
        return sheet

    monkeypatch.setattr(licences, "_next_blank", next_blank_then_wait)


def test_twenty_printers_at_once_get_twenty_distinct_serials(authority, manager, clerk, slow_printing):
    receive(authority, manager, kind=LicenceKind.ORIGINAL, count=25, start=1)
    cases = [make_case(authority) for _ in range(20)]
    started = time.monotonic()
    outcomes = race(
        *[lambda c=c: licences.licence_print(case=c, kind=LicenceKind.ORIGINAL, actor=clerk) for c in cases]
    )
    elapsed = time.monotonic() - started
    assert all(isinstance(o, LicenceSheet) for o in outcomes), outcomes
    serials = [o.serial for o in outcomes]
    assert len(set(serials)) == 20
    # The lowest twenty serials, each printed once, each for its own case.
    assert sorted(serials) == [f"NS{n:08d}" for n in range(1, 21)]
    printed = LicenceSheet.objects.filter(status=LicenceSheet.Status.PRINTED)
    assert printed.count() == 20
    assert set(printed.values_list("case_id", flat=True)) == {c.pk for c in cases}
    # SKIP LOCKED: the printers did not queue behind one another (20 × 0.2 s would be 4 s).
    assert elapsed < 3.0, elapsed


def test_when_stock_runs_out_mid_rush_the_rest_are_told_so(authority, manager, clerk, slow_printing):
    receive(authority, manager, kind=LicenceKind.DUPLICATE, count=15, start=1)
    cases = [make_case(authority) for _ in range(20)]
    outcomes = race(
        *[lambda c=c: licences.licence_print(case=c, kind=LicenceKind.DUPLICATE, actor=clerk) for c in cases]
    )
    printed = [o for o in outcomes if isinstance(o, LicenceSheet)]
    empty = [o for o in outcomes if isinstance(o, licences.LicenceStockEmpty)]
    assert len(printed) == 15 and len(empty) == 5, outcomes
    assert len({o.serial for o in printed}) == 15
    assert "副本空白纸已用完" in str(empty[0])
    assert not LicenceSheet.objects.filter(status=LicenceSheet.Status.BLANK).exists()


def test_two_overlapping_deliveries_entered_at_once_store_one(authority, manager):
    from django.core.exceptions import ValidationError

    from bizreg.registration.models import LicenceBatch

    outcomes = race(
        *[
            lambda: receive(authority, manager, count=500, start=1),
            lambda: receive(authority, manager, count=500, start=300),
        ]
    )
    assert sum(isinstance(o, LicenceBatch) for o in outcomes) == 1, outcomes
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(refused) == 1 and "serial_start" in refused[0].message_dict
    assert LicenceSheet.objects.count() == 500


def test_a_licence_is_not_posted_and_spoiled_at_the_same_moment(
    authority, manager, clerk, make_user, monkeypatch
):
    """A clerk posts a case's licence while another records its print as spoiled: one goes first. Either
    the spoil is refused (the licence has been posted), or the posting lists the reprinted sheet — never a
    posted package naming a sheet that was spoiled."""
    from bizreg.registration.models import CaseState, MailPackage, RegistrationCase
    from bizreg.registration.services import mail

    receive(authority, manager, kind=LicenceKind.ORIGINAL, count=3, start=1)
    case = make_case(authority)
    printed = licences.licence_print(case=case, kind=LicenceKind.ORIGINAL, actor=clerk)
    RegistrationCase.objects.filter(pk=case.pk).update(state=CaseState.LICENSED)
    case.refresh_from_db()
    poster = make_user("registration_clerk")
    # Each holds its locks a moment after its check, so the two really overlap.
    refusal, save = licences.licence_spoil_refusal, mail._save_unique
    monkeypatch.setattr(licences, "licence_spoil_refusal", lambda sheet: (refusal(sheet), time.sleep(0.3))[0])
    monkeypatch.setattr(mail, "_save_unique", lambda package: (time.sleep(0.3), save(package))[1])
    spoil, post = race(
        lambda: licences.licence_spoil(sheet=printed, actor=clerk, reason="卡纸"),
        lambda: mail.mail_send_licence(
            case=case, actor=poster, courier="sf", tracking_number="SF1234567890123", address="广州市南沙区"
        ),
    )
    assert isinstance(post, MailPackage), post
    valid = list(LicenceSheet.objects.filter(case=case, status=LicenceSheet.Status.PRINTED))
    assert len(valid) == 1
    if isinstance(spoil, licences.LicenceError):
        assert "不能再登记为打印损坏" in str(spoil)
        assert valid == [printed]
    else:
        assert isinstance(spoil, LicenceSheet), spoil
        assert valid == [spoil]
    # What was posted is the licence that is valid now.
    assert post.documents == f"营业执照正本（编号 {valid[0].serial}）"
