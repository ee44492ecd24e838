"""Transfer lists (移交清单): the papers of completed registration cases, checked against each case's
materials checklist, signed off, handed to the digitization contractor and counted back.

Which cases are complete (their papers no longer change): 已发照 and 已归档; 不予登记 and 已撤回; and
已核准 for the case types that print no licence (注销, 备案, 迁出, a change of nothing on the licence) —
registration.services.cases.case_needs_licence decides, so an approved establishment waits for its
licence. A case is on at most one list that is not cancelled.

Cases received through 一网通办 / 全程电子化 are born digital: their items are recorded with source
BORN_DIGITAL, listed in their own section and never sent for scanning nor counted back.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from bizreg.archives import workflows
from bizreg.archives.models import (
    ArchiveFile,
    ArchiveItem,
    ArchiveStatus,
    DocType,
    ItemSource,
    TransferEntry,
    TransferList,
    TransferState,
)
from bizreg.archives.services import records
from bizreg.archives.services.events import apply_transition, record_event
from bizreg.core.models import Authority
from bizreg.registration.models import CaseState, CaseType, Channel, RegistrationCase
from bizreg.registration.selectors.cases import case_materials, case_notices
from bizreg.registration.services.cases import COMPLETE_STATES, case_is_complete

NUMBER_PREFIX = "YJ"
BORN_DIGITAL_CHANNELS = frozenset({Channel.ONE_STOP_ONLINE, Channel.FULL_ELECTRONIC})
# 已核准 counts only for the types that end there; services.cases refuses to archive the others unlicensed.
FINAL_STATES = tuple(COMPLETE_STATES)
# Types of which some or all cases end at approval (a change ends there when the licence shows none of it).
NO_LICENCE_TYPES = (
    CaseType.CHANGE,
    CaseType.DEREGISTRATION,
    CaseType.SIMPLE_DEREGISTRATION,
    CaseType.FILING,
    CaseType.MIGRATION_OUT,
)
MAX_CASES = 500
_NUMBER_ATTEMPTS = 5

# Material name → document type: the first keyword found wins, so "注销登记申请书" is an application.
_DOC_TYPE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("申请书", DocType.APPLICATION),
    ("章程", DocType.ARTICLES),
    ("决议", DocType.RESOLUTION),
    ("决定", DocType.RESOLUTION),
    ("任职", DocType.APPOINTMENT),
    ("主体资格", DocType.IDENTITY),
    ("身份证明", DocType.IDENTITY),
    ("住所", DocType.PREMISES),
    ("调档函", DocType.MIGRATION),
    ("迁移", DocType.MIGRATION),
    ("公示", DocType.PUBLIC_NOTICE),
    ("清算", DocType.DEREGISTRATION),
    ("清税", DocType.DEREGISTRATION),
    ("债权人", DocType.DEREGISTRATION),
    ("承诺书", DocType.DEREGISTRATION),
    ("营业执照", DocType.LICENCE_COPY),
)


def doc_type_for_material(name: str) -> str:
    for keyword, doc_type in _DOC_TYPE_KEYWORDS:
        if keyword in name:
            return doc_type
    return DocType.OTHER


def is_born_digital(case: RegistrationCase) -> bool:
    return case.channel in BORN_DIGITAL_CHANNELS


def cases_on_open_lists() -> QuerySet:
    return TransferEntry.objects.exclude(transfer__state=TransferState.CANCELLED).values("case_id")


def transfer_candidates(
    *, authority: Authority, period_start: dt.date | None = None, period_end: dt.date | None = None
) -> list[RegistrationCase]:
    """Completed cases of the authority not on a live list, received in the period, oldest first."""
    ends_at_approval = Q(state=CaseState.APPROVED, case_type__in=NO_LICENCE_TYPES)
    qs = (
        RegistrationCase.objects.filter(authority=authority)
        .filter(Q(state__in=FINAL_STATES) | ends_at_approval)
        .exclude(pk__in=cases_on_open_lists())
        .select_related("enterprise")
        .order_by("received_at", "id")
    )
    if period_start:
        qs = qs.filter(received_at__date__gte=period_start)
    if period_end:
        qs = qs.filter(received_at__date__lte=period_end)
    return [case for case in qs[: MAX_CASES * 2] if case_is_complete(case)][:MAX_CASES]


def _next_number(year: int) -> str:
    prefix = f"{NUMBER_PREFIX}-{year}-"
    serials = [
        int(m.group(1))
        for n in TransferList.objects.filter(number__startswith=prefix).values_list("number", flat=True)
        if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", n))
    ]
    return f"{prefix}{max(serials, default=0) + 1:04d}"


def _entry_for_case(transfer: TransferList, case: RegistrationCase, actor) -> TransferEntry:
    archive = records.archive_for_case(case=case, actor=actor)
    materials = case_materials(case=case)
    expected = [m for m in materials if m.requirement.mandatory]
    missing = [m.requirement.name for m in expected if not m.received]
    received = [m for m in materials if m.received]
    existing = list(ArchiveItem.objects.filter(case=case))
    # A born-digital case's notices may already be in the e-archive (services.born_digital, by 文书编号):
    # they do not stand in for its materials, which are recorded here the first time the case is listed.
    issued = {n.number for n in case_notices(case=case)} if is_born_digital(case) else set()
    if not [i for i in existing if not (i.source == ItemSource.BORN_DIGITAL and i.doc_number in issued)]:
        source = ItemSource.BORN_DIGITAL if is_born_digital(case) else ItemSource.PAPER
        doc_date = timezone.localtime(case.received_at).date()
        for material in received:
            existing.append(
                records.item_add(
                    archive=archive,
                    actor=actor,
                    case=case,
                    doc_type=doc_type_for_material(material.requirement.name),
                    title=material.requirement.name,
                    responsible_party=case.enterprise_name,
                    doc_date=doc_date,
                    source=source,
                )
            )
    return TransferEntry.objects.create(
        transfer=transfer,
        case=case,
        archive=archive,
        expected_items=len(expected),
        present_items=len(existing),
        pages=sum(item.pages for item in existing),
        missing=missing,
    )


def _check_period(period_start, period_end) -> None:
    if period_start and period_end and period_start > period_end:
        raise ValidationError({"period_end": ["截止日期不能早于起始日期。"]})


def transfer_build(
    *,
    authority: Authority,
    actor,
    case_ids: list[int] | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    title: str = "",
) -> TransferList:
    """A draft list of the given cases (or every candidate of the period), with their archives and items."""
    if not actor.has_perm("archives.add_transferlist"):
        raise PermissionDenied("您的角色无权编制移交清单。")
    _check_period(period_start, period_end)
    for _attempt in range(_NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                # One builder per authority at a time, so two lists never take the same case. NO KEY: rows
                # referencing the authority can still be inserted meanwhile.
                Authority.objects.select_for_update(no_key=True).get(pk=authority.pk)
                candidates = transfer_candidates(
                    authority=authority, period_start=period_start, period_end=period_end
                )
                if case_ids is not None:
                    wanted = {int(pk) for pk in case_ids}
                    cases = [c for c in candidates if c.pk in wanted]
                    refused = wanted - {c.pk for c in cases}
                    if refused:
                        numbers = RegistrationCase.objects.filter(pk__in=refused).values_list(
                            "number", flat=True
                        )
                        raise ValidationError(
                            {
                                "case_ids": [
                                    "以下业务未办结、不属于本机关或已在其他移交清单中："
                                    + ("、".join(sorted(numbers)) or "（不存在）")
                                ]
                            }
                        )
                else:
                    cases = candidates
                if not cases:
                    raise ValidationError({"case_ids": ["没有可移交的已办结业务。"]})
                transfer = TransferList(
                    authority=authority,
                    number=_next_number(timezone.localdate().year),
                    title=title.strip()[:200],
                    period_start=period_start,
                    period_end=period_end,
                    created_by=actor,
                )
                transfer._history_user = actor
                transfer.save()
                for case in cases:
                    _entry_for_case(transfer, case, actor)
                record_event(
                    obj=transfer,
                    action="build",
                    actor=actor,
                    to_state=transfer.state,
                    reason=f"{len(cases)} 件业务",
                )
                return transfer
        except IntegrityError:
            continue  # another list took this number: take the next one
    raise ValidationError("清单编号分配冲突，请稍后重试。")


def _locked(transfer: TransferList) -> TransferList:
    return TransferList.objects.select_for_update().get(pk=transfer.pk)


def transfer_sign(*, transfer: TransferList, actor) -> TransferList:
    with transaction.atomic():
        locked = _locked(transfer)
        apply_transition(machine=workflows.TRANSFER, obj=locked, action="sign", actor=actor)
        locked.signed_by = actor
        locked.signed_at = timezone.now()
        locked._history_user = actor
        locked.save(update_fields=["state", "signed_by", "signed_at", "updated_at"])
    return locked


def transfer_send(*, transfer: TransferList, actor, contractor: str) -> TransferList:
    contractor = (contractor or "").strip()
    if not contractor:
        raise ValidationError({"contractor": ["请填写扫描加工单位。"]})
    with transaction.atomic():
        locked = _locked(transfer)
        apply_transition(
            machine=workflows.TRANSFER, obj=locked, action="send", actor=actor, reason=contractor
        )
        locked.contractor = contractor[:100]
        locked.sent_at = timezone.now()
        locked._history_user = actor
        locked.save(update_fields=["state", "contractor", "sent_at", "updated_at"])
    return locked


def transfer_cancel(*, transfer: TransferList, actor, reason: str = "") -> TransferList:
    if not reason.strip():
        raise ValidationError({"reason": ["请填写作废理由。"]})
    with transaction.atomic():
        locked = _locked(transfer)
        apply_transition(machine=workflows.TRANSFER, obj=locked, action="cancel", actor=actor, reason=reason)
        locked._history_user = actor
        locked.save(update_fields=["state", "updated_at"])
    return locked


def _back_to_pending(archive: ArchiveFile, actor, transfer: TransferList) -> None:
    """The counted papers go back into their folder, which waits for (re)shelving."""
    if archive.status != ArchiveStatus.SHELVED:
        return  # 待整理 already; a lent or moved-out folder keeps its state
    if "receive_back" in workflows.ARCHIVE.transitions:
        apply_transition(
            machine=workflows.ARCHIVE, obj=archive, action="receive_back", actor=actor, field="status"
        )
    else:
        # ARCHIVE has no step back to 待整理 yet (asked of the lead); the change is recorded all the same.
        record_event(
            obj=archive,
            action="receive_back",
            actor=actor,
            from_state=archive.status,
            to_state=ArchiveStatus.PENDING,
            reason=f"移交清单 {transfer.number} 清点返还",
        )
        archive.status = ArchiveStatus.PENDING
    archive._history_user = actor
    archive.save(update_fields=["status", "updated_at"])


# How many uncounted entries a refused receipt names; the count-back page filters the rest.
_NAMED_UNCOUNTED = 20


def _count_error(entry: TransferEntry, returned: int | None, note: str) -> str | None:
    if returned is None:
        return f"业务 {entry.case.number}：请填写返还件数。"
    if returned < 0:
        return f"业务 {entry.case.number}：返还件数不能为负数。"
    if returned != entry.present_items and not (note or "").strip():
        sent = entry.present_items
        return f"业务 {entry.case.number}：返还 {returned} 件与移交 {sent} 件不符，请填写清点说明。"
    return None


def _paper_entries_for_count(locked: TransferList, counts: dict[int, tuple[int, str]]) -> list[TransferEntry]:
    """The list's paper entries, locked; refuses counts for entries that are not among them."""
    entries = list(
        locked.entries.select_related("case", "archive").select_for_update(of=("self",)).order_by("id")
    )
    paper = [e for e in entries if not is_born_digital(e.case)]
    if set(counts) - {e.pk for e in paper}:
        raise ValidationError({"counts": ["清点数据包含不属于本清单纸质部分的条目。"]})
    return paper


def _store_count(entry: TransferEntry, returned: int, note: str) -> bool:
    note = (note or "").strip()[:300]
    if entry.returned_items == returned and entry.return_note == note:
        return False
    entry.returned_items = returned
    entry.return_note = note
    entry.save(update_fields=["returned_items", "return_note"])
    return True


def transfer_count_entries(*, transfer: TransferList, actor, counts: dict[int, tuple[int, str]]) -> int:
    """Record part of the count-back while the batch is out: `counts` maps paper entries' ids to
    (returned items, note). A long list is counted over several sittings; the list stays 已移交 until
    transfer_receive. Returns how many entries changed; the change is one event on the list."""
    with transaction.atomic():
        locked = _locked(transfer)
        workflows.TRANSFER.check(state=locked.state, action="receive", user=actor)
        by_id = {e.pk: e for e in _paper_entries_for_count(locked, counts)}
        errors = [
            error
            for pk, (returned, note) in counts.items()
            if (error := _count_error(by_id[pk], returned, note))
        ]
        if errors:
            raise ValidationError({"counts": errors})
        changed = [
            by_id[pk] for pk, (returned, note) in counts.items() if _store_count(by_id[pk], returned, note)
        ]
        if changed:
            short_or_long = sum(1 for e in changed if e.returned_items != e.present_items)
            record_event(
                obj=locked,
                action="count",
                actor=actor,
                from_state=locked.state,
                to_state=locked.state,
                reason=f"清点 {len(changed)} 件业务"
                + (f"，其中 {short_or_long} 件不符" if short_or_long else ""),
            )
    return len(changed)


def transfer_receive(
    *, transfer: TransferList, actor, counts: dict[int, tuple[int, str]] | None = None
) -> TransferList:
    """Count the batch back: `counts` maps paper entries' ids to (returned items, note); an entry not in it
    keeps what transfer_count_entries recorded. Every paper entry must be counted, and one that comes back
    short or long needs a note; the archives wait for shelving again."""
    counts = counts or {}
    with transaction.atomic():
        locked = _locked(transfer)
        workflows.TRANSFER.check(state=locked.state, action="receive", user=actor)
        paper = _paper_entries_for_count(locked, counts)
        final = {e.pk: counts.get(e.pk, (e.returned_items, e.return_note)) for e in paper}
        errors = [error for e in paper if (error := _count_error(e, *final[e.pk]))]
        if len(errors) > _NAMED_UNCOUNTED:
            errors = [*errors[:_NAMED_UNCOUNTED], f"……共 {len(errors)} 件业务尚未清点或清点有误。"]
        if errors:
            raise ValidationError({"counts": errors})
        apply_transition(machine=workflows.TRANSFER, obj=locked, action="receive", actor=actor)
        for entry in paper:
            _store_count(entry, *final[entry.pk])
        for archive_id in sorted({e.archive_id for e in locked.entries.all()}):
            locked_archive = ArchiveFile.objects.select_for_update().get(pk=archive_id)
            _back_to_pending(locked_archive, actor, locked)
        locked.received_at = timezone.now()
        locked.received_by = actor
        locked._history_user = actor
        locked.save(update_fields=["state", "received_at", "received_by", "updated_at"])
    return locked


def transfer_discrepancies(transfer: TransferList) -> list[TransferEntry]:
    """Entries counted back with a different number of items than were sent."""
    return [
        e
        for e in transfer.entries.select_related("case")
        if e.returned_items is not None and e.returned_items != e.present_items
    ]
