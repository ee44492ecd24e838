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
    TransferEntryFilterForm,
    TransferFilterForm,
)
from bizreg.archives.selectors import transfers as selectors
from bizreg.archives.selectors.transfers import EntryProblem, EntrySection
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


def _entry_filters(data, *, paper_only: bool = False) -> tuple[TransferEntryFilterForm, dict, str]:
    """The entry filter form, its valid filters, and the query string the pager keeps."""
    form = TransferEntryFilterForm(data, paper_only=paper_only)
    filters = form.cleaned_data if form.is_valid() else {}
    query = data.copy()
    query.pop("page", None)
    return form, filters, query.urlencode()


def _detail_context(request, transfer, **forms) -> dict:
    entry_form, filters, query = _entry_filters(request.GET)
    return {
        "transfer": transfer,
        "summary": selectors.transfer_summary(transfer),
        "entry_form": entry_form,
        "page": selectors.transfer_entry_page(
            transfer=transfer, filters=filters, page=request.GET.get("page")
        ),
        "query": query,
        "born_digital_channels": selectors.BORN_DIGITAL_CHANNELS,
        "actions": selectors.transfer_actions(transfer=transfer, user=request.user),
        "events": selectors.transfer_events(transfer),
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


def _posted_entry_ids(data) -> list[int]:
    return [int(key[9:]) for key in data if key.startswith("returned_") and key[9:].isdigit()]


@login_required
@permission_required([VIEW, "archives.receive_transferlist"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def transfer_receive(request, pk: int):
    """Count the batch back a page at a time: 保存本页 records the page's counts, 确认接收 takes them with
    the ones recorded before and closes the list. The page opens on the entries not yet counted."""
    transfer = selectors.transfer_for(user=request.user, pk=pk)
    summary = selectors.transfer_summary(transfer)
    data = request.GET.copy()
    if "problem" not in data and summary.uncounted:
        data["problem"] = EntryProblem.UNCOUNTED
    filter_form, filters, query = _entry_filters(data, paper_only=True)
    page = selectors.transfer_entry_page(
        transfer=transfer,
        filters={**filters, "section": EntrySection.PAPER},
        page=request.GET.get("page"),
    )
    if request.method == "POST":
        # The entries are the ones posted, not the page as it is now: another archivist may have counted.
        posted = _posted_entry_ids(request.POST)
        entries = selectors.transfer_entries_with_ids(transfer=transfer, ids=posted)
    else:
        entries = list(page)
    form = ReceiveForm(request.POST or None, entries=entries)
    if request.method == "POST" and form.is_valid():
        if len(entries) != len(set(posted)):
            form.add_error(None, "清点数据包含不属于本清单的条目。")
        else:
            try:
                if request.POST.get("step") == "receive":
                    services.transfer_receive(transfer=transfer, actor=request.user, counts=form.counts())
                else:
                    changed = services.transfer_count_entries(
                        transfer=transfer, actor=request.user, counts=form.counts()
                    )
            except TransitionNotAllowed as exc:
                return conflict(request, str(exc))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                if request.POST.get("step") == "receive":
                    messages.success(request, f"移交清单 {transfer.number} 已接收清点，档案待上架。")
                    return redirect("archives:transfer_detail", pk=transfer.pk)
                messages.success(request, f"已保存 {changed} 件业务的清点结果。")
                # Counted entries leave the 未清点 filter, so its next ones are on its first page.
                keep_page = filters.get("problem") != EntryProblem.UNCOUNTED
                again = query + (f"&page={page.number}" if keep_page and page.number > 1 else "")
                return redirect(f"{reverse('archives:transfer_receive', args=[transfer.pk])}?{again}")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "archives/transfers/receive.html",
        {
            "transfer": transfer,
            "form": form,
            "summary": summary,
            "filter_form": filter_form,
            "page": page,
            "query": query,
            "can_receive": any(
                t.action == "receive"
                for t in selectors.transfer_actions(transfer=transfer, user=request.user)
            ),
        },
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
