"""双监控 cockpit: budget execution against time, indicator projections and lights. Thin: parse, select,
render; the figures come from selectors.monitoring."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from bizreg.performance.forms.monitoring import CockpitForm
from bizreg.performance.selectors import monitoring as selectors
from bizreg.performance.selectors.budget import project_for

VIEW_PERM = "performance.view_project"


def _render(request, project):
    form = CockpitForm(request.GET or None, user=request.user)
    requested = form.cleaned_data.get("as_of") if form.is_valid() else None
    today = timezone.localdate()
    context = {"form": form, "project": project, "data": None, "clamped": False}
    if project is not None:
        as_of = selectors.as_of_in_year(project, requested or today)
        context["clamped"] = requested is not None and requested != as_of
        context["data"] = selectors.cockpit(
            project, as_of, can_adjust=request.user.has_perm("performance.add_indicatoradjustment")
        )
        context["as_of"] = as_of
        form.initial = {"project": project.pk, "as_of": as_of}
        if form.is_bound and form.is_valid():
            # Show the project and day actually displayed, not what was typed.
            form = CockpitForm(initial=form.initial, user=request.user)
            context["form"] = form
    return render(request, "performance/monitoring_cockpit.html", context)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def cockpit_home(request):
    """The cockpit of a chosen project (?project=), else of the user's latest project in execution."""
    chosen = request.GET.get("project")
    project = project_for(request.user, chosen) if chosen else selectors.default_project(request.user)
    return _render(request, project)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def cockpit(request, pk: int):
    return _render(request, project_for(request.user, pk))


urlpatterns: list = [
    path("cockpit/", cockpit_home, name="cockpit_home"),
    path("projects/<int:pk>/cockpit/", cockpit, name="cockpit"),
]
