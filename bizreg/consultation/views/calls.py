"""Call pages: the agent's fast call log, the call list with filters and Excel export, one call with its
history, the note edit and the access-logged reveal of a caller's full number. Thin: parse, call, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.consultation import exports
from bizreg.consultation.exports import FULL_PERM
from bizreg.consultation.forms.calls import TOPIC_NUMBERS, CallFilterForm, CallLogForm, CallNoteForm
from bizreg.consultation.models import Call, CallOutcome
from bizreg.consultation.selectors import calls as selectors
from bizreg.consultation.selectors import hotline as hotline_selectors
from bizreg.consultation.services import calls as services
from bizreg.core import services as core_services
from bizreg.core.exports import respond as respond_with_export
from bizreg.core.models import AccessLog, Authority
from bizreg.core.scoping import authority_ids_for, default_authority_for

# Keyboard shortcuts of the outcome radios (Alt+letter), in CallOutcome order.
OUTCOME_KEYS = {
    CallOutcome.ANSWERED: "a",
    CallOutcome.ABANDONED: "b",
    CallOutcome.BUSY: "y",
    CallOutcome.MISSED: "m",
}


def _authority_for_logging(user, agent) -> Authority:
    if agent is not None:
        return agent.authority
    if not user.is_superuser and not authority_ids_for(user):
        raise PermissionDenied(_("您的账号未分配登记机关，不能登记来电。"))
    return default_authority_for(user)


# --- the list -------------------------------------------------------------------------------------------


@login_required
@permission_required("consultation.view_call", raise_exception=True)
@require_GET
def call_list(request):
    form = CallFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.call_page(
        user=request.user,
        filters=filters,
        page=request.GET.get("page"),
        full_numbers=request.user.has_perm(FULL_PERM),
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_full": request.user.has_perm(FULL_PERM),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "consultation/calls/results.html", context)
    return render(request, "consultation/calls/list.html", context)


@login_required
@permission_required("consultation.view_call", raise_exception=True)
@require_GET
def call_export(request):
    """The filtered calls as Excel (consultation.exports); a large export is made in the background."""
    back = f"{reverse('consultation:call_list')}?{request.GET.urlencode()}"
    return respond_with_export(request, exports.CALLS, back_url=back)


# --- the fast call log ----------------------------------------------------------------------------------


def _log_initial(request, own_agent) -> dict:
    """A fresh form: times = now (the call is being taken), the agent and line kept from the last call."""
    now = timezone.localtime().replace(microsecond=0)
    initial = {"offered_at": now, "answered_at": now, "outcome": CallOutcome.ANSWERED}
    line = request.GET.get("line") or ""
    if line.isdigit():
        initial["line"] = int(line)
    else:
        first = hotline_selectors.line_choices(user=request.user).first()
        if first is not None:
            initial["line"] = first.pk
    agent = request.GET.get("agent") or ""
    if agent.isdigit():
        initial["agent"] = int(agent)
    elif own_agent is not None:
        initial["agent"] = own_agent.pk
    return initial


@login_required
@permission_required("consultation.add_call", raise_exception=True)
@require_http_methods(["GET", "POST"])
def call_log(request):
    own_agent = hotline_selectors.own_agent(user=request.user)
    form = CallLogForm(request.POST or None, user=request.user, initial=_log_initial(request, own_agent))
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        authority = _authority_for_logging(request.user, data.get("agent") or own_agent)
        try:
            call = services.call_log(authority=authority, actor=request.user, data=data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            text = _("已登记：%(time)s %(outcome)s，来电 %(number)s。") % {
                "time": f"{timezone.localtime(call.offered_at):%H:%M}",
                "outcome": call.get_outcome_display(),
                "number": selectors.display_number(call.caller_number),
            }
            if call.follow_up_ticket_id:
                text += _("已生成跟进工单 %(number)s。") % {"number": call.follow_up_ticket.number}
            messages.success(request, text)
            sticky = {"line": call.line_id or "", "agent": call.agent_id or ""}
            return redirect(f"{reverse('consultation:call_log')}?{urlencode(sticky)}")
    recent, today_count = selectors.recent_calls_logged_by(user=request.user)
    return render(
        request,
        "consultation/calls/log.html",
        {
            "form": form,
            "own_agent": own_agent,
            "recent": recent,
            "today_count": today_count,
            "topics": TOPIC_NUMBERS,
            "outcome_keys": OUTCOME_KEYS,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required("consultation.view_call", raise_exception=True)
@require_GET
def call_case_check(request):
    """The inline check of a related case number (HTMX, on leaving the box): found or not, and its state."""
    from bizreg.registration.selectors.records import case_by_number, normalize_case_number

    number = normalize_case_number(request.GET.get("related_case_number", ""))[:30]
    case = case_by_number(user=request.user, number=number) if number else None
    return render(request, "consultation/calls/case_check.html", {"number": number, "case": case})


# --- one call -------------------------------------------------------------------------------------------


def _detail_context(request, call: Call, **extra) -> dict:
    return {
        "call": call,
        "history": selectors.call_history(call=call),
        "can_edit": services.can_edit_call_note(request.user, call),
        "can_full": request.user.has_perm(FULL_PERM),
        **extra,
    }


@login_required
@permission_required("consultation.view_call", raise_exception=True)
@require_GET
def call_detail(request, pk: int):
    call = selectors.call_for(user=request.user, pk=pk)
    return render(request, "consultation/calls/detail.html", _detail_context(request, call))


@login_required
@permission_required("consultation.view_call", raise_exception=True)
@require_http_methods(["GET", "POST"])
def call_edit(request, pk: int):
    call = selectors.call_for(user=request.user, pk=pk)
    if not services.can_edit_call_note(request.user, call):
        raise PermissionDenied(_("只有登记该来电的坐席或科室负责人可以修改来电记录。"))
    initial = {
        "topic": call.topic,
        "summary": call.summary,
        "resolved": call.resolved,
        "needs_follow_up": call.needs_follow_up,
        "related_case_number": call.related_case_number,
    }
    form = CallNoteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.call_update_note(
                call=call,
                actor=request.user,
                topic=data["topic"],
                summary=data["summary"],
                resolved=data["resolved"],
                needs_follow_up=data["needs_follow_up"],
                related_case_number=data["related_case_number"],
                reason=data.get("reason") or "",
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("来电记录已保存。"))
            return redirect("consultation:call_detail", pk=call.pk)
    return render(
        request,
        "consultation/calls/edit.html",
        {"call": call, "form": form, "topics": TOPIC_NUMBERS},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required(["consultation.view_call", FULL_PERM], raise_exception=True)
@require_POST
def call_reveal(request, pk: int):
    """The caller's full number (to call back), written to the access log."""
    call = selectors.call_for(user=request.user, pk=pk)
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.VIEW,
        object_type="consultation.Call",
        object_id=call.pk,
        object_label=f"{timezone.localtime(call.offered_at):%Y-%m-%d %H:%M:%S}",
        fields="caller_number",
        authority=call.authority,
        request=request,
    )
    return render(
        request,
        "consultation/calls/reveal.html",
        {"call": call, "number": selectors.display_number(call.caller_number, full=True)},
    )


urlpatterns: list = [
    path("calls/", call_list, name="call_list"),
    path("calls/export/", call_export, name="call_export"),
    path("calls/new/", call_log, name="call_log"),
    path("calls/case-check/", call_case_check, name="call_case_check"),
    path("calls/<int:pk>/", call_detail, name="call_detail"),
    path("calls/<int:pk>/edit/", call_edit, name="call_edit"),
    path("calls/<int:pk>/reveal/", call_reveal, name="call_reveal"),
]
