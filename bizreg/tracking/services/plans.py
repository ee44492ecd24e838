"""Visit plans (走访计划): generated from the register by the authority's editable rules, assigned to an
officer with a due date, cancelled with a reason, or added by hand. A plan is completed only by submitting
the visit made for it (services.visits). Every state change goes through workflows.PLAN.

Generation is idempotent: each plan carries the key of the event that fired its rule (the establishment date,
the register version, the branch, the move-out case), and an event already planned is skipped, so the daily
run and the manager's "generate now" never duplicate a plan. It reads the register set-based (a handful of
queries whatever the size of the register).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from bizreg.accounts.roles import ROLE_BY_CODE
from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for
from bizreg.enterprises import selectors as register
from bizreg.enterprises.models import EntityType
from bizreg.registration.selectors.migrations import move_out_applications
from bizreg.tracking.models import PlanReason, PlanRule, PlanState, VisitPlan
from bizreg.tracking.services.common import Errors, assert_authority, assert_perm, clean_text, text
from bizreg.tracking.workflows import PLAN

CHANGE_RULE = "tracking.change_planrule"
ADD_PLAN = "tracking.add_visitplan"
OFFICER_ROLE = "enterprise_officer"

# The rules every authority starts with (created on first use, then edited by the manager).
DEFAULT_RULES: dict[str, dict[str, Any]] = {
    PlanReason.NEW_ENTERPRISE: {
        "window_days": 90,
        "threshold": Decimal("0"),
        "due_days": 30,
        "note": "成立日期在统计窗口内的存续企业（不含个体工商户和分支机构）",
    },
    PlanReason.CAPITAL_INCREASE: {
        "window_days": 90,
        "threshold": Decimal("20"),
        "due_days": 30,
        "note": "统计窗口内注册资本增幅达到阈值（%）",
    },
    PlanReason.NEW_BRANCH: {
        "window_days": 90,
        "threshold": Decimal("0"),
        "due_days": 30,
        "note": "统计窗口内新设分支机构的本区企业",
    },
    PlanReason.SCOPE_WIDENED: {
        "window_days": 90,
        "threshold": Decimal("1"),
        "due_days": 30,
        "note": "统计窗口内经营范围新增项目数达到阈值",
    },
    PlanReason.MOVE_OUT: {
        "window_days": 90,
        "threshold": Decimal("0"),
        "due_days": 5,
        "note": "统计窗口内收到迁出申请的企业（每件迁出业务一条）",
    },
}
GENERATED_REASONS = tuple(DEFAULT_RULES)
# 个体工商户 are not enterprises (企业跟踪 visits 新落户企业), and a new branch is a growth signal of its
# parent (the branch rule), not a newly settled enterprise.
NOT_NEW_ENTERPRISES = (EntityType.INDIVIDUAL_BUSINESS, EntityType.BRANCH)
RULE_FIELDS = frozenset({"enabled", "window_days", "threshold", "due_days", "note"})
# Business scope items are separated by Chinese or Western punctuation.
SCOPE_SEPARATORS = re.compile(r"[；;、，,。]")
_KEY_CHUNK = 900


# --- rules ---------------------------------------------------------------------------------------------


def plan_rules_for(*, authority: Authority) -> list[PlanRule]:
    """The authority's generation rules in a fixed order, the defaults created on first use."""
    existing = {rule.reason: rule for rule in PlanRule.objects.filter(authority=authority)}
    for reason, defaults in DEFAULT_RULES.items():
        if reason in existing:
            continue
        try:
            with transaction.atomic():
                existing[reason] = PlanRule.objects.create(authority=authority, reason=reason, **defaults)
        except IntegrityError:  # another request created it first
            existing[reason] = PlanRule.objects.get(authority=authority, reason=reason)
    return [existing[reason] for reason in GENERATED_REASONS]


def _int_in(value: Any, *, name: str, label: str, low: int, high: int, errors: Errors) -> int | None:
    try:
        number = int(text(value))
    except ValueError:
        errors.add(name, f"{label}须为整数。")
        return None
    if not low <= number <= high:
        errors.add(name, f"{label}须在 {low}–{high} 之间。")
        return None
    return number


def _threshold(rule: PlanRule, value: Any, errors: Errors) -> Decimal | None:
    try:
        number = Decimal(text(value) or "0")
    except InvalidOperation:
        errors.add("threshold", "阈值须为数字。")
        return None
    if not number.is_finite() or number < 0:
        errors.add("threshold", "阈值不能为负数。")
        return None
    if rule.reason == PlanReason.CAPITAL_INCREASE and number > 1000:
        errors.add("threshold", "增资比例阈值须在 0–1000（%）之间。")
        return None
    if rule.reason == PlanReason.SCOPE_WIDENED and (number != number.to_integral_value() or number < 1):
        errors.add("threshold", "经营范围新增项目数须为不小于 1 的整数。")
        return None
    return number.quantize(Decimal("0.01"))


def plan_rule_update(*, rule: PlanRule, actor, **fields: Any) -> PlanRule:
    """Change a rule (manager): enabled, window_days (1–3650), threshold (capital: percent 0–1000; scope: new
    items ≥ 1), due_days (1–365), note. Applies from the next generation run; plans made stay as they are."""
    unknown = set(fields) - RULE_FIELDS
    if unknown:
        raise TypeError(f"plan_rule_update() got unexpected fields {sorted(unknown)}")
    assert_perm(actor, CHANGE_RULE, "您的角色无权修改走访计划规则。")
    assert_authority(rule, actor, what="该规则")
    errors = Errors()
    changes: dict[str, Any] = {}
    if "enabled" in fields:
        changes["enabled"] = bool(fields["enabled"])
    if "window_days" in fields:
        changes["window_days"] = _int_in(
            fields["window_days"], name="window_days", label="统计窗口（天）", low=1, high=3650, errors=errors
        )
    if "due_days" in fields:
        changes["due_days"] = _int_in(
            fields["due_days"], name="due_days", label="走访期限（天）", low=1, high=365, errors=errors
        )
    if "threshold" in fields:
        changes["threshold"] = _threshold(rule, fields["threshold"], errors)
    if "note" in fields:
        changes["note"] = clean_text(
            fields["note"], name="note", label="说明", max_length=200, errors=errors, required=False
        )
    errors.raise_if_any()
    with transaction.atomic():
        locked = PlanRule.objects.select_for_update().get(pk=rule.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked._history_user = actor
        locked.save()
    return locked


# --- generation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    enterprise_id: int
    reason: str
    trigger: str
    trigger_key: str
    source_case_number: str = ""


def _wan(yuan: Decimal) -> str:
    """Yuan as 万元 without trailing zeros (1000000 → "100", 1234500 → "123.45")."""
    value = (Decimal(yuan) / 10000).quantize(Decimal("0.01"))
    shown = f"{value:f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def scope_items(scope: str) -> list[str]:
    """The items of a business scope, in order, without repeats."""
    seen: dict[str, None] = {}
    for item in SCOPE_SEPARATORS.split(scope or ""):
        item = item.strip()
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


@dataclass
class _Run:
    """One generation run: the authority, the day it runs as of, and the register's version chains it has
    read, by window start (the capital and scope rules share the default 90-day window, and the chains are
    the largest read of a run)."""

    authority: Authority
    today: dt.date
    _chains: dict[dt.datetime, dict[int, list[register.RegisterVersion]]] = field(default_factory=dict)

    def versions_changed_since(self, since: dt.datetime) -> dict[int, list[register.RegisterVersion]]:
        if since not in self._chains:
            self._chains[since] = register.register_versions_changed_since(
                authority_id=self.authority.pk, since=since
            )
        return self._chains[since]


def _new_enterprises(run: _Run, rule: PlanRule) -> Iterable[Candidate]:
    since = run.today - dt.timedelta(days=rule.window_days)
    for enterprise_id, _name, established_on in register.active_established_between(
        authority_id=run.authority.pk, since=since, until=run.today, exclude_types=NOT_NEW_ENTERPRISES
    ):
        yield Candidate(
            enterprise_id,
            PlanReason.NEW_ENTERPRISE,
            f"新设立企业，成立日期 {established_on:%Y-%m-%d}",
            f"established:{established_on.isoformat()}",
        )


def _versions_in_window(run: _Run, rule: PlanRule):
    """(enterprise id, baseline version, versions recorded within the window up to today)."""
    since = _start_of(run.today - dt.timedelta(days=rule.window_days))
    until = _start_of(run.today + dt.timedelta(days=1))
    chains = run.versions_changed_since(since)
    for enterprise_id, chain in chains.items():
        chain = [version for version in chain if version.recorded_at < until]
        if len(chain) > 1:
            yield enterprise_id, chain[0], chain[1:]


def _capital_increases(run: _Run, rule: PlanRule) -> Iterable[Candidate]:
    """A raise measured from the lowest capital since the last raise that fired (so two small raises in the
    window add up, and one raise fires once whatever day the rule runs)."""
    for enterprise_id, baseline, versions in _versions_in_window(run, rule):
        base = baseline.registered_capital
        for version in versions:
            new = version.registered_capital
            if new is None or new == base:
                continue
            if base is None or base <= 0 or new < base:
                base = new
                continue
            if (new - base) * 100 >= rule.threshold * base:
                yield Candidate(
                    enterprise_id,
                    PlanReason.CAPITAL_INCREASE,
                    f"注册资本由 {_wan(base)} 万元增至 {_wan(new)} 万元",
                    f"history:{version.history_id}",
                )
                base = new


def _scope_widenings(run: _Run, rule: PlanRule) -> Iterable[Candidate]:
    needed = max(1, int(rule.threshold))
    for enterprise_id, baseline, versions in _versions_in_window(run, rule):
        known = set(scope_items(baseline.business_scope))
        for version in versions:
            added = [item for item in scope_items(version.business_scope) if item not in known]
            if len(added) >= needed:
                listed = "、".join(added)
                trigger = f"经营范围新增 {len(added)} 项：{listed}"
                yield Candidate(
                    enterprise_id,
                    PlanReason.SCOPE_WIDENED,
                    trigger if len(trigger) <= 300 else trigger[:299] + "…",
                    f"history:{version.history_id}",
                )
                known = set(scope_items(version.business_scope))


def _new_branches(run: _Run, rule: PlanRule) -> Iterable[Candidate]:
    since = run.today - dt.timedelta(days=rule.window_days)
    matches = register.branches_with_local_parent(authority_id=run.authority.pk, since=since, until=run.today)
    for match in matches:
        trigger = f"新设分支机构：{match.branch_name}（{match.established_on:%Y-%m-%d} 成立）"
        yield Candidate(match.parent_id, PlanReason.NEW_BRANCH, trigger[:300], f"branch:{match.branch_id}")


def _move_outs(run: _Run, rule: PlanRule) -> Iterable[Candidate]:
    since = run.today - dt.timedelta(days=rule.window_days)
    for application in move_out_applications(authority_id=run.authority.pk, received_since=since):
        if application.received_on > run.today:
            continue
        destination = f"至{application.destination_authority}" if application.destination_authority else ""
        received = f"{application.received_on:%Y-%m-%d}"
        trigger = f"申请迁出{destination}（登记业务 {application.case_number}，{received} 收件）"
        yield Candidate(
            application.enterprise_id,
            PlanReason.MOVE_OUT,
            trigger[:300],
            f"case:{application.case_number}",
            source_case_number=application.case_number,
        )


GENERATORS = {
    PlanReason.NEW_ENTERPRISE: _new_enterprises,
    PlanReason.CAPITAL_INCREASE: _capital_increases,
    PlanReason.NEW_BRANCH: _new_branches,
    PlanReason.SCOPE_WIDENED: _scope_widenings,
    PlanReason.MOVE_OUT: _move_outs,
}


def _planned_keys(authority: Authority, candidates: list[Candidate]) -> set[tuple[int, str, str]]:
    keys = sorted({c.trigger_key for c in candidates})
    found: set[tuple[int, str, str]] = set()
    plans = VisitPlan.objects.filter(authority=authority, reason__in={c.reason for c in candidates})
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[start : start + _KEY_CHUNK]
        found.update(
            plans.filter(trigger_key__in=chunk).values_list("enterprise_id", "reason", "trigger_key")
        )
    return found


def plans_generate(*, authority: Authority, actor=None, today: dt.date | None = None) -> int:
    """Run the authority's enabled rules as of `today` (default: today) and add a plan for every event not
    planned yet; returns the number of plans added. `actor` None is the daily task."""
    if actor is not None:
        assert_perm(actor, ADD_PLAN, "您的角色无权生成走访计划。")
        if not getattr(actor, "is_superuser", False) and authority.pk not in authority_ids_for(actor):
            raise PermissionDenied("该登记机关不在您的权限范围内。")
    today = today or timezone.localdate()
    rules = plan_rules_for(authority=authority)
    with transaction.atomic():
        # Two runs for one authority at once (the beat task and a manager's click) queue here, so the
        # second sees the first one's plans.
        list(PlanRule.objects.select_for_update().filter(authority=authority).values_list("pk", flat=True))
        due_days = {rule.reason: rule.due_days for rule in rules}
        candidates: dict[tuple[int, str, str], Candidate] = {}
        run = _Run(authority, today)
        for rule in rules:
            if not rule.enabled:
                continue
            for candidate in GENERATORS[rule.reason](run, rule):
                key = (candidate.enterprise_id, candidate.reason, candidate.trigger_key)
                candidates.setdefault(key, candidate)
        if not candidates:
            return 0
        planned = _planned_keys(authority, list(candidates.values()))
        plans = [
            VisitPlan(
                authority=authority,
                enterprise_id=c.enterprise_id,
                reason=c.reason,
                trigger=c.trigger,
                trigger_key=c.trigger_key,
                source_case_number=c.source_case_number,
                state=PlanState.OPEN,
                planned_on=today,
                due_on=today + dt.timedelta(days=due_days[c.reason]),
            )
            for key, c in candidates.items()
            if key not in planned
        ]
        if plans:
            bulk_create_with_history(plans, VisitPlan, batch_size=500, default_user=actor)
    return len(plans)


# --- assignment, cancellation, manual plans --------------------------------------------------------------


def _check_officer(officer, authority_id: int, errors: Errors) -> None:
    if officer is None:
        errors.add("officer", "请选择走访专员。")
        return
    role = Group.objects.filter(name=ROLE_BY_CODE[OFFICER_ROLE].name)
    if not officer.is_active:
        errors.add("officer", f"{officer} 的账号已停用。")
    elif not officer.groups.filter(pk__in=role).exists():
        errors.add("officer", f"{officer} 不是企业服务专员，不能分派走访计划。")
    elif not officer.authorities.filter(pk=authority_id).exists():
        errors.add("officer", f"{officer} 不属于该登记机关。")


def _due(value: Any, errors: Errors, *, required: bool) -> dt.date | None:
    if value in (None, ""):
        if required:
            errors.add("due_on", "请填写走访期限。")
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(text(value))
        except ValueError:
            errors.add("due_on", "走访期限须为日期（YYYY-MM-DD）。")
            return None
    if value < timezone.localdate():
        errors.add("due_on", "走访期限不能早于今天。")
        return None
    return value


def _lock(plan: VisitPlan, action: str, actor) -> VisitPlan:
    """The plan row locked, its state checked again (another user may have moved it meanwhile)."""
    locked = VisitPlan.objects.select_for_update().get(pk=plan.pk)
    PLAN.check(state=locked.state, action=action, user=actor)
    return locked


def plan_assign(*, plan: VisitPlan, officer, actor, due_on: dt.date | None = None) -> VisitPlan:
    """Give the plan to an enterprise-service officer of its authority (manager); re-assigning is allowed
    while the plan is open. `due_on` (not before today) replaces the generated due date."""
    assert_authority(plan, actor, what="该走访计划")
    PLAN.check(state=plan.state, action="assign", user=actor)
    errors = Errors()
    _check_officer(officer, plan.authority_id, errors)
    due = _due(due_on, errors, required=False)
    errors.raise_if_any()
    with transaction.atomic():
        locked = _lock(plan, "assign", actor)
        locked.officer = officer
        locked.state = PLAN.transition("assign").target
        if due is not None:
            locked.due_on = due
        locked._history_user = actor
        locked.save()
    return locked


def plan_cancel(*, plan: VisitPlan, actor, reason: str) -> VisitPlan:
    """Cancel an open plan (manager), with the reason (the enterprise closed, visited for another plan …)."""
    assert_authority(plan, actor, what="该走访计划")
    PLAN.check(state=plan.state, action="cancel", user=actor)
    errors = Errors()
    reason = clean_text(reason, name="reason", label="取消原因", max_length=300, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        locked = _lock(plan, "cancel", actor)
        locked.state = PLAN.transition("cancel").target
        locked.cancel_reason = reason
        locked._history_user = actor
        locked.save()
    return locked


def plan_add(
    *, authority: Authority, enterprise, actor, due_on: dt.date, officer=None, note: str
) -> VisitPlan:
    """A plan added by hand (MANUAL) for an enterprise of the authority, assigned at once when `officer` is
    given; `note` says why the enterprise is to be visited."""
    assert_perm(actor, ADD_PLAN, "您的角色无权添加走访计划。")
    if not getattr(actor, "is_superuser", False) and authority.pk not in authority_ids_for(actor):
        raise PermissionDenied("该登记机关不在您的权限范围内。")
    errors = Errors()
    if enterprise is None or enterprise.authority_id != authority.pk:
        errors.add("enterprise", "企业不存在或不属于本登记机关。")
    if officer is not None:
        PLAN.check(state=PlanState.OPEN, action="assign", user=actor)
        _check_officer(officer, authority.pk, errors)
    due = _due(due_on, errors, required=True)
    note = clean_text(note, name="note", label="走访事由", max_length=290, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        plan = VisitPlan(
            authority=authority,
            enterprise=enterprise,
            reason=PlanReason.MANUAL,
            trigger=f"人工添加：{note}",
            trigger_key=f"manual:{uuid.uuid4().hex}",
            state=PLAN.transition("assign").target if officer is not None else PlanState.OPEN,
            officer=officer,
            planned_on=timezone.localdate(),
            due_on=due,
        )
        plan._history_user = actor
        plan.save()
    return plan
