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
