"""Celery tasks of the archives app (thin: the work is in the services)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="archives.remind_overdue_borrows", ignore_result=True, acks_late=True)
def remind_overdue_borrows() -> int:
    """Daily: e-mail borrowers of overdue paper loans (once a day per loan), close expired e-access."""
    from bizreg.archives.services import borrowing

    return borrowing.remind_overdue_borrows()


@shared_task(name="archives.fixity_check", ignore_result=True, acks_late=True)
def fixity_check() -> int:
    """Nightly: re-hash every stored file of every authority; returns the number of runs recorded."""
    from bizreg.archives.services import fixity

    return len(fixity.fixity_check_all())


@shared_task(name="archives.watch_scan_folder", ignore_result=True, acks_late=True)
def watch_scan_folder() -> int:
    """Every minute: take the scan folders marked READY in the inbox; returns the number taken."""
    from bizreg.archives.services import watch_folder

    return len(watch_folder.watch_folder_scan())
