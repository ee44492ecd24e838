"""manage.py seed_demo and reset_demo_passwords: the demo district-year a newcomer signs in to."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from stdnum.cn import ric

from bizreg.accounts.demo import (
    DEMO_USERS,
    DIGITIZATION_CONTRACTOR,
    HOTLINE_CONTRACTOR,
    WINDOW_COLLEAGUES,
)
from bizreg.accounts.roles import ROLES
from bizreg.core.demo import DemoContext, ordered_seeders
from bizreg.core.identifiers import uscc_failure_code, validate_resident_id, validate_uscc
from bizreg.core.management.commands.seed_demo import autodiscover_seeders
from bizreg.core.models import Authority, DemoSeedRun
from bizreg.enterprises.demo import (
    DEMO_FTZ_RULES,
    enterprise_count,
    ftz_rule_views,
    generate_enterprises,
    identity_misuse_ring,
)
from bizreg.enterprises.models import (
    Enterprise,
    EnterpriseFormerName,
    EnterpriseLock,
    EnterpriseStatus,
    EntityType,
    FtzAddressRule,
    Street,
    UsccException,
)
from bizreg.enterprises.rules import match_ftz_rule, name_initials
from bizreg.investigations.models import InvestigationCase

SCALE = "0.01"
TZ = ZoneInfo("Asia/Shanghai")
PASSWORD_ROW = re.compile(r"^(\w+)\s+\S+\s+(\S{16})\s*$")


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--scale", SCALE, *args, stdout=out)
    return out.getvalue()


def printed_passwords(output: str) -> dict[str, str]:
    usernames = {u.username for u in DEMO_USERS}
    found = {}
    for line in output.splitlines():
        match = PASSWORD_ROW.match(line)
        if match and match.group(1) in usernames:
            found[match.group(1)] = match.group(2)
    return found


@pytest.fixture
def seeded(db) -> str:
    return seed()


def generated_register_usccs(authority: Authority, seed: int = 20230101) -> list[str]:
    """The codes the register generator draws for the demo authority at SCALE, in order."""
    ctx = DemoContext(authority=authority, year=2023, scale=float(SCALE), stdout=StringIO(), seed=seed)
    generated = generate_enterprises(
        rng=ctx.rng("enterprises.register"),
        count=enterprise_count(float(SCALE)),
        year=2023,
        division_code="440115",
        street_ids=dict(Street.objects.values_list("code", "id")),
        ftz_rules=ftz_rule_views(authority=authority),
    )
    return [e.uscc for e in generated]


def entered_by_approved_cases() -> dict[str, str]:
    """USCC → case type of the enterprises the registration demo's approved 设立/迁入 cases name."""
    from bizreg.registration.models import CaseType, RegistrationCase

    return dict(
        RegistrationCase.objects.filter(
            case_type__in=[CaseType.ESTABLISHMENT, CaseType.MIGRATION_IN],
            transitions__action="approve",
            enterprise__isnull=False,
        ).values_list("uscc", "case_type")
    )


def test_seed_builds_the_demo_authority_and_register(seeded):
    authority = Authority.objects.get(code="440115")
    assert authority.name == "广州市南沙区政务服务和数据管理局"
    assert authority.division_code == "440115"
    exceptions = set(UsccException.objects.values_list("uscc", flat=True))
    assert len(exceptions) == 2
    ring = set(identity_misuse_ring().usccs)  # the identity-misuse ring, added to the register
    generated = set(generated_register_usccs(authority))
    assert len(generated) == enterprise_count(0.01)
    # The rest entered the register through the registration demo's approved 设立/迁入 cases.
    others = set(Enterprise.objects.filter(authority=authority).values_list("uscc", flat=True)) - (
        generated | exceptions | ring
    )
    assert others
    assert others <= set(entered_by_approved_cases())
    assert FtzAddressRule.objects.filter(authority=authority).count() == len(DEMO_FTZ_RULES)
    assert "演示数据就绪" in seeded


def test_every_uscc_is_valid_unique_and_issued_in_nansha(seeded):
    rows = list(Enterprise.objects.values_list("uscc", "entity_type", "uscc_is_exception"))
    usccs = [r[0] for r in rows]
    assert len(set(usccs)) == len(usccs)
    exceptions = set(UsccException.objects.values_list("uscc", flat=True))
    category = {EntityType.INDIVIDUAL_BUSINESS: "2", EntityType.COOPERATIVE: "3"}
    moved_in = {
        uscc for uscc, case_type in entered_by_approved_cases().items() if case_type == "migration_in"
    }
    assert moved_in
    for uscc, entity_type, is_exception in rows:
        # A moved-in enterprise keeps the code its origin authority issued.
        assert (uscc[2:8] == "440115") != (uscc in moved_in), uscc
        if uscc in exceptions:
            # A legally issued early-pilot code: only its final check character fails, and it is marked.
            assert is_exception
            assert uscc_failure_code(uscc) == "uscc_check_digit"
            continue
        assert not is_exception
        assert validate_uscc(uscc) == uscc
        assert uscc[1] == category.get(entity_type, "1"), (uscc, entity_type)


def test_derived_fields_equal_what_the_rules_compute(seeded):
    rules = ftz_rule_views(authority=Authority.objects.get(code="440115"))
    in_ftz = 0
    for e in Enterprise.objects.all():
        assert e.name_initials == name_initials(e.name), e.name
        rule = match_ftz_rule(e.address, e.street_id, rules)
        assert e.in_ftz == (rule is not None), e.address
        assert e.ftz_rule_id == (rule.id if rule else None), e.address
        assert e.ftz_area == (rule.area_name if rule else ""), e.address
        assert e.ftz_override is None
        in_ftz += e.in_ftz
    total = Enterprise.objects.count()
    assert 0.2 * total < in_ftz < 0.6 * total


def test_register_looks_like_a_real_district(seeded):
    enterprises = list(Enterprise.objects.select_related("street"))
    n = len(enterprises)
    types = Counter(e.entity_type for e in enterprises)
    assert 0.3 < types[EntityType.INDIVIDUAL_BUSINESS] / n < 0.5
    assert 0.4 < types[EntityType.LLC] / n < 0.6
    statuses = Counter(e.status for e in enterprises)
    assert set(statuses) == set(EnterpriseStatus.values)
    # The generator's closing rates put the active share near 0.76; at SCALE (≈ 740 enterprises) one
    # standard deviation is 1.6 points, so the band is wide enough not to fail on a different draw.
    assert 0.7 < statuses[EnterpriseStatus.ACTIVE] / n < 0.9
    assert {e.street.name for e in enterprises} == set(Street.objects.values_list("name", flat=True))
    assert {e.industry for e in enterprises} >= {"F", "L", "M", "I", "G", "C", "H"}
    # The register is the demo year's, plus what the year's last cases decided after it (they are worked
    # to their end, at the latest by the end of March).
    last_decision = dt.date(2024, 3, 31)
    for e in enterprises:
        assert dt.date(2000, 1, 1) <= e.established_on <= last_decision
        assert e.address.startswith("广州市南沙区")
        assert validate_resident_id(e.legal_rep_id_number) == e.legal_rep_id_number
        # Also valid under stdnum's stricter rule (the county code existed in the birth year).
        assert ric.is_valid(e.legal_rep_id_number), e.legal_rep_id_number
        assert 2 <= len(e.legal_rep_name) <= 4
        if e.status == EnterpriseStatus.ACTIVE:
            assert e.status_changed_on is None
        else:
            assert e.established_on < e.status_changed_on <= last_decision
        # The organisational form in the name matches the entity type.
        if e.entity_type == EntityType.INDIVIDUAL_BUSINESS:
            assert e.name.startswith(("广州市南沙区", "南沙区")), e.name
            assert e.registered_capital is None or e.registered_capital <= 500_000
        elif e.entity_type == EntityType.JOINT_STOCK:
            assert e.name.endswith("股份有限公司"), e.name
        elif e.entity_type == EntityType.LLC:
            assert e.name.endswith(("有限公司", "有限责任公司")), e.name
        elif e.entity_type == EntityType.BRANCH:
            assert e.name.endswith("分公司") and e.registered_capital is None, e.name
        elif e.entity_type == EntityType.SOLE_PROPRIETORSHIP:
            assert e.name.endswith("（个人独资）"), e.name
        elif e.entity_type == EntityType.PARTNERSHIP:
            assert e.name.endswith(("（有限合伙）", "（普通合伙）")), e.name
        elif e.entity_type == EntityType.COOPERATIVE:
            assert e.name.endswith("专业合作社"), e.name
    with_capital = [e.registered_capital for e in enterprises if e.entity_type == EntityType.LLC]
    assert all(c and c > 0 for c in with_capital)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner statistics")
def test_the_planner_knows_the_seeded_tables_on_postgresql(seeded):
    """Without fresh statistics PostgreSQL takes a just-loaded table for empty and plans nested loops over
    it (the full-scale tracking seeder ran for many minutes); the seed leaves them up to date."""
    with connection.cursor() as cursor:
        for model in (Enterprise, Enterprise.history.model, get_user_model()):
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
            assert cursor.fetchone()[0] == model.objects.count() > 0, model._meta.db_table


def test_status_history_and_former_names(seeded):
    HistoricalEnterprise = Enterprise.history.model
    history = {}
    for row in HistoricalEnterprise.objects.order_by("history_date", "history_id"):
        history.setdefault(row.id, []).append(row)
    former: dict[int, list] = {}
    for name in EnterpriseFormerName.objects.order_by("used_until"):
        former.setdefault(name.enterprise_id, []).append(name)
    assert former, "some enterprises have a former name"
    for e in Enterprise.objects.all():
        rows = history[e.id]
        created = rows[0]
        assert created.history_type == "+"
        if created.history_change_reason == "迁入登记":
            # Established elsewhere; the register's history starts the day it moved in.
            assert created.history_date.astimezone(TZ).date() > e.established_on
        else:
            assert created.history_date.astimezone(TZ).date() == e.established_on
        assert created.status == EnterpriseStatus.ACTIVE
        final = rows[-1]
        assert (final.name, final.status, final.status_changed_on) == (e.name, e.status, e.status_changed_on)
        if e.status != EnterpriseStatus.ACTIVE:
            assert final.history_type == "~"
            assert final.history_date.astimezone(TZ).date() == e.status_changed_on
        # Besides its registration, its status change and its renames, an entry's history holds the 变更
        # cases the registration demo approved, each its own row.
        by_cases = [r for r in rows[1:] if r.history_change_reason.startswith("变更登记（业务 ")]
        if e.id in former:
            names = former[e.id]
            assert created.name == names[0].name != e.name
            assert created.name_initials == name_initials(created.name)
            for name in names:
                assert name.used_until is not None
                assert name.history.count() == 1
            # Each former name is a name a history row gave up, used until that row's day.
            gave_up = [
                (prev.name, r.history_date.astimezone(TZ).date())
                for prev, r in itertools.pairwise(rows)
                if r.name != prev.name
            ]
            assert [(n.name, n.used_until) for n in names] == gave_up
        elif e.status == EnterpriseStatus.ACTIVE:
            assert len(rows) == 1 + len(by_cases)


def test_demo_locks_and_uscc_exceptions(seeded):
    # Every lock is an identity-misuse case's, taken through the services: it names a real case, was taken
    # by the investigator, and is still on only while that case is under investigation.
    locks = list(EnterpriseLock.objects.select_related("enterprise", "locked_by"))
    assert len(locks) >= len(identity_misuse_ring().enterprises)
    for lock in locks:
        case = InvestigationCase.objects.get(number=lock.case_reference)
        assert lock.locked_by.username == "investigator"
        # In the demo year, or (investigations.today, the work in hand) within the last week.
        assert lock.locked_at.year == 2023 or lock.locked_at > timezone.now() - dt.timedelta(days=7)
        assert lock.is_active == (case.state in ("investigating", "suspended", "public_notice"))
    for exception in UsccException.objects.select_related("confirmed_by"):
        assert exception.confirmed_by.username == "manager"
        assert exception.failed_check == "uscc_check_digit"
        enterprise = Enterprise.objects.get(uscc=exception.uscc)
        assert enterprise.uscc_is_exception
        assert enterprise.history.get(history_type="+").history_change_reason == "设立登记"
        # Confirmed when the enterprise was entered, not on the day the demo was seeded.
        assert timezone.localtime(exception.created_at).date() == enterprise.established_on
        assert timezone.localtime(exception.history.get().history_date).date() == enterprise.established_on


def test_demo_users_per_role_with_password_shown_once(seeded):
    User = get_user_model()
    authority = Authority.objects.get(code="440115")
    passwords = printed_passwords(seeded)
    assert set(passwords) == {u.username for u in DEMO_USERS}
    colleagues = {u.username for u in WINDOW_COLLEAGUES}
    assert len(set(passwords.values())) == len(passwords)
    for role in ROLES:
        users = User.objects.filter(groups__name=role.name)
        # One user per role, except the hotline (its five lines are staffed by five agents) and enterprise
        # tracking (two officers, whose visits are each their own; two departments' staff).
        expected = {"hotline_agent": 5, "enterprise_officer": 2, "department_viewer": 2}.get(role.code, 1)
        if role.code == "registration_clerk":  # and the clerk's colleagues at the window, who do not sign in
            expected += len(WINDOW_COLLEAGUES)
        assert users.count() == expected, role.code
        for user in users:
            assert user.role_codes == [role.code]
            assert list(user.authorities.all()) == [authority]
            if user.username in colleagues:
                assert not user.has_usable_password()
            else:
                assert user.check_password(passwords[user.username])
            assert not user.is_superuser
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(passwords["admin"])
    assert User.objects.get(username="digitizer").employer == DIGITIZATION_CONTRACTOR
    assert User.objects.get(username="clerk").employer == ""
    assert User.objects.get(username="agent2").employer == HOTLINE_CONTRACTOR


def test_second_run_adds_nothing_and_shows_no_password(seeded):
    counts = (Enterprise.objects.count(), get_user_model().objects.count(), EnterpriseLock.objects.count())
    hashes = dict(get_user_model().objects.values_list("username", "password"))
    again = seed()
    assert (
        Enterprise.objects.count(),
        get_user_model().objects.count(),
        EnterpriseLock.objects.count(),
    ) == counts
    assert dict(get_user_model().objects.values_list("username", "password")) == hashes
    assert printed_passwords(again) == {}
    assert "reset_demo_passwords" in again
    assert "本次新增 0 行" in again
    assert DemoSeedRun.objects.count() == len(ordered_seeders())


def test_existing_user_keeps_password_when_seeders_rerun(db):
    """A user who already exists (e.g. created by hand) is given the role but not a new password."""
    User = get_user_model()
    user = User.objects.create(username="clerk")
    user.set_password("Kept-Password-2026!")
    user.save()
    output = seed()
    assert "clerk" not in printed_passwords(output)
    user.refresh_from_db()
    assert user.check_password("Kept-Password-2026!")
    assert user.role_codes == ["registration_clerk"]


def test_reset_demo_passwords_prints_new_working_passwords(seeded):
    User = get_user_model()
    old = printed_passwords(seeded)
    out = StringIO()
    call_command("reset_demo_passwords", stdout=out)
    new = printed_passwords(out.getvalue())
    assert set(new) == set(old)
    for username, password in new.items():
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert not user.check_password(old[username])
    out = StringIO()
    call_command("reset_demo_passwords", "manager", stdout=out)
    assert set(printed_passwords(out.getvalue())) == {"manager"}


def test_reset_demo_passwords_refuses_other_users_and_an_empty_database(db):
    with pytest.raises(CommandError, match="演示用户不存在"):
        call_command("reset_demo_passwords", stdout=StringIO())
    get_user_model().objects.create(username="someone")
    with pytest.raises(CommandError, match="不是演示用户：someone"):
        call_command("reset_demo_passwords", "someone", stdout=StringIO())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "0"], "--scale 应大于 0"),
        (["--scale", "-1"], "--scale 应大于 0"),
        (["--scale", "1000"], "不超过"),
        (["--year", "1999"], "--year 应在"),
        (["--authority", "999999"], "登记机关 999999 不存在"),
    ],
)
def test_seed_rejects_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", *args, stdout=StringIO())
    assert not Enterprise.objects.exists()
    assert not DemoSeedRun.objects.exists()


def test_generator_is_deterministic_and_the_database_holds_its_output(seeded):
    authority = Authority.objects.get(code="440115")
    first = generated_register_usccs(authority)
    assert first == generated_register_usccs(authority)
    assert first != generated_register_usccs(authority, seed=7)
    seeded_codes = list(
        Enterprise.objects.filter(uscc_is_exception=False)
        .exclude(uscc__in=identity_misuse_ring().usccs)
        .order_by("id")
        .values_list("uscc", flat=True)
    )
    # The generated register first, then what the registration demo's approved cases entered.
    assert seeded_codes[: len(first)] == first
    assert set(seeded_codes[len(first) :]) <= set(entered_by_approved_cases())


def test_seeders_run_in_dependency_order():
    autodiscover_seeders()
    names = [entry.name for entry in ordered_seeders()]
    for name in (
        "accounts.demo_users",
        "enterprises.ftz_rules",
        "enterprises.register",
        "enterprises.demo_cases",
    ):
        assert name in names
    assert names.index("enterprises.ftz_rules") < names.index("enterprises.register")
    assert names.index("enterprises.register") < names.index("enterprises.demo_cases")
    assert names.index("accounts.demo_users") < names.index("enterprises.demo_cases")
    for i, entry in enumerate(ordered_seeders()):
        assert all(names.index(dep) < i for dep in entry.after), entry.name


def test_seed_for_an_authority_outside_nansha_fails_cleanly(db):
    Authority.objects.create(code="440106", name="广州市天河区市场监督管理局", division_code="440106")
    with pytest.raises(CommandError, match="登记簿只能为南沙区"):
        call_command("seed_demo", "--scale", SCALE, "--authority", "440106", stdout=StringIO())
    assert not Enterprise.objects.exists()
    assert not FtzAddressRule.objects.exists()
    assert not DemoSeedRun.objects.filter(seeder__startswith="enterprises.").exists()
