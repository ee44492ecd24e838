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

A query of the test ends inside its turn, rows read and all (`_RowsReadInTurn`). SQLite commits a write
made outside a transaction only when its statement ends, and an `INSERT … RETURNING` (Django's inserts)
ends when its returned row is read. Read after the turn, a request could begin its transaction on top of
the test's insert, fail to commit ("SQL statements in progress") and roll back the test's row with its own.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.servers.basehttp import ThreadedWSGIServer
from django.db.transaction import Atomic, get_connection
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


class _RowsReadInTurn:
    """A sqlite3 cursor of the shared connection whose rows are read as soon as it executes (inside the
    turn) and then handed out from memory, so no statement of the test is still running once its turn
    ends. Everything else is the sqlite3 cursor's."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._rows: deque = deque()

    def execute(self, *args: Any) -> Any:
        self._rows.clear()
        return self._cursor.execute(*args)

    def executemany(self, *args: Any) -> Any:
        self._rows.clear()
        return self._cursor.executemany(*args)

    def read_all(self) -> None:
        if self._cursor.description is not None:
            self._rows.extend(self._cursor.fetchall())

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list:
        count = min(self._cursor.arraysize if size is None else size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    def fetchall(self) -> list:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator:
        while self._rows:
            yield self._rows.popleft()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def _query_in_turn(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
    cursor = context["cursor"]  # Django's cursor wrapper; its `.cursor` is the sqlite3 one
    if not isinstance(cursor.cursor, _RowsReadInTurn):
        cursor.cursor = _RowsReadInTurn(cursor.cursor)
    with SHARED_CONNECTION_TURN:
        execute(sql, params, many, context)
        cursor.cursor.read_all()
        return cursor.cursor


@contextmanager
def _atomic_blocks_take_turns(shared: list[Any]) -> Iterator[None]:
    """Every atomic block on a shared connection holds the turn from the first line of `Atomic.__enter__`
    to the last of `__exit__`.

    Taking turns query by query is not enough for the test's own transactions (a factory's
    `authorities.set()`): a request could run between two of their statements. Holding it only from
    `set_autocommit(False)` to `set_autocommit(True)` was not enough either: `__enter__` reads the
    connection's `in_atomic_block` before it begins the transaction, so a test that entered a block while a
    request was in one took that request's transaction for its own and opened a savepoint in it. Its block
    then ran with `in_atomic_block` false and without the turn, the next request's rollback took the test's
    rows with it, and a foreign key failed at the test's COMMIT. The turn is re-entrant, so a request's
    blocks, already in its turn, and nested blocks pass straight through."""
    enter, exit_ = Atomic.__enter__, Atomic.__exit__

    def on_shared(block: Atomic) -> bool:
        connection = get_connection(block.using)
        return any(connection is one for one in shared)

    def enter_in_turn(block: Atomic) -> None:
        if not on_shared(block):
            return enter(block)
        SHARED_CONNECTION_TURN.acquire()
        try:
            return enter(block)
        except BaseException:
            SHARED_CONNECTION_TURN.release()
            raise

    def exit_in_turn(block: Atomic, *exc_info: Any) -> Any:
        if not on_shared(block):
            return exit_(block, *exc_info)
        try:
            return exit_(block, *exc_info)
        finally:
            SHARED_CONNECTION_TURN.release()

    Atomic.__enter__, Atomic.__exit__ = enter_in_turn, exit_in_turn
    try:
        yield
    finally:
        Atomic.__enter__, Atomic.__exit__ = enter, exit_


@contextmanager
def queries_take_turns(connections: Iterable[Any]) -> Iterator[None]:
    """While active, every query on `connections` (the shared ones), and every atomic block on them as a
    whole, waits for the request in progress. With none shared (PostgreSQL) nothing is patched."""
    shared = list(connections)
    if not shared:
        yield
        return
    for connection in shared:
        connection.execute_wrappers.append(_query_in_turn)
    try:
        with _atomic_blocks_take_turns(shared):
            yield
    finally:
        for connection in shared:
            connection.execute_wrappers.remove(_query_in_turn)
