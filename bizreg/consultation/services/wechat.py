"""The WeChat official account (微信公众号) channel, plaintext mode.

Inbound: WeChat GETs the endpoint once to check it (signature over the sorted token, timestamp and nonce,
SHA-1; we echo `echostr`), then POSTs every message as XML with the same signature in the query string.
We must answer within 5 s, else WeChat retries the same MsgId up to 3 times. A text message goes to the
answering engine; a confident answer is sent back as the passive reply (XML, To/From swapped). Otherwise
we answer `success` (nothing is shown to the user) and open a ticket; the agent's answer goes later
through the customer-service message API. A replayed MsgId gives the same reply and never a second
ticket. Every delivery, valid or not, is kept in InboundWebhookEvent.

Outbound: POST {api_base}/cgi-bin/message/custom/send?access_token=… with
{"touser": openid, "msgtype": "text", "text": {"content": …}}; the access_token comes from
GET {api_base}/cgi-bin/token?grant_type=client_credential&appid=…&secret=… and is cached in the shared
cache until shortly before it expires.

Settings: CONSULTATION_WECHAT = {authority_code: {"token": …, "app_id": …, "app_secret": …,
"api_base": "https://api.weixin.qq.com" (optional)}}.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from bizreg.consultation.models import InboundWebhookEvent, TicketChannel, TicketMessage

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
# WeChat waits 5 s for the passive reply; past this budget we answer `success` and reply later.
REPLY_BUDGET_SECONDS = 4.0
# The passive reply and a customer-service text message hold at most 2,048 bytes of content.
MAX_CONTENT_BYTES = 2000
SUBSCRIBE_TEXT = "感谢关注！请直接发送您要咨询的商事登记问题，例如“个体工商户设立需要哪些材料”。"
NON_TEXT_TEXT = "已收到您的消息，工作人员会尽快答复。文字提问可获得即时答复。"
HTTP_TIMEOUT_SECONDS = 10


class WeChatError(Exception):
    """The customer-service API refused or could not be reached (the message says why)."""


@dataclass(frozen=True)
class WeChatConfig:
    authority_code: str
    token: str
    app_id: str
    app_secret: str
    api_base: str


def wechat_config(authority_code: str) -> WeChatConfig | None:
    entry = (getattr(settings, "CONSULTATION_WECHAT", {}) or {}).get(authority_code)
    if not entry or not entry.get("token"):
        return None
    return WeChatConfig(
        authority_code=authority_code,
        token=entry["token"],
        app_id=entry.get("app_id", ""),
        app_secret=entry.get("app_secret", ""),
        api_base=(entry.get("api_base") or DEFAULT_API_BASE).rstrip("/"),
    )


def signature_for(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def check_signature(*, token: str, signature: str, timestamp: str, nonce: str) -> bool:
    if not (signature and timestamp and nonce):
        return False
    return hmac.compare_digest(signature_for(token, timestamp, nonce), signature.lower())


class BadWeChatMessage(ValueError):
    pass


def parse_message(payload: bytes) -> dict[str, str]:
    """The message's fields by tag name. No DTD, no entities (defusedxml refuses them)."""
    try:
        root = SafeElementTree.fromstring(payload, forbid_dtd=True)
    except (SafeElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise BadWeChatMessage(f"XML 无法解析：{exc.__class__.__name__}") from None
    if root.tag != "xml":
        raise BadWeChatMessage("根元素不是 <xml>")
    fields = {child.tag: (child.text or "") for child in root}
    for required in ("ToUserName", "FromUserName", "MsgType"):
        if not fields.get(required):
            raise BadWeChatMessage(f"缺少 {required}")
    return fields


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _fit(text: str, limit: int = MAX_CONTENT_BYTES) -> str:
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[: limit - 3].decode(errors="ignore")
    return cut + "…"


def passive_text_reply(*, to_user: str, from_user: str, content: str, now: int | None = None) -> str:
    """The passive reply XML: To/From swapped relative to the incoming message."""
    return (
        "<xml>"
        f"<ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(now if now is not None else time.time())}</CreateTime>"
        f"<MsgType>{_cdata('text')}</MsgType>"
        f"<Content>{_cdata(_fit(content))}</Content>"
        "</xml>"
    )


def record_event(
    *, authority, payload: bytes | str, signature_valid: bool, event_id: str = "", outcome: str = ""
):
    text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
    return InboundWebhookEvent.objects.create(
        authority=authority,
        channel=TicketChannel.WECHAT,
        event_id=event_id[:300],
        signature_valid=signature_valid,
        payload=text[:200_000],
        outcome=outcome[:200],
    )


def _already_received(authority, msg_id: str, exclude_id: int) -> bool:
    return (
        InboundWebhookEvent.objects.filter(
            authority=authority, channel=TicketChannel.WECHAT, event_id=msg_id, signature_valid=True
        )
        .exclude(pk=exclude_id)
        .exists()
    )


def handle_message(*, authority, payload: bytes) -> str:
    """Process one signed POST; return the response body (passive reply XML or `success`)."""
    from bizreg.consultation.services import chat
    from bizreg.consultation.services.tickets import contact_for

    started = time.monotonic()
    try:
        fields = parse_message(payload)
    except BadWeChatMessage as exc:
        record_event(authority=authority, payload=payload, signature_valid=True, outcome=str(exc))
        raise
    msg_id = fields.get("MsgId", "") or ""
    if not msg_id and fields.get("MsgType") == "event":
        # Events carry no MsgId; WeChat's documented dedupe key for them is FromUserName + CreateTime.
        msg_id = f"event:{fields['FromUserName']}:{fields.get('CreateTime', '')}"
    event = record_event(authority=authority, payload=payload, signature_valid=True, event_id=msg_id)
    openid, account = fields["FromUserName"], fields["ToUserName"]

    def reply(text: str) -> str:
        return passive_text_reply(to_user=openid, from_user=account, content=text)

    msg_type = fields["MsgType"]
    if msg_type == "event":
        if fields.get("Event", "").lower() == "subscribe":
            _outcome(event, "关注事件，已回复欢迎语")
            return reply(SUBSCRIBE_TEXT)
        _outcome(event, f"事件 {fields.get('Event', '')}，无需处理")
        return "success"

    replay = bool(msg_id) and _already_received(authority, msg_id, event.pk)
    contact = contact_for(
        authority=authority, channel=TicketChannel.WECHAT, external_id=openid, display_name="微信用户"
    )
    if replay:
        existing = (
            TicketMessage.objects.filter(
                authority=authority, channel=TicketChannel.WECHAT, channel_message_id=msg_id
            )
            .select_related("ticket")
            .first()
        )
        if existing is not None:
            # The question is already in a ticket: either an agent answers later, or the automatic
            # answer stored with it is the reply WeChat did not receive in time.
            automatic = (
                existing.ticket.messages.filter(
                    direction=TicketMessage.Direction.OUTBOUND, is_automatic=True, id__gt=existing.id
                )
                .order_by("id")
                .first()
            )
            _outcome(
                event, f"重复消息（MsgId 已处理），工单 {existing.ticket.number}", ticket=existing.ticket
            )
            return reply(automatic.body) if automatic is not None else "success"
        if msg_type == "text":
            answer = chat.ask_engine(
                authority_id=authority.id,
                question=fields.get("Content", ""),
                channel=TicketChannel.WECHAT,
                ticket=None,
                log=False,
            )
            if answer is not None and answer.confident:
                _outcome(event, "重复消息（MsgId 已处理），重发同一答复")
                return reply(answer.text)
        _outcome(event, "重复消息（MsgId 已处理）")
        return "success"

    if msg_type != "text":
        description = _describe_non_text(fields)
        turn = chat.handle_question(
            authority=authority,
            contact=contact,
            question=description,
            channel_message_id=msg_id,
            received_at=_create_time(fields),
        )
        _outcome(
            event, f"非文字消息，转人工，工单 {turn.ticket.number if turn.ticket else ''}", ticket=turn.ticket
        )
        return reply(NON_TEXT_TEXT)

    turn = chat.handle_question(
        authority=authority,
        contact=contact,
        question=fields.get("Content", ""),
        channel_message_id=msg_id,
        received_at=_create_time(fields),
        reply_deadline=started + REPLY_BUDGET_SECONDS,
    )
    if turn.confident and turn.reply_in_response:
        _outcome(event, f"智能应答（{turn.citation.code if turn.citation else ''}）", ticket=turn.ticket)
        return reply(turn.text)
    if turn.confident:
        # Too late for the passive reply: the stored answer goes through the customer-service API.
        _outcome(event, "答复超时，改由客服消息接口发送", ticket=turn.ticket)
        return "success"
    if not turn.handed_over:
        _outcome(event, "空消息或寒暄，已直接回复", ticket=turn.ticket)
        return reply(turn.text)
    _outcome(event, f"转人工，工单 {turn.ticket.number if turn.ticket else ''}", ticket=turn.ticket)
    return "success"


def _outcome(event: InboundWebhookEvent, text: str, ticket=None) -> None:
    event.outcome = text[:200]
    event.ticket = ticket
    event.save(update_fields=["outcome", "ticket"])


def _create_time(fields: dict[str, str]) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(fields.get("CreateTime", "")), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _describe_non_text(fields: dict[str, str]) -> str:
    kind = fields.get("MsgType", "")
    labels = {
        "image": "图片",
        "voice": "语音",
        "video": "视频",
        "shortvideo": "小视频",
        "location": "位置",
        "link": "链接",
    }
    parts = [f"[{labels.get(kind, kind)}消息]"]
    if fields.get("Recognition"):
        parts.append(f"语音识别：{fields['Recognition']}")
    if fields.get("Title"):
        parts.append(fields["Title"])
    if fields.get("Url"):
        parts.append(fields["Url"])
    if fields.get("Label"):
        parts.append(fields["Label"])
    if fields.get("MediaId"):
        parts.append(f"MediaId：{fields['MediaId']}")
    return " ".join(parts)


# --- outbound: the customer-service message API -----------------------------------------------------


def _http_json(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise WeChatError(f"微信接口 HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise WeChatError(f"无法连接微信接口：{exc}") from exc
    except ValueError as exc:
        raise WeChatError("微信接口返回的不是 JSON") from exc


def _token_cache_key(config: WeChatConfig) -> str:
    return f"consultation:wechat:token:{config.app_id}"


def access_token(config: WeChatConfig, *, refresh: bool = False) -> str:
    key = _token_cache_key(config)
    if not refresh:
        cached = cache.get(key)
        if cached:
            return cached
    query = urllib.parse.urlencode(
        {"grant_type": "client_credential", "appid": config.app_id, "secret": config.app_secret}
    )
    result = _http_json(f"{config.api_base}/cgi-bin/token?{query}")
    token = result.get("access_token")
    if not token:
        raise WeChatError(
            f"获取 access_token 失败：{result.get('errcode')} {result.get('errmsg', '')}".strip()
        )
    expires_in = int(result.get("expires_in") or 7200)
    cache.set(key, token, timeout=max(60, expires_in - 300))
    return token


# 40001 invalid credential, 40014 invalid token, 42001 token expired: fetch a new token once and retry.
_TOKEN_ERRORS = {40001, 40014, 42001}


def send_text(*, authority_code: str, openid: str, content: str) -> None:
    """Send one text message through the customer-service API; raise WeChatError on any refusal."""
    config = wechat_config(authority_code)
    if config is None or not config.app_id:
        raise WeChatError(f"未配置登记机关 {authority_code} 的微信公众号（CONSULTATION_WECHAT）")
    body = {"touser": openid, "msgtype": "text", "text": {"content": _fit(content)}}
    for attempt in range(2):
        token = access_token(config, refresh=attempt > 0)
        result = _http_json(
            f"{config.api_base}/cgi-bin/message/custom/send?access_token={urllib.parse.quote(token)}", body
        )
        errcode = int(result.get("errcode") or 0)
        if errcode == 0:
            return
        if errcode in _TOKEN_ERRORS and attempt == 0:
            cache.delete(_token_cache_key(config))
            continue
        hint = "（用户 48 小时内未与公众号互动，无法主动发送）" if errcode == 45015 else ""
        raise WeChatError(f"微信接口拒绝：{errcode} {result.get('errmsg', '')}{hint}")


def now_timestamp() -> int:
    return int(timezone.now().timestamp())
