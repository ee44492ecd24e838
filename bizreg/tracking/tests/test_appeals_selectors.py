"""Who sees which appeals (officer and manager: their authority's; a department member: their departments'
only; another authority: nothing, 404), the list filters, the badges and the portal's look-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from bizreg.testing.factories import EnterpriseFactory
from bizreg.tracking.models import AppealState
from bizreg.tracking.selectors import appeals as selectors
from bizreg.tracking.services import appeals as services
from bizreg.tracking.tests.fixtures_appeals import *  # noqa: F403 — fixtures
from bizreg.tracking.tests.fixtures_appeals import PHONE, add_role, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("appeal_clock")]
D = dt.date


@pytest.fixture
def three(raise_appeal, routed_appeal, department, other_department, officer, authority):
    """One appeal registered, one routed to 发改局, one routed to 人社局."""
    registered = raise_appeal(title="租金补贴", category="premises")
    mine = routed_appeal(title="贷款贴息")
    theirs = services.appeal_route(
        appeal=raise_appeal(title="招工难", category="labour"), department=other_department, actor=officer
    )
    return registered, mine, theirs


def numbers(queryset) -> set[str]:
    return set(queryset.values_list("title", flat=True))


def test_officer_and_manager_see_the_whole_authority(three, officer, manager):
    for user in (officer, manager):
        assert numbers(selectors.appeals_visible_to(user)) == {"租金补贴", "贷款贴息", "招工难"}


def test_a_department_member_sees_only_their_departments(three, member, other_member):
    registered, mine, theirs = three
    assert numbers(selectors.appeals_visible_to(member)) == {"贷款贴息"}
    assert numbers(selectors.appeals_visible_to(other_member)) == {"招工难"}
    assert selectors.appeal_for(user=member, pk=mine.pk) == mine
    for hidden in (registered, theirs):
        with pytest.raises(Http404):
            selectors.appeal_for(user=member, pk=hidden.pk)


def test_a_member_loses_sight_of_an_appeal_sent_elsewhere(three, member, officer, other_department):
    _, mine, _ = three
    services.appeal_route(appeal=mine, department=other_department, actor=officer)
    with pytest.raises(Http404):
        selectors.appeal_for(user=member, pk=mine.pk)


def test_another_authority_and_other_roles_see_nothing(three, make_user, other_authority, role_users):
    stranger = make_user("enterprise_officer", authorities=[other_authority])
    assert not selectors.appeals_visible_to(stranger).exists()
    with pytest.raises(Http404):
        selectors.appeal_for(user=stranger, pk=three[0].pk)
    with pytest.raises(Http404):
        selectors.appeal_for(user=stranger, pk="abc")
    for code in ("registration_clerk", "hotline_agent", "investigator"):
        assert not selectors.appeals_visible_to(role_users[code]).exists(), code


def test_listing_filters(three, officer, department, company, appeal_clock):
    registered, mine, theirs = three

    def listed(**params):
        return numbers(selectors.appeal_listing(user=officer, params=params))

    assert listed(state="registered") == {"租金补贴"}
    assert listed(state="open") == {"租金补贴", "贷款贴息", "招工难"}
    assert listed(state="nonsense") == {"租金补贴", "贷款贴息", "招工难"}
    assert listed(category="labour") == {"招工难"}
    assert listed(department=str(department.pk)) == {"贷款贴息"}
    assert listed(department=department) == {"贷款贴息"}
    assert listed(q=mine.number) == {"贷款贴息"}
    assert listed(q="诉求测试") == {"租金补贴", "贷款贴息", "招工难"}
    assert listed(q=company.uscc) == {"租金补贴", "贷款贴息", "招工难"}
    assert listed(q="不存在的企业") == set()
    assert listed(raised_from="2026-03-02", raised_to="2026-03-02") == {"租金补贴", "贷款贴息", "招工难"}
    assert listed(raised_from="2026-03-03") == set()
    assert listed(raised_to="not a date") == {"租金补贴", "贷款贴息", "招工难"}
    assert listed(overdue="1") == set()
    appeal_clock(at(D(2026, 3, 10)))
    assert listed(overdue="1") == {"招工难"}  # 人社局: 5 working days, due 9 March
    appeal_clock(at(D(2026, 3, 17)))
    assert listed(overdue="on") == {"招工难", "贷款贴息"}


def test_closed_drilldown_filters(answered_appeal, officer, appeal_clock):
    appeal = answered_appeal()
    appeal_clock(at(D(2026, 3, 5)))
    services.appeal_close(appeal=appeal, actor=officer, satisfaction=5)
    params = {"closed_from": "2026-03-05", "closed_to": "2026-03-05", "on_time": "1", "satisfied": "1"}
    assert selectors.appeal_listing(user=officer, params=params).get() == appeal
    assert not selectors.appeal_listing(user=officer, params={"on_time": "0"}).exists()
    assert not selectors.appeal_listing(user=officer, params={"closed_to": "2026-03-04"}).exists()


def test_mine_filter_for_an_officer_who_is_also_a_member(three, officer, department):
    add_role(officer, "department_viewer")
    department.members.add(officer)
    assert numbers(selectors.appeal_listing(user=officer, params={"mine": True})) == {"贷款贴息"}


def test_counts_for_the_badges(three, officer, member, appeal_clock):
    appeal_clock(at(D(2026, 3, 10)))
    assert selectors.appeal_counts(user=officer) == {
        "open": 3,
        "overdue": 1,
        "registered": 1,
        "answered": 0,
        "awaiting_my_answer": 0,
    }
    counts = selectors.appeal_counts(user=member)
    assert counts["open"] == 1 and counts["overdue"] == 0 and counts["awaiting_my_answer"] == 1


def test_appeal_actions_offer_answer_only_to_members_of_the_department(three, member, other_member, officer):
    _, mine, _ = three
    assert [a.action for a in selectors.appeal_actions(appeal=mine, user=member)] == ["answer"]
    assert [a.action for a in selectors.appeal_actions(appeal=mine, user=other_member)] == []
    assert {a.action for a in selectors.appeal_actions(appeal=mine, user=officer)} == {
        "route",
        "close",
        "withdraw",
    }


def test_member_candidates_are_the_authoritys_answerers(
    authority, member, other_member, officer, make_user, other_authority
):
    make_user("department_viewer", authorities=[other_authority])
    assert set(selectors.member_candidates(authority_id=authority.pk)) == {member, other_member}


def test_department_listing_counts(three, manager, department, other_department, appeal_clock):
    appeal_clock(at(D(2026, 3, 10)))
    rows = {d.name: d for d in selectors.department_listing(user=manager, params={})}
    assert rows["区发展和改革局"].open_count == 1 and rows["区发展和改革局"].member_count == 1
    assert rows["区人力资源和社会保障局"].overdue_count == 1
    assert list(selectors.department_listing(user=manager, params={"q": "人力"})) == [other_department]


# --- the portal's look-up ------------------------------------------------------------------------------


def test_public_lookup_needs_the_right_suffix(answered_appeal):
    appeal = answered_appeal()
    found = selectors.appeal_public(number=appeal.number, phone_suffix=PHONE[-4:])
    assert found is not None
    assert found.status == "承办部门已反馈，待办结" and found.department == "区发展和改革局"
    assert found.feedback.startswith("已对接区发改局")
    assert [label for label, _ in found.steps] == ["登记诉求", "转办", "反馈办理结果"]
    assert found.due_on == D(2026, 3, 16) and found.answered_on == D(2026, 3, 2)
    assert selectors.appeal_public(number=appeal.number, phone_suffix="0000") is None
    assert selectors.appeal_public(number="诉202699999", phone_suffix=PHONE[-4:]) is None
    assert selectors.appeal_public(number=appeal.number.removeprefix("诉"), phone_suffix=PHONE[-4:])


def test_public_lookup_keeps_overdue_alerts_and_staff_out(routed_appeal, member):
    member.email = "m@example.gov.cn"
    member.save()
    appeal = routed_appeal()
    services.appeals_alert_overdue(today=D(2026, 3, 17))
    found = selectors.appeal_public(number=appeal.number, phone_suffix=PHONE[-4:])
    assert [label for label, _ in found.steps] == ["登记诉求", "转办"]
    assert found.feedback == "" and found.status == "承办部门办理中"
    assert "陈发改" not in repr(found) and PHONE not in repr(found) and "刘财务" not in repr(found)


def test_same_number_in_two_authorities_is_told_apart_by_the_suffix(
    raise_appeal, other_authority, make_user, appeal_clock
):
    here = raise_appeal()
    stranger = make_user("enterprise_officer", authorities=[other_authority])
    there = services.appeal_raise(
        authority=other_authority,
        enterprise_id=EnterpriseFactory(authority=other_authority).pk,
        actor=stranger,
        category="tax",
        title="天河区的诉求",
        description="同号不同区。",
        contact_name="周经理",
        contact_phone="13800005555",
    )
    assert here.number == there.number
    assert selectors.appeal_public(number=here.number, phone_suffix="5555").title == "天河区的诉求"
    assert selectors.appeal_public(number=here.number, phone_suffix=PHONE[-4:]).title == here.title
    assert here.state == AppealState.REGISTERED
