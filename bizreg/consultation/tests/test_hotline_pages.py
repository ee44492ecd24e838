"""Hotline set-up pages: who may open and change what, the five-line rule and reordering through the pages,
shifts (week view, overlap refused, Excel roster), and another authority's rows answering 404."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from bizreg.accounts.roles import ROLES
from bizreg.consultation.models import Agent, HotlineLine, HotlineNumber, Shift
from bizreg.consultation.selectors.hotline import week_start
from bizreg.consultation.tests.hotline_fixtures import make_agent, make_hotline

pytestmark = pytest.mark.django_db

READERS = {"hotline_agent", "manager"}
MANAGER = {"manager"}


def monday_at(hour: int, days: int = 0) -> dt.datetime:
    monday = week_start(timezone.localdate())
    return timezone.make_aware(dt.datetime.combine(monday + dt.timedelta(days=days), dt.time(hour)))


def local(value: dt.datetime) -> str:
    return f"{timezone.localtime(value):%Y-%m-%dT%H:%M}"


@pytest.fixture
def setup(authority, role_users):
    hotline = make_hotline(authority, lines=5)
    agent = make_agent(role_users["hotline_agent"], authority, "Agent/1001")
    shift = Shift.objects.create(
        authority=authority, agent=agent, starts_at=monday_at(9), ends_at=monday_at(12)
    )
    return {"hotline": hotline, "line": hotline.lines.get(position=3), "agent": agent, "shift": shift}


PAGES = [
    ("get", "/consultation/hotline/", READERS, 200),
    ("get", "/consultation/hotline/{hotline}/", READERS, 200),
    ("get", "/consultation/hotline/agents/", READERS, 200),
    ("get", "/consultation/hotline/shifts/", READERS, 200),
    ("get", "/consultation/hotline/shifts/export/", READERS, 200),
    ("get", "/consultation/hotline/new/", MANAGER, 200),
    ("get", "/consultation/hotline/{hotline}/edit/", MANAGER, 200),
    ("get", "/consultation/hotline/lines/{line}/edit/", MANAGER, 200),
    ("post", "/consultation/hotline/lines/{line}/move/", MANAGER, 302),
    ("get", "/consultation/hotline/agents/new/", MANAGER, 200),
    ("get", "/consultation/hotline/agents/{agent}/edit/", MANAGER, 200),
    ("get", "/consultation/hotline/shifts/new/", MANAGER, 200),
    ("get", "/consultation/hotline/shifts/{shift}/edit/", MANAGER, 200),
    ("get", "/consultation/hotline/shifts/{shift}/delete/", MANAGER, 200),
]


@pytest.mark.parametrize(
    ("method", "url", "allowed", "ok"), PAGES, ids=[f"{m} {u}" for m, u, _a, _o in PAGES]
)
def test_role_matrix(setup, role_users, client_for, method, url, allowed, ok):
    ids = {name: setup[name].pk for name in ("hotline", "line", "agent", "shift")}
    path = url.format(**ids)
    for role in ROLES:
        data = {"direction": "up"} if "move" in url else {}
        response = getattr(client_for(role_users[role.code]), method)(path, data)
        expected = ok if role.code in allowed else 403
        assert response.status_code == expected, f"{role.code} {method} {path}: {response.status_code}"


def test_posts_by_an_agent_are_refused_and_change_nothing(setup, role_users, client_for):
    client = client_for(role_users["hotline_agent"])
    hotline = setup["hotline"]
    assert client.post("/consultation/hotline/new/", {"number": "12345", "name": "x"}).status_code == 403
    assert (
        client.post(
            f"/consultation/hotline/{hotline.pk}/lines/new/", {"label": "x", "pbx_channel": "SIP/x"}
        ).status_code
        == 403
    )
    assert client.post(f"/consultation/hotline/shifts/{setup['shift'].pk}/delete/").status_code == 403
    assert HotlineNumber.objects.count() == 1 and hotline.lines.count() == 5 and Shift.objects.count() == 1


def test_another_authoritys_set_up_answers_404(setup, other_authority, make_user, client_for):
    outsider = client_for(make_user("manager", authorities=[other_authority]))
    for path in (
        f"/consultation/hotline/{setup['hotline'].pk}/",
        f"/consultation/hotline/{setup['hotline'].pk}/edit/",
        f"/consultation/hotline/lines/{setup['line'].pk}/edit/",
        f"/consultation/hotline/agents/{setup['agent'].pk}/edit/",
        f"/consultation/hotline/shifts/{setup['shift'].pk}/edit/",
        f"/consultation/hotline/shifts/{setup['shift'].pk}/delete/",
    ):
        assert outsider.get(path).status_code == 404, path
    assert (
        outsider.post(
            f"/consultation/hotline/lines/{setup['line'].pk}/move/", {"direction": "up"}
        ).status_code
        == 404
    )
    assert outsider.post(f"/consultation/hotline/shifts/{setup['shift'].pk}/delete/").status_code == 404
    assert Shift.objects.count() == 1
    listing = outsider.get("/consultation/hotline/").content.decode()
    assert "020-39914115" not in listing


def test_building_a_hotline_through_the_pages(authority, role_users, client_for):
    client = client_for(role_users["manager"])
    response = client.post(
        "/consultation/hotline/new/",
        {"number": "020-39914115", "name": "企业登记咨询热线", "service_level_seconds": "20"},
    )
    hotline = HotlineNumber.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/consultation/hotline/{hotline.pk}/"
    for n in range(1, 5):
        client.post(
            f"/consultation/hotline/{hotline.pk}/lines/new/",
            {"label": f"{n} 号线", "pbx_channel": f"SIP/{n}", "is_active": "on"},
        )
    page = client.get(f"/consultation/hotline/{hotline.pk}/").content.decode()
    assert 'data-testid="lines-warning"' in page and "还差 1 条" in page
    edit = {
        "number": "020-39914115",
        "name": "企业登记咨询热线",
        "service_level_seconds": "20",
        "is_active": "on",
    }
    response = client.post(f"/consultation/hotline/{hotline.pk}/edit/", edit)
    assert response.status_code == 400
    assert "至少需要 5 条启用的分线（顺序振铃），目前只有 4 条" in response.content.decode()
    response = client.post(
        f"/consultation/hotline/{hotline.pk}/lines/new/",
        {"label": "5 号线", "pbx_channel": "SIP/4", "is_active": "on"},
    )
    assert response.status_code == 400 and "已有通道名为 SIP/4" in response.content.decode()
    client.post(
        f"/consultation/hotline/{hotline.pk}/lines/new/",
        {"label": "5 号线", "pbx_channel": "SIP/5", "is_active": "on"},
    )
    assert client.post(f"/consultation/hotline/{hotline.pk}/edit/", edit).status_code == 302
    hotline.refresh_from_db()
    assert hotline.is_active
    assert list(hotline.lines.values_list("position", flat=True)) == [1, 2, 3, 4, 5]
    # Switching a line off would leave four: refused with the reason.
    line = hotline.lines.get(position=2)
    response = client.post(
        f"/consultation/hotline/lines/{line.pk}/edit/", {"label": line.label, "pbx_channel": line.pbx_channel}
    )
    assert response.status_code == 400 and "只剩 4 条" in response.content.decode()


def test_reordering_through_the_pages(setup, role_users, client_for):
    client = client_for(role_users["manager"])
    hotline, line = setup["hotline"], setup["line"]
    response = client.post(
        f"/consultation/hotline/lines/{line.pk}/move/", {"direction": "up"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and 'data-testid="lines-table"' in response.content.decode()
    assert HotlineLine.objects.get(pk=line.pk).position == 2
    ids = list(hotline.lines.order_by("-position").values_list("pk", flat=True))
    response = client.post(
        f"/consultation/hotline/{hotline.pk}/lines/reorder/", {"order": ",".join(map(str, ids))}
    )
    assert response.status_code == 302
    assert list(hotline.lines.order_by("position").values_list("pk", flat=True)) == ids
    before = list(hotline.lines.order_by("position").values_list("pk", flat=True))
    response = client.post(
        f"/consultation/hotline/{hotline.pk}/lines/reorder/", {"order": ",".join(map(str, ids[:3]))}
    )
    assert response.status_code == 302  # back to the page with the message
    assert list(hotline.lines.order_by("position").values_list("pk", flat=True)) == before
    page = client.get(f"/consultation/hotline/{hotline.pk}/").content.decode()
    assert "恰好包含本热线的每一条分线各一次" in page
    first = hotline.lines.get(position=1)
    response = client.post(
        f"/consultation/hotline/lines/{first.pk}/move/", {"direction": "up"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400 and "已在最前" in response.content.decode()


def test_adding_an_agent_offers_only_staff_of_the_authority(
    authority, other_authority, role_users, client_for, make_user
):
    client = client_for(role_users["manager"])
    outsider = make_user("hotline_agent", authorities=[other_authority], username="outsider")
    page = client.get("/consultation/hotline/agents/new/").content.decode()
    assert "outsider" not in page
    response = client.post(
        "/consultation/hotline/agents/new/", {"user": outsider.pk, "pbx_code": "Agent/9", "is_active": "on"}
    )
    assert response.status_code == 400 and "所选工作人员不存在" in response.content.decode()
    agent_user = role_users["hotline_agent"]
    response = client.post(
        "/consultation/hotline/agents/new/",
        {"user": agent_user.pk, "pbx_code": "Agent/1001", "extension": "8001", "is_active": "on"},
    )
    assert response.status_code == 302
    agent = Agent.objects.get()
    assert (agent.user, agent.pbx_code, agent.extension) == (agent_user, "Agent/1001", "8001")
    listing = client.get("/consultation/hotline/agents/?q=1001").content.decode()
    assert "Agent/1001" in listing


def test_shifts_week_view_overlap_and_roster_export(setup, role_users, client_for):
    client = client_for(role_users["manager"])
    agent = setup["agent"]
    week = client.get("/consultation/hotline/shifts/").content.decode()
    assert 'data-testid="week-view"' in week and "09:00–12:00" in week
    response = client.post(
        "/consultation/hotline/shifts/new/",
        {"agent": agent.pk, "starts_at": local(monday_at(11)), "ends_at": local(monday_at(15))},
    )
    assert response.status_code == 400 and "与该坐席已有的班次重叠" in response.content.decode()
    response = client.post(
        "/consultation/hotline/shifts/new/",
        {"agent": agent.pk, "starts_at": local(monday_at(13)), "ends_at": local(monday_at(12))},
    )
    assert response.status_code == 400 and "结束时间必须晚于开始时间" in response.content.decode()
    response = client.post(
        "/consultation/hotline/shifts/new/",
        {"agent": agent.pk, "starts_at": "明天", "ends_at": local(monday_at(12))},
    )
    assert response.status_code == 400 and "请输入有效的日期时间" in response.content.decode()
    response = client.post(
        "/consultation/hotline/shifts/new/",
        {
            "agent": agent.pk,
            "starts_at": local(monday_at(13, days=1)),
            "ends_at": local(monday_at(17, days=1)),
            "note": "午班",
        },
    )
    assert response.status_code == 302 and "?week=" in response["Location"]
    assert Shift.objects.count() == 2
    export = client.get(
        f"/consultation/hotline/shifts/export/?week={week_start(timezone.localdate()):%Y-%m-%d}"
    )
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("日期", "星期", "坐席", "PBX 坐席标识")
    assert [(r[3], r[5].strftime("%H:%M"), r[6].strftime("%H:%M"), r[8]) for r in rows[1:]] == [
        ("Agent/1001", "09:00", "12:00", None),  # an empty note is an empty cell
        ("Agent/1001", "13:00", "17:00", "午班"),
    ]
    # Another week is empty; a bad week date is reported, not a crash.
    following = week_start(timezone.localdate()) + dt.timedelta(days=7)
    next_week = client.get(f"/consultation/hotline/shifts/?week={following:%Y-%m-%d}")
    assert "本周没有班次" in next_week.content.decode()
    bad = client.get("/consultation/hotline/shifts/?week=2024-13-45")
    assert bad.status_code == 400 and "请输入有效日期" in bad.content.decode()


def test_deleting_and_editing_a_shift(setup, role_users, client_for):
    client = client_for(role_users["manager"])
    shift = setup["shift"]
    response = client.post(
        f"/consultation/hotline/shifts/{shift.pk}/edit/",
        {
            "agent": shift.agent_id,
            "starts_at": local(monday_at(8)),
            "ends_at": local(monday_at(11)),
            "note": "提前",
        },
    )
    assert response.status_code == 302
    shift.refresh_from_db()
    assert (timezone.localtime(shift.starts_at).hour, shift.note) == (8, "提前")
    assert client.post(f"/consultation/hotline/shifts/{shift.pk}/delete/").status_code == 302
    assert not Shift.objects.exists()
