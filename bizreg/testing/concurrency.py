"""Real races for the PostgreSQL concurrency tests (test_*_pg.py): each call in its own thread, hence its
own database connection, all released at once by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def race(*calls: Callable[[], object], timeout: float = 60) -> list:
    """Run the calls together; return each call's result, or the exception it raised, in call order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=20)
            outcomes[index] = call()
        except Exception as exc:  # collected for the test's assertions
            outcomes[index] = exc
        finally:
            connection.close()  # the thread's own connection

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes
