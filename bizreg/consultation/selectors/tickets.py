"""Reads of online tickets, every one scoped to the user's authorities (bizreg.core.scoping): the agent's
queue, the filtered list and its export, the complaints list, one ticket's conversation and timeline.

A ticket of another authority and a ticket that does not exist look the same (Ticket.DoesNotExist → 404).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Max, Prefetch, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext_lazy

from bizreg.consultation.models import (
    TICKET_OPEN_STATES,
    TICKET_WORKFLOW,
    Ticket,
    TicketAttachment,
    TicketChannel,
    TicketKind,
    TicketMessage,
    TicketState,
    TicketTransitionLog,
)
from bizreg.consultation.services.attachments import attachment_is_servable
from bizreg.core.scoping import authority_ids_for, scope_to_user

PAGE_SIZE = 50
QUEUE_SECTION_SIZE = 100
EXPORT_MAX_ROWS = 50_000
# A deadline this close is shown in amber.
DUE_SOON = dt.timedelta(minutes=30)

DUE_LABELS = {
    "overdue": gettext_lazy("已超时"),
    "soon": gettext_lazy("即将到期"),
    "ok": gettext_lazy("未到期"),
    "paused": gettext_lazy("暂停计时"),
    "": "",
}
DUE_TONES = {"overdue": "danger", "soon": "warning", "ok": "success", "paused": "secondary", "": "light"}


def tickets_for(user) -> QuerySet[Ticket]:
    """Every ticket the user may see."""
    return scope_to_user(Ticket.objects.all(), user)


def ticket_for(*, user, pk: int) -> Ticket:
    """One ticket of the user's authorities; Ticket.DoesNotExist otherwise."""
    return tickets_for(user).select_related("authority", "contact", "assignee", "merged_into").get(pk=pk)


def with_next_due(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate `next_due`: the first-response deadline until answered, then the resolution deadline."""
    return queryset.annotate(
        next_due=Case(
            When(
                first_responded_at__isnull=True,
                first_response_due_at__isnull=False,
                then="first_response_due_at",
            ),
            default="resolution_due_at",
        )
    )


def next_due(ticket: Ticket):
    if getattr(ticket, "next_due", None) is not None:
        return ticket.next_due
    if ticket.first_responded_at is None and ticket.first_response_due_at:
        return ticket.first_response_due_at
    return ticket.resolution_due_at


def due_status(ticket: Ticket, now: dt.datetime | None = None) -> str:
    """overdue / soon / ok for an open ticket, paused while waiting for the citizen, "" when done."""
    if ticket.state not in TICKET_OPEN_STATES:
        return ""
    if ticket.state == TicketState.WAITING:
        return "paused"
    due = next_due(ticket)
    if due is None:
        return ""
    now = now or timezone.now()
    if due <= now:
        return "overdue"
    if due - now <= DUE_SOON:
        return "soon"
    return "ok"


# --- the agent's queue ---------------------------------------------------------------------------------


@dataclass
class Queue:
    new: list[Ticket]
    mine: list[Ticket]
    team: list[Ticket]
    counts: dict[str, int]
    version: str
    now: dt.datetime


def _queue_base(user) -> QuerySet[Ticket]:
    return with_next_due(tickets_for(user).filter(state__in=TICKET_OPEN_STATES)).select_related(
        "contact", "assignee"
    )


def _ordered(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    from django.db.models import F

    return queryset.order_by(F("next_due").asc(nulls_last=True), "opened_at", "id")


def queue_version(user) -> str:
    """A cheap token that changes whenever anything in the user's queue changes (a new ticket, a new
    message, a state change): the open tickets' count and latest update. The queue page polls it."""
    row = (
        tickets_for(user)
        .filter(state__in=TICKET_OPEN_STATES)
        .aggregate(latest=Max("updated_at"), count=Count("id"))
    )
    latest = row["latest"].timestamp() if row["latest"] else 0
    return f"{row['count']}-{latest:.6f}"


def agent_queue(*, user) -> Queue:
    """New (unassigned) tickets, the user's own and the team's open tickets, each ordered by due time."""
    base = _queue_base(user)
    new = base.filter(assignee__isnull=True)
    mine = base.filter(assignee=user)
    team = base.filter(assignee__isnull=False).exclude(assignee=user)
    return Queue(
        new=list(_ordered(new)[:QUEUE_SECTION_SIZE]),
        mine=list(_ordered(mine)[:QUEUE_SECTION_SIZE]),
        team=list(_ordered(team)[:QUEUE_SECTION_SIZE]),
        counts=base.aggregate(
            new=Count("id", filter=Q(assignee__isnull=True)),
            mine=Count("id", filter=Q(assignee=user)),
            team=Count("id", filter=Q(assignee__isnull=False) & ~Q(assignee=user)),
        ),
        version=queue_version(user),
        now=timezone.now(),
    )


# --- list and export --------------------------------------------------------------------------------------


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"})


def _select() -> forms.Select:
    return forms.Select(attrs={"class": "form-select form-select-sm"})


class TicketFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=gettext_lazy("关键词"), max_length=100)
    state = django_filters.ChoiceFilter(
        label=gettext_lazy("状态"), choices=TicketState.choices, widget=_select()
    )
    kind = django_filters.ChoiceFilter(
        label=gettext_lazy("类型"), choices=TicketKind.choices, widget=_select()
    )
    channel = django_filters.ChoiceFilter(
        label=gettext_lazy("渠道"), choices=TicketChannel.choices, widget=_select()
    )
    assignee = django_filters.ChoiceFilter(
        method="filter_assignee",
        label=gettext_lazy("处理人"),
        choices=[("me", gettext_lazy("我的")), ("none", gettext_lazy("未分派"))],
        widget=_select(),
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        label=gettext_lazy("超时"),
        widget=forms.Select(
            choices=[
                ("", gettext_lazy("全部")),
                ("true", gettext_lazy("已超时")),
                ("false", gettext_lazy("未超时")),
            ],
            attrs={"class": "form-select form-select-sm"},
        ),
    )
    escalated = django_filters.BooleanFilter(
        method="filter_escalated",
        label=gettext_lazy("已升级"),
        widget=forms.Select(
            choices=[
                ("", gettext_lazy("全部")),
                ("true", gettext_lazy("已升级")),
                ("false", gettext_lazy("未升级")),
            ],
            attrs={"class": "form-select form-select-sm"},
        ),
    )
    date_from = django_filters.DateFilter(
        field_name="opened_at", lookup_expr="date__gte", label=gettext_lazy("创建起"), widget=_date_input()
    )
    date_to = django_filters.DateFilter(
        field_name="opened_at", lookup_expr="date__lte", label=gettext_lazy("创建止"), widget=_date_input()
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        # Assignee choices: "mine", "unassigned", then the agents of the user's authorities by name.
        agents = [(str(u.pk), str(u)) for u in assignable_users(authority_ids=authority_ids_for(user))]
        self.filters["assignee"].extra["choices"] = [
            ("me", gettext_lazy("我的")),
            ("none", gettext_lazy("未分派")),
            *agents,
        ]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(subject__icontains=value)
            | Q(related_case_number__icontains=value)
            | Q(contact__display_name__icontains=value)
            | Q(contact__external_id__iexact=value)
            | Q(contact__email__iexact=value)
            | Q(contact__phone=value)
        )

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee=self.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=value) if str(value).isdigit() else queryset

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = overdue_q(timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_escalated(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(escalation_level__gt=0) if value else queryset.filter(escalation_level=0)


def overdue_q(now: dt.datetime) -> Q:
    """Open (not waiting) tickets past their resolution deadline, or unanswered past the first-response
    deadline."""
    return Q(state__in=[TicketState.NEW, TicketState.OPEN]) & (
        Q(resolution_due_at__lt=now) | Q(first_responded_at__isnull=True, first_response_due_at__lt=now)
    )


def ticket_filterset(
    *, user, params: Mapping[str, str], base: QuerySet[Ticket] | None = None
) -> TicketFilterSet:
    queryset = base if base is not None else tickets_for(user)
    queryset = with_next_due(queryset).select_related("contact", "assignee").order_by("-opened_at", "-id")
    filterset = TicketFilterSet(data=params or None, queryset=queryset, user=user)
    filterset.form.fields["q"].widget.attrs.update({"class": "form-control form-control-sm"})
    return filterset


def ticket_search(
    *, user, params: Mapping[str, str], base: QuerySet[Ticket] | None = None
) -> QuerySet[Ticket]:
    """The tickets matching `params` (invalid filter values are ignored; the page shows them as errors)."""
    filterset = ticket_filterset(user=user, params=params, base=base)
    if filterset.is_bound and not filterset.is_valid():
        valid = {k: v for k, v in params.items() if k not in filterset.errors}
        filterset = ticket_filterset(user=user, params=valid, base=base)
    return filterset.qs


@dataclass
class TicketListing:
    filterset: TicketFilterSet
    page: Page
    rows: list[tuple[Ticket, str]]


def ticket_listing(*, user, params: Mapping[str, str], base: QuerySet[Ticket] | None = None) -> TicketListing:
    filterset = ticket_filterset(user=user, params=params, base=base)
    if filterset.is_bound and not filterset.is_valid():
        queryset = ticket_search(user=user, params=params, base=base)
    else:
        queryset = filterset.qs
    page = Paginator(queryset, PAGE_SIZE).get_page(params.get("page"))
    now = timezone.now()
    return TicketListing(
        filterset=filterset,
        page=page,
        rows=[(ticket, due_status(ticket, now)) for ticket in page.object_list],
    )


def complaints_base(*, user) -> QuerySet[Ticket]:
    """Complaints (投诉) the user may see; the escalated ones first."""
    return tickets_for(user).filter(kind=TicketKind.COMPLAINT)


def escalated_count(*, user) -> int:
    return (
        tickets_for(user)
        .filter(kind=TicketKind.COMPLAINT, state__in=TICKET_OPEN_STATES, escalation_level__gt=0)
        .count()
    )


# --- one ticket -------------------------------------------------------------------------------------------


def conversation(*, ticket: Ticket) -> list[TicketMessage]:
    """The ticket's messages and notes with those of the tickets merged into it, oldest first. Each
    message carries `servable_attachments` / `blocked_attachments` (quarantined or refused files)."""
    ticket_ids = [ticket.pk, *Ticket.objects.filter(merged_into=ticket).values_list("pk", flat=True)]
    messages = list(
        TicketMessage.objects.filter(ticket_id__in=ticket_ids)
        .select_related("author", "ticket", "cited_version", "cited_version__article")
        .prefetch_related(Prefetch("attachments", queryset=TicketAttachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    for message in messages:
        files = list(message.attachments.all())
        message.servable_attachments = [a for a in files if attachment_is_servable(a)]
        message.blocked_attachments = [a for a in files if not attachment_is_servable(a)]
        message.from_merged = message.ticket_id != ticket.pk
    return messages


def timeline(*, ticket: Ticket) -> QuerySet[TicketTransitionLog]:
    return ticket.transitions.select_related("actor").order_by("occurred_at", "id")


def available_actions(*, ticket: Ticket, user) -> list:
    """The transitions the user may take now (buttons), without the system's and the dialog-driven ones."""
    return [
        t
        for t in TICKET_WORKFLOW.available(state=ticket.state, user=user)
        if t.action not in ("customer_replied", "merge", "assign")
    ]


def attachment_for(*, user, pk: int) -> TicketAttachment:
    """An attachment of a ticket the user may see; DoesNotExist otherwise."""
    return TicketAttachment.objects.select_related("message__ticket").get(
        pk=pk, message__ticket__in=tickets_for(user)
    )


def merge_candidates(*, ticket: Ticket, user, query: str = "") -> list[Ticket]:
    """Open tickets the ticket may be merged into: the same contact's first, or those matching `query`."""
    base = (
        tickets_for(user)
        .filter(authority_id=ticket.authority_id, state__in=TICKET_OPEN_STATES + (TicketState.RESOLVED,))
        .exclude(pk=ticket.pk)
        .select_related("contact")
    )
    query = query.strip()[:50]
    if query:
        base = base.filter(Q(number__icontains=query) | Q(subject__icontains=query))
    else:
        base = base.filter(contact_id=ticket.contact_id)
    return list(base.order_by("-opened_at")[:20])


def assignable_users(*, authority_ids: list[int]):
    """Active users of the authorities whose role may work tickets (consultation.change_ticket)."""
    permission = Permission.objects.filter(
        content_type__app_label="consultation", codename="change_ticket"
    ).first()
    if permission is None:
        return get_user_model().objects.none()
    return (
        get_user_model()
        .objects.filter(is_active=True, authorities__in=authority_ids)
        .filter(Q(groups__permissions=permission) | Q(user_permissions=permission))
        .distinct()
        .order_by("display_name", "username")
    )


def messages_after(*, ticket: Ticket, after_id: int) -> list[TicketMessage]:
    """Messages of the ticket newer than `after_id` (the detail page's live update)."""
    return [m for m in conversation(ticket=ticket) if m.pk > after_id]
