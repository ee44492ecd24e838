"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import datetime as dt
import functools
import random

import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from bizreg.accounts.models import User
from bizreg.accounts.roles import ROLE_BY_CODE
from bizreg.core.identifiers import build_resident_id, build_uscc, random_org_body
from bizreg.core.models import Authority

_rng = random.Random(7)


class AuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Authority
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"44{n:04d}")
    name = factory.Sequence(lambda n: f"测试登记机关{n}")
    division_code = "440115"


TEST_PASSWORD = "Bizreg-Test-2026!"


@functools.cache
def _test_password_hash() -> str:
    return make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"测试用户{n}")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        # Argon2 costs ~0.1 s a hash: the shared test password is hashed once and its (Argon2) hash reused.
        self.password = make_password(extracted) if extracted else _test_password_hash()

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=ROLE_BY_CODE[extracted].name))

    @factory.post_generation
    def authorities(self, create, extracted, **kwargs):
        if extracted:
            self.authorities.set(extracted)
        self.save()


def valid_uscc(division_code: str = "440115", rng: random.Random | None = None) -> str:
    return build_uscc(division_code, random_org_body(rng or _rng))


def valid_resident_id(rng: random.Random | None = None) -> str:
    r = rng or _rng
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=r.randrange(0, 365 * 40))
    return build_resident_id("440115", birth, r.randrange(1, 999))


# --- enterprises (appended by the enterprises app) -------------------------------------------------------


def street_for_authority(authority):
    """A street of the authority's district: the first existing one, or a test street created for it."""
    from bizreg.enterprises.models import Street

    street = Street.objects.filter(division_code=authority.division_code).order_by("code").first()
    if street is None:
        street = Street.objects.create(
            code=f"{authority.division_code}900", name="测试街道", division_code=authority.division_code
        )
    return street


class EnterpriseFactory(factory.django.DjangoModelFactory):
    """A register row written directly (fast test data); tests of the rules go through the services."""

    class Meta:
        model = "enterprises.Enterprise"

    authority = factory.SubFactory(AuthorityFactory)
    uscc = factory.LazyAttribute(lambda o: valid_uscc(o.authority.division_code))
    name = factory.Sequence(lambda n: f"广州南沙测试{n}科技有限公司")
    name_initials = factory.LazyAttribute(lambda o: _name_initials(o.name))
    entity_type = "llc"
    legal_rep_name = "张三"
    legal_rep_id_number = factory.LazyFunction(valid_resident_id)
    registered_capital = factory.LazyFunction(lambda: _yuan("1000000.00"))
    established_on = dt.date(2020, 6, 1)
    industry = "I"
    address = "广州市南沙区进港大道8号"
    street = factory.LazyAttribute(lambda o: street_for_authority(o.authority))
    status = "active"


def _yuan(text: str):
    from decimal import Decimal

    return Decimal(text)


def _name_initials(name: str) -> str:
    from bizreg.enterprises.rules import name_initials

    return name_initials(name)
