"""Ticket pages for staff: the agent's live queue (mine / unassigned / all open, polled every 1.5 s), the
searchable list of every ticket and its Excel export, one ticket (conversation, timeline, SLA, reply with
canned answers from the knowledge base, notes, steps, assignment, merge), a ticket opened by hand, and the
complaints list.

Thin: parse input, call a service or selector, render. A step refused for the state answers 409 with the
Chinese reason, a role that may not take it 403, another authority's ticket 404, bad input the page again
with the form errors (400).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.consultation import engine
from bizreg.consultation.forms.tickets import (
    AssignForm,
    MergeForm,
    NoteForm,
    ReplyForm,
    TicketCreateForm,
    TransitionForm,
)
from bizreg.consultation.models import (
    TICKET_OPEN_STATES,
    Ticket,
    TicketAttachment,
    TicketChannel,
    TicketKind,
    TicketMessage,
    TicketState,
)
from bizreg.consultation.selectors import knowledge as kb_selectors
from bizreg.consultation.selectors import tickets as selectors
from bizreg.consultation.services import tickets as services
from bizreg.consultation.services.attachments import attachment_is_servable
from bizreg.core import services as core_services
from bizreg.core.excel import safe_cell, workbook_response
from bizreg.core.masking import mask_person_name, mask_phone
from bizreg.core.models import AccessLog
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed

VIEW_PERM = "consultation.view_ticket"
WORK_PERM = "consultation.change_ticket"
FULL_PERM = "core.view_full_personal_data"
QUEUE_TABS = ("mine", "new", "open")
CHANNEL_ICONS = {
    TicketChannel.WEB_CHAT: "chat-dots",
    TicketChannel.EMAIL: "envelope",
    TicketChannel.WECHAT: "wechat",
    TicketChannel.QQ: "tencent-qq",
    TicketChannel.WEBHOOK: "plug",
    TicketChannel.PHONE: "telephone",
    TicketChannel.WINDOW: "person-badge",
}
CANNED_LIMIT = 5


def _ticket_or_404(user, pk: int) -> Ticket:
    try:
        return selectors.ticket_for(user=user, pk=pk)
    except Ticket.DoesNotExist:
        raise Http404(_("没有找到该工单。")) from None


def _conflict(request, message: str, back: str):
    """The 409 page: refused for the ticket's current state; nothing was changed."""
    return render(
        request, "consultation/tickets/conflict.html", {"message": message, "back": back}, status=409
    )


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _decorate(ticket: Ticket, now) -> Ticket:
    """Display-only attributes of a row: due status and tone, channel icon, masked contact."""
    status = selectors.due_status(ticket, now)
    ticket.due_key = status
    ticket.due_label = selectors.DUE_LABELS.get(status, "")
    ticket.due_tone = selectors.DUE_TONES.get(status, "light")
    ticket.due_at = selectors.next_due(ticket)
    ticket.channel_icon = CHANNEL_ICONS.get(ticket.channel, "chat")
    ticket.contact_label = _contact_label(ticket.contact)
    return ticket


# Channels whose contact names the system generates ("网站访客 1a2b3c", "微信用户"): not personal data.
GENERATED_NAME_CHANNELS = frozenset({TicketChannel.WEB_CHAT, TicketChannel.WECHAT})


def _contact_label(contact) -> str:
    # Names and numbers of citizens are personal data: masked wherever tickets are listed.
    if contact.display_name and contact.channel in GENERATED_NAME_CHANNELS:
        return contact.display_name
    if contact.display_name:
        return mask_person_name(contact.display_name)
    if contact.phone:
        return mask_phone(contact.phone)
    return contact.get_channel_display()


# --- the queue -------------------------------------------------------------------------------------------


def _queue_context(request, tab: str) -> dict:
    queue = selectors.agent_queue(user=request.user)
    sections = {"mine": queue.mine, "new": queue.new}
    every = sorted(
        [*queue.new, *queue.mine, *queue.team],
        key=lambda t: (selectors.next_due(t) is None, selectors.next_due(t) or t.opened_at, t.opened_at),
    )
    sections["open"] = every[: selectors.QUEUE_SECTION_SIZE]
    counts = {**queue.counts, "open": sum(queue.counts.values())}
    rows = [_decorate(ticket, queue.now) for ticket in sections[tab]]
    return {
        "tab": tab,
        "rows": rows,
        "counts": counts,
        "version": queue.version,
        "truncated": counts[tab] > len(rows),
        "section_size": selectors.QUEUE_SECTION_SIZE,
    }


def _tab(request) -> str:
    tab = request.GET.get("tab", "")
    return tab if tab in QUEUE_TABS else "open"


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def ticket_queue(request):
    """The agent's live queue. Tabs mine / unassigned / all open, each ordered by the next deadline."""
    context = _queue_context(request, _tab(request))
    context["escalated"] = selectors.escalated_count(user=request.user)
    return render(request, "consultation/tickets/queue.html", context)


@never_cache
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def ticket_queue_poll(request):
    """204 while the queue's version token is unchanged (one aggregate query); the tab's rows otherwise."""
    if request.GET.get("v", "") == selectors.queue_version(request.user):
        return HttpResponse(status=204)
    return render(request, "consultation/tickets/_queue_live.html", _queue_context(request, _tab(request)))


# --- list, export, complaints ----------------------------------------------------------------------------


def _listing_context(request, base=None) -> dict:
    listing = selectors.ticket_listing(user=request.user, params=request.GET, base=base)
    now = timezone.now()
    return {
        "listing": listing,
        "filterset": listing.filterset,
        "form": listing.filterset.form,
        "page": listing.page,
        "rows": [_decorate(ticket, now) for ticket, _status in listing.rows],
        "query": _query_without_page(request),
    }


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def ticket_list(request):
    """Every ticket the user may see, with search, filters and pagination."""
    context = _listing_context(request)
    context.update({"tab": "all", "export_url": reverse("consultation:ticket_export")})
    if request.htmx and not request.htmx.boosted:
        return render(request, "consultation/tickets/list_results.html", context)
    return render(request, "consultation/tickets/list.html", context)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def complaints(request):
    """Complaints (投诉) with their deadlines and escalation level."""
    context = _listing_context(request, base=selectors.complaints_base(user=request.user))
    context.update(
        {
            "complaints": True,
            "escalated": selectors.escalated_count(user=request.user),
            "export_url": reverse("consultation:ticket_export") + "?kind=" + TicketKind.COMPLAINT,
        }
    )
    if request.htmx and not request.htmx.boosted:
        return render(request, "consultation/tickets/list_results.html", context)
    return render(request, "consultation/tickets/complaints.html", context)


EXPORT_COLUMNS = (
    "工单号",
    "类型",
    "渠道",
    "状态",
    "优先级",
    "主题",
    "咨询人",
    "联系电话",
    "处理人",
    "咨询主题",
    "关联业务编号",
    "创建时间",
    "首次响应期限",
    "首次响应时间",
    "解决期限",
    "解答时间",
    "关闭时间",
    "时限状态",
    "升级级别",
    "满意度评分",
    "评价意见",
)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def ticket_export(request):
    """The filtered tickets as Excel; contacts' names and numbers masked."""
    from openpyxl import Workbook

    queryset = selectors.ticket_search(user=request.user, params=request.GET)
    limit = selectors.EXPORT_MAX_ROWS
    if queryset.order_by().values("pk")[: limit + 1].count() > limit:
        messages.error(request, _("导出结果过多，请先用筛选条件缩小范围。"))
        return redirect(f"{reverse('consultation:ticket_list')}?{request.GET.urlencode()}")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("在线工单"))
    sheet.append(list(EXPORT_COLUMNS))
    now = timezone.now()
    for ticket in queryset.iterator(chunk_size=1000):
        status = selectors.due_status(ticket, now)
        sheet.append(
            [
                safe_cell(v)
                for v in (
                    ticket.number,
                    ticket.get_kind_display(),
                    ticket.get_channel_display(),
                    ticket.get_state_display(),
                    ticket.get_priority_display(),
                    ticket.subject,
                    _contact_label(ticket.contact),
                    mask_phone(ticket.contact.phone),
                    str(ticket.assignee) if ticket.assignee_id else "",
                    ticket.get_topic_display() if ticket.topic else "",
                    ticket.related_case_number,
                    ticket.opened_at,
                    ticket.first_response_due_at,
                    ticket.first_responded_at,
                    ticket.resolution_due_at,
                    ticket.resolved_at,
                    ticket.closed_at,
                    str(selectors.DUE_LABELS.get(status, "")),
                    ticket.escalation_level,
                    ticket.csat_score,
                    ticket.csat_comment,
                )
            ]
        )
    filename = f"{_('在线工单')}_{timezone.localtime():%Y%m%d_%H%M%S}.xlsx"
    return workbook_response(workbook, filename)


# --- one ticket -----------------------------------------------------------------------------------------


def _message_rows(messages_: list[TicketMessage]) -> list[TicketMessage]:
    for message in messages_:
        message.citation_code = message.cited_version.article.code if message.cited_version_id else ""
    return messages_


def _detail_context(request, ticket: Ticket, **forms) -> dict:
    user = request.user
    now = timezone.now()
    _decorate(ticket, now)
    conversation = _message_rows(selectors.conversation(ticket=ticket))
    can_work = user.has_perm(WORK_PERM)
    may_reply = ticket.state in TICKET_OPEN_STATES or ticket.state == TicketState.RESOLVED
    can_assign = user.has_perm("consultation.assign_ticket") and ticket.state in TICKET_OPEN_STATES
    can_take = (
        can_work
        and ticket.state in TICKET_OPEN_STATES
        and ticket.assignee_id != user.pk
        and (ticket.assignee_id is None or can_assign)
    )
    can_merge = user.has_perm("consultation.merge_ticket") and ticket.state in TICKET_OPEN_STATES
    context = {
        "ticket": ticket,
        "conversation": conversation,
        "last_id": max((m.pk for m in conversation), default=0),
        "timeline": selectors.timeline(ticket=ticket),
        "actions": selectors.available_actions(ticket=ticket, user=user),
        "merged_tickets": ticket.merged_tickets.order_by("opened_at"),
        "can_work": can_work,
        "may_reply": can_work and may_reply,
        "can_take": can_take,
        "can_assign": can_assign,
        "can_merge": can_merge,
        "can_full": user.has_perm(FULL_PERM),
        "contact_phone": mask_phone(ticket.contact.phone),
        "contact_email": _mask_email(ticket.contact.email),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "note_form": forms.get("note_form") or NoteForm(),
        "transition_form": forms.get("transition_form") or TransitionForm(),
        "sla": services.sla_terms(authority_id=ticket.authority_id, kind=ticket.kind),
    }
    if can_assign:
        users = selectors.assignable_users(authority_ids=[ticket.authority_id])
        context["assign_form"] = forms.get("assign_form") or AssignForm(users=users)
    if can_merge:
        context["merge_form"] = forms.get("merge_form") or MergeForm()
        context["merge_candidates"] = selectors.merge_candidates(ticket=ticket, user=user)
    return context


def _mask_email(email: str) -> str:
    if not email or "@" not in email:
        return ""
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def _render_detail(request, ticket: Ticket, *, status: int = 200, **forms):
    return render(
        request, "consultation/tickets/detail.html", _detail_context(request, ticket, **forms), status=status
    )


def _detail_url(ticket: Ticket) -> str:
    return reverse("consultation:ticket_detail", args=[ticket.pk])


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def ticket_detail(request, pk: int):
    ticket = _ticket_or_404(request.user, pk)
    return _render_detail(request, ticket)


@never_cache
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def ticket_messages(request, pk: int):
    """Messages newer than `after` (the detail page polls every 1.5 s); 204 when there are none."""
    ticket = _ticket_or_404(request.user, pk)
    try:
        after = max(0, int(request.GET.get("after") or 0))
    except ValueError:
        after = 0
    new = _message_rows(selectors.messages_after(ticket=ticket, after_id=after))
    if not new:
        return HttpResponse(status=204)
    return render(
        request,
        "consultation/tickets/_messages_new.html",
        {"ticket": ticket, "conversation": new, "last_id": new[-1].pk},
    )


@login_required
@permission_required([VIEW_PERM, WORK_PERM], raise_exception=True)
@require_POST
def ticket_reply(request, pk: int):
    ticket = _ticket_or_404(request.user, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        cited = None
        cited_id = form.cleaned_data.get("cited_version")
        if cited_id:
            try:
                cited = kb_selectors.version_for(user=request.user, pk=cited_id)
            except Http404:
                form.add_error(None, _("引用的知识条目不存在或不可用，请重新选择。"))
        if not form.errors:
            try:
                services.ticket_reply(
                    ticket=ticket, actor=request.user, body=form.cleaned_data["body"], cited_version=cited
                )
            except TransitionNotAllowed as exc:
                return _conflict(request, str(exc), _detail_url(ticket))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("已答复。"))
                return redirect(_detail_url(ticket))
    return _render_detail(request, ticket, status=400, reply_form=form)


@login_required
@permission_required([VIEW_PERM, WORK_PERM], raise_exception=True)
@require_POST
def ticket_note(request, pk: int):
    ticket = _ticket_or_404(request.user, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_note(ticket=ticket, actor=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已添加内部备注。"))
            return redirect(_detail_url(ticket))
    return _render_detail(request, ticket, status=400, note_form=form)


@login_required
@permission_required([VIEW_PERM, WORK_PERM], raise_exception=True)
@require_POST
def ticket_transition(request, pk: int):
    """One workflow step (take, wait for the citizen, resolve, close, reopen) with an optional reason."""
    ticket = _ticket_or_404(request.user, pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        action = form.cleaned_data["action"]
        try:
            ticket = services.ticket_transition(
                ticket=ticket, action=action, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except TransitionNotAllowed as exc:
            return _conflict(request, str(exc), _detail_url(ticket))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("工单 %(number)s 当前状态：%(state)s。")
                % {"number": ticket.number, "state": ticket.get_state_display()},
            )
            return redirect(_detail_url(ticket))
    return _render_detail(request, ticket, status=400, transition_form=form)


@login_required
@permission_required([VIEW_PERM, "consultation.assign_ticket"], raise_exception=True)
@require_POST
def ticket_assign(request, pk: int):
    ticket = _ticket_or_404(request.user, pk)
    form = AssignForm(request.POST, users=selectors.assignable_users(authority_ids=[ticket.authority_id]))
    if form.is_valid():
        try:
            ticket = services.ticket_assign(
                ticket=ticket, actor=request.user, assignee=form.cleaned_data["assignee"]
            )
        except TransitionNotAllowed as exc:
            return _conflict(request, str(exc), _detail_url(ticket))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已分派给 %(who)s。") % {"who": ticket.assignee})
            return redirect(_detail_url(ticket))
    return _render_detail(request, ticket, status=400, assign_form=form)


@login_required
@permission_required([VIEW_PERM, "consultation.merge_ticket"], raise_exception=True)
@require_POST
def ticket_merge(request, pk: int):
    ticket = _ticket_or_404(request.user, pk)
    form = MergeForm(request.POST)
    if form.is_valid():
        number = form.cleaned_data["into"].strip()
        into = selectors.tickets_for(request.user).filter(number=number).first()
        if into is None:
            form.add_error("into", _("没有找到工单号为 %(number)s 的工单。") % {"number": number})
        else:
            try:
                services.ticket_merge(
                    ticket=ticket, into=into, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except TransitionNotAllowed as exc:
                return _conflict(request, str(exc), _detail_url(ticket))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("已将 %(source)s 合并到 %(target)s。")
                    % {"source": ticket.number, "target": into.number},
                )
                return redirect(_detail_url(into))
    return _render_detail(request, ticket, status=400, merge_form=form)


@login_required
@permission_required([VIEW_PERM, WORK_PERM], raise_exception=True)
@require_GET
def ticket_canned(request, pk: int):
    """Canned replies: the knowledge base's best matches for the agent's words (or the ticket's subject),
    each with the reply text the "insert" button puts into the reply box."""
    ticket = _ticket_or_404(request.user, pk)
    query = (request.GET.get("kbq") or "").strip()[:200] or ticket.subject
    candidates = engine.search(authority_id=ticket.authority_id, query=query, limit=CANNED_LIMIT)
    replies = []
    for candidate in candidates:
        try:
            version = kb_selectors.version_for(user=request.user, pk=candidate.version_id)
        except Http404:
            continue
        replies.append(
            {"candidate": candidate, "version": version, "text": engine.compose_answer_text(version)}
        )
    return render(
        request, "consultation/tickets/_canned.html", {"ticket": ticket, "replies": replies, "query": query}
    )


@login_required
@permission_required([VIEW_PERM, FULL_PERM], raise_exception=True)
@require_POST
def ticket_contact_reveal(request, pk: int):
    """The contact's full phone and e-mail (to call or write back), written to the access log."""
    ticket = _ticket_or_404(request.user, pk)
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.VIEW,
        object_type="consultation.Contact",
        object_id=ticket.contact_id,
        object_label=ticket.number,
        fields="phone,email",
        authority=ticket.authority,
        request=request,
    )
    return render(request, "consultation/tickets/_contact_full.html", {"contact": ticket.contact})


@login_required
@permission_required("consultation.view_ticketattachment", raise_exception=True)
@require_GET
def attachment_download(request, pk: int):
    """An accepted attachment of a visible ticket; quarantined or refused files are never served."""
    try:
        attachment = selectors.attachment_for(user=request.user, pk=pk)
    except TicketAttachment.DoesNotExist:
        raise Http404(_("没有找到该附件。")) from None
    if not attachment_is_servable(attachment):
        raise PermissionDenied(_("该附件已隔离或已拒收，不能下载。"))
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.file_name,
        # Never let the browser render what a citizen sent: always a download.
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- a ticket opened by staff ----------------------------------------------------------------------------


@login_required
@permission_required([VIEW_PERM, "consultation.add_ticket"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def ticket_create(request):
    """A consultation or complaint staff take down themselves (phone follow-up, walk-in, letter)."""
    if not request.user.is_superuser and not authority_ids_for(request.user):
        raise PermissionDenied(_("您的账号未分配登记机关，不能新建工单。"))
    kind = request.GET.get("kind", "")
    initial = {"kind": kind} if kind in TicketKind.values else {}
    form = TicketCreateForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        authority = default_authority_for(request.user)
        try:
            contact = services.contact_for(
                authority=authority,
                channel=data["channel"],
                external_id=data["contact_phone"] or data["contact_email"],
                display_name=data["contact_name"],
                phone=data["contact_phone"],
                email=data["contact_email"],
            )
            ticket = services.ticket_open(
                authority=authority,
                channel=data["channel"],
                contact=contact,
                subject=data["subject"],
                body=data["body"],
                kind=data["kind"],
                actor=request.user,
                topic=data["topic"],
                related_case_number=data["related_case_number"],
                priority=data["priority"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已新建工单 %(number)s。") % {"number": ticket.number})
            return redirect(_detail_url(ticket))
    status = 400 if request.method == "POST" else 200
    return render(request, "consultation/tickets/create.html", {"form": form}, status=status)


urlpatterns: list = [
    path("tickets/", ticket_queue, name="ticket_queue"),
    path("tickets/queue/poll/", ticket_queue_poll, name="ticket_queue_poll"),
    path("tickets/all/", ticket_list, name="ticket_list"),
    path("tickets/export/", ticket_export, name="ticket_export"),
    path("tickets/new/", ticket_create, name="ticket_create"),
    path("tickets/complaints/", complaints, name="complaints"),
    path("tickets/attachments/<int:pk>/", attachment_download, name="ticket_attachment"),
    path("tickets/<int:pk>/", ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/messages/", ticket_messages, name="ticket_messages"),
    path("tickets/<int:pk>/reply/", ticket_reply, name="ticket_reply"),
    path("tickets/<int:pk>/note/", ticket_note, name="ticket_note"),
    path("tickets/<int:pk>/transition/", ticket_transition, name="ticket_transition"),
    path("tickets/<int:pk>/assign/", ticket_assign, name="ticket_assign"),
    path("tickets/<int:pk>/merge/", ticket_merge, name="ticket_merge"),
    path("tickets/<int:pk>/canned/", ticket_canned, name="ticket_canned"),
    path("tickets/<int:pk>/contact/", ticket_contact_reveal, name="ticket_contact_reveal"),
]
