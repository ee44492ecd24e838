"""Borrowing (借阅): a request, a manager's decision, the loan at the archivist's desk, the return.

A paper loan hands over the folder: the archive must be 在库 and goes 借出 until returned (ARCHIVE lend /
return). One paper loan per archive at a time — checked under a row lock, and the database's unique
constraint uniq_paper_loan_per_archive refuses a second one that slips past. An electronic loan opens
time-limited access to the e-archive until its due time; the paper stays where it is.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizreg.archives import workflows
from bizreg.archives.models import (
    ArchiveFile,
    ArchiveStatus,
    BorrowKind,
    BorrowRequest,
    BorrowState,
)
from bizreg.archives.services.events import apply_transition, record_event

MAX_DAYS = 30
REQUEST_PERMS = ("archives.add_borrowrequest", "archives.approve_borrow")
SECOND_LOAN_MESSAGE = "该档案的纸质卷已借出（{who}），归还前不能再次借出。"


def may_request(user) -> bool:
    return any(user.has_perm(p) for p in REQUEST_PERMS)


def borrow_request(
    *,
    archive: ArchiveFile,
    actor,
    kind: str,
    purpose: str,
    department: str,
    requested_days: int,
) -> BorrowRequest:
    if not may_request(actor):
        raise PermissionDenied("您的角色无权申请借阅。")
    errors: dict[str, list[str]] = {}
    if kind not in BorrowKind.values:
        errors["kind"] = ["借阅方式无效。"]
    if not (purpose or "").strip():
        errors["purpose"] = ["请填写借阅用途。"]
    if not (department or "").strip():
        errors["department"] = ["请填写借阅部门。"]
    if not isinstance(requested_days, int) or not 1 <= requested_days <= MAX_DAYS:
        errors["requested_days"] = [f"借阅天数须为 1～{MAX_DAYS} 天。"]
    if archive.status == ArchiveStatus.MOVED_OUT:
        errors["archive"] = ["该档案已迁出或已合并，不能借阅。"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        borrow = BorrowRequest(
            authority_id=archive.authority_id,
            archive=archive,
            kind=kind,
            borrower=actor,
            department=department.strip()[:100],
            purpose=purpose.strip()[:300],
            requested_days=requested_days,
        )
        borrow._history_user = actor
        borrow.save()
        record_event(obj=borrow, action="request", actor=actor, to_state=borrow.state, reason=borrow.purpose)
    return borrow


def _locked(borrow: BorrowRequest) -> BorrowRequest:
    return BorrowRequest.objects.select_for_update().get(pk=borrow.pk)


def _decide(borrow: BorrowRequest, actor, action: str, reason: str) -> BorrowRequest:
    with transaction.atomic():
        locked = _locked(borrow)
        apply_transition(machine=workflows.BORROW, obj=locked, action=action, actor=actor, reason=reason)
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked._history_user = actor
        locked.save(update_fields=["state", "decided_by", "decided_at", "updated_at"])
    return locked


def borrow_approve(*, borrow: BorrowRequest, actor, reason: str = "") -> BorrowRequest:
    return _decide(borrow, actor, "approve", reason)


def borrow_reject(*, borrow: BorrowRequest, actor, reason: str = "") -> BorrowRequest:
    if not reason.strip():
        raise ValidationError({"reason": ["请填写不批准的理由。"]})
    return _decide(borrow, actor, "reject", reason)


def borrow_cancel(*, borrow: BorrowRequest, actor, reason: str = "") -> BorrowRequest:
    if borrow.borrower_id != actor.pk:
        raise PermissionDenied("只有申请人本人可以撤回借阅申请。")
    with transaction.atomic():
        locked = _locked(borrow)
        apply_transition(machine=workflows.BORROW, obj=locked, action="cancel", actor=actor, reason=reason)
        locked._history_user = actor
        locked.save(update_fields=["state", "updated_at"])
    return locked


def _second_loan(archive: ArchiveFile) -> ValidationError:
    current = (
        BorrowRequest.objects.filter(archive=archive, kind=BorrowKind.PAPER, state=BorrowState.LENT)
        .select_related("borrower")
        .first()
    )
    who = f"{current.department} {current.borrower}" if current else "他人"
    return ValidationError({"archive": [SECOND_LOAN_MESSAGE.format(who=who)]})


def borrow_lend(*, borrow: BorrowRequest, actor, now: dt.datetime | None = None) -> BorrowRequest:
    """Hand over the folder (paper) or open the access (electronic); due after the requested days."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            locked = _locked(borrow)
            workflows.BORROW.check(state=locked.state, action="lend", user=actor)
            if locked.kind == BorrowKind.PAPER:
                archive = ArchiveFile.objects.select_for_update().get(pk=locked.archive_id)
                if archive.status == ArchiveStatus.LENT:
                    raise _second_loan(archive)
                if archive.status != ArchiveStatus.SHELVED:
                    raise ValidationError(
                        {
                            "archive": [
                                f"该档案当前为“{archive.get_status_display()}”，须在库（已上架）才能借出纸质卷。"
                            ]
                        }
                    )
                apply_transition(
                    machine=workflows.ARCHIVE,
                    obj=archive,
                    action="lend",
                    actor=actor,
                    field="status",
                    reason=f"借阅 {locked.department}",
                )
                archive._history_user = actor
                archive.save(update_fields=["status", "updated_at"])
            apply_transition(machine=workflows.BORROW, obj=locked, action="lend", actor=actor)
            locked.lent_at = now
            locked.due_at = now + dt.timedelta(days=locked.requested_days)
            locked._history_user = actor
            locked.save(update_fields=["state", "lent_at", "due_at", "updated_at"])
    except IntegrityError:
        # uniq_paper_loan_per_archive: another desk lent the folder between our check and our write.
        raise _second_loan(borrow.archive) from None
    return locked


def borrow_return(
    *, borrow: BorrowRequest, actor, now: dt.datetime | None = None, reason: str = ""
) -> BorrowRequest:
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(borrow)
        apply_transition(machine=workflows.BORROW, obj=locked, action="return", actor=actor, reason=reason)
        if locked.kind == BorrowKind.PAPER:
            archive = ArchiveFile.objects.select_for_update().get(pk=locked.archive_id)
            apply_transition(
                machine=workflows.ARCHIVE, obj=archive, action="return", actor=actor, field="status"
            )
            archive._history_user = actor
            archive.save(update_fields=["status", "updated_at"])
        locked.returned_at = now
        locked._history_user = actor
        locked.save(update_fields=["state", "returned_at", "updated_at"])
    return locked


def borrow_expire_electronic(*, now: dt.datetime | None = None) -> int:
    """Close electronic access past its due time (the system acts: no actor, no permission)."""
    now = now or timezone.now()
    closed = 0
    due = BorrowRequest.objects.filter(
        kind=BorrowKind.ELECTRONIC, state=BorrowState.LENT, due_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            locked = BorrowRequest.objects.select_for_update().get(pk=pk)
            if locked.state != BorrowState.LENT:
                continue
            # Expiry is the return of an electronic loan; the machine's permission is for staff at the desk.
            record_event(
                obj=locked,
                action="expire",
                actor=None,
                from_state=locked.state,
                to_state=BorrowState.RETURNED,
                reason="调阅期限届满，自动关闭",
            )
            locked.state = BorrowState.RETURNED
            locked.returned_at = now
            locked.save(update_fields=["state", "returned_at", "updated_at"])
            closed += 1
    return closed


def borrow_electronic_access_active(*, user, archive: ArchiveFile, now: dt.datetime | None = None) -> bool:
    """Whether `user` holds open, unexpired electronic access to `archive` (for the e-archive pages)."""
    if not getattr(user, "is_authenticated", False):
        return False
    now = now or timezone.now()
    return BorrowRequest.objects.filter(
        archive=archive,
        borrower=user,
        kind=BorrowKind.ELECTRONIC,
        state=BorrowState.LENT,
        due_at__gt=now,
    ).exists()


def _reminder_text(borrow: BorrowRequest, now: dt.datetime) -> tuple[str, str]:
    days = max((now - borrow.due_at).days, 0)
    subject = f"【档案借阅催还】{borrow.archive.archival_code} 已超期"
    body = (
        f"{borrow.borrower}，您好：\n\n"
        f"您借阅的档案 {borrow.archive.archival_code}（{borrow.archive.enterprise_name}，"
        f"{borrow.get_kind_display()}）应于 "
        f"{timezone.localtime(borrow.due_at):%Y-%m-%d %H:%M} 归还，已超期 {days} 天。"
        "请尽快归还至档案室。\n\n档案室"
    )
    return subject, body


def _same_day(a: dt.datetime, b: dt.datetime) -> bool:
    return timezone.localtime(a).date() == timezone.localtime(b).date()


def remind_overdue_borrows(now: dt.datetime | None = None) -> int:
    """E-mail each borrower of an overdue paper loan, at most once a day per loan; returns mails sent.
    Overdue electronic access is closed instead of reminded."""
    now = now or timezone.now()
    borrow_expire_electronic(now=now)
    sent = 0
    overdue = BorrowRequest.objects.filter(
        kind=BorrowKind.PAPER, state=BorrowState.LENT, due_at__lt=now
    ).values_list("pk", flat=True)
    for pk in list(overdue):
        with transaction.atomic():
            borrow = (
                BorrowRequest.objects.select_for_update(of=("self",))
                .select_related("archive", "borrower")
                .get(pk=pk)
            )
            if borrow.state != BorrowState.LENT:
                continue
            if borrow.reminded_at is not None and _same_day(borrow.reminded_at, now):
                continue
            address = (borrow.borrower.email or "").strip()
            borrow.reminded_at = now
            borrow.save(update_fields=["reminded_at", "updated_at"])
            if not address:
                record_event(obj=borrow, action="remind_skipped", actor=None, reason="借阅人没有电子邮箱")
                continue
            record_event(obj=borrow, action="remind", actor=None, reason=f"催还邮件：{address}")
            subject, body = _reminder_text(borrow, now)
            # Last step of the transaction: a mail that fails leaves no record, so the next run tries again.
            send_mail(subject, body, None, [address])
            sent += 1
    return sent
