"""Intake of identity-misuse reports (线索/申请) from the 专责小组, from the victim (portal or window) and
on the bureau's own initiative (实施细则 art. 50–52).

A report either opens a new case or joins an open one: reports of one misuse are merged at intake, so two
investigators never work the same victim's enterprises twice. Each enterprise the report names is looked
up in the register (USCC first, else the exact current or former name); a name the register does not know
is kept on the report and flagged, never refused — the victim may only know the name from a bank letter.

All intakes of one authority and year take the case-number counter's row lock first: the duplicate search
and the new case happen under it, so two reports of one victim arriving together still end in one case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from bizreg.core.identifiers import normalize_uscc, validate_resident_id, validate_uscc
from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for
from bizreg.core.workdays import CalendarDataMissing, add_working_days
from bizreg.enterprises import selectors as enterprise_selectors
from bizreg.investigations.models import (
    OPEN_STATES,
    CaseEnterprise,
    InvestigationCase,
    InvestigationNumberCounter,
    Report,
    ReportedEnterprise,
    ReportSource,
    VerificationMethod,
    VerificationResult,
)
from bizreg.investigations.services.events import Errors, clean_text, record_event, text

ADD_PERM = "investigations.add_investigationcase"
ACCEPTANCE_WORKING_DAYS = 3
MAX_ENTERPRISES = 50
MAX_NARRATIVE = 5000
PHONE_RE = re.compile(r"^[0-9][0-9-]{5,18}[0-9]$")
# A report may be entered a little after it was received, never for a moment that has not come yet.
CLOCK_SKEW = dt.timedelta(minutes=5)


def _clean_reporter(reporter: Any, errors: Errors) -> dict[str, str]:
    if not isinstance(reporter, Mapping):
        errors.add("reporter_name", "请填写被冒用人的姓名、身份证号和联系电话。")
        return {"name": "", "id_number": "", "phone": ""}
    name = clean_text(
        reporter.get("name"), name="reporter_name", label="被冒用人姓名", max_length=50, errors=errors
    )
    id_number = ""
    try:
        id_number = validate_resident_id(text(reporter.get("id_number")))
    except ValidationError as exc:
        errors.add("reporter_id_number", exc.messages[0])
    phone = "".join(text(reporter.get("phone")).split())
    if phone and not PHONE_RE.match(phone):
        errors.add("reporter_phone", "联系电话应为 7–20 位数字（可含“-”）。")
    return {"name": name, "id_number": id_number, "phone": phone}


def _clean_enterprises(raw: Any, errors: Errors) -> list[tuple[str, str]]:
    """[(name as given, normalised USCC or "")]; at least one, each with a name or a code."""
    if isinstance(raw, Mapping) or not isinstance(raw, Iterable) or isinstance(raw, str | bytes):
        errors.add("enterprises", "涉及企业的格式错误：应为企业名称和统一社会信用代码的列表。")
        return []
    named: list[tuple[str, str]] = []
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping):
            errors.add("enterprises", f"第 {n} 家企业的格式错误。")
            continue
        name = text(entry.get("name"))
        code = normalize_uscc(text(entry.get("uscc")))
        if not name and not code:
            continue
        if len(name) > 200:
            errors.add("enterprises", f"第 {n} 家企业的名称不能超过 200 个字。")
            continue
        if code:
            try:
                code = validate_uscc(code)
            except ValidationError as exc:
                errors.add("enterprises", f"第 {n} 家企业（{name or code}）：{exc.messages[0]}")
                continue
        named.append((name, code))
    if not named and "enterprises" not in errors:
        errors.add("enterprises", "请至少填写一家以您的身份登记的企业（名称或统一社会信用代码）。")
    if len(named) > MAX_ENTERPRISES:
        errors.add("enterprises", f"一次最多填写 {MAX_ENTERPRISES} 家企业。")
    return named


def _received_at(value: Any, errors: Errors) -> dt.datetime:
    now = timezone.now()
    if value in (None, ""):
        return now
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(9, 0))
    else:
        errors.add("received_at", "收到时间不是有效的日期时间。")
        return now
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > now + CLOCK_SKEW:
        errors.add("received_at", "收到时间不能晚于现在。")
    return moment


def _locked_counter(authority: Authority, year: int) -> InvestigationNumberCounter:
    """The authority's counter row of the year under select_for_update (created first if missing).

    Call inside a transaction: the lock, held to commit, serializes the intakes of the authority, so the
    duplicate search of one sees every case the others opened.
    """
    counter = (
        InvestigationNumberCounter.objects.select_for_update().filter(authority=authority, year=year).first()
    )
    if counter is None:
        try:
            with transaction.atomic():
                InvestigationNumberCounter.objects.create(authority=authority, year=year, last=0)
        except IntegrityError:  # another intake opened the year's counter first
            pass
        counter = InvestigationNumberCounter.objects.select_for_update().get(authority=authority, year=year)
    return counter


def next_case_number(counter: InvestigationNumberCounter) -> str:
    """`冒调{year}{seq:05d}` from the locked counter row."""
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"冒调{counter.year}{counter.last:05d}"


def _summary(named: list[tuple[str, str]], matched: list) -> str:
    names = [e.name for e in matched if e is not None] or [n or c for n, c in named]
    head = "、".join(names[:3])
    more = f"等 {len(names)} 家企业" if len(names) > 3 else ""
    return f"涉嫌冒用身份登记：{head}{more}"[:300]


def _find_duplicate(
    *, authority: Authority, id_number: str, enterprise_ids: set[int]
) -> tuple[InvestigationCase | None, str]:
    """An open case of the same victim this report belongs to, and why (for merged_reason)."""
    candidates = InvestigationCase.objects.filter(
        authority=authority, state__in=OPEN_STATES, victim_id_number=id_number
    ).order_by("received_on", "id")
    if enterprise_ids:
        overlap = CaseEnterprise.objects.filter(case=OuterRef("pk"), enterprise_id__in=enterprise_ids)
        found = candidates.filter(Exists(overlap)).first()
        if found is not None:
            shared = CaseEnterprise.objects.filter(
                case=found, enterprise_id__in=enterprise_ids
            ).select_related("enterprise")
            names = "、".join(ce.enterprise.name for ce in shared[:3])
            return found, f"同一被冒用人、同一涉案企业（{names}）的在办案件 {found.number}"[:300]
        return None, ""
    no_enterprises = ~Q(Exists(CaseEnterprise.objects.filter(case=OuterRef("pk"))))
    found = candidates.filter(no_enterprises).first()
    if found is not None:
        return found, f"同一被冒用人、均未匹配到登记簿企业的在办案件 {found.number}"[:300]
    return None, ""


def report_receive(
    *,
    authority: Authority,
    source: str,
    reporter: dict,
    verification_method: str,
    verification_result: str,
    verification_note: str = "",
    narrative: str,
    enterprises: list[dict],
    referral_reference: str = "",
    actor=None,
    via_portal: bool = False,
    received_at: dt.datetime | None = None,
) -> Report:
    """Take in one report: validate it, match its enterprises, then join an open case or open a new one.

    `reporter` is {"name", "id_number", "phone"} of the person whose identity was used; `enterprises` a
    list of {"name", "uscc"}. Staff need investigations.add_investigationcase; the portal passes
    actor=None with via_portal=True. Returns the Report (its `case`; `merged_reason` set when it joined).
    """
    if actor is None:
        if not via_portal:
            raise PermissionDenied("请登录后再登记冒用身份线索。")
    else:
        if not actor.has_perm(ADD_PERM):
            raise PermissionDenied("您的角色无权登记冒用身份线索。")
        if not actor.is_superuser and authority.pk not in authority_ids_for(actor):
            raise PermissionDenied("您不能为其他登记机关登记线索。")

    errors = Errors()
    source = text(source)
    if source not in ReportSource.values:
        errors.add("source", "请选择线索来源。")
    elif via_portal and source != ReportSource.VICTIM:
        errors.add("source", "网上提交的只能是被冒用人本人的申请。")
    person = _clean_reporter(reporter, errors)
    method = text(verification_method)
    if method not in VerificationMethod.values:
        errors.add("verification_method", "请选择身份核验方式。")
    elif source == ReportSource.VICTIM and method == VerificationMethod.NOT_APPLICABLE:
        # 实施细则 art. 51: the person applying must prove who they are, online or at the window.
        errors.add(
            "verification_method", "被冒用人申请须选择身份核验方式（线上实名认证、窗口核验或公证认证）。"
        )
    result = text(verification_result)
    if result not in VerificationResult.values:
        errors.add("verification_result", "请选择身份核验结果。")
    note = clean_text(
        verification_note,
        name="verification_note",
        label="核验说明",
        max_length=300,
        errors=errors,
        required=False,
    )
    reference = clean_text(
        referral_reference,
        name="referral_reference",
        label="专责小组转办单号",
        max_length=60,
        errors=errors,
        required=source == ReportSource.TASK_FORCE,
    )
    story = clean_text(narrative, name="narrative", label="情况说明", max_length=MAX_NARRATIVE, errors=errors)
    named = _clean_enterprises(enterprises, errors)
    moment = _received_at(received_at, errors)
    errors.raise_if_any()

    matched = [
        enterprise_selectors.register_match(authority_id=authority.pk, uscc=code, name=name)
        for name, code in named
    ]
    enterprise_ids = {e.pk for e in matched if e is not None}
    received_on = timezone.localdate(moment)
    try:
        due = add_working_days(received_on, ACCEPTANCE_WORKING_DAYS)
    except CalendarDataMissing as exc:
        raise ValidationError({"received_at": [str(exc)]}) from None

    with transaction.atomic():
        # The counter's row lock first: concurrent intakes of this authority wait here, so the duplicate
        # search below sees every case opened before.
        counter = _locked_counter(authority, received_on.year)
        case, merged_reason = _find_duplicate(
            authority=authority, id_number=person["id_number"], enterprise_ids=enterprise_ids
        )
        if case is None:
            case = InvestigationCase(
                authority=authority,
                number=next_case_number(counter),
                source=source,
                summary=_summary(named, matched),
                victim_name=person["name"],
                victim_id_number=person["id_number"],
                victim_phone=person["phone"],
                received_on=received_on,
                acceptance_due_on=due,
            )
            case._history_user = actor
            case._change_reason = "收到线索"
            case.save()
            record_event(
                case=case,
                action="receive",
                label="收到线索",
                actor=actor,
                to_state=case.state,
                reason=f"{ReportSource(source).label}；受理期限 {due.isoformat()}",
                occurred_at=min(moment, timezone.now()),
            )
        else:
            case = InvestigationCase.objects.select_for_update(of=("self",)).get(pk=case.pk)
        report = Report.objects.create(
            authority=authority,
            case=case,
            source=source,
            received_at=moment,
            referral_reference=reference,
            reporter_name=person["name"],
            reporter_id_number=person["id_number"],
            reporter_phone=person["phone"],
            verification_method=method,
            verification_result=result,
            verification_note=note,
            narrative=story,
            via_portal=via_portal,
            submitted_by=actor,
            merged_reason=merged_reason,
        )
        ReportedEnterprise.objects.bulk_create(
            ReportedEnterprise(
                report=report,
                name_as_given=name or (enterprise.name if enterprise else code),
                uscc_as_given=code,
                enterprise=enterprise,
                unmatched=enterprise is None,
            )
            for (name, code), enterprise in zip(named, matched, strict=True)
        )
        unmatched = [
            name or code
            for (name, code), enterprise in zip(named, matched, strict=True)
            if enterprise is None
        ]
        if merged_reason:
            record_event(
                case=case,
                action="report_joined",
                label="线索并入本案",
                actor=actor,
                from_state=case.state,
                to_state=case.state,
                reason=merged_reason,
            )
        if unmatched:
            record_event(
                case=case,
                action="unmatched_enterprise",
                label="所报企业未在登记簿中找到",
                actor=actor,
                reason="、".join(unmatched)[:1000],
            )
        if enterprise_ids:
            from bizreg.investigations.services.cases import attach_enterprises

            attach_enterprises(
                case=case,
                enterprises=[e for e in dict.fromkeys(matched) if e is not None],
                actor=actor,
                reason="线索所报企业",
            )
    return report
