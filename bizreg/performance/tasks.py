"""Celery tasks of the performance module (thin: the work is in the services)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task


@shared_task(name="performance.monthly_snapshots", ignore_result=True, acks_late=True)
def monthly_snapshots(project_id: int | None = None, month: str | None = None) -> int:
    """Snapshots of every project in execution (or of one project) for `month` ("YYYY-MM"; default: the
    month of yesterday). Idempotent: a rerun updates the same rows."""
    from bizreg.performance.models import Project, ProjectStatus
    from bizreg.performance.services.indicators import take_monthly_snapshots

    day = dt.date.fromisoformat(f"{month}-01") if month else None
    projects = Project.objects.filter(status=ProjectStatus.ACTIVE)
    if project_id is not None:
        projects = Project.objects.filter(pk=project_id)
    return sum(len(take_monthly_snapshots(project, day)) for project in projects.order_by("pk"))
