"""Pages of the notices: the list, the PDF download, and the documents panel of a case. Thin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from bizreg.core.exports import respond as respond_with_export
from bizreg.registration import exports
from bizreg.registration.forms.documents import NoticeFilterForm
from bizreg.registration.models import CaseState, LicenceKind
from bizreg.registration.selectors import documents as selectors
from bizreg.registration.selectors import licences as licence_selectors
from bizreg.registration.selectors import mail as mail_selectors
from bizreg.registration.services import documents as services
from bizreg.registration.services.licences import NO_LICENCE_TYPES


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def _panel_next(request) -> str:
    """Where the panel's buttons return: the page that loaded it (HTMX tells), else the stock page."""
    current = request.htmx.current_url if getattr(request, "htmx", None) else ""
    if current and url_has_allowed_host_and_scheme(current, {request.get_host()}, request.is_secure()):
        return current
    return safe_next(request, reverse("registration:licence_stock"))


@login_required
@permission_required("registration.view_notice", raise_exception=True)
@require_GET
def notice_list(request):
    form = NoticeFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.notice_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "registration/documents_list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
@permission_required("registration.view_notice", raise_exception=True)
@require_GET
def notice_export(request):
    back = f"{reverse('registration:notice_list')}?{request.GET.urlencode()}"
    return respond_with_export(request, exports.NOTICES, back_url=back)


@login_required
@permission_required("registration.view_notice", raise_exception=True)
@require_GET
def notice_download(request, pk: int):
    notice = selectors.notice_for(user=request.user, pk=pk)
    try:
        data = services.notice_stored_bytes(notice)
    except services.NoticeError as exc:
        return render(request, "registration/documents_error.html", {"message": str(exc)}, status=409)
    response = HttpResponse(data, content_type="application/pdf")
    filename = f"{notice.get_kind_display()}_{notice.number}.pdf"
    response["Content-Disposition"] = content_disposition_header(request.GET.get("inline") != "1", filename)
    response["X-Content-SHA256"] = notice.sha256
    return response


@login_required
@permission_required("registration.view_registrationcase", raise_exception=True)
@require_GET
def case_documents_panel(request, case_pk: int):
    """The notices, licence sheets and mail of one case: a fragment the case page loads with HTMX."""
    user = request.user
    case = licence_selectors.case_printable_for(user=user, pk=case_pk)
    sheets = []
    if user.has_perm("registration.view_licencesheet"):
        sheets = licence_selectors.sheets_for_case(user=user, case=case)
    valid_kinds = {sheet.kind for sheet in sheets if sheet.status == sheet.Status.PRINTED}
    # 补打: a licensed case whose sheet of a kind was spoiled while no blank was left.
    can_reprint = (
        user.has_perm("registration.print_licence")
        and case.state == CaseState.LICENSED
        and case.case_type not in NO_LICENCE_TYPES
    )
    notices = (
        selectors.notices_for_case(user=user, case=case) if user.has_perm("registration.view_notice") else []
    )
    packages = []
    if user.has_perm("registration.view_mailpackage"):
        packages = mail_selectors.packages_for_case(user=user, case=case)
    context = {
        "case": case,
        "notices": notices,
        "sheets": sheets,
        "packages": packages,
        "print_kinds": [
            (k, label) for k, label in LicenceKind.choices if can_reprint and k not in valid_kinds
        ],
        "can_mail_out": case.state in (CaseState.LICENSED, CaseState.ARCHIVED)
        and bool(valid_kinds)
        and user.has_perm("registration.add_mailpackage"),
        # A licence already posted is posted again only after a return: the button says so.
        "posted": [p for p in packages if p.direction == p.Direction.OUTBOUND],
        "next": _panel_next(request),
        "prints_licence": case.case_type not in NO_LICENCE_TYPES,
    }
    return render(request, "registration/documents_case_panel.html", context)
