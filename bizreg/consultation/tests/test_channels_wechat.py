"""The WeChat official account endpoint: server check, signed XML messages, passive replies, MsgId
de-duplication, hand-over to a ticket, and the agent's answer through the customer-service API."""

from __future__ import annotations

import time

import pytest
from defusedxml import ElementTree
from django.test import Client
from django.urls import reverse

from bizreg.consultation.models import InboundWebhookEvent, Ticket, TicketChannel, TicketMessage
from bizreg.consultation.services import delivery, wechat
from bizreg.consultation.services.tickets import ticket_reply
from bizreg.consultation.tests.channel_servers import wechat_api
from bizreg.consultation.tests.engine_kb import build_kb

TOKEN = "bizreg-wechat-token"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
ACCOUNT = "gh_nansha_reg"
UNKNOWN = "我想咨询跨境电商试点外汇备案在哪个窗口办理"


@pytest.fixture
def kb(authority, make_user):
    return build_kb(authority, make_user("manager"))


@pytest.fixture(autouse=True)
def _wechat_settings(settings, authority):
    settings.CONSULTATION_WECHAT = {
        authority.code: {"token": TOKEN, "app_id": "wx1234567890", "app_secret": "app-secret"}
    }


def url(authority, **query) -> str:
    base = reverse("consult_hooks:wechat", kwargs={"authority_code": authority.code})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def signed_query(token: str = TOKEN) -> dict:
    timestamp, nonce = str(int(time.time())), "1514280042"
    return {
        "signature": wechat.signature_for(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }


def text_message(content: str, msg_id: str = "23456789012345678", openid: str = OPENID) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def post(authority, payload: bytes, query: dict | None = None):
    return Client().post(url(authority, **(query or signed_query())), payload, content_type="text/xml")


def test_server_check_echoes_echostr_only_with_a_good_signature(authority):
    good = Client().get(url(authority, **signed_query(), echostr="7012345678"))
    assert good.status_code == 200 and good.content == b"7012345678"
    bad = Client().get(url(authority, **signed_query("wrong-token"), echostr="7012345678"))
    assert bad.status_code == 403
    missing = Client().get(url(authority, echostr="1"))
    assert missing.status_code == 403


def test_a_bad_signature_is_403_and_opens_no_ticket(authority, kb):
    response = post(authority, text_message(UNKNOWN), signed_query("wrong-token"))
    assert response.status_code == 403
    assert not Ticket.objects.exists()
    event = InboundWebhookEvent.objects.get()
    assert event.signature_valid is False and event.outcome == "签名校验失败"


def test_a_known_question_gets_a_passive_xml_reply(authority, kb):
    started = time.monotonic()
    response = post(authority, text_message("个体工商户怎么办理营业执照"))
    assert time.monotonic() - started < 5
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    reply = ElementTree.fromstring(response.content)
    assert reply.findtext("ToUserName") == OPENID and reply.findtext("FromUserName") == ACCOUNT
    assert reply.findtext("MsgType") == "text"
    assert abs(int(reply.findtext("CreateTime")) - time.time()) < 10
    assert "一网通办" in reply.findtext("Content") and "KB-0001" in reply.findtext("Content")
    assert not Ticket.objects.exists()
    assert InboundWebhookEvent.objects.get().outcome.startswith("智能应答")


def test_an_unknown_question_answers_success_and_opens_a_ticket(authority, kb):
    response = post(authority, text_message(UNKNOWN))
    assert response.status_code == 200 and response.content == b"success"
    ticket = Ticket.objects.get()
    assert ticket.channel == TicketChannel.WECHAT and ticket.contact.external_id == OPENID
    message = ticket.messages.get()
    assert message.body == UNKNOWN and message.channel_message_id == "23456789012345678"


def test_a_replayed_msgid_gives_one_ticket(authority, kb):
    for _ in range(4):  # WeChat's first try and its three retries
        assert post(authority, text_message(UNKNOWN)).content == b"success"
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1
    assert InboundWebhookEvent.objects.filter(outcome__startswith="重复消息").count() == 3


def test_a_replayed_msgid_of_an_answered_question_gets_the_same_reply(authority, kb):
    first = post(authority, text_message("营业执照丢了怎么补办", msg_id="555")).content
    again = post(authority, text_message("营业执照丢了怎么补办", msg_id="555")).content
    content = ElementTree.fromstring(first).findtext("Content")
    assert ElementTree.fromstring(again).findtext("Content") == content and "KB-0002" in content
    assert not Ticket.objects.exists()
    from bizreg.consultation.models import AnswerLog

    assert AnswerLog.objects.count() == 1  # the replay is not counted as a second question


def test_an_entity_or_dtd_payload_is_refused(authority, kb):
    payload = (
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType>"
        b"<Content>&xxe;</Content><MsgId>1</MsgId></xml>"
    )
    response = post(authority, payload)
    assert response.status_code == 400
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("payload", [b"not xml at all", b"<xml><MsgType>text</MsgType></xml>", b""])
def test_malformed_messages_are_400(authority, kb, payload):
    assert post(authority, payload).status_code == 400
    assert not Ticket.objects.exists()


def test_script_in_a_message_is_kept_as_text(authority, kb):
    post(authority, text_message("<script>alert(1)</script>外汇备案在哪里办"))
    assert Ticket.objects.get().messages.get().body == "<script>alert(1)</script>外汇备案在哪里办"


def test_an_empty_message_gets_a_clear_reply(authority, kb):
    reply = ElementTree.fromstring(post(authority, text_message("  ")).content)
    assert "请输入您要咨询的问题" in reply.findtext("Content")
    assert not Ticket.objects.exists()


def test_a_5000_character_message_gets_an_answer_without_error(authority, kb):
    response = post(authority, text_message("营业执照" * 1250))
    assert response.status_code == 200


def test_subscribe_gets_a_welcome(authority, kb):
    payload = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[subscribe]]></Event></xml>"
    ).encode()
    reply = ElementTree.fromstring(post(authority, payload).content)
    assert "感谢关注" in reply.findtext("Content")


def test_an_image_opens_a_ticket(authority, kb):
    payload = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        "<PicUrl><![CDATA[http://mmbiz.example/pic]]></PicUrl><MediaId><![CDATA[media_1]]></MediaId>"
        "<MsgId>777</MsgId></xml>"
    ).encode()
    reply = ElementTree.fromstring(post(authority, payload).content)
    assert "工作人员会尽快答复" in reply.findtext("Content")
    assert Ticket.objects.get().messages.get().body.startswith("[图片消息]")


def test_unconfigured_or_unknown_authority_is_404(authority, other_authority):
    assert Client().get(url(other_authority, **signed_query(), echostr="1")).status_code == 404
    unknown = reverse("consult_hooks:wechat", kwargs={"authority_code": "999999"})
    assert Client().get(unknown).status_code == 404


def test_the_passive_reply_escapes_cdata_end():
    xml = wechat.passive_text_reply(to_user="u", from_user="a", content="a]]>b<c>", now=1)
    assert ElementTree.fromstring(xml).findtext("Content") == "a]]>b<c>"


# --- the agent's answer, later, through the customer-service API ----------------------------------


@pytest.fixture
def api(settings, authority):
    with wechat_api() as server:
        settings.CONSULTATION_WECHAT[authority.code]["api_base"] = server.base_url
        yield server


@pytest.fixture
def handed_over(authority, kb):
    post(authority, text_message(UNKNOWN))
    return Ticket.objects.get()


def test_an_agent_reply_goes_through_the_customer_service_api(api, handed_over, role_users):
    message = ticket_reply(
        ticket=handed_over, actor=role_users["hotline_agent"], body="请到三楼 12 号窗口办理。"
    )
    assert message.delivery == TicketMessage.Delivery.PENDING
    assert delivery.deliver_message(message.pk) == "sent"
    token_request, send = api.requests
    assert token_request["path"] == "/cgi-bin/token"
    assert token_request["query"] == {
        "grant_type": "client_credential",
        "appid": "wx1234567890",
        "secret": "app-secret",
    }
    assert (
        send["path"] == "/cgi-bin/message/custom/send" and send["query"]["access_token"] == "ACCESS_TOKEN_1"
    )
    assert send["json"] == {
        "touser": OPENID,
        "msgtype": "text",
        "text": {"content": "请到三楼 12 号窗口办理。"},
    }
    message.refresh_from_db()
    assert message.delivery == TicketMessage.Delivery.SENT
    assert delivery.deliver_message(message.pk) == "already sent"  # a retried task sends nothing twice
    assert len(api.requests) == 2


def test_an_expired_token_is_fetched_again_once(api, handed_over, role_users):
    ticket_reply(ticket=handed_over, actor=role_users["hotline_agent"], body="第一条")
    first = handed_over.messages.filter(direction="outbound").get()
    delivery.deliver_message(first.pk)
    api.responses.append((200, {"errcode": 42001, "errmsg": "access_token expired"}))
    second = ticket_reply(ticket=handed_over, actor=role_users["hotline_agent"], body="第二条")
    assert delivery.deliver_message(second.pk) == "sent"
    assert api.token_calls == 2


def test_a_refusal_marks_the_message_failed_for_a_retry(api, handed_over, role_users):
    api.responses.append((200, {"errcode": 45015, "errmsg": "response out of time limit"}))
    message = ticket_reply(ticket=handed_over, actor=role_users["hotline_agent"], body="答复")
    with pytest.raises(delivery.DeliveryError):
        delivery.deliver_message(message.pk)
    message.refresh_from_db()
    assert message.delivery == TicketMessage.Delivery.FAILED
    assert "45015" in message.delivery_error and "48 小时" in message.delivery_error


def test_an_unreachable_api_marks_the_message_failed(settings, authority, handed_over, role_users):
    settings.CONSULTATION_WECHAT[authority.code]["api_base"] = "http://127.0.0.1:9"
    message = ticket_reply(ticket=handed_over, actor=role_users["hotline_agent"], body="答复")
    with pytest.raises(delivery.DeliveryError):
        delivery.deliver_message(message.pk)
    message.refresh_from_db()
    assert message.delivery == TicketMessage.Delivery.FAILED and "无法连接微信接口" in message.delivery_error
