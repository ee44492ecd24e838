"""Permission checks answer from one query per request (PermissionBackend), with ModelBackend's answers."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizreg.accounts.backends import PermissionBackend
from bizreg.accounts.models import User
from bizreg.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no per-request permission caches


def _model_backend_sets(user: User) -> tuple[set[str], set[str]]:
    backend = ModelBackend()
    fresh = _fresh(user)
    return backend.get_user_permissions(fresh), backend.get_group_permissions(fresh)


@pytest.fixture
def mixed_user(make_user):
    """A clerk with one permission of their own besides their role's, and one group permission twice (two
    groups grant it)."""
    user = make_user("registration_clerk", username="mixed")
    user.user_permissions.add(Permission.objects.get(codename="add_licencebatch"))
    extra = Group.objects.create(name="临时组")
    extra.permissions.add(*user.groups.first().permissions.all()[:1])
    user.groups.add(extra)
    return user


def test_one_query_answers_every_check_of_the_request(mixed_user):
    user = _fresh(mixed_user)
    own, grouped = _model_backend_sets(mixed_user)
    assert own and grouped and not own <= grouped
    granted = sorted(own | grouped)
    with CaptureQueriesContext(connection) as ctx:
        assert all(user.has_perm(perm) for perm in granted)
        assert not user.has_perm("accounts.delete_user")  # refused: ModelBackend is asked too, from the cache
        assert user.has_module_perms(granted[0].split(".")[0])
    assert len(ctx.captured_queries) == 1


def test_the_same_answers_as_model_backend(mixed_user, make_user):
    for user in (mixed_user, make_user("manager"), make_user(None, username="nobody")):
        own, grouped = _model_backend_sets(user)
        fresh = _fresh(user)
        backend = PermissionBackend()
        assert backend.get_all_permissions(fresh) == own | grouped
        assert backend.get_user_permissions(fresh) == own
        assert backend.get_group_permissions(fresh) == grouped


def test_superuser_holds_every_permission_and_an_inactive_user_none(make_user):
    admin = make_user(None, username="root_admin", is_superuser=True)
    assert len(PermissionBackend().get_all_permissions(_fresh(admin))) == Permission.objects.count()
    gone = make_user("manager", username="gone_manager")
    gone.is_active = False
    gone.save()
    assert PermissionBackend().get_all_permissions(_fresh(gone)) == set()
    assert not _fresh(gone).has_perm("registration.view_registrationcase")


def test_it_signs_no_one_in_and_sessions_keep_naming_model_backend(client, make_user):
    user = make_user("registration_clerk", username="signer")
    assert PermissionBackend().authenticate(None, username="signer", password=TEST_PASSWORD) is None
    response = client.post("/accounts/login/", {"username": "signer", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session["_auth_user_backend"] == MODEL_BACKEND
    assert client.get("/registration/cases/").status_code == 200
