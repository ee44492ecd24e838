"""A real Celery worker for tests, in a thread of the test process, on a queue of the test's own: a worker
of `make run` sharing the broker never takes these messages. Not eager mode: messages go through the
configured broker (kombu's filesystem transport on the SQLite pass, Redis on the PostgreSQL pass)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


def own_queue_name() -> str:
    return f"bizreg-test-{uuid.uuid4().hex[:10]}"


@contextmanager
def worker_on(queue: str, *, shutdown_timeout: float = 60) -> Iterator[object]:
    from celery.contrib.testing.worker import start_worker

    from config.celery import app as celery_app

    assert not celery_app.conf.task_always_eager, "this test needs a real worker, not eager mode"
    with start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        queues=[queue],
        perform_ping_check=False,
        shutdown_timeout=shutdown_timeout,
        loglevel="WARNING",
    ) as worker:
        yield worker
