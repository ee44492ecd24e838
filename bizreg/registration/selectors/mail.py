"""Reads of mail packages and their hand-overs (scoped by authority)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from bizreg.core.dates import on_local_days
from bizreg.core.scoping import scope_to_user
from bizreg.registration.models import MailHandover, MailPackage, RegistrationCase
from bizreg.registration.services.mail import normalize_tracking_number

PAGE_SIZE = 50


def packages_visible_to(user) -> QuerySet[MailPackage]:
    return scope_to_user(
        MailPackage.objects.select_related("case", "enterprise", "recorded_by", "authority"), user
    )


def package_for(*, user, pk: Any) -> MailPackage:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该邮寄件。")) from None
    package = packages_visible_to(user).filter(pk=pk).first()
    if package is None:
        raise Http404(_("没有找到该邮寄件。"))
    return package


def package_search(*, user, filters: Mapping[str, Any]) -> QuerySet[MailPackage]:
    """Packages matching a cleaned MailFilterForm: q is a tracking number, enterprise or case number."""
    qs = packages_visible_to(user).annotate(handover_count=Count("handovers"))
    term = (filters.get("q") or "").strip()
    if term:
        condition = Q(enterprise_name__icontains=term) | Q(case__number__icontains=term)
        number = normalize_tracking_number(term)
        if number:
            condition |= Q(tracking_number__startswith=number)
        qs = qs.filter(condition)
    if filters.get("direction"):
        qs = qs.filter(direction=filters["direction"])
    if filters.get("courier"):
        qs = qs.filter(courier=filters["courier"])
    if filters.get("linked") == "yes":
        qs = qs.filter(case__isnull=False)
    elif filters.get("linked") == "no":
        qs = qs.filter(case__isnull=True)
    qs = qs.filter(on_local_days("recorded_at", filters.get("date_from"), filters.get("date_to")))
    return qs.order_by("-recorded_at", "-id")


def package_page(*, user, filters: Mapping[str, Any], page: Any = None) -> Page:
    return Paginator(package_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


def handovers_of(*, package: MailPackage) -> list[MailHandover]:
    return list(package.handovers.select_related("from_user", "to_user").order_by("occurred_at", "id"))


def packages_for_case(*, user, case: RegistrationCase) -> list[MailPackage]:
    return list(packages_visible_to(user).filter(case=case).order_by("recorded_at", "id"))


def handover_recipients(*, user, package: MailPackage) -> QuerySet:
    """Active colleagues of the package's authority (whom it can be handed to), not the user."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, authorities=package.authority_id)
        .exclude(pk=user.pk)
        .order_by("display_name", "username")
        .distinct()
    )


def case_by_number(*, user, number: str) -> RegistrationCase | None:
    """A case of the user's authorities by its 业务编号 (to link a package), or None."""
    number = (number or "").strip()
    if not number:
        return None
    return (
        scope_to_user(RegistrationCase.objects.select_related("enterprise"), user)
        .filter(number=number)
        .first()
    )
