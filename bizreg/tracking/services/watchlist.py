"""The move-out watch list (迁出预警): enterprises likely to move out, each with the rule that flagged it.

`watchlist_refresh` is a system job (the daily tracking task). It looks at the last WINDOW_DAYS days and
opens one WatchEntry per enterprise and rule (the detail says which records fired it):

- ENQUIRY (有迁出咨询/意向): a submitted visit whose answer to a question marked `signals_move_out` is yes,
  or an appeal of category 迁出咨询;
- APPEALS (反复提出诉求): REPEATED_APPEALS or more appeals of the enterprise (any state);
- ADDRESS (住所变更至区外): the register's history shows a change of street to a street of another
  division than the authority's, or an open 变更 case asks for such a street;
- APPLICATION (已申请迁出): a 迁出 application that is not refused or withdrawn.

Only active enterprises are flagged. An open entry of an enterprise that has moved out becomes MOVED_OUT.
An entry that staff cleared is not opened again on the same evidence: only a signal dated after the
clearing opens a new entry for that enterprise and rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from bizreg.core.models import Authority
from bizreg.core.statemachine import StateMachine, transition
from bizreg.enterprises import selectors as enterprise_selectors
from bizreg.enterprises.models import EnterpriseStatus
from bizreg.enterprises.services import division_prefix
from bizreg.registration.selectors.migrations import move_out_applications, open_street_change_requests
from bizreg.tracking.models import (
    Appeal,
    AppealCategory,
    Question,
    Visit,
    VisitState,
    WatchEntry,
    WatchRule,
    WatchState,
)
from bizreg.tracking.services.common import Errors, assert_authority, clean_text

WINDOW_DAYS = 180
REPEATED_APPEALS = 3
CHANGE_WATCH = "tracking.change_watchentry"
DETAIL_MAX = 300
# Answers that mean "yes" (a yes/no question stores a bool; imported or older answers may be text).
YES = frozenset({"yes", "y", "true", "1", "是", "有", "on"})

WATCH = StateMachine(
    state_labels=dict(WatchState.choices),
    transitions=[
        transition("clear", "解除预警", [WatchState.WATCHING], WatchState.CLEARED, CHANGE_WATCH),
        # Set by watchlist_refresh when the register shows the enterprise moved out, never by hand.
        transition("moved_out", "已迁出", [WatchState.WATCHING], WatchState.MOVED_OUT, None),
    ],
)


@dataclass
class Signal:
    enterprise_id: int
    rule: str
    details: list[str]
    evidence_on: dt.date  # the latest record behind the signal

    @property
    def detail(self) -> str:
        text = "；".join(self.details)
        return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def is_yes(answer) -> bool:
    if isinstance(answer, bool):
        return answer
    if isinstance(answer, str):
        return answer.strip().lower() in YES
    if isinstance(answer, list):
        return any(is_yes(item) for item in answer)
    return False


class _Signals(dict):
    """{(enterprise id, rule): Signal}, several records of one rule folded into one signal."""

    def add(self, enterprise_id: int, rule: str, detail: str, evidence_on: dt.date) -> None:
        signal = self.get((enterprise_id, rule))
        if signal is None:
            self[(enterprise_id, rule)] = Signal(enterprise_id, rule, [detail], evidence_on)
        else:
            signal.details.append(detail)
            signal.evidence_on = max(signal.evidence_on, evidence_on)


def _enquiries(signals: _Signals, authority: Authority, since: dt.date, today: dt.date) -> None:
    questions: dict[int, list[tuple[str, str]]] = {}
    for questionnaire_id, code, text in Question.objects.filter(
        questionnaire__authority=authority, signals_move_out=True
    ).values_list("questionnaire_id", "code", "text"):
        questions.setdefault(questionnaire_id, []).append((code, text))
    if questions:
        visits = (
            Visit.objects.filter(
                authority=authority,
                state=VisitState.SUBMITTED,
                visited_on__gte=since,
                visited_on__lte=today,
                questionnaire_id__in=list(questions),
            )
            .order_by("visited_on", "id")
            .values_list("enterprise_id", "number", "visited_on", "questionnaire_id", "answers")
        )
        for enterprise_id, number, visited_on, questionnaire_id, answers in visits:
            for code, text in questions[questionnaire_id]:
                if is_yes((answers or {}).get(code)):
                    signals.add(
                        enterprise_id,
                        WatchRule.MOVE_OUT_ENQUIRY,
                        f"走访 {number}（{visited_on:%Y-%m-%d}）“{text}”答“是”",
                        visited_on,
                    )
    appeals = (
        Appeal.objects.filter(
            authority=authority, category=AppealCategory.MOVE_OUT, raised_on__gte=since, raised_on__lte=today
        )
        .order_by("raised_on", "id")
        .values_list("enterprise_id", "number", "raised_on", "title")
    )
    for enterprise_id, number, raised_on, title in appeals:
        signals.add(
            enterprise_id,
            WatchRule.MOVE_OUT_ENQUIRY,
            f"迁出咨询诉求 {number}（{raised_on:%Y-%m-%d}）：{title}",
            raised_on,
        )


def _repeated_appeals(signals: _Signals, authority: Authority, since: dt.date, today: dt.date) -> None:
    by_enterprise: dict[int, list[tuple[str, dt.date]]] = {}
    rows = (
        Appeal.objects.filter(authority=authority, raised_on__gte=since, raised_on__lte=today)
        .order_by("raised_on", "id")
        .values_list("enterprise_id", "number", "raised_on")
    )
    for enterprise_id, number, raised_on in rows:
        by_enterprise.setdefault(enterprise_id, []).append((number, raised_on))
    for enterprise_id, appeals in by_enterprise.items():
        if len(appeals) >= REPEATED_APPEALS:
            numbers = "、".join(number for number, _ in appeals)
            signals.add(
                enterprise_id,
                WatchRule.REPEATED_APPEALS,
                f"{WINDOW_DAYS} 天内提出诉求 {len(appeals)} 件（{numbers}）",
                appeals[-1][1],
            )


def _address_changes(signals: _Signals, authority: Authority, since: dt.date, today: dt.date) -> None:
    prefix = division_prefix(authority.division_code)
    window_start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    for change in enterprise_selectors.street_changes_since(authority_id=authority.pk, since=window_start):
        changed_on = timezone.localdate(change.changed_at)
        if changed_on > today or change.new_division_code.startswith(prefix):
            continue
        signals.add(
            change.enterprise_id,
            WatchRule.ADDRESS_OUTSIDE,
            f"登记簿 {changed_on:%Y-%m-%d} 住所变更至{change.new_street_name}"
            f"（区划 {change.new_division_code}）" + (f"：{change.address}" if change.address else ""),
            changed_on,
        )
    for request in open_street_change_requests(authority_id=authority.pk):
        if request.street_division_code.startswith(prefix):
            continue
        signals.add(
            request.enterprise_id,
            WatchRule.ADDRESS_OUTSIDE,
            f"变更登记申请 {request.case_number}（{request.received_on:%Y-%m-%d}）拟将住所迁至"
            f"{request.street_name}（区划 {request.street_division_code}）",
            request.received_on,
        )


def _applications(signals: _Signals, authority: Authority, since: dt.date, today: dt.date) -> None:
    for application in move_out_applications(authority_id=authority.pk, received_since=since):
        if application.received_on > today:
            continue
        destination = application.destination_authority or "（未填写迁入地）"
        signals.add(
            application.enterprise_id,
            WatchRule.MOVE_OUT_APPLICATION,
            f"迁出登记申请 {application.case_number}（收件 {application.received_on:%Y-%m-%d}）"
            f"拟迁往{destination}",
            application.received_on,
        )


def watch_signals(*, authority: Authority, today: dt.date | None = None) -> list[Signal]:
    """Every signal of the window ending `today`, whatever the list holds already."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=WINDOW_DAYS)
    signals = _Signals()
    for collect in (_enquiries, _repeated_appeals, _address_changes, _applications):
        collect(signals, authority, since, today)
    return list(signals.values())


def watchlist_refresh(*, authority: Authority, today: dt.date | None = None) -> int:
    """Open the entries of new signals and mark moved-out enterprises; returns how many entries it opened."""
    today = today or timezone.localdate()
    signals = watch_signals(authority=authority, today=today)
    with transaction.atomic():
        watching = list(
            WatchEntry.objects.select_for_update().filter(authority=authority, state=WatchState.WATCHING)
        )
        ids = {s.enterprise_id for s in signals} | {e.enterprise_id for e in watching}
        status = dict(
            enterprise_selectors.enterprises_with_ids(ids)
            .select_related(None)
            .order_by()
            .values_list("pk", "status")
        )
        open_keys = set()
        for entry in watching:
            if status.get(entry.enterprise_id) == EnterpriseStatus.MOVED_OUT:
                WATCH.check(state=entry.state, action="moved_out", user=None)
                entry.state = WatchState.MOVED_OUT
                entry._change_reason = "企业已迁出"
                entry.save(update_fields=["state", "updated_at"])
            else:
                open_keys.add((entry.enterprise_id, entry.rule))
        cleared = {
            (enterprise_id, rule): timezone.localdate(at)
            for enterprise_id, rule, at in WatchEntry.objects.filter(
                authority=authority, state=WatchState.CLEARED, enterprise_id__in=ids
            )
            .values("enterprise_id", "rule")
            .annotate(at=Max("updated_at"))
            .values_list("enterprise_id", "rule", "at")
        }
        fresh = []
        for signal in signals:
            key = (signal.enterprise_id, signal.rule)
            if status.get(signal.enterprise_id) != EnterpriseStatus.ACTIVE or key in open_keys:
                continue
            # Cleared on this evidence already: only a newer record opens the entry again.
            if key in cleared and signal.evidence_on <= cleared[key]:
                continue
            fresh.append(
                WatchEntry(
                    authority=authority,
                    enterprise_id=signal.enterprise_id,
                    rule=signal.rule,
                    detail=signal.detail,
                    flagged_on=today,
                    state=WatchState.WATCHING,
                )
            )
        if fresh:
            bulk_create_with_history(fresh, WatchEntry, batch_size=500, default_change_reason="预警规则命中")
    return len(fresh)


def watch_clear(*, entry: WatchEntry, actor, reason: str) -> WatchEntry:
    """Take an enterprise off the watch list (the officer has checked it stays); the reason is required."""
    WATCH.check(state=entry.state, action="clear", user=actor)
    assert_authority(entry, actor, what="该预警")
    errors = Errors()
    reason = clean_text(reason, name="reason", label="解除原因", max_length=300, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        locked = WatchEntry.objects.select_for_update().get(pk=entry.pk)
        WATCH.check(state=locked.state, action="clear", user=actor)
        locked.state = WatchState.CLEARED
        locked.cleared_reason = reason
        locked.cleared_by = actor
        locked._history_user = actor
        locked._change_reason = reason
        locked.save()
    return locked
