"""Figures of the registration module for the performance module, by key (see core.metrics_registry).

Every function takes (authority_ids, start, end) over the half-open period [start, end) of local dates
(Asia/Shanghai) and returns a Decimal. Rates are percentages with two decimals; a rate or mean over no
records at all is 0 (the dashboard shows the record count next to it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count, DateField, F, Func, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from bizreg.core.metrics_registry import (
    TWO_PLACES,
    memoized,
    percent,
    period_bounds,
    period_list_url,
    register_metric,
)
from bizreg.core.workdays import WorkingCalendar
from bizreg.registration.models import (
    CasePause,
    ContactLog,
    LicenceSheet,
    MailPackage,
    Notice,
    RegistrationCase,
    ServiceRecord,
)


def _ids(authority_ids: Sequence[int]) -> list[int]:
    return list(authority_ids)


# --- drill-down: the module's own list pages filtered to the records behind a figure ----------------------
# The list pages filter by inclusive dates and are scoped to the viewer's authorities, so the half-open
# metric period [start, end) becomes date_from=start, date_to=end − 1 day.


cases_received_url = period_list_url(
    "registration:case_list", "received_from", "received_to", permission="registration.view_registrationcase"
)
service_records_url = period_list_url(
    "registration:records_list", "date_from", "date_to", permission="registration.view_servicerecord"
)
licence_sheets_url = period_list_url(
    "registration:licence_sheets", "date_from", "date_to", permission="registration.view_licencesheet"
)
cases_decided_url = period_list_url(
    "registration:case_list", "decided_from", "decided_to", permission="registration.view_registrationcase"
)


# --- business volume ------------------------------------------------------------------------------------


# Counts that several figures share (业务服务量 adds up the records that other figures count on their own)
# are computed once per evaluation: see core.metrics_registry.shared_computation.


def _shared(name: str, ids, since, until, compute):
    return memoized(("registration." + name, tuple(sorted(ids)), since, until), compute)


def _cases_received(ids, since, until) -> int:
    return _shared(
        "cases_received",
        ids,
        since,
        until,
        lambda: RegistrationCase.objects.filter(
            authority_id__in=ids, received_at__gte=since, received_at__lt=until
        ).count(),
    )


def _service_records(ids, since, until) -> int:
    return _shared(
        "service_records",
        ids,
        since,
        until,
        lambda: ServiceRecord.objects.filter(
            authority_id__in=ids, occurred_at__gte=since, occurred_at__lt=until
        ).count(),
    )


def _licence_consumption(ids, since, until) -> tuple[int, int]:
    """(sheets consumed, of which validly printed) in the period: a sheet is consumed when printed,
    spoiled or voided, dated by its printing (a blank voided unprinted by its retirement)."""

    def compute() -> tuple[int, int]:
        used = Q(used_at__gte=since, used_at__lt=until)
        retired_unused = Q(used_at__isnull=True, retired_at__gte=since, retired_at__lt=until)
        counts = (
            LicenceSheet.objects.filter(authority_id__in=ids)
            .exclude(status=LicenceSheet.Status.BLANK)
            .filter(used | retired_unused)
            .aggregate(consumed=Count("pk"), valid=Count("pk", filter=Q(status=LicenceSheet.Status.PRINTED)))
        )
        return counts["consumed"], counts["valid"]

    return _shared("licence_consumption", ids, since, until, compute)


def _licences_printed(ids, since, until) -> int:
    return _licence_consumption(ids, since, until)[1]


def _mail_packages(ids, since, until) -> int:
    return MailPackage.objects.filter(
        authority_id__in=ids, recorded_at__gte=since, recorded_at__lt=until
    ).count()


def _notices_issued(ids, since, until) -> int:
    return Notice.objects.filter(authority_id__in=ids, issued_at__gte=since, issued_at__lt=until).count()


def _follow_up_contacts(ids, since, until) -> int:
    return ContactLog.objects.filter(
        task__authority_id__in=ids, occurred_at__gte=since, occurred_at__lt=until
    ).count()


@dataclass(frozen=True)
class VolumeKind:
    label: str
    count: Callable[[list[int], dt.datetime, dt.datetime], int]


# Every kind of record that can count as 业务服务量; the setting chooses which do.
BUSINESS_VOLUME_KINDS: dict[str, VolumeKind] = {
    "cases_received": VolumeKind("登记业务收件（各类型，按收件时间）", _cases_received),
    "service_records": VolumeKind("企业信息录入及一网通办指引", _service_records),
    "licences_printed": VolumeKind("打印营业执照（有效正本、副本，按张）", _licences_printed),
    "mail_packages": VolumeKind("邮寄件签收与寄出登记", _mail_packages),
    "notices_issued": VolumeKind("出具文书（通知书、告知书、调档函）", _notices_issued),
    "follow_up_contacts": VolumeKind("网办业务跟进联系", _follow_up_contacts),
}
DEFAULT_BUSINESS_VOLUME_KINDS = ("cases_received", "service_records", "licences_printed", "mail_packages")


def business_volume_kinds() -> tuple[str, ...]:
    kinds = tuple(getattr(settings, "REGISTRATION_BUSINESS_VOLUME_KINDS", DEFAULT_BUSINESS_VOLUME_KINDS))
    unknown = [k for k in kinds if k not in BUSINESS_VOLUME_KINDS]
    if unknown:
        raise ImproperlyConfigured(
            f"REGISTRATION_BUSINESS_VOLUME_KINDS 含未知类型 {', '.join(unknown)}；"
            f"可用：{', '.join(BUSINESS_VOLUME_KINDS)}"
        )
    return kinds


def business_volume_breakdown(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> dict[str, int]:
    """The count of every kind (counted or not), so a report can show what the total is made of."""
    ids = _ids(authority_ids)
    since, until = period_bounds(start, end)
    return {key: kind.count(ids, since, until) for key, kind in BUSINESS_VOLUME_KINDS.items()}


@register_metric(
    "registration.business_volume",
    label="商事登记业务服务量",
    unit="件",
    definition=(
        "统计期内商事登记模块完成的业务服务件数之和，计入哪些记录由设置 REGISTRATION_BUSINESS_VOLUME_KINDS "
        "决定，默认为：登记业务收件（设立、变更、注销、备案、迁入、迁出，各渠道，按收件时间，每件计 1）"
        "＋企业信息录入及一网通办指引记录（每条计 1）＋打印的有效营业执照（正本、副本各计 1 张，损坏或作废的"
        "不计）＋邮寄件签收与寄出登记（每件计 1）。可另行计入出具文书、网办跟进联系。项目的年度“业务服务量”"
        "（382,000）由各模块的业务量相加，本指标只是商事登记模块的部分。"
    ),
    # The largest part of the volume is the cases received; the other kinds have their own lists.
    records_url=cases_received_url,
)
def business_volume(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    ids = _ids(authority_ids)
    since, until = period_bounds(start, end)
    return Decimal(sum(BUSINESS_VOLUME_KINDS[k].count(ids, since, until) for k in business_volume_kinds()))


@register_metric(
    "registration.cases_received",
    label="登记业务办理量（收件）",
    unit="件",
    definition="统计期内收件的登记业务件数（设立、变更、注销、备案、迁入、迁出，各渠道；含其后退回、撤回的）。",
    records_url=cases_received_url,
)
def cases_received(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    since, until = period_bounds(start, end)
    return Decimal(_cases_received(_ids(authority_ids), since, until))


@register_metric(
    "registration.info_entries_and_guidance",
    label="企业信息录入及一网通办指引份数",
    unit="份",
    definition="统计期内的企业信息录入记录与一网通办指引及协助录入记录条数（每次录入或指引一条，按发生时间）。",
    records_url=service_records_url,
)
def info_entries_and_guidance(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    since, until = period_bounds(start, end)
    return Decimal(_service_records(_ids(authority_ids), since, until))


@register_metric(
    "registration.licence_usage_rate",
    label="营业执照使用率",
    unit="%",
    definition=(
        "有效打印的执照纸张数 ÷ 消耗的执照纸张数 × 100%。消耗 = 已打印 + 打印损坏 + 作废，按打印时间"
        "（未打印即作废的空白纸按作废时间）落入统计期；有效 = 当前仍为“已打印”的纸张。按纸张当前状态计算："
        "事后作废的执照不再算有效。"
    ),
    records_url=licence_sheets_url,
)
def licence_usage_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    since, until = period_bounds(start, end)
    consumed, valid = _licence_consumption(_ids(authority_ids), since, until)
    return percent(valid, consumed)


# --- processing time ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decided:
    """`count` decided cases that took `working_days`, `on_time` of them by their due day. The days are
    known for groups recounted from the records; cases whose decision stored its clock are grouped by
    working days alone."""

    accepted_on: dt.date | None
    decided_on: dt.date | None
    due_on: dt.date | None
    working_days: int
    count: int = 1
    on_time: int = 1


class _WorkdayIndex:
    """Working days counted once over a span: (a, b] in O(1) per case instead of a calendar per case."""

    def __init__(self, first: dt.date, last: dt.date) -> None:
        calendar = WorkingCalendar(first, last)
        self.first = first
        self.cumulative: list[int] = []
        running = 0
        day = first
        while day <= last:
            running += calendar.is_working_day(day)
            self.cumulative.append(running)
            day += dt.timedelta(days=1)

    def between(self, a: dt.date, b: dt.date) -> int:
        """Working days in (a, b], as core.workdays.working_days_between; 0 when b <= a."""
        if b <= a:
            return 0
        return self.cumulative[(b - self.first).days] - self.cumulative[(a - self.first).days]


def _local_date(field: str, since: dt.datetime, until: dt.datetime):
    """The local calendar day of a datetime column, computed by the database.

    PostgreSQL converts with the zone itself. On SQLite Django's TruncDate calls back into Python for every
    row; when the zone's offset is the same over the whole period (Asia/Shanghai has had no daylight saving
    since 1991) the day is SQLite's own date(column, '+N minutes'). Returns None when neither applies.
    """
    if connection.vendor != "sqlite":
        return TruncDate(field, tzinfo=timezone.get_default_timezone())
    tz = timezone.get_default_timezone()
    # The accepted_at of a case decided in the period may lie up to a few months earlier.
    offsets = {tz.utcoffset(moment.replace(tzinfo=None)) for moment in (since - YEAR, since, until)}
    if len(offsets) != 1:
        return None
    minutes = int(offsets.pop().total_seconds() // 60)
    return Func(F(field), template=f"date(%(expressions)s, '{minutes:+d} minutes')", output_field=DateField())


YEAR = dt.timedelta(days=366)


def decided_cases(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> list[Decided]:
    """Cases decided (核准 or 不予登记) in the period after an acceptance, with the working days they took
    from acceptance to decision, leaving out the working days of any pause inside that span (same rule as
    services.cases.case_working_days).

    A decision made through services.cases stores its working days and punctuality on the case, so those
    cases are only counted by working days. Others are recounted: the database groups them by (acceptance
    day, decision day, due day), and cases with a pause are taken one by one. One evaluation
    asks for the same period several times (mean, P90, on-time rate, year-on-year), so the answer is kept
    for the duration of a `core.metrics_registry.shared_computation()` block.
    """
    key = ("registration.decided_cases", tuple(sorted(authority_ids)), start, end)
    return memoized(key, lambda: _decided_cases(authority_ids, start, end))


def _decided_cases(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> list[Decided]:
    since, until = period_bounds(start, end)
    decided = RegistrationCase.objects.filter(
        authority_id__in=_ids(authority_ids),
        decided_at__gte=since,
        decided_at__lt=until,
        accepted_at__isnull=False,
    )
    # Decisions made through services.cases stored their working days and punctuality: add them up. The
    # group without a stored clock (decided before it was stored, or written by hand) is recounted.
    groups = (
        decided.values("processing_working_days")
        # No COUNT(id): the covering index case_auth_decided then answers alone (an index-only scan).
        .annotate(n=Count("*"), on_time=Count("decided_on_time", filter=Q(decided_on_time=True)))
        .order_by()
    )
    result, unrecorded = [], False
    for g in groups:
        if g["processing_working_days"] is None:
            unrecorded = True
        else:
            result.append(Decided(None, None, None, g["processing_working_days"], g["n"], g["on_time"]))
    if unrecorded:
        result += _recounted(decided.filter(processing_working_days__isnull=True), since, until)
    return result


def _recounted(cases, since: dt.datetime, until: dt.datetime) -> list[Decided]:
    # Kept as a subquery: a NOT IN over thousands of literal ids is compared row by row.
    paused_case_ids = CasePause.objects.filter(case__in=cases).values("case_id")
    accepted_day = _local_date("accepted_at", since, until)
    decided_day = _local_date("decided_at", since, until)
    local = timezone.localdate
    # (accepted, decided, due, count) groups, plus single cases with pauses keyed by their pk.
    spans: list[tuple[dt.date, dt.date, dt.date | None, int]] = []
    single: dict[int, tuple[dt.date, dt.date, dt.date | None]] = {}
    if accepted_day is not None and decided_day is not None:
        grouped = (
            cases.exclude(pk__in=paused_case_ids)
            .annotate(accepted_day=accepted_day, decided_day=decided_day)
            .values("accepted_day", "decided_day", "due_on")
            .annotate(n=Count("pk"))
            .order_by()
        )
        spans = [(g["accepted_day"], g["decided_day"], g["due_on"], g["n"]) for g in grouped]
        rows = cases.filter(pk__in=paused_case_ids).values_list("pk", "accepted_at", "decided_at", "due_on")
        paused_ids = None  # every row read below has a pause
    else:
        rows = cases.values_list("pk", "accepted_at", "decided_at", "due_on")
        paused_ids = set(paused_case_ids.values_list("case_id", flat=True))
    for pk, accepted, decided, due in rows:
        if paused_ids is None or pk in paused_ids:
            single[pk] = (local(accepted), local(decided), due)
        else:
            spans.append((local(accepted), local(decided), due, 1))
    if not spans and not single:
        return []
    days = [a for a, _d, _due, _n in spans] + [a for a, _d, _due in single.values()]
    ends = [d for _a, d, _due, _n in spans] + [d for _a, d, _due in single.values()]
    first = min(days)
    index = _WorkdayIndex(first, max(ends))
    paused: dict[int, int] = {}
    pauses = CasePause.objects.filter(case__in=cases).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=first))
    for case_id, started, ended in pauses.values_list("case_id", "started_on", "ended_on"):
        accepted, decided, _due = single[case_id]
        lo, hi = max(started, accepted), min(ended or decided, decided)
        paused[case_id] = paused.get(case_id, 0) + index.between(lo, hi)

    def on_time(decided: dt.date, due: dt.date | None, n: int) -> int:
        return n if due is None or decided <= due else 0

    result = [Decided(a, d, due, index.between(a, d), n, on_time(d, due, n)) for a, d, due, n in spans]
    result += [
        Decided(a, d, due, max(index.between(a, d) - paused.get(pk, 0), 0), 1, on_time(d, due, 1))
        for pk, (a, d, due) in single.items()
    ]
    return result


def _count(cases: list[Decided]) -> int:
    return sum(c.count for c in cases)


def _total_days(cases: list[Decided]) -> int:
    return sum(c.working_days * c.count for c in cases)


def _mean(cases: list[Decided]) -> Decimal:
    n = _count(cases)
    if not n:
        return Decimal(0)
    return (Decimal(_total_days(cases)) / Decimal(n)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _nearest_rank(cases: list[Decided], p: int) -> Decimal:
    n = _count(cases)
    if not n:
        return Decimal(0)
    rank = max(1, -(-p * n // 100))  # ceil(p/100 · n)
    seen = 0
    for case in sorted(cases, key=lambda c: c.working_days):
        seen += case.count
        if seen >= rank:
            return Decimal(case.working_days)
    raise AssertionError("unreachable: rank <= n")


@register_metric(
    "registration.mean_processing_working_days",
    label="平均办理时长（受理至决定）",
    unit="工作日",
    definition=(
        "统计期内作出核准或不予登记决定、且已受理的业务，从受理日到决定日的工作日数（受理当日决定为 0，"
        "退回补正暂停计时的工作日不计）的算术平均，保留两位小数。"
    ),
    records_url=cases_decided_url,
)
def mean_processing_working_days(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return _mean(decided_cases(authority_ids, start, end))


@register_metric(
    "registration.p90_processing_working_days",
    label="办理时长 P90（受理至决定）",
    unit="工作日",
    definition=(
        "同“平均办理时长”的业务与算法，取第 90 百分位（最近秩法：从小到大排序后第 ⌈0.9·n⌉ 件的工作日数）。"
    ),
    records_url=cases_decided_url,
)
def p90_processing_working_days(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return _nearest_rank(decided_cases(authority_ids, start, end), 90)


@register_metric(
    "registration.on_time_rate",
    label="按期办结率",
    unit="%",
    definition=(
        "统计期内作出核准或不予登记决定、且已受理的业务中，决定日不晚于法定办结日（受理后 3 个工作日，"
        "经批准延长的再加 3 个工作日）的比例 × 100%。"
    ),
    records_url=cases_decided_url,
)
def on_time_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    cases = decided_cases(authority_ids, start, end)
    return percent(sum(c.on_time for c in cases), _count(cases))


def _year_earlier(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@register_metric(
    "registration.processing_time_yoy_change",
    label="办理时长同比变化",
    unit="%",
    definition=(
        "（本期平均办理时长 − 上年同期平均办理时长）÷ 上年同期平均办理时长 × 100%，负数表示办理时间压缩。"
        "上年同期没有已决定业务或其平均为 0 时记为 0。"
    ),
    records_url=cases_decided_url,
)
def processing_time_yoy_change(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    def raw_mean(cases: list[Decided]) -> Fraction | None:
        return Fraction(_total_days(cases), _count(cases)) if cases else None

    current = raw_mean(decided_cases(authority_ids, start, end)) or Fraction(0)
    previous = raw_mean(decided_cases(authority_ids, _year_earlier(start), _year_earlier(end)))
    if not previous:
        return Decimal(0)
    change = (current - previous) * 100 / previous
    return (Decimal(change.numerator) / Decimal(change.denominator)).quantize(
        TWO_PLACES, rounding=ROUND_HALF_UP
    )
