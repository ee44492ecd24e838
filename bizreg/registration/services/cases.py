"""Registration cases: intake, the declared workflow (models.CASE_WORKFLOW), the statutory clock and the
effects of an approval on the register.

Every write is here, keyword-only, with its actor. A transition checks the role and the state, locks the
case row, checks the state again inside the transaction (two clerks acting at once: one wins, the other is
told who was faster), changes the case, records a CaseTransitionLog row and issues the documents the step
produces (受理通知书, 一次性告知书, 准予…登记通知书, 不予登记通知书, 迁移调档函) and the licences — all in one
transaction, so a refusal anywhere leaves nothing changed.

Refusals: TransitionNotAllowed (HTTP 409) for a state or precondition that does not allow the step,
PermissionDenied (403) for a role that may not take it, ValidationError (400) for bad input; every message
is Chinese and names the reason.

Statutory clock (市场主体登记管理条例 art. 19, 实施细则 art. 18): registered on the spot, or within 3
working days of acceptance; one extension of 3 working days approved by the head, with a written notice.
Returns for correction (一次性告知) happen before acceptance, so the time a case spends with the applicant
never runs on the clock; `case_working_days` still leaves out any pause inside the clock's window.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from bizreg.core import intake_checks
from bizreg.core import services as core_services
from bizreg.core.identifiers import (
    build_uscc,
    normalize_resident_id,
    normalize_uscc,
    random_org_body,
    validate_resident_id,
    validate_uscc,
)
from bizreg.core.models import Authority
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.core.workdays import CalendarDataMissing, add_working_days, working_days_between
from bizreg.enterprises import selectors as enterprise_selectors
from bizreg.enterprises import services as enterprise_services
from bizreg.enterprises.models import Enterprise, EnterpriseStatus, EntityType
from bizreg.registration.models import (
    CASE_WORKFLOW,
    CaseDeficiency,
    CaseExtension,
    CaseMaterial,
    CaseNumberCounter,
    CasePause,
    CaseState,
    CaseTransitionLog,
    CaseType,
    Channel,
    LicenceKind,
    MaterialRequirement,
    NoticeKind,
    RegistrationCase,
)

logger = logging.getLogger(__name__)

STATUTORY_WORKING_DAYS = 3
EXTENSION_WORKING_DAYS = 3
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
# A case may be entered a little after it was received, never for a moment that has not come yet.
CLOCK_SKEW = dt.timedelta(minutes=5)

# Case types acting on an enterprise already in this authority's register.
EXISTING_ENTERPRISE_TYPES = frozenset(
    {
        CaseType.CHANGE,
        CaseType.DEREGISTRATION,
        CaseType.SIMPLE_DEREGISTRATION,
        CaseType.FILING,
        CaseType.MIGRATION_OUT,
    }
)
# Case types that put a new entry into the register on approval.
NEW_ENTERPRISE_TYPES = frozenset({CaseType.ESTABLISHMENT, CaseType.MIGRATION_IN})
DEREGISTRATION_TYPES = frozenset({CaseType.DEREGISTRATION, CaseType.SIMPLE_DEREGISTRATION})
# An enterprise whose licence was revoked (吊销) has been dissolved but not yet wound up: it still files its
# liquidation group (清算组备案) and applies for 注销 (普通). Every other case needs one in business (存续).
REVOKED_MAY_FILE = frozenset({CaseType.DEREGISTRATION, CaseType.FILING})


def enterprise_statuses_for(case_type: str) -> frozenset[str]:
    """The register statuses an enterprise may have for a case of `case_type` to be received."""
    if case_type in REVOKED_MAY_FILE:
        return frozenset({EnterpriseStatus.ACTIVE, EnterpriseStatus.REVOKED})
    return frozenset({EnterpriseStatus.ACTIVE})


# The register fields a change case may ask for (keys of requested_changes, as in enterprises.services).
CHANGE_FIELDS = (
    "name",
    "entity_type",
    "legal_rep_name",
    "legal_rep_id_number",
    "registered_capital",
    "business_scope",
    "industry",
    "address",
    "street",
)
# What a business licence shows: a change of any of these needs a new licence (正本 and 副本).
LICENCE_CONTENT_FIELDS = frozenset(
    {"name", "entity_type", "legal_rep_name", "registered_capital", "business_scope", "address"}
)
# The data of a new register entry (establishment, migration in), besides the name and the USCC.
NEW_ENTERPRISE_FIELDS = (
    "entity_type",
    "legal_rep_name",
    "legal_rep_id_number",
    "registered_capital",
    "business_scope",
    "industry",
    "address",
    "street",
)
REQUESTED_CHANGE_LABELS = {
    "name": "名称",
    "entity_type": "主体类型",
    "legal_rep_name": "法定代表人/负责人",
    "legal_rep_id_number": "法定代表人身份证号",
    "registered_capital": "注册资本",
    "business_scope": "经营范围",
    "industry": "行业门类",
    "address": "住所",
    "street": "街道/镇",
    "established_on": "原成立日期",
    "origin_authority": "迁出地登记机关",
    "destination_authority": "迁入地登记机关",
    "destination_address": "迁入地址",
    "filing_items": "备案事项",
}

APPROVAL_NOTICE = {
    CaseType.ESTABLISHMENT: NoticeKind.APPROVAL_ESTABLISHMENT,
    CaseType.CHANGE: NoticeKind.APPROVAL_CHANGE,
    CaseType.FILING: NoticeKind.APPROVAL_CHANGE,
    CaseType.MIGRATION_IN: NoticeKind.APPROVAL_CHANGE,
    CaseType.DEREGISTRATION: NoticeKind.APPROVAL_DEREGISTRATION,
    CaseType.SIMPLE_DEREGISTRATION: NoticeKind.APPROVAL_DEREGISTRATION,
    # The letter to the receiving authority is what a migration out produces (迁移调档函).
    CaseType.MIGRATION_OUT: NoticeKind.MIGRATION_LETTER,
}

# Transitions after which an online applicant is contacted (records.follow_up_open_for).
FOLLOW_UP_ACTIONS = frozenset({"return_for_correction", "reject", "withdraw"})
ONLINE_CHANNELS = frozenset({Channel.ONE_STOP_ONLINE, Channel.FULL_ELECTRONIC})
# States in which a case's documents no longer change (besides 已核准 for the types that print no licence).
COMPLETE_STATES = frozenset({CaseState.LICENSED, CaseState.ARCHIVED, CaseState.REJECTED, CaseState.WITHDRAWN})
# A born-digital (online) case's documents enter the e-archive when the case is complete. The archives app
# registers the runner of this job kind (archives/jobs.py); registration knows only the key, as the
# performance module knows metric keys, so it never imports archives (which reads registration).
ARCHIVE_INGEST_JOB_KIND = "archives.born_digital_ingest"


# --- rules shared with the selectors ----------------------------------------------------------------------


def case_needs_licence(case: RegistrationCase) -> bool:
    """Whether approving this case prints a business licence (正本 and 副本)."""
    if case.case_type in NEW_ENTERPRISE_TYPES:
        return True
    if case.case_type == CaseType.CHANGE:
        return bool(LICENCE_CONTENT_FIELDS & set(case.requested_changes or {}))
    return False


def case_is_complete(case: RegistrationCase) -> bool:
    """Whether the case is done with: 已发照, 已归档, 不予登记, 已撤回, or 已核准 with no licence to print."""
    if case.state in COMPLETE_STATES:
        return True
    return case.state == CaseState.APPROVED and not case_needs_licence(case)


def action_refusal(case: RegistrationCase, action: str) -> str | None:
    """Why a workflow step that the state allows does not apply to this case's type, or None."""
    if action == "issue_licence" and not case_needs_licence(case):
        return _("该业务类型（%(type)s）不换发营业执照，核准后直接归档。") % {
            "type": case.get_case_type_display()
        }
    if action == "archive" and case.state == CaseState.APPROVED and case_needs_licence(case):
        return _("该业务核准后须先发照，才能归档。")
    return None


def local_date(value: dt.datetime | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def case_working_days(case: RegistrationCase, *, as_of: dt.date | None = None) -> int | None:
    """Working days from acceptance to decision (or to `as_of`/today while undecided), without the working
    days of any pause inside that span; None for a case not yet accepted.

    Uses `case.pauses.all()`, so prefetch the pauses when computing this for many cases.
    """
    if case.accepted_at is None:
        return None
    start = local_date(case.accepted_at)
    end = local_date(case.decided_at) if case.decided_at else (as_of or timezone.localdate())
    if end <= start:
        return 0
    used = working_days_between(start, end)
    for pause in case.pauses.all():
        pause_end = min(pause.ended_on or end, end)
        pause_start = max(pause.started_on, start)
        if pause_end > pause_start:
            used -= working_days_between(pause_start, pause_end)
    return max(used, 0)


def _record_decision_clock(case: RegistrationCase, today: dt.date) -> None:
    """Keep on the case what its decision took (working days, on time or not) for the metrics."""
    case.processing_working_days = case_working_days(case)
    case.decided_on_time = case.due_on is None or today <= case.due_on


def case_allowed_working_days(case: RegistrationCase) -> int:
    return STATUTORY_WORKING_DAYS + (EXTENSION_WORKING_DAYS if case.extended else 0)


# --- intake ---------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def validate_mobile_phone(value: Any) -> str:
    phone = "".join(_text(value).split()).replace("-", "")
    if not phone:
        raise ValidationError(_("请填写手机号码。"), code="phone_required")
    if not PHONE_RE.match(phone):
        raise ValidationError(
            _("手机号码应为 11 位数字、以 1 开头且第二位为 3–9，当前为“%(value)s”。")
            % {"value": _text(value)[:20]},
            code="phone_format",
        )
    return phone


def _as_received_at(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(9, 0))
    else:
        moment = parse_datetime(_text(value))
        if moment is None:
            raise ValueError(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class _Errors(dict):
    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(str(message))


def _resolve_enterprise(data: Mapping, *, actor, errors: _Errors) -> Enterprise | None:
    """The register entry the case acts on, among those the clerk may see (by pk or by USCC)."""
    visible = enterprise_selectors.enterprises_visible_to(actor)
    raw = data.get("enterprise")
    if isinstance(raw, Enterprise):
        raw = raw.pk
    if raw not in (None, ""):
        try:
            enterprise = visible.filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            enterprise = None
        if enterprise is None:
            errors.add("enterprise", _("没有找到该商事主体。"))
        return enterprise
    code = normalize_uscc(data.get("enterprise_uscc"))
    if not code:
        errors.add(
            "enterprise_uscc", _("请填写办理该业务的商事主体的统一社会信用代码（或从查询结果中选择）。")
        )
        return None
    enterprise = visible.filter(uscc=code).first()
    if enterprise is None:
        errors.add(
            "enterprise_uscc",
            _("本登记机关的登记簿中没有统一社会信用代码为 %(uscc)s 的商事主体。") % {"uscc": code},
        )
    return enterprise


def _clean_person(data: Mapping, prefix: str, label: str, *, required: bool, errors: _Errors) -> dict:
    name = _text(data.get(f"{prefix}_name"))
    id_number = _text(data.get(f"{prefix}_id_number"))
    phone = _text(data.get(f"{prefix}_phone"))
    if not required and not (name or id_number or phone):
        return {f"{prefix}_name": "", f"{prefix}_id_number": "", f"{prefix}_phone": ""}
    cleaned = {f"{prefix}_name": name, f"{prefix}_id_number": "", f"{prefix}_phone": ""}
    if not name:
        errors.add(f"{prefix}_name", _("请填写%(label)s姓名。") % {"label": label})
    elif len(name) > 50:
        errors.add(f"{prefix}_name", _("%(label)s姓名不能超过 50 个字。") % {"label": label})
    try:
        cleaned[f"{prefix}_id_number"] = validate_resident_id(id_number)
    except ValidationError as exc:
        errors.add(f"{prefix}_id_number", f"{label}：{exc.messages[0]}")
    try:
        cleaned[f"{prefix}_phone"] = validate_mobile_phone(phone)
    except ValidationError as exc:
        errors.add(f"{prefix}_phone", f"{label}：{exc.messages[0]}")
    return cleaned


def _jsonable(name: str, value: Any) -> Any:
    if name == "street_id":
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _clean_new_enterprise(
    *,
    case_type: str,
    name: str,
    uscc: str,
    changes: Mapping,
    lookups: enterprise_services.RegisterLookups,
    actor,
    errors: _Errors,
) -> dict:
    """Validate the data of the entry an establishment or migration in will create, with the register's own
    rules (enterprises.services.clean_enterprise_data); returns requested_changes to store."""
    data = {key: changes.get(key) for key in NEW_ENTERPRISE_FIELDS}
    data["name"] = name
    data["uscc"] = uscc
    if case_type == CaseType.MIGRATION_IN:
        data["established_on"] = changes.get("established_on")
    else:
        data["established_on"] = timezone.localdate()
    cleaned = enterprise_services.clean_enterprise_data(
        data, lookups=lookups, actor=actor, raise_errors=False
    )
    for field, messages in cleaned.errors.items():
        if field == "uscc" or (field == "name" and not name):
            continue  # case_intake says these with the case's own wording
        target = "enterprise_name" if field == "name" else f"requested_changes.{field}"
        for message in messages:
            errors.add(target, message)
    stored: dict[str, Any] = {}
    for key in NEW_ENTERPRISE_FIELDS:
        attr = "street_id" if key == "street" else key
        if attr in cleaned.values and cleaned.values[attr] not in (None, ""):
            stored[key] = _jsonable(attr, cleaned.values[attr])
    if case_type == CaseType.MIGRATION_IN:
        if cleaned.values.get("established_on"):
            stored["established_on"] = cleaned.values["established_on"].isoformat()
        origin = _text(changes.get("origin_authority"))
        if len(origin) > 100:
            errors.add("requested_changes.origin_authority", _("迁出地登记机关不能超过 100 个字。"))
        if origin:
            stored["origin_authority"] = origin
    return stored


def _clean_change(
    *, enterprise: Enterprise, changes: Mapping, lookups: enterprise_services.RegisterLookups, actor, errors
) -> dict:
    given = {
        key: changes[key]
        for key in CHANGE_FIELDS
        if key in changes and changes[key] not in (None, "") and _text(changes[key]) != ""
    }
    if not given:
        errors.add("requested_changes", _("请至少填写一项申请变更的事项。"))
        return {}
    cleaned = enterprise_services.clean_enterprise_data(
        given, lookups=lookups, actor=actor, instance=enterprise, raise_errors=False
    )
    for field, messages in cleaned.errors.items():
        for message in messages:
            errors.add(f"requested_changes.{field}", message)
    stored: dict[str, Any] = {}
    for key in given:
        attr = "street_id" if key == "street" else key
        value = cleaned.values.get(attr)
        if value is None or getattr(enterprise, attr) == value:
            continue
        stored[key] = _jsonable(attr, value)
    if not cleaned.errors and not stored:
        errors.add("requested_changes", _("申请变更的事项与登记簿现有内容相同，无需变更。"))
    return stored


def _clean_materials(case_type: str, raw: Any, errors: _Errors) -> tuple[list[MaterialRequirement], set[int]]:
    """The active checklist of the case type and the ids of the items ticked as received."""
    checklist = list(MaterialRequirement.objects.filter(case_type=case_type, is_active=True))
    by_pk = {m.pk: m for m in checklist}
    by_code = {m.code: m for m in checklist}
    ticked: set[int] = set()
    if raw in (None, ""):
        return checklist, ticked
    if isinstance(raw, str | int | MaterialRequirement):
        raw = [raw]
    unknown = []
    for item in raw:
        if isinstance(item, MaterialRequirement):
            item = item.pk
        if isinstance(item, int) and not isinstance(item, bool):
            found = by_pk.get(item)
        else:
            found = by_code.get(_text(item))
        if found is None:
            unknown.append(_text(item))
        else:
            ticked.add(found.pk)
    if unknown:
        errors.add(
            "materials",
            _("以下材料不在该业务类型的材料清单中：%(items)s。") % {"items": "、".join(unknown)},
        )
    return checklist, ticked


def _counter_start(prefix: str) -> int:
    """The highest sequence already used under `prefix` (cases written by imports or the demo year)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    top = RegistrationCase.objects.filter(number__gte=prefix, number__lt=upper).aggregate(top=Max("number"))[
        "top"
    ]
    if not top or not top[len(prefix) :].isdigit():
        return 0
    return int(top[len(prefix) :])


def _counter_increment(authority: Authority, day: dt.date) -> int | None:
    """The day's counter after adding one, or None when the day has no counter row yet.

    One `UPDATE … RETURNING` statement (PostgreSQL, SQLite ≥ 3.35): outside a transaction it is its own
    short transaction, holding the row lock only for the statement — the same guarantee as an UPDATE and
    a SELECT inside BEGIN/COMMIT, in one round trip instead of four (measured on the intake path,
    bench/RESULTS.md).
    """
    meta = CaseNumberCounter._meta
    quote = connection.ops.quote_name
    column = quote(meta.get_field("last").column)
    authority_column, day_column = (quote(meta.get_field(name).column) for name in ("authority", "day"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {column} = {column} + 1 "
            f"WHERE {authority_column} = %s AND {day_column} = %s RETURNING {column}",
            [authority.pk, connection.ops.adapt_datefield_value(day)],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def next_case_number(*, authority: Authority, day: dt.date) -> str:
    """`{机关代码}{yyyymmdd}{序号:05d}`, unique per authority: the day's counter row is incremented by an
    UPDATE, which holds its row lock until its (short) transaction commits."""
    prefix = f"{authority.code}{day:%Y%m%d}"
    last = _counter_increment(authority, day)
    if last is None:
        try:
            with transaction.atomic():
                created = CaseNumberCounter.objects.create(
                    authority=authority, day=day, last=_counter_start(prefix) + 1
                )
            last = created.last
        except IntegrityError:  # another clerk opened the day's counter first
            last = _counter_increment(authority, day)
    return f"{prefix}{last:05d}"


@dataclass(frozen=True)
class _IntakeValues:
    """What the intake checks made of the submitted data, ready to be written."""

    case_type: str
    channel: str
    person: dict[str, str]
    reference: str
    external_id: str
    received_at: dt.datetime
    enterprise: Enterprise | None
    enterprise_name: str
    uscc: str
    stored_changes: dict[str, Any]
    checklist: list[MaterialRequirement]
    ticked: set[int]


def case_intake_problems(*, authority: Authority, actor, data: Mapping) -> ValidationError | None:
    """Every problem case_intake would name in `data`, without writing anything. The intake page asks for
    them when its own form already refused a field (a negative capital, say), so that the clerk sees the
    malformed ID, the missing materials and the rest in the same answer, not one round at a time."""
    try:
        _checked_intake(authority=authority, actor=actor, data=data)
    except ValidationError as exc:
        return exc
    return None


def _checked_intake(*, authority: Authority, actor, data: Mapping) -> _IntakeValues:
    if not actor.has_perm("registration.add_registrationcase"):
        raise PermissionDenied(_("您的角色无权受理登记业务。"))
    errors = _Errors()
    case_type = _text(data.get("case_type"))
    if not case_type:
        errors.add("case_type", _("请选择业务类型。"))
    elif case_type not in CaseType.values:
        errors.add("case_type", _("业务类型“%(value)s”无效。") % {"value": case_type[:30]})
        case_type = ""
    channel = _text(data.get("channel"))
    if not channel:
        errors.add("channel", _("请选择办理渠道。"))
    elif channel not in Channel.values:
        errors.add("channel", _("办理渠道“%(value)s”无效。") % {"value": channel[:30]})

    person = _clean_person(data, "applicant", _("申请人"), required=True, errors=errors)
    person |= _clean_person(data, "agent", _("代理人"), required=False, errors=errors)
    reference = _text(data.get("investigation_reference"))
    if len(reference) > 100:
        errors.add("investigation_reference", _("关联调查案件编号不能超过 100 个字。"))
    external_id = _text(data.get("external_id"))
    if len(external_id) > 64:
        errors.add("external_id", _("一网通办申请号不能超过 64 个字符。"))
    elif (
        external_id and RegistrationCase.objects.filter(authority=authority, external_id=external_id).exists()
    ):
        errors.add("external_id", _("一网通办申请号 %(id)s 已登记，不能重复受理。") % {"id": external_id})

    now = timezone.now()
    received_at = now
    if data.get("received_at") not in (None, ""):
        try:
            received_at = _as_received_at(data.get("received_at"))
        except (TypeError, ValueError):
            errors.add("received_at", _("收件时间不是有效的日期时间。"))
        else:
            if received_at > now + CLOCK_SKEW:
                errors.add("received_at", _("收件时间不能晚于现在。"))

    changes = data.get("requested_changes") or {}
    if not isinstance(changes, Mapping):
        errors.add("requested_changes", _("申请事项格式错误：应为“事项: 内容”的对象。"))
        changes = {}
    unknown = set(changes) - set(REQUESTED_CHANGE_LABELS)
    if unknown:
        errors.add(
            "requested_changes",
            _("申请事项中有无法识别的项目：%(keys)s。") % {"keys": "、".join(sorted(map(str, unknown)))},
        )
    # Other apps' refusals of a person (e.g. the 3-year list after an identity-misuse revocation), through
    # core's registry: registration does not import those apps. A new legal representative is refused
    # like the applicant (a person on the list may not be registered as one either).
    new_rep_id = normalize_resident_id(changes.get("legal_rep_id_number") or "")
    if len(new_rep_id) != 18:
        new_rep_id = ""  # a malformed number is refused by the register's own validation
    people = [
        ("applicant_id_number", _("申请人"), person["applicant_id_number"]),
        ("agent_id_number", _("代理人"), person["agent_id_number"]),
        ("requested_changes.legal_rep_id_number", _("法定代表人"), new_rep_id),
    ]
    refusals = intake_checks.run_many(number for _field, _label, number in people)
    for field, label, number in people:
        for message in refusals.get(normalize_resident_id(number), []) if number else ():
            errors.add(field, f"{label}：{message}")

    enterprise: Enterprise | None = None
    enterprise_name = _text(data.get("enterprise_name"))
    uscc = normalize_uscc(data.get("uscc"))
    stored_changes: dict[str, Any] = {}
    lookups = enterprise_services.RegisterLookups.load(authority) if case_type else None

    if case_type in EXISTING_ENTERPRISE_TYPES:
        enterprise = _resolve_enterprise(data, actor=actor, errors=errors)
        if enterprise is not None:
            if enterprise.authority_id != authority.pk:
                errors.add("enterprise", _("该商事主体不属于本登记机关。"))
            elif enterprise.status not in enterprise_statuses_for(case_type):
                errors.add(
                    "enterprise",
                    _("该商事主体登记状态为“%(status)s”，不能办理%(type)s业务。")
                    % {"status": enterprise.get_status_display(), "type": CaseType(case_type).label},
                )
            else:
                try:
                    enterprise_services.enterprise_assert_unlocked(
                        enterprise=enterprise, case_reference=reference
                    )
                except enterprise_services.EnterpriseLockedError as exc:
                    errors.add("enterprise", str(exc))
            enterprise_name = enterprise.name
            uscc = enterprise.uscc
        if case_type == CaseType.CHANGE and enterprise is not None:
            stored_changes = _clean_change(
                enterprise=enterprise, changes=changes, lookups=lookups, actor=actor, errors=errors
            )
        elif case_type == CaseType.FILING:
            items = _text(changes.get("filing_items"))
            if not items:
                errors.add(
                    "requested_changes.filing_items", _("请填写备案事项（如章程、董事/监事/经理、联络员）。")
                )
            elif len(items) > 300:
                errors.add("requested_changes.filing_items", _("备案事项不能超过 300 个字。"))
            stored_changes = {"filing_items": items}
        elif case_type == CaseType.MIGRATION_OUT:
            destination = _text(changes.get("destination_authority"))
            if not destination:
                errors.add("requested_changes.destination_authority", _("请填写迁入地登记机关。"))
            elif len(destination) > 100:
                errors.add("requested_changes.destination_authority", _("迁入地登记机关不能超过 100 个字。"))
            address = _text(changes.get("destination_address"))
            if len(address) > 300:
                errors.add("requested_changes.destination_address", _("迁入地址不能超过 300 个字。"))
            stored_changes = {"destination_authority": destination}
            if address:
                stored_changes["destination_address"] = address
    elif case_type in NEW_ENTERPRISE_TYPES:
        if not enterprise_name:
            errors.add("enterprise_name", _("请填写拟设立（迁入）企业的名称。"))
        if uscc:
            try:
                uscc = validate_uscc(uscc)
            except ValidationError as exc:
                errors.add("uscc", exc.messages[0])
            else:
                if lookups.uscc_taken(uscc):
                    errors.add("uscc", _("该统一社会信用代码已登记，不能再用于设立或迁入。"))
        elif case_type == CaseType.MIGRATION_IN:
            errors.add("uscc", _("迁入企业须填写其原有的统一社会信用代码。"))
        stored_changes = _clean_new_enterprise(
            case_type=case_type,
            name=enterprise_name,
            uscc=uscc,
            changes=changes,
            lookups=lookups,
            actor=actor,
            errors=errors,
        )

    checklist, ticked = (
        _clean_materials(case_type, data.get("materials"), errors) if case_type else ([], set())
    )
    if errors:
        raise ValidationError(dict(errors))
    return _IntakeValues(
        case_type=case_type,
        channel=channel,
        person=person,
        reference=reference,
        external_id=external_id,
        received_at=received_at,
        enterprise=enterprise,
        enterprise_name=enterprise_name,
        uscc=uscc,
        stored_changes=stored_changes,
        checklist=checklist,
        ticked=ticked,
    )


def case_intake(*, authority: Authority, actor, data: Mapping) -> RegistrationCase:
    """Register a case received at the window, online or by mail, with its materials checklist.

    `data` keys: case_type, channel, enterprise (pk) or enterprise_uscc (an entry of the register, for
    change, deregistration, filing, migration out), enterprise_name (new name: establishment, migration
    in), uscc (optional pre-assigned code of an establishment; the existing code of a migration in),
    applicant_name/_id_number/_phone, agent_name/_id_number/_phone (optional, all or none),
    materials (codes or ids of the checklist items received), requested_changes (dict: see
    REQUESTED_CHANGE_LABELS), investigation_reference, external_id, received_at (default now).

    Raises ValidationError({field: [message]}) naming every problem; a locked enterprise is refused with
    the lock's reason unless investigation_reference is the lock's own case.
    """
    intake = _checked_intake(authority=authority, actor=actor, data=data)
    number = next_case_number(authority=authority, day=timezone.localdate(intake.received_at))
    case = RegistrationCase(
        authority=authority,
        number=number,
        external_id=intake.external_id,
        case_type=intake.case_type,
        channel=intake.channel,
        state=CaseState.RECEIVED,
        enterprise=intake.enterprise,
        enterprise_name=intake.enterprise_name,
        uscc=intake.uscc,
        requested_changes=intake.stored_changes,
        investigation_reference=intake.reference,
        received_at=intake.received_at,
        received_by=actor,
        **intake.person,
    )
    case._history_user = actor
    try:
        with transaction.atomic():
            case.save()
            CaseMaterial.objects.bulk_create(
                CaseMaterial(case=case, requirement=item, received=item.pk in intake.ticked)
                for item in intake.checklist
            )
    except IntegrityError:
        if (
            intake.external_id
            and RegistrationCase.objects.filter(authority=authority, external_id=intake.external_id).exists()
        ):
            raise ValidationError(
                {
                    "external_id": [
                        _("一网通办申请号 %(id)s 已登记，不能重复受理。") % {"id": intake.external_id}
                    ]
                }
            ) from None
        raise
    return case


def case_materials_update(*, case: RegistrationCase, actor, received: Iterable[int]) -> RegistrationCase:
    """Set which checklist items have been received (the ticked set replaces the previous one)."""
    if not actor.has_perm("registration.change_registrationcase"):
        raise PermissionDenied(_("您的角色无权修改申请材料。"))
    ticked = {int(pk) for pk in received}
    with transaction.atomic():
        locked = RegistrationCase.objects.select_for_update().get(pk=case.pk)
        if locked.state not in (CaseState.RECEIVED, CaseState.RETURNED):
            raise TransitionNotAllowed(
                _("当前状态为“%(state)s”，申请材料已确认，不能再修改。")
                % {"state": locked.get_state_display()}
            )
        materials = list(locked.materials.all())
        unknown = ticked - {m.requirement_id for m in materials}
        if unknown:
            raise ValidationError({"materials": [_("所选材料不在该业务的材料清单中。")]})
        changed = [m for m in materials if m.received != (m.requirement_id in ticked)]
        for material in changed:
            material.received = material.requirement_id in ticked
            material._history_user = actor
            material.save(update_fields=["received"])
    return locked


# --- transitions ----------------------------------------------------------------------------------------


def _missing_mandatory(case: RegistrationCase) -> list[str]:
    return [
        m.requirement.name
        for m in case.materials.select_related("requirement").order_by("requirement__order", "requirement_id")
        if m.requirement.mandatory and not m.received
    ]


def _clean_deficiencies(case: RegistrationCase, raw: Any) -> list[tuple[MaterialRequirement | None, str]]:
    """Every deficiency of a 一次性告知 return, as (checklist item or None, text)."""
    items = raw if isinstance(raw, list | tuple) else ([raw] if raw not in (None, "") else [])
    by_pk = {m.requirement_id: m.requirement for m in case.materials.select_related("requirement")}
    by_code = {r.code: r for r in by_pk.values()}
    cleaned: list[tuple[MaterialRequirement | None, str]] = []
    problems: list[str] = []
    for item in items:
        requirement = None
        if isinstance(item, Mapping):
            ref, text = item.get("requirement"), _text(item.get("description"))
            if ref not in (None, ""):
                if isinstance(ref, int) and not isinstance(ref, bool):
                    requirement = by_pk.get(ref)
                else:
                    requirement = by_code.get(_text(ref)) or (
                        by_pk.get(int(ref)) if _text(ref).isdigit() else None
                    )
                if requirement is None:
                    problems.append(_("材料“%(ref)s”不在该业务的材料清单中。") % {"ref": _text(ref)[:40]})
                    continue
        else:
            text = _text(item)
        if not text and requirement is not None:
            text = _("请补交或更正：%(name)s") % {"name": requirement.name}
        if not text:
            continue
        if len(text) > 300:
            problems.append(_("每项补正内容不能超过 300 个字。"))
            continue
        cleaned.append((requirement, text))
    if problems:
        raise ValidationError({"deficiencies": problems})
    if not cleaned:
        raise ValidationError({"deficiencies": [_("退回补正须一次性列明全部需要补正的事项，至少一项。")]})
    return cleaned


def _clean_transition_data(case: RegistrationCase, action: str, reason: str, data: Mapping) -> dict:
    allowed = {"return_for_correction": {"deficiencies"}, "resubmit": {"materials"}}.get(action, set())
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(
            {
                key: [_("“%(action)s”不接受该参数。") % {"action": CASE_WORKFLOW.transition(action).label}]
                for key in unknown
            }
        )
    if len(reason) > 1000:
        raise ValidationError({"reason": [_("理由/说明不能超过 1000 个字。")]})
    payload: dict[str, Any] = {}
    if action == "reject" and not reason:
        raise ValidationError({"reason": [_("不予登记须写明理由（将载入不予登记通知书）。")]})
    if action == "return_for_correction":
        payload["deficiencies"] = _clean_deficiencies(case, data.get("deficiencies"))
    if action == "resubmit":
        raw = data.get("materials") or []
        try:
            payload["materials"] = {int(pk) for pk in raw}
        except (TypeError, ValueError):
            raise ValidationError({"materials": [_("材料应以清单编号列出。")]}) from None
    return payload


def _notice(case: RegistrationCase, kind: str, actor, extra: dict | None = None):
    from bizreg.registration.services import documents

    try:
        return documents.notice_issue(case=case, kind=kind, actor=actor, extra=extra)
    except documents.NoticeError as exc:
        # Raised inside the transition's transaction: the step is refused and rolled back with its reason.
        raise TransitionNotAllowed(str(exc)) from None


def _close_open_pause(case: RegistrationCase, today: dt.date) -> None:
    pause = case.pauses.filter(ended_on__isnull=True).first()
    if pause is None:
        return
    pause.ended_on = today
    pause.save(update_fields=["ended_on"])
    case.paused_working_days += max(working_days_between(pause.started_on, today), 0)


def _generate_uscc(authority: Authority, entity_type: str, lookups) -> str:
    rng = random.SystemRandom()
    category = "2" if entity_type == EntityType.INDIVIDUAL_BUSINESS else "1"
    for _attempt in range(50):
        code = build_uscc(authority.division_code, random_org_body(rng), category=category)
        if not lookups.uscc_taken(code):
            return code
    raise TransitionNotAllowed(_("未能生成未被占用的统一社会信用代码，请稍后重试。"))


def _register_effects(case: RegistrationCase, actor, today: dt.date) -> dict:
    """Apply an approval to the register through enterprises.services; returns extra notice content."""
    changes = dict(case.requested_changes or {})
    reason = _("%(type)s登记（业务 %(number)s）") % {
        "type": case.get_case_type_display(),
        "number": case.number,
    }
    reference = case.investigation_reference or None
    try:
        if case.case_type in NEW_ENTERPRISE_TYPES:
            lookups = enterprise_services.RegisterLookups.load(case.authority)
            uscc = case.uscc or _generate_uscc(case.authority, changes.get("entity_type", ""), lookups)
            established = changes.get("established_on") if case.case_type == CaseType.MIGRATION_IN else None
            enterprise = enterprise_services.enterprise_create(
                actor=actor,
                authority=case.authority,
                uscc=uscc,
                name=case.enterprise_name,
                entity_type=changes.get("entity_type", ""),
                legal_rep_name=changes.get("legal_rep_name", ""),
                legal_rep_id_number=changes.get("legal_rep_id_number", ""),
                established_on=dt.date.fromisoformat(established) if established else today,
                industry=changes.get("industry", ""),
                address=changes.get("address", ""),
                street=changes.get("street"),
                registered_capital=Decimal(changes["registered_capital"])
                if changes.get("registered_capital")
                else None,
                business_scope=changes.get("business_scope", ""),
                change_reason=reason,
            )
            case.enterprise = enterprise
            case.uscc = enterprise.uscc
            return {"uscc": enterprise.uscc}
        if case.enterprise_id is None:
            raise TransitionNotAllowed(_("该业务没有关联商事主体，无法核准。"))
        if case.enterprise.status not in enterprise_statuses_for(case.case_type):
            raise TransitionNotAllowed(
                _("该商事主体登记状态已为“%(status)s”，不能核准本业务。")
                % {"status": case.enterprise.get_status_display()}
            )
        if case.case_type == CaseType.CHANGE:
            kwargs = {k: v for k, v in changes.items() if k in CHANGE_FIELDS}
            if "registered_capital" in kwargs:
                kwargs["registered_capital"] = Decimal(kwargs["registered_capital"])
            before = case.enterprise
            enterprise = enterprise_services.enterprise_update(
                enterprise=case.enterprise,
                actor=actor,
                case_reference=reference,
                change_reason=reason,
                **kwargs,
            )
            case.enterprise = enterprise
            case.enterprise_name = enterprise.name
            return {
                "changes": [
                    [
                        REQUESTED_CHANGE_LABELS[k],
                        _display_value(k, getattr(before, "street_id" if k == "street" else k)),
                        _display_value(k, kwargs[k]),
                    ]
                    for k in kwargs
                ]
            }
        if case.case_type in DEREGISTRATION_TYPES:
            enterprise_services.enterprise_update(
                enterprise=case.enterprise,
                actor=actor,
                case_reference=reference,
                change_reason=reason,
                status=EnterpriseStatus.DEREGISTERED,
                status_changed_on=today,
            )
            return {}
        if case.case_type == CaseType.MIGRATION_OUT:
            enterprise_services.enterprise_update(
                enterprise=case.enterprise,
                actor=actor,
                case_reference=reference,
                change_reason=reason,
                status=EnterpriseStatus.MOVED_OUT,
                status_changed_on=today,
            )
            return {
                "destination_authority": changes.get("destination_authority", ""),
                "new_address": changes.get("destination_address", ""),
            }
        # 备案: recorded on the case only, nothing in the register changes.
        enterprise_services.enterprise_assert_unlocked(enterprise=case.enterprise, case_reference=reference)
        return {"filing_items": changes.get("filing_items", "")}
    except ValidationError as exc:
        raise TransitionNotAllowed(_("无法核准：%(errors)s") % {"errors": "；".join(exc.messages)}) from None
    except enterprise_services.EnterpriseError as exc:
        raise TransitionNotAllowed(str(exc)) from None


def _display_value(key: str, value: Any) -> str:
    if value in (None, ""):
        return ""
    if key == "legal_rep_id_number":
        from bizreg.core.masking import mask_id_number

        return mask_id_number(str(value))
    if key == "street":
        from bizreg.enterprises.models import Street

        street = Street.objects.filter(pk=value).first()
        return street.name if street else str(value)
    if key == "entity_type":
        return str(dict(EntityType.choices).get(value, value))
    return str(value)


def case_transition(
    *, case: RegistrationCase, action: str, actor, reason: str = "", **data: Any
) -> RegistrationCase:
    """Take one step of CASE_WORKFLOW and apply its effects; returns the updated case.

    Extra keyword data: return_for_correction takes `deficiencies` (list of texts or of
    {"requirement": id or code, "description": text}); resubmit takes `materials` (ids received now).
    """
    transition_ = CASE_WORKFLOW.transition(action)
    if transition_.permission and not actor.has_perm(transition_.permission):
        raise PermissionDenied(_("您的角色无权执行“%(action)s”。") % {"action": transition_.label})
    seen_state = case.state
    CASE_WORKFLOW.check(state=seen_state, action=action, user=actor)
    refusal = action_refusal(case, action)
    if refusal:
        raise TransitionNotAllowed(refusal)
    reason = _text(reason)
    payload = _clean_transition_data(case, action, reason, data)

    try:
        with transaction.atomic():
            locked = (
                RegistrationCase.objects.select_for_update(of=("self",))
                .select_related("authority", "enterprise")
                .get(pk=case.pk)
            )
            if locked.state != seen_state:
                raise TransitionNotAllowed(
                    _("该业务已被他人处理，当前状态为“%(state)s”，请刷新后再操作。")
                    % {"state": locked.get_state_display()}
                )
            CASE_WORKFLOW.check(state=locked.state, action=action, user=actor)
            now = timezone.now()
            today = timezone.localdate(now)
            from_state = locked.state
            locked.state = transition_.target
            documents = _apply(
                locked, action, actor=actor, now=now, today=today, reason=reason, payload=payload
            )
            locked._history_user = actor
            locked._change_reason = transition_.label
            locked.save()
            log_reason = reason
            if action == "return_for_correction" and not log_reason:
                log_reason = "；".join(text for _req, text in payload["deficiencies"])
            CaseTransitionLog.objects.create(
                case=locked,
                action=action,
                from_state=from_state,
                to_state=transition_.target,
                actor=actor,
                occurred_at=now,
                reason=log_reason,
            )
            documents()
            if action in FOLLOW_UP_ACTIONS and locked.channel in ONLINE_CHANNELS:
                case_pk = locked.pk
                transaction.on_commit(lambda: _open_follow_up(case_pk, actor))
            if locked.channel in ONLINE_CHANNELS and case_is_complete(locked):
                # Written with the step (so it cannot be lost), run by a worker once the step commits;
                # the ingest is idempotent, so the later step of a case (archive after licence) adds nothing.
                core_services.job_submit(
                    authority=locked.authority,
                    kind=ARCHIVE_INGEST_JOB_KIND,
                    actor=actor,
                    parameters={"case_id": locked.pk},
                )
    except CalendarDataMissing as exc:
        raise TransitionNotAllowed(str(exc)) from None
    return locked


def _open_follow_up(case_pk: int, actor) -> None:
    """After commit: the follow-up task of an online case (the follow-up page also finds cases without one,
    so a failure here is logged, never shown as a failed transition)."""
    from bizreg.registration.services import records

    try:
        records.follow_up_open_for(case=RegistrationCase.objects.get(pk=case_pk), actor=actor)
    except Exception:
        logger.exception("follow-up task for case %s not opened", case_pk)


def _apply(case: RegistrationCase, action: str, *, actor, now, today, reason: str, payload: dict):
    """Change the case for `action` (before it is saved); return the callable issuing its documents."""

    def nothing() -> None:
        return None

    if action == "pass_pre_review":
        missing = _missing_mandatory(case)
        if missing:
            raise TransitionNotAllowed(
                _("必交材料不齐全，不能通过预审。缺少：%(items)s。请补收材料，或退回补正一次性告知。")
                % {"items": "、".join(missing)}
            )
        return nothing

    if action == "return_for_correction":
        deficiencies = payload["deficiencies"]
        round_ = (case.deficiencies.aggregate(top=Max("round"))["top"] or 0) + 1
        CaseDeficiency.objects.bulk_create(
            CaseDeficiency(case=case, round=round_, requirement=req, description=text)
            for req, text in deficiencies
        )
        CasePause.objects.create(case=case, started_on=today)

        def documents() -> None:
            _notice(
                case,
                NoticeKind.CORRECTION,
                actor,
                {"round": round_, "deficiencies": [text for _req, text in deficiencies], "note": reason},
            )

        return documents

    if action == "resubmit":
        received = payload.get("materials") or set()
        if received:
            materials = list(case.materials.filter(requirement_id__in=received, received=False))
            if len(received - {m.requirement_id for m in case.materials.all()}):
                raise ValidationError({"materials": [_("所选材料不在该业务的材料清单中。")]})
            for material in materials:
                material.received = True
                material._history_user = actor
                material.save(update_fields=["received"])
        case.deficiencies.filter(resolved=False).update(resolved=True)
        _close_open_pause(case, today)
        return nothing

    if action == "accept":
        case.accepted_at = now
        case.due_on = add_working_days(today, STATUTORY_WORKING_DAYS)

        def documents() -> None:
            _notice(case, NoticeKind.ACCEPTANCE, actor, {"due_on": case.due_on.isoformat()})

        return documents

    if action == "approve":
        case.decided_at = now
        _record_decision_clock(case, today)
        case.on_the_spot = case.accepted_at is not None and local_date(case.accepted_at) == today
        extra = _register_effects(case, actor, today)

        def documents() -> None:
            _notice(case, APPROVAL_NOTICE[case.case_type], actor, extra)

        return documents

    if action == "reject":
        case.decided_at = now
        _record_decision_clock(case, today)

        def documents() -> None:
            _notice(case, NoticeKind.REJECTION, actor, {"reason": reason})

        return documents

    if action == "issue_licence":
        case.licensed_at = now

        def documents() -> None:
            from bizreg.registration.services import licences

            try:
                licences.licence_print(case=case, kind=LicenceKind.ORIGINAL, actor=actor)
                licences.licence_print(case=case, kind=LicenceKind.DUPLICATE, actor=actor)
            except licences.LicenceError as exc:  # LicenceStockEmpty among them: no blank sheet left
                raise TransitionNotAllowed(str(exc)) from None

        return documents

    if action == "archive":
        case.archived_at = now
        return nothing

    if action == "withdraw":
        _close_open_pause(case, today)
        return nothing

    raise TransitionNotAllowed(_("未知的操作：%(action)s") % {"action": action})


# --- extension of the statutory period -------------------------------------------------------------------


def _log(case: RegistrationCase, action: str, actor, now, reason: str) -> None:
    CaseTransitionLog.objects.create(
        case=case,
        action=action,
        from_state=case.state,
        to_state=case.state,
        actor=actor,
        occurred_at=now,
        reason=reason,
    )


def case_extension_request(*, case: RegistrationCase, actor, reason: str) -> CaseExtension:
    """A clerk asks the head to extend the period by 3 working days (only once, before it runs out)."""
    if not actor.has_perm("registration.review_case"):
        raise PermissionDenied(_("您的角色无权申请延长办理期限。"))
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": [_("请写明需要延长办理期限的理由。")]})
    if len(reason) > 300:
        raise ValidationError({"reason": [_("延长理由不能超过 300 个字。")]})
    with transaction.atomic():
        locked = RegistrationCase.objects.select_for_update().get(pk=case.pk)
        _assert_extendable(locked)
        now = timezone.now()
        extension = CaseExtension(case=locked, reason=reason, requested_by=actor)
        extension._history_user = actor
        try:
            with transaction.atomic():
                extension.save()
        except IntegrityError:
            raise TransitionNotAllowed(_("该业务已申请过延长办理期限，依法只能延长一次。")) from None
        _log(locked, "request_extension", actor, now, reason)
    return extension


def _assert_extendable(case: RegistrationCase) -> None:
    if case.state != CaseState.ACCEPTED:
        raise TransitionNotAllowed(
            _("当前状态为“%(state)s”，只有已受理、尚未办结的业务可以延长办理期限。")
            % {"state": case.get_state_display()}
        )
    if case.due_on is not None and timezone.localdate() > case.due_on:
        raise TransitionNotAllowed(
            _("法定办结日（%(due)s）已过，不能再延长办理期限。") % {"due": case.due_on.isoformat()}
        )


def case_extension_decide(
    *, extension: CaseExtension, actor, approve: bool, reason: str = ""
) -> CaseExtension:
    """The head approves (due date + 3 working days, notice to the applicant) or refuses an extension."""
    if not actor.has_perm("registration.approve_extension"):
        raise PermissionDenied(_("只有科室负责人可以审批延长办理期限。"))
    reason = _text(reason)
    if not approve and not reason:
        raise ValidationError({"reason": [_("不批准延长须写明理由。")]})
    if len(reason) > 300:
        raise ValidationError({"reason": [_("审批意见不能超过 300 个字。")]})
    try:
        with transaction.atomic():
            case = (
                RegistrationCase.objects.select_for_update(of=("self",))
                .select_related("authority", "enterprise")
                .get(pk=extension.case_id)
            )
            row = CaseExtension.objects.select_for_update().get(pk=extension.pk)
            if row.status != CaseExtension.Status.REQUESTED:
                raise TransitionNotAllowed(
                    _("该延长申请已处理（%(status)s）。") % {"status": row.get_status_display()}
                )
            now = timezone.now()
            row.decided_by = actor
            row.decided_at = now
            row._history_user = actor
            if approve:
                _assert_extendable(case)
                previous = case.due_on
                case.due_on = add_working_days(previous, EXTENSION_WORKING_DAYS)
                case.extended = True
                case._history_user = actor
                case._change_reason = _("批准延长办理期限")
                case.save(update_fields=["due_on", "extended", "updated_at"])
                row.status = CaseExtension.Status.APPROVED
                row.save()
                _log(case, "approve_extension", actor, now, reason or row.reason)
                _notice(
                    case,
                    NoticeKind.EXTENSION,
                    actor,
                    {
                        "reason": row.reason,
                        "previous_due_on": previous.isoformat(),
                        "due_on": case.due_on.isoformat(),
                    },
                )
            else:
                row.status = CaseExtension.Status.REFUSED
                row.save()
                _log(case, "refuse_extension", actor, now, reason)
    except CalendarDataMissing as exc:
        raise TransitionNotAllowed(str(exc)) from None
    return row
