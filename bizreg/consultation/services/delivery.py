"""Sending an outbound ticket message on its channel (run by the `consultation.deliver_message` task).

e-mail: Django's SMTP backend (settings CONSULTATION_EMAIL_BACKEND, default the SMTP backend with Django's
EMAIL_HOST/EMAIL_PORT/…; from CONSULTATION_EMAIL_FROM or DEFAULT_FROM_EMAIL), with a Message-ID that carries
the ticket number and In-Reply-To/References to the citizen's mails, so the reply lands in their thread
and their answer finds the ticket again. WeChat: the customer-service message API (services.wechat). QQ
and other bridges: a signed JSON POST to the bridge's reply_url (services.webhook). Web chat and phone:
nothing to send (the chat page polls; a phone follow-up is a call).

The function is idempotent: a message already sent is not sent again (a task retried after a crash).
A failure is recorded on the message (delivery=failed, the error) and raised as DeliveryError so the task
retries; a success records delivery=sent.
"""

from __future__ import annotations

from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from bizreg.consultation.models import TicketChannel, TicketMessage

DEFAULT_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class DeliveryError(Exception):
    """Sending failed; the message is marked failed and the task may retry."""


def _record(message_id: int, *, delivery: str, error: str = "", **extra) -> None:
    TicketMessage.objects.filter(pk=message_id).update(delivery=delivery, delivery_error=error[:300], **extra)


def email_domain() -> str:
    return getattr(settings, "CONSULTATION_EMAIL_DOMAIN", "") or "bizreg.local"


def outbound_message_id(message: TicketMessage) -> str:
    """ "ZX4401152025010100001.m17.<random>@domain" (without <>; stored so replies thread to it)."""
    return make_msgid(idstring=f"{message.ticket.number}.m{message.pk}", domain=email_domain()).strip("<>")


def _thread_ids(message: TicketMessage) -> list[str]:
    """The Message-IDs of the thread so far, oldest first (the citizen's and ours)."""
    ids = list(
        TicketMessage.objects.filter(ticket=message.ticket, channel=TicketChannel.EMAIL, id__lt=message.pk)
        .exclude(channel_message_id="")
        .exclude(direction=TicketMessage.Direction.NOTE)
        .order_by("id")
        .values_list("channel_message_id", flat=True)
    )
    if message.ticket.thread_key and message.ticket.thread_key not in ids:
        ids.insert(0, message.ticket.thread_key)
    return ids


def _send_email(message: TicketMessage) -> dict:
    ticket = message.ticket
    recipient = ticket.contact.email or ticket.contact.external_id
    if "@" not in recipient:
        raise DeliveryError("咨询人没有电子邮箱地址")
    msgid = message.channel_message_id or outbound_message_id(message)
    thread = _thread_ids(message)
    headers = {"Message-ID": f"<{msgid}>", "Auto-Submitted": "no"}
    if thread:
        inbound = list(
            TicketMessage.objects.filter(
                ticket=ticket, direction=TicketMessage.Direction.INBOUND, id__lt=message.pk
            )
            .exclude(channel_message_id="")
            .order_by("-id")
            .values_list("channel_message_id", flat=True)[:1]
        )
        headers["In-Reply-To"] = f"<{inbound[0] if inbound else thread[-1]}>"
        headers["References"] = " ".join(f"<{ref}>" for ref in thread[-20:])
    subject = ticket.subject if ticket.subject.lower().startswith("re:") else f"Re: {ticket.subject}"
    mail = EmailMessage(
        subject=f"{subject} [{ticket.number}]",
        body=message.body,
        from_email=getattr(settings, "CONSULTATION_EMAIL_FROM", "") or settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        headers=headers,
        connection=get_connection(
            getattr(settings, "CONSULTATION_EMAIL_BACKEND", "") or DEFAULT_EMAIL_BACKEND
        ),
    )
    try:
        mail.send(fail_silently=False)
    except Exception as exc:  # smtplib, socket and backend errors all mean "not sent"
        raise DeliveryError(f"邮件发送失败：{exc.__class__.__name__}: {exc}") from exc
    return {"channel_message_id": msgid}


def _send_wechat(message: TicketMessage) -> dict:
    from bizreg.consultation.services import wechat

    try:
        wechat.send_text(
            authority_code=message.ticket.authority.code,
            openid=message.ticket.contact.external_id,
            content=message.body,
        )
    except wechat.WeChatError as exc:
        raise DeliveryError(str(exc)) from exc
    return {}


def _send_webhook(message: TicketMessage) -> dict:
    from bizreg.consultation.services import webhook

    try:
        webhook.send_reply(message)
    except webhook.WebhookDeliveryError as exc:
        raise DeliveryError(str(exc)) from exc
    return {}


SENDERS = {
    TicketChannel.EMAIL: _send_email,
    TicketChannel.WECHAT: _send_wechat,
    TicketChannel.QQ: _send_webhook,
    TicketChannel.WEBHOOK: _send_webhook,
}


def deliver_message(message_id: int) -> str:
    """Send one outbound message; returns "sent", "already sent", "not needed" or "missing".
    Raises DeliveryError (after recording it) when sending failed."""
    message = (
        TicketMessage.objects.select_related("ticket__contact", "ticket__authority")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return "missing"
    if message.direction != TicketMessage.Direction.OUTBOUND:
        return "not needed"
    if message.delivery == TicketMessage.Delivery.SENT:
        return "already sent"
    sender = SENDERS.get(message.channel)
    if sender is None:
        return "not needed"
    try:
        extra = sender(message)
    except DeliveryError as exc:
        _record(message.pk, delivery=TicketMessage.Delivery.FAILED, error=str(exc))
        raise
    except Exception as exc:  # an unexpected error is still a failed delivery, not a silent loss
        _record(message.pk, delivery=TicketMessage.Delivery.FAILED, error=f"{exc.__class__.__name__}: {exc}")
        raise DeliveryError(str(exc)) from exc
    _record(message.pk, delivery=TicketMessage.Delivery.SENT, **extra)
    return "sent"
