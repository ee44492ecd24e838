"""The 3-year list at registration intake: a banned person (applicant or agent) is refused, through
core.intake_checks, naming the case and the end date; others and expired bans pass."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from bizreg.core import intake_checks
from bizreg.investigations.models import RegistrationBan
from bizreg.investigations.services.bans import banned_people_check, banned_person_check
from bizreg.investigations.tests.services_fixtures import *  # noqa: F403 — fixtures
from bizreg.investigations.tests.services_fixtures import CULPRIT_ID, OTHER_VICTIM_ID
from bizreg.registration.models import RegistrationCase
from bizreg.registration.services import cases as registration
from bizreg.registration.tests.cases_fixtures import intake_data, street  # noqa: F401 — fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
D = dt.date


@pytest.fixture
def banned(accepted, manager):
    """A revocation putting CULPRIT_ID on the list from 2 March 2026 to 2 March 2029."""
    case = accepted()
    from bizreg.investigations.services import cases as services

    services.case_decide(
        case=case,
        actor=manager,
        outcome="revoke_all",
        legal_basis="《市场主体登记管理条例》第四十条",
        reasoning="冒用身份登记。",
        responsible_persons=[{"name": "黄某", "id_number": CULPRIT_ID.lower(), "role": "委托代理人"}],
    )
    return RegistrationBan.objects.get(case=case)


def test_check_is_registered_by_the_app():
    assert "investigations.registration_ban" in intake_checks.registered()


def test_banned_person_check_names_case_and_end_date(banned):
    message = banned_person_check(CULPRIT_ID)
    assert banned.case.number in message and "2029-03-02" in message
    assert banned_person_check(f" {CULPRIT_ID[:9]} {CULPRIT_ID[9:]} ") == message  # normalised
    assert banned_person_check(OTHER_VICTIM_ID) is None
    assert banned_person_check(CULPRIT_ID, on_date=D(2029, 3, 2)) == message  # the last day still counts
    assert banned_person_check(CULPRIT_ID, on_date=D(2029, 3, 3)) is None
    assert banned_person_check(CULPRIT_ID, on_date=D(2026, 3, 1)) is None
    assert banned_person_check("") is None
    assert intake_checks.run(CULPRIT_ID) == [message]


def test_all_people_of_an_intake_are_checked_in_one_query(banned, django_assert_num_queries):
    message = banned_person_check(CULPRIT_ID)
    with django_assert_num_queries(1):
        refusals = intake_checks.run_many([OTHER_VICTIM_ID, f" {CULPRIT_ID.lower()} ", "", CULPRIT_ID])
    assert refusals == {CULPRIT_ID: [message]}
    assert banned_people_check([OTHER_VICTIM_ID]) == {}
    with django_assert_num_queries(0):
        assert intake_checks.run_many(["", "  "]) == {}


@pytest.mark.parametrize("role", ["applicant", "agent"])
def test_registration_intake_refuses_a_banned_person(banned, clerk, authority, intake_data, role):  # noqa: F811
    data = intake_data("establishment")
    data[f"{role}_name"] = "黄某"
    data[f"{role}_id_number"] = CULPRIT_ID
    data[f"{role}_phone"] = "13900139000"
    with pytest.raises(ValidationError) as exc:
        registration.case_intake(authority=authority, actor=clerk, data=data)
    message = exc.value.message_dict[f"{role}_id_number"][0]
    assert banned.case.number in message and "2029-03-02" in message
    assert not RegistrationCase.objects.exists()


def test_registration_intake_refuses_a_banned_legal_representative(banned, clerk, authority, intake_data):  # noqa: F811
    data = intake_data("establishment")
    data["requested_changes"] = {**data["requested_changes"], "legal_rep_id_number": CULPRIT_ID}
    with pytest.raises(ValidationError) as exc:
        registration.case_intake(authority=authority, actor=clerk, data=data)
    message = exc.value.message_dict["requested_changes.legal_rep_id_number"][0]
    assert message.startswith("法定代表人") and banned.case.number in message
    assert not RegistrationCase.objects.exists()


def test_registration_intake_passes_others_and_after_the_ban(banned, clerk, authority, intake_data, clock):  # noqa: F811
    case = registration.case_intake(authority=authority, actor=clerk, data=intake_data("establishment"))
    assert case.pk
    from bizreg.investigations.tests.services_fixtures import at

    clock(at(D(2029, 3, 5)))
    data = intake_data("establishment", applicant_id_number=CULPRIT_ID)
    assert registration.case_intake(authority=authority, actor=clerk, data=data).pk


def test_registry_rejects_a_second_function_under_one_name():
    with pytest.raises(ValueError):
        intake_checks.register("investigations.registration_ban", lambda number: None)
    intake_checks.register("investigations.registration_ban", banned_people_check)  # the same: harmless
