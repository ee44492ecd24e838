"""E-mail in: the consultation mailbox the app reads (Maildir or IMAP), every new message into a ticket.

Settings: CONSULTATION_MAILBOX = {"kind": "maildir", "path": …} or {"kind": "imap", "host": …,
"port": 993, "user": …, "password": …, "folder": "INBOX", "ssl": True}; optional "authority" (its code;
default: the portal's authority). A list of such dicts reads several mailboxes.

Threading: a reply carries our Message-ID in In-Reply-To/References. Our outbound Message-IDs contain the
ticket number ("<ZX4401152025010100001.m17.…@domain>", services.delivery), and each inbound message's
Message-ID is stored as its channel_message_id, so a reply to either finds its ticket; otherwise the mail
opens a new ticket whose thread_key is its own Message-ID. text/plain is preferred; an HTML-only mail is
turned into text and its HTML kept only sanitized. Attachments go through services.attachments.

No mail is read twice: a Maildir message is moved to cur/ with the Seen flag, an IMAP message gets
\\Seen; and a Message-ID already stored is skipped (channel_message_id is unique), so a crash between the
ticket and the flag costs nothing. Automatic mail (Auto-Submitted, bounces, list mail) opens no ticket: a
ticket's reply to an auto-responder would start a mail loop.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import hashlib
import imaplib
import logging
import mailbox
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

from django.conf import settings

from bizreg.consultation.models import Ticket, TicketChannel, TicketMessage
from bizreg.consultation.services.attachments import IncomingAttachment
from bizreg.consultation.services.sanitize import clean_html, html_to_text

logger = logging.getLogger(__name__)

TICKET_NUMBER_RE = re.compile(r"\b(ZX[0-9A-Za-z]{10,40})\b")
MESSAGE_ID_RE = re.compile(r"<([^<>\s]+)>")
MAX_MESSAGES_PER_POLL = 200


@dataclass
class ParsedMail:
    message_id: str
    references: list[str]
    from_address: str
    from_name: str
    subject: str
    text: str
    html: str
    received_at: object | None
    attachments: list[IncomingAttachment] = field(default_factory=list)
    automatic: bool = False


def _ids(header_value: str | None) -> list[str]:
    if not header_value:
        return []
    found = MESSAGE_ID_RE.findall(str(header_value))
    return found or [part.strip("<>") for part in str(header_value).split() if part.strip("<>")]


def _is_automatic(message: EmailMessage, from_address: str) -> bool:
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if str(message.get("Precedence", "")).strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond") or message.get("List-Id"):
        return True
    local = from_address.partition("@")[0].lower()
    return local in {"mailer-daemon", "postmaster", "noreply", "no-reply"} or not from_address


def parse_mail(raw: bytes) -> ParsedMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    name, address = email.utils.parseaddr(str(message.get("From", "")))
    message_id = (_ids(message.get("Message-ID")) or [""])[0]
    if not message_id:
        # No Message-ID (rare, broken clients): a digest of the mail keeps a re-read from counting twice.
        message_id = "sha256-" + hashlib.sha256(raw).hexdigest()
    references = _ids(message.get("In-Reply-To")) + _ids(message.get("References"))
    plain = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    html = _content(html_part) if html_part is not None else ""
    text = _content(plain) if plain is not None else html_to_text(html)
    attachments = []
    for part in message.iter_attachments():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True) or b""
        attachments.append(
            IncomingAttachment(
                file_name=part.get_filename() or "附件",
                content_type=part.get_content_type(),
                data=data,
            )
        )
    received_at = None
    try:
        received_at = (
            email.utils.parsedate_to_datetime(str(message.get("Date", ""))) if message.get("Date") else None
        )
        if received_at is not None and received_at.tzinfo is None:
            received_at = None
    except (TypeError, ValueError):
        received_at = None
    return ParsedMail(
        message_id=message_id[:300],
        references=references,
        from_address=address.strip().lower(),
        from_name=name.strip(),
        subject=" ".join(str(message.get("Subject", "") or "").split()),
        text=text.strip(),
        html=html,
        received_at=received_at,
        attachments=attachments,
        automatic=_is_automatic(message, address),
    )


def _content(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("gb18030", errors="replace")


def find_thread_ticket(*, authority, mail: ParsedMail) -> Ticket | None:
    """The ticket this mail replies to: by a stored message's id, a ticket's thread key, or a ticket number
    found in the ids or the subject ("[ZX…]")."""
    if mail.references:
        stored = (
            TicketMessage.objects.filter(
                authority=authority, channel=TicketChannel.EMAIL, channel_message_id__in=mail.references
            )
            .select_related("ticket")
            .order_by("-id")
            .first()
        )
        if stored is not None:
            return stored.ticket
        threaded = (
            Ticket.objects.filter(
                authority=authority, channel=TicketChannel.EMAIL, thread_key__in=mail.references
            )
            .order_by("-opened_at")
            .first()
        )
        if threaded is not None:
            return threaded
    candidates = TICKET_NUMBER_RE.findall(" ".join(mail.references) + " " + mail.subject)
    if candidates:
        # A ticket number is no secret (it is in every subject line): it threads only the same sender's mail.
        return Ticket.objects.filter(
            authority=authority,
            channel=TicketChannel.EMAIL,
            number__in=candidates,
            contact__external_id=mail.from_address,
        ).first()
    return None


def ingest_mail(*, authority, raw: bytes) -> Ticket | None:
    """One raw mail into a ticket (new or the one it replies to). None: skipped (automatic mail, or a
    Message-ID already stored)."""
    from bizreg.consultation.services.tickets import contact_for, ticket_open, ticket_receive

    mail = parse_mail(raw)
    if mail.automatic:
        logger.info("mailbox: automatic mail %s skipped", mail.message_id)
        return None
    if TicketMessage.objects.filter(
        authority=authority, channel=TicketChannel.EMAIL, channel_message_id=mail.message_id
    ).exists():
        return None
    contact = contact_for(
        authority=authority,
        channel=TicketChannel.EMAIL,
        external_id=mail.from_address,
        display_name=mail.from_name,
        email=mail.from_address,
    )
    body = mail.text or ("（邮件无正文）" if not mail.attachments else "")
    body_html = clean_html(mail.html) if mail.html else ""
    ticket = find_thread_ticket(authority=authority, mail=mail)
    if ticket is not None:  # ticket_receive follows a merge and opens a follow-on for a closed ticket
        message = ticket_receive(
            ticket=ticket,
            body=body,
            body_html=body_html,
            channel_message_id=mail.message_id,
            received_at=mail.received_at,
            attachments=mail.attachments,
        )
        return message.ticket if message is not None else None
    return ticket_open(
        authority=authority,
        channel=TicketChannel.EMAIL,
        contact=contact,
        subject=mail.subject[:200] or "（无主题）",
        body=body,
        body_html=body_html,
        channel_message_id=mail.message_id,
        thread_key=mail.message_id,
        opened_at=mail.received_at,
        attachments=mail.attachments,
    )


def _mailboxes() -> list[dict]:
    configured = getattr(settings, "CONSULTATION_MAILBOX", None)
    if not configured:
        return []
    return list(configured) if isinstance(configured, list | tuple) else [configured]


def _authority_for(config: dict):
    from bizreg.consultation.services.chat import portal_authority
    from bizreg.core.models import Authority

    code = config.get("authority")
    return Authority.objects.filter(code=code).first() if code else portal_authority()


def _ingest_safely(authority, raw: bytes, where: str) -> bool:
    """True when the mail is dealt with (stored or deliberately skipped) and may be marked read."""
    try:
        ingest_mail(authority=authority, raw=raw)
        return True
    except Exception:  # one broken mail must not stop the others; it stays unread for the next poll
        logger.exception("mailbox: could not read %s", where)
        return False


def _poll_maildir(config: dict, authority) -> int:
    box = mailbox.Maildir(config["path"], factory=None, create=False)
    done = 0
    for key in list(_unseen_maildir_keys(box, config["path"]))[:MAX_MESSAGES_PER_POLL]:
        try:
            message = box[key]
        except KeyError:  # taken by a concurrent poll
            continue
        raw = box.get_bytes(key)
        if _ingest_safely(authority, raw, f"maildir {key}"):
            message.set_subdir("cur")
            message.add_flag("S")
            with contextlib.suppress(KeyError):
                box[key] = message
            done += 1
    return done


def _unseen_maildir_keys(box: mailbox.Maildir, path: str) -> Iterator[str]:
    """Keys of the messages in new/, and in cur/ without the Seen flag, from the file names alone (no
    message is opened for this, however large the mailbox)."""
    names = []
    for subdir in ("new", "cur"):
        try:
            names.extend(os.listdir(os.path.join(path, subdir)))
        except FileNotFoundError:
            continue
    for name in sorted(names):
        if name.startswith("."):
            continue
        key, _, info = name.partition(box.colon)
        flags = info[2:] if info.startswith("2,") else ""
        if "S" not in flags:
            yield key


def _poll_imap(config: dict, authority) -> int:
    host, port = config["host"], int(config.get("port") or (993 if config.get("ssl", True) else 143))
    connection = imaplib.IMAP4_SSL(host, port) if config.get("ssl", True) else imaplib.IMAP4(host, port)
    done = 0
    try:
        connection.login(config["user"], config["password"])
        status, _ = connection.select(config.get("folder") or "INBOX")
        if status != "OK":
            raise RuntimeError(f"IMAP folder {config.get('folder')!r} not selectable")
        status, data = connection.uid("SEARCH", None, "UNSEEN")
        uids = (data[0] or b"").split() if status == "OK" else []
        for uid in uids[:MAX_MESSAGES_PER_POLL]:
            # BODY.PEEK leaves \Seen alone: the flag is set only once the mail is stored.
            status, parts = connection.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in parts or [] if isinstance(part, tuple)), None)
            if status != "OK" or raw is None:
                continue
            if _ingest_safely(authority, raw, f"imap uid {uid!r}"):
                connection.uid("STORE", uid, "+FLAGS", "(\\Seen)")
                done += 1
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            connection.logout()
    return done


def poll_mailbox() -> int:
    """Read every configured mailbox; return the number of mails dealt with (stored or skipped)."""
    total = 0
    for config in _mailboxes():
        authority = _authority_for(config)
        if authority is None:
            logger.error("mailbox: no authority for %s", config.get("authority"))
            continue
        kind = config.get("kind", "maildir")
        if kind == "maildir":
            total += _poll_maildir(config, authority)
        elif kind == "imap":
            total += _poll_imap(config, authority)
        else:
            logger.error("mailbox: unknown kind %r", kind)
    return total
