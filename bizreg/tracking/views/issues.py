"""Business-environment issue pages: the list (filters, search, Excel), logging and editing an issue, its
page with the measures, and the steps (analyse, add a measure, start/finish a measure, resolve, reopen)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from bizreg.core.excel import xlsx_response
from bizreg.core.scoping import default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.core.views import conflict
from bizreg.tracking.forms.issues import (
    AnalysisForm,
    DateForm,
    IssueFilterForm,
    IssueForm,
    MeasureForm,
    ReasonForm,
)
from bizreg.tracking.models import IssueState
from bizreg.tracking.selectors import issues as selectors
from bizreg.tracking.services import issues as services
from bizreg.tracking.workflows import CHANGE_ISSUE, ISSUE

PAGE_SIZE = 30


def issue_page(view):
    """Login, then holders of tracking.view_businessissue (officers, managers) only: 403 for other roles."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(selectors.VIEW):
            raise PermissionDenied("营商环境问题仅限企业服务专员和科室负责人查看。")
        return view(request, *args, **kwargs)

    return wrapped


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return query.urlencode()


@issue_page
@require_GET
def issue_list(request):
    owners = selectors.owner_choices(user=request.user)
    form = IssueFilterForm(request.GET or None, owners=owners)
    params = form.cleaned_data if form.is_valid() else {}
    issues = selectors.issue_listing(user=request.user, params=params)
    if request.GET.get("export") == "xlsx":
        return _export(issues)
    page = Paginator(issues, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tracking/issue_list.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "may_add": request.user.has_perm(services.ADD_ISSUE),
        },
    )


def _export(issues):
    rows = (
        (
            issue.title,
            issue.get_category_display(),
            issue.get_state_display(),
            str(issue.owner),
            issue.found_on,
            issue.measure_count,
            issue.measures_done,
            issue.resolved_on,
            issue.description,
            issue.analysis,
        )
        for issue in issues
    )
    return xlsx_response(
        title="营商环境问题",
        headers=[
            "问题",
            "类别",
            "状态",
            "责任人",
            "发现日期",
            "改进措施数",
            "已完成措施",
            "解决日期",
            "问题描述",
            "原因分析",
        ],
        rows=rows,
        filename=f"营商环境问题_{timezone.localdate():%Y%m%d}.xlsx",
    )


def _authority(request):
    authority = default_authority_for(request.user)
    if authority is None:
        raise PermissionDenied("您的账号未关联登记机关。")
    return authority


def _link_ids(form: IssueForm, authority_id: int) -> tuple[list[int], list[int]] | None:
    """The typed appeal/visit numbers as ids, or None after putting the unknown ones on the form."""
    appeal_numbers, visit_numbers = form.numbers()
    appeal_ids, visit_ids, unknown_appeals, unknown_visits = selectors.resolve_numbers(
        authority_id=authority_id, appeal_numbers=appeal_numbers, visit_numbers=visit_numbers
    )
    if unknown_appeals:
        form.add_error("appeals", f"找不到以下诉求编号：{'、'.join(unknown_appeals)}")
    if unknown_visits:
        form.add_error("visits", f"找不到以下走访编号：{'、'.join(unknown_visits)}")
    if unknown_appeals or unknown_visits:
        return None
    return appeal_ids, visit_ids


@issue_page
@require_http_methods(["GET", "POST"])
def issue_new(request):
    if not request.user.has_perm(services.ADD_ISSUE):
        raise PermissionDenied("您的角色无权登记营商环境问题。")
    authority = _authority(request)
    owners = selectors.owner_choices(user=request.user, authority_id=authority.pk)
    initial = {"found_on": timezone.localdate(), "owner": request.user.pk}
    form = IssueForm(request.POST or None, owners=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        links = _link_ids(form, authority.pk)
        if links is not None:
            data = form.cleaned_data
            try:
                issue = services.issue_create(
                    authority=authority,
                    actor=request.user,
                    title=data["title"],
                    category=data["category"],
                    description=data["description"],
                    owner=data["owner"],
                    found_on=data["found_on"],
                    appeal_ids=links[0],
                    visit_ids=links[1],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "已登记营商环境问题，请开展原因分析。")
                return redirect("tracking:issue_detail", pk=issue.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "tracking/issue_form.html", {"form": form, "issue": None}, status=status)


@issue_page
@require_http_methods(["GET", "POST"])
def issue_edit(request, pk: int):
    issue = selectors.issue_for(user=request.user, pk=pk)
    if not request.user.has_perm(CHANGE_ISSUE):
        raise PermissionDenied("您的角色无权修改营商环境问题。")
    back = reverse("tracking:issue_detail", args=[issue.pk])
    if issue.state == IssueState.RESOLVED:
        return conflict(request, "问题已解决，不能再修改；如需继续整改请先重新打开。", back)
    owners = selectors.owner_choices(user=request.user, authority_id=issue.authority_id)
    links = selectors.issue_links(issue=issue)
    initial = {
        "title": issue.title,
        "category": issue.category,
        "description": issue.description,
        "owner": issue.owner_id,
        "appeals": " ".join(a.number for a in links["appeals"]),
        "visits": " ".join(v.number for v in links["visits"]),
    }
    form = IssueForm(request.POST or None, owners=owners, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        ids = _link_ids(form, issue.authority_id)
        if ids is not None:
            data = form.cleaned_data
            try:
                services.issue_update(
                    issue=issue,
                    actor=request.user,
                    title=data["title"],
                    category=data["category"],
                    description=data["description"],
                    owner=data["owner"],
                    appeal_ids=ids[0],
                    visit_ids=ids[1],
                )
            except TransitionNotAllowed as exc:
                return conflict(request, str(exc), back)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "已保存修改。")
                return redirect(back)
    status = 400 if request.method == "POST" else 200
    return render(request, "tracking/issue_form.html", {"form": form, "issue": issue}, status=status)


def _url(name: str, pk: int) -> str:
    """A link to another area's page, or none while that page is not there (no broken page for it)."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _detail_context(request, issue, **forms) -> dict:
    user = request.user
    actions = {t.action for t in ISSUE.available(state=issue.state, user=user)}
    measures = selectors.issue_measures(issue=issue)
    may_measure = user.has_perm(services.CHANGE_MEASURE) and issue.state != IssueState.RESOLVED
    for measure in measures:
        measure.actions = (
            [t for t in services.MEASURE.available(state=measure.state, user=user)] if may_measure else []
        )
    links = selectors.issue_links(issue=issue)
    for appeal in links["appeals"]:
        appeal.url = _url("tracking:appeal_detail", appeal.pk)
    for visit in links["visits"]:
        visit.url = _url("tracking:visit_detail", visit.pk)
    return {
        "issue": issue,
        "measures": measures,
        "links": links,
        "history": selectors.issue_history(issue=issue),
        "may_edit": user.has_perm(CHANGE_ISSUE) and issue.state != IssueState.RESOLVED,
        "may_analyse": "analyse" in actions,
        "may_add_measure": "start_measures" in actions and user.has_perm(services.ADD_MEASURE),
        "may_resolve": "resolve" in actions,
        "may_reopen": "reopen" in actions,
        "analysis_form": forms.get("analysis_form") or AnalysisForm(initial={"analysis": issue.analysis}),
        "measure_form": forms.get("measure_form")
        or MeasureForm(departments=selectors.department_choices(authority_id=issue.authority_id)),
        "today": timezone.localdate(),
    }


@issue_page
@require_GET
def issue_detail(request, pk: int):
    issue = selectors.issue_for(user=request.user, pk=pk)
    return render(request, "tracking/issue_detail.html", _detail_context(request, issue))


@issue_page
@require_http_methods(["POST"])
def issue_analyse(request, pk: int):
    issue = selectors.issue_for(user=request.user, pk=pk)
    if not request.user.has_perm(CHANGE_ISSUE):
        raise PermissionDenied("您的角色无权办理营商环境问题。")
    back = reverse("tracking:issue_detail", args=[issue.pk])
    form = AnalysisForm(request.POST)
    if form.is_valid():
        try:
            services.issue_analyse(issue=issue, actor=request.user, analysis=form.cleaned_data["analysis"])
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "已保存原因分析。")
            return redirect(back)
    context = _detail_context(request, issue, analysis_form=form)
    return render(request, "tracking/issue_detail.html", context, status=400)


@issue_page
@require_http_methods(["POST"])
def measure_add(request, pk: int):
    issue = selectors.issue_for(user=request.user, pk=pk)
    if not request.user.has_perm(services.ADD_MEASURE):
        raise PermissionDenied("您的角色无权制定改进措施。")
    back = reverse("tracking:issue_detail", args=[issue.pk])
    form = MeasureForm(
        request.POST, departments=selectors.department_choices(authority_id=issue.authority_id)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.measure_add(
                issue=issue,
                actor=request.user,
                description=data["description"],
                owner_department=data["owner_department"],
                due_on=data["due_on"],
            )
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "已添加改进措施。")
            return redirect(back)
    context = _detail_context(request, issue, measure_form=form)
    return render(request, "tracking/issue_detail.html", context, status=400)


STEPS = {
    # action: (title, form factory)
    "resolve": ("确认解决", lambda data: DateForm(data, label="解决日期")),
    "reopen": ("重新打开", lambda data: ReasonForm(data)),
    "measure_start": ("开始实施", None),
    "measure_done": ("确认完成", lambda data: DateForm(data, label="完成日期")),
}


def _run(action: str, issue, measure, actor, data: dict) -> None:
    if action == "resolve":
        services.issue_resolve(issue=issue, actor=actor, resolved_on=data.get("day"))
    elif action == "reopen":
        services.issue_reopen(issue=issue, actor=actor, reason=data["reason"])
    elif action == "measure_start":
        services.measure_start(measure=measure, actor=actor)
    elif action == "measure_done":
        services.measure_done(measure=measure, actor=actor, done_on=data.get("day"))


def _step(request, action: str, issue, measure=None):
    title, factory = STEPS[action]
    permission = services.CHANGE_MEASURE if measure is not None else CHANGE_ISSUE
    if not request.user.has_perm(permission):
        raise PermissionDenied(f"您的角色无权{title}。")
    back = reverse("tracking:issue_detail", args=[issue.pk])
    form = factory(request.POST if request.method == "POST" else None) if factory else None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            _run(action, issue, measure, request.user, form.cleaned_data if form else {})
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), back)
        except ValidationError as exc:
            if form is None:
                return conflict(request, "；".join(exc.messages), back)
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已{title}。")
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "tracking/issue_step.html",
        {"issue": issue, "measure": measure, "form": form, "title": title, "action": action},
        status=status,
    )


@issue_page
@require_http_methods(["GET", "POST"])
def issue_step(request, pk: int, action: str):
    if action not in ("resolve", "reopen"):
        raise Http404("没有该操作。")
    return _step(request, action, selectors.issue_for(user=request.user, pk=pk))


@issue_page
@require_http_methods(["GET", "POST"])
def measure_step(request, pk: int, action: str):
    if action not in ("start", "done"):
        raise Http404("没有该操作。")
    measure = selectors.measure_for(user=request.user, pk=pk)
    return _step(request, f"measure_{action}", measure.issue, measure)


urlpatterns = [
    path("issues/", issue_list, name="issue_list"),
    path("issues/new/", issue_new, name="issue_new"),
    path("issues/<int:pk>/", issue_detail, name="issue_detail"),
    path("issues/<int:pk>/edit/", issue_edit, name="issue_edit"),
    path("issues/<int:pk>/analyse/", issue_analyse, name="issue_analyse"),
    path("issues/<int:pk>/measures/add/", measure_add, name="issue_measure_add"),
    path("issues/<int:pk>/step/<slug:action>/", issue_step, name="issue_step"),
    path("issues/measures/<int:pk>/<slug:action>/", measure_step, name="measure_step"),
]
