"""Reads of the online-submission imports: the user's import jobs (core.BackgroundJob of that kind)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from bizreg.core import selectors as core_selectors
from bizreg.core.models import BackgroundJob
from bizreg.registration.services.imports import IMPORT_JOB_KIND


def import_jobs_visible_to(user) -> QuerySet[BackgroundJob]:
    return core_selectors.jobs_visible_to(user).filter(kind=IMPORT_JOB_KIND).order_by("-created_at")


def import_job_for(*, user, pk: Any) -> BackgroundJob:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该导入任务。")) from None
    job = import_jobs_visible_to(user).filter(pk=pk).first()
    if job is None:
        raise Http404(_("没有找到该导入任务。"))
    return job
