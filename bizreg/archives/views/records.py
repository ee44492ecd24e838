"""Archive files, items and shelves: list and export, detail (logged), item description, shelving,
moved-out/moved-in archives, merges and 商事公示 uploads. Thin: a refused transition answers 409 with the
reason, a role without the permission 403, bad input the form with its errors (400)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.archives import exports
from bizreg.archives.forms import (
    ArchiveFilterForm,
    FlagClearForm,
    ItemDescribeForm,
    MergeForm,
    MovedFilterForm,
    MoveInForm,
    MoveOutForm,
    PublicNoticeUploadForm,
    ShelfFilterForm,
    ShelfForm,
    ShelveForm,
)
from bizreg.archives.models import ArchiveAccessLog, ArchiveStatus
from bizreg.archives.selectors import records as selectors
from bizreg.archives.selectors.search import page_hit_boxes
from bizreg.archives.services import items as item_services
from bizreg.archives.services import moves, shelving, uploads
from bizreg.archives.services.access_log import log_access, viewer_name
from bizreg.archives.services.items import DESCRIPTION_FIELDS
from bizreg.archives.views.common import conflict
from bizreg.core.exports import respond as respond_with_export
from bizreg.core.scoping import default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed

VIEW = "archives.view_archivefile"
VIEW_ITEM = "archives.view_archiveitem"
VIEW_SHELF = "archives.view_shelflocation"


def _filters(request):
    form = ArchiveFilterForm(request.GET or None, shelves=selectors.shelves_visible_to(request.user))
    return form, (form.cleaned_data if form.is_valid() else {})


# --- archives ---------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def archive_list(request):
    form, filters = _filters(request)
    page = selectors.archive_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    without_location = query.copy()
    without_location.pop("location", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "selected_location": filters.get("location"),
        "query_without_location": without_location.urlencode(),
    }
    return render(request, "archives/records/list.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def archive_export(request):
    back = f"{reverse('archives:archive_list')}?{request.GET.urlencode()}"
    return respond_with_export(request, exports.ARCHIVES, back_url=back)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def moved_list(request):
    form = MovedFilterForm(request.GET or None)
    filters = dict(form.cleaned_data) if form.is_valid() else {}
    filters["moved"] = filters.get("moved") or "any"
    page = selectors.archive_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "archives/records/moved.html", {"form": form, "page": page, "query": query.urlencode()}
    )


def _detail_context(request, archive, **extra) -> dict:
    return {
        "archive": archive,
        "enterprise": archive.enterprise,
        "groups": selectors.item_groups(user=request.user, archive=archive),
        "hidden_count": selectors.hidden_item_count(user=request.user, archive=archive),
        "actions": selectors.archive_actions(archive=archive, user=request.user),
        "events": selectors.archive_events(user=request.user, archive=archive),
        "merged_from": archive.merged_from.all().order_by("archival_code"),
        **extra,
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def archive_detail(request, pk: int):
    archive = selectors.archive_for(user=request.user, pk=pk)
    log_access(
        user=request.user,
        who=viewer_name(request.user),
        archive=archive,
        action=ArchiveAccessLog.Action.VIEW,
        detail="查看档案详情",
        request=request,
    )
    return render(request, "archives/records/detail.html", _detail_context(request, archive))


def _form_page(request, template_title: str, archive, form, status: int = 200, **extra):
    return render(
        request,
        "archives/records/form.html",
        {"title": template_title, "archive": archive, "form": form, **extra},
        status=status,
    )


@login_required
@permission_required([VIEW, "archives.shelve_archive"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def archive_shelve(request, pk: int):
    archive = selectors.archive_for(user=request.user, pk=pk)
    form = ShelveForm(
        request.POST or None,
        shelves=selectors.shelf_choices(archive=archive),
        suggest_next=archive.status == ArchiveStatus.PENDING,
    )
    if request.method == "POST" and form.is_valid():
        try:
            shelving.archive_shelve(
                archive=archive,
                location=form.cleaned_data["location"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), reverse("archives:archive_detail", args=[archive.pk]))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, f"档案 {archive.archival_code} 已放入库位 {form.cleaned_data['location'].label}。"
            )
            return redirect("archives:archive_detail", pk=archive.pk)
    title = "上架" if archive.status == ArchiveStatus.PENDING else "调整库位"
    return _form_page(request, title, archive, form, status=400 if request.method == "POST" else 200)


@login_required
@permission_required([VIEW, "archives.move_archive"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def archive_move_out(request, pk: int):
    archive = selectors.archive_for(user=request.user, pk=pk)
    form = MoveOutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            moves.archive_move_out(archive=archive, actor=request.user, **form.cleaned_data)
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), reverse("archives:archive_detail", args=[archive.pk]))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"档案 {archive.archival_code} 已迁出，请下载并打印档案移交函。")
            return redirect("archives:archive_detail", pk=archive.pk)
    return _form_page(request, "迁出", archive, form, status=400 if request.method == "POST" else 200)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def archive_move_out_letter(request, pk: int):
    archive = selectors.archive_for(user=request.user, pk=pk)
    try:
        data = moves.move_out_letter_pdf(archive)
    except ValidationError as exc:
        return conflict(
            request, "；".join(exc.messages), reverse("archives:archive_detail", args=[archive.pk])
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="move-out-{archive.pk}.pdf"'
    return response


@login_required
@permission_required([VIEW, "archives.move_archive"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def archive_merge(request, pk: int):
    archive = selectors.archive_for(user=request.user, pk=pk)
    form = MergeForm(request.POST or None, targets=selectors.merge_targets(user=request.user, source=archive))
    if request.method == "POST" and form.is_valid():
        try:
            target = moves.archive_merge(
                source=archive,
                target=form.cleaned_data["target"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), reverse("archives:archive_detail", args=[archive.pk]))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"档案 {archive.archival_code} 已并入 {target.archival_code}。")
            return redirect("archives:archive_detail", pk=target.pk)
    return _form_page(
        request, "合并至接收档案", archive, form, status=400 if request.method == "POST" else 200
    )


@login_required
@permission_required([VIEW, "archives.move_archive", "archives.add_archivefile"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def archive_move_in(request):
    form = MoveInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            archive = moves.archive_move_in(
                authority=default_authority_for(request.user), actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, f"已登记迁入档案 {archive.archival_code}（{archive.items.count()} 件）。"
            )
            return redirect("archives:archive_detail", pk=archive.pk)
    return _form_page(request, "登记迁入档案", None, form, status=400 if request.method == "POST" else 200)


@login_required
@permission_required([VIEW, "archives.add_archiveitem"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def archive_upload(request, pk: int):
    archive = selectors.archive_for(user=request.user, pk=pk)
    form = PublicNoticeUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = uploads.public_notice_upload(archive=archive, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if item.flags:
                messages.warning(
                    request, f"已保存 {item.archival_code}，但有问题标记：{item.flags[0]['message']}"
                )
            else:
                messages.success(request, f"已上传 {item.archival_code} {item.title}。")
            return redirect("archives:item_detail", pk=item.pk)
    return _form_page(
        request,
        "上传商事公示材料",
        archive,
        form,
        status=400 if request.method == "POST" else 200,
        multipart=True,
    )


# --- items ------------------------------------------------------------------------------------------------


@login_required
@permission_required([VIEW, VIEW_ITEM], raise_exception=True)
@require_GET
def item_detail(request, pk: int):
    item = selectors.item_for(user=request.user, pk=pk)
    log_access(
        user=request.user,
        who=viewer_name(request.user),
        item=item,
        action=ArchiveAccessLog.Action.VIEW,
        detail="查看档案件",
        request=request,
    )
    page_count = selectors.scan_pages_in_order([item.pk]).count()
    try:
        page_number = min(max(int(request.GET.get("page", 1)), 1), max(page_count, 1))
    except ValueError:
        page_number = 1
    marks = request.GET.getlist("hl")
    hit_boxes = (
        page_hit_boxes(selectors.item_scan_page(item, page_number), marks) if page_count and marks else []
    )
    return render(
        request,
        "archives/records/item_detail.html",
        {
            "item": item,
            "archive": item.archive,
            "history": item.history.select_related("history_user")[:20],
            "page_count": page_count,
            "page_number": page_number,
            "hit_boxes": hit_boxes,
            "marks_query": urlencode([("hl", m) for m in marks]),
        },
    )


@login_required
@permission_required([VIEW, VIEW_ITEM, "archives.change_archiveitem"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def item_edit(request, pk: int):
    item = selectors.item_for(user=request.user, pk=pk)
    initial = {name: getattr(item, name) for name in DESCRIPTION_FIELDS}
    form = ItemDescribeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            item_services.item_describe(
                item=item, actor=request.user, reason=form.cleaned_data["reason"], **form.description()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已保存 {item.archival_code} 的著录信息。")
            return redirect("archives:item_detail", pk=item.pk)
    return render(
        request,
        "archives/records/item_form.html",
        {"item": item, "archive": item.archive, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required([VIEW, VIEW_ITEM, "archives.change_archivefile"], raise_exception=True)
@require_POST
def item_flag_clear(request, pk: int):
    item = selectors.item_for(user=request.user, pk=pk)
    form = FlagClearForm(request.POST)
    if form.is_valid():
        try:
            item_services.item_flag_clear(item=item, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已解除 {item.archival_code} 的问题标记。")
            return redirect("archives:item_detail", pk=item.pk)
    messages.error(request, "未解除标记：" + "；".join(e for errors in form.errors.values() for e in errors))
    return redirect("archives:item_detail", pk=item.pk)


# --- shelves ----------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_SHELF, raise_exception=True)
@require_GET
def shelf_list(request):
    form = ShelfFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.shelf_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "archives/records/shelves.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
@permission_required([VIEW_SHELF, "archives.add_shelflocation"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def shelf_new(request):
    return _shelf_form(request, None)


@login_required
@permission_required([VIEW_SHELF, "archives.change_shelflocation"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def shelf_edit(request, pk: int):
    return _shelf_form(request, selectors.shelf_for(user=request.user, pk=pk))


def _shelf_form(request, shelf):
    """A new shelf layer (shelf None) or the edit of one: the same form, the service differs."""
    initial = {name: getattr(shelf, name) for name in ShelfForm.base_fields} if shelf else None
    form = ShelfForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if shelf is None:
                saved = shelving.shelf_create(
                    authority=default_authority_for(request.user), actor=request.user, **form.cleaned_data
                )
            else:
                saved = shelving.shelf_update(shelf=shelf, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            verb = "登记" if shelf is None else "保存"
            messages.success(request, f"已{verb}库位 {saved.label}。")
            return redirect("archives:shelf_list")
    return render(
        request,
        "archives/records/shelf_form.html",
        {"form": form, "shelf": shelf},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required([VIEW_SHELF, "archives.change_shelflocation"], raise_exception=True)
@require_POST
def shelf_toggle(request, pk: int):
    shelf = selectors.shelf_for(user=request.user, pk=pk)
    try:
        shelf = shelving.shelf_set_active(shelf=shelf, actor=request.user, active=not shelf.is_active)
    except ValidationError as exc:
        return conflict(request, "；".join(exc.messages), reverse("archives:shelf_list"))
    messages.success(request, f"库位 {shelf.label} 已{'启用' if shelf.is_active else '停用'}。")
    return redirect("archives:shelf_list")


urlpatterns = [
    path("", archive_list, name="archive_list"),
    path("export.xlsx", archive_export, name="archive_export"),
    path("moved/", moved_list, name="moved_list"),
    path("move-in/", archive_move_in, name="archive_move_in"),
    path("files/<int:pk>/", archive_detail, name="archive_detail"),
    path("files/<int:pk>/shelve/", archive_shelve, name="archive_shelve"),
    path("files/<int:pk>/move-out/", archive_move_out, name="archive_move_out"),
    path("files/<int:pk>/move-out/letter.pdf", archive_move_out_letter, name="archive_move_out_letter"),
    path("files/<int:pk>/merge/", archive_merge, name="archive_merge"),
    path("files/<int:pk>/upload/", archive_upload, name="archive_upload"),
    path("items/<int:pk>/", item_detail, name="item_detail"),
    path("items/<int:pk>/edit/", item_edit, name="item_edit"),
    path("items/<int:pk>/clear-flag/", item_flag_clear, name="item_flag_clear"),
    path("shelves/", shelf_list, name="shelf_list"),
    path("shelves/new/", shelf_new, name="shelf_new"),
    path("shelves/<int:pk>/edit/", shelf_edit, name="shelf_edit"),
    path("shelves/<int:pk>/toggle/", shelf_toggle, name="shelf_toggle"),
]
