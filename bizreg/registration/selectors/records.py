"""Reads of information-entry/guidance records, follow-up tasks and the public progress query.

Staff reads are scoped by the user's authorities (another authority's rows answer 404). The public
progress query has no user: it answers only for the exact pair (case number, last four digits of the
applicant's phone) and returns the status and dates, nothing else.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizreg.core.dates import day_start
from bizreg.core.identifiers import normalize_uscc
from bizreg.core.scoping import scope_to_user
from bizreg.registration.models import (
    CaseState,
    ContactLog,
    FollowUpTask,
    RegistrationCase,
    ServiceRecord,
)
from bizreg.registration.selectors.staff import staff_doing
from bizreg.registration.services.records import FOLLOW_UP_STATES, ONLINE_CHANNELS

PAGE_SIZE = 50
MAX_DAILY_SPAN_DAYS = 62


# --- service records ------------------------------------------------------------------------------------


def service_records_visible_to(user) -> QuerySet[ServiceRecord]:
    return scope_to_user(
        ServiceRecord.objects.select_related("staff", "enterprise", "case"),
        user,
    )


def service_record_search(*, user, filters: Mapping[str, Any]) -> QuerySet[ServiceRecord]:
    """Visible records matching the cleaned filter form (kind, staff, date range, text), newest first."""
    qs = service_records_visible_to(user)
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("staff"):
        qs = qs.filter(staff=filters["staff"])
    if filters.get("date_from"):
        qs = qs.filter(occurred_at__gte=day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(occurred_at__lt=day_start(filters["date_to"] + dt.timedelta(days=1)))
    q = (filters.get("q") or "").strip()
    if q:
        condition = Q(enterprise_name__icontains=q) | Q(note__icontains=q) | Q(case__number=q.upper())
        code = normalize_uscc(q)
        if len(code) == 18:
            condition |= Q(enterprise__uscc=code)
        qs = qs.filter(condition)
    return qs.order_by("-occurred_at", "-id")


def service_record_page(*, user, filters: Mapping[str, Any], page: Any) -> Page:
    return Paginator(service_record_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


EXPORT_HEADERS = (
    "时间",
    "类型",
    "工作人员",
    "企业名称",
    "统一社会信用代码",
    "业务编号",
    "用时（分钟）",
    "备注",
)


def service_record_export_rows(queryset: QuerySet[ServiceRecord]) -> Iterator[tuple]:
    """One tuple per record in EXPORT_HEADERS order, streamed (no model instances)."""
    kinds = dict(ServiceRecord.Kind.choices)
    values = queryset.values_list(
        "occurred_at",
        "kind",
        "staff__display_name",
        "staff__username",
        "enterprise_name",
        "enterprise__uscc",
        "case__number",
        "minutes",
        "note",
    )
    for occurred_at, kind, display_name, username, name, uscc, number, minutes, note in values.iterator(
        chunk_size=5000
    ):
        yield (
            occurred_at,
            kinds.get(kind, kind),
            display_name or username,
            name,
            uscc or "",
            number or "",
            minutes,
            note,
        )


@dataclass
class DailyCounts:
    days: list[dt.date]
    rows: list[dict]  # {"staff": user, "counts": [n per day], "total": n, "minutes": n}
    day_totals: list[int]
    total: int


def service_record_daily_counts(
    *, user, start: dt.date, end: dt.date, kind: str | None = None
) -> DailyCounts:
    """Records per staff member and day over [start, end] (inclusive), with row and column totals."""
    if end < start:
        start, end = end, start
    if (end - start).days >= MAX_DAILY_SPAN_DAYS:
        raise ValueError(_("统计区间不能超过 %(days)d 天。") % {"days": MAX_DAILY_SPAN_DAYS})
    qs = service_records_visible_to(user).filter(
        occurred_at__gte=day_start(start), occurred_at__lt=day_start(end + dt.timedelta(days=1))
    )
    if kind:
        qs = qs.filter(kind=kind)
    grouped = (
        qs.order_by()
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values("staff", "day")
        .annotate(n=Count("id"))
    )
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    index = {day: i for i, day in enumerate(days)}
    by_staff: dict[int, list[int]] = {}
    for row in grouped:
        counts = by_staff.setdefault(row["staff"], [0] * len(days))
        counts[index[row["day"]]] += row["n"]
    from bizreg.accounts.models import User

    staff = {u.pk: u for u in User.objects.filter(pk__in=by_staff)}
    rows = [
        {"staff": staff[pk], "counts": counts, "total": sum(counts)}
        for pk, counts in sorted(by_staff.items(), key=lambda item: (-sum(item[1]), str(staff[item[0]])))
    ]
    day_totals = [sum(r["counts"][i] for r in rows) for i in range(len(days))]
    return DailyCounts(days=days, rows=rows, day_totals=day_totals, total=sum(day_totals))


def staff_choices(user) -> QuerySet:
    """Who records entries and guidance or follows up online cases, for the staff and assignee filters."""
    return staff_doing(
        user,
        permission="registration.add_servicerecord",
        did=((ServiceRecord, "staff", "occurred_at"), (FollowUpTask, "assignee", "created_at")),
    )


# --- enterprises and cases named in a record ------------------------------------------------------------


def enterprise_matching(*, user, text: str):
    """The visible enterprise `text` names exactly (its USCC, or its full current name), else None."""
    from bizreg.enterprises.selectors import enterprises_visible_to

    text = (text or "").strip()
    if not text:
        return None
    visible = enterprises_visible_to(user)
    code = normalize_uscc(text)
    if len(code) == 18 and code.isalnum() and code.isascii():
        return visible.filter(uscc=code).first()
    return visible.filter(name=text).order_by("-established_on", "-id").first()


def looks_like_uscc(text: str) -> bool:
    code = normalize_uscc(text)
    return len(code) == 18 and code.isascii() and code.isalnum()


def enterprise_suggestions(*, user, text: str, limit: int = 8) -> list:
    """A few visible enterprises for the entry form's type-ahead (the register's own search)."""
    from bizreg.enterprises.selectors import enterprise_search

    text = (text or "").strip()
    if len(text) < 2:
        return []
    return list(enterprise_search(user=user, params={"q": text[:100]})[:limit])


def case_by_number(*, user, number: str) -> RegistrationCase | None:
    number = (number or "").strip().upper()
    if not number:
        return None
    return (
        scope_to_user(RegistrationCase.objects.select_related("enterprise"), user)
        .filter(number=number)
        .first()
    )


# --- follow-up tasks ------------------------------------------------------------------------------------


def follow_up_candidates(*, user) -> QuerySet[RegistrationCase]:
    """Online cases returned, rejected or withdrawn that have no follow-up task yet."""
    has_task = FollowUpTask.objects.filter(case=OuterRef("pk"))
    return (
        scope_to_user(RegistrationCase.objects.all(), user)
        .filter(channel__in=ONLINE_CHANNELS, state__in=FOLLOW_UP_STATES)
        .filter(~Exists(has_task))
        .order_by("-received_at", "-id")
    )


def follow_up_tasks(*, user, status: str | None = None, assignee=None) -> QuerySet[FollowUpTask]:
    qs = scope_to_user(
        FollowUpTask.objects.select_related("case", "assignee", "closed_by").annotate(
            contact_count=Count("contacts")
        ),
        user,
    )
    if status:
        qs = qs.filter(status=status)
    if assignee is not None:
        qs = qs.filter(assignee=assignee)
    # Open tasks first, the most urgent on top; then the finished ones, the latest first.
    is_open = Case(When(status=FollowUpTask.Status.OPEN, then=Value(0)), default=Value(1))
    open_due = Case(When(status=FollowUpTask.Status.OPEN, then=F("due_on")))
    return qs.order_by(is_open, open_due.asc(nulls_last=True), F("closed_at").desc(nulls_last=True), "-id")


def follow_up_search(*, user, filters: Mapping[str, Any]) -> QuerySet[FollowUpTask]:
    """Visible tasks matching the cleaned filter form (status, assignee, reason, overdue, case number or
    enterprise name), open ones first by due date."""
    qs = follow_up_tasks(user=user, status=filters.get("status") or None, assignee=filters.get("assignee"))
    if filters.get("reason"):
        qs = qs.filter(trigger_state=filters["reason"])
    if filters.get("overdue"):
        qs = qs.filter(status=FollowUpTask.Status.OPEN, due_on__lt=timezone.localdate())
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(case__number=q.upper()) | Q(case__enterprise_name__icontains=q))
    return qs


def follow_up_page(*, user, filters: Mapping[str, Any], page: Any) -> Page:
    return Paginator(follow_up_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


FOLLOW_UP_EXPORT_HEADERS = (
    "业务编号",
    "业务类型",
    "办理渠道",
    "企业名称",
    "原因",
    "发起时间",
    "跟进期限",
    "负责人",
    "联系次数",
    "状态",
    "完成时间",
    "跟进结果",
)


def follow_up_export_rows(tasks: QuerySet[FollowUpTask]) -> Iterator[tuple]:
    for task in tasks.iterator(chunk_size=2000):
        yield (
            task.case.number,
            task.case.get_case_type_display(),
            task.case.get_channel_display(),
            task.case.enterprise_name,
            task.get_trigger_state_display(),
            task.opened_at,
            task.due_on,
            str(task.assignee or ""),
            task.contact_count,
            task.get_status_display(),
            task.closed_at,
            task.outcome,
        )


def follow_up_for(*, user, pk: Any) -> FollowUpTask:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该跟进任务。")) from None
    task = (
        scope_to_user(FollowUpTask.objects.select_related("case", "case__enterprise", "assignee"), user)
        .filter(pk=pk)
        .first()
    )
    if task is None:
        raise Http404(_("没有找到该跟进任务。"))
    return task


def follow_up_case_for(*, user, pk: Any) -> RegistrationCase:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该业务。")) from None
    case = scope_to_user(RegistrationCase.objects.all(), user).filter(pk=pk).first()
    if case is None:
        raise Http404(_("没有找到该业务。"))
    return case


def follow_up_contacts(*, task: FollowUpTask) -> list[ContactLog]:
    return list(task.contacts.select_related("staff").order_by("occurred_at", "id"))


# --- public progress query ------------------------------------------------------------------------------

# What the public sees of each state: plain words, no internal step names.
PUBLIC_STATE_LABELS = {
    CaseState.RECEIVED: gettext_lazy("已收件，审查中"),
    CaseState.RETURNED: gettext_lazy("需补正材料"),
    CaseState.PRE_REVIEWED: gettext_lazy("审查中"),
    CaseState.ACCEPTED: gettext_lazy("已受理"),
    CaseState.APPROVED: gettext_lazy("已核准"),
    CaseState.REJECTED: gettext_lazy("不予登记"),
    CaseState.LICENSED: gettext_lazy("已发照"),
    CaseState.ARCHIVED: gettext_lazy("已办结"),
    CaseState.WITHDRAWN: gettext_lazy("已撤回"),
}


@dataclass(frozen=True)
class CaseProgress:
    """Everything the public page may show: no names, no identifiers, no phone."""

    number: str
    status: str
    received_on: dt.date | None
    accepted_on: dt.date | None
    decided_on: dt.date | None
    licensed_on: dt.date | None
    steps: list[tuple[str, dt.date | None]] = field(default_factory=list)
    # While accepted and not yet decided: the statutory last day, and whether it was extended.
    due_on: dt.date | None = None
    extended: bool = False


def _local_date(value: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(value) if value is not None else None


def normalize_case_number(value: str) -> str:
    return "".join(str(value or "").split()).upper()


def case_progress(*, number: str, phone_suffix: str) -> CaseProgress | None:
    """The progress of the case numbered `number` whose applicant's phone ends in `phone_suffix`.

    None when there is no such case *or* the suffix does not match: the caller answers both alike, so
    the query cannot be used to learn which case numbers exist.
    """
    number = normalize_case_number(number)
    row = (
        RegistrationCase.objects.filter(number=number)
        .values(
            "number",
            "state",
            "applicant_phone",
            "received_at",
            "accepted_at",
            "decided_at",
            "licensed_at",
            "due_on",
            "extended",
        )
        .first()
    )
    phone = (row or {}).get("applicant_phone") or ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    # compare_digest: the answer time should not tell a near miss from a far one.
    matches = hmac.compare_digest(digits[-4:].encode(), (phone_suffix or "").encode())
    if row is None or len(digits) < 4 or not matches:
        return None
    received, accepted = _local_date(row["received_at"]), _local_date(row["accepted_at"])
    decided, licensed = _local_date(row["decided_at"]), _local_date(row["licensed_at"])
    return CaseProgress(
        number=row["number"],
        status=str(PUBLIC_STATE_LABELS.get(row["state"], row["state"])),
        received_on=received,
        accepted_on=accepted,
        decided_on=decided,
        licensed_on=licensed,
        steps=[
            (_("收件"), received),
            (_("受理"), accepted),
            (_("核准/决定"), decided),
            (_("发照"), licensed),
        ],
        due_on=row["due_on"] if row["state"] == CaseState.ACCEPTED else None,
        extended=bool(row["extended"]) and row["state"] == CaseState.ACCEPTED,
    )
