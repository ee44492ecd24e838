"""Real races on PostgreSQL: two requests with their own connections at the same moment."""

import pytest
from django.core.exceptions import ValidationError

from bizreg.enterprises import services
from bizreg.enterprises.models import Enterprise, EnterpriseLock
from bizreg.enterprises.tests.conftest import next_uscc
from bizreg.testing.concurrency import race

# serialized_rollback: the flush after a transactional test would otherwise also remove the roles and
# streets the migrations loaded.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_two_concurrent_registrations_of_one_code_give_one_row(authority, clerk, entry):
    code = next_uscc()

    def register(name):
        return lambda: services.enterprise_create(
            actor=clerk, authority=authority, **entry(uscc=code, name=name)
        )

    outcomes = race(register("甲公司"), register("乙公司"))
    created = [o for o in outcomes if isinstance(o, Enterprise)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(created) == 1 and len(refused) == 1, outcomes
    assert refused[0].message_dict["uscc"] == [services.DUPLICATE_USCC_MESSAGE]
    assert Enterprise.objects.filter(uscc=code).count() == 1


def test_concurrent_insert_past_the_check_is_caught_by_the_constraint(authority, clerk, entry, monkeypatch):
    # Both requests pass the "already registered?" check, as when they arrive in the same millisecond:
    # the unique index decides and the loser still gets the field error, not a 500.
    monkeypatch.setattr(services.RegisterLookups, "uscc_taken", lambda self, uscc, exclude_pk=None: False)
    code = next_uscc()

    def register(name):
        return lambda: services.enterprise_create(
            actor=clerk, authority=authority, **entry(uscc=code, name=name)
        )

    outcomes = race(register("甲公司"), register("乙公司"), register("丙公司"))
    assert sum(isinstance(o, Enterprise) for o in outcomes) == 1, outcomes
    errors = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(errors) == 2
    assert all(e.message_dict["uscc"] == [services.DUPLICATE_USCC_MESSAGE] for e in errors)
    assert Enterprise.objects.filter(uscc=code).count() == 1


def test_two_concurrent_locks_give_one_active_lock(create, clerk, investigator):
    enterprise = create()
    outcomes = race(
        lambda: services.enterprise_lock(enterprise=enterprise, actor=clerk, reason="甲锁"),
        lambda: services.enterprise_lock(enterprise=enterprise, actor=investigator, reason="乙锁"),
    )
    assert sum(isinstance(o, EnterpriseLock) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, services.AlreadyLockedError) for o in outcomes) == 1
    assert EnterpriseLock.objects.filter(enterprise=enterprise, released_at__isnull=True).count() == 1
