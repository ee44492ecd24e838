"""Transfer-list pages: list, build, detail with its steps, count-back, Excel and PDF. Thin: a refused step
answers 409 with the reason, a role without the permission 403, bad input the form with its errors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.archives.forms_transfers import (
    ContractorForm,
    ReasonForm,
    ReceiveForm,
    TransferBuildForm,
    TransferFilterForm,
)
from bizreg.archives.selectors import transfers as selectors
from bizreg.archives.selectors.events import events_of
from bizreg.archives.services import transfers as services
from bizreg.archives.views.common import conflict
from bizreg.core.excel import workbook_response
from bizreg.core.scoping import default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed

VIEW = "archives.view_transferlist"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def transfer_list(request):
    form = TransferFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.transfer_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "archives/transfers/list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
@permission_required([VIEW, "archives.add_transferlist"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def transfer_build(request):
    data = request.POST if request.method == "POST" else (request.GET or None)
    probe = TransferBuildForm(data)
    probe.is_valid()  # only the period is read here: the case choices are not known yet
    cleaned = getattr(probe, "cleaned_data", {})
    period = {k: cleaned.get(k) for k in ("period_start", "period_end")}
    if period["period_start"] and period["period_end"] and period["period_start"] > period["period_end"]:
        period = {"period_start": None, "period_end": None}
    candidates = selectors.build_candidates(user=request.user, **period)
    form = TransferBuildForm(data, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        try:
            transfer = services.transfer_build(
                authority=default_authority_for(request.user),
                actor=request.user,
                case_ids=form.cleaned_data["case_ids"] or None,
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, f"已编制移交清单 {transfer.number}（{transfer.entries.count()} 件业务）。"
            )
            return redirect("archives:transfer_detail", pk=transfer.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "archives/transfers/build.html",
        {"form": form, "candidates": candidates},
        status=status,
    )


def _detail_context(request, transfer, **forms) -> dict:
    return {
        "transfer": transfer,
        "sections": selectors.transfer_entries(transfer),
        "actions": selectors.transfer_actions(transfer=transfer, user=request.user),
        "discrepancies": services.transfer_discrepancies(transfer),
        "events": events_of(transfer),
        "contractor_form": forms.get("contractor_form") or ContractorForm(),
        "cancel_form": forms.get("cancel_form") or ReasonForm(),
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def transfer_detail(request, pk: int):
    transfer = selectors.transfer_for(user=request.user, pk=pk)
    return render(request, "archives/transfers/detail.html", _detail_context(request, transfer))


ACTION_FORMS = {"send": ("contractor_form", ContractorForm), "cancel": ("cancel_form", ReasonForm)}


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def transfer_action(request, pk: int, action: str):
    transfer = selectors.transfer_for(user=request.user, pk=pk)
    if action not in ("sign", "send", "cancel"):
        raise Http404("没有该操作。")
    form = None
    if action in ACTION_FORMS:
        form = ACTION_FORMS[action][1](request.POST)
    try:
        if form is not None and not form.is_valid():
            raise ValidationError([])
        if action == "sign":
            services.transfer_sign(transfer=transfer, actor=request.user)
        elif action == "send":
            services.transfer_send(
                transfer=transfer, actor=request.user, contractor=form.cleaned_data["contractor"]
            )
        else:
            services.transfer_cancel(
                transfer=transfer, actor=request.user, reason=form.cleaned_data["reason"]
            )
    except TransitionNotAllowed as exc:
        return conflict(request, str(exc), reverse("archives:transfer_detail", args=[transfer.pk]))
    except ValidationError as exc:
        if form is not None:
            form.add_service_errors(exc)
        forms = {ACTION_FORMS[action][0]: form} if form is not None else {}
        return render(
            request, "archives/transfers/detail.html", _detail_context(request, transfer, **forms), status=400
        )
    transfer.refresh_from_db()
    messages.success(request, f"移交清单 {transfer.number} 当前状态：{transfer.get_state_display()}。")
    return redirect("archives:transfer_detail", pk=transfer.pk)


@login_required
@permission_required([VIEW, "archives.receive_transferlist"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def transfer_receive(request, pk: int):
    transfer = selectors.transfer_for(user=request.user, pk=pk)
    sections = selectors.transfer_entries(transfer)
    form = ReceiveForm(request.POST or None, entries=sections.paper)
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer_receive(transfer=transfer, actor=request.user, counts=form.counts())
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"移交清单 {transfer.number} 已接收清点，档案待上架。")
            return redirect("archives:transfer_detail", pk=transfer.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "archives/transfers/receive.html",
        {"transfer": transfer, "form": form, "sections": sections},
        status=status,
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def transfer_export_xlsx(request, pk: int):
    transfer = selectors.transfer_for(user=request.user, pk=pk)
    return workbook_response(selectors.transfer_workbook(transfer), f"移交清单_{transfer.number}.xlsx")


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def transfer_export_pdf(request, pk: int):
    transfer = selectors.transfer_for(user=request.user, pk=pk)
    response = HttpResponse(selectors.transfer_pdf(transfer), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{transfer.number}.pdf"'
    return response


urlpatterns = [
    path("transfers/", transfer_list, name="transfer_list"),
    path("transfers/new/", transfer_build, name="transfer_build"),
    path("transfers/<int:pk>/", transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/receive/", transfer_receive, name="transfer_receive"),
    path("transfers/<int:pk>/export.xlsx", transfer_export_xlsx, name="transfer_export_xlsx"),
    path("transfers/<int:pk>/export.pdf", transfer_export_pdf, name="transfer_export_pdf"),
    path("transfers/<int:pk>/<slug:action>/", transfer_action, name="transfer_action"),
]
