"""Writes of the enterprise register. Every change goes through here, with its actor, in a transaction.

Validation of a register entry lives in one place (`clean_enterprise_data`) and is used by the create/edit
forms, the REST API and the Excel import alike; the import only loads what validation needs from the
database in bulk (RegisterLookups) instead of row by row.

History (django-simple-history) records the actor explicitly (`instance._history_user`), so changes made
from commands, Celery tasks and imports are attributed as well as those made in a request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from bizreg.core import services as core_services
from bizreg.core.identifiers import (
    USCC_EXCEPTION_ELIGIBLE_CODES,
    normalize_uscc,
    validate_resident_id,
    validate_uscc,
)
from bizreg.core.models import Authority, BackgroundJob
from bizreg.enterprises import rules
from bizreg.enterprises.models import (
    Enterprise,
    EnterpriseFormerName,
    EnterpriseLock,
    EnterprisePerson,
    EnterpriseStatus,
    EntityType,
    FtzAddressRule,
    IndustrySection,
    PersonRole,
    RegistrationRescission,
    RescissionScope,
    Street,
    UsccException,
)

DUPLICATE_USCC_MESSAGE = N_("该统一社会信用代码已登记。")
CONFIRM_EXCEPTION_PERM = "enterprises.confirm_uscc_exception"
IMPORT_JOB_KIND = "enterprises.import"
FTZ_RECOMPUTE_JOB_KIND = "enterprises.ftz_recompute"

# The fields of a register entry staff (and other modules) supply; the rest is derived here.
INPUT_FIELDS = (
    "uscc",
    "name",
    "entity_type",
    "legal_rep_name",
    "legal_rep_id_number",
    "registered_capital",
    "established_on",
    "business_scope",
    "industry",
    "address",
    "street",
    "status",
    "status_changed_on",
    "ftz_override",
    "ftz_override_reason",
)
MAX_CAPITAL_YUAN = Decimal("9999999999999999.99")  # max_digits=18, decimal_places=2
EARLIEST_DATE = dt.date(1900, 1, 1)


class EnterpriseError(Exception):
    """An operation on the register was refused; the message (Chinese) is meant for staff."""


class EnterpriseLockedError(EnterpriseError):
    def __init__(self, lock: EnterpriseLock):
        self.lock = lock
        when = timezone.localtime(lock.locked_at).strftime("%Y-%m-%d %H:%M")
        case = _("（关联案件 %(case)s）") % {"case": lock.case_reference} if lock.case_reference else ""
        super().__init__(
            _("该商事主体已于 %(when)s 被锁定%(case)s，原因：%(reason)s。锁定期间不能办理。")
            % {"when": when, "case": case, "reason": lock.reason}
        )


class AlreadyLockedError(EnterpriseLockedError):
    def __init__(self, lock: EnterpriseLock):
        super().__init__(lock)
        when = timezone.localtime(lock.locked_at).strftime("%Y-%m-%d %H:%M")
        self.args = (
            _("该商事主体已被 %(user)s 于 %(when)s 锁定，原因：%(reason)s。请先解锁。")
            % {"user": lock.locked_by, "when": when, "reason": lock.reason},
        )


class NotLockedError(EnterpriseError):
    pass


# --- lookups: what validation needs from the database ---------------------------------------------------


def division_prefix(code: str) -> str:
    """The part of a division code an authority covers: 440115 → 440115, 440100 → 4401, 440000 → 44."""
    prefix = code or ""
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return prefix


def streets_for_authority(authority: Authority):
    return Street.objects.filter(division_code__startswith=division_prefix(authority.division_code))


def active_ftz_rules(authority: Authority) -> list[rules.FtzRuleView]:
    return [
        rules.FtzRuleView(
            id=r["id"],
            area_name=r["area_name"],
            street_id=r["street_id"],
            address_keyword=r["address_keyword"],
            priority=r["priority"],
        )
        for r in FtzAddressRule.objects.filter(authority=authority, is_active=True).values(
            "id", "area_name", "street_id", "address_keyword", "priority"
        )
    ]


@dataclass
class RegisterLookups:
    """Streets, FTZ rules, taken codes and recorded exceptions for validating entries of one authority.

    A form loads it per request and asks the database about single codes; an import preloads the codes
    of the whole file in a few queries (`preload`).
    """

    authority: Authority
    streets: dict[int, Street]
    ftz_rules: list[rules.FtzRuleView]
    taken: set[str] | None = None
    exceptions: dict[str, UsccException] | None = None

    @classmethod
    def load(cls, authority: Authority) -> RegisterLookups:
        return cls(
            authority=authority,
            streets={s.pk: s for s in streets_for_authority(authority)},
            ftz_rules=active_ftz_rules(authority),
        )

    def preload(self, usccs: Iterable[str]) -> None:
        codes = sorted({normalize_uscc(u) for u in usccs if u})
        self.taken, self.exceptions = set(), {}
        for i in range(0, len(codes), 500):
            chunk = codes[i : i + 500]
            self.taken.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", flat=True))
            for exc in UsccException.objects.filter(uscc__in=chunk, authority=self.authority):
                self.exceptions[exc.uscc] = exc

    def uscc_taken(self, uscc: str, exclude_pk: int | None = None) -> bool:
        if self.taken is not None and exclude_pk is None:
            return uscc in self.taken
        qs = Enterprise.objects.filter(uscc=uscc)
        if exclude_pk is not None:
            qs = qs.exclude(pk=exclude_pk)
        return qs.exists()

    def uscc_exception(self, uscc: str) -> UsccException | None:
        if self.exceptions is not None:
            return self.exceptions.get(uscc)
        return UsccException.objects.filter(uscc=uscc, authority=self.authority).first()


# --- validation -----------------------------------------------------------------------------------------


@dataclass
class CleanedEnterprise:
    values: dict[str, Any]  # model attribute → value, derived fields included
    exception_to_record: tuple[str, str] | None = None  # (failed check, reason) confirmed in this request
    errors: dict[str, list[str]] = field(default_factory=dict)


def ftz_state(
    address: str, street_id: int | None, override: bool | None, ftz_rules: Iterable[rules.FtzRuleView]
) -> tuple[bool, str, int | None]:
    """(in_ftz, area, matched rule id): the address rules decide unless staff overrode them."""
    rule = rules.match_ftz_rule(address, street_id, ftz_rules)
    in_ftz = bool(override) if override is not None else rule is not None
    area = rule.area_name if (rule is not None and in_ftz) else ""
    return in_ftz, area, (rule.id if rule is not None else None)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _as_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def _as_bool_or_none(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "是", "yes"):
        return True
    if text in ("0", "false", "否", "no"):
        return False
    raise ValueError(text)


def clean_enterprise_data(
    data: Mapping[str, Any],
    *,
    lookups: RegisterLookups,
    actor,
    instance: Enterprise | None = None,
    uscc_exception_reason: str = "",
    raise_errors: bool = True,
) -> CleanedEnterprise:
    """Validate a new entry (`instance` None, all fields) or changes to one (only the given fields).

    Raises ValidationError({field: [message]}) naming every failed rule, or returns the errors in the
    result when `raise_errors` is False (the import reports them per row).
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    creating = instance is None
    exception_to_record = None

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def given(name: str) -> bool:
        return creating or name in data

    def current(name: str) -> Any:
        if name in values:
            return values[name]
        return getattr(instance, name) if instance is not None else None

    # USCC: validated when new or changed; a check-digit-only failure needs a recorded exception.
    if given("uscc"):
        uscc = normalize_uscc(data.get("uscc"))
        if creating or uscc != instance.uscc:
            is_exception = False
            try:
                validate_uscc(uscc)
            except ValidationError as exc:
                message = exc.messages[0]
                if exc.code in USCC_EXCEPTION_ELIGIBLE_CODES:
                    reason = _text(uscc_exception_reason)
                    if lookups.uscc_exception(uscc) is not None:
                        is_exception = True
                    elif reason and actor is not None and actor.has_perm(CONFIRM_EXCEPTION_PERM):
                        if len(reason) > 300:
                            err("uscc_exception_reason", _("确认理由不能超过 300 个字。"))
                        else:
                            exception_to_record = (exc.code, reason)
                            is_exception = True
                    elif reason:
                        err("uscc", message + _("只有科室负责人可以确认校验例外。"))
                    else:
                        err(
                            "uscc",
                            message
                            + _("如该代码确为早期试点地区合法核发，须经科室负责人登记校验例外后方可录入。"),
                        )
                else:
                    err("uscc", message)
            if "uscc" not in errors and lookups.uscc_taken(
                uscc, exclude_pk=instance.pk if instance is not None else None
            ):
                err("uscc", _(DUPLICATE_USCC_MESSAGE))
            values["uscc"] = uscc
            values["uscc_is_exception"] = is_exception

    for name, label, max_length in (
        ("name", N_("名称"), 200),
        ("legal_rep_name", N_("法定代表人/负责人姓名"), 50),
        ("address", N_("住所"), 300),
    ):
        if given(name):
            text = _text(data.get(name))
            if not text:
                err(name, _("请填写%(label)s。") % {"label": _(label)})
            elif len(text) > max_length:
                err(
                    name,
                    _("%(label)s不能超过 %(max)d 个字，当前 %(length)d 个字。")
                    % {"label": _(label), "max": max_length, "length": len(text)},
                )
            values[name] = text

    if given("business_scope"):
        text = _text(data.get("business_scope"))
        if len(text) > 5000:
            err("business_scope", _("经营范围不能超过 5000 个字。"))
        values["business_scope"] = text

    for name, label, choices in (
        ("entity_type", N_("主体类型"), EntityType),
        ("industry", N_("行业门类"), IndustrySection),
    ):
        if given(name):
            value = _text(data.get(name))
            if not value:
                err(name, _("请选择%(label)s。") % {"label": _(label)})
            elif value not in choices.values:
                err(name, _("%(label)s“%(value)s”无效。") % {"label": _(label), "value": value})
            values[name] = value

    if given("status") or creating:
        value = _text(data.get("status")) or EnterpriseStatus.ACTIVE
        if value not in EnterpriseStatus.values:
            err("status", _("登记状态“%(value)s”无效。") % {"value": value})
        elif value == EnterpriseStatus.RESCINDED and (instance is None or instance.status != value):
            err("status", _("“撤销登记”只能依据撤销决定办理，不能直接修改登记状态。"))
        values["status"] = value

    if given("legal_rep_id_number"):
        raw = _text(data.get("legal_rep_id_number"))
        if raw or creating:
            try:
                values["legal_rep_id_number"] = validate_resident_id(raw)
            except ValidationError as exc:
                err("legal_rep_id_number", exc.messages[0])

    if given("registered_capital"):
        value = data.get("registered_capital")
        if value in (None, ""):
            values["registered_capital"] = None
        else:
            try:
                amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
                if not amount.is_finite():
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                err("registered_capital", _("注册资本应为数字。"))
            else:
                if amount < 0:
                    err("registered_capital", _("注册资本不能为负数。"))
                elif amount > MAX_CAPITAL_YUAN:
                    err("registered_capital", _("注册资本数额过大。"))
                else:
                    values["registered_capital"] = amount.quantize(Decimal("0.01"))

    today = timezone.localdate()
    for name, label, required in (
        ("established_on", N_("成立日期"), True),
        ("status_changed_on", N_("状态变更日期"), False),
    ):
        if given(name):
            try:
                value = _as_date(data.get(name))
            except (TypeError, ValueError):
                err(name, _("%(label)s不是有效日期（应为 YYYY-MM-DD）。") % {"label": _(label)})
                continue
            if value is None:
                if required:
                    err(name, _("请填写%(label)s。") % {"label": _(label)})
            elif value > today:
                err(name, _("%(label)s不能晚于今天。") % {"label": _(label)})
            elif value < EARLIEST_DATE:
                err(name, _("%(label)s不能早于 1900 年。") % {"label": _(label)})
            values[name] = value
    established = current("established_on")
    changed_on = current("status_changed_on")
    if established and changed_on and changed_on < established and "status_changed_on" not in errors:
        err("status_changed_on", _("状态变更日期不能早于成立日期。"))

    if given("street"):
        raw = data.get("street")
        street_id = raw.pk if isinstance(raw, Street) else raw
        try:
            street_id = int(street_id) if street_id not in (None, "") else None
        except (TypeError, ValueError):
            street_id = None
        if street_id is None:
            err("street", _("请选择街道/镇。"))
        elif street_id not in lookups.streets:
            err("street", _("所选街道/镇不在本登记机关辖区内。"))
        values["street_id"] = street_id

    if given("ftz_override") or given("ftz_override_reason"):
        try:
            override = _as_bool_or_none(data.get("ftz_override", current("ftz_override")))
        except ValueError:
            err("ftz_override", _("自贸区人工认定应为“是”“否”或留空。"))
            override = None
        reason = _text(data.get("ftz_override_reason", current("ftz_override_reason")))
        if override is None:
            reason = ""
        elif not reason:
            err("ftz_override_reason", _("人工认定自贸区须填写理由。"))
        elif len(reason) > 200:
            err("ftz_override_reason", _("人工认定理由不能超过 200 个字。"))
        values["ftz_override"] = override
        values["ftz_override_reason"] = reason

    if "name" in values:
        values["name_initials"] = rules.name_initials(values["name"])
    if "address" in values:
        values["address_key"] = rules.address_key(values["address"])
    street_id = values.get("street_id", instance.street_id if instance is not None else None)
    in_ftz, area, rule_id = ftz_state(
        current("address") or "", street_id, current("ftz_override"), lookups.ftz_rules
    )
    values.update(in_ftz=in_ftz, ftz_area=area, ftz_rule_id=rule_id)

    if errors and raise_errors:
        raise ValidationError(errors)
    return CleanedEnterprise(values=values, exception_to_record=exception_to_record, errors=errors)


def build_enterprise(cleaned: CleanedEnterprise, *, authority: Authority) -> Enterprise:
    enterprise = Enterprise(authority=authority)
    for name, value in cleaned.values.items():
        setattr(enterprise, name, value)
    return enterprise


def _record_exception(
    *, authority: Authority, actor, uscc: str, failed_check: str, reason: str
) -> UsccException:
    record = UsccException(
        authority=authority, uscc=uscc, failed_check=failed_check, reason=reason, confirmed_by=actor
    )
    record._history_user = actor
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        raise ValidationError({"uscc": [_("该代码已登记校验例外。")]}) from None
    return record


def _save_guarding_duplicate(enterprise: Enterprise) -> None:
    """Save; a concurrent insert of the same code surfaces as the same field error as a sequential one."""
    try:
        with transaction.atomic():
            enterprise.save()
    except IntegrityError:
        if Enterprise.objects.filter(uscc=enterprise.uscc).exclude(pk=enterprise.pk).exists():
            raise ValidationError({"uscc": [_(DUPLICATE_USCC_MESSAGE)]}) from None
        raise


# --- register entries -----------------------------------------------------------------------------------


def enterprise_create(
    *,
    actor,
    authority: Authority,
    uscc: str,
    name: str,
    entity_type: str,
    legal_rep_name: str,
    legal_rep_id_number: str,
    established_on: dt.date,
    industry: str,
    address: str,
    street: Street | int,
    registered_capital: Decimal | None = None,
    business_scope: str = "",
    status: str = EnterpriseStatus.ACTIVE,
    status_changed_on: dt.date | None = None,
    ftz_override: bool | None = None,
    ftz_override_reason: str = "",
    uscc_exception_reason: str = "",
    change_reason: str = "",
) -> Enterprise:
    """Register a new enterprise; raises ValidationError({field: [message]}) on bad input or a taken code.

    `uscc_exception_reason` lets a user holding enterprises.confirm_uscc_exception accept a code whose only
    fault is the check digit, recording the UsccException in the same transaction.
    """
    data = {
        "uscc": uscc,
        "name": name,
        "entity_type": entity_type,
        "legal_rep_name": legal_rep_name,
        "legal_rep_id_number": legal_rep_id_number,
        "registered_capital": registered_capital,
        "established_on": established_on,
        "business_scope": business_scope,
        "industry": industry,
        "address": address,
        "street": street,
        "status": status,
        "status_changed_on": status_changed_on,
        "ftz_override": ftz_override,
        "ftz_override_reason": ftz_override_reason,
    }
    lookups = RegisterLookups.load(authority)
    cleaned = clean_enterprise_data(
        data, lookups=lookups, actor=actor, uscc_exception_reason=uscc_exception_reason
    )
    with transaction.atomic():
        if cleaned.exception_to_record is not None:
            failed_check, reason = cleaned.exception_to_record
            _record_exception(
                authority=authority,
                actor=actor,
                uscc=cleaned.values["uscc"],
                failed_check=failed_check,
                reason=reason,
            )
        enterprise = build_enterprise(cleaned, authority=authority)
        if enterprise.status != EnterpriseStatus.ACTIVE and enterprise.status_changed_on is None:
            enterprise.status_changed_on = timezone.localdate()
        enterprise._history_user = actor
        enterprise._change_reason = change_reason or _("登记")
        _save_guarding_duplicate(enterprise)
        _legal_rep_start(enterprise=enterprise, actor=actor, started_on=enterprise.established_on)
    return enterprise


def enterprise_update(
    *,
    enterprise: Enterprise,
    actor,
    case_reference: str | None = None,
    renamed_on: dt.date | None = None,
    change_reason: str = "",
    uscc_exception_reason: str = "",
    **changes: Any,
) -> Enterprise:
    """Change fields of an entry (keyword per field of INPUT_FIELDS) and return the saved row.

    A locked enterprise can be changed only on behalf of the lock's own case (`case_reference`). A new
    name keeps the old one as a former name; a new status sets status_changed_on (today unless given).
    A blank legal_rep_id_number keeps the recorded one.
    """
    unknown = set(changes) - set(INPUT_FIELDS)
    if unknown:
        raise TypeError(f"enterprise_update() got unknown fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        row = Enterprise.objects.select_for_update().select_related("authority").get(pk=enterprise.pk)
        enterprise_assert_unlocked(enterprise=row, case_reference=case_reference)
        lookups = RegisterLookups.load(row.authority)
        cleaned = clean_enterprise_data(
            changes, lookups=lookups, actor=actor, instance=row, uscc_exception_reason=uscc_exception_reason
        )
        values = cleaned.values
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if "status" in changed and "status_changed_on" not in changes:
            changed["status_changed_on"] = timezone.localdate()
        if not changed:
            return row
        old_name = row.name
        if cleaned.exception_to_record is not None:
            failed_check, reason = cleaned.exception_to_record
            _record_exception(
                authority=row.authority,
                actor=actor,
                uscc=values["uscc"],
                failed_check=failed_check,
                reason=reason,
            )
        for name, value in changed.items():
            setattr(row, name, value)
        row._history_user = actor
        row._change_reason = change_reason or (
            _("变更") if not case_reference else _("变更（案件 %(case)s）") % {"case": case_reference}
        )
        _save_guarding_duplicate(row)
        if "legal_rep_name" in changed or "legal_rep_id_number" in changed:
            _legal_rep_follow(enterprise=row, actor=actor, reason=row._change_reason)
        if "name" in changed:
            former = EnterpriseFormerName(
                enterprise=row, name=old_name, used_until=renamed_on or timezone.localdate()
            )
            former._history_user = actor
            former.save()
    return row


# --- locks ----------------------------------------------------------------------------------------------


def enterprise_lock_state(enterprise: Enterprise) -> EnterpriseLock | None:
    """The active lock of an enterprise, or None. Other modules call this before acting on an enterprise."""
    return (
        EnterpriseLock.objects.filter(enterprise=enterprise, released_at__isnull=True)
        .select_related("locked_by")
        .first()
    )


def enterprise_assert_unlocked(*, enterprise: Enterprise, case_reference: str | None = None) -> None:
    """Raise EnterpriseLockedError (its message gives when and why) unless the enterprise is free.

    The case the lock names (e.g. the identity-misuse case that locked it) may still act on it.
    """
    lock = enterprise_lock_state(enterprise)
    if lock is None:
        return
    if case_reference and lock.case_reference and case_reference.strip() == lock.case_reference:
        return
    raise EnterpriseLockedError(lock)


def _require_text(value: str, *, name: str, label: str, max_length: int, required: bool = True) -> str:
    text = _text(value)
    if required and not text:
        raise ValidationError({name: [_("请填写%(label)s。") % {"label": _(label)}]})
    if len(text) > max_length:
        raise ValidationError(
            {name: [_("%(label)s不能超过 %(max)d 个字。") % {"label": _(label), "max": max_length}]}
        )
    return text


@transaction.atomic
def enterprise_lock(
    *, enterprise: Enterprise, actor, reason: str, case_reference: str = ""
) -> EnterpriseLock:
    """Lock an enterprise (one active lock at a time); AlreadyLockedError names the existing lock."""
    reason = _require_text(reason, name="reason", label=N_("锁定原因"), max_length=300)
    case_reference = _require_text(
        case_reference, name="case_reference", label=N_("关联案件"), max_length=100, required=False
    )
    # Serializes two clerks locking the same enterprise; the partial unique index backs this up.
    Enterprise.objects.select_for_update().filter(pk=enterprise.pk).exists()
    existing = enterprise_lock_state(enterprise)
    if existing is not None:
        raise AlreadyLockedError(existing)
    lock = EnterpriseLock(
        enterprise=enterprise,
        locked_by=actor,
        locked_at=timezone.now(),
        reason=reason,
        case_reference=case_reference,
    )
    lock._history_user = actor
    try:
        with transaction.atomic():
            lock.save()
    except IntegrityError:
        existing = enterprise_lock_state(enterprise)
        if existing is not None:
            raise AlreadyLockedError(existing) from None
        raise
    return lock


@transaction.atomic
def enterprise_unlock(*, enterprise: Enterprise, actor, reason: str) -> EnterpriseLock:
    reason = _require_text(reason, name="reason", label=N_("解锁原因"), max_length=300)
    lock = (
        EnterpriseLock.objects.select_for_update()
        .filter(enterprise=enterprise, released_at__isnull=True)
        .first()
    )
    if lock is None:
        raise NotLockedError(_("该商事主体当前未被锁定。"))
    lock.released_by = actor
    lock.released_at = timezone.now()
    lock.release_reason = reason
    lock._history_user = actor
    lock.save()
    return lock


# --- USCC exceptions ------------------------------------------------------------------------------------


@transaction.atomic
def uscc_exception_confirm(*, authority: Authority, actor, uscc: str, reason: str) -> UsccException:
    """A manager records that a code failing only its check digit was legally issued (early pilot regions)."""
    if not actor.has_perm(CONFIRM_EXCEPTION_PERM):
        raise PermissionDenied(_("只有科室负责人可以确认统一社会信用代码校验例外。"))
    number = normalize_uscc(uscc)
    reason = _text(reason)
    errors: dict[str, list[str]] = {}
    failed_check = ""
    try:
        validate_uscc(number)
    except ValidationError as exc:
        if exc.code not in USCC_EXCEPTION_ELIGIBLE_CODES:
            errors["uscc"] = [exc.messages[0] + _("只有仅第 18 位校验码不符的代码可以登记例外。")]
        else:
            failed_check = exc.code
    else:
        errors["uscc"] = [_("该代码校验通过，无需登记例外。")]
    if not reason:
        errors["reason"] = [_("请填写确认理由（如核发文件、试点地区说明）。")]
    elif len(reason) > 300:
        errors["reason"] = [_("确认理由不能超过 300 个字。")]
    if "uscc" not in errors and UsccException.objects.filter(uscc=number).exists():
        errors["uscc"] = [_("该代码已登记校验例外。")]
    if errors:
        raise ValidationError(errors)
    return _record_exception(
        authority=authority, actor=actor, uscc=number, failed_check=failed_check, reason=reason
    )


# --- FTZ rules ------------------------------------------------------------------------------------------


@transaction.atomic
def ftz_rule_save(*, rule: FtzAddressRule, actor) -> BackgroundJob:
    """Create or change an address rule, then recompute the authority's tags in the background."""
    rule.address_keyword = _text(rule.address_keyword)
    rule.area_name = _text(rule.area_name)
    rule.full_clean()
    if (
        rule.street_id is not None
        and not streets_for_authority(rule.authority).filter(pk=rule.street_id).exists()
    ):
        raise ValidationError({"street": [_("所选街道/镇不在本登记机关辖区内。")]})
    rule._history_user = actor
    rule.save()
    return ftz_recompute_submit(authority=rule.authority, actor=actor)


@transaction.atomic
def ftz_rule_delete(*, rule: FtzAddressRule, actor) -> BackgroundJob:
    authority = rule.authority
    rule._history_user = actor
    rule.delete()
    return ftz_recompute_submit(authority=authority, actor=actor)


def ftz_recompute_submit(*, authority: Authority, actor) -> BackgroundJob:
    return core_services.job_submit(authority=authority, kind=FTZ_RECOMPUTE_JOB_KIND, actor=actor)


def ftz_rules_recompute(
    *, authority: Authority, actor=None, progress: Callable[[int, int], None] | None = None
) -> int:
    """Re-apply the active address rules to every enterprise of the authority; returns how many changed.

    One pass over narrow rows finds the changes; only changed rows are loaded and bulk-updated, each
    with a history row.
    """
    from simple_history.utils import bulk_update_with_history

    ftz_rules = active_ftz_rules(authority)
    rows = Enterprise.objects.filter(authority=authority).values_list(
        "id", "address", "street_id", "ftz_override", "in_ftz", "ftz_area", "ftz_rule_id"
    )
    total = rows.count()
    changes: dict[int, tuple[bool, str, int | None]] = {}
    for done, (pk, address, street_id, override, in_ftz, area, rule_id) in enumerate(
        rows.order_by().iterator(chunk_size=5000), start=1
    ):
        state = ftz_state(address, street_id, override, ftz_rules)
        if state != (in_ftz, area, rule_id):
            changes[pk] = state
        if progress is not None and done % 5000 == 0:
            progress(done, total)
    ids = sorted(changes)
    for i in range(0, len(ids), 1000):
        with transaction.atomic():
            batch = list(Enterprise.objects.filter(pk__in=ids[i : i + 1000]))
            for enterprise in batch:
                enterprise.in_ftz, enterprise.ftz_area, enterprise.ftz_rule_id = changes[enterprise.pk]
            bulk_update_with_history(
                batch,
                Enterprise,
                ["in_ftz", "ftz_area", "ftz_rule", "updated_at"],
                batch_size=500,
                default_user=actor,
                default_change_reason=_("自贸区地址规则调整后重新判定"),
            )
    if progress is not None:
        progress(total, total)
    return len(ids)


# --- Excel import ---------------------------------------------------------------------------------------


def enterprise_import_submit(*, authority: Authority, actor, upload, good_rows_only: bool) -> BackgroundJob:
    """Check the uploaded file (type, size, columns) now, then import it in the background.

    Raises ValidationError({"file": [message]}) for a file that cannot be imported at all; nothing is
    written then.
    """
    from bizreg.enterprises import excel

    excel.check_upload(upload)
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return core_services.job_submit(
        authority=authority,
        kind=IMPORT_JOB_KIND,
        actor=actor,
        parameters={"good_rows_only": bool(good_rows_only), "filename": getattr(upload, "name", "")[:200]},
        input_file=upload,
        sha256=digest.hexdigest(),
    )


def enterprise_import_execute(*, job: BackgroundJob, progress: Callable[[int, int], None]) -> dict:
    """Validate every row of the job's file and write the entries: all or nothing unless good_rows_only.

    Rows go through clean_enterprise_data like the form; the writes are bulk inserts with history rows,
    in one transaction. Safe to run again: a job whose rows were already written reports them instead.
    """
    from bizreg.core.jobs import JobError
    from bizreg.enterprises import excel

    actor = job.created_by
    authority = job.authority
    good_rows_only = bool(job.parameters.get("good_rows_only"))
    change_reason = f"Excel 导入（任务 #{job.pk}）"  # not translated: a rerun finds its rows by it

    already = Enterprise.history.filter(history_type="+", history_change_reason=change_reason).count()
    if already:
        return {"imported": already, "rejected": False, "errors": [], "note": _("该任务此前已完成写入。")}

    lookups = RegisterLookups.load(authority)
    streets_by_name = {street.name: street.pk for street in lookups.streets.values()}
    with job.input_file.open("rb") as fh:
        try:
            parsed = excel.read_import_rows(fh, streets=streets_by_name)
        except excel.ImportFileError as exc:
            raise JobError(str(exc)) from None
    total = len(parsed.rows)
    progress(0, total)

    lookups.preload(row.data.get("uscc", "") for row in parsed.rows)
    row_errors: list[dict] = []
    good: list[Enterprise] = []
    seen: dict[str, int] = {}
    for done, row in enumerate(parsed.rows, start=1):
        errors = dict(row.errors)
        cleaned = clean_enterprise_data(row.data, lookups=lookups, actor=actor, raise_errors=False)
        for name, messages in cleaned.errors.items():
            if name not in errors:
                errors[name] = messages
        uscc = cleaned.values.get("uscc")
        if uscc and "uscc" not in errors:
            if uscc in seen:
                errors["uscc"] = [_("与第 %(row)d 行的统一社会信用代码重复。") % {"row": seen[uscc]}]
            else:
                seen[uscc] = row.number
        if errors:
            for name, messages in errors.items():
                for message in messages:
                    row_errors.append(
                        {"row": row.number, "column": excel.column_label(name), "message": message}
                    )
        else:
            good.append(build_enterprise(cleaned, authority=authority))
        if done % 500 == 0:
            progress(done, total)
    progress(total, total)

    bad_rows = len({e["row"] for e in row_errors})
    result = {
        "total": total,
        "good_rows_only": good_rows_only,
        "bad_rows": bad_rows,
        "errors": row_errors[:10000],
        "errors_truncated": len(row_errors) > 10000,
    }
    if not total:
        raise JobError(_("文件中没有数据行。"))
    if bad_rows and not good_rows_only:
        return {**result, "imported": 0, "rejected": True}

    try:
        with transaction.atomic():
            created = Enterprise.objects.bulk_create(good, batch_size=500)
            Enterprise.history.bulk_history_create(
                created, batch_size=500, default_user=actor, default_change_reason=change_reason
            )
            persons = EnterprisePerson.objects.bulk_create(
                [_legal_rep_row(e, started_on=e.established_on) for e in created], batch_size=500
            )
            EnterprisePerson.history.bulk_history_create(
                persons, batch_size=500, default_user=actor, default_change_reason=change_reason
            )
    except IntegrityError:
        raise JobError(
            _("写入时发现有统一社会信用代码已被他人同时登记，本次未写入任何数据，请点击“重试”重新校验。")
        ) from None
    return {**result, "imported": len(created), "rejected": False}


# --- person-roles (登记的人员事项) -------------------------------------------------------------------------

PERSON_ITEM_PREFIX = "person:"
# Register items a partial revocation may name besides person-role entries. Revoking one is recorded
# with the decision (the register keeps its history); the person-role entries are also ended.
RESCINDABLE_FIELDS = {
    "name": N_("名称"),
    "address": N_("住所"),
    "registered_capital": N_("注册资本"),
    "business_scope": N_("经营范围"),
    "entity_type": N_("主体类型"),
}
MAX_SHARE_RATIO = Decimal("100")


def _legal_rep_row(enterprise: Enterprise, *, started_on: dt.date) -> EnterprisePerson:
    return EnterprisePerson(
        enterprise=enterprise,
        role=PersonRole.LEGAL_REP,
        name=enterprise.legal_rep_name,
        id_number=enterprise.legal_rep_id_number,
        address_key="",
        started_on=started_on,
    )


def _save_person(person: EnterprisePerson, *, actor, reason: str) -> None:
    person._history_user = actor
    person._change_reason = reason
    person.save()


def _legal_rep_start(
    *, enterprise: Enterprise, actor, started_on: dt.date, reason: str = ""
) -> EnterprisePerson:
    person = _legal_rep_row(enterprise, started_on=started_on)
    _save_person(person, actor=actor, reason=reason or _("登记"))
    return person


def _legal_rep_follow(*, enterprise: Enterprise, actor, reason: str) -> None:
    """Keep the legal representative's person-role in step with the register entry just saved.

    A new ID number is a new legal representative: the current row ends today and a new one starts.
    The same ID number under another name is a correction of that row.
    """
    today = timezone.localdate()
    current = list(
        EnterprisePerson.objects.select_for_update().filter(
            enterprise=enterprise, role=PersonRole.LEGAL_REP, ended_on__isnull=True
        )
    )
    same = [p for p in current if p.id_number == enterprise.legal_rep_id_number]
    for person in current:
        if person in same:
            if person.name != enterprise.legal_rep_name:
                person.name = enterprise.legal_rep_name
                _save_person(person, actor=actor, reason=reason)
            continue
        person.ended_on = max(today, person.started_on)
        person.end_reason = _("变更法定代表人")
        _save_person(person, actor=actor, reason=reason)
    if not same:
        _legal_rep_start(enterprise=enterprise, actor=actor, started_on=today, reason=reason)


def _clean_day(
    value: Any, *, name: str, label: str, not_before: dt.date | None, errors: dict
) -> dt.date | None:
    try:
        day = _as_date(value)
    except (TypeError, ValueError):
        errors[name] = [_("%(label)s不是有效日期（应为 YYYY-MM-DD）。") % {"label": _(label)}]
        return None
    if day is None:
        return None
    if day > timezone.localdate():
        errors[name] = [_("%(label)s不能晚于今天。") % {"label": _(label)}]
    elif not_before is not None and day < not_before:
        errors[name] = [_("%(label)s不能早于 %(day)s。") % {"label": _(label), "day": not_before.isoformat()}]
    return day


@transaction.atomic
def enterprise_person_add(
    *,
    enterprise: Enterprise,
    actor,
    role: str,
    name: str,
    id_number: str,
    phone: str = "",
    address: str = "",
    share_ratio: Decimal | str | None = None,
    started_on: dt.date | str | None = None,
    case_reference: str | None = None,
    reason: str = "",
) -> EnterprisePerson:
    """Record a person in a role of the enterprise (shareholder, director, liaison, agent …).

    The legal representative is changed through enterprise_update (it is a field of the register entry);
    a person already current in the same role is refused. Raises ValidationError({field: [message]}).
    """
    row = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    enterprise_assert_unlocked(enterprise=row, case_reference=case_reference)
    errors: dict[str, list[str]] = {}
    role = _text(role)
    if role not in PersonRole.values:
        errors["role"] = [_("职务/身份“%(value)s”无效。") % {"value": role}]
    elif role == PersonRole.LEGAL_REP:
        errors["role"] = [_("法定代表人须通过变更登记修改，不能在此添加。")]
    name = _text(name)
    if not name:
        errors["name"] = [_("请填写姓名。")]
    elif len(name) > 50:
        errors["name"] = [_("姓名不能超过 50 个字。")]
    try:
        id_number = validate_resident_id(id_number)
    except ValidationError as exc:
        errors["id_number"] = [exc.messages[0]]
    phone_digits = rules.normalize_phone(phone)
    if _text(phone) and not 7 <= len(phone_digits) <= 15:
        errors["phone"] = [_("联系电话应为 7–15 位数字（可含区号、空格或“-”）。")]
    address = _text(address)
    if len(address) > 300:
        errors["address"] = [_("住所/联系地址不能超过 300 个字。")]
    ratio = None
    if share_ratio not in (None, ""):
        try:
            ratio = share_ratio if isinstance(share_ratio, Decimal) else Decimal(str(share_ratio).strip())
            if not ratio.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["share_ratio"] = [_("持股比例应为数字。")]
        else:
            if role != PersonRole.SHAREHOLDER:
                errors["share_ratio"] = [_("只有股东可以填写持股比例。")]
            elif not Decimal("0") < ratio <= MAX_SHARE_RATIO:
                errors["share_ratio"] = [_("持股比例应大于 0 且不超过 100。")]
            ratio = ratio.quantize(Decimal("0.01"))
    started = _clean_day(
        started_on, name="started_on", label=N_("任职/登记日期"), not_before=row.established_on, errors=errors
    )
    if (
        not errors
        and EnterprisePerson.objects.filter(
            enterprise=row, role=role, id_number=id_number, ended_on__isnull=True
        ).exists()
    ):
        errors["id_number"] = [_("该人员已是本企业现任%(role)s。") % {"role": PersonRole(role).label}]
    if errors:
        raise ValidationError(errors)
    person = EnterprisePerson(
        enterprise=row,
        role=role,
        name=name,
        id_number=id_number,
        phone=phone_digits,
        address=address,
        share_ratio=ratio,
        started_on=started or timezone.localdate(),
    )
    _save_person(person, actor=actor, reason=reason or _("登记人员"))
    return person


@transaction.atomic
def enterprise_person_end(
    *,
    person: EnterprisePerson,
    actor,
    ended_on: dt.date | str | None = None,
    reason: str = "",
    case_reference: str | None = None,
) -> EnterprisePerson:
    """End a person's role (resignation, share transfer …); the row stays as the register's record."""
    row = EnterprisePerson.objects.select_for_update().select_related("enterprise").get(pk=person.pk)
    enterprise_assert_unlocked(enterprise=row.enterprise, case_reference=case_reference)
    if row.ended_on is not None:
        raise EnterpriseError(
            _("该人员的%(role)s身份已于 %(day)s 终止。")
            % {"role": row.get_role_display(), "day": row.ended_on.isoformat()}
        )
    if row.role == PersonRole.LEGAL_REP:
        raise EnterpriseError(_("法定代表人须通过变更登记更换，不能直接终止。"))
    errors: dict[str, list[str]] = {}
    day = _clean_day(
        ended_on, name="ended_on", label=N_("终止日期"), not_before=row.started_on, errors=errors
    )
    reason = _text(reason)
    if len(reason) > 300:
        errors["reason"] = [_("终止原因不能超过 300 个字。")]
    if errors:
        raise ValidationError(errors)
    row.ended_on = day or max(timezone.localdate(), row.started_on)
    row.end_reason = reason
    _save_person(row, actor=actor, reason=reason or _("终止人员身份"))
    return row


# --- revocation (撤销登记) after an identity-misuse decision ----------------------------------------------


def _rescission_items(
    enterprise: Enterprise, items: Iterable[str]
) -> tuple[list[EnterprisePerson], list[str]]:
    """The person-role rows to end and the labels to record for the items a decision names.

    An item is a person-role entry ("person:<id>"), a role ("legal_rep", "shareholder" …: its current
    holders) or a register item of RESCINDABLE_FIELDS. Unknown or already-ended items are refused.
    """
    current = {
        p.pk: p
        for p in EnterprisePerson.objects.select_for_update().filter(
            enterprise=enterprise, ended_on__isnull=True
        )
    }
    to_end: dict[int, EnterprisePerson] = {}
    labels: list[str] = []
    bad: list[str] = []
    for raw in items:
        item = _text(raw)
        if item.startswith(PERSON_ITEM_PREFIX):
            try:
                person = current.get(int(item[len(PERSON_ITEM_PREFIX) :]))
            except ValueError:
                person = None
            if person is None:
                bad.append(_("“%(item)s”不是本企业现任的登记人员") % {"item": item})
                continue
            to_end[person.pk] = person
            labels.append(f"{person.get_role_display()} {person.name}")
        elif item in PersonRole.values:
            holders = [p for p in current.values() if p.role == item]
            if not holders:
                bad.append(_("本企业没有现任%(role)s") % {"role": PersonRole(item).label})
                continue
            for person in holders:
                to_end[person.pk] = person
                labels.append(f"{person.get_role_display()} {person.name}")
        elif item in RESCINDABLE_FIELDS:
            labels.append(str(_(RESCINDABLE_FIELDS[item])))
        else:
            bad.append(_("“%(item)s”不是可撤销的登记事项") % {"item": item})
    if bad:
        raise ValidationError({"items": ["；".join(bad) + "。"]})
    return list(to_end.values()), list(dict.fromkeys(labels))


@transaction.atomic
def enterprise_rescind(
    *,
    enterprise: Enterprise,
    actor,
    scope: str,
    items: list[str],
    decision_reference: str,
    decided_on: dt.date,
    reason: str,
) -> RegistrationRescission:
    """Apply a revocation decision (撤销登记, 条例 art. 40) to the register.

    scope "all": the registration is revoked — status 撤销登记 from the decision date, an active lock
    released with the decision reference as its reason. scope "items": the named items are revoked —
    their person-role entries end on the decision date with the decision reference. Either way a
    RegistrationRescission records the decision. An enterprise already revoked as a whole is refused.
    """
    row = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if row.status == EnterpriseStatus.RESCINDED:
        raise EnterpriseError(
            _("该商事主体已于 %(day)s 被撤销登记，不能再次撤销。")
            % {"day": row.status_changed_on.isoformat() if row.status_changed_on else "—"}
        )
    errors: dict[str, list[str]] = {}
    scope = _text(scope)
    items = [i for i in (items or []) if _text(i)]
    if scope not in RescissionScope.values:
        errors["scope"] = [_("撤销范围应为“全部”或“部分事项”。")]
    elif scope == RescissionScope.ALL and items:
        errors["items"] = [_("撤销全部登记时不应再列举事项。")]
    elif scope == RescissionScope.ITEMS and not items:
        errors["items"] = [_("撤销部分登记事项时请列明撤销的事项。")]
    reference = _text(decision_reference)
    if not reference:
        errors["decision_reference"] = [_("请填写撤销决定书文号。")]
    elif len(reference) > 100:
        errors["decision_reference"] = [_("决定文号不能超过 100 个字。")]
    reason = _text(reason)
    if not reason:
        errors["reason"] = [_("请填写撤销理由。")]
    elif len(reason) > 300:
        errors["reason"] = [_("撤销理由不能超过 300 个字。")]
    day = _clean_day(
        decided_on, name="decided_on", label=N_("决定日期"), not_before=row.established_on, errors=errors
    )
    if day is None and "decided_on" not in errors:
        errors["decided_on"] = [_("请填写决定日期。")]
    to_end: list[EnterprisePerson] = []
    labels: list[str] = []
    if scope == RescissionScope.ITEMS and items and "items" not in errors:
        try:
            to_end, labels = _rescission_items(row, items)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    change_reason = _("撤销登记（%(ref)s）") % {"ref": reference}
    if scope == RescissionScope.ALL:
        row.status = EnterpriseStatus.RESCINDED
        row.status_changed_on = day
        row._history_user = actor
        row._change_reason = change_reason
        row.save()
        lock = (
            EnterpriseLock.objects.select_for_update()
            .filter(enterprise=row, released_at__isnull=True)
            .first()
        )
        if lock is not None:
            lock.released_by = actor
            lock.released_at = timezone.now()
            lock.release_reason = change_reason
            lock._history_user = actor
            lock.save()
        labels = [str(RescissionScope.ALL.label)]
    for person in to_end:
        person.ended_on = max(day, person.started_on)
        person.end_reason = change_reason
        _save_person(person, actor=actor, reason=change_reason)
    record = RegistrationRescission(
        enterprise=row,
        scope=scope,
        items=labels,
        decision_reference=reference,
        decided_on=day,
        reason=reason,
        actor=actor,
    )
    record._history_user = actor
    record._change_reason = change_reason
    record.save()
    return record
