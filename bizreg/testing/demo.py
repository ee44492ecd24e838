"""The seeded demo year for the tests that check the demo data: seeded once per test module inside a
transaction that is rolled back when the module ends, so no other test sees it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
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


def demo_year_fixture(scale: float):
    """A module-scoped `demo_year` fixture: the demo year seeded once for the test module at `scale`, rolled
    back at its end; the fixture's value is what seed_demo printed. In a test module:
    `demo_year = demo_year_fixture(SCALE)`."""

    @pytest.fixture(scope="module")
    def demo_year(django_db_setup, django_db_blocker):
        with seeded_demo_year(django_db_blocker, scale) as printed:
            yield printed

    return demo_year
