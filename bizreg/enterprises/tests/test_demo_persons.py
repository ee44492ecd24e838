"""Demo person-roles and the identity-misuse ring (pure generation, then written to a real database)."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from bizreg.core.demo import DemoContext
from bizreg.core.identifiers import validate_resident_id, validate_uscc
from bizreg.enterprises import demo
from bizreg.enterprises.models import Enterprise, EnterprisePerson, PersonRole
from bizreg.enterprises.rules import address_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(authority, django_user_model):
    django_user_model.objects.create_superuser("admin", password="x")
    demo.ensure_ftz_rules(authority=authority)
    context = DemoContext(authority=authority, year=2023, scale=0.01, stdout=io.StringIO())
    demo.load_register(context, count=300)
    return context


def test_about_three_person_roles_per_enterprise(ctx):
    written = demo.load_person_roles(ctx)
    assert 2.5 * 300 < written < 3.5 * 300
    by_enterprise = defaultdict(list)
    for p in EnterprisePerson.objects.select_related("enterprise"):
        by_enterprise[p.enterprise_id].append(p)
    assert len(by_enterprise) == 300
    for people in by_enterprise.values():
        (rep,) = [p for p in people if p.role == PersonRole.LEGAL_REP]
        e = rep.enterprise
        assert (rep.name, rep.id_number, rep.started_on) == (
            e.legal_rep_name,
            e.legal_rep_id_number,
            e.established_on,
        )
        shares = [p.share_ratio for p in people if p.role == PersonRole.SHAREHOLDER]
        if shares:
            assert sum(shares) == Decimal(100)
        for p in people:
            assert validate_resident_id(p.id_number) == p.id_number
            assert p.phone.isdigit() and len(p.phone) == 11
            assert p.address_key == address_key(p.address)
    roles = Counter(p.role for people in by_enterprise.values() for p in people)
    assert {"legal_rep", "shareholder", "supervisor", "liaison", "agent"} <= set(roles)
    # a person keeps one phone wherever they appear
    phones = defaultdict(set)
    for p in EnterprisePerson.objects.all():
        phones[p.id_number].add(p.phone)
    assert all(len(v) == 1 for v in phones.values())
    # A register whose legal representatives were backfilled (migration 0007) gets the rest, not a second one.
    demo.load_person_roles(ctx)
    reps = Counter(EnterprisePerson.objects.filter(role="legal_rep").values_list("enterprise_id", flat=True))
    assert set(reps.values()) == {1}


def test_ring_is_pure_and_seeded_once(ctx):
    ring = demo.identity_misuse_ring(2023)
    assert ring == demo.identity_misuse_ring(2023)
    assert len(ring.enterprises) == 12 and len(set(ring.victim_id_numbers)) == 12
    assert len({address_key(e.address) for e in ring.enterprises}) == 3
    assert len({e.address for e in ring.enterprises}) == 6  # each place written two ways
    for e in ring.enterprises:
        assert validate_uscc(e.uscc) == e.uscc and validate_resident_id(e.victim_id_number)
        assert e.established_on.year == 2023
    assert demo.seed_identity_ring(ctx) == 12
    assert demo.seed_identity_ring(ctx) == 0
    ring_rows = Enterprise.objects.filter(uscc__in=ring.usccs)
    assert ring_rows.count() == 12
    agent_roles = EnterprisePerson.objects.filter(id_number=ring.agent_id_number)
    assert Counter(agent_roles.values_list("role", flat=True)) == {"agent": 12, "liaison": 12}
    assert set(agent_roles.values_list("phone", flat=True)) == {ring.agent_phone}
    first = ring_rows.get(uscc=ring.usccs[0])
    assert first.history.get().history_date.date() == first.established_on
