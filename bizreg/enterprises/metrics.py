"""Figures of the register for the performance module, by key (see bizreg.core.metrics_registry)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Q

from bizreg.core.metrics_registry import PeriodListUrl, period_list_url, register_metric
from bizreg.enterprises.models import Enterprise, EnterpriseStatus


def _established_url(**extra: str) -> PeriodListUrl:
    """The register's list filtered by establishment date."""
    return period_list_url(
        "enterprises:list",
        "established_from",
        "established_to",
        permission="enterprises.view_enterprise",
        **extra,
    )


def _scoped(authority_ids: Sequence[int]):
    return Enterprise.objects.filter(authority_id__in=list(authority_ids))


@register_metric(
    "enterprises.new_establishments",
    label="新设立商事主体",
    unit="户",
    definition="统计期内成立（成立日期在统计期内）的商事主体户数，含其后已注销、吊销或迁出的主体。",
    records_url=_established_url(),
)
def new_establishments(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return Decimal(_scoped(authority_ids).filter(established_on__gte=start, established_on__lt=end).count())


@register_metric(
    "enterprises.active_count",
    label="期末存续商事主体",
    unit="户",
    definition="统计期末存续的商事主体户数：成立日期早于期末，且当前为存续状态，或状态变更（注销、吊销、迁出）"
    "发生在期末之后。",
)
def active_count(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    alive_at_end = Q(status=EnterpriseStatus.ACTIVE) | Q(status_changed_on__gte=end)
    return Decimal(_scoped(authority_ids).filter(alive_at_end, established_on__lt=end).count())


@register_metric(
    "enterprises.deregistrations",
    label="注销商事主体",
    unit="户",
    definition="统计期内办结注销（状态变更日期在统计期内且当前状态为注销）的商事主体户数。",
)
def deregistrations(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return Decimal(
        _scoped(authority_ids)
        .filter(status=EnterpriseStatus.DEREGISTERED, status_changed_on__gte=start, status_changed_on__lt=end)
        .count()
    )


@register_metric(
    "enterprises.ftz_new_establishments",
    label="自贸区新设立商事主体",
    unit="户",
    definition="统计期内成立、且当前标记为自贸区（按住所地址规则判定或人工认定）的商事主体户数。",
    records_url=_established_url(in_ftz="1"),
)
def ftz_new_establishments(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return Decimal(
        _scoped(authority_ids).filter(in_ftz=True, established_on__gte=start, established_on__lt=end).count()
    )
