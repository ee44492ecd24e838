"""The hotline set-up rules: ≥ 5 active lines for an active hotline, the ringing order and its reordering,
agents, and shifts that never overlap for one agent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bizreg.consultation.models import HotlineLine, HotlineNumber, Shift
from bizreg.consultation.services import hotline as services
from bizreg.consultation.tests.hotline_fixtures import make_agent, make_hotline

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def positions(hotline) -> list[tuple[str, int]]:
    return list(hotline.lines.order_by("position").values_list("pbx_channel", "position"))


# --- hotline numbers and the five-line rule -------------------------------------------------------------


def test_a_new_hotline_cannot_start_active_without_lines(authority, manager):
    with pytest.raises(ValidationError) as excinfo:
        services.hotline_create(
            authority=authority, actor=manager, number="12345", name="热线", is_active=True
        )
    assert "至少需要 5 条" in errors_of(excinfo)["is_active"][0]
    assert not HotlineNumber.objects.exists()


@pytest.mark.parametrize(
    ("number", "message"),
    [("", "请填写热线号码"), ("020#3991", "只能包含数字"), ("热线", "只能包含数字"), ("1", "只能包含数字")],
)
def test_bad_hotline_numbers_are_refused(authority, manager, number, message):
    with pytest.raises(ValidationError) as excinfo:
        services.hotline_create(authority=authority, actor=manager, number=number, name="热线")
    assert message in errors_of(excinfo)["number"][0]


def test_a_hotline_number_is_unique_per_authority(authority, other_authority, manager):
    services.hotline_create(authority=authority, actor=manager, number="020-39914115", name="热线")
    with pytest.raises(ValidationError) as excinfo:
        services.hotline_create(authority=authority, actor=manager, number="020-39914115", name="另一条")
    assert "已有热线号码" in errors_of(excinfo)["number"][0]
    # Another authority may publish the same number.
    services.hotline_create(authority=other_authority, actor=manager, number="020-39914115", name="热线")


def test_service_level_seconds_must_be_sensible(authority, manager):
    with pytest.raises(ValidationError) as excinfo:
        services.hotline_create(
            authority=authority, actor=manager, number="12345", name="热线", service_level_seconds=0
        )
    assert "service_level_seconds" in errors_of(excinfo)


def test_switching_on_needs_five_active_lines(authority, manager):
    hotline = services.hotline_create(authority=authority, actor=manager, number="12345", name="热线")
    for i in range(1, 5):
        services.line_add(hotline=hotline, actor=manager, label=f"{i} 号线", pbx_channel=f"SIP/{i}")
    services.line_add(hotline=hotline, actor=manager, label="停用线", pbx_channel="SIP/off", is_active=False)
    with pytest.raises(ValidationError) as excinfo:
        services.hotline_update(
            hotline=hotline,
            actor=manager,
            number="12345",
            name="热线",
            service_level_seconds=20,
            is_active=True,
        )
    assert "目前只有 4 条" in errors_of(excinfo)["is_active"][0]
    services.line_add(hotline=hotline, actor=manager, label="5 号线", pbx_channel="SIP/5")
    hotline = services.hotline_update(
        hotline=hotline, actor=manager, number="12345", name="热线", service_level_seconds=15, is_active=True
    )
    hotline.refresh_from_db()
    assert hotline.is_active and hotline.service_level_seconds == 15
    assert hotline.history.first().history_user == manager


def test_a_line_of_an_active_hotline_is_switched_off_only_while_five_remain(authority, manager):
    hotline = make_hotline(authority, lines=6)
    first, second = hotline.lines.order_by("position")[:2]
    services.line_update(
        line=first, actor=manager, label=first.label, pbx_channel=first.pbx_channel, is_active=False
    )
    with pytest.raises(ValidationError) as excinfo:
        services.line_update(
            line=second, actor=manager, label=second.label, pbx_channel=second.pbx_channel, is_active=False
        )
    assert "只剩 4 条" in errors_of(excinfo)["is_active"][0]
    second.refresh_from_db()
    assert second.is_active
    # An inactive hotline may be taken apart freely.
    inactive = make_hotline(authority, lines=5, active=False, number="12345")
    line = inactive.lines.first()
    services.line_update(
        line=line, actor=manager, label=line.label, pbx_channel=line.pbx_channel, is_active=False
    )


def test_lines_are_appended_in_order_and_channels_are_unique(authority, manager):
    hotline = make_hotline(authority, lines=5, active=False)
    line = services.line_add(hotline=hotline, actor=manager, label="6 号线", pbx_channel="SIP/line6")
    assert line.position == 6
    with pytest.raises(ValidationError) as excinfo:
        services.line_add(hotline=hotline, actor=manager, label="重复", pbx_channel="SIP/line6")
    assert "已有通道名" in errors_of(excinfo)["pbx_channel"][0]
    with pytest.raises(ValidationError) as excinfo:
        services.line_add(hotline=hotline, actor=manager, label="", pbx_channel="SIP line")
    assert set(errors_of(excinfo)) == {"label", "pbx_channel"}


# --- reordering -----------------------------------------------------------------------------------------


def test_reordering_the_whole_hunt_group(authority, manager):
    hotline = make_hotline(authority, lines=5)
    ids = list(hotline.lines.order_by("position").values_list("pk", flat=True))
    services.lines_reorder(hotline=hotline, actor=manager, order=list(reversed(ids)))
    assert [pk for pk in hotline.lines.order_by("position").values_list("pk", flat=True)] == list(
        reversed(ids)
    )
    assert sorted(hotline.lines.values_list("position", flat=True)) == [1, 2, 3, 4, 5]
    moved = HotlineLine.objects.get(pk=ids[0])
    last = moved.history.first()
    assert (
        last.position == 5 and last.history_user == manager and last.history_change_reason == "调整振铃顺序"
    )


@pytest.mark.parametrize("kind", ["missing", "duplicate", "foreign", "garbage"])
def test_a_bad_order_changes_nothing(authority, manager, kind):
    hotline = make_hotline(authority, lines=5)
    other = make_hotline(authority, lines=5, number="12345")
    ids = list(hotline.lines.order_by("position").values_list("pk", flat=True))
    before = positions(hotline)
    order = {
        "missing": ids[:-1],
        "duplicate": [*ids[:-1], ids[0]],
        "foreign": [*ids[:-1], other.lines.first().pk],
        "garbage": ["x", *ids[1:]],
    }[kind]
    with pytest.raises(ValidationError):
        services.lines_reorder(hotline=hotline, actor=manager, order=order)
    assert positions(hotline) == before


def test_moving_a_line_up_and_down(authority, manager):
    hotline = make_hotline(authority, lines=5)
    third = hotline.lines.get(position=3)
    services.line_move(line=third, actor=manager, direction="up")
    assert positions(hotline)[:3] == [("SIP/line1", 1), ("SIP/line3", 2), ("SIP/line2", 3)]
    services.line_move(line=HotlineLine.objects.get(pk=third.pk), actor=manager, direction="down")
    assert positions(hotline) == [(f"SIP/line{n}", n) for n in range(1, 6)]
    with pytest.raises(ValidationError) as excinfo:
        services.line_move(line=hotline.lines.get(position=1), actor=manager, direction="up")
    assert "已在最前" in excinfo.value.messages[0]
    with pytest.raises(ValidationError):
        services.line_move(line=hotline.lines.get(position=5), actor=manager, direction="down")
    with pytest.raises(ValidationError):
        services.line_move(line=third, actor=manager, direction="sideways")


# --- agents ---------------------------------------------------------------------------------------------


def test_agent_rules(authority, other_authority, manager, role_users, make_user):
    agent_user = role_users["hotline_agent"]
    agent = services.agent_create(authority=authority, actor=manager, user=agent_user, pbx_code="Agent/1001")
    assert agent.history.first().history_user == manager
    with pytest.raises(ValidationError) as excinfo:
        services.agent_create(authority=authority, actor=manager, user=agent_user, pbx_code="Agent/1002")
    assert "已是本登记机关的坐席" in errors_of(excinfo)["user"][0]
    with pytest.raises(ValidationError) as excinfo:
        services.agent_create(
            authority=authority, actor=manager, user=make_user("hotline_agent"), pbx_code="Agent/1001"
        )
    assert "已被其他坐席使用" in errors_of(excinfo)["pbx_code"][0]
    outsider = make_user("hotline_agent", authorities=[other_authority])
    with pytest.raises(ValidationError) as excinfo:
        services.agent_create(authority=authority, actor=manager, user=outsider, pbx_code="Agent/2001")
    assert "不属于本登记机关" in errors_of(excinfo)["user"][0]
    with pytest.raises(ValidationError) as excinfo:
        services.agent_create(
            authority=authority,
            actor=manager,
            user=make_user("hotline_agent"),
            pbx_code="A 1",
            extension="80a",
        )
    assert set(errors_of(excinfo)) == {"pbx_code", "extension"}
    agent = services.agent_update(
        agent=agent, actor=manager, pbx_code="SIP/1001", extension="8001", is_active=False
    )
    assert (agent.pbx_code, agent.extension, agent.is_active) == ("SIP/1001", "8001", False)


# --- shifts ---------------------------------------------------------------------------------------------


def at(hour: int, minute: int = 0, day: int = 0) -> dt.datetime:
    base = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=day)
    return base + dt.timedelta(hours=hour, minutes=minute)


@pytest.fixture
def agents(authority, make_user):
    return make_agent(make_user("hotline_agent"), authority), make_agent(
        make_user("hotline_agent"), authority
    )


def test_shifts_of_one_agent_never_overlap(authority, manager, agents):
    first, second = agents
    services.shift_create(authority=authority, actor=manager, agent=first, starts_at=at(9), ends_at=at(12))
    with pytest.raises(ValidationError) as excinfo:
        services.shift_create(
            authority=authority, actor=manager, agent=first, starts_at=at(11), ends_at=at(14)
        )
    assert "重叠" in errors_of(excinfo)["starts_at"][0]
    with pytest.raises(ValidationError):  # wholly inside
        services.shift_create(
            authority=authority, actor=manager, agent=first, starts_at=at(10), ends_at=at(11)
        )
    with pytest.raises(ValidationError):  # wholly around
        services.shift_create(
            authority=authority, actor=manager, agent=first, starts_at=at(8), ends_at=at(13)
        )
    # Back to back is fine, and another agent may take the same hours.
    services.shift_create(
        authority=authority, actor=manager, agent=first, starts_at=at(12), ends_at=at(17, 30)
    )
    services.shift_create(authority=authority, actor=manager, agent=second, starts_at=at(9), ends_at=at(12))
    assert Shift.objects.count() == 3


def test_shift_times_are_checked(authority, other_authority, manager, agents, make_user):
    agent = agents[0]
    cases = [
        (at(12), at(9), "ends_at", "必须晚于开始时间"),
        (at(9), at(9), "ends_at", "必须晚于开始时间"),
        (at(6), at(23), "ends_at", "不能超过 16 小时"),
        (None, at(9), "starts_at", "请填写开始时间"),
    ]
    for starts_at, ends_at, field, message in cases:
        with pytest.raises(ValidationError) as excinfo:
            services.shift_create(
                authority=authority, actor=manager, agent=agent, starts_at=starts_at, ends_at=ends_at
            )
        assert message in errors_of(excinfo)[field][0]
    foreign = make_agent(make_user("hotline_agent", authorities=[other_authority]), other_authority)
    with pytest.raises(ValidationError) as excinfo:
        services.shift_create(
            authority=authority, actor=manager, agent=foreign, starts_at=at(9), ends_at=at(12)
        )
    assert "不属于本登记机关" in errors_of(excinfo)["agent"][0]


def test_editing_a_shift_checks_the_others_but_not_itself(authority, manager, agents):
    agent = agents[0]
    morning = services.shift_create(
        authority=authority, actor=manager, agent=agent, starts_at=at(9), ends_at=at(12)
    )
    services.shift_create(authority=authority, actor=manager, agent=agent, starts_at=at(14), ends_at=at(18))
    moved = services.shift_update(
        shift=morning, actor=manager, agent=agent, starts_at=at(8), ends_at=at(13), note="早班"
    )
    assert (moved.starts_at, moved.ends_at, moved.note) == (at(8), at(13), "早班")
    with pytest.raises(ValidationError):
        services.shift_update(shift=morning, actor=manager, agent=agent, starts_at=at(8), ends_at=at(15))
    services.shift_delete(shift=morning, actor=manager)
    assert Shift.objects.count() == 1
