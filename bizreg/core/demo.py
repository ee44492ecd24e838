"""Hook for the demo district-year: each app registers a seeder in its own `demo.py`.

`manage.py seed_demo` runs the seeders in dependency order. A seeder is deterministic (it draws from the
`random.Random` it is given) and is recorded in DemoSeedRun once it finishes, so running seed_demo again
adds nothing.

The demo year is looked at years later. Work still open at its end (a case on the statutory clock, an
appeal at a department, a loan out) would then show as years overdue on every list, so each seeder works
what it received in the year on to its end, until `DemoContext.settled_until` (the end of the next
year's first quarter); only what is received stops at the year's end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from unittest import mock

from django.db import connection
from django.utils import timezone

from bizreg.core.models import Authority


@dataclass
class DemoContext:
    authority: Authority
    year: int
    scale: float
    stdout: object
    seed: int = 20230101
    shared: dict = field(default_factory=dict)

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{self.authority.code}:{self.year}:{name}")

    def log(self, message: str) -> None:
        self.stdout.write(message)

    @property
    def settled_until(self) -> dt.datetime:
        """Until when the year's open work is carried on: the next year's 31 March at close of office, or
        now if that is earlier."""
        end_of_quarter = dt.datetime.combine(
            dt.date(self.year + 1, 3, 31), dt.time(17, 30), tzinfo=timezone.get_default_timezone()
        )
        return min(end_of_quarter, timezone.now())


Seeder = Callable[[DemoContext], int]


@dataclass(frozen=True)
class SeederEntry:
    name: str
    func: Seeder
    after: tuple[str, ...]


_SEEDERS: dict[str, SeederEntry] = {}


def register_seeder(name: str, *, after: tuple[str, ...] = ()) -> Callable[[Seeder], Seeder]:
    def decorator(func: Seeder) -> Seeder:
        _SEEDERS[name] = SeederEntry(name=name, func=func, after=after)
        return func

    return decorator


def refresh_planner_statistics() -> None:
    """Let PostgreSQL plan from the rows the seeders just wrote. Its statistics are refreshed by autovacuum
    only a while after a bulk load; until then a 100k-row table looks empty, and a seeder's queries over an
    earlier seeder's rows get nested-loop plans that run for many minutes (the tracking seeder's register
    history query at full scale). SQLite plans without statistics here."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def ordered_seeders() -> list[SeederEntry]:
    """Seeders in an order where each comes after those it names (a topological sort)."""
    ordered: list[SeederEntry] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def place(name: str) -> None:
        if name in placed:
            return
        if name in visiting:
            raise ValueError(f"演示数据生成器循环依赖：{name}")
        if name not in _SEEDERS:
            raise ValueError(f"演示数据生成器 {name} 未注册")
        visiting.add(name)
        for dep in _SEEDERS[name].after:
            place(dep)
        visiting.discard(name)
        placed.add(name)
        ordered.append(_SEEDERS[name])

    for name in sorted(_SEEDERS):
        place(name)
    return ordered


@contextlib.contextmanager
def simulated_now(moment: dt.datetime) -> Iterator[None]:
    """Replay a past working day through the real services: inside the block `timezone.now()` (and so
    `timezone.localdate()`, auto_now fields and the history rows) is `moment`.

    Only for the demo seeders, which run alone in one process: the services date what they record with
    the clock, and a year of demo work has to be dated across that year, not on the day it was seeded.
    """
    if timezone.is_naive(moment):
        raise ValueError("simulated_now needs an aware datetime")
    with mock.patch.object(timezone, "now", lambda: moment):
        yield
