"""Reads of notices: staff lists scoped by authority, and the public verification lookup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bizreg.core.dates import on_local_days
from bizreg.core.scoping import scope_to_user
from bizreg.registration.models import Notice, NoticeIssuerProfile, RegistrationCase
from bizreg.registration.services.documents import CODE_LENGTH, normalize_verification_code

PAGE_SIZE = 50


def notices_visible_to(user) -> QuerySet[Notice]:
    return scope_to_user(Notice.objects.select_related("case", "issued_by", "authority"), user)


def notice_for(*, user, pk: Any) -> Notice:
    """The notice if the user may see it; 404 alike for "not yours" and "does not exist"."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该文书。")) from None
    notice = notices_visible_to(user).filter(pk=pk).first()
    if notice is None:
        raise Http404(_("没有找到该文书。"))
    return notice


def notices_for_case(*, user, case: RegistrationCase) -> list[Notice]:
    return list(notices_visible_to(user).filter(case=case).order_by("issued_at", "id"))


def notice_search(*, user, filters: Mapping[str, Any]) -> QuerySet[Notice]:
    """Notices matching a cleaned NoticeFilterForm (q: number, enterprise or case number)."""
    qs = notices_visible_to(user)
    term = (filters.get("q") or "").strip()
    if term:
        qs = qs.filter(
            Q(number__icontains=term)
            | Q(case__enterprise_name__icontains=term)
            | Q(case__number__icontains=term)
        )
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    qs = qs.filter(on_local_days("issued_at", filters.get("date_from"), filters.get("date_to")))
    return qs.order_by("-issued_at", "-id")


def notice_page(*, user, filters: Mapping[str, Any], page: Any = None) -> Page:
    return Paginator(notice_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


NOTICE_EXPORT_HEADERS = (
    gettext_noop("文书编号"),
    gettext_noop("文书类型"),
    gettext_noop("业务编号"),
    gettext_noop("业务类型"),
    gettext_noop("企业名称"),
    gettext_noop("签发时间"),
    gettext_noop("签发人"),
)


def notice_export_rows(notices: QuerySet[Notice]) -> Iterator[tuple]:
    for notice in notices.iterator(chunk_size=2000):
        yield (
            notice.number,
            notice.get_kind_display(),
            notice.case.number,
            notice.case.get_case_type_display(),
            notice.case.enterprise_name,
            notice.issued_at,
            str(notice.issued_by),
        )


# --- public verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedNotice:
    """What the public page may show of a notice: no person, no case details."""

    kind_label: str
    number: str
    issued_on: dt.date
    issuer: str
    enterprise_name: str
    sha256: str


def notice_for_verification(code: str) -> VerifiedNotice | None:
    """The public facts of the notice with this verification code, or None for any unknown/malformed code."""
    code = normalize_verification_code(code)
    if len(code) != CODE_LENGTH:
        return None
    notice = Notice.objects.select_related("authority").filter(verification_code=code).first()
    if notice is None:
        return None
    content = notice.content or {}
    issued_on = content.get("issued_on")
    return VerifiedNotice(
        kind_label=notice.get_kind_display(),
        number=notice.number,
        issued_on=dt.date.fromisoformat(issued_on) if issued_on else notice.issued_at.date(),
        issuer=content.get("issuer") or notice.authority.name,
        enterprise_name=content.get("enterprise_name", ""),
        sha256=notice.sha256,
    )


def issuer_profile(*, authority) -> NoticeIssuerProfile | None:
    """The authority's document settings (机关代字, review body, court, contact), used by other apps too."""
    return NoticeIssuerProfile.objects.filter(authority=authority).first()
