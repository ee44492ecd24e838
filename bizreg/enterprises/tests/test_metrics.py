import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from bizreg.core.metrics_registry import get_metric
from bizreg.enterprises import services
from bizreg.enterprises.models import Enterprise
from bizreg.testing.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

YEAR = (dt.date(2023, 1, 1), dt.date(2024, 1, 1))


@pytest.fixture
def district(authority, other_authority):
    def make(established, status="active", changed=None, authority_=authority, in_ftz=False):
        return EnterpriseFactory(
            authority=authority_,
            established_on=established,
            status=status,
            status_changed_on=changed,
            in_ftz=in_ftz,
        )

    make(dt.date(2022, 12, 31))
    make(dt.date(2023, 1, 1), in_ftz=True)
    make(dt.date(2023, 6, 30), status="deregistered", changed=dt.date(2023, 11, 1))
    make(dt.date(2023, 12, 31), status="revoked", changed=dt.date(2024, 2, 1))
    make(dt.date(2024, 1, 1))
    make(dt.date(2021, 1, 1), status="moved_out", changed=dt.date(2022, 5, 1))
    make(dt.date(2023, 3, 3), authority_=other_authority)
    return authority


def compute(key, authority):
    return get_metric(key).compute([authority.pk], *YEAR)


def test_new_establishments_counts_the_period_only(district):
    assert compute("enterprises.new_establishments", district) == Decimal(3)


def test_active_count_at_period_end(district):
    # 2022-12-31, 2023-01-01 and the one revoked only in 2024 were alive on 2023-12-31.
    assert compute("enterprises.active_count", district) == Decimal(3)


def test_deregistrations_and_ftz_establishments(district):
    assert compute("enterprises.deregistrations", district) == Decimal(1)
    assert compute("enterprises.ftz_new_establishments", district) == Decimal(1)


def test_metrics_have_chinese_definitions():
    for key in (
        "enterprises.new_establishments",
        "enterprises.active_count",
        "enterprises.deregistrations",
        "enterprises.ftz_new_establishments",
    ):
        metric = get_metric(key)
        assert metric.unit == "户" and "统计期" in metric.definition


def test_home_figures_are_real_counts(clerk, create, investigator, ftz_rule):
    today = timezone.localdate()
    create(established_on=today, address="进港大道 1 号")
    old = create(established_on=dt.date(2010, 1, 1), address="黄阁北路 1 号")
    closed = create(established_on=dt.date(2011, 1, 1))
    services.enterprise_update(enterprise=closed, actor=clerk, status="deregistered")
    services.enterprise_lock(enterprise=old, actor=investigator, reason="x")
    from bizreg.enterprises.selectors import home_figures

    figures = {f["key"]: f["value"] for f in home_figures(user=clerk)}
    assert figures == {
        "enterprises_total": 3,
        "enterprises_active": 2,
        "enterprises_ftz": 1,
        "enterprises_new_this_year": 1,
        "enterprises_locked": 1,
    }
    assert Enterprise.objects.count() == 3
