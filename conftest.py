"""Shared fixtures: two authorities and one user per role in each, so every test can check tenancy."""

from __future__ import annotations

import os

import pytest

from bizreg.accounts.roles import ROLES
from bizreg.testing import factories

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

# Tests of real concurrency (row locks, unique constraints under racing requests) live in files named
# test_*_pg.py and run in the PostgreSQL pass only: SQLite serializes writers, so there is no race to test.
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
collect_ignore_glob = [] if ON_POSTGRES else ["bizreg/*/tests/test_*_pg.py"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases; on SQLite its value is what the migrations wrote into them, taken
    before any test ran, for the check of the new-database snapshot (bizreg.core.schema_snapshot)."""
    from django.db import connection

    from bizreg.core import schema_snapshot

    # pytest-django sets up only the databases the collected tests use; without one, this is the real file.
    if connection.vendor != "sqlite" or not connection.creation.is_in_memory_db(
        connection.settings_dict["NAME"]
    ):
        return None
    with django_db_blocker.unblock():
        connection.ensure_connection()
        return schema_snapshot.content(connection.connection)


@pytest.fixture
def authority(db):
    return factories.AuthorityFactory(
        code="440115", name="广州市南沙区政务服务和数据管理局", division_code="440115"
    )


@pytest.fixture
def other_authority(db):
    return factories.AuthorityFactory(
        code="440106", name="广州市天河区市场监督管理局", division_code="440106"
    )


@pytest.fixture
def role_users(authority):
    """{role_code: user} — one user per role of DESIGN.md, all in `authority`."""
    return {role.code: factories.UserFactory(role=role.code, authorities=[authority]) for role in ROLES}


@pytest.fixture
def make_user(authority):
    def make(role: str | None = None, authorities=None, **kwargs):
        return factories.UserFactory(role=role, authorities=authorities or [authority], **kwargs)

    return make


@pytest.fixture
def client_for(client):
    """client_for(user) → a test client signed in as that user."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return c

    return make


@pytest.fixture
def celery_eager(settings):
    """Run Celery tasks inline. Set on the app itself: once the app's config is loaded (any test that
    started a worker), changing Django's CELERY_* settings no longer reaches it."""
    from config.celery import app

    previous = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def live_server(request, django_db_setup):
    """pytest-django's live server, started once the test database exists: only then does it see that the
    SQLite test database is in memory and hand the test's connection to its threads (before, each request
    opened its own connection to the shared in-memory database, where a table another connection is using
    is "locked" at once, with no waiting). Its requests take turns with each other and with the test's
    queries on that shared connection (bizreg.testing.live_server says why)."""
    from pytest_django.live_server_helper import LiveServer

    from bizreg.testing.live_server import TurnTakingLiveServerThread, queries_take_turns

    addr = (
        request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    )
    server = LiveServer(addr, start=False)
    plain = server.thread
    server.thread = TurnTakingLiveServerThread(
        plain.host,
        static_handler=plain.static_handler,
        connections_override=plain.connections_override,
        port=plain.port,
    )
    server.thread.daemon = True
    with queries_take_turns(plain.connections_override.values()):
        server.start()
        yield server
        server.stop()


@pytest.fixture
def browser():
    """Debian's Chromium through Playwright, for the browser tests (bizreg.testing.browser)."""
    from django.db import connections
    from playwright.sync_api import expect, sync_playwright

    from bizreg.testing.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, DEFAULT_TIMEOUT_MS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    # Django keeps its connections per context (contextvars), and once Playwright has started, the test
    # runs in a context of Playwright's making: there it would open connections of its own — on SQLite
    # beside the one the live server shares and takes turns on, on PostgreSQL one that nothing closed (the
    # test database could then not be dropped at the end of the run: "being accessed by other users").
    # The test carries on with the connections pytest-django's fixtures use.
    carried = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        for alias, connection in carried.items():
            connections[alias] = connection
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
