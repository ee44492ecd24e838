"""Staff pages of archive access: the access requests (filters, Excel export), one request with its proof
(download logged), the manager's decision, serving an approved full-file request (the grant link shown
once), the watermarked, logged download of an item, and the fixity runs. Thin: forms → services.access /
selectors.access. A step refused for the request's state answers 409 with the reason, a role that may
not take it 403."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bizreg.archives import workflows
from bizreg.archives.forms_access import AccessFilterForm, DecisionForm, GrantForm
from bizreg.archives.models import AccessState
from bizreg.archives.selectors import access as selectors
from bizreg.archives.selectors.records import item_scan_page
from bizreg.archives.services import access as services
from bizreg.archives.services.access_log import viewer_name
from bizreg.archives.views.common import conflict
from bizreg.core.excel import xlsx_response
from bizreg.core.masking import mask_id_number, mask_person_name, mask_phone
from bizreg.core.statemachine import TransitionNotAllowed

VIEW_PERM = "archives.view_accessrequest"
APPROVE_PERM = "archives.approve_accessrequest"
SERVE_PERM = "archives.change_accessrequest"
FIXITY_PERM = "archives.view_fixityrun"


def _filters(request) -> tuple[AccessFilterForm, dict]:
    form = AccessFilterForm(request.GET or None)
    return form, (form.cleaned_data if form.is_valid() else {})


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def access_list(request):
    form, filters = _filters(request)
    page = selectors.access_page(user=request.user, filters=filters, page=request.GET.get("page"))
    now = timezone.now()
    for row in page:
        row.overdue = selectors.is_overdue(row, now)
        row.applicant_masked = mask_person_name(row.applicant_name)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "archives/access/list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def access_export(request):
    _form, filters = _filters(request)
    rows = selectors.access_export_rows(selectors.access_search(user=request.user, filters=filters))
    filename = _("档案查询申请_%(time)s.xlsx") % {"time": f"{timezone.localtime():%Y%m%d_%H%M%S}"}
    return xlsx_response(
        title=_("档案查询申请"), headers=selectors.EXPORT_HEADERS, rows=rows, filename=filename
    )


def _detail_context(request, access) -> dict:
    return {
        "access": access,
        "applicant": mask_person_name(access.applicant_name),
        "id_number": mask_id_number(access.applicant_id_number),
        "phone": mask_phone(access.applicant_phone),
        "overdue": selectors.is_overdue(access),
        "actions": [t.action for t in workflows.ACCESS.available(state=access.state, user=request.user)],
        "decision_form": DecisionForm(),
        "grant_form": GrantForm(),
        "can_reissue": bool(
            access.state == AccessState.SERVED
            and access.full_file
            and access.grant_until
            and access.grant_until > timezone.now()
            and request.user.has_perm(SERVE_PERM)
        ),
        "events": selectors.access_events(access),
    }


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def access_detail(request, pk: int):
    access = selectors.access_for(user=request.user, pk=pk)
    return render(request, "archives/access/detail.html", _detail_context(request, access))


@login_required
@permission_required(APPROVE_PERM, raise_exception=True)
@require_POST
def access_decide(request, pk: int):
    access = selectors.access_for(user=request.user, pk=pk)
    back = reverse("archives:access_detail", args=[access.pk])
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审核结论。"))
        return redirect(back)
    reason = form.cleaned_data["reason"]
    try:
        if form.cleaned_data["decision"] == "approve":
            services.access_approve(access_request=access, actor=request.user, reason=reason)
            messages.success(request, _("已批准，请开通调阅并将链接发送给申请人。"))
        else:
            services.access_reject(access_request=access, actor=request.user, reason=reason)
            messages.success(request, _("已作出不批准决定。"))
    except TransitionNotAllowed as exc:
        return conflict(request, str(exc), back)
    except ValidationError as exc:
        context = _detail_context(request, access)
        context["decision_form"] = form
        context["decision_error"] = " ".join(exc.messages)
        return render(request, "archives/access/detail.html", context, status=400)
    return redirect(back)


@never_cache
@login_required
@permission_required(SERVE_PERM, raise_exception=True)
@require_POST
def access_serve(request, pk: int):
    """Issue (or re-issue) the grant. The link is in this response only: it is not stored, not put in a
    message or the session, and the page is not cached."""
    access = selectors.access_for(user=request.user, pk=pk)
    back = reverse("archives:access_detail", args=[access.pk])
    form = GrantForm(request.POST)
    if not form.is_valid():
        return conflict(request, _("调阅有效期应为 1–30 天。"), back)
    try:
        access, token = services.access_serve(
            access_request=access, actor=request.user, days=form.cleaned_data["days"]
        )
    except TransitionNotAllowed as exc:
        return conflict(request, str(exc), back)
    except ValidationError as exc:
        return conflict(request, " ".join(exc.messages), back)
    link = request.build_absolute_uri(reverse("archives_public:grant", args=[token]))
    return render(
        request,
        "archives/access/granted.html",
        {"access": access, "link": link, "phone": mask_phone(access.applicant_phone)},
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def access_proof(request, pk: int):
    access = selectors.access_for(user=request.user, pk=pk)
    if not access.proof:
        raise Http404(_("该申请没有证明材料。"))
    try:
        handle = access.proof.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("证明材料文件缺失，请联系档案管理员。")) from None
    services.proof_log_download(access_request=access, user=request.user, request=request)
    content_type = mimetypes.guess_type(access.proof.name)[0] or "application/octet-stream"
    response = FileResponse(
        handle, content_type=content_type, as_attachment=True, filename=f"{access.reference}_证明材料"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def item_download(request, pk: int):
    """A staff copy of an item's PDF, watermarked with the user and the time; every refusal logged too."""
    item = services.staff_item_to_open(user=request.user, pk=pk, request=request)
    try:
        data, _text = services.watermarked_copy(
            item=item, who=viewer_name(request.user), user=request.user, request=request
        )
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from None
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{item.archival_code}.pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def item_page_image(request, pk: int, number: int):
    """Page `number` of an item's scans as the viewer sees it (watermarked); every view and refusal logged."""
    item = services.staff_item_to_open(user=request.user, pk=pk, request=request)
    page = item_scan_page(item, number)
    if page is None:
        raise Http404(_("该档案件没有第 %(number)s 页图像。") % {"number": number})
    try:
        data = services.watermarked_page_image(
            item=item,
            page=page,
            number=number,
            who=viewer_name(request.user),
            user=request.user,
            request=request,
        )
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from None
    response = HttpResponse(data, content_type="image/png" if data[:4] == b"\x89PNG" else "image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@permission_required(FIXITY_PERM, raise_exception=True)
@require_GET
def fixity_list(request):
    from django.core.paginator import Paginator

    page = Paginator(selectors.fixity_runs_visible_to(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "archives/access/fixity_list.html", {"page": page, "query": ""})


@login_required
@permission_required(FIXITY_PERM, raise_exception=True)
@require_GET
def fixity_detail(request, pk: int):
    run = selectors.fixity_run_for(user=request.user, pk=pk)
    return render(request, "archives/access/fixity_detail.html", {"run": run})


urlpatterns: list = [
    path("access/", access_list, name="access_list"),
    path("access/export/", access_export, name="access_export"),
    path("access/<int:pk>/", access_detail, name="access_detail"),
    path("access/<int:pk>/decide/", access_decide, name="access_decide"),
    path("access/<int:pk>/serve/", access_serve, name="access_serve"),
    path("access/<int:pk>/proof/", access_proof, name="access_proof"),
    path("items/<int:pk>/download/", item_download, name="item_download"),
    path("items/<int:pk>/pages/<int:number>/image/", item_page_image, name="item_page_image"),
    path("fixity/", fixity_list, name="fixity_runs"),
    path("fixity/<int:pk>/", fixity_detail, name="fixity_detail"),
]
