"""The hotline dashboard and the capacity planner, opened through the test client as their users do: the
figures on the page (cards, per day, line, agent and hour) are the ones consultation.metrics computes for
known calls — worked out by hand as well — the Excel export carries the same numbers, the planner shows
erlang.plan_hours for typed inputs and its simulation check agrees with Erlang B; bad input is a 400 with a
Chinese message, and each role gets what it may see."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from bizreg.accounts.roles import ROLES
from bizreg.consultation import erlang, metrics
from bizreg.consultation.models import CallOutcome, TicketKind, TicketState
from bizreg.consultation.tests.metrics_fixtures import local, make_agent, make_call, make_hotline, make_ticket
from bizreg.core.metrics_registry import get_metric

pytestmark = pytest.mark.django_db

DASHBOARD = "/consultation/hotline/dashboard/"
EXPORT = "/consultation/hotline/dashboard/export/"
PLANNER = "/consultation/hotline/capacity/"
FIRST, LAST = dt.date(2025, 3, 3), dt.date(2025, 3, 4)
PERIOD = {"date_from": "2025-03-03", "date_to": "2025-03-04"}

# Roles that may open the dashboard (consultation.view_call) and the planner (consultation.plan_capacity).
DASHBOARD_ROLES = {"hotline_agent", "manager"}
PLANNER_ROLES = {"manager"}


@pytest.fixture
def scenario(authority, other_authority, make_user):
    """Hotline 1 (5 lines) with eight calls over two days whose figures are worked out below, a second
    hotline of the same authority with one call, and another authority's hotline and call."""
    hotline = make_hotline(authority, sl_seconds=20)
    second = make_hotline(authority, number="39914116", lines=2)
    a1 = make_agent(
        authority, make_user(role="hotline_agent", username="agent_a", display_name="张坐席"), "Agent/1001"
    )
    a2 = make_agent(
        authority, make_user(role="hotline_agent", username="agent_b", display_name="李坐席"), "Agent/1002"
    )
    day = {"year": 2025, "month": 3, "day": 3}
    make_call(
        hotline,
        offered_at=local(**day, hour=9),
        line_position=1,
        agent=a1,
        wait=10,
        talk=100,
        hold=20,
        wrap=30,
        resolved=True,
        score=5,
    )
    make_call(
        hotline,
        offered_at=local(**day, hour=9, minute=5),
        line_position=1,
        agent=a1,
        wait=30,
        talk=200,
        wrap=10,
        score=3,
    )
    make_call(
        hotline,
        offered_at=local(**day, hour=9, minute=6),
        line_position=2,
        agent=a2,
        wait=20,
        talk=60,
        resolved=True,
        score=4,
    )
    make_call(hotline, offered_at=local(**day, hour=14), line_position=3, agent=a2, wait=5, talk=40)
    make_call(hotline, offered_at=local(**day, hour=14, minute=1), outcome=CallOutcome.ABANDONED, wait=3)
    make_call(hotline, offered_at=local(**day, hour=9, minute=7), outcome=CallOutcome.BUSY)
    make_call(hotline, offered_at=local(**day, hour=15), outcome=CallOutcome.MISSED, wait=60)
    make_call(hotline, offered_at=local(2025, 3, 4, 10), line_position=1, agent=a1, talk=100, resolved=True)
    make_call(second, offered_at=local(**day, hour=11), line_position=2, agent=a2, wait=50, talk=300)
    # Outside the period, and another authority's hotline with a call inside it.
    make_call(hotline, offered_at=local(2025, 3, 5, 0, 0, 0), talk=999, score=1)
    other = make_hotline(other_authority, number="88888888")
    make_call(other, offered_at=local(**day, hour=10), outcome=CallOutcome.BUSY)
    # Complaints: one answered on time, one late.
    make_ticket(
        authority,
        opened_at=local(**day, hour=10),
        kind=TicketKind.COMPLAINT,
        state=TicketState.RESOLVED,
        due_at=local(2025, 3, 4, 12),
        resolved_at=local(2025, 3, 4, 10),
    )
    make_ticket(
        authority,
        opened_at=local(**day, hour=10),
        kind=TicketKind.COMPLAINT,
        state=TicketState.CLOSED,
        due_at=local(2025, 3, 4, 12),
        resolved_at=local(2025, 3, 4, 15),
    )
    return {"hotline": hotline, "second": second, "other": other, "a1": a1, "a2": a2,
            "ids": [authority.pk]}  # fmt: skip


@pytest.fixture
def manager(role_users, client_for):
    return client_for(role_users["manager"])


def page(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.content.decode())


def text(element) -> str:
    return " ".join(element.text_content().split())


def cards(doc) -> dict[str, dict]:
    """{figure key: {"value": the number shown, "url": the drill-down link}}."""
    found = {}
    for value in doc.xpath('//*[@data-testid="kpi-cards"]//*[@data-figure]'):
        body = value.getparent()
        link = body.xpath(".//a[contains(@class, 'stretched-link')]/@href")
        found[value.get("data-figure")] = {
            "value": value.text.strip(),
            "unit": text(value.xpath("small")[0]),
            "url": link[0] if link else "",
        }
    return found


def cells(row) -> dict[str, str]:
    return {cell.get("data-testid"): text(cell) for cell in row.xpath("td[@data-testid]")}


def shown(value) -> str:
    """A Decimal figure as the cards show it (floatformat -2: no decimals when whole)."""
    return f"{value:.0f}" if value == value.to_integral() else f"{value:.2f}"


# --- the figures ------------------------------------------------------------------------------------------


def test_cards_show_the_hand_worked_figures_of_one_hotline(scenario, manager):
    response = manager.get(DASHBOARD, {**PERIOD, "hotline": scenario["hotline"].pk})
    assert response.status_code == 200
    found = cards(page(response))
    # 8 calls offered: 5 answered, 1 abandoned, 1 busy, 1 missed. Waits of the answered 10/30/20/5/0 s with
    # T = 20 s; handle times 150/210/60/40/100 s; resolved 3; scores 5, 3, 4.
    assert found["hotline_answer_rate"]["value"] == "62.50"
    assert found["hotline_abandon_rate"]["value"] == "12.50"
    assert found["hotline_service_level"]["value"] == "80"
    assert found["hotline_asa_seconds"]["value"] == "13"
    assert found["hotline_aht_seconds"]["value"] == "112"
    assert found["hotline_completion_rate"]["value"] == "60"
    assert found["satisfaction_rate"]["value"] == "66.67"
    assert found["business_volume"]["value"] == "7"  # 5 answered calls + 2 complaints (tickets: any hotline)
    assert found["complaints_closed_on_time_rate"]["value"] == "50"
    assert found["hotline_asa_seconds"]["unit"] == "秒" and found["hotline_answer_rate"]["unit"] == "%"


def test_cards_equal_the_registered_metrics_for_all_hotlines(scenario, manager):
    response = manager.get(DASHBOARD, PERIOD)
    found = cards(page(response))
    end = LAST + dt.timedelta(days=1)
    for key, card in found.items():
        expected = get_metric(f"consultation.{key}").compute(scenario["ids"], FIRST, end)
        assert card["value"] == shown(expected), key
    figures = metrics.call_figures(scenario["ids"], FIRST, end)
    assert figures.offered == 9 and figures.answered == 6  # the second hotline's call counts here
    assert found["hotline_answer_rate"]["value"] == shown(figures.answer_rate) == "66.67"


def test_each_card_drills_down_to_the_records_behind_it(scenario, manager):
    hotline = scenario["hotline"]
    found = cards(page(manager.get(DASHBOARD, {**PERIOD, "hotline": hotline.pk})))
    expected = {
        "hotline_answer_rate": {"hotline": [str(hotline.pk)]},
        "hotline_abandon_rate": {"outcome": ["abandoned"], "hotline": [str(hotline.pk)]},
        "hotline_service_level": {"outcome": ["answered"]},
        "hotline_asa_seconds": {"outcome": ["answered"]},
        "hotline_aht_seconds": {"outcome": ["answered"]},
        "hotline_completion_rate": {"outcome": ["answered"]},
        "satisfaction_rate": {"satisfaction": ["rated"]},
    }
    for key, params in expected.items():
        url = urlsplit(found[key]["url"])
        query = parse_qs(url.query)
        assert url.path == "/consultation/calls/", key
        assert query["date_from"] == ["2025-03-03"] and query["date_to"] == ["2025-03-04"], key
        for name, value in params.items():
            assert query[name] == value, key
    complaints = urlsplit(found["complaints_closed_on_time_rate"]["url"])
    assert complaints.path == "/consultation/tickets/all/" and "hotline" not in parse_qs(complaints.query)
    assert parse_qs(complaints.query)["kind"] == ["complaint"]
    # The list the link opens is there for the same user.
    assert manager.get(found["hotline_abandon_rate"]["url"]).status_code == 200


def test_line_table_counts_calls_per_line_in_hunt_order(scenario, manager):
    hotline = scenario["hotline"]
    doc = page(manager.get(DASHBOARD, {**PERIOD, "hotline": hotline.pk}))
    rows = doc.xpath('//tr[@data-testid="line-row"]')
    answered = {row.get("data-position"): int(row.get("data-answered")) for row in rows}
    assert answered == {"1": 3, "2": 1, "3": 1, "4": 0, "5": 0, "none": 0}
    first = cells(rows[0])
    assert first["asa"] == "13.3" and first["aht"] == "153.3"  # (10+30+0)/3, (150+210+100)/3
    assert first["completion"] == "66.67%" and first["satisfaction"] == "50.00%"
    link = urlsplit(rows[0].xpath('.//a[@data-testid="line-link"]/@href')[0])
    assert parse_qs(link.query)["line"] == [str(hotline.lines.get(position=1).pk)]
    # The measured occupancy of line 1: 420 s talk+hold ÷ the 4 service hours (9, 14, 15 h on the 3rd,
    # 10 h on the 4th) = 2.9 %.
    assert cells(rows[0])["occupancy"] == "2.9%"


def test_agent_table_shows_each_agents_figures(scenario, manager):
    doc = page(manager.get(DASHBOARD, {**PERIOD, "hotline": scenario["hotline"].pk}))
    rows = {row.get("data-agent"): row for row in doc.xpath('//tr[@data-testid="agent-row"]')}
    assert list(rows) == ["Agent/1001", "Agent/1002"]  # busiest first
    a1, a2 = cells(rows["Agent/1001"]), cells(rows["Agent/1002"])
    assert rows["Agent/1001"].get("data-answered") == "3" and "张坐席" in text(rows["Agent/1001"])
    assert a1 == {"service-level": "66.67%", "asa": "13.3", "aht": "153.3", "completion": "66.67%",
                  "satisfaction": "50.00%"}  # fmt: skip
    assert a2 == {"service-level": "100.00%", "asa": "12.5", "aht": "50.0", "completion": "50.00%",
                  "satisfaction": "100.00%"}  # fmt: skip
    link = urlsplit(rows["Agent/1001"].xpath('.//a[@data-testid="agent-link"]/@href')[0])
    assert parse_qs(link.query)["agent"] == [str(scenario["a1"].pk)]


def test_daily_and_hourly_tables(scenario, manager):
    doc = page(manager.get(DASHBOARD, {**PERIOD, "hotline": scenario["hotline"].pk}))
    days = {row.get("data-day"): cells(row) for row in doc.xpath('//tr[@data-testid="day-row"]')}
    assert days["2025-03-03"] == {
        "offered": "7", "answer-rate": "57.14%", "abandon-rate": "14.29%", "service-level": "75.00%",
        "asa": "16.3", "aht": "115.0", "completion": "50.00%", "satisfaction": "66.67%",
    }  # fmt: skip
    assert days["2025-03-04"]["offered"] == "1" and days["2025-03-04"]["satisfaction"] == "—"
    hours = {row.get("data-hour"): cells(row) for row in doc.xpath('//tr[@data-testid="hour-row"]')}
    assert {hour: row["offered"] for hour, row in hours.items()} == {
        "9": "4",
        "10": "1",
        "14": "2",
        "15": "1",
    }
    assert hours["9"]["answer-rate"] == "75.00%" and hours["14"]["abandon-rate"] == "50.00%"
    # The chart gets the same numbers.
    chart = doc.xpath('//script[@id="hotline-chart-data"]')[0].text
    assert '"offered": [7, 1]' in chart and '"days": ["2025-03-03", "2025-03-04"]' in chart


def test_the_page_reads_a_fixed_number_of_queries(scenario, authority, make_user, manager):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert (
                manager.get(DASHBOARD, {"date_from": "2024-03-05", "date_to": "2025-03-04"}).status_code
                == 200
            )
        return len(captured)

    manager.get(DASHBOARD)  # the session and permission caches
    before = queries()
    # More agents, hotlines, lines and calls: not one query more (each table is one grouped query).
    hotline = make_hotline(authority, number="39914117", lines=6)
    for n in range(4):
        agent = make_agent(authority, make_user(role="hotline_agent"), f"Agent/20{n:02d}")
        make_call(hotline, offered_at=local(2025, 3, 4, 9 + n), line_position=n + 1, agent=agent, talk=60)
    assert queries() == before <= 24


def test_export_has_the_same_numbers(scenario, manager):
    query = {**PERIOD, "hotline": scenario["hotline"].pk}
    found = cards(page(manager.get(DASHBOARD, query)))
    response = manager.get(EXPORT, query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["汇总", "每日", "分线", "坐席", "时段"]
    summary = {row[0]: row for row in book["汇总"].iter_rows(values_only=True) if row and row[0]}
    assert summary["统计区间"][1] == "2025-03-03 至 2025-03-04"
    assert summary["接听率"][1] == pytest.approx(62.5)
    labels = {"接听率": "hotline_answer_rate", "服务水平": "hotline_service_level",
              "平均应答速度 ASA": "hotline_asa_seconds", "平均处理时长 AHT": "hotline_aht_seconds",
              "完成解答率": "hotline_completion_rate", "电话咨询满意度": "satisfaction_rate",
              "呼损率（挂断）": "hotline_abandon_rate"}  # fmt: skip
    for label, key in labels.items():
        assert summary[label][1] == pytest.approx(float(found[key]["value"])), label

    daily = list(book["每日"].iter_rows(values_only=True))
    header = daily[0]
    day = dict(zip(header, daily[1], strict=True))
    assert day["日期"] == "2025-03-03" and day["来电量"] == 7 and day["接听率（%）"] == pytest.approx(57.14)
    lines = list(book["分线"].iter_rows(values_only=True))
    answered = [row[lines[0].index("接听")] for row in lines[1:]]
    assert answered == [3, 1, 1, 0, 0, 0]
    agents = list(book["坐席"].iter_rows(values_only=True))
    assert agents[1][:2] == ("张坐席", "Agent/1001")
    assert dict(zip(agents[0], agents[1], strict=True))["服务水平（%）"] == pytest.approx(66.67)
    hours = list(book["时段"].iter_rows(values_only=True))
    assert len(hours) == 25 and hours[10][0] == "09:00–10:00" and hours[10][2] == 4


# --- bad input --------------------------------------------------------------------------------------------

BAD_PERIODS = [
    ({"date_from": "2025-03-05", "date_to": "2025-03-01"}, "起始日期不能晚于截止日期"),
    ({"date_from": "2024-01-01", "date_to": "2025-03-01"}, "统计区间不能超过 366 天"),
    ({"date_from": "2025-02-30"}, "请输入有效日期"),
    ({"hotline": "999999"}, "所选热线不存在或不属于您的登记机关"),
    ({"hotline": "abc"}, "所选热线不存在或不属于您的登记机关"),
]


def test_bad_period_or_hotline_is_a_400_with_a_chinese_message(scenario, manager):
    # One test for the whole table: each case is a request, the fixture data is built once.
    for url in (DASHBOARD, EXPORT, PLANNER):
        for params, message in BAD_PERIODS:
            response = manager.get(url, params)
            assert response.status_code == 400, (url, params)
            assert message in response.content.decode(), (url, params)


def test_another_authoritys_hotline_is_not_selectable(scenario, manager):
    other = scenario["other"]
    doc = page(manager.get(DASHBOARD))
    options = doc.xpath('//select[@name="hotline"]/option/@value')
    assert str(other.pk) not in options and str(scenario["hotline"].pk) in options
    for url in (DASHBOARD, EXPORT, PLANNER):
        response = manager.get(url, {**PERIOD, "hotline": other.pk})
        assert response.status_code == 400
        assert "所选热线不存在或不属于您的登记机关" in response.content.decode()
        assert "88888888" not in response.content.decode()


ARRIVALS_9_TO_17 = "0 0 0 0 0 0 0 0 0 30 40 50 20 25 45 35 15 0 0 0 0 0 0 0"

BAD_PLANS = [
    ({"arrivals": ARRIVALS_9_TO_17.replace("30", "-30", 1)}, "9 时的来电量不能为负数"),
    ({"arrivals": ARRIVALS_9_TO_17.replace("30", "1000000", 1)}, "9 时的来电量超过每小时 100,000 个"),
    ({"arrivals": "1 2 3"}, "请填写 24 个数"),
    ({"arrivals": ARRIVALS_9_TO_17.replace("30", "三十", 1)}, "9 时的来电量“三十”不是数字"),
    ({"arrivals": ARRIVALS_9_TO_17.replace("30", "nan", 1)}, "9 时的来电量不是有限的数"),
    ({"target_answer_rate": "0"}, "目标接听率不能小于 0.1"),
    ({"target_answer_rate": "100"}, "目标接听率不能为 100%"),
    ({"target_answer_rate": "101"}, "目标接听率不能为 100%"),
    ({"target_service_level": "0"}, "目标服务水平不能小于 0.1"),
    ({"target_service_level": "101"}, "目标服务水平不能大于 99.99"),
    ({"line_holding_seconds": "0"}, "每通占线时长不能小于 1"),
    ({"aht_seconds": "99999"}, "平均处理时长不能大于 7200"),
    ({"lines": "0"}, "线路数不能小于 1"),
    ({"agents": "-2"}, "坐席数不能小于 1"),
    ({"answer_within_seconds": "abc"}, "服务水平时限必须是数字"),
    ({"lines": "60", "simulate": "on"}, "仿真校验最多支持 50 条线路"),
    # Within every field's range, yet more traffic than any hunt group of the formulas' bound can carry.
    ({"arrivals": "100000 " * 24, "line_holding_seconds": "7200"}, "话务量过大"),
]


def test_bad_planner_input_is_a_400_with_a_chinese_message(scenario, manager):
    for params, message in BAD_PLANS:
        query = {"arrivals": ARRIVALS_9_TO_17, "line_holding_seconds": "180", "aht_seconds": "200", **params}
        response = manager.get(PLANNER, query)
        assert response.status_code == 400, params
        assert message in response.content.decode(), params


# --- who may open what ------------------------------------------------------------------------------------


def test_role_matrix(scenario, role_users, client_for):
    for url in (DASHBOARD, EXPORT, PLANNER):
        allowed = PLANNER_ROLES if url == PLANNER else DASHBOARD_ROLES
        for role in ROLES:
            response = client_for(role_users[role.code]).get(url, PERIOD)
            assert response.status_code == (200 if role.code in allowed else 403), (url, role.code)


def test_consultation_read_only_user_sees_the_dashboard_not_the_planner(scenario, make_user, client_for):
    reader = make_user(username="reader")
    reader.user_permissions.set(
        Permission.objects.filter(content_type__app_label="consultation", codename__startswith="view_")
    )
    client = client_for(reader)
    assert client.get(DASHBOARD, PERIOD).status_code == 200
    assert client.get(EXPORT, PERIOD).status_code == 200
    assert client.get(PLANNER).status_code == 403
    # …and without the planner perm the dashboard offers no link to it.
    assert 'data-testid="planner-link"' not in client.get(DASHBOARD).content.decode()


def test_anonymous_is_sent_to_the_login_page(client):
    for url in (DASHBOARD, EXPORT, PLANNER):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_another_authoritys_manager_sees_none_of_these_calls(
    scenario, other_authority, make_user, client_for
):
    outsider = client_for(make_user("manager", authorities=[other_authority]))
    found = cards(page(outsider.get(DASHBOARD, PERIOD)))
    assert found["hotline_answer_rate"]["value"] == "0"  # its one call was busy
    assert found["hotline_abandon_rate"]["value"] == "0"
    assert "张坐席" not in outsider.get(DASHBOARD, PERIOD).content.decode()


# --- the capacity planner ---------------------------------------------------------------------------------


def test_planner_numbers_equal_erlang_plan_hours_for_typed_inputs(scenario, manager):
    query = {
        "arrivals": ARRIVALS_9_TO_17,
        "line_holding_seconds": "180",
        "aht_seconds": "240",
        "lines": "5",
        "agents": "6",
        "target_answer_rate": "95",
        "target_service_level": "80",
        "answer_within_seconds": "20",
    }
    response = manager.get(PLANNER, query)
    assert response.status_code == 200
    doc = page(response)
    plan = erlang.plan_hours(
        arrivals_per_hour=[float(x) for x in ARRIVALS_9_TO_17.split()],
        line_holding_seconds=180,
        aht_seconds=240,
        current_lines=5,
        target_answer_rate=0.95,
        target_service_level=0.80,
        answer_within_seconds=20,
    )
    rows = doc.xpath('//tr[@data-testid="plan-row"]')
    assert len(rows) == 24
    for row, hour in zip(rows, plan, strict=True):
        assert int(row.get("data-hour")) == hour.hour
        assert int(row.get("data-lines-needed")) == hour.lines_needed
        assert int(row.get("data-agents-needed")) == hour.agents_needed
        assert float(row.get("data-blocking")) == pytest.approx(hour.blocking_now, abs=1e-6)
        if hour.arrivals:
            wait = erlang.erlang_c(6, hour.agent_load)
            assert float(row.get("data-wait-probability")) == pytest.approx(wait, abs=1e-6)
    # 40 calls an hour × 180 s = 2 erlangs on 5 lines: the textbook Erlang B(5, 2) = 3.67 %.
    ten = cells(rows[10])
    assert ten["blocking"] == "3.67%"
    assert text(doc.xpath('//*[@data-testid="lines-needed"]')[0]) == str(max(h.lines_needed for h in plan))
    assert text(doc.xpath('//*[@data-testid="agents-needed"]')[0]) == str(max(h.agents_needed for h in plan))
    assert "来电量：手工输入" in text(doc.xpath('//*[@data-testid="planner-basis"]')[0])
    # 50 calls × 240 s = 3.33 E on 6 agents is stable; no hour is flagged as an endless queue.
    assert not doc.xpath('//*[@data-testid="unstable-hours"]')


def test_planner_says_when_the_agents_on_duty_cannot_carry_the_load(scenario, manager):
    response = manager.get(
        PLANNER,
        {"arrivals": ARRIVALS_9_TO_17, "line_holding_seconds": "180", "aht_seconds": "240", "agents": "2"},
    )
    assert response.status_code == 200
    warning = text(page(response).xpath('//*[@data-testid="unstable-hours"]')[0])
    # 30 calls × 240 s = 2 E ≥ 2 agents at 9 h; 20 calls = 1.33 E < 2 at 12 h.
    assert "09:00" in warning and "12:00" not in warning and "队列会无限增长" in warning


def test_planner_measures_arrivals_and_holding_times_from_the_period(scenario, manager):
    hotline = scenario["hotline"]
    response = manager.get(PLANNER, {**PERIOD, "hotline": hotline.pk})
    assert response.status_code == 200
    doc = page(response)
    basis = text(doc.xpath('//*[@data-testid="planner-basis"]')[0])
    # 2 days with calls, 8 calls; line holding = talk + hold = 520 ÷ 5, AHT = 560 ÷ 5.
    assert (
        "2 个有来电的日子，共 8 通" in basis and "104.0 秒（实测）" in basis and "112.0 秒（实测）" in basis
    )
    rows = {int(r.get("data-hour")): r for r in doc.xpath('//tr[@data-testid="plan-row"]')}
    assert float(rows[9].get("data-arrivals")) == pytest.approx(2.0)  # 4 calls at 9 h over 2 days
    assert float(rows[9].get("data-line-load")) == pytest.approx(2.0 * 104 / 3600, abs=1e-6)
    assert "现有 5 条线路" in response.content.decode()


def test_planner_first_visit_and_a_period_without_calls(scenario, manager):
    assert manager.get(PLANNER).status_code == 200
    response = manager.get(PLANNER, {"date_from": "2024-01-01", "date_to": "2024-01-31"})
    assert response.status_code == 200
    assert "无法实测通话时长" in text(page(response).xpath('//*[@data-testid="planner-missing"]')[0])


def test_simulation_check_agrees_with_erlang_b_on_a_five_line_group(scenario, manager):
    response = manager.get(
        PLANNER,
        {"arrivals": ARRIVALS_9_TO_17, "line_holding_seconds": "180", "aht_seconds": "200", "lines": "5",
         "simulate": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    doc = page(response)
    simulated = doc.xpath('//tr[@data-testid="plan-row"][@data-sim-low]')
    assert len(simulated) == 8  # every hour with calls, none without
    for row in simulated:
        exact = float(row.get("data-blocking")) * 100
        low, high = float(row.get("data-sim-low")), float(row.get("data-sim-high"))
        assert low < exact < high, (row.get("data-hour"), low, exact, high)
        assert high - low < 2.5  # a real interval, not a blanket
        assert row.get("data-sim-within") == "1"
    summary = text(doc.xpath('//*[@data-testid="simulation-summary"]')[0])
    assert "8 个时段中 8 个时段的 Erlang B 呼损率落在仿真 95% 置信区间内" in summary
