"""Fixtures every consultation test gets."""

import pytest

# The ticket fixtures (agent, second_agent, manager) by name, for every test file here that asks for them.
from bizreg.consultation.tests.tickets_fixtures import agent, manager, second_agent  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_answer_index():
    """The answering engine caches its index per authority with the knowledge-base revision it was built
    from. A test database rolled back between tests can hand the next test the same authority id and the
    same revision number with different articles, so every test starts with an empty cache."""
    from bizreg.consultation.engine import clear_index_cache

    clear_index_cache()
    yield
