"""The load balancer's liveness check: public, JSON, and it does not touch the database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


@pytest.mark.django_db
def test_health_is_public_json_without_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert len(queries) == 0


@pytest.mark.django_db
def test_health_refuses_post(client):
    assert client.post("/health/").status_code == 405
