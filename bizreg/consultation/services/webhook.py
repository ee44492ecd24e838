"""The generic signed webhook: QQ and any other messaging channel a bridge forwards.

The format is documented for bridge authors in docs/consultation-channels.md.

Inbound: POST /hooks/webhook/<channel>/<authority code>/ with a JSON body and two headers,
`X-Bizreg-Timestamp` (Unix seconds) and `X-Bizreg-Signature` = "sha256=" + hex HMAC-SHA256 over
`timestamp + "." + raw body` with the channel's shared secret. A timestamp more than 5 minutes away from
our clock is refused (a captured request cannot be replayed later); a message_id seen before is answered
as a duplicate and never opens a second ticket.

Outbound (services.delivery): an agent's reply is POSTed as signed JSON, same headers, to the channel's
reply_url.

Settings: CONSULTATION_WEBHOOKS = {authority_code: {channel: {"secret": …, "reply_url": …}}}; the channel
"qq" files tickets under QQ, any other name under "其他渠道（接口）". Ids from the bridge are stored with the
channel name in front ("qq:12345"), so two bridges can never collide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from bizreg.consultation.models import InboundWebhookEvent, TicketChannel, TicketMessage, TicketState
from bizreg.consultation.services.attachments import IncomingAttachment, max_attachment_count

MAX_SKEW_SECONDS = 300
MAX_TEXT_CHARS = 20_000
HTTP_TIMEOUT_SECONDS = 10
TIMESTAMP_HEADER = "X-Bizreg-Timestamp"
SIGNATURE_HEADER = "X-Bizreg-Signature"
CHANNEL_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")


class WebhookRejected(Exception):
    """The request is refused; `status` is the HTTP status, the message says why (in Chinese)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class WebhookDeliveryError(Exception):
    pass


@dataclass(frozen=True)
class WebhookConfig:
    authority_code: str
    channel_name: str
    secret: str
    reply_url: str

    @property
    def ticket_channel(self) -> str:
        return TicketChannel.QQ if self.channel_name == "qq" else TicketChannel.WEBHOOK


def webhook_config(authority_code: str, channel_name: str) -> WebhookConfig | None:
    if not CHANNEL_NAME_RE.match(channel_name or ""):
        return None
    entry = ((getattr(settings, "CONSULTATION_WEBHOOKS", {}) or {}).get(authority_code) or {}).get(
        channel_name
    )
    if not entry or not entry.get("secret"):
        return None
    return WebhookConfig(
        authority_code=authority_code,
        channel_name=channel_name,
        secret=entry["secret"],
        reply_url=entry.get("reply_url", ""),
    )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(*, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None) -> None:
    """Raise WebhookRejected(403) unless the signature is right and the timestamp is within 5 minutes."""
    if not timestamp or not signature:
        raise WebhookRejected(403, f"缺少签名（{TIMESTAMP_HEADER}、{SIGNATURE_HEADER}）")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookRejected(403, "时间戳格式错误（应为 Unix 秒）") from None
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip().lower()):
        raise WebhookRejected(403, "签名不正确")
    if abs((now if now is not None else time.time()) - sent_at) > MAX_SKEW_SECONDS:
        raise WebhookRejected(403, "时间戳与服务器时间相差超过 5 分钟（可能是重放的请求）")


@dataclass
class InboundMessage:
    message_id: str
    conversation_id: str
    sender_id: str
    sender_name: str
    text: str
    attachments: list[IncomingAttachment]


def _string(payload: dict, key: str, *, required: bool, limit: int) -> str:
    value = payload.get(key, "")
    if value is None:
        value = ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise WebhookRejected(400, f"字段 {key} 应为字符串")
    value = value.strip()
    if required and not value:
        raise WebhookRejected(400, f"缺少字段 {key}")
    if len(value) > limit:
        raise WebhookRejected(400, f"字段 {key} 过长（最多 {limit} 个字符）")
    return value


def parse_payload(body: bytes) -> InboundMessage:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(400, "请求体不是 UTF-8 编码的 JSON") from None
    if not isinstance(payload, dict):
        raise WebhookRejected(400, "请求体应为 JSON 对象")
    sender = payload.get("sender")
    if not isinstance(sender, dict):
        raise WebhookRejected(400, "缺少字段 sender（对象，含 id、name）")
    raw_attachments = payload.get("attachments") or []
    if not isinstance(raw_attachments, list):
        raise WebhookRejected(400, "字段 attachments 应为数组")
    if len(raw_attachments) > max_attachment_count():
        raise WebhookRejected(400, f"附件数量超过上限（最多 {max_attachment_count()} 个）")
    attachments = []
    for index, item in enumerate(raw_attachments, start=1):
        if not isinstance(item, dict):
            raise WebhookRejected(400, f"第 {index} 个附件应为对象")
        try:
            data = base64.b64decode(item.get("data_base64") or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise WebhookRejected(400, f"第 {index} 个附件的 data_base64 不是有效的 Base64") from None
        attachments.append(
            IncomingAttachment(
                file_name=_string(item, "name", required=True, limit=255),
                content_type=_string(item, "content_type", required=False, limit=100),
                data=data,
            )
        )
    text = _string(payload, "text", required=False, limit=MAX_TEXT_CHARS)
    if not text and not attachments:
        raise WebhookRejected(400, "text 与 attachments 不能都为空")
    return InboundMessage(
        message_id=_string(payload, "message_id", required=True, limit=200),
        conversation_id=_string(payload, "conversation_id", required=False, limit=200),
        sender_id=_string(sender, "id", required=True, limit=150),
        sender_name=_string(sender, "name", required=False, limit=100),
        text=text,
        attachments=attachments,
    )


def _record(
    *, authority, config: WebhookConfig, body: bytes, valid: bool, event_id: str = "", outcome: str = ""
):
    return InboundWebhookEvent.objects.create(
        authority=authority,
        channel=config.ticket_channel,
        event_id=event_id[:300],
        signature_valid=valid,
        payload=body.decode("utf-8", errors="replace")[:200_000],
        outcome=outcome[:200],
    )


def record_rejected(*, authority, config: WebhookConfig, body: bytes, reason: str) -> None:
    _record(authority=authority, config=config, body=body, valid=False, outcome=reason)


def _citation_json(citation) -> dict | None:
    if citation is None:
        return None
    return {"code": citation.code, "title": citation.title, "url": citation.url}


def handle(*, authority, config: WebhookConfig, body: bytes, timestamp: str, signature: str) -> dict:
    """Verify and process one delivery; return the JSON response. Raises WebhookRejected."""
    from bizreg.consultation.services import chat
    from bizreg.consultation.services.tickets import contact_for

    try:
        verify(secret=config.secret, timestamp=timestamp, signature=signature, body=body)
    except WebhookRejected as exc:
        record_rejected(authority=authority, config=config, body=body, reason=str(exc))
        raise
    try:
        message = parse_payload(body)
    except WebhookRejected as exc:
        _record(authority=authority, config=config, body=body, valid=True, outcome=str(exc))
        raise
    prefix = f"{config.channel_name}:"
    event_id = prefix + message.message_id
    earlier = InboundWebhookEvent.objects.filter(
        authority=authority, channel=config.ticket_channel, event_id=event_id, signature_valid=True
    ).exists()
    event = _record(authority=authority, config=config, body=body, valid=True, event_id=event_id)
    if earlier:
        stored = (
            TicketMessage.objects.filter(
                authority=authority, channel=config.ticket_channel, channel_message_id=event_id
            )
            .select_related("ticket")
            .first()
        )
        event.outcome = "重复消息（message_id 已处理）"
        event.ticket = stored.ticket if stored else None
        event.save(update_fields=["outcome", "ticket"])
        return {"status": "duplicate", "ticket": stored.ticket.number if stored else None, "reply": None}

    contact = contact_for(
        authority=authority,
        channel=config.ticket_channel,
        external_id=prefix + message.sender_id,
        display_name=message.sender_name,
    )
    thread_key = prefix + (message.conversation_id or message.sender_id)
    ticket = (
        contact.tickets.filter(
            channel=config.ticket_channel, thread_key=thread_key, state__in=chat.CONVERSATION_STATES
        )
        .order_by("-opened_at", "-id")
        .first()
    )
    turn = chat.handle_question(
        authority=authority,
        contact=contact,
        question=message.text,
        channel_message_id=event_id,
        thread_key=thread_key,
        attachments=message.attachments,
        ticket=ticket,
        synchronous_reply=True,
    )
    event.ticket = turn.ticket
    if not turn.handed_over:
        event.outcome = f"智能应答（{turn.citation.code if turn.citation else '直接回复'}）"
        event.save(update_fields=["outcome", "ticket"])
        return {
            "status": "answered",
            "ticket": turn.ticket.number if turn.ticket else None,
            "reply": {"text": turn.text, "citation": _citation_json(turn.citation)},
        }
    event.outcome = f"转人工，工单 {turn.ticket.number if turn.ticket else ''}"
    event.save(update_fields=["outcome", "ticket"])
    return {"status": "handed_over", "ticket": turn.ticket.number if turn.ticket else None, "reply": None}


# --- outbound ------------------------------------------------------------------------------------------


def _strip_prefix(value: str, prefix: str) -> str:
    return value[len(prefix) :] if value.startswith(prefix) else value


def channel_name_of(message: TicketMessage) -> str:
    """The bridge a ticket came through: the prefix of its contact's id ("qq:12345" → "qq")."""
    return message.ticket.contact.external_id.partition(":")[0]


def send_reply(message: TicketMessage) -> None:
    """POST an agent's reply as signed JSON to the channel's reply_url (raise WebhookDeliveryError)."""
    ticket = message.ticket
    name = channel_name_of(message)
    config = webhook_config(ticket.authority.code, name)
    if config is None or not config.reply_url:
        raise WebhookDeliveryError(f"未配置渠道 {name} 的回复地址（CONSULTATION_WEBHOOKS.reply_url）")
    prefix = f"{name}:"
    payload = {
        "message_id": f"bizreg-{message.pk}",
        "conversation_id": _strip_prefix(ticket.thread_key, prefix),
        "recipient": {"id": _strip_prefix(ticket.contact.external_id, prefix)},
        "text": message.body,
        "ticket": ticket.number,
        "ticket_state": ticket.state if ticket.state != TicketState.MERGED else TicketState.OPEN,
        "sent_at": timezone.localtime(message.created_at).isoformat(),
    }
    body = json.dumps(payload, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(config.reply_url, data=body, method="POST")
    request.add_header("Content-Type", "application/json; charset=utf-8")
    request.add_header(TIMESTAMP_HEADER, timestamp)
    request.add_header(SIGNATURE_HEADER, sign(config.secret, timestamp, body))
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        raise WebhookDeliveryError(f"回复地址返回 HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise WebhookDeliveryError(f"无法连接回复地址：{exc}") from exc
