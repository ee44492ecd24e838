"""The hotline dashboard (figures of a period, per day, line, agent and hour, Excel export) and the capacity
planner. Thin: parse the form, ask selectors.metrics and consultation.erlang/simulation, render."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from openpyxl import Workbook

from bizreg.consultation import erlang, simulation
from bizreg.consultation.forms.planner import CapacityPlannerForm, DashboardForm
from bizreg.consultation.selectors import metrics as selectors
from bizreg.core.excel import safe_cell, workbook_response
from bizreg.core.metrics_registry import get_metric
from bizreg.core.scoping import authority_ids_for

VIEW_PERM = "consultation.view_call"
PLAN_PERM = "consultation.plan_capacity"
# The simulation check of the planner: calls per simulated hour, kept small so a page answers in ~1 s.
SIMULATION_CALLS_PER_HOUR = 20_000
# Each simulated call scans the lines in order: past this many lines a 24-hour check no longer fits a request.
MAX_SIMULATED_LINES = 50
DEFAULT_LINES = 5  # the seed's hunt group, when no hotline is chosen
DEFAULT_ANSWER_WITHIN_SECONDS = 20


def _with_filters(url: str, **params) -> str:
    """A list URL with more filters; empty values are left out."""
    extra = {name: value for name, value in params.items() if value not in (None, "")}
    if not url or not extra:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(extra)}"


def _drill_down(key: str, user, first, last, hotline=None) -> str:
    """The list of the records behind a figure. The period the lists filter on is the page's own; a list
    page not yet mounted must not take the dashboard down with it. Tickets belong to no hotline, so only
    the call lists get the hotline filter."""
    try:
        url = get_metric(key).drill_down_url(authority_ids_for(user), first, last + dt.timedelta(days=1))
        if hotline is not None and url.startswith(reverse("consultation:call_list") + "?"):
            url = _with_filters(url, hotline=hotline.pk)
    except (KeyError, NoReverseMatch):
        return ""
    return url


def _calls_url(**params) -> str:
    try:
        base = reverse("consultation:call_list")
    except NoReverseMatch:
        return ""
    return _with_filters(base, **params)


def _period_presets(hotline) -> list[dict]:
    """Quick periods above the form: the last 7 and 30 days, this and last month, the year so far."""
    today = timezone.localdate()
    month_start = today.replace(day=1)
    last_month_end = month_start - dt.timedelta(days=1)
    presets = [
        (_("近 7 天"), today - dt.timedelta(days=6), today),
        (_("近 30 天"), today - dt.timedelta(days=29), today),
        (_("本月"), month_start, today),
        (_("上月"), last_month_end.replace(day=1), last_month_end),
        (_("今年"), today.replace(month=1, day=1), today),
    ]
    return [
        {
            "label": label,
            "query": urlencode(
                {
                    "date_from": first.isoformat(),
                    "date_to": last.isoformat(),
                    **({"hotline": hotline.pk} if hotline else {}),
                }
            ),
        }
        for label, first, last in presets
    ]


def _cards(user, first, last, calls, tickets, hotline=None) -> list[dict]:
    def card(key, label, value, unit, note=""):
        return {
            "key": key,
            "label": label,
            "value": value,
            "unit": unit,
            "note": note,
            "url": _drill_down(f"consultation.{key}", user, first, last, hotline),
        }

    return [
        card("hotline_answer_rate", _("接听率"), calls.answer_rate, "%",
             _("接听 %(a)s / 来电 %(o)s") % {"a": calls.answered, "o": calls.offered}),
        card("hotline_completion_rate", _("完成解答率"), calls.completion_rate, "%",
             _("完成 %(c)s / 接听 %(a)s") % {"c": calls.completed, "a": calls.answered}),
        card("satisfaction_rate", _("电话咨询满意度"), calls.satisfaction_rate, "%",
             _("满意 %(s)s / 回访 %(n)s") % {"s": calls.satisfied, "n": calls.surveyed}),
        card("hotline_service_level", _("服务水平"), calls.service_level, "%",
             _("时限内接听 %(n)s 通") % {"n": calls.answered_within_sl}),
        card("hotline_asa_seconds", _("平均应答速度 ASA"), calls.asa_seconds, _("秒")),
        card("hotline_aht_seconds", _("平均处理时长 AHT"), calls.aht_seconds, _("秒")),
        card("hotline_abandon_rate", _("呼损率（挂断）"), calls.abandon_rate, "%",
             _("挂断 %(a)s，占线 %(b)s，未接 %(m)s")
             % {"a": calls.abandoned, "b": calls.blocked, "m": calls.missed}),
        card("business_volume", _("咨询业务服务量"), calls.answered + tickets.opened, _("件"),
             _("来电 %(c)s + 工单 %(t)s") % {"c": calls.answered, "t": tickets.opened}),
        card("tickets_resolved_within_sla_rate", _("工单按时解答率"), tickets.resolved_within_sla_rate, "%",
             _("按时 %(n)s / 应解答 %(d)s") % {"n": tickets.resolved_on_time, "d": tickets.due}),
        card("complaints_closed_on_time_rate", _("投诉按期办结率"), tickets.complaints_on_time_rate, "%",
             _("按期 %(n)s / 应办结 %(d)s") % {"n": tickets.complaints_on_time, "d": tickets.complaints_due}),
    ]  # fmt: skip


def _chart_data(daily, hourly) -> dict:
    return {
        "days": [row.day.isoformat() for row in daily],
        "offered": [row.figures.offered for row in daily],
        "answered": [row.figures.answered for row in daily],
        "answer_rate": [float(row.figures.answer_rate) if row.figures.offered else None for row in daily],
        "hours": [f"{row.hour:02d}" for row in hourly],
        "offered_per_day": [round(row.offered_per_day, 2) for row in hourly],
        "labels": {
            "offered": _("来电量"),
            "answered": _("接听量"),
            "answer_rate": _("接听率（%）"),
            "offered_per_day": _("日均来电量"),
        },
    }


def _render_dashboard(request, form: DashboardForm, *, status: int = 200):
    """The page for a form: its period when valid, else the default period with the form's errors."""
    user = request.user
    first, last, hotline = form.period()
    calls = selectors.period_call_figures(user=user, first=first, last=last, hotline=hotline)
    tickets = selectors.period_ticket_figures(user=user, first=first, last=last)
    daily = selectors.daily_figures(user=user, first=first, last=last, hotline=hotline)
    hourly = selectors.hourly_figures(user=user, first=first, last=last, hotline=hotline)
    lines = selectors.line_figures(user=user, first=first, last=last, hotline=hotline)
    agents = selectors.agent_figures(user=user, first=first, last=last, hotline=hotline)
    hotline_pk = hotline.pk if hotline else None
    period = {"date_from": first.isoformat(), "date_to": last.isoformat()}
    context = {
        "form": form,
        "first": first,
        "last": last,
        "hotline": hotline,
        "calls": calls,
        "cards": _cards(user, first, last, calls, tickets, hotline),
        "presets": _period_presets(hotline),
        "daily": [
            {
                "row": row,
                "url": _calls_url(
                    date_from=row.day.isoformat(), date_to=row.day.isoformat(), hotline=hotline_pk
                ),
            }
            for row in daily
            if row.figures.offered or row.figures.short_abandoned
        ],
        "hourly": hourly,
        "lines": lines,
        "line_rows": [
            {"row": row, "url": _calls_url(**period, line=row.line.pk) if row.line else ""}
            for row in lines.rows
        ],
        "agent_rows": [
            {
                "row": row,
                "url": _calls_url(**period, agent=row.agent.pk, outcome="answered", hotline=hotline_pk)
                if row.agent
                else "",
            }
            for row in agents
        ],
        "chart": _chart_data(daily, hourly),
        "export_query": form.data.urlencode() if form.is_bound and form.is_valid() else "",
        "can_plan": user.has_perm(PLAN_PERM),
    }
    return render(request, "consultation/dashboard/dashboard.html", context, status=status)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def dashboard(request):
    form = DashboardForm(request.GET or None, user=request.user)
    invalid = form.is_bound and not form.is_valid()
    return _render_dashboard(request, form, status=400 if invalid else 200)


# --- Excel ------------------------------------------------------------------------------------------------


def _rate(value) -> float:
    return float(value)


def _figure_cells(f) -> list:
    return [
        f.offered, f.answered, f.abandoned, f.blocked, f.missed,
        _rate(f.answer_rate), _rate(f.service_level), _rate(f.asa_seconds), _rate(f.aht_seconds),
        f.completed, _rate(f.completion_rate), f.surveyed, _rate(f.satisfaction_rate),
    ]  # fmt: skip


FIGURE_HEADERS = [
    "来电量", "接听", "挂断", "占线/拥塞", "未接", "接听率（%）", "服务水平（%）", "ASA（秒）", "AHT（秒）",
    "完成解答", "完成解答率（%）", "回访数", "满意度（%）",
]  # fmt: skip


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def dashboard_export(request):
    form = DashboardForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        # The same page and errors as the dashboard: a workbook of the default period would be mistaken for
        # the one asked for.
        return _render_dashboard(request, form, status=400)
    first, last, hotline = form.period()
    user = request.user
    workbook = Workbook(write_only=True)

    summary = workbook.create_sheet(_("汇总"))
    summary.append([_("统计区间"), f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}"])
    summary.append([_("热线"), safe_cell(str(hotline)) if hotline else _("全部热线")])
    summary.append([])
    for card in _cards(user, first, last, *_period(user, first, last, hotline), hotline):
        summary.append([card["label"], float(card["value"]), card["unit"], safe_cell(card["note"])])

    sheet = workbook.create_sheet(_("每日"))
    sheet.append([_("日期"), *FIGURE_HEADERS])
    for row in selectors.daily_figures(user=user, first=first, last=last, hotline=hotline):
        sheet.append([row.day.isoformat(), *_figure_cells(row.figures)])

    sheet = workbook.create_sheet(_("分线"))
    sheet.append([_("热线"), _("响铃顺序"), _("分线"), *FIGURE_HEADERS, _("占线时长（小时）"),
                  _("接听占比（%）"), _("实测占用率（%）"), _("线性搜线理论占用率（%）")])  # fmt: skip
    table = selectors.line_figures(user=user, first=first, last=last, hotline=hotline)
    for row in table.rows:
        sheet.append(
            [
                safe_cell(str(row.hotline)) if row.hotline else "",
                row.line.position if row.line else "",
                safe_cell(row.line.label) if row.line else _("未分配分线（占线、排队中挂断等）"),
                *_figure_cells(row.figures),
                round(row.busy_seconds / 3600, 2),
                _pct(row.share_of_answered),
                _pct(row.occupancy),
                _pct(row.erlang_occupancy),
            ]
        )

    sheet = workbook.create_sheet(_("坐席"))
    sheet.append([_("坐席"), _("PBX 坐席标识"), *FIGURE_HEADERS])
    for row in selectors.agent_figures(user=user, first=first, last=last, hotline=hotline):
        name = str(row.agent.user) if row.agent else _("未记录坐席")
        sheet.append(
            [safe_cell(name), safe_cell(row.agent.pbx_code) if row.agent else "", *_figure_cells(row.figures)]
        )

    sheet = workbook.create_sheet(_("时段"))
    sheet.append([_("时段"), _("日均来电量"), *FIGURE_HEADERS])
    for row in selectors.hourly_figures(user=user, first=first, last=last, hotline=hotline):
        sheet.append(
            [
                f"{row.hour:02d}:00–{row.hour + 1:02d}:00",
                round(row.offered_per_day, 2),
                *_figure_cells(row.figures),
            ]
        )

    filename = _("热线统计_%(first)s_%(last)s.xlsx") % {"first": f"{first:%Y%m%d}", "last": f"{last:%Y%m%d}"}
    return workbook_response(workbook, filename)


def _period(user, first, last, hotline):
    return (
        selectors.period_call_figures(user=user, first=first, last=last, hotline=hotline),
        selectors.period_ticket_figures(user=user, first=first, last=last),
    )


def _pct(value: float | None):
    return "" if value is None else round(value * 100, 2)


# --- the capacity planner ---------------------------------------------------------------------------------


def _simulation_check(plan: erlang.HourPlan, lines: int, seed: int) -> dict:
    """Simulate the hour on the linear hunt group and say whether Erlang B lies in the simulation's 95 %
    confidence interval. A run in which no call (or every call) was blocked has no spread between batches;
    then the rule of three stands in for the interval: with n calls and none blocked, blocking up to 3/n is
    still consistent with what was seen."""
    result = simulation.simulate_hunt_group(
        lines=lines, load=plan.line_load, calls=SIMULATION_CALLS_PER_HOUR, seed=seed
    )
    estimate = result.blocking
    exact = plan.blocking_now
    if estimate.standard_error > 0:
        low, high = max(0.0, estimate.low), min(1.0, estimate.high)
        sigmas = abs(estimate.mean - exact) / estimate.standard_error
    else:
        low = max(0.0, estimate.mean - 3 / result.calls)
        high = min(1.0, estimate.mean + 3 / result.calls)
        sigmas = 0.0 if low <= exact <= high else float("inf")
    within = low <= exact <= high
    return {
        "result": result,
        "percent": estimate.mean * 100,
        "half_width_percent": estimate.half_width * 100
        if estimate.standard_error > 0
        else 300 / result.calls,
        "low_percent": low * 100,
        "high_percent": high * 100,
        "within": within,
        # Outside a 95 % interval happens to one hour in twenty by chance; beyond 3 standard errors it
        # would point at a fault in the model or the inputs.
        "within_3_se": within or sigmas <= 3,
        "sigmas": sigmas,
    }


def _queue_row(plan: erlang.HourPlan, agents: int, aht: float, within: float) -> dict | None:
    """Erlang C for the agents on duty: P(wait), service level and ASA if callers queued for them."""
    if plan.arrivals == 0:
        return None
    check = erlang.queue_check(agents, plan.agent_load, aht, within)
    return {
        "check": check,
        "stable": check.stable,
        "wait_probability": check.wait_probability,
        "wait_percent": check.wait_probability * 100,
        "service_level_percent": check.service_level * 100,
        "asa_seconds": check.asa_seconds,
    }


@login_required
@permission_required(PLAN_PERM, raise_exception=True)
@require_GET
def capacity_planner(request):
    form = CapacityPlannerForm(request.GET or None, user=request.user)
    context: dict = {"form": form, "plan": None}
    if form.is_bound and not form.is_valid():
        return render(request, "consultation/dashboard/planner.html", context, status=400)
    if form.is_bound:
        data = form.cleaned_data
    else:
        # The first visit shows the unbound form (with its initial values) and computes from the defaults:
        # an empty submission is valid because every field is optional.
        defaults = CapacityPlannerForm({}, user=request.user)
        defaults.is_valid()
        data = defaults.cleaned_data
    first, last, hotline = data["date_from"], data["date_to"], data.get("hotline")
    profile = selectors.arrival_profile(user=request.user, first=first, last=last, hotline=hotline)
    arrivals = data.get("arrivals") or profile.per_hour
    line_holding = float(data["line_holding_seconds"] or 0) or profile.line_holding_seconds
    aht = float(data["aht_seconds"] or 0) or profile.aht_seconds
    lines = data.get("lines") or selectors.active_line_count(hotline) or DEFAULT_LINES
    # Without a queue every line has its agent: the agents on duty default to the lines.
    agents = data.get("agents") or lines
    within = data.get("answer_within_seconds")
    if within is None:
        within = hotline.service_level_seconds if hotline else DEFAULT_ANSWER_WITHIN_SECONDS
    context.update(
        {
            "profile": profile,
            "first": first,
            "last": last,
            "hotline": hotline,
            "arrivals_measured": data.get("arrivals") is None,
            "line_holding": line_holding,
            "line_holding_measured": not data["line_holding_seconds"],
            "aht": aht,
            "aht_measured": not data["aht_seconds"],
            "lines": lines,
            "agents": agents,
            "within": within,
            "target_answer_rate": data["target_answer_rate"],
            "target_service_level": data["target_service_level"],
        }
    )
    if line_holding is None or aht is None:
        context["missing"] = _(
            "所选区间没有已接听的来电，无法实测通话时长：请填写每通占线时长和平均处理时长，或换一个区间。"
        )
        return render(request, "consultation/dashboard/planner.html", context)
    if data.get("simulate") and lines > MAX_SIMULATED_LINES:
        form.add_error(
            None,
            _("仿真校验最多支持 %(max)d 条线路（现为 %(n)d 条）；请减少线路数或取消仿真校验。")
            % {"max": MAX_SIMULATED_LINES, "n": lines},
        )
        return render(request, "consultation/dashboard/planner.html", context, status=400)
    try:
        plan = erlang.plan_hours(
            arrivals_per_hour=arrivals,
            line_holding_seconds=line_holding,
            aht_seconds=aht,
            current_lines=lines,
            target_answer_rate=float(data["target_answer_rate"] / Decimal(100)),
            target_service_level=float(data["target_service_level"] / Decimal(100)),
            answer_within_seconds=within,
        )
        rows = [{"plan": hour, "queue": _queue_row(hour, agents, aht, within)} for hour in plan]
    except erlang.ErlangInputError as exc:
        form.add_error(None, str(exc))
        return render(request, "consultation/dashboard/planner.html", context, status=400)
    simulated = bool(data.get("simulate"))
    if simulated:
        for index, row in enumerate(rows):
            if row["plan"].line_load > 0:
                # A fixed seed per hour: the same inputs give the same check on every run.
                row["simulation"] = _simulation_check(row["plan"], lines, seed=index)
    checks = [row["simulation"] for row in rows if row.get("simulation")]
    busy = [h for h in plan if h.arrivals > 0]
    context.update(
        {
            "plan": rows,
            "simulated": simulated,
            "simulation_calls": SIMULATION_CALLS_PER_HOUR,
            "simulated_hours": len(checks),
            "simulated_within": sum(1 for check in checks if check["within"]),
            "simulated_within_3_se": sum(1 for check in checks if check["within_3_se"]),
            "peak": max(busy, key=lambda h: h.line_load) if busy else None,
            "lines_needed": max((h.lines_needed for h in busy), default=0),
            "agents_needed": max((h.agents_needed for h in busy), default=0),
            "day_blocked": _day_blocking(plan),
            "unstable_hours": [
                row["plan"].hour for row in rows if row["queue"] and not row["queue"]["stable"]
            ],
            "planner_chart": _planner_chart(plan),
        }
    )
    return render(request, "consultation/dashboard/planner.html", context)


def _planner_chart(plan: list[erlang.HourPlan]) -> dict:
    return {
        "hours": [f"{h.hour:02d}" for h in plan],
        "arrivals": [round(h.arrivals, 2) for h in plan],
        "lines_needed": [h.lines_needed or None for h in plan],
        "agents_needed": [h.agents_needed or None for h in plan],
        "labels": {
            "arrivals": _("来电量/小时"),
            "lines_needed": _("所需线路"),
            "agents_needed": _("所需坐席"),
        },
    }


def _day_blocking(plan) -> float | None:
    """The share (%) of a day's calls the current lines would lose: Σ arrivals·B ÷ Σ arrivals."""
    total = sum(h.arrivals for h in plan)
    if not total:
        return None
    return sum(h.arrivals * h.blocking_now for h in plan) / total * 100


urlpatterns: list = [
    path("hotline/dashboard/", dashboard, name="dashboard"),
    path("hotline/dashboard/export/", dashboard_export, name="dashboard_export"),
    path("hotline/capacity/", capacity_planner, name="capacity_planner"),
]
