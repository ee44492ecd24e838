"""The live server and the test share one SQLite in-memory connection (pytest-django passes it to the
server's threads). Requests handled at the same time, and the test's own queries, must not interleave
their transactions on it: a browser page that polls while another page posts, or while the test writes,
used to leave the connection "in a broken atomic block" for every later test."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from bizreg.testing.factories import UserFactory

# serialized_rollback as in every transactional test here: the flush after a plain one re-creates the
# content types, which the next serialized test then loads a second time.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _opener():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))


def test_concurrent_requests_and_test_writes_leave_the_connection_usable(live_server, authority):
    chat = live_server.url + reverse("consult_public:chat")
    poll = live_server.url + reverse("consult_public:chat_poll") + "?after=0"
    failures: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def visitor() -> None:
        opener = _opener()
        try:
            opener.open(chat, timeout=30).read()
            for _ in range(15):
                with opener.open(poll, timeout=30) as response:
                    response.read()
                    with lock:
                        statuses.append(response.status)
        except urllib.error.HTTPError as error:
            failures.append(f"{error.code} {error.read()[:300]!r}")
        except Exception as error:  # noqa: BLE001 — any failure of a request is what the test reports
            failures.append(repr(error))

    threads = [threading.Thread(target=visitor) for _ in range(4)]
    for thread in threads:
        thread.start()
    # the test thread writes while the server's threads run their own transactions
    for number in range(20):
        UserFactory(username=f"sharing_{number}", authorities=[authority])
        cache.add(f"sharing:{number}", number, timeout=60)
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert len(statuses) == 4 * 15 and set(statuses) <= {200, 204}
    assert not connection.in_atomic_block and not connection.needs_rollback
    assert UserFactory._meta.model.objects.filter(username__startswith="sharing_").count() == 20


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="only SQLite's in-memory test database is shared with the live server's threads",
)
def test_a_block_the_test_enters_while_a_request_is_in_one_waits_and_is_its_own_transaction(live_server):
    """The test enters an atomic block while a request on the shared connection is inside one: the test's
    block waits for the request to end, then begins a transaction of its own (before, it took the request's
    transaction for its own, opened a savepoint in it and ran on without the turn)."""
    from django.db import connections, transaction

    from bizreg.testing.live_server import SHARED_CONNECTION_TURN

    shared = connections["default"]  # the connection itself (`connection` is a per-thread proxy)
    user_model = UserFactory._meta.model
    request_inside, request_may_end = threading.Event(), threading.Event()
    order: list[str] = []

    def request_in_a_transaction() -> None:
        connections["default"] = shared  # as the live server's request threads see it
        with SHARED_CONNECTION_TURN, transaction.atomic():
            request_inside.set()
            request_may_end.wait(timeout=10)
            user_model.objects.create(username="sharing_request")
            order.append("request ended")

    request = threading.Thread(target=request_in_a_transaction)
    request.start()
    assert request_inside.wait(timeout=10)
    threading.Timer(0.3, request_may_end.set).start()
    with transaction.atomic():
        order.append("test began")
        in_own_transaction = shared.in_atomic_block and not shared.savepoint_ids
        user_model.objects.create(username="sharing_test")
    request.join(timeout=10)

    assert order == ["request ended", "test began"]
    assert in_own_transaction
    assert not shared.in_atomic_block and not shared.needs_rollback
    assert set(
        user_model.objects.filter(username__startswith="sharing_").values_list("username", flat=True)
    ) == {
        "sharing_request",
        "sharing_test",
    }


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="only SQLite's in-memory test database is shared with the live server's threads",
)
def test_a_row_the_test_inserts_is_committed_before_a_request_takes_its_turn(live_server):
    """The test inserts with RETURNING (as Django's inserts do) and reads the returned value only after a
    request has had its turn. SQLite commits the insert when its statement ends, that is when the row is
    read: read after the turn, the request's transaction took the insert in, and the request's rollback
    removed the test's row (a user created, then "FOREIGN KEY constraint failed" on its authorities)."""
    from django.db import connections, transaction

    from bizreg.testing.live_server import SHARED_CONNECTION_TURN

    shared = connections["default"]

    def request_that_rolls_back() -> None:
        connections["default"] = shared  # as the live server's request threads see it
        with SHARED_CONNECTION_TURN, transaction.atomic():
            with shared.cursor() as cursor:
                cursor.execute(
                    'INSERT INTO "bizreg_cache" ("cache_key", "value", "expires") VALUES (%s, %s, %s)',
                    ["sharing:request", "1", "2999-01-01 00:00:00"],
                )
            transaction.set_rollback(True)

    with shared.cursor() as cursor:
        cursor.execute(
            'INSERT INTO "bizreg_cache" ("cache_key", "value", "expires") VALUES (%s, %s, %s) '
            'RETURNING "cache_key"',
            ["sharing:test", "1", "2999-01-01 00:00:00"],
        )
        request = threading.Thread(target=request_that_rolls_back)
        request.start()
        request.join(timeout=10)
        returned = cursor.fetchone()

    assert returned == ("sharing:test",)
    with shared.cursor() as cursor:
        cursor.execute('SELECT "cache_key" FROM "bizreg_cache" WHERE "cache_key" LIKE %s', ["sharing:%"])
        assert cursor.fetchall() == [("sharing:test",)]
    assert not shared.in_atomic_block and not shared.needs_rollback


@pytest.fixture
def fixtures_connection(db):
    """The connection pytest-django's fixtures use, taken before Playwright starts."""
    from django.db import connections

    return connections["default"]


@pytest.mark.browser
def test_a_browser_test_queries_on_the_connection_its_fixtures_use(fixtures_connection, browser, authority):
    """Once Playwright has started, the test runs in a context of Playwright's making, where Django would
    give it connections of its own (Django's are per context): on SQLite beside the one the live server
    takes turns on, on PostgreSQL one that nothing closed. The browser fixture carries the fixtures' over."""
    from django.db import connections

    assert connections["default"] is fixtures_connection
    assert UserFactory._meta.model.objects.count() == 0  # a query, on that connection
    assert connections["default"] is fixtures_connection
