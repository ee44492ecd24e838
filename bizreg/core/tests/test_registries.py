"""The metric registry (performance knows metric keys only) and the demo seeder ordering."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission

from bizreg.core import demo, metrics_registry
from bizreg.core.metrics_registry import all_metrics, get_metric, period_list_url, register_metric

VIEW_REGISTER = "enterprises.view_enterprise"


@pytest.fixture
def empty_metrics(monkeypatch):
    monkeypatch.setattr(metrics_registry, "_REGISTRY", {})


@pytest.fixture
def empty_seeders(monkeypatch):
    monkeypatch.setattr(demo, "_SEEDERS", {})


def test_register_and_compute_a_metric(empty_metrics):
    @register_metric("test.cases", label="办件量", unit="件", definition="期间内受理的办件数")
    def cases(authority_ids, start, end):
        return Decimal(len(authority_ids)) * (end - start).days

    metric = get_metric("test.cases")
    assert metric.label == "办件量"
    assert metric.unit == "件"
    assert metric.compute([1, 2], dt.date(2023, 1, 1), dt.date(2023, 1, 11)) == Decimal(20)
    assert [m.key for m in all_metrics()] == ["test.cases"]


def test_registering_the_same_function_again_is_harmless(empty_metrics):
    def figure(authority_ids, start, end):
        return Decimal(0)

    register_metric("test.same", label="a", unit="件", definition="d")(figure)
    register_metric("test.same", label="a", unit="件", definition="d")(figure)  # module re-import
    assert len(all_metrics()) == 1


def test_duplicate_key_is_an_error(empty_metrics):
    register_metric("test.dup", label="a", unit="件", definition="d")(lambda ids, s, e: Decimal(1))
    with pytest.raises(ValueError, match="指标键 test.dup 重复注册"):
        register_metric("test.dup", label="b", unit="件", definition="d")(lambda ids, s, e: Decimal(2))


def test_unknown_key_is_an_error(empty_metrics):
    with pytest.raises(KeyError, match="指标键 nope.nothing 不存在"):
        get_metric("nope.nothing")


def test_apps_metrics_are_discovered():
    # enterprises publishes its figures from its own metrics.py, found at start-up.
    keys = {m.key for m in all_metrics()}
    assert any(key.startswith("enterprises.") for key in keys)


def _noop(ctx):
    return 0


def test_seeders_run_after_those_they_name(empty_seeders):
    demo.register_seeder("tracking.visits", after=("enterprises.register", "accounts.users"))(_noop)
    demo.register_seeder("enterprises.register", after=("accounts.users",))(_noop)
    demo.register_seeder("accounts.users")(_noop)
    demo.register_seeder("archives.files", after=("enterprises.register",))(_noop)
    order = [entry.name for entry in demo.ordered_seeders()]
    assert sorted(order) == sorted(demo._SEEDERS)
    for entry in demo._SEEDERS.values():
        for dependency in entry.after:
            assert order.index(dependency) < order.index(entry.name), (dependency, entry.name)
    assert order[0] == "accounts.users"


def test_seeder_cycle_is_an_error(empty_seeders):
    demo.register_seeder("a", after=("c",))(_noop)
    demo.register_seeder("b", after=("a",))(_noop)
    demo.register_seeder("c", after=("b",))(_noop)
    with pytest.raises(ValueError, match="循环依赖"):
        demo.ordered_seeders()


def test_seeder_depending_on_an_unregistered_one_is_an_error(empty_seeders):
    demo.register_seeder("a", after=("missing",))(_noop)
    with pytest.raises(ValueError, match="missing 未注册"):
        demo.ordered_seeders()


@pytest.mark.django_db
def test_a_metric_may_declare_its_records_url(empty_metrics, make_user):
    url = period_list_url("enterprises:list", "established_from", "established_to", permission=VIEW_REGISTER)
    register_metric("test.linked", label="a", unit="件", definition="d", records_url=url)(
        lambda i, s, e: Decimal(0)
    )
    register_metric("test.plain", label="b", unit="件", definition="d")(lambda i, s, e: Decimal(0))
    start, end = dt.date(2023, 1, 1), dt.date(2023, 2, 1)
    assert (
        get_metric("test.linked").drill_down_url([1], start, end)
        == "/enterprises/?established_from=2023-01-01&established_to=2023-01-31"
    )
    assert get_metric("test.plain").drill_down_url([1], start, end) == ""
    assert get_metric("test.linked").offers_records_to(make_user("registration_clerk"))
    assert not get_metric("test.linked").offers_records_to(make_user("finance_officer"))
    assert not get_metric("test.plain").offers_records_to(make_user("registration_clerk"))


@pytest.mark.django_db
def test_each_drill_down_opens_for_its_permission_alone(make_user, client_for):
    """The permission a metric declares for its list is what the list asks for: a user whose only right
    is that permission opens it; a user without it gets 403 (so no viewer is offered a link to a 403)."""
    start, end = dt.date(2023, 3, 1), dt.date(2023, 4, 1)
    linked = [metric for metric in all_metrics() if metric.records_url is not None]
    assert len(linked) >= 15
    no_rights = client_for(make_user())
    for permission in sorted({metric.records_url.permission for metric in linked}):
        app_label, codename = permission.split(".", 1)
        role = Group.objects.create(name=f"仅{permission}")
        role.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        holder = make_user()
        holder.groups.add(role)
        client = client_for(holder)
        for metric in linked:
            if metric.records_url.permission != permission:
                continue
            url = metric.drill_down_url([1], start, end)
            assert client.get(url).status_code == 200, (metric.key, url)
            assert no_rights.get(url).status_code == 403, (metric.key, url)


def test_published_drill_down_urls_name_the_period():
    start, end = dt.date(2023, 3, 1), dt.date(2023, 4, 1)
    case_url = get_metric("registration.cases_received").drill_down_url([1], start, end)
    assert case_url == "/registration/cases/?received_from=2023-03-01&received_to=2023-03-31"
    ftz_url = get_metric("enterprises.ftz_new_establishments").drill_down_url([1], start, end)
    assert ftz_url == "/enterprises/?established_from=2023-03-01&established_to=2023-03-31&in_ftz=1"
