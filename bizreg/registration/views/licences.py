"""Pages of licence stock and printing. Thin: parse input, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core.exports import respond as respond_with_export
from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.registration import exports
from bizreg.registration.forms.licences import (
    BatchForm,
    PrintForm,
    ReorderLevelForm,
    RetireForm,
    SheetFilterForm,
    SpoilForm,
)
from bizreg.registration.models import LicenceSheet
from bizreg.registration.selectors import licences as selectors
from bizreg.registration.services import licences as services
from bizreg.registration.views.documents import safe_next

MANAGE = "registration.manage_licence_stock"
PRINT = "registration.print_licence"


def authority_of(user) -> Authority:
    if not user.is_superuser and not authority_ids_for(user):
        raise PermissionDenied(_("您的账号未分配登记机关，不能办理登记业务。"))
    return default_authority_for(user)


# --- stock page ------------------------------------------------------------------------------------------


@login_required
@permission_required("registration.view_licencesheet", raise_exception=True)
@require_GET
def licence_stock(request):
    user = request.user
    levels = selectors.stock_levels(user=user)
    batches = list(selectors.batches_visible_to(user).order_by("-received_on", "-id")[:20])
    for batch in batches:
        batch.first_serial = services.format_serial(batch.prefix, batch.serial_start)
        batch.last_serial = services.format_serial(batch.prefix, batch.serial_end)
    context = {
        "levels": levels,
        "warnings": [level for level in levels if level.below_reorder_level],
        "batches": batches,
        "level_form": ReorderLevelForm() if user.has_perm(MANAGE) else None,
    }
    return render(request, "registration/licences_stock.html", context)


@login_required
@permission_required(
    ["registration.view_licencebatch", "registration.add_licencebatch", MANAGE], raise_exception=True
)
@require_http_methods(["GET", "POST"])
def batch_create(request):
    form = BatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.licence_batch_receive(
                authority=authority_of(request.user), actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("已入库：%(kind)s %(count)d 张（%(start)s–%(end)s）。")
                % {
                    "kind": batch.get_kind_display(),
                    "count": batch.serial_end - batch.serial_start + 1,
                    "start": services.format_serial(batch.prefix, batch.serial_start),
                    "end": services.format_serial(batch.prefix, batch.serial_end),
                },
            )
            return redirect("registration:licence_stock")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/licences_batch_form.html", {"form": form}, status=status)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def reorder_level(request):
    form = ReorderLevelForm(request.POST)
    if form.is_valid():
        try:
            services.licence_reorder_level_set(
                authority=authority_of(request.user), actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("已更新补货预警线。"))
    else:
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, _("预警线未保存：%(errors)s") % {"errors": "；".join(errors)})
    return redirect("registration:licence_stock")


# --- ledger ----------------------------------------------------------------------------------------------


@login_required
@permission_required("registration.view_licencesheet", raise_exception=True)
@require_GET
def sheet_list(request):
    form = SheetFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.sheet_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "registration/licences_sheets.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
@permission_required("registration.view_licencesheet", raise_exception=True)
@require_GET
def sheet_export(request):
    back = reverse("registration:licence_sheets") + "?" + request.GET.urlencode()
    return respond_with_export(request, exports.LICENCE_SHEETS, back_url=back)


# --- printing, spoiling, voiding --------------------------------------------------------------------------


@login_required
@permission_required([PRINT, "registration.view_registrationcase"], raise_exception=True)
@require_POST
def case_print(request, case_pk: int):
    case = selectors.case_printable_for(user=request.user, pk=case_pk)
    form = PrintForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择执照类型（正本或副本）。"))
    else:
        try:
            sheet = services.licence_print(case=case, kind=form.cleaned_data["kind"], actor=request.user)
        except services.LicenceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("已打印营业执照%(kind)s，执照纸编号 %(serial)s。")
                % {"kind": sheet.get_kind_display(), "serial": sheet.serial},
            )
    return redirect(safe_next(request, reverse("registration:licence_sheets") + f"?q={case.number}"))


@login_required
@permission_required(["registration.view_licencesheet", PRINT], raise_exception=True)
@require_http_methods(["GET", "POST"])
def sheet_spoil(request, pk: int):
    sheet = selectors.sheet_for(user=request.user, pk=pk)
    form = SpoilForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            replacement = services.licence_spoil(
                sheet=sheet,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                reprint=form.cleaned_data["reprint"],
            )
        except ValidationError as exc:
            form.add_error("reason", exc.messages[0])
        except services.LicenceError as exc:
            form.add_error(None, str(exc))
        else:
            if replacement is not None:
                messages.success(
                    request,
                    _("已登记 %(old)s 打印损坏，并用 %(new)s 重新打印。")
                    % {"old": sheet.serial, "new": replacement.serial},
                )
            elif form.cleaned_data["reprint"]:
                messages.warning(
                    request,
                    _(
                        "已登记 %(old)s 打印损坏，但%(kind)s空白纸已用完，未能重新打印；"
                        "入库后请在业务页面补打。"
                    )
                    % {"old": sheet.serial, "kind": sheet.get_kind_display()},
                )
            else:
                messages.success(request, _("已登记 %(old)s 打印损坏。") % {"old": sheet.serial})
            return redirect(safe_next(request, reverse("registration:licence_sheets")))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "registration/licences_retire_form.html",
        {
            "form": form,
            "sheet": sheet,
            "title": _("登记打印损坏"),
            "submit": _("登记损坏"),
            # Said before the clerk types a reason: the licence has already left the office.
            "refusal": services.licence_spoil_refusal(sheet) if request.method == "GET" else None,
            "next": safe_next(request, ""),
        },
        status=status,
    )


@login_required
@permission_required("registration.view_licencesheet", raise_exception=True)
@require_http_methods(["GET", "POST"])
def sheet_void(request, pk: int):
    sheet = selectors.sheet_for(user=request.user, pk=pk)
    # A blank is voided from stock (the stock manager); a printed licence by the one who prints them.
    needed = MANAGE if sheet.status == LicenceSheet.Status.BLANK else PRINT
    if not request.user.has_perm(needed):
        raise PermissionDenied(_("您的角色无权作废该执照纸。"))
    form = RetireForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.licence_void(sheet=sheet, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error("reason", exc.messages[0])
        except services.LicenceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已作废执照纸 %(serial)s。") % {"serial": sheet.serial})
            return redirect(safe_next(request, reverse("registration:licence_sheets")))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "registration/licences_retire_form.html",
        {
            "form": form,
            "sheet": sheet,
            "title": _("作废执照纸"),
            "submit": _("作废"),
            "next": safe_next(request, ""),
        },
        status=status,
    )
