"""The move-out watch list: every rule firing and not firing, one open entry per enterprise and rule,
moved-out enterprises, clearing (reason required, who may, which state) and the pages."""

# ruff: noqa: F811 — the shared fixtures are imported from fixtures_migrations and requested by name

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.enterprises.models import Enterprise
from bizreg.registration.models import CaseState, CaseType
from bizreg.testing.factories import street_for_authority
from bizreg.tracking.models import AppealCategory, VisitState, WatchEntry, WatchRule, WatchState
from bizreg.tracking.services.watchlist import is_yes, watch_clear, watchlist_refresh
from bizreg.tracking.tests.fixtures_migrations import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


def days_ago(today, n: int) -> dt.date:
    return today - dt.timedelta(days=n)


def entries(rule: str | None = None):
    queryset = WatchEntry.objects.all()
    if rule:
        queryset = queryset.filter(rule=rule)
    return list(queryset.order_by("id"))


# --- ENQUIRY ---------------------------------------------------------------------------------------------


def test_enquiry_fires_on_a_yes_to_the_move_out_question(authority, enterprise, make_visit, today):
    visit = make_visit(enterprise, visited_on=days_ago(today, 10), answers={"employees": 8, "move_out": True})
    assert watchlist_refresh(authority=authority, today=today) == 1
    [entry] = entries(WatchRule.MOVE_OUT_ENQUIRY)
    assert (entry.enterprise, entry.state, entry.flagged_on) == (enterprise, WatchState.WATCHING, today)
    assert visit.number in entry.detail and "是否有迁出打算" in entry.detail


@pytest.mark.parametrize(
    ("answers", "state", "age"),
    [
        ({"move_out": False}, VisitState.SUBMITTED, 10),  # answered no
        ({"employees": 8}, VisitState.SUBMITTED, 10),  # not answered
        ({"move_out": True}, VisitState.DRAFT, 10),  # not submitted
        ({"move_out": True}, VisitState.SUBMITTED, 181),  # outside the window
        ({"move_out": "no"}, VisitState.SUBMITTED, 10),
    ],
)
def test_enquiry_does_not_fire(answers, state, age, authority, enterprise, make_visit, today):
    make_visit(enterprise, visited_on=days_ago(today, age), answers=answers, state=state)
    assert watchlist_refresh(authority=authority, today=today) == 0
    assert entries() == []


def test_enquiry_ignores_a_yes_to_a_question_that_does_not_signal(
    authority, enterprise, questionnaire, make_visit, today
):
    questionnaire.questions.filter(code="move_out").update(signals_move_out=False)
    make_visit(enterprise, visited_on=days_ago(today, 3), answers={"move_out": True})
    assert watchlist_refresh(authority=authority, today=today) == 0


@pytest.mark.parametrize(
    ("answer", "yes"),
    [
        (True, True),
        ("是", True),
        ("yes", True),
        (["有"], True),
        (False, False),
        ("否", False),
        (None, False),
        (3, False),
    ],
)
def test_yes_answers(answer, yes):
    assert is_yes(answer) is yes


def test_enquiry_fires_on_a_move_out_appeal(authority, enterprise, make_appeal, today):
    appeal = make_appeal(
        enterprise,
        raised_on=days_ago(today, 30),
        category=AppealCategory.MOVE_OUT,
        title="咨询迁往深圳的手续",
    )
    make_appeal(enterprise, raised_on=days_ago(today, 20), category=AppealCategory.TAX)
    assert watchlist_refresh(authority=authority, today=today) == 1
    [entry] = entries(WatchRule.MOVE_OUT_ENQUIRY)
    assert appeal.number in entry.detail and "咨询迁往深圳的手续" in entry.detail


def test_enquiry_does_not_fire_on_other_appeals_or_old_ones(authority, enterprise, make_appeal, today):
    make_appeal(enterprise, raised_on=days_ago(today, 5), category=AppealCategory.FINANCE)
    make_appeal(enterprise, raised_on=days_ago(today, 200), category=AppealCategory.MOVE_OUT)
    assert watchlist_refresh(authority=authority, today=today) == 0


# --- APPEALS ---------------------------------------------------------------------------------------------


def test_three_appeals_within_180_days_fire(authority, enterprise, make_appeal, today):
    numbers = [make_appeal(enterprise, raised_on=days_ago(today, d)).number for d in (170, 60, 1)]
    assert watchlist_refresh(authority=authority, today=today) == 1
    [entry] = entries(WatchRule.REPEATED_APPEALS)
    assert "诉求 3 件" in entry.detail and all(n in entry.detail for n in numbers)


def test_two_appeals_or_an_old_third_do_not_fire(authority, enterprise, make_enterprise, make_appeal, today):
    for d in (60, 1):
        make_appeal(enterprise, raised_on=days_ago(today, d))
    make_appeal(enterprise, raised_on=days_ago(today, 181))
    other = make_enterprise()
    for d in (3, 2):
        make_appeal(other, raised_on=days_ago(today, d))
    assert watchlist_refresh(authority=authority, today=today) == 0


# --- ADDRESS ---------------------------------------------------------------------------------------------


def test_a_street_change_outside_the_district_fires(authority, enterprise, outside_street, today):
    enterprise.street = outside_street
    enterprise.address = "广州市天河区五山路1号"
    enterprise.save()
    assert watchlist_refresh(authority=authority, today=today) == 1
    [entry] = entries(WatchRule.ADDRESS_OUTSIDE)
    assert "五山街道" in entry.detail and "440106" in entry.detail


def test_a_street_change_inside_the_district_or_long_ago_does_not_fire(
    authority, enterprise, make_enterprise, outside_street, today
):
    from bizreg.enterprises.models import Street

    inside = Street.objects.create(code="440115777", name="横沥镇", division_code="440115")
    enterprise.street = inside
    enterprise.save()
    enterprise.address = "广州市南沙区横沥镇1号"  # an address change without a street change
    enterprise.save()
    old = make_enterprise()
    old.street = outside_street
    old.save()
    Enterprise.history.filter(id=old.pk, history_type="~").update(
        history_date=timezone.now() - dt.timedelta(days=200)
    )
    assert watchlist_refresh(authority=authority, today=today) == 0


def test_an_open_change_case_asking_for_a_street_outside_fires(
    authority, enterprise, outside_street, make_case, today
):
    case = make_case(
        "out",
        enterprise=enterprise,
        case_type=CaseType.CHANGE,
        state=CaseState.ACCEPTED,
        decided_on=None,
        received_on=days_ago(today, 2),
        requested_changes={"address": "广州市天河区五山路1号", "street": outside_street.pk},
    )
    assert watchlist_refresh(authority=authority, today=today) == 1
    [entry] = entries(WatchRule.ADDRESS_OUTSIDE)
    assert case.number in entry.detail and "五山街道" in entry.detail


def test_change_cases_that_do_not_fire(
    authority, enterprise, make_enterprise, outside_street, make_case, today
):
    inside = street_for_authority(authority)
    common = {"case_type": CaseType.CHANGE, "received_on": days_ago(today, 2)}
    make_case(
        "out", enterprise=enterprise, state=CaseState.ACCEPTED, decided_on=None,
        requested_changes={"street": inside.pk}, **common,
    )  # fmt: skip
    make_case(
        "out", enterprise=make_enterprise(), state=CaseState.REJECTED, decided_on=days_ago(today, 1),
        requested_changes={"street": outside_street.pk}, **common,
    )  # fmt: skip
    make_case(
        "out", enterprise=make_enterprise(), state=CaseState.RECEIVED, decided_on=None,
        requested_changes={"legal_rep_name": "王五"}, **common,
    )  # fmt: skip
    assert watchlist_refresh(authority=authority, today=today) == 0


# --- APPLICATION -----------------------------------------------------------------------------------------


def test_a_move_out_application_fires(authority, enterprise, make_case, today):
    case = make_case(
        "out",
        enterprise=enterprise,
        state=CaseState.ACCEPTED,
        decided_on=None,
        received_on=days_ago(today, 4),
    )
    assert watchlist_refresh(authority=authority, today=today) == 1
    [entry] = entries(WatchRule.MOVE_OUT_APPLICATION)
    assert case.number in entry.detail and "深圳市市场监督管理局" in entry.detail


def test_withdrawn_or_other_authoritys_applications_do_not_fire(
    authority, other_authority, enterprise, make_enterprise, make_case, today
):
    make_case(
        "out",
        enterprise=enterprise,
        state=CaseState.WITHDRAWN,
        decided_on=None,
        received_on=days_ago(today, 4),
    )
    foreign = make_enterprise(authority=other_authority)
    make_case(
        "out", enterprise=foreign, state=CaseState.ACCEPTED, decided_on=None, received_on=days_ago(today, 4),
        case_authority=other_authority,
    )  # fmt: skip
    assert watchlist_refresh(authority=authority, today=today) == 0


# --- the list's life -------------------------------------------------------------------------------------


def test_refresh_is_idempotent_and_one_entry_per_rule(
    authority, enterprise, make_visit, make_appeal, make_case, today
):
    make_visit(enterprise, visited_on=days_ago(today, 10), answers={"move_out": True})
    make_visit(enterprise, visited_on=days_ago(today, 5), answers={"move_out": True})
    for d in (3, 2, 1):
        make_appeal(enterprise, raised_on=days_ago(today, d))
    make_case(
        "out",
        enterprise=enterprise,
        state=CaseState.RECEIVED,
        decided_on=None,
        received_on=days_ago(today, 1),
    )
    assert watchlist_refresh(authority=authority, today=today) == 3
    assert watchlist_refresh(authority=authority, today=today) == 0
    rules = sorted(e.rule for e in entries())
    assert rules == sorted(
        [WatchRule.MOVE_OUT_ENQUIRY, WatchRule.REPEATED_APPEALS, WatchRule.MOVE_OUT_APPLICATION]
    )
    enquiry = WatchEntry.objects.get(rule=WatchRule.MOVE_OUT_ENQUIRY)
    assert enquiry.detail.count("走访") == 2  # both visits named in the one entry
    assert enquiry.history.count() == 1


def test_moved_out_enterprises(authority, enterprise, make_enterprise, make_case, make_visit, today):
    make_case(
        "out",
        enterprise=enterprise,
        state=CaseState.ACCEPTED,
        decided_on=None,
        received_on=days_ago(today, 4),
    )
    assert watchlist_refresh(authority=authority, today=today) == 1
    Enterprise.objects.filter(pk=enterprise.pk).update(status="moved_out")
    gone = make_enterprise(status="moved_out")
    make_visit(gone, visited_on=days_ago(today, 1), answers={"move_out": True})
    assert watchlist_refresh(authority=authority, today=today) == 0  # nothing opened for a moved-out one
    [entry] = entries()
    assert entry.state == WatchState.MOVED_OUT


def test_a_cleared_entry_comes_back_only_on_newer_evidence(authority, enterprise, officer, make_visit, today):
    make_visit(enterprise, visited_on=days_ago(today, 10), answers={"move_out": True})
    watchlist_refresh(authority=authority, today=today)
    [entry] = entries()
    watch_clear(entry=entry, actor=officer, reason="走访核实：企业已决定留区。")
    assert watchlist_refresh(authority=authority, today=today) == 0
    make_visit(enterprise, visited_on=today + dt.timedelta(days=1), answers={"move_out": True})
    assert watchlist_refresh(authority=authority, today=today + dt.timedelta(days=1)) == 1
    assert WatchEntry.objects.filter(state=WatchState.WATCHING).count() == 1


def test_refresh_keeps_to_the_authority(authority, other_authority, make_enterprise, make_appeal, today):
    foreign = make_enterprise(authority=other_authority)
    make_appeal(foreign, raised_on=days_ago(today, 1), category=AppealCategory.MOVE_OUT)
    # The appeal was written with our authority by the builder: the enterprise is theirs, the appeal ours.
    from bizreg.tracking.models import Appeal

    Appeal.objects.update(authority=other_authority)
    assert watchlist_refresh(authority=authority, today=today) == 0
    assert watchlist_refresh(authority=other_authority, today=today) == 1
    assert entries()[0].authority == other_authority


# --- clearing --------------------------------------------------------------------------------------------


@pytest.fixture
def entry(authority, enterprise, today):
    return WatchEntry.objects.create(
        authority=authority,
        enterprise=enterprise,
        rule=WatchRule.REPEATED_APPEALS,
        detail="180 天内提出诉求 3 件",
        flagged_on=today,
    )


def test_clear(entry, officer):
    cleared = watch_clear(entry=entry, actor=officer, reason="  诉求均已办结，企业表示留区。 ")
    assert (cleared.state, cleared.cleared_reason, cleared.cleared_by) == (
        WatchState.CLEARED,
        "诉求均已办结，企业表示留区。",
        officer,
    )
    record = cleared.history.first()
    assert record.history_user == officer and record.history_change_reason == "诉求均已办结，企业表示留区。"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_clear_without_a_reason_is_refused(entry, officer, reason):
    with pytest.raises(ValidationError) as exc:
        watch_clear(entry=entry, actor=officer, reason=reason)
    assert exc.value.message_dict == {"reason": ["请填写解除原因。"]}
    entry.refresh_from_db()
    assert entry.state == WatchState.WATCHING


def test_clear_with_a_too_long_reason_is_refused(entry, officer):
    with pytest.raises(ValidationError) as exc:
        watch_clear(entry=entry, actor=officer, reason="长" * 301)
    assert "reason" in exc.value.message_dict


def test_clear_needs_the_permission_and_the_authority(entry, manager, department_member, other_officer):
    for actor in (manager, department_member, other_officer):
        with pytest.raises(PermissionDenied):
            watch_clear(entry=entry, actor=actor, reason="核实后解除")
    entry.refresh_from_db()
    assert entry.state == WatchState.WATCHING


def test_clear_twice_is_a_conflict(entry, officer):
    watch_clear(entry=entry, actor=officer, reason="核实后解除")
    entry.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        watch_clear(entry=entry, actor=officer, reason="再次解除")


# --- pages -----------------------------------------------------------------------------------------------


def test_watch_list_for_officer_and_manager_only(
    entry, officer, manager, clerk, department_member, client_for
):
    url = reverse("tracking:watch_list")
    for user in (officer, manager):
        response = client_for(user).get(url)
        assert response.status_code == 200
        assert entry.enterprise.name in response.content.decode()
    assert client_for(clerk).get(url).status_code == 403
    assert client_for(department_member).get(url).status_code == 403


def test_watch_list_shows_rule_and_detail_and_filters(
    entry, authority, make_enterprise, officer, client_for, today
):
    other = WatchEntry.objects.create(
        authority=authority,
        enterprise=make_enterprise(name="广州南沙已解除有限公司"),
        rule=WatchRule.MOVE_OUT_ENQUIRY,
        detail="走访答有迁出打算",
        flagged_on=today,
        state=WatchState.CLEARED,
        cleared_reason="已核实",
    )
    c = client_for(officer)
    html = c.get(reverse("tracking:watch_list")).content.decode()
    assert "反复提出诉求" in html and "180 天内提出诉求 3 件" in html
    assert other.enterprise.name not in html  # open entries by default
    everything = c.get(reverse("tracking:watch_list"), {"state": "all"})
    assert len(everything.context["page"].object_list) == 2
    by_rule = c.get(reverse("tracking:watch_list"), {"state": "all", "rule": "enquiry"})
    assert [e.pk for e in by_rule.context["page"].object_list] == [other.pk]
    by_name = c.get(reverse("tracking:watch_list"), {"q": "迁移测试"})
    assert [e.pk for e in by_name.context["page"].object_list] == [entry.pk]


def test_watch_list_of_another_authority_is_not_shown(entry, other_officer, client_for):
    response = client_for(other_officer).get(reverse("tracking:watch_list"))
    assert response.status_code == 200 and len(response.context["page"].object_list) == 0


def test_clear_page(entry, officer, client_for):
    c = client_for(officer)
    url = reverse("tracking:watch_clear", args=[entry.pk])
    assert c.get(url).status_code == 200
    refused = c.post(url, {"reason": ""})
    assert refused.status_code == 400 and "请填写解除原因" in refused.content.decode()
    done = c.post(url, {"reason": "企业已签订续租合同"})
    assert done.status_code == 302 and done["Location"] == reverse("tracking:watch_list")
    entry.refresh_from_db()
    assert (entry.state, entry.cleared_reason) == (WatchState.CLEARED, "企业已签订续租合同")
    assert c.post(url, {"reason": "再次"}).status_code == 409


def test_clear_page_permissions(entry, manager, clerk, department_member, other_officer, client_for):
    url = reverse("tracking:watch_clear", args=[entry.pk])
    assert client_for(manager).post(url, {"reason": "x"}).status_code == 403
    assert client_for(clerk).post(url, {"reason": "x"}).status_code == 403
    assert client_for(department_member).post(url, {"reason": "x"}).status_code == 403
    assert client_for(other_officer).post(url, {"reason": "x"}).status_code == 404
    assert client_for(other_officer).get(url).status_code == 404
    entry.refresh_from_db()
    assert entry.state == WatchState.WATCHING


def test_clear_page_of_a_missing_entry(officer, client_for):
    assert client_for(officer).get(reverse("tracking:watch_clear", args=[999999])).status_code == 404
