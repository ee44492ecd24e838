"""Ticket pages for staff: what each role may open or do (403 for the role, 404 for another authority's
ticket), the live queue and its cheap polling, the ticket page's steps with their Chinese refusals,
canned replies from the knowledge base, attachments, the list, export and complaints."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from bizreg.accounts.roles import _CONSULTATION_READ, ROLES
from bizreg.consultation.models import (
    ArticleUsage,
    Ticket,
    TicketChannel,
    TicketKind,
    TicketMessage,
    TicketState,
)
from bizreg.consultation.selectors import tickets as selectors
from bizreg.consultation.services import tickets as svc
from bizreg.consultation.services.attachments import IncomingAttachment
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


ALL = {role.code for role in ROLES}
VIEWERS = {"hotline_agent", "manager"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def reader(make_user):
    """A consultation read-only user (every consultation view permission, nothing else)."""
    user = make_user(username="consult_reader", display_name="只读人员")
    codenames = [p.split(".", 1)[1] for p in _CONSULTATION_READ]
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="consultation", codename__in=codenames)
    )
    return user


@pytest.fixture
def outsider(make_user, other_authority):
    return make_user("manager", authorities=[other_authority], username="outsider")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def detail(ticket) -> str:
    return f"/consultation/tickets/{ticket.pk}/"


# --- permission matrix ----------------------------------------------------------------------------------

PAGES = [
    ("/consultation/tickets/", VIEWERS),
    ("/consultation/tickets/queue/poll/", VIEWERS),
    ("/consultation/tickets/all/", VIEWERS),
    ("/consultation/tickets/export/", VIEWERS),
    ("/consultation/tickets/complaints/", VIEWERS),
    ("/consultation/tickets/new/", {"hotline_agent"}),
]


@pytest.mark.parametrize(("url", "allowed"), PAGES)
def test_each_role_opens_only_its_pages(client_for, role_users, reader, url, allowed):
    for role in sorted(ALL):
        response = client_for(role_users[role]).get(url)
        assert response.status_code == (200 if role in allowed else 403), (role, url)
    expected_reader = 403 if url.endswith("/new/") else 200
    assert client_for(reader).get(url).status_code == expected_reader


@pytest.mark.parametrize("url", [url for url, _ in PAGES])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]


def test_ticket_pages_per_role_and_authority(client_for, role_users, reader, outsider, authority):
    ticket = open_ticket(authority)
    for role in sorted(ALL):
        status = client_for(role_users[role]).get(detail(ticket)).status_code
        assert status == (200 if role in VIEWERS else 403), role
    assert client_for(reader).get(detail(ticket)).status_code == 200
    other = client_for(outsider)
    assert other.get(detail(ticket)).status_code == 404
    assert other.get(detail(ticket) + "messages/").status_code == 404
    assert other.get(detail(ticket) + "canned/").status_code == 404
    for step, data in [
        ("reply/", {"body": "x"}),
        ("note/", {"body": "x"}),
        ("transition/", {"action": "resolve"}),
        ("merge/", {"into": ticket.number, "reason": "x"}),
    ]:
        assert other.post(detail(ticket) + step, data).status_code == 404, step
    # The outsider's lists are empty, not another authority's.
    assert ticket.number not in other.get("/consultation/tickets/").content.decode()
    assert other.get("/consultation/tickets/all/").context["page"].paginator.count == 0
    assert Ticket.objects.get(pk=ticket.pk).state == TicketState.NEW


def test_read_only_user_sees_but_may_not_act(client_for, reader, authority):
    ticket = open_ticket(authority)
    c = client_for(reader)
    page = c.get(detail(ticket)).content.decode()
    assert 'data-testid="reply-form"' not in page and 'data-testid="note-form"' not in page
    assert c.post(detail(ticket) + "reply/", {"body": "您好"}).status_code == 403
    assert c.post(detail(ticket) + "note/", {"body": "备注"}).status_code == 403
    assert c.post(detail(ticket) + "transition/", {"action": "resolve"}).status_code == 403
    assert c.post(detail(ticket) + "assign/", {"assignee": reader.pk}).status_code == 403
    assert c.post(detail(ticket) + "merge/", {"into": "x", "reason": "x"}).status_code == 403
    assert c.get(detail(ticket) + "canned/").status_code == 403
    assert ticket.messages.count() == 1


# --- the queue ------------------------------------------------------------------------------------------


def test_queue_tabs_badges_and_complaint_highlight(client_for, agent, manager, authority):
    mine = open_ticket(authority, external_id="v-mine", subject="我的工单")
    svc.ticket_assign(ticket=mine, actor=agent, assignee=agent)
    complaint = open_ticket(
        authority, external_id="v-c", kind=TicketKind.COMPLAINT, channel=TicketChannel.WECHAT
    )
    team = open_ticket(authority, external_id="v-team", channel=TicketChannel.EMAIL)
    svc.ticket_assign(ticket=team, actor=manager, assignee=manager)
    closed = open_ticket(authority, external_id="v-closed")
    svc.ticket_transition(ticket=closed, action="resolve", actor=agent)
    c = client_for(agent)

    every = c.get("/consultation/tickets/")
    assert every.status_code == 200 and every.context["tab"] == "open"
    numbers = {t.number for t in every.context["rows"]}
    assert numbers == {mine.number, complaint.number, team.number}
    assert every.context["counts"] == {"new": 1, "mine": 1, "team": 1, "open": 3}
    html = every.content.decode()
    assert 'data-testid="kind-complaint"' in html and "table-danger" in html
    assert "bi-wechat" in html and "bi-envelope" in html
    assert 'hx-trigger="every 1500ms"' in html

    assert [t.number for t in c.get("/consultation/tickets/?tab=mine").context["rows"]] == [mine.number]
    assert [t.number for t in c.get("/consultation/tickets/?tab=new").context["rows"]] == [complaint.number]
    # An unknown tab falls back to all open tickets.
    assert c.get("/consultation/tickets/?tab=<script>").context["tab"] == "open"


def test_queue_poll_is_204_until_a_chat_message_arrives(client_for, agent, authority, client):
    c = client_for(agent)
    page = c.get("/consultation/tickets/?tab=new")
    version = page.context["version"]
    poll = "/consultation/tickets/queue/poll/"
    with CaptureQueriesContext(connection) as unchanged:
        assert c.get(poll, {"tab": "new", "v": version}).status_code == 204
    # session, user, the permissions (one read), authority ids, the version aggregate, and the session renewal
    # (SESSION_SAVE_EVERY_REQUEST: savepoint, update, release). No ticket rows are read.
    assert len(unchanged) <= 8
    assert not any("consultation_ticketmessage" in q["sql"] for q in unchanged.captured_queries)

    # A citizen asks in the portal chat; the knowledge base has nothing, so a ticket is opened.
    asked = client.post("/portal/consult/chat/ask/", {"question": "外汇备案在哪个窗口办理？"})
    assert asked.status_code == 302
    ticket = Ticket.objects.get(channel=TicketChannel.WEB_CHAT)
    changed = c.get(poll, {"tab": "new", "v": version})
    assert changed.status_code == 200
    assert ticket.number in changed.content.decode()
    new_version = changed.context["version"]
    assert new_version != version
    assert c.get(poll, {"tab": "new", "v": new_version}).status_code == 204

    # The same visitor's next message changes the version again (the ticket was touched).
    client.post("/portal/consult/chat/ask/", {"question": "还需要带什么材料？"})
    again = c.get(poll, {"tab": "new", "v": new_version})
    assert again.status_code == 200 and ticket.number in again.content.decode()


def test_queue_and_list_query_counts_do_not_grow_with_rows(client_for, agent, authority):
    for n in range(3):
        open_ticket(authority, external_id=f"a{n}")
    c = client_for(agent)
    c.get("/consultation/tickets/")  # warm the permission cache paths
    counts = {}
    for label in ("small", "large"):
        if label == "large":
            for n in range(6):
                open_ticket(authority, external_id=f"b{n}", kind=TicketKind.COMPLAINT)
        for url in ("/consultation/tickets/", "/consultation/tickets/all/"):
            with CaptureQueriesContext(connection) as ctx:
                assert c.get(url).status_code == 200
            counts[(label, url)] = len(ctx)
    for url in ("/consultation/tickets/", "/consultation/tickets/all/"):
        assert counts[("small", url)] == counts[("large", url)], url


# --- one ticket -----------------------------------------------------------------------------------------


def test_reply_through_the_page_and_its_refusals(client_for, agent, authority):
    ticket = open_ticket(authority)
    c = client_for(agent)
    empty = c.post(detail(ticket) + "reply/", {"body": "   "})
    assert empty.status_code == 400 and "请填写答复内容" in empty.content.decode()
    ok = c.post(detail(ticket) + "reply/", {"body": "您好，需要身份证明和经营场所证明。"})
    assert ok.status_code == 302 and ok["Location"] == detail(ticket)
    ticket.refresh_from_db()
    assert ticket.state == TicketState.OPEN and ticket.assignee == agent
    assert ticket.first_responded_at is not None
    reply = ticket.messages.get(direction=TicketMessage.Direction.OUTBOUND)
    assert reply.author == agent and reply.cited_version is None
    page = c.get(detail(ticket)).content.decode()
    assert "您好，需要身份证明和经营场所证明。" in page

    ticket = svc.ticket_transition(ticket=ticket, action="resolve", actor=agent)
    svc.ticket_transition(ticket=ticket, action="close", actor=agent)
    closed_page = c.get(detail(ticket)).content.decode()
    assert 'data-testid="reply-form"' not in closed_page and 'data-testid="closed-note"' in closed_page
    refused = c.post(detail(ticket) + "reply/", {"body": "补充说明"})
    assert refused.status_code == 409
    assert "已关闭，不能再答复" in refused.content.decode()


def test_script_in_a_message_is_shown_as_text(client_for, agent, authority):
    ticket = open_ticket(authority, body='<script>alert("x")</script><img src=x onerror=alert(1)>')
    c = client_for(agent)
    html = c.get(detail(ticket)).content.decode()
    assert "<script>alert(" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    queue = c.get("/consultation/tickets/").content.decode()
    assert "<script>alert(" not in queue and "&lt;script&gt;" in queue  # the subject too


def test_canned_reply_inserts_answer_and_records_cited_version(client_for, agent, manager, authority):
    article = published(
        authority,
        agent,
        manager,
        title="个体工商户注销需要哪些材料？",
        answer="个体工商户注销可在一网通办平台提交，需提供注销登记申请书。",
    )
    ticket = open_ticket(authority, body="个体户注销要准备什么材料？")
    c = client_for(agent)
    found = c.get(detail(ticket) + "canned/", {"kbq": "个体户注销材料"})
    assert found.status_code == 200
    html = found.content.decode()
    assert article.code in html and "一网通办平台提交" in html
    version = article.published_version
    assert f'data-version="{version.pk}"' in html
    nothing = c.get(detail(ticket) + "canned/", {"kbq": "完全无关的火星天气"})
    assert nothing.status_code == 200

    text = found.context["replies"][0]["text"]
    response = c.post(detail(ticket) + "reply/", {"body": text, "cited_version": version.pk})
    assert response.status_code == 302
    reply = ticket.messages.get(direction=TicketMessage.Direction.OUTBOUND)
    assert reply.cited_version_id == version.pk
    assert ArticleUsage.objects.filter(article=article, kind="canned_reply").count() == 1
    assert f"{article.code} v{version.number}" in c.get(detail(ticket)).content.decode()
    # A version id that does not exist (or is another authority's) is refused, nothing is sent.
    bad = c.post(detail(ticket) + "reply/", {"body": "x", "cited_version": 999999})
    assert bad.status_code == 400 and "引用的知识条目不存在" in bad.content.decode()
    assert ticket.messages.filter(direction=TicketMessage.Direction.OUTBOUND).count() == 1


def test_messages_poll_returns_only_new_ones(client_for, agent, authority):
    ticket = open_ticket(authority)
    c = client_for(agent)
    last = c.get(detail(ticket)).context["last_id"]
    assert c.get(detail(ticket) + "messages/", {"after": last}).status_code == 204
    assert c.get(detail(ticket) + "messages/", {"after": "abc"}).status_code == 200  # bad cursor: all
    svc.ticket_receive(ticket=ticket, body="我再补充一句<b>加粗</b>")
    new = c.get(detail(ticket) + "messages/", {"after": last})
    assert new.status_code == 200
    html = new.content.decode()
    assert "我再补充一句&lt;b&gt;加粗&lt;/b&gt;" in html and 'hx-swap-oob="true"' in html
    assert new.context["last_id"] > last


def test_note_and_transitions(client_for, agent, authority):
    ticket = open_ticket(authority)
    c = client_for(agent)
    assert c.post(detail(ticket) + "note/", {"body": ""}).status_code == 400
    assert c.post(detail(ticket) + "note/", {"body": "已电话联系"}).status_code == 302
    assert ticket.messages.filter(direction=TicketMessage.Direction.NOTE).count() == 1

    assert c.post(detail(ticket) + "transition/", {"action": "assign"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == agent and ticket.state == TicketState.OPEN
    unknown = c.post(detail(ticket) + "transition/", {"action": "explode"})
    assert unknown.status_code == 409 and "未知的操作" in unknown.content.decode()
    wrong = c.post(detail(ticket) + "transition/", {"action": "close"})
    assert wrong.status_code == 409 and "不能执行“关闭”" in wrong.content.decode()
    for action in ("wait_for_customer", "resolve", "close"):
        assert c.post(detail(ticket) + "transition/", {"action": action}).status_code == 302, action
    no_reason = c.post(detail(ticket) + "transition/", {"action": "reopen", "reason": ""})
    assert no_reason.status_code == 400 and "请填写重新打开的理由" in no_reason.content.decode()
    ok = c.post(detail(ticket) + "transition/", {"action": "reopen", "reason": "群众来电补充"})
    assert ok.status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == TicketState.OPEN
    timeline = c.get(detail(ticket)).content.decode()
    assert "群众来电补充" in timeline


def test_assign_and_merge_need_the_managers_permission(client_for, agent, manager, authority):
    first = open_ticket(authority, external_id="same", body="第一次提问")
    duplicate = open_ticket(authority, external_id="same", body="同一问题又问了一次")
    a, m = client_for(agent), client_for(manager)
    assert a.post(detail(first) + "assign/", {"assignee": agent.pk}).status_code == 403
    assert a.post(detail(duplicate) + "merge/", {"into": first.number, "reason": "重复"}).status_code == 403

    page = m.get(detail(duplicate))
    assert first.number in page.content.decode()  # suggested: the same contact's other ticket
    self_merge = m.post(detail(duplicate) + "merge/", {"into": duplicate.number, "reason": "重复"})
    assert self_merge.status_code == 400 and "不能将工单合并到它自身" in self_merge.content.decode()
    missing = m.post(detail(duplicate) + "merge/", {"into": "ZX000", "reason": "重复"})
    assert missing.status_code == 400 and "没有找到工单号为 ZX000 的工单" in missing.content.decode()
    no_reason = m.post(detail(duplicate) + "merge/", {"into": first.number, "reason": ""})
    assert no_reason.status_code == 400 and "请填写合并理由" in no_reason.content.decode()
    merged = m.post(detail(duplicate) + "merge/", {"into": first.number, "reason": "重复咨询"})
    assert merged.status_code == 302 and merged["Location"] == detail(first)
    duplicate.refresh_from_db()
    assert duplicate.state == TicketState.MERGED and duplicate.merged_into == first
    target_page = m.get(detail(first)).content.decode()
    assert "同一问题又问了一次" in target_page  # the merged conversation is shown on the target
    assert 'data-testid="merged-banner"' in m.get(detail(duplicate)).content.decode()

    bad = m.post(detail(first) + "assign/", {"assignee": 999999})
    assert bad.status_code == 400 and "该人员不能处理本机关的工单" in bad.content.decode()
    assert m.post(detail(first) + "assign/", {"assignee": agent.pk}).status_code == 302
    first.refresh_from_db()
    assert first.assignee == agent


def test_attachments_download_and_quarantine(client_for, agent, outsider, authority):
    ticket = open_ticket(
        authority,
        attachments=[
            IncomingAttachment("营业执照.png", "image/png", PNG),
            IncomingAttachment("假图片.png", "image/png", b"this is not a png at all"),
        ],
    )
    good, bad = ticket.messages.get().attachments.order_by("id")
    assert not good.quarantined and bad.quarantined
    c = client_for(agent)
    html = c.get(detail(ticket)).content.decode()
    assert f"/consultation/tickets/attachments/{good.pk}/" in html
    assert f"/consultation/tickets/attachments/{bad.pk}/" not in html
    assert 'data-testid="attachment-blocked"' in html
    download = c.get(f"/consultation/tickets/attachments/{good.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "application/octet-stream"
    assert "attachment" in download["Content-Disposition"]
    assert c.get(f"/consultation/tickets/attachments/{bad.pk}/").status_code == 403
    assert client_for(outsider).get(f"/consultation/tickets/attachments/{good.pk}/").status_code == 404
    assert c.get("/consultation/tickets/attachments/999999/").status_code == 404


def test_contact_is_masked_and_revealed_with_access_log(client_for, agent, manager, authority):
    # 张三, 13812345678; e-mail: a web-chat or WeChat contact's name is generated, not personal data.
    ticket = open_ticket(authority, channel=TicketChannel.EMAIL, external_id="zs@example.cn")
    a = client_for(agent)
    html = a.get(detail(ticket)).content.decode()
    assert "13812345678" not in html and "138****5678" in html and "张*" in html
    assert a.post(detail(ticket) + "contact/").status_code == 403
    revealed = client_for(manager).post(detail(ticket) + "contact/")
    assert revealed.status_code == 200 and "13812345678" in revealed.content.decode()
    log = AccessLog.objects.get(object_type="consultation.Contact")
    assert log.user == manager and log.object_label == ticket.number


# --- a ticket opened by hand -------------------------------------------------------------------------------


def test_agent_opens_a_complaint_by_hand(client_for, agent, authority):
    c = client_for(agent)
    assert c.get("/consultation/tickets/new/?kind=complaint").context["form"].initial == {"kind": "complaint"}
    data = {
        "kind": "complaint",
        "channel": "window",
        "priority": "high",
        "contact_name": "王五",
        "contact_phone": "",
        "contact_email": "",
        "subject": "窗口排队时间过长",
        "body": "今天上午在三号窗口排队两个小时。",
    }
    missing = c.post("/consultation/tickets/new/", data)
    assert missing.status_code == 400 and "请至少填写联系电话或电子邮箱" in missing.content.decode()
    bad_phone = c.post("/consultation/tickets/new/", {**data, "contact_phone": "abc"})
    assert bad_phone.status_code == 400 and "请输入有效的电话号码" in bad_phone.content.decode()
    bad_kind = c.post("/consultation/tickets/new/", {**data, "contact_phone": "13900001111", "kind": "x"})
    assert bad_kind.status_code == 400
    assert not Ticket.objects.exists()
    ok = c.post("/consultation/tickets/new/", {**data, "contact_phone": "13900001111"})
    assert ok.status_code == 302
    ticket = Ticket.objects.get()
    assert ok["Location"] == detail(ticket)
    assert (ticket.kind, ticket.channel, ticket.priority) == ("complaint", "window", "high")
    assert ticket.contact.phone == "13900001111" and ticket.contact.display_name == "王五"
    assert ticket.transitions.get().actor == agent


# --- list, export, complaints --------------------------------------------------------------------------


def test_list_filters_pagination_and_bad_filters(client_for, agent, authority, monkeypatch):
    for n in range(3):
        open_ticket(authority, external_id=f"p{n}", subject=f"设立登记咨询{n}")
    complaint = open_ticket(authority, external_id="c", kind=TicketKind.COMPLAINT, subject="投诉服务态度")
    c = client_for(agent)
    assert c.get("/consultation/tickets/all/", {"kind": "complaint"}).context["page"].paginator.count == 1
    found = c.get("/consultation/tickets/all/", {"q": complaint.number})
    assert [t.number for t in found.context["rows"]] == [complaint.number]
    bad = c.get("/consultation/tickets/all/", {"state": "bogus", "date_from": "2025-13-45"})
    assert bad.status_code == 200 and "以下筛选条件无效" in bad.content.decode()
    assert bad.context["page"].paginator.count == 4
    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)
    second = c.get("/consultation/tickets/all/", {"page": 2})
    assert len(second.context["rows"]) == 1 and "第 2 / 2 页" in second.content.decode()
    partial = c.get("/consultation/tickets/all/", {"kind": "complaint"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()


def test_export_is_filtered_and_masked(client_for, agent, authority):
    email = TicketChannel.EMAIL
    open_ticket(authority, external_id="e1", channel=email, subject='=HYPERLINK("http://x")')
    open_ticket(authority, external_id="e2", channel=email, kind=TicketKind.COMPLAINT, subject="投诉")
    c = client_for(agent)
    response = c.get("/consultation/tickets/export/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "工单号" and len(rows) == 3
    flat = " ".join(str(v) for row in rows for v in row if v is not None)
    assert "13812345678" not in flat and "张三" not in flat
    assert "138****5678" in flat and "张*" in flat
    assert any(str(row[5]).startswith("'=HYPERLINK") for row in rows[1:])
    only = c.get("/consultation/tickets/export/", {"kind": "complaint"})
    only_rows = list(load_workbook(io.BytesIO(b"".join(only.streaming_content))).active.values)
    assert len(only_rows) == 2 and only_rows[1][1] == "投诉"


def test_complaints_list_shows_deadline_and_escalation(client_for, manager, authority):
    complaint = open_ticket(authority, external_id="c1", kind=TicketKind.COMPLAINT)
    open_ticket(authority, external_id="q1")
    Ticket.objects.filter(pk=complaint.pk).update(escalation_level=1)
    page = client_for(manager).get("/consultation/tickets/complaints/")
    assert page.status_code == 200
    assert [t.number for t in page.context["rows"]] == [complaint.number]
    html = page.content.decode()
    assert 'data-testid="escalated"' in html and "1 级" in html
    assert 'data-testid="escalated-count"' in html
    assert "/consultation/tickets/export/?kind=complaint" in html
    detail_html = client_for(manager).get(detail(complaint)).content.decode()
    assert 'data-testid="escalation-banner"' in detail_html
