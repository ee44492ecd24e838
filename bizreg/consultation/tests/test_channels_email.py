"""The e-mail channel: a real Maildir read by poll_mailbox (threads, HTML, attachments, nothing read twice)
and replies sent through a real local SMTP server (aiosmtpd) with the headers that keep the thread."""

from __future__ import annotations

import email
import email.policy
import mailbox
import socket
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from bizreg.consultation.models import Ticket, TicketAttachment, TicketChannel, TicketMessage
from bizreg.consultation.services import delivery
from bizreg.consultation.services.email_channel import parse_mail, poll_mailbox
from bizreg.consultation.services.tickets import ticket_reply

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def maildir(settings, tmp_path, authority):
    settings.MEDIA_ROOT = tmp_path / "media"
    box = mailbox.Maildir(tmp_path / "consult-mail", create=True)
    settings.CONSULTATION_MAILBOX = {
        "kind": "maildir",
        "path": str(tmp_path / "consult-mail"),
        "authority": authority.code,
    }
    return box


def mail(
    *,
    subject="咨询：个体工商户设立",
    body="你好，请问在南沙开奶茶店办个体工商户需要什么材料？",
    html=None,
    message_id="<m1@citizen.example>",
    sender="张三 <zhangsan@citizen.example>",
    in_reply_to=None,
    attachments=(),
    **headers,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "zixun@nansha.gov.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 06 Jan 2025 10:15:00 +0800"
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for key, value in headers.items():
        message[key.replace("_", "-")] = value
    if body is not None:
        message.set_content(body)
    if html is not None:
        if body is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for name, maintype, subtype, data in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def test_a_new_mail_opens_a_ticket_and_is_never_read_twice(maildir, authority):
    key = maildir.add(mail())
    assert poll_mailbox() == 1
    ticket = Ticket.objects.get()
    assert ticket.channel == TicketChannel.EMAIL and ticket.subject == "咨询：个体工商户设立"
    assert ticket.thread_key == "m1@citizen.example"
    assert ticket.contact.email == "zhangsan@citizen.example" and ticket.contact.display_name == "张三"
    message = ticket.messages.get()
    assert "奶茶店" in message.body and message.channel_message_id == "m1@citizen.example"
    stored = maildir.get_message(key)
    assert stored.get_subdir() == "cur" and "S" in stored.get_flags()
    assert poll_mailbox() == 0
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1


def test_the_same_message_id_delivered_twice_counts_once(maildir):
    maildir.add(mail())
    maildir.add(mail())
    assert poll_mailbox() == 2  # both dealt with (one stored, one skipped as a duplicate)
    assert TicketMessage.objects.count() == 1


def test_an_html_only_mail_is_stored_as_text_and_sanitized_html(maildir):
    html = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<p onclick='steal()'>请问<b>简易注销</b>条件？</p>"
        "<script>alert('x')</script><a href='javascript:alert(1)'>点我</a><img src='http://tracker/p.png'></body></html>"
    )
    maildir.add(mail(body=None, html=html))
    poll_mailbox()
    message = TicketMessage.objects.get()
    assert message.body.startswith("请问简易注销条件？")
    assert "alert" not in message.body and "color:red" not in message.body
    assert "<b>简易注销</b>" in message.body_html
    for dangerous in ("<script", "onclick", "javascript:", "<img", "<style"):
        assert dangerous not in message.body_html


def test_plain_text_is_preferred_and_script_stays_text(maildir):
    maildir.add(mail(body="<script>alert(1)</script> 纯文本正文", html="<p>HTML 正文</p>"))
    poll_mailbox()
    message = TicketMessage.objects.get()
    assert message.body == "<script>alert(1)</script> 纯文本正文"  # stored as text, templates escape it
    assert message.body_html == "<p>HTML 正文</p>"


def test_attachments_follow_the_rules(maildir):
    maildir.add(
        mail(
            attachments=[
                ("身份证明.pdf", "application", "pdf", PDF),
                ("发票.exe", "application", "octet-stream", b"MZ\x90\x00"),
                ("照片.jpg", "image", "jpeg", PDF),
            ]
        )
    )
    poll_mailbox()
    rows = {row.file_name: row for row in TicketAttachment.objects.all()}
    assert not rows["身份证明.pdf"].quarantined
    assert rows["发票.exe"].quarantined and not rows["发票.exe"].file
    assert rows["照片.jpg"].quarantined and rows["照片.jpg"].file
    assert "【附件未接收】“发票.exe”" in TicketMessage.objects.get().body


def test_a_reply_with_in_reply_to_joins_the_ticket(maildir):
    maildir.add(mail())
    poll_mailbox()
    maildir.add(
        mail(
            message_id="<m2@citizen.example>", in_reply_to="<m1@citizen.example>", body="补充：店面在黄阁镇。"
        )
    )
    poll_mailbox()
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 2


def test_a_reply_naming_the_ticket_number_in_the_subject_joins_it(maildir):
    maildir.add(mail())
    poll_mailbox()
    ticket = Ticket.objects.get()
    maildir.add(mail(message_id="<m3@citizen.example>", subject=f"Re: 咨询 [{ticket.number}]", body="谢谢"))
    poll_mailbox()
    assert Ticket.objects.count() == 1 and ticket.messages.count() == 2


def test_automatic_mail_opens_no_ticket(maildir):
    maildir.add(mail(Auto_Submitted="auto-replied", message_id="<auto@x>"))
    maildir.add(mail(sender="MAILER-DAEMON@mx.example", message_id="<bounce@x>"))
    assert poll_mailbox() == 2
    assert not Ticket.objects.exists()


def test_a_mail_without_message_id_is_still_read_once(maildir):
    raw = mail(message_id=None)
    maildir.add(raw)
    maildir.add(raw)
    poll_mailbox()
    assert TicketMessage.objects.count() == 1
    assert parse_mail(raw).message_id.startswith("sha256-")


def test_no_mailbox_configured_reads_nothing(settings):
    settings.CONSULTATION_MAILBOX = None
    assert poll_mailbox() == 0


# --- replies by SMTP ---------------------------------------------------------------------------------


class _Inbox:
    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.CONSULTATION_EMAIL_FROM = "南沙区企业登记咨询 <zixun@nansha.gov.example>"
    settings.CONSULTATION_EMAIL_DOMAIN = "nansha.gov.example"
    try:
        yield inbox
    finally:
        controller.stop()


def test_an_agent_reply_is_sent_by_smtp_in_the_citizens_thread(maildir, smtp, role_users):
    maildir.add(mail())
    poll_mailbox()
    ticket = Ticket.objects.get()
    message = ticket_reply(ticket=ticket, actor=role_users["hotline_agent"], body="您好，所需材料如下：……")
    assert message.delivery == TicketMessage.Delivery.PENDING
    assert delivery.deliver_message(message.pk) == "sent"
    [(sender, recipients, raw)] = smtp.messages
    assert sender == "zixun@nansha.gov.example" and recipients == ["zhangsan@citizen.example"]
    sent = email.message_from_bytes(raw, policy=email.policy.default)
    # (Django folds a long encoded subject onto the next line; readers drop the fold's whitespace)
    assert sent["Subject"].strip() == f"Re: 咨询：个体工商户设立 [{ticket.number}]"
    assert sent["In-Reply-To"] == "<m1@citizen.example>"
    assert "<m1@citizen.example>" in sent["References"]
    assert ticket.number in sent["Message-ID"] and sent["Message-ID"].endswith("@nansha.gov.example>")
    assert "所需材料如下" in sent.get_body(preferencelist=("plain",)).get_content()
    message.refresh_from_db()
    assert message.delivery == TicketMessage.Delivery.SENT
    assert f"<{message.channel_message_id}>" == sent["Message-ID"].strip()

    # the citizen answers our mail: the answer finds the ticket by our Message-ID
    maildir.add(
        mail(
            message_id="<m9@citizen.example>",
            subject=sent["Subject"],
            in_reply_to=sent["Message-ID"],
            body="收到，谢谢",
        )
    )
    poll_mailbox()
    assert Ticket.objects.count() == 1 and ticket.messages.filter(direction="inbound").count() == 2


def test_an_smtp_failure_marks_the_reply_failed_for_a_retry(maildir, settings, role_users):
    maildir.add(mail())
    poll_mailbox()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nobody listens there
    settings.EMAIL_TIMEOUT = 2
    message = ticket_reply(ticket=Ticket.objects.get(), actor=role_users["hotline_agent"], body="答复")
    with pytest.raises(delivery.DeliveryError):
        delivery.deliver_message(message.pk)
    message.refresh_from_db()
    assert message.delivery == TicketMessage.Delivery.FAILED and "邮件发送失败" in message.delivery_error


def test_web_chat_and_notes_need_no_delivery(authority, role_users):
    from bizreg.consultation.tests.tickets_fixtures import open_ticket

    ticket = open_ticket(authority, channel=TicketChannel.WEB_CHAT)
    message = ticket_reply(ticket=ticket, actor=role_users["hotline_agent"], body="答复")
    assert delivery.deliver_message(message.pk) == "not needed"
    assert delivery.deliver_message(ticket.messages.get(direction="inbound").pk) == "not needed"
    assert delivery.deliver_message(999_999) == "missing"


def test_a_ticket_number_in_a_strangers_subject_does_not_join_the_ticket(maildir):
    maildir.add(mail())
    poll_mailbox()
    ticket = Ticket.objects.get()
    maildir.add(
        mail(message_id="<x@evil.example>", sender="other@evil.example", subject=f"Re: [{ticket.number}]")
    )
    poll_mailbox()
    assert Ticket.objects.count() == 2 and ticket.messages.count() == 1
