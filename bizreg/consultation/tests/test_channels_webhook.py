"""The generic signed webhook (QQ and other bridges): HMAC signature, 5-minute window, message_id
de-duplication, attachments, and the signed callback that carries an agent's reply back."""

from __future__ import annotations

import base64
import json
import time

import pytest
from django.test import Client
from django.urls import reverse

from bizreg.consultation.models import (
    InboundWebhookEvent,
    Ticket,
    TicketAttachment,
    TicketChannel,
    TicketMessage,
)
from bizreg.consultation.services import delivery, webhook
from bizreg.consultation.services.tickets import ticket_reply
from bizreg.consultation.tests.channel_servers import bridge
from bizreg.consultation.tests.engine_kb import build_kb

SECRET = "qq-bridge-shared-secret"
UNKNOWN = "跨境电商试点外汇备案在哪个窗口办理？"
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def kb(authority, make_user):
    return build_kb(authority, make_user("manager"))


@pytest.fixture(autouse=True)
def _webhook_settings(settings, authority, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CONSULTATION_WEBHOOKS = {
        authority.code: {
            "qq": {"secret": SECRET, "reply_url": "http://127.0.0.1:9/unused"},
            "dingtalk": {"secret": "other-secret"},
        }
    }


def payload(text=UNKNOWN, message_id="qq-msg-1", **extra) -> dict:
    return {
        "message_id": message_id,
        "conversation_id": "group-42",
        "sender": {"id": "10001", "name": "王先生"},
        "text": text,
        **extra,
    }


def send(authority, body, *, secret=SECRET, timestamp=None, channel="qq", signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "HTTP_X_BIZREG_TIMESTAMP": ts,
        "HTTP_X_BIZREG_SIGNATURE": signature if signature is not None else webhook.sign(secret, ts, raw),
    }
    path = reverse("consult_hooks:webhook", kwargs={"channel": channel, "authority_code": authority.code})
    return Client().post(path, raw, content_type="application/json", **headers)


def test_an_unknown_question_opens_a_qq_ticket(authority, kb):
    response = send(authority, payload())
    assert response.status_code == 200
    data = response.json()
    ticket = Ticket.objects.get()
    assert data == {"status": "handed_over", "ticket": ticket.number, "reply": None}
    assert ticket.channel == TicketChannel.QQ and ticket.thread_key == "qq:group-42"
    assert ticket.contact.external_id == "qq:10001" and ticket.contact.display_name == "王先生"
    assert ticket.messages.get().channel_message_id == "qq:qq-msg-1"


def test_a_known_question_is_answered_in_the_response(authority, kb):
    data = send(authority, payload("营业执照丢了怎么补办")).json()
    assert data["status"] == "answered" and data["ticket"] is None
    assert "KB-0002" in data["reply"]["text"] and data["reply"]["citation"]["code"] == "KB-0002"


def test_the_same_message_id_twice_gives_one_ticket(authority, kb):
    send(authority, payload())
    again = send(authority, payload())
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate" and again.json()["ticket"] == Ticket.objects.get().number
    assert TicketMessage.objects.count() == 1


def test_the_next_message_of_the_conversation_joins_its_ticket(authority, kb):
    send(authority, payload())
    send(authority, payload("还需要带公章吗？", message_id="qq-msg-2"))
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"secret": "wrong"}, "签名不正确"),
        ({"signature": ""}, "缺少签名"),
        # Offsets from the moment the test runs (a time taken at collection drifts on a long suite run).
        ({"timestamp_offset": -301}, "超过 5 分钟"),
        ({"timestamp_offset": 400}, "超过 5 分钟"),
        ({"timestamp": "yesterday"}, "时间戳格式错误"),
    ],
)
def test_bad_signatures_and_stale_timestamps_are_403_and_open_nothing(authority, kb, kwargs, reason):
    kwargs = dict(kwargs)
    if "timestamp_offset" in kwargs:
        kwargs["timestamp"] = int(time.time()) + kwargs.pop("timestamp_offset")
    response = send(authority, payload(), **kwargs)
    assert response.status_code == 403 and reason in response.json()["error"]
    assert not Ticket.objects.exists()
    assert InboundWebhookEvent.objects.get().signature_valid is False


def test_a_captured_request_replayed_later_is_refused(authority, kb):
    raw = json.dumps(payload()).encode()
    old = str(int(time.time()) - 600)
    response = send(authority, raw, timestamp=old, signature=webhook.sign(SECRET, old, raw))
    assert response.status_code == 403 and not Ticket.objects.exists()


def test_a_signature_of_another_channel_does_not_open_this_one(authority, kb):
    assert send(authority, payload(), secret="other-secret").status_code == 403


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "JSON"),
        (b"[1, 2]", "JSON 对象"),
        (json.dumps({"message_id": "1", "text": "hi"}).encode(), "sender"),
        (json.dumps(payload(message_id="")).encode(), "message_id"),
        (json.dumps(payload(text="")).encode(), "不能都为空"),
        (json.dumps(payload(attachments=[{"name": "a.pdf", "data_base64": "%%%"}])).encode(), "Base64"),
        (json.dumps(payload(attachments="a.pdf")).encode(), "数组"),
        (json.dumps(payload(text={"x": 1})).encode(), "字符串"),
    ],
)
def test_malformed_payloads_are_400_with_the_reason(authority, kb, body, reason):
    response = send(authority, body)
    assert response.status_code == 400 and reason in response.json()["error"]
    assert not Ticket.objects.exists()


def test_unconfigured_channel_or_authority_is_404(authority, other_authority, kb):
    assert send(authority, payload(), channel="wechat").status_code == 404
    assert send(other_authority, payload()).status_code == 404
    assert send(authority, payload(), channel="QQ_Upper").status_code == 404


def test_attachments_follow_the_attachment_rules(authority, kb):
    files = [
        {
            "name": "执照.pdf",
            "content_type": "application/pdf",
            "data_base64": base64.b64encode(PDF).decode(),
        },
        {
            "name": "工具.exe",
            "content_type": "application/octet-stream",
            "data_base64": base64.b64encode(b"MZ").decode(),
        },
    ]
    send(authority, payload(attachments=files))
    rows = TicketAttachment.objects.order_by("id")
    assert [(row.file_name, row.quarantined) for row in rows] == [("执照.pdf", False), ("工具.exe", True)]
    assert "附件未接收" in TicketMessage.objects.get().body


def test_other_bridges_file_under_the_generic_channel(authority, kb):
    raw = json.dumps(payload()).encode()
    ts = str(int(time.time()))
    send(authority, raw, channel="dingtalk", timestamp=ts, signature=webhook.sign("other-secret", ts, raw))
    ticket = Ticket.objects.get()
    assert ticket.channel == TicketChannel.WEBHOOK and ticket.contact.external_id == "dingtalk:10001"


def test_the_agent_reply_is_posted_signed_to_the_reply_url(authority, kb, role_users, settings):
    send(authority, payload())
    ticket = Ticket.objects.get()
    with bridge() as server:
        settings.CONSULTATION_WEBHOOKS[authority.code]["qq"]["reply_url"] = server.base_url + "/reply"
        message = ticket_reply(ticket=ticket, actor=role_users["hotline_agent"], body="请到三楼 12 号窗口。")
        assert message.delivery == TicketMessage.Delivery.PENDING
        assert delivery.deliver_message(message.pk) == "sent"
        [received] = server.requests
    headers = {key.lower(): value for key, value in received["headers"].items()}
    timestamp = headers["x-bizreg-timestamp"]
    assert headers["x-bizreg-signature"] == webhook.sign(SECRET, timestamp, received["body"])
    body = json.loads(received["body"])
    assert body["conversation_id"] == "group-42" and body["recipient"] == {"id": "10001"}
    assert body["text"] == "请到三楼 12 号窗口。" and body["ticket"] == ticket.number
    assert body["message_id"] == f"bizreg-{message.pk}"
    message.refresh_from_db()
    assert message.delivery == TicketMessage.Delivery.SENT


def test_a_bridge_error_marks_the_reply_failed(authority, kb, role_users, settings):
    send(authority, payload())
    ticket = Ticket.objects.get()
    with bridge() as server:
        server.responses.append((502, {}))
        settings.CONSULTATION_WEBHOOKS[authority.code]["qq"]["reply_url"] = server.base_url + "/reply"
        message = ticket_reply(ticket=ticket, actor=role_users["hotline_agent"], body="答复")
        with pytest.raises(delivery.DeliveryError):
            delivery.deliver_message(message.pk)
    message.refresh_from_db()
    assert message.delivery == TicketMessage.Delivery.FAILED and "502" in message.delivery_error


def test_only_post(authority):
    path = reverse("consult_hooks:webhook", kwargs={"channel": "qq", "authority_code": authority.code})
    assert Client().get(path).status_code == 405
