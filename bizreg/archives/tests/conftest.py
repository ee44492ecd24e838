"""Fixtures every archives test may use: one user per archives role in `authority` (from the root
conftest), an enterprise of the register, its archive with three items, and a shelf layer."""

from __future__ import annotations

import pytest

from bizreg.archives.tests.factories import make_archive, make_enterprise, make_shelf


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploaded and generated files go to a per-test folder, not the shared var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def archivist(make_user):
    return make_user("archivist")


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def department_viewer(make_user):
    return make_user("department_viewer")


@pytest.fixture
def digitizer(make_user):
    return make_user("digitization_operator")


@pytest.fixture
def clerk(make_user):
    return make_user("registration_clerk")


@pytest.fixture
def enterprise(authority):
    return make_enterprise(authority, name="广州南沙海港科技有限公司")


@pytest.fixture
def archive(enterprise, archivist):
    """The enterprise's archive (待整理): application and articles (open), identity proof (controlled)."""
    return make_archive(enterprise=enterprise, actor=archivist, items=3)


@pytest.fixture
def shelf(authority):
    return make_shelf(authority)


@pytest.fixture
def other_archivist(make_user, other_authority):
    return make_user("archivist", authorities=[other_authority])


@pytest.fixture
def other_archive(other_authority, other_archivist):
    """An archive of another authority (tenancy checks)."""
    return make_archive(
        enterprise=make_enterprise(other_authority, name="天河测试贸易有限公司"),
        actor=other_archivist,
        items=1,
    )
