"""The case selectors: who sees what (role and authority), the list's filters, due items, the timeline,
the 3-year list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from bizreg.investigations.models import CaseState
from bizreg.investigations.selectors import cases as selectors
from bizreg.investigations.services import cases as services
from bizreg.investigations.tests.services_fixtures import *  # noqa: F403 — fixtures
from bizreg.investigations.tests.services_fixtures import CULPRIT_ID, OTHER_VICTIM_ID, VICTIM_ID, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
D = dt.date


@pytest.fixture
def outsider_case(other_authority, make_user, enterprise):
    from bizreg.investigations.services.intake import report_receive

    other = make_user("investigator", authorities=[other_authority], username="inv_other_authority")
    return report_receive(
        authority=other_authority,
        source="ex_officio",
        reporter={"name": "赵六", "id_number": OTHER_VICTIM_ID, "phone": ""},
        verification_method="not_applicable",
        verification_result="pending",
        narrative="依职权发现。",
        enterprises=[{"name": "外区某公司", "uscc": ""}],
        actor=other,
    ).case


@pytest.mark.parametrize("role", ["registration_clerk", "archivist", "hotline_agent", "finance_officer"])
def test_other_roles_see_nothing(receive, role_users, role):
    case = receive().case
    user = role_users[role]
    assert not selectors.cases_visible_to(user).exists()
    with pytest.raises(Http404):
        selectors.case_for(user=user, pk=case.pk)
    assert not selectors.case_listing(user=user, params={}).exists()
    assert selectors.case_by_number(user=user, number=case.number) is None


def test_investigator_and_manager_see_their_authority_only(receive, investigator, manager, outsider_case):
    case = receive().case
    for user in (investigator, manager):
        assert list(selectors.cases_visible_to(user)) == [case]
        assert selectors.case_for(user=user, pk=str(case.pk)) == case
        with pytest.raises(Http404):
            selectors.case_for(user=user, pk=outsider_case.pk)
    with pytest.raises(Http404):
        selectors.case_for(user=investigator, pk="abc")
    assert selectors.case_by_number(user=investigator, number=f" {case.number} ") == case


def test_listing_filters(receive, enterprise, accepted, investigator, manager, clock):
    company = enterprise(name="广州南沙幽灵贸易有限公司")
    first = accepted(company)
    second = receive(
        enterprise(),
        reporter={"name": "李四", "id_number": OTHER_VICTIM_ID, "phone": ""},
        source="victim",
        verification_method="online_face",
        referral_reference="",
    ).case
    unknown = receive(
        enterprises=[{"name": "查无此人咨询有限公司", "uscc": ""}],
        reporter={"name": "王五", "id_number": CULPRIT_ID, "phone": ""},
    ).case

    def listed(**params):
        return set(selectors.case_listing(user=investigator, params=params))

    assert listed() == {first, second, unknown}
    assert listed(state="investigating") == {first}
    assert listed(source="victim") == {second}
    assert listed(q="幽灵") == {first}  # registered name
    assert listed(q="查无此人") == {unknown}  # name as reported, unmatched
    assert listed(q=first.number) == {first}
    assert listed(q="李四") == {second}
    assert listed(q=VICTIM_ID) == {first}
    assert listed(q=company.uscc) == {first}
    assert listed(received_from="2026-03-03") == set()
    assert listed(received_from=D(2026, 3, 2), received_to="2026-03-02") == {first, second, unknown}
    assert listed(received_from="not a date") == {first, second, unknown}
    # Overdue: acceptance was due 5 March for the two received cases.
    clock(at(D(2026, 3, 6)))
    assert listed(overdue=True) == {second, unknown}
    assert listed(overdue="1", state="received") == {second, unknown}
    assert listed(assigned="me") == {first}
    # Decided and closed filters behind the metrics' drill-down.
    decision = services.case_decide(
        case=first,
        actor=manager,
        outcome="revoke_all",
        legal_basis="《市场主体登记管理条例》第四十条",
        reasoning="冒名。",
    )
    services.case_close(case=decision.case, actor=investigator)
    assert listed(decided_from="2026-03-06", decided_to="2026-03-06", outcome="revoke") == {first}
    assert listed(outcome="not_revoked") == set()
    assert listed(closed_from="2026-03-06", closed_to="2026-03-06") == {first}
    assert listed(closed_from="2026-03-07") == set()
    assert listed(within_deadline="1") == {first}
    assert listed(within_deadline="0") == set()
    assert listed(overdue=True) == {second, unknown}


def test_due_cases_nearest_first(receive, accepted, investigator, clock):
    received = receive().case
    investigating = accepted()
    clock(at(D(2026, 5, 25)))
    items = selectors.due_cases(user=investigator)
    assert [(i.case, i.kind) for i in items] == [(received, "acceptance"), (investigating, "investigation")]
    assert items[0].overdue and items[0].days_left < 0 and items[0].label == "受理期限"
    assert not items[1].overdue and items[1].days_left == 8


def test_timeline_includes_merged_cases(receive, enterprise, investigator):
    a = enterprise()
    target = receive(a).case
    source = receive(enterprise()).case
    services.case_merge(case=source, into=target, actor=investigator, reason="同一事项")
    actions = [event.action for event in selectors.case_timeline(target)]
    assert actions.count("receive") == 2 and "merge" in actions and "case_merged_in" in actions


def test_bans_and_search(accepted, manager, investigator, role_users, clock):
    services.case_decide(
        case=accepted(),
        actor=manager,
        outcome="revoke_all",
        legal_basis="《市场主体登记管理条例》第四十条",
        reasoning="冒名。",
        responsible_persons=[{"name": "黄大仙", "id_number": CULPRIT_ID, "role": "委托代理人"}],
    )
    assert selectors.bans_active().count() == 1
    assert selectors.bans_active(D(2029, 3, 3)).count() == 0
    assert selectors.bans_active(user=investigator).count() == 1
    assert selectors.bans_active(user=role_users["registration_clerk"]).count() == 0
    assert selectors.ban_search(user=investigator, q="大仙").count() == 1
    assert selectors.ban_search(user=investigator, q=CULPRIT_ID.lower()).count() == 1
    assert selectors.ban_search(user=investigator, q="某某").count() == 0
    assert selectors.ban_search(user=role_users["hotline_agent"], q="").count() == 0


def test_field_check_evidence_and_survey_lookups(accepted, investigator, role_users, unreachable):
    case = accepted()
    check = unreachable(case)
    assert selectors.field_check_for(user=investigator, pk=check.pk) == check
    with pytest.raises(Http404):
        selectors.field_check_for(user=role_users["registration_clerk"], pk=check.pk)
    with pytest.raises(Http404):
        selectors.evidence_for(user=investigator, pk=999999)
    assert list(selectors.case_field_checks(case=case)) == [check]
    assert [ce.enterprise for ce in selectors.case_enterprises(case=case)] == list(
        selectors.case_enterprise_choices(case=case)
    )
    assert selectors.survey_by_token("nope") is None
    assert (
        selectors.enterprise_by_uscc(case.enterprises.get().enterprise.uscc.lower())
        == case.enterprises.get().enterprise
    )


def test_case_state_labels_cover_every_state():
    assert set(CaseState.values) >= {"received", "closed", "merged"}
