"""A live server for browser tests that takes turns on a shared SQLite connection.

On SQLite the test database lives in memory, so pytest-django hands the test's own connection to the
live server's threads: every request thread and the test itself use one connection object. Django keeps
a connection's transaction state (open atomic blocks, savepoints, "needs rollback") on that object, and
SQLite refuses a write while another statement of the same connection is still reading ("database table
is locked"). Two requests at once — a page polling while another page posts — or a request while the test
writes, mix their transactions: one request fails, and the connection can be left marked for rollback,
which fails every later test. So requests run one at a time, and the test's queries wait for a running
request; both hold one re-entrant lock. On PostgreSQL each thread has its own connection and nothing
changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

SHARED_CONNECTION_TURN = threading.RLock()


class _OneRequestAtATime:
    """WSGI middleware: the whole request, response body included, runs inside the turn. The body is read
    inside it too, since a streamed response (an export, a download) may still query while it is sent."""

    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with SHARED_CONNECTION_TURN:
            result = self.application(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()  # sends request_finished while the turn is still held


class _TurnTakingWSGIServer(ThreadedWSGIServer):
    def set_app(self, application: Callable) -> None:
        super().set_app(_OneRequestAtATime(application))


class TurnTakingLiveServerThread(LiveServerThread):
    """Django's live server thread, with requests taking turns when it shares the test's connection."""

    def _create_server(self, connections_override: dict[str, Any] | None = None) -> ThreadedWSGIServer:
        if connections_override:
            self.server_class = _TurnTakingWSGIServer
        return super()._create_server(connections_override)


def _query_in_turn(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
    with SHARED_CONNECTION_TURN:
        return execute(sql, params, many, context)


class _TransactionInTurn:
    """A connection's set_autocommit that holds the turn from the start of a transaction to its end.

    Taking turns query by query is not enough for the test's own transactions (a factory's
    `authorities.set()`): a request could run between two of its statements, and a savepoint that the
    request rolls back on the shared connection took the test's rows with it (a foreign key then failed
    at the test's COMMIT). The turn is re-entrant, so a request's transactions, already in its turn,
    pass straight through. Every transaction gives the turn back: an atomic block skips
    set_autocommit(True) only on a connection closed inside it, and Django's SQLite backend ignores
    close() on the in-memory test database (the only one shared here)."""

    def __init__(self, set_autocommit: Callable) -> None:
        self.set_autocommit = set_autocommit
        self.holding = threading.local()

    def __call__(self, autocommit: bool, *args: Any, **kwargs: Any) -> None:
        if autocommit:
            try:
                self.set_autocommit(autocommit, *args, **kwargs)
            finally:
                if getattr(self.holding, "turn", False):
                    self.holding.turn = False
                    SHARED_CONNECTION_TURN.release()
            return
        SHARED_CONNECTION_TURN.acquire()
        try:
            self.set_autocommit(autocommit, *args, **kwargs)
        except BaseException:
            SHARED_CONNECTION_TURN.release()
            raise
        if getattr(self.holding, "turn", False):
            SHARED_CONNECTION_TURN.release()  # already held for this transaction: keep one hold
        self.holding.turn = True


@contextmanager
def queries_take_turns(connections: Iterable[Any]) -> Iterator[None]:
    """While active, every query on `connections` (the shared ones), and every transaction as a whole,
    waits for the request in progress."""
    shared = list(connections)
    for connection in shared:
        connection.execute_wrappers.append(_query_in_turn)
        connection.set_autocommit = _TransactionInTurn(connection.set_autocommit)
    try:
        yield
    finally:
        for connection in shared:
            connection.execute_wrappers.remove(_query_in_turn)
            del connection.set_autocommit  # back to the class's method
