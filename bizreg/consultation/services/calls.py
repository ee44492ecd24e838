"""Writes of hotline calls logged by agents: the fast call log, the agent's note, and the follow-up ticket.

An agent logs each call right after hanging up (the fast form of views.calls). The rules live here so the
page and the API refuse the same input with the same Chinese message:

- the caller's number is a mobile (11 digits, 1[3-9]…), a landline (area code + number, or a local
  number), a service number (12345, 95xxx, 400/800), or withheld (号码未显示) — said explicitly, never
  guessed from an empty box; stored as digits only ("" when withheld), shown masked;
- times run offered ≤ answered ≤ ended; an answered call has an answer time, an unanswered one has none;
- only an answered call is resolved on the phone; a call is either resolved there or followed up;
- a call needing follow-up becomes a ticket of kind follow_up on the phone channel (tickets service), in
  the same transaction, and Call.follow_up_ticket points at it;
- a related case number must name a registration case the agent can see (registration selectors,
  read-only).

A PBX import (services.pbx_import) refreshes timings of imported calls and keeps this note.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.consultation.models import (
    Agent,
    Call,
    CallOutcome,
    CallSource,
    CallTopic,
    HotlineLine,
    HotlineNumber,
    TicketChannel,
    TicketKind,
)
from bizreg.core.masking import mask_phone
from bizreg.core.models import Authority

# Whoever holds this (the section head) supervises the agents and may correct any call's note.
CALL_SUPERVISOR_PERM = "consultation.change_agent"
MAX_SUMMARY = 2000
MAX_WAIT = dt.timedelta(hours=1)
MAX_TALK = dt.timedelta(hours=4)
# A call is logged a few seconds to days after it happened; a date months back is a typing error.
MAX_BACKDATE = dt.timedelta(days=90)
CLOCK_SKEW = dt.timedelta(minutes=5)

# What an agent (or a PBX) writes for a number the network did not present.
WITHHELD_WORDS = frozenset(
    {"withheld", "anonymous", "unknown", "private", "restricted", "未显示", "隐藏", "匿名", "无", "无号码"}
)
_SEPARATORS = re.compile(r"[\s\-()（）]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# 010 and 020–029 have 2-digit area codes after the 0 and 8-digit local numbers; the rest 3 digits and 7–8.
_LANDLINE_SHORT_AREA = re.compile(r"^0(10|2\d)[2-9]\d{7}$")
_LANDLINE_LONG_AREA = re.compile(r"^0[3-9]\d{2}[2-9]\d{6,7}$")
_LOCAL = re.compile(r"^[2-9]\d{6,7}$")
_SERVICE = re.compile(r"^(1\d{4}|9\d{4}|[48]00\d{7})$")


class NumberKind:
    MOBILE = "mobile"
    LANDLINE = "landline"
    SERVICE = "service"
    WITHHELD = "withheld"


def is_withheld_word(value: str | None) -> bool:
    return _text(value).lower() in WITHHELD_WORDS


def parse_caller_number(value: str | None, *, withheld: bool = False) -> tuple[str, str]:
    """(digits, kind) of a caller's number as typed, or raise ValidationError with the reason.

    Accepts separators (spaces, dashes, brackets), a +86/0086 country prefix and the leading 0 a PBX puts
    before out-of-area mobiles. `withheld` says the number was not shown; a number typed as well is an
    error (which one is right?).
    """
    text = _text(value)
    if is_withheld_word(text):
        withheld, text = True, ""
    if withheld:
        if text:
            raise ValidationError(
                _("已勾选“号码未显示”，请清空来电号码；或取消勾选。"), code="withheld_with_number"
            )
        return "", NumberKind.WITHHELD
    if not text:
        raise ValidationError(
            _("请填写来电号码；来电未显示号码时请勾选“号码未显示”。"), code="number_required"
        )
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("86"):
            raise ValidationError(_("只能登记中国大陆号码（+86）。"), code="number_foreign")
        digits = digits[2:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86") and _MOBILE.match(digits[2:]):
        digits = digits[2:]
    if not digits.isdigit() or not digits.isascii():
        raise ValidationError(
            _("来电号码只能包含数字（可带空格或“-”），当前为：%(value)s。") % {"value": text[:32]},
            code="number_characters",
        )
    if len(digits) == 12 and digits.startswith("01") and _MOBILE.match(digits[1:]):
        digits = digits[1:]
    if _MOBILE.match(digits):
        return digits, NumberKind.MOBILE
    if _LANDLINE_SHORT_AREA.match(digits) or _LANDLINE_LONG_AREA.match(digits) or _LOCAL.match(digits):
        return digits, NumberKind.LANDLINE
    if _SERVICE.match(digits):
        return digits, NumberKind.SERVICE
    if digits.startswith("1"):
        message = _("手机号码应为 1 开头的 11 位数字（第二位为 3–9），当前为 %(count)d 位：%(value)s。")
    else:
        message = _(
            "固定电话应为区号加 7–8 位号码（如 020-39914115、0755-12345678）或本地 7–8 位号码，"
            "当前为 %(count)d 位：%(value)s。"
        )
    raise ValidationError(message % {"count": len(digits), "value": text[:32]}, code="number_format")


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _record(instance, actor, reason: str = "") -> None:
    instance._history_user = actor
    instance._change_reason = reason[:100] if reason else None


# --- rules shared by logging and editing ----------------------------------------------------------------


def _case_number(*, actor, authority: Authority, value, errors: dict[str, list[str]]) -> str:
    """The normalized related case number after checking it against the registration register."""
    from bizreg.registration.selectors.records import case_by_number, normalize_case_number

    number = normalize_case_number(value)
    if not number:
        return ""
    if len(number) > 30:
        errors.setdefault("related_case_number", []).append(_("业务编号不能超过 30 个字符。"))
        return number
    case = case_by_number(user=actor, number=number)
    if case is None or case.authority_id != authority.pk:
        errors.setdefault("related_case_number", []).append(
            _("没有找到业务编号为 %(number)s 的登记业务，请核对。") % {"number": number}
        )
    return number


def _note_rules(
    *,
    errors: dict[str, list[str]],
    outcome: str,
    topic: str,
    summary: str,
    resolved: bool,
    needs_follow_up: bool,
    caller_number: str,
    withheld: bool,
) -> None:
    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if topic and topic not in CallTopic.values:
        err("topic", _("咨询主题无效。"))
    if outcome == CallOutcome.ANSWERED and not topic:
        err("topic", _("已接听的来电请选择咨询主题。"))
    if len(summary) > MAX_SUMMARY:
        err(
            "summary",
            _("摘要不能超过 %(max)d 个字，当前 %(count)d 个字。")
            % {"max": MAX_SUMMARY, "count": len(summary)},
        )
    if resolved and outcome != CallOutcome.ANSWERED:
        err("resolved", _("未接听的来电不能标记为当场解答。"))
    if resolved and needs_follow_up:
        err("needs_follow_up", _("当场已解答的来电无需跟进；需要跟进请取消“当场解答”。"))
    if needs_follow_up:
        if not summary:
            err("summary", _("需要跟进的来电请填写咨询内容摘要（将作为跟进工单的内容）。"))
        if withheld or not caller_number:
            err(
                "needs_follow_up",
                _("来电未显示号码，无法回电跟进；请在摘要中记录对方留下的联系方式后再转工单。"),
            )


def _open_follow_up(*, call: Call, actor) -> None:
    """Open the follow-up ticket for `call` (caller: inside the call's transaction) and link it."""
    from bizreg.consultation.services.tickets import contact_for, ticket_open

    contact = contact_for(
        authority=call.authority,
        channel=TicketChannel.PHONE,
        external_id=call.caller_number,
        phone=call.caller_number,
    )
    topic = call.get_topic_display() if call.topic else _("来电")
    subject = _("来电跟进：%(topic)s（来电 %(number)s）") % {
        "topic": topic,
        "number": mask_phone(call.caller_number),
    }
    ticket = ticket_open(
        authority=call.authority,
        channel=TicketChannel.PHONE,
        contact=contact,
        subject=subject[:200],
        body=call.summary,
        kind=TicketKind.FOLLOW_UP,
        actor=actor,
        topic=call.topic,
        related_case_number=call.related_case_number,
    )
    call.follow_up_ticket = ticket
    _record(call, actor, _("转跟进工单"))
    call.save(update_fields=["follow_up_ticket", "updated_at"])


# --- logging a call -------------------------------------------------------------------------------------


def _aware(value) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, dt.datetime):
        raise ValidationError(_("时间格式无效。"))
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def call_log(*, authority: Authority, actor, data: Mapping[str, Any]) -> Call:
    """Log one call as the agent `actor` tells it; open its follow-up ticket when it needs one.

    `data`: caller_number, withheld (bool), offered_at, answered_at, ended_at (aware datetimes; offered and
    ended default to now, an answered call's answer time is required), line (HotlineLine) or hotline,
    agent (Agent), outcome, topic, summary, resolved, needs_follow_up, related_case_number.
    Raises ValidationError({field: [message]}).
    """
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    now = timezone.now()
    withheld = bool(data.get("withheld"))
    caller_number = ""
    try:
        caller_number, kind = parse_caller_number(data.get("caller_number"), withheld=withheld)
        withheld = kind == NumberKind.WITHHELD
    except ValidationError as exc:
        err("caller_number", exc.messages[0])

    outcome = _text(data.get("outcome"))
    if outcome not in CallOutcome.values:
        err("outcome", _("请选择通话结果（已接听、呼损、占线或未接）。"))

    line: HotlineLine | None = data.get("line")
    hotline: HotlineNumber | None = data.get("hotline")
    if line is not None:
        if line.hotline.authority_id != authority.pk:
            err("line", _("该分线不属于本登记机关的热线。"))
        elif hotline is not None and hotline.pk != line.hotline_id:
            err("line", _("该分线不属于所选热线。"))
        hotline = line.hotline
    if hotline is None:
        err("line", _("请选择来电的分线。"))
    elif hotline.authority_id != authority.pk:
        err("line", _("该热线不属于本登记机关。"))

    agent: Agent | None = data.get("agent")
    if agent is not None:
        if agent.authority_id != authority.pk:
            err("agent", _("该坐席不属于本登记机关。"))
        elif not agent.is_active:
            err("agent", _("该坐席已停用。"))
    elif outcome == CallOutcome.ANSWERED:
        err("agent", _("已接听的来电请选择接听坐席。"))

    try:
        offered_at = _aware(data.get("offered_at")) or now
        answered_at = _aware(data.get("answered_at"))
        ended_at = _aware(data.get("ended_at")) or now
    except ValidationError as exc:
        err("offered_at", exc.messages[0])
        offered_at, answered_at, ended_at = now, None, now
    if offered_at > now + CLOCK_SKEW:
        err("offered_at", _("来电时间不能晚于现在。"))
    elif now - offered_at > MAX_BACKDATE:
        err("offered_at", _("只能登记 %(days)d 天内的来电，请核对日期。") % {"days": MAX_BACKDATE.days})
    if ended_at > now + CLOCK_SKEW:
        err("ended_at", _("结束时间不能晚于现在。"))
    if outcome == CallOutcome.ANSWERED:
        if answered_at is None:
            err("answered_at", _("已接听的来电请填写接听时间。"))
        else:
            if answered_at < offered_at:
                err("answered_at", _("接听时间不能早于来电时间。"))
            elif answered_at - offered_at > MAX_WAIT:
                err("answered_at", _("等待超过 1 小时，请核对来电和接听时间。"))
            if ended_at < answered_at:
                err("ended_at", _("结束时间不能早于接听时间。"))
            elif ended_at - answered_at > MAX_TALK:
                err("ended_at", _("通话超过 4 小时，请核对接听和结束时间。"))
    elif outcome:
        if answered_at is not None:
            err("answered_at", _("未接听的来电不能有接听时间；已接听请把结果选为“已接听”。"))
        if ended_at < offered_at:
            err("ended_at", _("结束时间不能早于来电时间。"))
        elif ended_at - offered_at > MAX_WAIT:
            err("ended_at", _("未接听来电的等待超过 1 小时，请核对来电和结束时间。"))

    topic, summary = _text(data.get("topic")), _text(data.get("summary"))
    resolved, needs_follow_up = bool(data.get("resolved")), bool(data.get("needs_follow_up"))
    _note_rules(
        errors=errors,
        outcome=outcome,
        topic=topic,
        summary=summary,
        resolved=resolved,
        needs_follow_up=needs_follow_up,
        caller_number=caller_number,
        withheld=withheld,
    )
    case_number = _case_number(
        actor=actor, authority=authority, value=data.get("related_case_number"), errors=errors
    )
    if errors:
        raise ValidationError(errors)

    answered = outcome == CallOutcome.ANSWERED
    wait_until = answered_at if answered else ended_at
    with transaction.atomic():
        call = Call(
            authority=authority,
            source=CallSource.MANUAL,
            hotline=hotline,
            line=line,
            agent=agent,
            caller_number=caller_number,
            offered_at=offered_at,
            answered_at=answered_at if answered else None,
            ended_at=ended_at,
            wait_seconds=int((wait_until - offered_at).total_seconds()),
            talk_seconds=int((ended_at - answered_at).total_seconds()) if answered else 0,
            outcome=outcome,
            topic=topic,
            summary=summary,
            resolved=resolved,
            needs_follow_up=needs_follow_up,
            related_case_number=case_number,
            logged_by=actor,
        )
        _record(call, actor, _("坐席登记来电"))
        call.save()
        if needs_follow_up:
            _open_follow_up(call=call, actor=actor)
    return call


# --- the agent's note -----------------------------------------------------------------------------------


def can_edit_call_note(user, call: Call) -> bool:
    """The agent who logged the call, the agent who took it (an imported call), or a supervisor."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_perm(CALL_SUPERVISOR_PERM):
        return True
    if not user.has_perm("consultation.change_call"):
        return False
    if call.logged_by_id is not None:
        return call.logged_by_id == user.pk
    return call.agent is not None and call.agent.user_id == user.pk


def call_update_note(
    *,
    call: Call,
    actor,
    topic: str,
    summary: str,
    resolved: bool,
    needs_follow_up: bool,
    related_case_number: str = "",
    reason: str = "",
) -> Call:
    """Correct the agent's note of a call; turning on follow-up opens the ticket (once).

    The timings, line, agent and number are the call's facts (from the log or the PBX) and stay as they
    are. A follow-up already opened as a ticket cannot be switched off here: the ticket carries it.
    """
    if not can_edit_call_note(actor, call):
        raise PermissionDenied(_("只有登记该来电的坐席或科室负责人可以修改来电记录。"))
    errors: dict[str, list[str]] = {}
    topic, summary = _text(topic), _text(summary)
    resolved, needs_follow_up = bool(resolved), bool(needs_follow_up)
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.follow_up_ticket_id and not needs_follow_up:
            errors.setdefault("needs_follow_up", []).append(
                _("该来电已转为跟进工单，不能取消跟进；请在工单中处理。")
            )
        _note_rules(
            errors=errors,
            outcome=call.outcome,
            topic=topic,
            summary=summary,
            resolved=resolved,
            needs_follow_up=needs_follow_up,
            caller_number=call.caller_number,
            withheld=not call.caller_number,
        )
        case_number = _case_number(
            actor=actor, authority=call.authority, value=related_case_number, errors=errors
        )
        if errors:
            raise ValidationError(errors)
        call.topic, call.summary, call.resolved = topic, summary, resolved
        call.needs_follow_up, call.related_case_number = needs_follow_up, case_number
        _record(call, actor, reason or _("修改来电记录"))
        call.save()
        if needs_follow_up and call.follow_up_ticket_id is None:
            _open_follow_up(call=call, actor=actor)
    return call
