"""Mail intake (seed 7.5): packages received by post, their hand-overs, and licences mailed out.

An inbound package is recorded with its courier and tracking number (checked against the courier's
format, table TRACKING_RULES), the sender enterprise (linked by USCC when it is on the register) and the
list of documents in it; it is linked to its case and handed from person to person (to pre-review, to
licence printing, to the archive) — every hand-over is a MailHandover row shown on the package page.
The printed licence goes back as an outbound package with its own tracking number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bizreg.core.identifiers import validate_uscc
from bizreg.core.models import Authority
from bizreg.registration.models import (
    CaseState,
    Courier,
    LicenceKind,
    LicenceSheet,
    MailHandover,
    MailPackage,
    RegistrationCase,
)


@dataclass(frozen=True)
class TrackingRule:
    patterns: tuple[str, ...]  # full-match regular expressions on the normalized number
    description: str  # the format in words, for the field error
    example: str


# Formats of the couriers' waybill numbers (public formats as of 2023; "other" accepts any plausible one).
TRACKING_RULES: dict[str, TrackingRule] = {
    Courier.EMS: TrackingRule(
        (r"[A-Z]{2}\d{9}[A-Z]{2}", r"\d{13}"),
        gettext_noop("2 位字母 + 9 位数字 + 2 位字母，或 13 位数字"),
        "EA123456789CN",
    ),
    Courier.SF: TrackingRule((r"SF\d{12,15}",), gettext_noop("SF 加 12–15 位数字"), "SF1234567890123"),
    Courier.JD: TrackingRule(
        (r"JD[0-9A-Z]{13,15}",), gettext_noop("JD 加 13–15 位字母或数字"), "JDVA12345678901"
    ),
    Courier.ZTO: TrackingRule(
        (r"7[3-9]\d{10}", r"\d{12,15}"),
        gettext_noop("12–15 位数字（常见为 73–79 开头的 12 位）"),
        "731234567890",
    ),
    Courier.YTO: TrackingRule((r"YT\d{13}",), gettext_noop("YT 加 13 位数字"), "YT1234567890123"),
    Courier.STO: TrackingRule((r"77\d{13}",), gettext_noop("77 开头的 15 位数字"), "773456789012345"),
    Courier.YUNDA: TrackingRule((r"\d{13,15}",), gettext_noop("13–15 位数字"), "4312345678901"),
    Courier.OTHER: TrackingRule((r"[0-9A-Z]{6,30}",), gettext_noop("6–30 位字母或数字"), "AB123456"),
}

HANDOVER_PURPOSES = (
    gettext_noop("移交预审/受理"),
    gettext_noop("移交执照打印"),
    gettext_noop("移交档案管理"),
    gettext_noop("移交寄出"),
    gettext_noop("退还申请人"),
    gettext_noop("其他"),
)
PURPOSE_REVIEW, PURPOSE_PRINTING, PURPOSE_ARCHIVE, PURPOSE_POSTING = HANDOVER_PURPOSES[:4]
# What each direction of package is handed over for: what arrived goes on to review, printing or the
# archive; what is to be posted goes to whoever posts it.
PURPOSES_BY_DIRECTION = {
    MailPackage.Direction.INBOUND: tuple(p for p in HANDOVER_PURPOSES if p != PURPOSE_POSTING),
    MailPackage.Direction.OUTBOUND: (PURPOSE_POSTING, *HANDOVER_PURPOSES[4:]),
}
PRINT_PERMISSION = "registration.print_licence"
MAX_DOCUMENT_LINES = 50
MAX_DOCUMENT_LINE = 100
CLOCK_SKEW = dt.timedelta(minutes=5)


class MailError(Exception):
    """A mail operation was refused; the message (Chinese) is meant for staff."""


def normalize_tracking_number(value: Any) -> str:
    """Upper case without spaces or dashes (numbers are read off labels and typed in groups)."""
    return re.sub(r"[\s\-－—_]", "", str(value or "")).upper()


def validate_tracking_number(courier: str, value: Any) -> str:
    """Return the normalized number or raise ValidationError on `tracking_number` naming the format."""
    rule = TRACKING_RULES.get(courier)
    if rule is None:
        raise ValidationError({"courier": [_("请选择快递公司。")]})
    number = normalize_tracking_number(value)
    if not number:
        raise ValidationError({"tracking_number": [_("请填写快递单号。")]})
    # ASCII: \d would otherwise also match full-width and other scripts' digits.
    if not any(re.fullmatch(pattern, number, flags=re.ASCII) for pattern in rule.patterns):
        raise ValidationError(
            {
                "tracking_number": [
                    _("%(courier)s的快递单号应为%(format)s（如 %(example)s），当前为“%(number)s”。")
                    % {
                        "courier": Courier(courier).label,
                        "format": _(rule.description),
                        "example": rule.example,
                        "number": number[:40],
                    }
                ]
            }
        )
    return number


def parse_documents(value: Any) -> str:
    """The document list, one per line, blank lines dropped; at least one document."""
    if isinstance(value, list | tuple):
        lines = [str(item).strip() for item in value]
    else:
        lines = [line.strip() for line in str(value or "").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ValidationError({"documents": [_("请填写邮寄文件清单（每行一个文件）。")]})
    if len(lines) > MAX_DOCUMENT_LINES:
        raise ValidationError(
            {"documents": [_("邮寄文件清单最多 %(max)d 项。") % {"max": MAX_DOCUMENT_LINES}]}
        )
    long = [line for line in lines if len(line) > MAX_DOCUMENT_LINE]
    if long:
        raise ValidationError(
            {
                "documents": [
                    _("每个文件名称不超过 %(max)d 个字：%(line)s…")
                    % {"max": MAX_DOCUMENT_LINE, "line": long[0][:20]}
                ]
            }
        )
    return "\n".join(lines)


def _enterprise_by_uscc(*, actor, authority: Authority, uscc: str):
    from bizreg.enterprises import selectors as enterprise_selectors

    return enterprise_selectors.enterprises_visible_to(actor).filter(authority=authority, uscc=uscc).first()


def _case_of(authority: Authority, case: RegistrationCase | None) -> RegistrationCase | None:
    if case is None:
        return None
    if case.authority_id != authority.pk:
        # Another authority's case is "not found", not "forbidden": its existence is not revealed.
        raise ValidationError({"case": [_("没有找到该业务。")]})
    return case


def _received_at(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return timezone.now()
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"recorded_at": [_("收件时间不能晚于当前时间。")]})
    return value


def _save_unique(package: MailPackage) -> None:
    try:
        with transaction.atomic():
            package.save()
    except IntegrityError:
        existing = MailPackage.objects.filter(
            courier=package.courier, tracking_number=package.tracking_number, direction=package.direction
        ).first()
        when = timezone.localtime(existing.recorded_at).strftime("%Y-%m-%d %H:%M") if existing else ""
        raise ValidationError(
            {
                "tracking_number": [
                    _("该快递单号已于 %(when)s 登记过，请勿重复登记。") % {"when": when}
                    if when
                    else _("该快递单号已登记过，请勿重复登记。")
                ]
            }
        ) from None


@transaction.atomic
def mail_receive(
    *,
    authority: Authority,
    actor,
    courier: str,
    tracking_number: str,
    enterprise_name: str = "",
    uscc: str = "",
    documents: Any,
    case: RegistrationCase | None = None,
    recorded_at: dt.datetime | None = None,
    address: str = "",
    note: str = "",
) -> MailPackage:
    """Record an inbound package. The sender is linked to the register when its USCC is given."""
    errors: dict[str, list[str]] = {}

    def collect(func, *args, field: str = ""):
        try:
            return func(*args)
        except ValidationError as exc:
            found = exc.message_dict if hasattr(exc, "error_dict") else {field: exc.messages}
            for name, messages in found.items():
                errors.setdefault(name, []).extend(messages)
            return None

    number = collect(validate_tracking_number, courier, tracking_number)
    document_text = collect(parse_documents, documents)
    received = collect(_received_at, recorded_at)
    linked_case = collect(_case_of, authority, case)
    enterprise = None
    uscc = str(uscc or "").strip()
    if uscc:
        code = collect(validate_uscc, uscc, field="uscc")
        if code is not None:
            enterprise = _enterprise_by_uscc(actor=actor, authority=authority, uscc=code)
            if enterprise is None:
                errors.setdefault("uscc", []).append(_("登记簿中没有该统一社会信用代码的商事主体。"))
    name = str(enterprise_name or "").strip() or (enterprise.name if enterprise is not None else "")
    if not name and linked_case is not None:
        name = linked_case.enterprise_name
    if not name:
        errors.setdefault("enterprise_name", []).append(_("请填写寄件企业名称，或填写其统一社会信用代码。"))
    elif len(name) > 200:
        errors.setdefault("enterprise_name", []).append(_("企业名称不能超过 200 个字。"))
    if len(str(address or "")) > 200:
        errors.setdefault("address", []).append(_("地址不能超过 200 个字。"))
    if len(str(note or "")) > 300:
        errors.setdefault("note", []).append(_("备注不能超过 300 个字。"))
    if errors:
        raise ValidationError(errors)
    if enterprise is None and linked_case is not None and linked_case.enterprise_id:
        enterprise = linked_case.enterprise
    package = MailPackage(
        authority=authority,
        direction=MailPackage.Direction.INBOUND,
        courier=courier,
        tracking_number=number,
        enterprise_name=name,
        enterprise=enterprise,
        documents=document_text,
        case=linked_case,
        recorded_at=received,
        recorded_by=actor,
        address=str(address or "").strip(),
        note=str(note or "").strip(),
    )
    package._history_user = actor
    _save_unique(package)
    return package


@transaction.atomic
def mail_link_case(*, package: MailPackage, case: RegistrationCase, actor) -> MailPackage:
    package = MailPackage.objects.select_for_update().get(pk=package.pk)
    _case_of(package.authority, case)
    if package.case_id and package.case_id != case.pk:
        raise MailError(_("该邮寄件已关联业务 %(number)s。") % {"number": package.case.number})
    package.case = case
    if package.enterprise_id is None and case.enterprise_id:
        package.enterprise = case.enterprise
    package._history_user = actor
    package.save(update_fields=["case", "enterprise", "updated_at"])
    return package


@transaction.atomic
def mail_handover(*, package: MailPackage, actor, to_user, purpose: str) -> MailHandover:
    """Record that `actor` handed the package to `to_user` for `purpose`."""
    package = MailPackage.objects.select_for_update(of=("self",)).select_related("case").get(pk=package.pk)
    if purpose not in HANDOVER_PURPOSES:
        raise ValidationError({"purpose": [_("请选择交接事由。")]})
    if purpose not in PURPOSES_BY_DIRECTION[package.direction]:
        raise ValidationError(
            {
                "purpose": [
                    _("“%(purpose)s”不适用于%(direction)s的邮寄件。")
                    % {"purpose": _(purpose), "direction": package.get_direction_display()}
                ]
            }
        )
    if to_user is None or not to_user.is_active:
        raise ValidationError({"to_user": [_("请选择接收人。")]})
    if to_user.pk == actor.pk:
        raise ValidationError({"to_user": [_("不能交接给自己。")]})
    if not to_user.is_superuser and not to_user.authorities.filter(pk=package.authority_id).exists():
        raise ValidationError({"to_user": [_("接收人不属于本登记机关。")]})
    if purpose == PURPOSE_PRINTING:
        if package.case_id is None:
            raise ValidationError({"purpose": [_("移交执照打印前，请先关联登记业务。")]})
        if not to_user.has_perm(PRINT_PERMISSION):
            raise ValidationError({"to_user": [_("接收人没有打印营业执照的权限。")]})
    return MailHandover.objects.create(
        package=package, from_user=actor, to_user=to_user, purpose=purpose, occurred_at=timezone.now()
    )


@transaction.atomic
def mail_send_licence(
    *,
    case: RegistrationCase,
    actor,
    courier: str,
    tracking_number: str,
    address: str,
    documents: Any = None,
    note: str = "",
) -> MailPackage:
    """Record the outbound package that mails a case's printed licence to the applicant."""
    errors: dict[str, list[str]] = {}
    try:
        number = validate_tracking_number(courier, tracking_number)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        number = ""
    address = str(address or "").strip()
    if not address:
        errors["address"] = [_("请填写收件地址。")]
    elif len(address) > 200:
        errors["address"] = [_("地址不能超过 200 个字。")]
    document_text = ""
    if documents not in (None, "", []):
        try:
            document_text = parse_documents(documents)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    # The case's row is what a spoiled print (licences.licence_spoil) and the archive step also lock: the
    # licence is not posted while it is being spoiled and reprinted, nor spoiled once it has been posted.
    case = (
        RegistrationCase.objects.select_for_update(of=("self",))
        .select_related("authority", "enterprise")
        .get(pk=case.pk)
    )
    printed = sorted(
        LicenceSheet.objects.filter(case=case, status=LicenceSheet.Status.PRINTED),
        key=lambda sheet: (sheet.kind != LicenceKind.ORIGINAL, sheet.number),
    )
    if case.state not in (CaseState.LICENSED, CaseState.ARCHIVED) or not printed:
        raise MailError(_("该业务尚未打印营业执照，不能登记寄出。"))
    if not document_text:
        document_text = "\n".join(
            f"营业执照{sheet.get_kind_display()}（编号 {sheet.serial}）" for sheet in printed
        )
    inbound = (
        MailPackage.objects.filter(case=case, direction=MailPackage.Direction.INBOUND)
        .order_by("-recorded_at")
        .first()
    )
    package = MailPackage(
        authority=case.authority,
        direction=MailPackage.Direction.OUTBOUND,
        courier=courier,
        tracking_number=number,
        enterprise_name=case.enterprise_name,
        enterprise=case.enterprise,
        documents=document_text,
        case=case,
        recorded_at=timezone.now(),
        recorded_by=actor,
        address=address,
        reply_to=inbound,
        note=str(note or "").strip()[:300],
    )
    package._history_user = actor
    _save_unique(package)
    return package


def package_kwargs(data: Mapping[str, Any]) -> dict:
    """The mail_receive keyword arguments found in a form's or serializer's cleaned data."""
    keys = (
        "courier",
        "tracking_number",
        "enterprise_name",
        "uscc",
        "documents",
        "case",
        "recorded_at",
        "address",
        "note",
    )
    return {key: data[key] for key in keys if key in data}
