"""Fixtures of the performance tests: the two roles of the module (and a clerk, who may not use it),
and the seed's 2023 project as the golden case."""

from __future__ import annotations

import pytest


@pytest.fixture
def seed_2023(authority):
    """The seed's 2023 project (经济服务审批工作经费) with its figures, indicators and narrative."""
    from bizreg.performance.services.golden import load_seed_2023

    return load_seed_2023(authority)


@pytest.fixture
def officer(role_users):
    return role_users["finance_officer"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]
