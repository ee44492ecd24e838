"""Licence blanks (营业执照正本/副本): stock received in batches, printing, spoiled and voided sheets.

Every blank is a LicenceSheet row with its serial. Printing takes the authority's lowest blank serial of
the kind under a row lock: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, so twenty printers at once
each get a different sheet without waiting for one another; SQLite serializes writers (BEGIN IMMEDIATE),
so there the transactions simply queue. A serial is never printed twice; the unique serial and the
status change inside the same transaction back this up.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.core.models import Authority
from bizreg.registration.models import (
    CaseState,
    CaseType,
    LicenceBatch,
    LicenceKind,
    LicenceSheet,
    LicenceStockSetting,
    MailPackage,
    RegistrationCase,
)

PREFIX_PATTERN = re.compile(r"^[A-Z0-9]{0,10}$")
MIN_SERIAL_DIGITS = 8
MAX_SERIAL = 10**15 - 1
# Case types whose approval prints no licence: the enterprise ends or leaves the district.
NO_LICENCE_TYPES = (CaseType.DEREGISTRATION, CaseType.SIMPLE_DEREGISTRATION, CaseType.MIGRATION_OUT)
PRINTABLE_STATES = (CaseState.APPROVED, CaseState.LICENSED)
_BULK_CHUNK = 2000


class LicenceError(Exception):
    """A licence operation was refused; the message (Chinese) is meant for staff."""


class LicenceStockEmpty(LicenceError):
    """No blank sheet of the kind is left at the authority."""

    def __init__(self, *, authority: Authority, kind: str) -> None:
        self.authority = authority
        self.kind = kind
        super().__init__(
            _("%(authority)s的营业执照%(kind)s空白纸已用完，请先登记入库新的执照纸后再打印。")
            % {"authority": authority.name, "kind": LicenceKind(kind).label}
        )


def max_batch_size() -> int:
    return int(getattr(settings, "LICENCE_MAX_BATCH_SHEETS", 50_000))


def default_reorder_level() -> int:
    return int(getattr(settings, "LICENCE_REORDER_LEVEL", 200))


def format_serial(prefix: str, number: int) -> str:
    return f"{prefix}{number:0{MIN_SERIAL_DIGITS}d}"


# --- stock received ----------------------------------------------------------------------------------


def _int(value: Any, *, field: str, label: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: [_("%(label)s应为整数。") % {"label": label}]}) from None
    if number < 1 or number > MAX_SERIAL:
        raise ValidationError(
            {field: [_("%(label)s应在 1 至 %(max)d 之间。") % {"label": label, "max": MAX_SERIAL}]}
        )
    return number


def _clean_batch(
    *,
    kind: Any,
    prefix: Any,
    serial_start: Any,
    serial_end: Any,
    unit_cost: Any,
    received_on: Any,
    supplier: Any,
) -> dict:
    errors: dict[str, list[str]] = {}
    if kind not in LicenceKind.values:
        errors["kind"] = [_("请选择执照类型（正本或副本）。")]
    prefix = str(prefix or "").strip().upper()
    if not PREFIX_PATTERN.match(prefix):
        errors["prefix"] = [_("编号前缀只能由不超过 10 位的大写字母和数字组成。")]
    try:
        start = _int(serial_start, field="serial_start", label=_("起始编号"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
        start = None
    try:
        end = _int(serial_end, field="serial_end", label=_("终止编号"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
        end = None
    if start is not None and end is not None:
        if end < start:
            errors["serial_end"] = [_("终止编号不能小于起始编号。")]
        elif end - start + 1 > max_batch_size():
            errors["serial_end"] = [
                _("一个批次最多登记 %(max)d 张，本批为 %(count)d 张，请分批登记。")
                % {"max": max_batch_size(), "count": end - start + 1}
            ]
    try:
        cost = Decimal(str(unit_cost).strip())
        if not cost.is_finite() or cost < 0 or cost >= Decimal("100000000"):
            raise InvalidOperation
        cost = cost.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors["unit_cost"] = [_("单价应为不小于 0 的金额（元），最多两位小数。")]
        cost = None
    if not isinstance(received_on, dt.date):
        errors["received_on"] = [_("请填写入库日期。")]
    elif received_on > timezone.localdate():
        errors["received_on"] = [_("入库日期不能晚于今天。")]
    supplier = str(supplier or "").strip()
    if len(supplier) > 100:
        errors["supplier"] = [_("供应商名称不能超过 100 个字。")]
    if errors:
        raise ValidationError(errors)
    return {
        "kind": kind,
        "prefix": prefix,
        "serial_start": start,
        "serial_end": end,
        "unit_cost": cost,
        "received_on": received_on,
        "supplier": supplier,
    }


def overlapping_batch(*, prefix: str, serial_start: int, serial_end: int) -> LicenceBatch | None:
    """A batch (of any authority: serials are unique nationwide) whose range meets this one."""
    return (
        LicenceBatch.objects.filter(prefix=prefix, serial_start__lte=serial_end, serial_end__gte=serial_start)
        .select_related("authority")
        .order_by("serial_start")
        .first()
    )


def _overlap_error(batch: LicenceBatch) -> ValidationError:
    return ValidationError(
        {
            "serial_start": [
                _(
                    "编号段与已入库的批次重叠：%(kind)s %(start)s–%(end)s（%(authority)s，%(date)s 入库）。"
                    "同一编号不能入库两次，请核对编号段。"
                )
                % {
                    "kind": batch.get_kind_display(),
                    "start": format_serial(batch.prefix, batch.serial_start),
                    "end": format_serial(batch.prefix, batch.serial_end),
                    "authority": batch.authority.name,
                    "date": batch.received_on.isoformat(),
                }
            ]
        }
    )


@transaction.atomic
def licence_batch_receive(
    *,
    authority: Authority,
    actor,
    kind: str,
    serial_start: int,
    serial_end: int,
    unit_cost: Decimal | str,
    received_on: dt.date,
    prefix: str = "",
    supplier: str = "",
) -> LicenceBatch:
    """Record a delivery of blanks and create one blank sheet per serial of its range."""
    data = _clean_batch(
        kind=kind,
        prefix=prefix,
        serial_start=serial_start,
        serial_end=serial_end,
        unit_cost=unit_cost,
        received_on=received_on,
        supplier=supplier,
    )
    existing = overlapping_batch(
        prefix=data["prefix"], serial_start=data["serial_start"], serial_end=data["serial_end"]
    )
    if existing is not None:
        raise _overlap_error(existing)
    batch = LicenceBatch(authority=authority, received_by=actor, **data)
    batch._history_user = actor
    batch.save()
    sheets = (
        LicenceSheet(
            authority=authority,
            batch=batch,
            kind=batch.kind,
            serial=format_serial(batch.prefix, number),
            number=number,
        )
        for number in range(batch.serial_start, batch.serial_end + 1)
    )
    try:
        # Two deliveries entered at the same moment with overlapping ranges: the unique serial refuses the
        # second one here, after the check above saw neither.
        with transaction.atomic():
            chunk: list[LicenceSheet] = []
            for sheet in sheets:
                chunk.append(sheet)
                if len(chunk) >= _BULK_CHUNK:
                    LicenceSheet.objects.bulk_create(chunk)
                    chunk = []
            if chunk:
                LicenceSheet.objects.bulk_create(chunk)
    except IntegrityError:
        existing = (
            LicenceBatch.objects.exclude(pk=batch.pk)
            .filter(
                prefix=batch.prefix, serial_start__lte=batch.serial_end, serial_end__gte=batch.serial_start
            )
            .select_related("authority")
            .first()
        )
        if existing is not None:
            raise _overlap_error(existing) from None
        raise ValidationError({"serial_start": [_("编号段中有编号已经入库，请核对编号段。")]}) from None
    return batch


# --- printing ------------------------------------------------------------------------------------------


def _next_blank(*, authority_id: int, kind: str) -> LicenceSheet | None:
    blanks = LicenceSheet.objects.filter(
        authority_id=authority_id, kind=kind, status=LicenceSheet.Status.BLANK
    ).order_by("number", "id")
    if connection.features.has_select_for_update_skip_locked:
        # Each printer skips the sheets others are printing right now instead of queueing behind them.
        blanks = blanks.select_for_update(skip_locked=True)
    return blanks.first()


def _print_on_next_blank(*, case: RegistrationCase, kind: str, actor) -> LicenceSheet:
    sheet = _next_blank(authority_id=case.authority_id, kind=kind)
    if sheet is None:
        raise LicenceStockEmpty(authority=case.authority, kind=kind)
    sheet.status = LicenceSheet.Status.PRINTED
    sheet.case = case
    sheet.used_at = timezone.now()
    sheet.used_by = actor
    sheet._history_user = actor
    sheet.save(update_fields=["status", "case", "used_at", "used_by"])
    return sheet


def _check_printable(case: RegistrationCase, kind: str) -> None:
    if kind not in LicenceKind.values:
        raise LicenceError(_("未知的执照类型：%(kind)s") % {"kind": kind})
    if case.case_type in NO_LICENCE_TYPES:
        raise LicenceError(_("“%(type)s”业务不打印营业执照。") % {"type": case.get_case_type_display()})
    if case.state not in PRINTABLE_STATES:
        raise LicenceError(
            _("只有已核准的业务可以打印营业执照，当前状态为“%(state)s”。")
            % {"state": case.get_state_display()}
        )


@transaction.atomic
def licence_print(*, case: RegistrationCase, kind: str, actor) -> LicenceSheet:
    """Print the case's licence of `kind` on the next blank sheet; LicenceStockEmpty when none is left.

    A case holds one valid original: printing a second one is refused (spoil or void the first).
    """
    _check_printable(case, kind)
    if (
        kind == LicenceKind.ORIGINAL
        and LicenceSheet.objects.filter(case=case, kind=kind, status=LicenceSheet.Status.PRINTED).exists()
    ):
        raise LicenceError(_("该业务已打印营业执照正本；如需重新打印，请先将原正本登记为打印损坏或作废。"))
    return _print_on_next_blank(case=case, kind=kind, actor=actor)


def _locked(sheet: LicenceSheet) -> LicenceSheet:
    return (
        LicenceSheet.objects.select_for_update(of=("self",))
        .select_related("case", "authority")
        .get(pk=sheet.pk)
    )


def _reason(reason: str) -> str:
    text = str(reason or "").strip()
    if not text:
        raise ValidationError({"reason": [_("请填写原因。")]})
    if len(text) > 200:
        raise ValidationError({"reason": [_("原因不能超过 200 个字。")]})
    return text


def _retire(sheet: LicenceSheet, *, status: str, actor, reason: str) -> None:
    sheet.status = status
    sheet.reason = reason
    sheet.retired_at = timezone.now()
    sheet.retired_by = actor
    sheet._history_user = actor
    sheet.save(update_fields=["status", "reason", "retired_at", "retired_by", "replaced_by"])


# 打印损坏 is a print found damaged before the licence leaves the office: while its case may still be
# printed and no package of the case has been posted since. A licence handed over (the case archived) or
# posted is withdrawn by 作废 instead; spoiling it would print the case a second valid licence.
def _posted_since_print():
    return MailPackage.objects.filter(
        case=OuterRef("case"), direction=MailPackage.Direction.OUTBOUND, recorded_at__gte=OuterRef("used_at")
    )


def with_spoilable(sheets: QuerySet[LicenceSheet]) -> QuerySet[LicenceSheet]:
    """`sheets` annotated `can_spoil`: the list's form of licence_spoil_refusal(sheet) is None."""
    return sheets.annotate(
        can_spoil=ExpressionWrapper(
            Q(status=LicenceSheet.Status.PRINTED, case__state__in=PRINTABLE_STATES)
            & ~Exists(_posted_since_print()),
            output_field=BooleanField(),
        )
    )


def licence_spoil_refusal(sheet: LicenceSheet) -> str | None:
    """Why `sheet` may not be recorded as 打印损坏, or None when it may."""
    if sheet.status != LicenceSheet.Status.PRINTED:
        return _("只有已打印的执照纸可以登记为打印损坏，编号 %(serial)s 当前为“%(status)s”。") % {
            "serial": sheet.serial,
            "status": sheet.get_status_display(),
        }
    case = sheet.case
    if case.state not in PRINTABLE_STATES:
        return _(
            "业务 %(number)s 当前为“%(state)s”，编号 %(serial)s 的营业执照已发出，不能再登记为打印损坏；"
            "如需收回，请作废。"
        ) % {"number": case.number, "state": case.get_state_display(), "serial": sheet.serial}
    posted = (
        MailPackage.objects.filter(
            case=case, direction=MailPackage.Direction.OUTBOUND, recorded_at__gte=sheet.used_at
        )
        .order_by("recorded_at", "id")
        .first()
    )
    if posted is not None:
        return _(
            "编号 %(serial)s 的营业执照已于 %(day)s 寄出（%(courier)s %(tracking)s），不能再登记为打印损坏；"
            "如需收回，请作废。"
        ) % {
            "serial": sheet.serial,
            "day": timezone.localtime(posted.recorded_at).date().isoformat(),
            "courier": posted.get_courier_display(),
            "tracking": posted.tracking_number,
        }
    return None


@transaction.atomic
def licence_spoil(*, sheet: LicenceSheet, actor, reason: str, reprint: bool = True) -> LicenceSheet | None:
    """Record a print that came out damaged and, by default, print the same case again on a new sheet.

    Returns the new sheet, or None when `reprint` is false or no blank is left: the spoil is recorded
    either way (the damaged sheet must never count as valid), and the case can be printed again later.
    Refused (LicenceError) once the licence has left the office (licence_spoil_refusal).
    """
    reason = _reason(reason)
    sheet = _locked(sheet)
    if sheet.case_id is not None:
        # Lock the case too (posting the licence and archiving the case lock it first, and neither locks a
        # printed sheet): a spoil and a posting or archiving of the same case happen one after the other.
        sheet.case = RegistrationCase.objects.select_for_update(of=("self",)).get(pk=sheet.case_id)
    refusal = licence_spoil_refusal(sheet)
    if refusal is not None:
        raise LicenceError(refusal)
    _retire(sheet, status=LicenceSheet.Status.SPOILED, actor=actor, reason=reason)
    if not reprint or sheet.case is None:
        return None
    try:
        with transaction.atomic():
            replacement = _print_on_next_blank(case=sheet.case, kind=sheet.kind, actor=actor)
    except LicenceStockEmpty:
        return None
    sheet.replaced_by = replacement
    sheet.save(update_fields=["replaced_by"])
    return replacement


@transaction.atomic
def licence_void(*, sheet: LicenceSheet, actor, reason: str) -> LicenceSheet:
    """Void a sheet: a blank lost or damaged in stock, or a printed licence withdrawn (e.g. returned)."""
    reason = _reason(reason)
    sheet = _locked(sheet)
    if sheet.status not in (LicenceSheet.Status.BLANK, LicenceSheet.Status.PRINTED):
        raise LicenceError(
            _("编号 %(serial)s 已是“%(status)s”，不能再作废。")
            % {"serial": sheet.serial, "status": sheet.get_status_display()}
        )
    _retire(sheet, status=LicenceSheet.Status.VOIDED, actor=actor, reason=reason)
    return sheet


# --- reorder levels ------------------------------------------------------------------------------------


@transaction.atomic
def licence_reorder_level_set(
    *, authority: Authority, kind: str, reorder_level: int, actor
) -> LicenceStockSetting:
    if kind not in LicenceKind.values:
        raise ValidationError({"kind": [_("请选择执照类型（正本或副本）。")]})
    try:
        level = int(reorder_level)
    except (TypeError, ValueError):
        raise ValidationError({"reorder_level": [_("预警线应为整数（张）。")]}) from None
    if level < 0 or level > 1_000_000:
        raise ValidationError({"reorder_level": [_("预警线应在 0 至 1000000 张之间。")]})
    settings_row = LicenceStockSetting.objects.select_for_update().filter(authority=authority, kind=kind)
    setting = settings_row.first()
    if setting is None:
        setting = LicenceStockSetting(authority=authority, kind=kind, reorder_level=level)
        setting._history_user = actor
        try:
            with transaction.atomic():
                setting.save()
            return setting
        except IntegrityError:  # another manager created it at the same moment: update theirs
            setting = settings_row.get()
    setting.reorder_level = level
    setting._history_user = actor
    setting.save()
    return setting
