"""The periodic work the worker's beat runs names real tasks and fires when it should."""

from __future__ import annotations

from django.conf import settings

from config.celery import app


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_snapshots_run_nightly_so_the_first_of_the_month_closes_the_previous_month():
    schedule = settings.CELERY_BEAT_SCHEDULE["performance-monthly-snapshots"]["schedule"]
    assert schedule.hour == {1} and schedule.minute == {30}
    assert len(schedule.day_of_month) == 31  # every day, the 1st included
