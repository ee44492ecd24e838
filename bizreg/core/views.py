from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bizreg.core import jobs, selectors, services
from bizreg.core.forms import AccessLogFilterForm
from bizreg.core.models import BackgroundJob


@login_required
def home(request):
    user = request.user
    return render(
        request,
        "core/home.html",
        {
            "figures": selectors.home_figures(user=user),
            "established_chart": selectors.established_chart(user=user),
            "entity_type_chart": selectors.entity_type_chart(user=user),
            "recent_actions": selectors.recent_actions(user=user),
            "recent_jobs": selectors.recent_jobs(user=user),
        },
    )


@login_required
@permission_required("core.view_accesslog", raise_exception=True)
def access_log(request):
    form = AccessLogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.access_log_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/access_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@login_required
def job_detail(request, pk: int):
    job = selectors.job_for(user=request.user, pk=pk)
    mine = job.created_by_id == request.user.pk
    # An export job names its list and the page it came from (a path on this site only).
    back_url = job.parameters.get("back_url", "")
    context = {
        "job": job,
        "kind_label": jobs.kind_label(job.kind),
        "subject": gettext(job.parameters["label"]) if job.parameters.get("label") else "",
        "back_url": back_url if url_has_allowed_host_and_scheme(back_url, allowed_hosts=None) else "",
        "can_retry": mine,
        "can_download": mine and bool(job.output_file),
        "output_expires_at": services.job_output_expires_at(job),
    }
    if request.htmx:
        return render(request, "core/_job_progress.html", context)
    return render(request, "core/job_detail.html", context)


@login_required
@require_GET
def job_download(request, pk: int):
    """The file the job made; only its submitter may fetch it (others, even supervisors, get 404)."""
    job = selectors.job_for(user=request.user, pk=pk)
    if job.created_by_id != request.user.pk or job.status != BackgroundJob.Status.SUCCEEDED:
        raise Http404(_("没有找到该文件。"))
    if not job.output_file:
        raise Http404(_("该文件已超过保留期限被删除，请重新导出。"))
    return FileResponse(
        job.output_file.open("rb"), as_attachment=True, filename=job.result.get("filename") or "export.xlsx"
    )


@login_required
@require_POST
def job_retry(request, pk: int):
    job = selectors.job_for(user=request.user, pk=pk)
    try:
        services.job_retry(job=job, actor=request.user)
    except services.JobNotRetryable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("任务已重新排队。"))
    return redirect("core:job_detail", pk=job.pk)


@require_GET
def health(request):
    """Liveness for the load balancer (and the trivial reference view of bench/intake_api): no database,
    no session, no login."""
    return JsonResponse({"ok": True})


def conflict(request, message: str, back_url: str = ""):
    """The 409 page: the step was refused for the object's current state; nothing was changed."""
    return render(request, "core/conflict.html", {"message": message, "back": back_url}, status=409)


def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # Rendered without the request: no context processor, session or database is touched, so this page
    # still shows when the failure is the database itself.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())


def csrf_failure(request, reason=""):
    return render(request, "errors/403_csrf.html", {"reason": reason}, status=403)
