"""Borrowing through the services: request, decision, lend, return, electronic access, overdue reminders,
and every refusal (wrong state, second borrower, not shelved, days out of range, someone else's cancel)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bizreg.archives.models import ArchiveEvent, ArchiveFile, ArchiveStatus, BorrowRequest, BorrowState
from bizreg.archives.services import borrowing as services
from bizreg.archives.tasks import remind_overdue_borrows as remind_task
from bizreg.core.statemachine import TransitionNotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelved(archive, shelf):
    ArchiveFile.objects.filter(pk=archive.pk).update(status=ArchiveStatus.SHELVED, location=shelf)
    archive.refresh_from_db()
    return archive


def ask(archive, actor, kind="paper", days=7):
    return services.borrow_request(
        archive=archive,
        actor=actor,
        kind=kind,
        purpose="核对股东信息",
        department="市场监管科",
        requested_days=days,
    )


def approved(archive, actor, manager, kind="paper", days=7):
    return services.borrow_approve(borrow=ask(archive, actor, kind, days), actor=manager)


def test_paper_loan_from_request_to_return(shelved, department_viewer, manager, archivist):
    borrow = ask(shelved, department_viewer)
    assert borrow.state == BorrowState.REQUESTED
    borrow = services.borrow_approve(borrow=borrow, actor=manager, reason="同意")
    assert borrow.state == BorrowState.APPROVED and borrow.decided_by == manager
    now = timezone.now()
    borrow = services.borrow_lend(borrow=borrow, actor=archivist, now=now)
    assert borrow.state == BorrowState.LENT
    assert borrow.due_at == now + dt.timedelta(days=7)
    shelved.refresh_from_db()
    assert shelved.status == ArchiveStatus.LENT
    borrow = services.borrow_return(borrow=borrow, actor=archivist)
    assert borrow.state == BorrowState.RETURNED and borrow.returned_at is not None
    shelved.refresh_from_db()
    assert shelved.status == ArchiveStatus.SHELVED
    actions = list(
        ArchiveEvent.objects.filter(object_type="borrowrequest", object_id=borrow.pk).values_list(
            "action", flat=True
        )
    )
    assert actions == ["request", "approve", "lend", "return"]
    assert ArchiveEvent.objects.filter(object_type="archivefile", action__in=["lend", "return"]).count() == 2


@pytest.mark.parametrize("days", [0, 31, -1])
def test_days_out_of_range_refused(archive, department_viewer, days):
    with pytest.raises(ValidationError) as exc:
        ask(archive, department_viewer, days=days)
    assert "借阅天数须为 1～30 天" in str(exc.value)
    assert not BorrowRequest.objects.exists()


def test_bad_kind_and_empty_purpose_refused(archive, department_viewer):
    with pytest.raises(ValidationError) as exc:
        services.borrow_request(
            archive=archive, actor=department_viewer, kind="fax", purpose=" ", department="", requested_days=3
        )
    assert set(exc.value.error_dict) == {"kind", "purpose", "department"}


def test_roles_without_borrowing_may_not_request(archive, digitizer, clerk):
    for user in (digitizer, clerk):
        with pytest.raises(PermissionDenied):
            ask(archive, user)


def test_manager_may_request(archive, manager):
    assert ask(archive, manager).state == BorrowState.REQUESTED


def test_second_paper_loan_of_a_lent_archive_refused(shelved, department_viewer, archivist, manager):
    first = approved(shelved, department_viewer, manager)
    second = approved(shelved, archivist, manager)
    services.borrow_lend(borrow=first, actor=archivist)
    with pytest.raises(ValidationError) as exc:
        services.borrow_lend(borrow=second, actor=archivist)
    assert "已借出" in str(exc.value) and "归还前不能再次借出" in str(exc.value)
    second.refresh_from_db()
    assert second.state == BorrowState.APPROVED


def test_unique_constraint_backs_the_check(shelved, department_viewer, archivist, manager, monkeypatch):
    """Even if the status check were passed (a race), the database refuses and the message is the same."""
    first = approved(shelved, department_viewer, manager)
    second = approved(shelved, archivist, manager)
    services.borrow_lend(borrow=first, actor=archivist)
    ArchiveFile.objects.filter(pk=shelved.pk).update(status=ArchiveStatus.SHELVED)  # the check is fooled
    with pytest.raises(ValidationError) as exc:
        services.borrow_lend(borrow=second, actor=archivist)
    assert "归还前不能再次借出" in str(exc.value)
    assert BorrowRequest.objects.filter(state=BorrowState.LENT).count() == 1


def test_paper_loan_of_an_unshelved_archive_refused(archive, department_viewer, archivist, manager):
    borrow = approved(archive, department_viewer, manager)
    with pytest.raises(ValidationError) as exc:
        services.borrow_lend(borrow=borrow, actor=archivist)
    assert "须在库" in str(exc.value)
    borrow.refresh_from_db()
    assert borrow.state == BorrowState.APPROVED


def test_wrong_state_refused(shelved, department_viewer, archivist, manager):
    borrow = ask(shelved, department_viewer)
    with pytest.raises(TransitionNotAllowed):
        services.borrow_lend(borrow=borrow, actor=archivist)
    with pytest.raises(TransitionNotAllowed):
        services.borrow_return(borrow=borrow, actor=archivist)
    borrow = services.borrow_approve(borrow=borrow, actor=manager)
    with pytest.raises(TransitionNotAllowed):
        services.borrow_approve(borrow=borrow, actor=manager)


def test_only_managers_decide_and_only_archivists_lend(shelved, department_viewer, archivist, manager):
    borrow = ask(shelved, department_viewer)
    with pytest.raises(PermissionDenied):
        services.borrow_approve(borrow=borrow, actor=archivist)
    borrow = services.borrow_approve(borrow=borrow, actor=manager)
    with pytest.raises(PermissionDenied):
        services.borrow_lend(borrow=borrow, actor=department_viewer)


def test_reject_needs_a_reason(archive, department_viewer, manager):
    borrow = ask(archive, department_viewer)
    with pytest.raises(ValidationError):
        services.borrow_reject(borrow=borrow, actor=manager)
    assert (
        services.borrow_reject(borrow=borrow, actor=manager, reason="用途不明").state == BorrowState.REJECTED
    )


def test_cancel_by_someone_else_refused(archive, department_viewer, archivist, manager):
    borrow = ask(archive, department_viewer)
    for other in (archivist, manager):
        with pytest.raises(PermissionDenied) as exc:
            services.borrow_cancel(borrow=borrow, actor=other)
        assert "申请人本人" in str(exc.value)
    assert services.borrow_cancel(borrow=borrow, actor=department_viewer).state == BorrowState.CANCELLED


def test_electronic_access_opens_and_closes(archive, department_viewer, archivist, manager):
    borrow = approved(archive, department_viewer, manager, kind="electronic", days=3)
    assert not services.borrow_electronic_access_active(user=department_viewer, archive=archive)
    now = timezone.now()
    services.borrow_lend(borrow=borrow, actor=archivist, now=now)  # not shelved: no paper moves
    archive.refresh_from_db()
    assert archive.status == ArchiveStatus.PENDING
    assert services.borrow_electronic_access_active(user=department_viewer, archive=archive)
    assert not services.borrow_electronic_access_active(user=archivist, archive=archive)
    later = now + dt.timedelta(days=3, minutes=1)
    assert not services.borrow_electronic_access_active(user=department_viewer, archive=archive, now=later)
    assert services.borrow_expire_electronic(now=later) == 1
    borrow.refresh_from_db()
    assert borrow.state == BorrowState.RETURNED


def test_electronic_return_closes_access(archive, department_viewer, archivist, manager):
    borrow = approved(archive, department_viewer, manager, kind="electronic", days=3)
    borrow = services.borrow_lend(borrow=borrow, actor=archivist)
    services.borrow_return(borrow=borrow, actor=archivist)
    assert not services.borrow_electronic_access_active(user=department_viewer, archive=archive)


def test_overdue_reminder_once_a_day(shelved, department_viewer, archivist, manager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    department_viewer.email = "viewer@example.gov.cn"
    department_viewer.save()
    # Noon local time: "once a day" counts calendar days, so a run near midnight must not cross one.
    now = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    lent_at = now - dt.timedelta(days=10)
    borrow = services.borrow_lend(
        borrow=approved(shelved, department_viewer, manager, days=3), actor=archivist, now=lent_at
    )
    assert services.remind_overdue_borrows(now=now) == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["viewer@example.gov.cn"]
    assert shelved.archival_code in mail.outbox[0].subject
    assert services.remind_overdue_borrows(now=now + dt.timedelta(minutes=30)) == 0
    assert len(mail.outbox) == 1
    borrow.refresh_from_db()
    assert borrow.reminded_at == now
    assert (
        ArchiveEvent.objects.filter(object_type="borrowrequest", object_id=borrow.pk, action="remind").count()
        == 1
    )
    assert services.remind_overdue_borrows(now=now + dt.timedelta(days=1)) == 1
    assert len(mail.outbox) == 2


def test_not_overdue_gets_no_reminder(shelved, department_viewer, archivist, manager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.borrow_lend(borrow=approved(shelved, department_viewer, manager), actor=archivist)
    assert services.remind_overdue_borrows() == 0
    assert mail.outbox == []


def test_reminder_task_runs_the_service(
    shelved, department_viewer, archivist, manager, settings, celery_eager
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    department_viewer.email = "viewer@example.gov.cn"
    department_viewer.save()
    services.borrow_lend(
        borrow=approved(shelved, department_viewer, manager, days=1),
        actor=archivist,
        now=timezone.now() - dt.timedelta(days=2),
    )
    remind_task.delay()
    assert len(mail.outbox) == 1
