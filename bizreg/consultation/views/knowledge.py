"""Knowledge-base pages for staff: the article list and its export, freshness, one article with its
versions, diff and history, the editing and review steps, synonyms and knowledge gaps.

Thin: parse input, call a service or selector, render. A step refused for the state answers 409 with the
Chinese reason, a role (or the four-eyes rule) that forbids it 403, bad input the form again with errors.
"""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.consultation.forms.knowledge import (
    ArticleSettingsForm,
    ArticleVersionForm,
    GapDismissForm,
    GapFilterForm,
    KnowledgeFilterForm,
    ReasonForm,
    SynonymForm,
)
from bizreg.consultation.models import ARTICLE_VERSION_WORKFLOW, ArticleVersionState, KnowledgeGap
from bizreg.consultation.selectors import knowledge as selectors
from bizreg.consultation.services import knowledge as services
from bizreg.core.excel import safe_cell, workbook_response
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed

VIEW_PERM = "consultation.view_article"
GAP_PERM = "consultation.view_knowledgegap"
SYNONYM_PERM = "consultation.view_synonym"


def _conflict(request, message: str, back: str):
    """The 409 page: refused for the current state; nothing was changed."""
    return render(
        request, "consultation/knowledge/conflict.html", {"message": message, "back": back}, status=409
    )


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _xlsx_response(workbook, name: str) -> FileResponse:
    filename = f"{name}_{timezone.localtime():%Y%m%d_%H%M%S}.xlsx"
    return workbook_response(workbook, filename)


# --- list, export, freshness ---------------------------------------------------------------------------


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def article_list(request):
    form = KnowledgeFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    listing = selectors.article_listing(user=request.user, filters=filters, page=request.GET.get("page"))
    context = {
        "form": form,
        "listing": listing,
        "page": listing.page,
        "query": _query_without_page(request),
        "summary": selectors.freshness_summary(user=request.user),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "consultation/knowledge/list_results.html", context)
    return render(request, "consultation/knowledge/list.html", context)


EXPORT_COLUMNS = (
    "条目编号",
    "标准问题",
    "相似问法",
    "答案",
    "政策法规依据",
    "适用业务类型",
    "咨询主题",
    "公开范围",
    "现行版本",
    "待发布版本",
    "已停用",
    "负责人",
    "复核期限",
    "新鲜度",
    f"近 {selectors.USAGE_RECENT_DAYS} 天使用",
    "累计使用",
)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def article_export(request):
    """The filtered knowledge base as Excel: each article's current text (the published version, else the
    newest draft)."""
    from openpyxl import Workbook

    form = KnowledgeFilterForm(request.GET or None, user=request.user)
    queryset = selectors.article_search(user=request.user, filters=form.filters())
    if queryset.count() > selectors.EXPORT_MAX_ROWS:
        messages.error(request, _("导出结果过多，请先用筛选条件缩小范围。"))
        return redirect(f"{reverse('consultation:kb_list')}?{request.GET.urlencode()}")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("知识库"))
    sheet.append(list(EXPORT_COLUMNS))
    freshness_labels = {"stale": _("已过期"), "soon": _("即将到期")}
    articles = list(queryset)
    for start in range(0, len(articles), 500):
        for row in selectors.build_rows(articles[start : start + 500]):
            article, current = row.article, row.current
            sheet.append(
                [
                    safe_cell(v)
                    for v in (
                        article.code,
                        current.title if current else "",
                        current.question_variants if current else "",
                        current.answer if current else "",
                        current.legal_basis if current else "",
                        "、".join(selectors.case_type_labels(current.case_types)) if current else "",
                        current.get_topic_display() if current and current.topic else "",
                        current.get_visibility_display() if current else "",
                        f"v{current.number}"
                        if current and current.state == ArticleVersionState.PUBLISHED
                        else "",
                        f"v{row.pending.number} {row.pending.get_state_display()}" if row.pending else "",
                        _("是") if article.is_retired else "",
                        str(article.owner),
                        article.review_by,
                        freshness_labels.get(row.freshness, ""),
                        row.usage_recent,
                        article.usage_count,
                    )
                ]
            )
    return _xlsx_response(workbook, _("知识库"))


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def freshness(request):
    lists = selectors.freshness_lists(user=request.user)
    return render(
        request,
        "consultation/knowledge/freshness.html",
        {
            "stale": lists["stale"],
            "soon": lists["soon"],
            "summary": selectors.freshness_summary(user=request.user),
            "soon_days": services.SOON_STALE_DAYS,
        },
    )


# --- one article ---------------------------------------------------------------------------------------


def _authority_of(user):
    if not user.is_superuser and not authority_ids_for(user):
        raise PermissionDenied(_("您的账号未分配登记机关，不能维护知识库。"))
    return default_authority_for(user)


@login_required
@permission_required("consultation.add_article", raise_exception=True)
@require_http_methods(["GET", "POST"])
def article_create(request):
    """A new article; `?gap=<id>` opens it prefilled with a knowledge gap's question."""
    authority = _authority_of(request.user)
    gap = None
    gap_id = request.GET.get("gap") or request.POST.get("gap")
    if gap_id:
        gap = selectors.gap_for(user=request.user, pk=gap_id)
    initial = {"title": gap.question[: services.TITLE_MAX]} if gap else {}
    form = ArticleVersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(
                authority=gap.authority if gap else authority,
                actor=request.user,
                data=form.service_data(),
                gap=gap,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, _("已新建知识条目 %(code)s（草稿），完成后请提交审核。") % {"code": article.code}
            )
            return redirect("consultation:kb_article", pk=article.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "consultation/knowledge/version_form.html",
        {"form": form, "gap": gap, "article": None, "heading": _("新建知识条目")},
        status=status,
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def article_detail(request, pk: int):
    article = selectors.article_for(user=request.user, pk=pk)
    versions = selectors.article_versions(article=article)
    by_id = {str(v.pk): v for v in versions}
    shown = by_id.get(request.GET.get("v", "")) or (
        next((v for v in versions if v.pk == article.published_version_id), None) or versions[0]
    )
    # The diff: chosen pair, else the published version against the newest pending one.
    pending = next((v for v in versions if v.state in services.UNPUBLISHED_STATES), None)
    old = by_id.get(request.GET.get("from", ""))
    new = by_id.get(request.GET.get("to", ""))
    if old is None or new is None:
        published = next((v for v in versions if v.pk == article.published_version_id), None)
        old, new = (published, pending) if published and pending else (None, None)
        if old is None and len(versions) >= 2:
            old, new = versions[1], versions[0]
    user = request.user
    today = timezone.localdate()
    context = {
        "article": article,
        "versions": versions,
        "shown": shown,
        "shown_case_types": selectors.case_type_labels(shown.case_types),
        "actions": selectors.version_actions(version=shown, user=user),
        "own_version_in_review": shown.state == ArticleVersionState.IN_REVIEW
        and shown.author_id == user.pk
        and user.has_perm("consultation.review_article"),
        "can_edit": shown.state in services.EDITABLE_STATES and user.has_perm("consultation.change_article"),
        "can_draft": pending is None and user.has_perm("consultation.change_article"),
        "can_review": user.has_perm("consultation.review_article"),
        "can_confirm": article.published_version_id
        and not article.is_retired
        and user.has_perm("consultation.change_article")
        and (article.owner_id == user.pk or user.has_perm("consultation.review_article")),
        "diff_from": old,
        "diff_to": new,
        "diff": selectors.version_diff(old, new) if old and new else None,
        "timeline": selectors.article_timeline(article=article),
        "usage": selectors.usage_figures(article=article),
        "freshness": selectors.freshness_of(article, today),
    }
    return render(request, "consultation/knowledge/article_detail.html", context)


@login_required
@permission_required([VIEW_PERM, "consultation.change_article"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def version_create(request, pk: int):
    article = selectors.article_for(user=request.user, pk=pk)
    base = article.published_version or article.versions.order_by("-number").first()
    form = ArticleVersionForm(request.POST or None, initial=ArticleVersionForm.initial_from(base))
    if request.method == "POST" and form.is_valid():
        try:
            version = services.version_draft(article=article, actor=request.user, data=form.service_data())
        except TransitionNotAllowed as exc:
            return _conflict(request, str(exc), reverse("consultation:kb_article", args=[article.pk]))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, _("已起草 v%(number)d，完成后请提交审核。") % {"number": version.number}
            )
            return redirect(f"{reverse('consultation:kb_article', args=[article.pk])}?v={version.pk}")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "consultation/knowledge/version_form.html",
        {"form": form, "article": article, "heading": _("起草新版本"), "base": base},
        status=status,
    )


@login_required
@permission_required([VIEW_PERM, "consultation.change_article"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def version_edit(request, pk: int):
    version = selectors.version_for(user=request.user, pk=pk)
    article = version.article
    back = f"{reverse('consultation:kb_article', args=[article.pk])}?v={version.pk}"
    if version.state not in services.EDITABLE_STATES:
        return _conflict(
            request,
            _("版本 v%(number)d 当前为“%(state)s”，不能修改；请起草新版本。")
            % {"number": version.number, "state": version.get_state_display()},
            back,
        )
    form = ArticleVersionForm(request.POST or None, initial=ArticleVersionForm.initial_from(version))
    if request.method == "POST" and form.is_valid():
        try:
            services.version_update(version=version, actor=request.user, data=form.service_data())
        except TransitionNotAllowed as exc:
            return _conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已保存 v%(number)d。") % {"number": version.number})
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "consultation/knowledge/version_form.html",
        {"form": form, "article": article, "version": version, "heading": _("修改版本")},
        status=status,
    )


ACTION_REASON_LABELS = {
    "reject": _("退回意见"),
    "publish": _("审核意见（可选）"),
    "submit": _("说明（可选）"),
}


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def version_action(request, pk: int, action: str):
    """submit / reject / publish one version (a confirmation page with the reason, then the step)."""
    version = selectors.version_for(user=request.user, pk=pk)
    step = ARTICLE_VERSION_WORKFLOW.transitions.get(action)
    if step is None or action == "supersede":
        raise Http404(_("没有该操作。"))
    back = f"{reverse('consultation:kb_article', args=[version.article_id])}?v={version.pk}"
    if step.permission and not request.user.has_perm(step.permission):
        raise PermissionDenied(_("您的角色无权执行“%(action)s”。") % {"action": step.label})
    try:
        ARTICLE_VERSION_WORKFLOW.check(state=version.state, action=action, user=request.user)
    except TransitionNotAllowed as exc:
        return _conflict(request, str(exc), back)
    if action == "publish" and version.author_id == request.user.pk:
        raise PermissionDenied(_("不能审核发布自己撰写的版本（四眼原则），请由其他审核人发布。"))
    form = ReasonForm(
        request.POST if request.method == "POST" else None,
        reason_required=action == "reject",
        label=ACTION_REASON_LABELS.get(action),
    )
    if request.method == "POST" and form.is_valid():
        try:
            version = services.version_transition(
                version=version, action=action, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except TransitionNotAllowed as exc:
            return _conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("v%(number)d 已完成“%(action)s”，当前状态：%(state)s。")
                % {"number": version.number, "action": step.label, "state": version.get_state_display()},
            )
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    diff = None
    if action == "publish" and version.article.published_version_id:
        diff = selectors.version_diff(version.article.published_version, version)
    return render(
        request,
        "consultation/knowledge/action.html",
        {
            "version": version,
            "article": version.article,
            "step": step,
            "form": form,
            "back": back,
            "diff": diff,
        },
        status=status,
    )


ARTICLE_ACTIONS = {
    "retire": (_("停用条目"), True),
    "unretire": (_("恢复启用"), False),
    "confirm": (_("确认内容仍然有效"), False),
}


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def article_action(request, pk: int, action: str):
    """retire / unretire / confirm still current (re-sets review_by without a new version)."""
    if action not in ARTICLE_ACTIONS:
        raise Http404(_("没有该操作。"))
    article = selectors.article_for(user=request.user, pk=pk)
    label, reason_required = ARTICLE_ACTIONS[action]
    back = reverse("consultation:kb_article", args=[article.pk])
    if action == "confirm":
        allowed = request.user.has_perm("consultation.change_article") and (
            article.owner_id == request.user.pk or request.user.has_perm("consultation.review_article")
        )
    else:
        allowed = request.user.has_perm("consultation.review_article")
    if not allowed:
        raise PermissionDenied(_("您的角色无权执行“%(action)s”。") % {"action": label})
    form = ReasonForm(
        request.POST if request.method == "POST" else None,
        reason_required=reason_required,
        label=_("停用原因") if action == "retire" else _("说明（可选）"),
    )
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if action == "retire":
                services.article_retire(article=article, actor=request.user, reason=reason)
            elif action == "unretire":
                services.article_unretire(article=article, actor=request.user, reason=reason)
            else:
                article = services.article_confirm_current(article=article, actor=request.user, note=reason)
        except TransitionNotAllowed as exc:
            return _conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, _("%(code)s 已完成“%(action)s”。") % {"code": article.code, "action": label}
            )
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "consultation/knowledge/action.html",
        {"article": article, "article_action": label, "form": form, "back": back},
        status=status,
    )


@login_required
@permission_required([VIEW_PERM, "consultation.review_article"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def article_settings(request, pk: int):
    article = selectors.article_for(user=request.user, pk=pk)
    candidates = selectors.owner_candidates(article=article)
    if article.owner not in candidates:
        candidates = [article.owner, *candidates]
    form = ArticleSettingsForm(
        request.POST or None,
        candidates=candidates,
        initial={"owner": str(article.owner_id), "review_by": article.review_by},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.article_settings_update(
                article=article,
                actor=request.user,
                owner=form.cleaned_data["owner"],
                review_by=form.cleaned_data["review_by"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已保存 %(code)s 的负责人和复核期限。") % {"code": article.code})
            return redirect("consultation:kb_article", pk=article.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "consultation/knowledge/settings.html", {"article": article, "form": form}, status=status
    )


# --- synonyms ------------------------------------------------------------------------------------------


@login_required
@permission_required(SYNONYM_PERM, raise_exception=True)
@require_GET
def synonym_list(request):
    q = request.GET.get("q", "")[:50]
    return render(
        request,
        "consultation/knowledge/synonyms.html",
        {
            "page": selectors.synonym_page(q=q, page=request.GET.get("page")),
            "q": q,
            "query": _query_without_page(request),
            "form": SynonymForm(),
        },
    )


def _synonym_form_view(request, form, *, synonym, save, done: str):
    """The synonym form page of create and edit: `save(term=…, canonical=…)` is the bound service call."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(**form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, done % {"synonym": saved})
            return redirect("consultation:kb_synonyms")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "consultation/knowledge/synonym_form.html", {"form": form, "synonym": synonym}, status=status
    )


@login_required
@permission_required([SYNONYM_PERM, "consultation.add_synonym"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def synonym_create(request):
    form = SynonymForm(request.POST or None)
    save = partial(services.synonym_create, actor=request.user)
    return _synonym_form_view(request, form, synonym=None, save=save, done=_("已添加同义词：%(synonym)s。"))


@login_required
@permission_required([SYNONYM_PERM, "consultation.change_synonym"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def synonym_edit(request, pk: int):
    synonym = selectors.synonym_for(pk=pk)
    form = SynonymForm(request.POST or None, initial={"term": synonym.term, "canonical": synonym.canonical})
    save = partial(services.synonym_update, synonym=synonym, actor=request.user)
    return _synonym_form_view(
        request, form, synonym=synonym, save=save, done=_("已保存同义词：%(synonym)s。")
    )


@login_required
@permission_required([SYNONYM_PERM, "consultation.delete_synonym"], raise_exception=True)
@require_POST
def synonym_delete(request, pk: int):
    synonym = selectors.synonym_for(pk=pk)
    label = str(synonym)
    services.synonym_delete(synonym=synonym, actor=request.user)
    messages.success(request, _("已删除同义词：%(synonym)s。") % {"synonym": label})
    return redirect("consultation:kb_synonyms")


# --- knowledge gaps ------------------------------------------------------------------------------------


@login_required
@permission_required(GAP_PERM, raise_exception=True)
@require_GET
def gap_list(request):
    form = GapFilterForm(request.GET or None)
    page = selectors.gap_page(user=request.user, filters=form.filters(), page=request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "query": _query_without_page(request),
        "counts": selectors.gap_counts(user=request.user),
        "statuses": KnowledgeGap.Status,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "consultation/knowledge/gaps_results.html", context)
    return render(request, "consultation/knowledge/gaps.html", context)


GAP_EXPORT_COLUMNS = (
    "问题",
    "首次渠道",
    "首次提问",
    "最近提问",
    "次数",
    "最高匹配分",
    "最接近的条目",
    "状态",
    "补充条目",
    "处理人",
    "处理时间",
    "处理说明",
)


@login_required
@permission_required(GAP_PERM, raise_exception=True)
@require_GET
def gap_export(request):
    from openpyxl import Workbook

    form = GapFilterForm(request.GET or None)
    queryset = selectors.gap_search(user=request.user, filters=form.filters())
    if queryset.count() > selectors.EXPORT_MAX_ROWS:
        messages.error(request, _("导出结果过多，请先用筛选条件缩小范围。"))
        return redirect(f"{reverse('consultation:kb_gaps')}?{request.GET.urlencode()}")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("知识缺口"))
    sheet.append(list(GAP_EXPORT_COLUMNS))
    for gap in queryset.iterator(chunk_size=1000):
        sheet.append(
            [
                safe_cell(v)
                for v in (
                    gap.question,
                    gap.get_channel_display(),
                    gap.first_asked_at,
                    gap.last_asked_at,
                    gap.occurrences,
                    round(gap.best_score, 3),
                    str(gap.best_version) if gap.best_version_id else "",
                    gap.get_status_display(),
                    gap.covered_by.code if gap.covered_by_id else "",
                    str(gap.handled_by) if gap.handled_by_id else "",
                    gap.handled_at,
                    gap.handling_note,
                )
            ]
        )
    return _xlsx_response(workbook, _("知识缺口"))


@login_required
@permission_required([GAP_PERM, "consultation.change_knowledgegap"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def gap_dismiss(request, pk: int):
    gap = selectors.gap_for(user=request.user, pk=pk)
    back = reverse("consultation:kb_gaps")
    form = GapDismissForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.gap_dismiss(gap=gap, actor=request.user, reason=form.cleaned_data["reason"])
        except TransitionNotAllowed as exc:
            return _conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已标记为无需补充。"))
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "consultation/knowledge/gap_dismiss.html",
        {"gap": gap, "form": form, "back": back},
        status=status,
    )


@login_required
@permission_required([GAP_PERM, "consultation.change_knowledgegap"], raise_exception=True)
@require_POST
def gap_reopen(request, pk: int):
    gap = selectors.gap_for(user=request.user, pk=pk)
    try:
        services.gap_reopen(gap=gap, actor=request.user)
    except TransitionNotAllowed as exc:
        return _conflict(request, str(exc), reverse("consultation:kb_gaps"))
    messages.success(request, _("已重新打开该知识缺口。"))
    return redirect("consultation:kb_gaps")


urlpatterns = [
    path("knowledge/", article_list, name="kb_list"),
    path("knowledge/export/", article_export, name="kb_export"),
    path("knowledge/freshness/", freshness, name="kb_freshness"),
    path("knowledge/new/", article_create, name="kb_article_create"),
    path("knowledge/<int:pk>/", article_detail, name="kb_article"),
    path("knowledge/<int:pk>/versions/new/", version_create, name="kb_version_create"),
    path("knowledge/<int:pk>/settings/", article_settings, name="kb_article_settings"),
    path("knowledge/<int:pk>/do/<str:action>/", article_action, name="kb_article_action"),
    path("knowledge/versions/<int:pk>/edit/", version_edit, name="kb_version_edit"),
    path("knowledge/versions/<int:pk>/do/<str:action>/", version_action, name="kb_version_action"),
    path("knowledge/synonyms/", synonym_list, name="kb_synonyms"),
    path("knowledge/synonyms/new/", synonym_create, name="kb_synonym_create"),
    path("knowledge/synonyms/<int:pk>/edit/", synonym_edit, name="kb_synonym_edit"),
    path("knowledge/synonyms/<int:pk>/delete/", synonym_delete, name="kb_synonym_delete"),
    path("knowledge/gaps/", gap_list, name="kb_gaps"),
    path("knowledge/gaps/export/", gap_export, name="kb_gaps_export"),
    path("knowledge/gaps/<int:pk>/dismiss/", gap_dismiss, name="kb_gap_dismiss"),
    path("knowledge/gaps/<int:pk>/reopen/", gap_reopen, name="kb_gap_reopen"),
]
