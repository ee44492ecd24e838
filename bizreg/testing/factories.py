"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import datetime as dt
import random

import factory
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


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"测试用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "Bizreg-Test-2026!")

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
