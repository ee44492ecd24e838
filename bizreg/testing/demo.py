"""The seeded demo year for the tests that check the demo data: seeded once per test module inside a
transaction that is rolled back when the module ends, so no other test sees it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management import call_command
from django.db import transaction


@contextmanager
def seeded_demo_year(django_db_blocker, scale: float) -> Iterator[str]:
    """`manage.py seed_demo --scale <scale>` (every seeder, in order); yields what it printed."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", "--scale", str(scale), stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)
