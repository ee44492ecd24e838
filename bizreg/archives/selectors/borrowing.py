"""Reads of borrow requests. Approvers and the lending desk see every request of their authorities; anyone
else sees only their own ("not yours" looks like "does not exist")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from bizreg.archives import workflows
from bizreg.archives.models import ArchiveFile, ArchiveStatus, BorrowRequest, BorrowState
from bizreg.archives.selectors.events import labelled_events
from bizreg.core.scoping import scope_to_user
from bizreg.core.statemachine import Transition

PAGE_SIZE = 30
STAFF_PERMS = ("archives.approve_borrow", "archives.lend_archive")


def sees_all(user) -> bool:
    return any(user.has_perm(p) for p in STAFF_PERMS)


def borrows_visible_to(user) -> QuerySet[BorrowRequest]:
    qs = scope_to_user(BorrowRequest.objects.all(), user).select_related("archive", "borrower", "decided_by")
    return qs if sees_all(user) else qs.filter(borrower=user)


def borrow_for(*, user, pk: Any) -> BorrowRequest:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("没有找到该借阅申请。") from None
    borrow = borrows_visible_to(user).filter(pk=pk).first()
    if borrow is None:
        raise Http404("没有找到该借阅申请。")
    return borrow


def borrow_actions(*, borrow: BorrowRequest, user) -> list[Transition]:
    actions = workflows.BORROW.available(state=borrow.state, user=user)
    # Withdrawing is the requester's own act: the machine has no permission on it, the service checks.
    return [t for t in actions if t.action != "cancel" or borrow.borrower_id == user.pk]


def _paginate(qs: QuerySet, page: Any) -> Page:
    return Paginator(qs, PAGE_SIZE).get_page(page)


def my_requests(*, user, page: Any = None) -> Page:
    qs = scope_to_user(BorrowRequest.objects.filter(borrower=user), user).select_related("archive")
    return _paginate(qs.order_by("-created_at", "-id"), page)


def approval_queue(*, user, page: Any = None) -> Page:
    qs = borrows_visible_to(user).filter(state=BorrowState.REQUESTED).order_by("created_at", "id")
    return _paginate(qs, page)


def lending_desk(*, user, page: Any = None) -> Page:
    """Approved requests waiting to be handed over, then current loans (soonest due first)."""
    qs = borrows_visible_to(user).filter(state__in=[BorrowState.APPROVED, BorrowState.LENT])
    return _paginate(qs.order_by("-state", "due_at", "created_at", "id"), page)


def overdue(*, user, now: dt.datetime | None = None) -> QuerySet[BorrowRequest]:
    now = now or timezone.now()
    return borrows_visible_to(user).filter(state=BorrowState.LENT, due_at__lt=now).order_by("due_at", "id")


def overdue_page(*, user, page: Any = None) -> Page:
    return _paginate(overdue(user=user), page)


def archives_for_request(*, user, term: str, limit: int = 20) -> list[ArchiveFile]:
    """Archives a requester may ask to borrow, by 档号, enterprise name or USCC."""
    term = (term or "").strip()
    if len(term) < 2:
        return []
    qs = scope_to_user(ArchiveFile.objects.exclude(status=ArchiveStatus.MOVED_OUT), user)
    qs = qs.filter(
        Q(archival_code__startswith=term) | Q(enterprise_name__icontains=term) | Q(uscc=term.upper())
    )
    return list(qs.order_by("archival_code")[:limit])


def archive_for_request(*, user, pk: Any) -> ArchiveFile:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("没有找到该档案。") from None
    archive = scope_to_user(ArchiveFile.objects.filter(pk=pk), user).first()
    if archive is None:
        raise Http404("没有找到该档案。")
    return archive


def register_search(*, user, filters: Mapping[str, Any]) -> QuerySet[BorrowRequest]:
    qs = borrows_visible_to(user)
    if filters.get("mine"):
        qs = qs.filter(borrower=user)
    if filters.get("state"):
        qs = qs.filter(state=filters["state"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    return qs.order_by("-created_at", "-id")


REGISTER_HEADERS = (
    "档号",
    "企业名称",
    "方式",
    "状态",
    "借阅人",
    "借阅部门",
    "用途",
    "借阅天数",
    "申请时间",
    "审批人",
    "审批时间",
    "借出时间",
    "应还时间",
    "归还时间",
    "最近催还",
)


def register_rows(queryset: QuerySet[BorrowRequest]) -> Iterator[tuple]:
    for b in queryset.iterator(chunk_size=500):
        yield (
            b.archive.archival_code,
            b.archive.enterprise_name,
            b.get_kind_display(),
            b.get_state_display(),
            str(b.borrower),
            b.department,
            b.purpose,
            b.requested_days,
            b.created_at,
            str(b.decided_by) if b.decided_by else "",
            b.decided_at,
            b.lent_at,
            b.due_at,
            b.returned_at,
            b.reminded_at,
        )


# Actions recorded on a loan that are not transitions of its machine.
_BORROW_EVENT_LABELS = {
    "request": "提交借阅申请",
    "remind": "催还提醒",
    "remind_skipped": "未能催还",
    "expire": "电子借阅到期关闭",
}


def borrow_events(borrow: BorrowRequest) -> list:
    return labelled_events(borrow, machine=workflows.BORROW, labels=_BORROW_EVENT_LABELS)
