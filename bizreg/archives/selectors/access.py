"""Reads of archive access: the public basic record (no login), the access requests staff review (scoped
to the user's authorities), an applicant's status by reference + phone, the items a grant covers, the
items staff may download, and the fixity runs.

The public record shows only what the register publishes anyway (name, USCC, type, masked legal
representative, date, address, status, 自贸区) and the titles/dates of OPEN items; controlled and internal
items are never listed there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from bizreg.archives import workflows
from bizreg.archives.models import (
    AccessRequest,
    AccessState,
    ArchiveFile,
    ArchiveItem,
    Classification,
    FixityRun,
    OpenStatus,
)
from bizreg.archives.selectors.events import labelled_events
from bizreg.core.dates import on_local_days
from bizreg.core.identifiers import normalize_uscc
from bizreg.core.masking import mask_id_number, mask_person_name, mask_phone
from bizreg.core.scoping import authority_ids_for, scope_to_user
from bizreg.enterprises.selectors import public_register_matches, register_name_for_uscc

PAGE_SIZE = 25
PUBLIC_MATCH_LIMIT = 5
OPEN_STATES = (AccessState.SUBMITTED, AccessState.APPROVED)
EXPORT_HEADERS = [
    "查询编号",
    "渠道",
    "申请人类别",
    "状态",
    "统一社会信用代码",
    "企业名称",
    "申请人",
    "证件号（脱敏）",
    "联系电话（脱敏）",
    "单位",
    "查询用途",
    "完整档案",
    "申请时间",
    "办结期限",
    "审核人",
    "审核时间",
    "审核意见",
    "提供时间",
    "调阅有效期至",
]


# --- the public basic record -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicItem:
    title: str
    doc_type: str
    doc_date: dt.date | None


@dataclass
class PublicRecord:
    """One enterprise's basic registration record as the portal shows it: nothing personal unmasked."""

    authority_id: int
    enterprise_id: int
    name: str
    uscc: str
    entity_type: str
    legal_rep: str  # masked
    established_on: dt.date | None
    address: str
    status: str
    in_ftz: bool
    ftz_area: str
    archive: ArchiveFile | None = None
    open_items: list[PublicItem] = field(default_factory=list)


def _register_matches(query: str) -> list:
    uscc = normalize_uscc(query)
    if len(uscc) == 18:
        return public_register_matches(uscc=uscc, limit=PUBLIC_MATCH_LIMIT)
    return public_register_matches(name=query.strip(), limit=PUBLIC_MATCH_LIMIT)


def _open_items(archive: ArchiveFile) -> list[PublicItem]:
    items = (
        archive.items.filter(open_status=OpenStatus.OPEN)
        .exclude(classification=Classification.INTERNAL)
        .order_by("doc_date", "item_number")
    )
    return [PublicItem(i.title, i.get_doc_type_display(), i.doc_date) for i in items]


def public_records(query: str) -> list[PublicRecord]:
    """The basic records of the enterprises matching a USCC or an exact name (at most a handful)."""
    query = (query or "").strip()
    if not query:
        return []
    records = []
    for enterprise in _register_matches(query):
        archive = (
            ArchiveFile.objects.filter(enterprise_id=enterprise.pk, merged_into__isnull=True)
            .order_by("id")
            .first()
        )
        records.append(
            PublicRecord(
                authority_id=enterprise.authority_id,
                enterprise_id=enterprise.pk,
                name=enterprise.name,
                uscc=enterprise.uscc,
                entity_type=enterprise.get_entity_type_display(),
                legal_rep=mask_person_name(enterprise.legal_rep_name),
                established_on=enterprise.established_on,
                address=enterprise.address,
                status=enterprise.get_status_display(),
                in_ftz=enterprise.in_ftz,
                ftz_area=enterprise.ftz_area if enterprise.in_ftz else "",
                archive=archive,
                open_items=_open_items(archive) if archive else [],
            )
        )
    return records


@dataclass(frozen=True)
class RegisterEntry:
    authority_id: int
    name: str
    uscc: str


def register_entry_for_uscc(uscc: str) -> RegisterEntry | None:
    """The authority and name of the enterprise with this USCC (register first, then an archive that was
    moved in before its enterprise reached the register)."""
    uscc = normalize_uscc(uscc)
    found = register_name_for_uscc(uscc)
    if found:
        return RegisterEntry(found[0], found[1], uscc)
    archive = ArchiveFile.objects.filter(uscc=uscc, merged_into__isnull=True).order_by("id").first()
    if archive:
        return RegisterEntry(archive.authority_id, archive.enterprise_name, uscc)
    return None


def archive_for_uscc(uscc: str) -> ArchiveFile | None:
    return (
        ArchiveFile.objects.filter(uscc=normalize_uscc(uscc), merged_into__isnull=True).order_by("id").first()
    )


# --- the applicant's status page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicantStatus:
    reference: str
    state: str
    state_label: str
    enterprise_name: str
    applicant: str  # masked
    submitted_at: dt.datetime
    due_at: dt.datetime
    decided_at: dt.datetime | None
    decision_reason: str
    served_at: dt.datetime | None
    grant_until: dt.datetime | None
    grant_active: bool


def applicant_status(*, reference: str, phone: str) -> ApplicantStatus | None:
    """The request with this reference if the phone matches; None alike for either mismatch."""
    reference = (reference or "").strip().upper()
    phone = "".join((phone or "").split())
    if not reference or not phone:
        return None
    found = AccessRequest.objects.filter(reference=reference, full_file=True).first()
    if found is None or found.applicant_phone != phone:
        return None
    now = timezone.now()
    return ApplicantStatus(
        reference=found.reference,
        state=found.state,
        state_label=found.get_state_display(),
        enterprise_name=found.enterprise_name,
        applicant=mask_person_name(found.applicant_name),
        submitted_at=found.submitted_at,
        due_at=found.due_at,
        decided_at=found.decided_at,
        decision_reason=found.decision_reason if found.state == AccessState.REJECTED else "",
        served_at=found.served_at,
        grant_until=found.grant_until,
        grant_active=bool(
            found.state == AccessState.SERVED
            and found.access_token_hash
            and found.grant_until
            and found.grant_until > now
        ),
    )


# --- the external viewer of a grant ------------------------------------------------------------------------


def grant_items(access_request: AccessRequest) -> QuerySet[ArchiveItem]:
    """The items an external grant shows: the granted archive's open and controlled items, never internal."""
    if access_request.archive_id is None:
        return ArchiveItem.objects.none()
    return (
        ArchiveItem.objects.filter(archive_id=access_request.archive_id)
        .exclude(classification=Classification.INTERNAL)
        .order_by("item_number")
    )


# --- staff: access requests --------------------------------------------------------------------------------


def access_requests_visible_to(user) -> QuerySet[AccessRequest]:
    return scope_to_user(AccessRequest.objects.all(), user).select_related("archive", "decided_by")


def access_search(*, user, filters: Mapping[str, Any]) -> QuerySet[AccessRequest]:
    queryset = access_requests_visible_to(user)
    if filters.get("state"):
        queryset = queryset.filter(state=filters["state"])
    if filters.get("channel"):
        queryset = queryset.filter(channel=filters["channel"])
    if filters.get("kind"):
        queryset = queryset.filter(requester_kind=filters["kind"])
    if filters.get("full_file"):
        queryset = queryset.filter(full_file=True)
    if filters.get("overdue"):
        queryset = queryset.filter(state__in=OPEN_STATES, due_at__lt=timezone.now())
    queryset = queryset.filter(
        on_local_days("submitted_at", filters.get("submitted_from"), filters.get("submitted_to"))
    )
    if filters.get("q"):
        text = filters["q"].strip()
        queryset = queryset.filter(
            Q(reference__icontains=text)
            | Q(uscc__icontains=text)
            | Q(enterprise_name__icontains=text)
            | Q(applicant_name=text)
            | Q(organization__icontains=text)
        )
    return queryset.order_by("-submitted_at", "-id")


def access_page(*, user, filters: Mapping[str, Any], page: Any) -> Page:
    return Paginator(access_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


def access_export_rows(queryset: QuerySet[AccessRequest]):
    for r in queryset.iterator(chunk_size=500):
        yield [
            r.reference,
            r.get_channel_display(),
            r.get_requester_kind_display(),
            r.get_state_display(),
            r.uscc,
            r.enterprise_name,
            mask_person_name(r.applicant_name),
            mask_id_number(r.applicant_id_number),
            mask_phone(r.applicant_phone),
            r.organization,
            r.purpose,
            "是" if r.full_file else "否",
            r.submitted_at,
            r.due_at,
            str(r.decided_by) if r.decided_by else "",
            r.decided_at,
            r.decision_reason,
            r.served_at,
            r.grant_until,
        ]


def access_for(*, user, pk: Any) -> AccessRequest:
    found = access_requests_visible_to(user).filter(pk=pk).first()
    if found is None:
        raise Http404("查询申请不存在。")
    return found


def is_overdue(access_request: AccessRequest, now: dt.datetime | None = None) -> bool:
    return access_request.state in OPEN_STATES and access_request.due_at < (now or timezone.now())


# --- staff: items and fixity -------------------------------------------------------------------------------


def item_for_staff(*, user, pk: Any) -> ArchiveItem | None:
    """The item if it belongs to one of the user's authorities (None otherwise: the view logs a refusal)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return (
        ArchiveItem.objects.filter(pk=pk, archive__authority_id__in=authority_ids_for(user))
        .select_related("archive")
        .first()
        if not getattr(user, "is_superuser", False)
        else ArchiveItem.objects.filter(pk=pk).select_related("archive").first()
    )


def fixity_runs_visible_to(user) -> QuerySet[FixityRun]:
    return scope_to_user(FixityRun.objects.select_related("authority"), user).order_by("-started_at")


def fixity_run_for(*, user, pk: Any) -> FixityRun:
    found = fixity_runs_visible_to(user).filter(pk=pk).first()
    if found is None:
        raise Http404("核验记录不存在。")
    return found


_ACCESS_EVENT_LABELS = {"submit": "提交查询申请", "reissue": "重新生成调阅链接"}


def access_events(access: AccessRequest) -> list:
    """The latest 100 events of a request, oldest first."""
    return labelled_events(access, machine=workflows.ACCESS, labels=_ACCESS_EVENT_LABELS, latest=100)
