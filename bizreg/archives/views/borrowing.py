"""Borrowing pages: my requests and a new request, the approvals queue (manager), the lending desk
(archivist), overdue loans, one request's page with its steps, and the borrow register in Excel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.archives.forms_transfers import (
    ArchiveLookupForm,
    BorrowFilterForm,
    BorrowRequestForm,
    ReasonForm,
)
from bizreg.archives.selectors import borrowing as selectors
from bizreg.archives.services import borrowing as services
from bizreg.archives.views.transfers import conflict
from bizreg.core.excel import xlsx_response
from bizreg.core.statemachine import TransitionNotAllowed

VIEW = "archives.view_borrowrequest"


def _require_staff(user) -> None:
    if not selectors.sees_all(user):
        raise PermissionDenied("您的角色无权查看此页面。")


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def borrow_mine(request):
    page = selectors.my_requests(user=request.user, page=request.GET.get("page"))
    return render(
        request,
        "archives/borrowing/mine.html",
        {
            "page": page,
            "may_request": services.may_request(request.user),
            "query": "",
            "now": timezone.now(),
        },
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
def borrow_new(request):
    if not services.may_request(request.user):
        raise PermissionDenied("您的角色无权申请借阅。")
    archive_pk = request.POST.get("archive") or request.GET.get("archive")
    if not archive_pk:
        lookup = ArchiveLookupForm(request.GET or None)
        term = lookup.cleaned_data.get("q", "") if lookup.is_valid() else ""
        found = selectors.archives_for_request(user=request.user, term=term)
        return render(
            request, "archives/borrowing/choose.html", {"form": lookup, "archives": found, "term": term}
        )
    archive = selectors.archive_for_request(user=request.user, pk=archive_pk)
    form = BorrowRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            borrow = services.borrow_request(archive=archive, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已提交借阅申请：{archive.archival_code}，待审批。")
            return redirect("archives:borrow_detail", pk=borrow.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "archives/borrowing/form.html", {"form": form, "archive": archive}, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def borrow_detail(request, pk: int):
    borrow = selectors.borrow_for(user=request.user, pk=pk)
    return render(request, "archives/borrowing/detail.html", _detail_context(request, borrow))


def _detail_context(request, borrow, reason_form=None) -> dict:
    return {
        "borrow": borrow,
        "actions": selectors.borrow_actions(borrow=borrow, user=request.user),
        "events": selectors.borrow_events(borrow),
        "reason_form": reason_form or ReasonForm(required=False),
        "now": timezone.now(),
    }


ACTIONS = {
    "approve": services.borrow_approve,
    "reject": services.borrow_reject,
    "cancel": services.borrow_cancel,
    "lend": services.borrow_lend,
    "return": services.borrow_return,
}


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def borrow_action(request, pk: int, action: str):
    borrow = selectors.borrow_for(user=request.user, pk=pk)
    if action not in ACTIONS:
        raise Http404("没有该操作。")
    form = ReasonForm(request.POST, required=False)
    if not form.is_valid():
        return render(
            request, "archives/borrowing/detail.html", _detail_context(request, borrow, form), status=400
        )
    kwargs = {} if action == "lend" else {"reason": form.cleaned_data["reason"]}
    back = reverse("archives:borrow_detail", args=[borrow.pk])
    try:
        borrow = ACTIONS[action](borrow=borrow, actor=request.user, **kwargs)
    except TransitionNotAllowed as exc:
        return conflict(request, str(exc), back)
    except ValidationError as exc:
        if "archive" in getattr(exc, "error_dict", {}):
            # Not a bad form: the folder is out or not shelved. Same answer as a refused step.
            return conflict(request, "；".join(exc.messages), back)
        form.add_service_errors(exc)
        return render(
            request, "archives/borrowing/detail.html", _detail_context(request, borrow, form), status=400
        )
    messages.success(request, f"借阅 {borrow.archive.archival_code}：{borrow.get_state_display()}。")
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if target and safe else back)


@login_required
@permission_required([VIEW, "archives.approve_borrow"], raise_exception=True)
@require_GET
def borrow_approvals(request):
    page = selectors.approval_queue(user=request.user, page=request.GET.get("page"))
    return render(
        request, "archives/borrowing/approvals.html", {"page": page, "query": "", "now": timezone.now()}
    )


@login_required
@permission_required([VIEW, "archives.lend_archive"], raise_exception=True)
@require_GET
def borrow_desk(request):
    page = selectors.lending_desk(user=request.user, page=request.GET.get("page"))
    return render(request, "archives/borrowing/desk.html", {"page": page, "query": "", "now": timezone.now()})


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def borrow_overdue(request):
    _require_staff(request.user)
    page = selectors.overdue_page(user=request.user, page=request.GET.get("page"))
    return render(
        request, "archives/borrowing/overdue.html", {"page": page, "query": "", "now": timezone.now()}
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def borrow_export(request):
    _require_staff(request.user)
    form = BorrowFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.register_rows(selectors.register_search(user=request.user, filters=filters))
    return xlsx_response(
        title="借阅登记簿",
        headers=selectors.REGISTER_HEADERS,
        rows=rows,
        filename=f"借阅登记簿_{timezone.localtime():%Y%m%d_%H%M%S}.xlsx",
    )


urlpatterns = [
    path("borrowing/", borrow_mine, name="borrow_mine"),
    path("borrowing/new/", borrow_new, name="borrow_new"),
    path("borrowing/approvals/", borrow_approvals, name="borrow_approvals"),
    path("borrowing/desk/", borrow_desk, name="borrow_desk"),
    path("borrowing/overdue/", borrow_overdue, name="borrow_overdue"),
    path("borrowing/export.xlsx", borrow_export, name="borrow_export"),
    path("borrowing/<int:pk>/", borrow_detail, name="borrow_detail"),
    path("borrowing/<int:pk>/<slug:action>/", borrow_action, name="borrow_action"),
]
