"""Fixtures shared by the background-job tests."""

from __future__ import annotations

import pytest

from bizreg.core import jobs


@pytest.fixture
def runners(monkeypatch):
    """An isolated runner registry holding core.ping and whatever a test registers."""
    monkeypatch.setattr(jobs, "_RUNNERS", {"core.ping": jobs._RUNNERS["core.ping"]})
    return jobs
