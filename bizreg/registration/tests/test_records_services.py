"""Information-entry/guidance records and follow-up tasks, through their services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bizreg.registration.models import CaseState, Channel, ContactLog, FollowUpTask, ServiceRecord
from bizreg.registration.services import records as services
from bizreg.registration.tests.records_fixtures import make_case
from bizreg.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]


@pytest.fixture
def enterprise(authority):
    return factories.EnterpriseFactory(authority=authority, name="广州南沙录入测试有限公司")


# --- service records ------------------------------------------------------------------------------------


def test_record_for_a_registered_enterprise_takes_its_current_name(authority, clerk, enterprise):
    record = services.service_record_create(
        authority=authority, actor=clerk, kind="info_entry", minutes=7, enterprise=enterprise
    )
    record.refresh_from_db()
    assert record.enterprise_name == "广州南沙录入测试有限公司"
    assert record.staff == clerk
    assert record.minutes == 7
    assert abs((timezone.now() - record.occurred_at).total_seconds()) < 60


def test_guidance_for_an_enterprise_not_yet_registered_keeps_the_typed_name(authority, clerk):
    record = services.service_record_create(
        authority=authority,
        actor=clerk,
        kind="online_guidance",
        minutes="12",
        enterprise_name=" 广州拟设立公司 ",
    )
    assert record.enterprise is None
    assert record.enterprise_name == "广州拟设立公司"
    assert record.minutes == 12


def test_record_linked_to_a_case_takes_the_case_enterprise(authority, clerk, enterprise):
    case = make_case(authority, enterprise=enterprise, enterprise_name=enterprise.name)
    record = services.service_record_create(
        authority=authority, actor=clerk, kind="online_guidance", minutes=5, case=case
    )
    assert record.enterprise == enterprise
    assert record.case == case


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"kind": "chat"}, "kind", "请选择记录类型"),
        ({"minutes": 0}, "minutes", "至少 1 分钟"),
        ({"minutes": 481}, "minutes", "不能超过 480 分钟"),
        ({"minutes": "十"}, "minutes", "整数分钟"),
        ({"enterprise_name": ""}, "enterprise", "请填写企业名称"),
        ({"enterprise_name": "名" * 201}, "enterprise", "不能超过 200 个字"),
        ({"note": "备" * 301}, "note", "不能超过 300 个字"),
    ],
)
def test_bad_record_input_is_refused_with_the_field_named(authority, clerk, kwargs, field, message):
    data = {"kind": "info_entry", "minutes": 5, "enterprise_name": "广州某公司"} | kwargs
    with pytest.raises(ValidationError) as exc:
        services.service_record_create(authority=authority, actor=clerk, **data)
    assert field in exc.value.message_dict
    assert message in " ".join(exc.value.message_dict[field])
    assert not ServiceRecord.objects.exists()


def test_record_in_the_future_is_refused(authority, clerk):
    with pytest.raises(ValidationError) as exc:
        services.service_record_create(
            authority=authority,
            actor=clerk,
            kind="info_entry",
            minutes=5,
            enterprise_name="广州某公司",
            occurred_at=timezone.now() + dt.timedelta(hours=2),
        )
    assert "不能晚于现在" in exc.value.message_dict["occurred_at"][0]


def test_enterprise_or_case_of_another_authority_is_refused(authority, other_authority, clerk):
    foreign = factories.EnterpriseFactory(authority=other_authority)
    foreign_case = make_case(other_authority)
    with pytest.raises(ValidationError) as exc:
        services.service_record_create(
            authority=authority,
            actor=clerk,
            kind="info_entry",
            minutes=5,
            enterprise=foreign,
            case=foreign_case,
        )
    assert set(exc.value.message_dict) >= {"enterprise", "case"}
    assert not ServiceRecord.objects.exists()


# --- follow-up tasks ------------------------------------------------------------------------------------


def test_returned_online_case_gets_a_task_due_in_working_days(authority, clerk):
    case = make_case(authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.RETURNED)
    task = services.follow_up_open_for(case=case, actor=clerk)
    assert task is not None
    assert task.status == FollowUpTask.Status.OPEN
    assert task.trigger_state == CaseState.RETURNED
    assert task.authority == authority
    assert task.opened_by == clerk
    today = timezone.localdate()
    assert today < task.due_on <= today + dt.timedelta(days=12)


@pytest.mark.parametrize(
    ("channel", "state"),
    [
        (Channel.WINDOW, CaseState.RETURNED),
        (Channel.MAIL, CaseState.REJECTED),
        (Channel.FULL_ELECTRONIC, CaseState.ACCEPTED),
        (Channel.ONE_STOP_ONLINE, CaseState.APPROVED),
    ],
)
def test_cases_that_need_no_follow_up_get_none(authority, clerk, channel, state):
    case = make_case(authority, channel=channel, state=state)
    assert services.follow_up_open_for(case=case, actor=clerk) is None
    assert not FollowUpTask.objects.exists()
    with pytest.raises(services.FollowUpError):
        services.follow_up_create(case=case, actor=clerk)


def test_opening_twice_keeps_one_open_task(authority, clerk):
    case = make_case(authority, channel=Channel.FULL_ELECTRONIC, state=CaseState.REJECTED)
    first = services.follow_up_create(case=case, actor=clerk)
    second = services.follow_up_open_for(case=case, actor=clerk)
    assert first.pk == second.pk
    assert FollowUpTask.objects.count() == 1


def test_contact_then_close(authority, clerk):
    case = make_case(authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.WITHDRAWN)
    task = services.follow_up_create(case=case, actor=clerk)
    contact = services.contact_log_add(task=task, actor=clerk, method="phone", result="已电话说明补正要求")
    assert contact.staff == clerk
    task.refresh_from_db()
    assert task.assignee == clerk  # the first to call takes the task
    closed = services.follow_up_close(task=task, actor=clerk, outcome="申请人将重新提交")
    assert closed.status == FollowUpTask.Status.DONE
    assert closed.closed_by == clerk
    assert closed.outcome == "申请人将重新提交"
    with pytest.raises(services.FollowUpError) as exc:
        services.contact_log_add(task=task, actor=clerk, method="sms", result="再次联系")
    assert "已于" in str(exc.value)
    assert ContactLog.objects.count() == 1


def test_closing_without_any_contact_is_refused(authority, clerk):
    case = make_case(authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.RETURNED)
    task = services.follow_up_create(case=case, actor=clerk)
    with pytest.raises(services.FollowUpError) as exc:
        services.follow_up_close(task=task, actor=clerk, outcome="无")
    assert "至少一次" in str(exc.value)
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.OPEN


@pytest.mark.parametrize(
    ("method", "result", "field"),
    [("fax", "已联系", "method"), ("phone", "", "result"), ("phone", "长" * 301, "result")],
)
def test_bad_contact_input_is_refused(authority, clerk, method, result, field):
    case = make_case(authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.RETURNED)
    task = services.follow_up_create(case=case, actor=clerk)
    with pytest.raises(ValidationError) as exc:
        services.contact_log_add(task=task, actor=clerk, method=method, result=result)
    assert field in exc.value.message_dict
    assert not ContactLog.objects.exists()


def test_a_finished_task_reopens_when_the_case_is_returned_again(authority, clerk):
    case = make_case(authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.RETURNED)
    task = services.follow_up_create(case=case, actor=clerk)
    services.contact_log_add(task=task, actor=clerk, method="email", result="已发邮件")
    services.follow_up_close(task=task, actor=clerk, outcome="已补正")
    case.state = CaseState.REJECTED
    case.save()
    again = services.follow_up_open_for(case=case, actor=clerk)
    assert again.pk == task.pk
    assert again.status == FollowUpTask.Status.OPEN
    assert again.trigger_state == CaseState.REJECTED
    assert again.closed_at is None and again.outcome == ""
    assert again.contacts.count() == 1  # the earlier contact stays on record
