"""Hotline set-up pages: numbers, the lines of each hunt group in ringing order, agents and shifts.

Everyone with the consultation view permissions reads them (agents see the roster); the section head
(manager) changes them. Thin: parse, call services.hotline, render.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook

from bizreg.consultation.forms.hotline import (
    AgentFilterForm,
    AgentForm,
    HotlineForm,
    LineForm,
    LineReorderForm,
    ShiftFilterForm,
    ShiftForm,
)
from bizreg.consultation.selectors import hotline as selectors
from bizreg.consultation.services import hotline as services
from bizreg.core.excel import safe_cell, workbook_response
from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for, default_authority_for

SHIFT_EXPORT_MAX_ROWS = 50_000


def _authority_of(user) -> Authority:
    if not user.is_superuser and not authority_ids_for(user):
        raise PermissionDenied(_("您的账号未分配登记机关，不能设置热线。"))
    return default_authority_for(user)


# --- hotline numbers ------------------------------------------------------------------------------------


@login_required
@permission_required("consultation.view_hotlinenumber", raise_exception=True)
@require_GET
def hotline_list(request):
    q = request.GET.get("q", "")[:100]
    hotlines = Paginator(selectors.hotline_list(user=request.user, q=q), selectors.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for hotline in hotlines:
        hotline.short_of_lines = selectors.hotline_short_of_lines(hotline)
    return render(
        request,
        "consultation/hotline/list.html",
        {"page": hotlines, "q": q, "min_lines": services.MIN_ACTIVE_LINES},
    )


@login_required
@permission_required("consultation.add_hotlinenumber", raise_exception=True)
@require_http_methods(["GET", "POST"])
def hotline_create(request):
    authority = _authority_of(request.user)
    form = HotlineForm(request.POST or None)
    del form.fields["reason"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hotline = services.hotline_create(
                authority=authority,
                actor=request.user,
                number=data["number"],
                name=data["name"],
                service_level_seconds=data["service_level_seconds"],
                is_active=data["is_active"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("已新建热线 %(number)s；请添加至少 %(min)d 条分线后再启用。")
                % {"number": hotline.number, "min": services.MIN_ACTIVE_LINES},
            )
            return redirect("consultation:hotline_detail", pk=hotline.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "consultation/hotline/form.html", {"form": form, "hotline": None}, status=status)


def _detail_context(request, hotline, **extra) -> dict:
    lines = selectors.hotline_lines(hotline=hotline)
    return {
        "hotline": hotline,
        "lines": lines,
        "active_lines": sum(1 for line in lines if line.is_active),
        "short_of_lines": selectors.hotline_short_of_lines(hotline),
        "min_lines": services.MIN_ACTIVE_LINES,
        "line_form": extra.pop("line_form", None) or LineForm(initial={"is_active": True}),
        "can_change_lines": request.user.has_perm("consultation.change_hotlineline"),
        "can_add_lines": request.user.has_perm("consultation.add_hotlineline"),
        "can_change": request.user.has_perm("consultation.change_hotlinenumber"),
        **extra,
    }


@login_required
@permission_required("consultation.view_hotlinenumber", raise_exception=True)
@require_GET
def hotline_detail(request, pk: int):
    hotline = selectors.hotline_for(user=request.user, pk=pk)
    return render(request, "consultation/hotline/detail.html", _detail_context(request, hotline))


@login_required
@permission_required(
    ["consultation.view_hotlinenumber", "consultation.change_hotlinenumber"], raise_exception=True
)
@require_http_methods(["GET", "POST"])
def hotline_edit(request, pk: int):
    hotline = selectors.hotline_for(user=request.user, pk=pk)
    initial = {
        "number": hotline.number,
        "name": hotline.name,
        "service_level_seconds": hotline.service_level_seconds,
        "is_active": hotline.is_active,
    }
    form = HotlineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.hotline_update(
                hotline=hotline,
                actor=request.user,
                number=data["number"],
                name=data["name"],
                service_level_seconds=data["service_level_seconds"],
                is_active=data["is_active"],
                reason=data.get("reason") or "",
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("热线已保存。"))
            return redirect("consultation:hotline_detail", pk=hotline.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "consultation/hotline/form.html", {"form": form, "hotline": hotline}, status=status
    )


# --- lines ----------------------------------------------------------------------------------------------


@login_required
@permission_required(
    ["consultation.view_hotlinenumber", "consultation.add_hotlineline"], raise_exception=True
)
@require_POST
def line_create(request, pk: int):
    hotline = selectors.hotline_for(user=request.user, pk=pk)
    form = LineForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            line = services.line_add(
                hotline=hotline,
                actor=request.user,
                label=data["label"],
                pbx_channel=data["pbx_channel"],
                is_active=data["is_active"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("已添加第 %(position)d 条分线：%(label)s。")
                % {"position": line.position, "label": line.label},
            )
            return redirect("consultation:hotline_detail", pk=hotline.pk)
    context = _detail_context(request, hotline, line_form=form)
    return render(request, "consultation/hotline/detail.html", context, status=400)


@login_required
@permission_required(
    ["consultation.view_hotlineline", "consultation.change_hotlineline"], raise_exception=True
)
@require_http_methods(["GET", "POST"])
def line_edit(request, pk: int):
    line = selectors.line_for(user=request.user, pk=pk)
    initial = {"label": line.label, "pbx_channel": line.pbx_channel, "is_active": line.is_active}
    form = LineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.line_update(
                line=line,
                actor=request.user,
                label=data["label"],
                pbx_channel=data["pbx_channel"],
                is_active=data["is_active"],
                reason=data.get("reason") or "",
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("分线已保存。"))
            return redirect("consultation:hotline_detail", pk=line.hotline_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "consultation/hotline/line_form.html", {"form": form, "line": line}, status=status)


def _lines_response(request, hotline, *, status: int = 200):
    """After a reorder: the lines table for HTMX, else back to the hotline page."""
    if request.htmx:
        context = _detail_context(request, hotline)
        return render(request, "consultation/hotline/lines_table.html", context, status=status)
    return redirect("consultation:hotline_detail", pk=hotline.pk)


@login_required
@permission_required(
    ["consultation.view_hotlineline", "consultation.change_hotlineline"], raise_exception=True
)
@require_POST
def line_move(request, pk: int):
    line = selectors.line_for(user=request.user, pk=pk)
    try:
        services.line_move(line=line, actor=request.user, direction=request.POST.get("direction", ""))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return _lines_response(request, line.hotline, status=400)
    messages.success(request, _("振铃顺序已调整。"))
    return _lines_response(request, line.hotline)


@login_required
@permission_required(
    ["consultation.view_hotlinenumber", "consultation.change_hotlineline"], raise_exception=True
)
@require_POST
def lines_reorder(request, pk: int):
    hotline = selectors.hotline_for(user=request.user, pk=pk)
    form = LineReorderForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["order"][0])
        services.lines_reorder(hotline=hotline, actor=request.user, order=form.cleaned_data["order"])
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return _lines_response(request, hotline, status=400)
    messages.success(request, _("振铃顺序已调整。"))
    return _lines_response(request, hotline)


# --- agents ---------------------------------------------------------------------------------------------


@login_required
@permission_required("consultation.view_agent", raise_exception=True)
@require_GET
def agent_list(request):
    form = AgentFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    active = {"1": True, "0": False}.get(data.get("active") or "")
    agents = selectors.agent_search(user=request.user, q=data.get("q") or "", active=active)
    page = Paginator(agents, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    on_duty = set(selectors.agents_on_duty(user=request.user).values_list("pk", flat=True))
    return render(
        request, "consultation/hotline/agents.html", {"form": form, "page": page, "on_duty": on_duty}
    )


@login_required
@permission_required(["consultation.view_agent", "consultation.add_agent"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def agent_create(request):
    authority = _authority_of(request.user)
    form = AgentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agent = services.agent_create(
                authority=authority,
                actor=request.user,
                user=data["user"],
                pbx_code=data["pbx_code"],
                extension=data.get("extension") or "",
                is_active=data["is_active"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已添加坐席：%(agent)s。") % {"agent": agent})
            return redirect("consultation:agent_list")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "consultation/hotline/agent_form.html", {"form": form, "agent": None}, status=status
    )


@login_required
@permission_required(["consultation.view_agent", "consultation.change_agent"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def agent_edit(request, pk: int):
    agent = selectors.agent_for(user=request.user, pk=pk)
    initial = {"pbx_code": agent.pbx_code, "extension": agent.extension, "is_active": agent.is_active}
    form = AgentForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.agent_update(
                agent=agent,
                actor=request.user,
                pbx_code=data["pbx_code"],
                extension=data.get("extension") or "",
                is_active=data["is_active"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("坐席已保存。"))
            return redirect("consultation:agent_list")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "consultation/hotline/agent_form.html", {"form": form, "agent": agent}, status=status
    )


# --- shifts ---------------------------------------------------------------------------------------------


@login_required
@permission_required("consultation.view_shift", raise_exception=True)
@require_GET
def shift_list(request):
    """The week view (Monday–Sunday, shifts by day) and the list of that week's shifts."""
    form = ShiftFilterForm(request.GET or None, user=request.user)
    valid = form.is_valid()
    start = form.week_start()
    agent = form.cleaned_data.get("agent") if valid else None
    week = selectors.shift_week(user=request.user, start=start, agent=agent)
    filters = {
        "agent": agent,
        "q": form.cleaned_data.get("q") if valid else "",
        "date_from": week.start,
        "date_to": week.next - dt.timedelta(days=1),
    }
    page = selectors.shift_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("week", None)
    return render(
        request,
        "consultation/hotline/shifts.html",
        {"form": form, "week": week, "page": page, "query": query.urlencode(), "today": timezone.localdate()},
        status=200 if (valid or not request.GET) else 400,
    )


def _shift_form_page(request, form, shift, status=200):
    return render(
        request, "consultation/hotline/shift_form.html", {"form": form, "shift": shift}, status=status
    )


def _shift_redirect(starts_at):
    week = selectors.week_start(timezone.localdate(starts_at))
    return redirect(f"{reverse('consultation:shift_list')}?week={week:%Y-%m-%d}")


def _shift_form_view(request, *, shift, initial: dict, save, done: str):
    """The shift form page of shift_create and shift_edit: `save(agent=…, starts_at=…, ends_at=…, note=…)`
    is the service call with its own arguments already bound."""
    form = ShiftForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = save(
                agent=data["agent"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                note=data.get("note") or "",
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, done)
            return _shift_redirect(saved.starts_at)
    return _shift_form_page(request, form, shift, status=400 if request.method == "POST" else 200)


@login_required
@permission_required(["consultation.view_shift", "consultation.add_shift"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def shift_create(request):
    authority = _authority_of(request.user)
    initial = {}
    if request.method == "GET" and (request.GET.get("agent") or "").isdigit():
        initial["agent"] = request.GET["agent"]
    save = partial(services.shift_create, authority=authority, actor=request.user)
    return _shift_form_view(request, shift=None, initial=initial, save=save, done=_("已添加班次。"))


@login_required
@permission_required(["consultation.view_shift", "consultation.change_shift"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def shift_edit(request, pk: int):
    shift = selectors.shift_for(user=request.user, pk=pk)
    initial = {
        "agent": shift.agent_id,
        "starts_at": timezone.localtime(shift.starts_at),
        "ends_at": timezone.localtime(shift.ends_at),
        "note": shift.note,
    }
    save = partial(services.shift_update, shift=shift, actor=request.user)
    return _shift_form_view(request, shift=shift, initial=initial, save=save, done=_("班次已保存。"))


@login_required
@permission_required(["consultation.view_shift", "consultation.delete_shift"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def shift_delete(request, pk: int):
    shift = selectors.shift_for(user=request.user, pk=pk)
    if request.method == "POST":
        starts_at = shift.starts_at
        services.shift_delete(shift=shift, actor=request.user)
        messages.success(request, _("班次已删除。"))
        return _shift_redirect(starts_at)
    return render(request, "consultation/hotline/shift_delete.html", {"shift": shift})


@login_required
@permission_required("consultation.view_shift", raise_exception=True)
@require_GET
def shift_export(request):
    """The shifts of the filtered range (default: the chosen week) as an Excel roster."""
    form = ShiftFilterForm(request.GET or None, user=request.user)
    if request.GET and not form.is_valid():
        messages.error(request, _("筛选条件无效，请修改后再导出。"))
        return redirect(f"{reverse('consultation:shift_list')}?{request.GET.urlencode()}")
    start = form.week_start()
    weeks = request.GET.get("weeks", "1")
    weeks = min(int(weeks), 26) if weeks.isdigit() and int(weeks) > 0 else 1
    filters = {
        "agent": form.cleaned_data.get("agent") if request.GET else None,
        "q": form.cleaned_data.get("q") if request.GET else "",
        "date_from": start,
        "date_to": start + dt.timedelta(days=7 * weeks - 1),
    }
    queryset = selectors.shift_search(user=request.user, filters=filters)[:SHIFT_EXPORT_MAX_ROWS]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("排班表"))
    for letter, width in zip("ABCDEFGHI", (12, 8, 14, 16, 10, 18, 18, 12, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.append(list(selectors.SHIFT_EXPORT_HEADERS))
    for row in selectors.shift_export_rows(queryset):
        sheet.append([safe_cell(value) for value in row])
    filename = _("排班表_%(start)s.xlsx") % {"start": f"{start:%Y%m%d}"}
    return workbook_response(workbook, filename)


urlpatterns: list = [
    path("hotline/", hotline_list, name="hotline_list"),
    path("hotline/new/", hotline_create, name="hotline_create"),
    path("hotline/<int:pk>/", hotline_detail, name="hotline_detail"),
    path("hotline/<int:pk>/edit/", hotline_edit, name="hotline_edit"),
    path("hotline/<int:pk>/lines/new/", line_create, name="line_create"),
    path("hotline/<int:pk>/lines/reorder/", lines_reorder, name="lines_reorder"),
    path("hotline/lines/<int:pk>/edit/", line_edit, name="line_edit"),
    path("hotline/lines/<int:pk>/move/", line_move, name="line_move"),
    path("hotline/agents/", agent_list, name="agent_list"),
    path("hotline/agents/new/", agent_create, name="agent_create"),
    path("hotline/agents/<int:pk>/edit/", agent_edit, name="agent_edit"),
    path("hotline/shifts/", shift_list, name="shift_list"),
    path("hotline/shifts/new/", shift_create, name="shift_create"),
    path("hotline/shifts/export/", shift_export, name="shift_export"),
    path("hotline/shifts/<int:pk>/edit/", shift_edit, name="shift_edit"),
    path("hotline/shifts/<int:pk>/delete/", shift_delete, name="shift_delete"),
]
