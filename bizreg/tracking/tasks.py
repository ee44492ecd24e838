"""Celery tasks of the tracking app (thin: the work is in the services)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="tracking.daily", ignore_result=True, acks_late=True)
def daily() -> dict[str, int]:
    """Every morning, for each active authority: new visit plans from the register, the migrations decided
    since the last run, and the move-out watch list (each idempotent, so a re-delivered task adds nothing)."""
    from bizreg.core.models import Authority
    from bizreg.tracking.services import migrations, plans, watchlist

    totals = {"plans": 0, "migrations": 0, "watched": 0}
    for authority in Authority.objects.filter(is_active=True).order_by("pk"):
        totals["plans"] += plans.plans_generate(authority=authority)
        totals["migrations"] += migrations.migrations_sync(authority=authority)
        totals["watched"] += watchlist.watchlist_refresh(authority=authority)
    return totals


@shared_task(name="tracking.overdue_appeals", ignore_result=True, acks_late=True)
def overdue_appeals() -> int:
    """Every morning: alert the officer and the department of each open appeal past its deadline (once a
    day per appeal); returns the alerts sent."""
    from bizreg.tracking.services import appeals

    return appeals.appeals_alert_overdue()
