"""Tickets API: reads scoped per authority and role, the steps (reply, note, transition, assign, merge) with
the same refusals as the pages (403 role, 404 other authority, 409 state, 400 bad input), masking of
contacts and the access-logged full view, a pinned query count for the list."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizreg.accounts.roles import _CONSULTATION_READ, ROLES
from bizreg.consultation.models import Ticket, TicketChannel, TicketKind, TicketMessage, TicketState
from bizreg.consultation.services import tickets as svc
from bizreg.consultation.tests.knowledge_fixtures import published
from bizreg.consultation.tests.tickets_fixtures import open_ticket
from bizreg.core.models import AccessLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(role_users):
    return role_users["hotline_agent"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


BASE = "/api/consultation-tickets/"
VIEWERS = {"hotline_agent", "manager"}


@pytest.fixture
def reader(make_user):
    user = make_user(username="api_reader")
    codenames = [p.split(".", 1)[1] for p in _CONSULTATION_READ]
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="consultation", codename__in=codenames)
    )
    return user


@pytest.fixture
def outsider(make_user, other_authority):
    return make_user("manager", authorities=[other_authority], username="api_outsider")


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_roles_authorities_and_anonymous(client_for, client, role_users, reader, outsider, authority):
    ticket = open_ticket(authority)
    for role in sorted(r.code for r in ROLES):
        c = client_for(role_users[role])
        expected = 200 if role in VIEWERS else 403
        assert c.get(BASE).status_code == expected, role
        assert c.get(f"{BASE}{ticket.pk}/").status_code == expected, role
    assert client_for(reader).get(f"{BASE}{ticket.pk}/").status_code == 200
    assert client.get(BASE).status_code in (401, 403)
    other = client_for(outsider)
    assert other.get(BASE).json()["count"] == 0
    assert other.get(f"{BASE}{ticket.pk}/").status_code == 404
    for step in ("reply", "note", "transition", "assign", "merge"):
        assert post(other, f"{BASE}{ticket.pk}/{step}/", {"body": "x"}).status_code == 404, step
    # The read-only user may read but take no step.
    r = client_for(reader)
    assert post(r, f"{BASE}{ticket.pk}/reply/", {"body": "您好"}).status_code == 403
    assert post(r, f"{BASE}{ticket.pk}/note/", {"body": "备注"}).status_code == 403
    assert post(r, f"{BASE}{ticket.pk}/transition/", {"action": "resolve"}).status_code == 403
    assert ticket.messages.count() == 1


def test_list_filters_and_masking(client_for, agent, manager, authority):
    ticket = open_ticket(authority, external_id="m1", channel=TicketChannel.EMAIL)
    open_ticket(authority, external_id="m2", kind=TicketKind.COMPLAINT)
    c = client_for(agent)
    data = c.get(BASE).json()
    assert data["count"] == 2
    row = next(r for r in data["results"] if r["number"] == ticket.number)
    assert row["contact"]["phone"] == "138****5678" and row["contact"]["display_name"] == "张*"
    assert row["state"] == "new" and row["due_status"] in ("ok", "soon", "overdue", "")
    assert c.get(BASE, {"kind": "complaint"}).json()["count"] == 1
    assert c.get(BASE, {"q": ticket.number}).json()["results"][0]["id"] == ticket.pk
    assert c.get(BASE, {"state": "bogus"}).json()["count"] == 2  # an invalid filter value is ignored
    assert c.get(BASE, {"full_id": "1"}).status_code == 403
    full = client_for(manager).get(BASE, {"full_id": "1"}).json()
    assert {r["contact"]["phone"] for r in full["results"]} == {"13812345678"}
    assert AccessLog.objects.filter(user=manager, object_type="consultation.Contact").count() == 1


def test_list_query_count_is_pinned(client_for, agent, authority):
    for n in range(2):
        open_ticket(authority, external_id=f"s{n}")
    c = client_for(agent)
    c.get(BASE)
    with CaptureQueriesContext(connection) as small:
        assert c.get(BASE).status_code == 200
    for n in range(6):
        open_ticket(authority, external_id=f"l{n}")
    with CaptureQueriesContext(connection) as large:
        assert c.get(BASE).json()["count"] == 8
    assert len(small) == len(large)


def test_retrieve_has_conversation_timeline_and_actions(client_for, agent, authority):
    ticket = open_ticket(authority, body="<script>alert(1)</script>")
    svc.ticket_note(ticket=ticket, actor=agent, body="内部核实")
    data = client_for(agent).get(f"{BASE}{ticket.pk}/").json()
    assert [m["direction"] for m in data["messages"]] == ["inbound", "note"]
    assert data["messages"][0]["body"] == "<script>alert(1)</script>"  # JSON carries the text as text
    assert data["timeline"][0]["action"] == "open"
    assert "resolve" in data["actions"] and "merge" not in data["actions"]


def test_reply_note_and_their_bad_input(client_for, agent, manager, authority):
    article = published(authority, agent, manager, title="名称自主申报怎么办理？")
    ticket = open_ticket(authority)
    c = client_for(agent)
    empty = post(c, f"{BASE}{ticket.pk}/reply/", {"body": ""})
    assert empty.status_code == 400 and "答复内容不能为空" in str(empty.json())
    blank = post(c, f"{BASE}{ticket.pk}/reply/", {"body": "   "})
    assert blank.status_code == 400
    bad_cite = post(c, f"{BASE}{ticket.pk}/reply/", {"body": "x", "cited_version": 999999})
    assert bad_cite.status_code == 400 and "引用的知识条目" in str(bad_cite.json())
    ok = post(
        c,
        f"{BASE}{ticket.pk}/reply/",
        {"body": "请登录一网通办办理。", "cited_version": article.published_version_id},
    )
    assert ok.status_code == 201
    assert ok.json()["cited_version"] == article.published_version_id
    assert ok.json()["cited_article"] == article.code
    assert post(c, f"{BASE}{ticket.pk}/note/", {"body": ""}).status_code == 400
    assert post(c, f"{BASE}{ticket.pk}/note/", {"body": "已回电"}).status_code == 201
    assert ticket.messages.filter(direction=TicketMessage.Direction.NOTE).count() == 1


def test_transitions_and_reply_on_a_closed_ticket(client_for, agent, authority):
    ticket = open_ticket(authority)
    c = client_for(agent)
    url = f"{BASE}{ticket.pk}/transition/"
    unknown = post(c, url, {"action": "merge"})
    assert unknown.status_code == 400 and "不能执行该操作" in str(unknown.json())
    assert post(c, url, {"action": "close"}).status_code == 409
    taken = post(c, url, {"action": "assign"})
    assert taken.status_code == 200 and taken.json()["assignee"] == agent.pk
    assert post(c, url, {"action": "resolve"}).json()["state"] == "resolved"
    assert post(c, url, {"action": "close"}).json()["state"] == "closed"
    refused = post(c, f"{BASE}{ticket.pk}/reply/", {"body": "补充"})
    assert refused.status_code == 409 and "已关闭，不能再答复" in refused.json()["detail"]
    no_reason = post(c, url, {"action": "reopen"})
    assert no_reason.status_code == 400 and "请填写重新打开的理由" in str(no_reason.json())
    assert post(c, url, {"action": "reopen", "reason": "群众补充材料"}).json()["state"] == "open"


def test_assign_and_merge(client_for, agent, manager, authority, outsider):
    first = open_ticket(authority, external_id="dup")
    second = open_ticket(authority, external_id="dup", body="再问一次")
    a, m = client_for(agent), client_for(manager)
    # An agent may take a ticket (assign it to themselves) but not give it to someone else.
    assert post(a, f"{BASE}{first.pk}/assign/", {"assignee": manager.pk}).status_code == 403
    unknown = post(m, f"{BASE}{first.pk}/assign/", {"assignee": outsider.pk})
    assert unknown.status_code == 400 and "不能分派" in str(unknown.json())
    assigned = post(m, f"{BASE}{first.pk}/assign/", {"assignee": agent.pk})
    assert assigned.status_code == 200 and assigned.json()["assignee_name"] == str(agent)

    merge = f"{BASE}{second.pk}/merge/"
    assert post(a, merge, {"into": first.number, "reason": "重复"}).status_code == 403
    itself = post(m, merge, {"into": second.number, "reason": "重复"})
    assert itself.status_code == 400 and "不能将工单合并到它自身" in str(itself.json())
    assert post(m, merge, {"into": first.number, "reason": ""}).status_code == 400
    missing = post(m, merge, {"into": "ZX-NONE", "reason": "重复"})
    assert missing.status_code == 400 and "没有找到工单号" in str(missing.json())
    done = post(m, merge, {"into": first.number, "reason": "同一咨询人重复提问"})
    assert done.status_code == 200
    assert done.json()["state"] == "merged" and done.json()["merged_into_number"] == first.number
    assert Ticket.objects.get(pk=second.pk).state == TicketState.MERGED
    again = post(m, merge, {"into": first.number, "reason": "再合并"})
    assert again.status_code == 409
