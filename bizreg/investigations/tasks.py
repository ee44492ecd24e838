"""Celery tasks of the investigations app (thin: the work is in the services)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="investigations.deadline_reminders", ignore_result=True, acks_late=True)
def deadline_reminders() -> int:
    """Daily: remind the investigators of deadlines coming up (each once); returns reminders sent."""
    from bizreg.investigations.services import reminders

    return reminders.deadline_reminders_send()
