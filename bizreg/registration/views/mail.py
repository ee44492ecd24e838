"""Pages of mail intake: list, record a package, its page with hand-overs, mailing a licence out. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core.exports import respond as respond_with_export
from bizreg.registration import exports
from bizreg.registration.forms.mail import (
    HandoverForm,
    LinkCaseForm,
    MailFilterForm,
    OutboundForm,
    PackageForm,
)
from bizreg.registration.models import MailPackage
from bizreg.registration.selectors import licences as licence_selectors
from bizreg.registration.selectors import mail as selectors
from bizreg.registration.services import mail as services
from bizreg.registration.views.licences import authority_of

VIEW = "registration.view_mailpackage"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def mail_list(request):
    form = MailFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.package_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "registration/mail_list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
@permission_required([VIEW, "registration.add_mailpackage"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def mail_create(request):
    form = PackageForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        case = data.pop("case_number")
        try:
            package = services.mail_receive(
                authority=authority_of(request.user), actor=request.user, case=case, **data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            label = f"{package.get_courier_display()} {package.tracking_number}"
            messages.success(request, _("已登记收件：%(package)s。") % {"package": label})
            return redirect("registration:mail_detail", pk=package.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/mail_form.html", {"form": form}, status=status)


def _detail_context(request, package: MailPackage, **forms) -> dict:
    user = request.user
    context = {
        "package": package,
        "documents": [line for line in package.documents.splitlines() if line.strip()],
        "handovers": selectors.handovers_of(package=package),
        "replies": list(package.replies.order_by("recorded_at")),
        "handover_form": None,
        "link_form": None,
    }
    if user.has_perm("registration.add_mailhandover"):
        context["handover_form"] = forms.get("handover_form") or HandoverForm(
            recipients=selectors.handover_recipients(user=user, package=package), direction=package.direction
        )
    if user.has_perm("registration.change_mailpackage") and package.case_id is None:
        context["link_form"] = forms.get("link_form") or LinkCaseForm()
    return context


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def mail_detail(request, pk: int):
    package = selectors.package_for(user=request.user, pk=pk)
    return render(request, "registration/mail_detail.html", _detail_context(request, package))


@login_required
@permission_required([VIEW, "registration.add_mailhandover"], raise_exception=True)
@require_POST
def mail_handover(request, pk: int):
    package = selectors.package_for(user=request.user, pk=pk)
    form = HandoverForm(
        request.POST,
        recipients=selectors.handover_recipients(user=request.user, package=package),
        direction=package.direction,
    )
    if form.is_valid():
        try:
            handover = services.mail_handover(package=package, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("已交接给 %(user)s（%(purpose)s）。")
                % {"user": handover.to_user, "purpose": _(handover.purpose)},
            )
            return redirect("registration:mail_detail", pk=package.pk)
    return render(
        request,
        "registration/mail_detail.html",
        _detail_context(request, package, handover_form=form),
        status=400,
    )


@login_required
@permission_required([VIEW, "registration.change_mailpackage"], raise_exception=True)
@require_POST
def mail_link_case(request, pk: int):
    package = selectors.package_for(user=request.user, pk=pk)
    form = LinkCaseForm(request.POST)
    if form.is_valid():
        case = selectors.case_by_number(user=request.user, number=form.cleaned_data["case_number"])
        if case is None:
            form.add_error("case_number", _("没有找到该业务编号的业务。"))
        else:
            try:
                services.mail_link_case(package=package, case=case, actor=request.user)
            except services.MailError as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                form.add_error("case_number", exc.messages[0])
            else:
                messages.success(request, _("已关联业务 %(number)s。") % {"number": case.number})
                return redirect("registration:mail_detail", pk=package.pk)
    return render(
        request,
        "registration/mail_detail.html",
        _detail_context(request, package, link_form=form),
        status=400,
    )


@login_required
@permission_required([VIEW, "registration.add_mailpackage"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def mail_outbound(request, case_pk: int):
    case = licence_selectors.case_printable_for(user=request.user, pk=case_pk)
    inbound = (
        selectors.packages_visible_to(request.user)
        .filter(case=case, direction=MailPackage.Direction.INBOUND)
        .order_by("-recorded_at")
        .first()
    )
    initial = {"address": inbound.address} if inbound is not None else {}
    form = OutboundForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            package = services.mail_send_licence(case=case, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except services.MailError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已登记寄出：%(number)s。") % {"number": package.tracking_number})
            return redirect("registration:mail_detail", pk=package.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "registration/mail_outbound_form.html", {"form": form, "case": case}, status=status
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def mail_export(request):
    back = reverse("registration:mail_list") + "?" + request.GET.urlencode()
    return respond_with_export(request, exports.MAIL_PACKAGES, back_url=back)
