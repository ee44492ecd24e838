"""Writes of the hotline set-up: numbers, the lines of each hunt group in their ringing order, agents and
their shifts.

A hotline rings its lines in a fixed order (Asterisk `linear`: every call tries line 1, then 2, …). The seed
asks for at least five lines, so an active hotline must keep at least MIN_ACTIVE_LINES active lines: a
hotline is switched on only once it has them, and a line of an active hotline is switched off only while
enough others remain. Positions are unique per hotline; a reorder moves every line through free
positions first so the unique constraint holds at every statement, inside one transaction.

Every function takes the acting user, validates first (ValidationError({field: [message]}), Chinese
messages), then writes in one transaction with the row of the hotline/agent locked, so two managers
editing the same hunt group or the same agent's shifts cannot interleave. History rows (simple_history)
carry the actor and the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.consultation.models import Agent, HotlineLine, HotlineNumber, Shift
from bizreg.core.models import Authority

MIN_ACTIVE_LINES = 5
# A published hotline number: digits with optional separators (020-39914115, 12345, 400-123-4567).
HOTLINE_NUMBER_RE = re.compile(r"^[0-9][0-9\- ]{2,18}[0-9]$")
MAX_SERVICE_LEVEL_SECONDS = 600
MAX_SHIFT = dt.timedelta(hours=16)
# The temporary positions a reorder parks lines on lie above every real position.
_PARKING_OFFSET = 10_000


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _record(instance, actor, reason: str = "") -> None:
    """Attach the actor and reason to the history row the next save writes."""
    instance._history_user = actor
    instance._change_reason = reason[:100] if reason else None


# --- hotline numbers ------------------------------------------------------------------------------------


def _check_hotline_fields(
    errors: _Errors, *, authority: Authority, number: str, name: str, service_level_seconds, exclude_pk=None
) -> int | None:
    if not number:
        errors.add("number", _("请填写热线号码。"))
    elif not HOTLINE_NUMBER_RE.match(number):
        errors.add("number", _("热线号码只能包含数字和“-”，如 020-39914115 或 12345。"))
    elif HotlineNumber.objects.filter(authority=authority, number=number).exclude(pk=exclude_pk).exists():
        errors.add("number", _("本登记机关已有热线号码 %(number)s。") % {"number": number})
    if not name:
        errors.add("name", _("请填写热线名称。"))
    elif len(name) > 100:
        errors.add("name", _("热线名称不能超过 100 个字。"))
    try:
        seconds = int(service_level_seconds)
    except (TypeError, ValueError):
        errors.add("service_level_seconds", _("服务水平时限应为整数秒。"))
        return None
    if not 1 <= seconds <= MAX_SERVICE_LEVEL_SECONDS:
        errors.add(
            "service_level_seconds",
            _("服务水平时限应在 1–%(max)d 秒之间。") % {"max": MAX_SERVICE_LEVEL_SECONDS},
        )
    return seconds


def _too_few_lines_message(active: int) -> str:
    return _("启用的热线至少需要 %(min)d 条启用的分线（顺序振铃），目前只有 %(count)d 条。") % {
        "min": MIN_ACTIVE_LINES,
        "count": active,
    }


@transaction.atomic
def hotline_create(
    *,
    authority: Authority,
    actor,
    number: str,
    name: str,
    service_level_seconds: int = 20,
    is_active: bool = False,
) -> HotlineNumber:
    """A new hotline. It has no lines yet, so it starts switched off unless asked otherwise (refused)."""
    errors = _Errors()
    number, name = _text(number), _text(name)
    seconds = _check_hotline_fields(
        errors, authority=authority, number=number, name=name, service_level_seconds=service_level_seconds
    )
    if is_active:
        errors.add("is_active", _too_few_lines_message(0))
    errors.raise_if_any()
    hotline = HotlineNumber(
        authority=authority, number=number, name=name, service_level_seconds=seconds, is_active=False
    )
    _record(hotline, actor, _("新建热线"))
    hotline.save()
    return hotline


@transaction.atomic
def hotline_update(
    *,
    hotline: HotlineNumber,
    actor,
    number: str,
    name: str,
    service_level_seconds: int,
    is_active: bool,
    reason: str = "",
) -> HotlineNumber:
    """Change a hotline; switching it on needs MIN_ACTIVE_LINES active lines."""
    hotline = HotlineNumber.objects.select_for_update().get(pk=hotline.pk)
    errors = _Errors()
    number, name = _text(number), _text(name)
    seconds = _check_hotline_fields(
        errors,
        authority=hotline.authority,
        number=number,
        name=name,
        service_level_seconds=service_level_seconds,
        exclude_pk=hotline.pk,
    )
    if is_active:
        active = hotline.lines.filter(is_active=True).count()
        if active < MIN_ACTIVE_LINES:
            errors.add("is_active", _too_few_lines_message(active))
    errors.raise_if_any()
    hotline.number, hotline.name = number, name
    hotline.service_level_seconds, hotline.is_active = seconds, bool(is_active)
    _record(hotline, actor, reason or _("修改热线"))
    hotline.save()
    return hotline


# --- lines of the hunt group ----------------------------------------------------------------------------


def _check_line_fields(errors: _Errors, *, hotline, label: str, pbx_channel: str, exclude_pk=None) -> None:
    if not label:
        errors.add("label", _("请填写分线名称。"))
    elif len(label) > 50:
        errors.add("label", _("分线名称不能超过 50 个字。"))
    if not pbx_channel:
        errors.add("pbx_channel", _("请填写 PBX 通道名（话单中该分线的名称，如 SIP/line1）。"))
    elif len(pbx_channel) > 100 or any(ch.isspace() for ch in pbx_channel):
        errors.add("pbx_channel", _("PBX 通道名不能含空格，且不超过 100 个字符。"))
    elif HotlineLine.objects.filter(hotline=hotline, pbx_channel=pbx_channel).exclude(pk=exclude_pk).exists():
        errors.add("pbx_channel", _("本热线已有通道名为 %(channel)s 的分线。") % {"channel": pbx_channel})


@transaction.atomic
def line_add(
    *, hotline: HotlineNumber, actor, label: str, pbx_channel: str, is_active: bool = True
) -> HotlineLine:
    """Append a line at the end of the ringing order."""
    hotline = HotlineNumber.objects.select_for_update().get(pk=hotline.pk)
    errors = _Errors()
    label, pbx_channel = _text(label), _text(pbx_channel)
    _check_line_fields(errors, hotline=hotline, label=label, pbx_channel=pbx_channel)
    errors.raise_if_any()
    last = hotline.lines.aggregate(last=Max("position"))["last"] or 0
    line = HotlineLine(
        hotline=hotline, position=last + 1, label=label, pbx_channel=pbx_channel, is_active=bool(is_active)
    )
    _record(line, actor, _("新增分线"))
    line.save()
    return line


@transaction.atomic
def line_update(
    *, line: HotlineLine, actor, label: str, pbx_channel: str, is_active: bool, reason: str = ""
) -> HotlineLine:
    """Rename a line or switch it on/off; an active hotline keeps at least MIN_ACTIVE_LINES active lines."""
    hotline = HotlineNumber.objects.select_for_update().get(pk=line.hotline_id)
    line = HotlineLine.objects.get(pk=line.pk)
    errors = _Errors()
    label, pbx_channel = _text(label), _text(pbx_channel)
    _check_line_fields(errors, hotline=hotline, label=label, pbx_channel=pbx_channel, exclude_pk=line.pk)
    if hotline.is_active and line.is_active and not is_active:
        remaining = hotline.lines.filter(is_active=True).exclude(pk=line.pk).count()
        if remaining < MIN_ACTIVE_LINES:
            errors.add(
                "is_active",
                _("热线“%(name)s”正在启用，停用此分线后只剩 %(count)d 条启用的分线（至少 %(min)d 条）。")
                % {"name": hotline.name, "count": remaining, "min": MIN_ACTIVE_LINES},
            )
    errors.raise_if_any()
    line.label, line.pbx_channel, line.is_active = label, pbx_channel, bool(is_active)
    _record(line, actor, reason or _("修改分线"))
    line.save()
    return line


@transaction.atomic
def lines_reorder(*, hotline: HotlineNumber, actor, order: Sequence[int]) -> list[HotlineLine]:
    """Give the hotline's lines the ringing order `order` (line ids, first rings first).

    `order` must name every line of the hotline exactly once. Lines are first parked on positions above
    every real one (one UPDATE), then saved one by one on 1…n, so no statement ever sees two lines on one
    position and each line's history row shows its new position.
    """
    hotline = HotlineNumber.objects.select_for_update().get(pk=hotline.pk)
    lines = {line.pk: line for line in hotline.lines.all()}
    try:
        wanted = [int(pk) for pk in order]
    except (TypeError, ValueError):
        raise ValidationError({"order": [_("分线顺序无效。")]}) from None
    if len(wanted) != len(set(wanted)) or set(wanted) != set(lines):
        raise ValidationError({"order": [_("分线顺序必须恰好包含本热线的每一条分线各一次。")]})
    if [lines[pk].position for pk in wanted] == list(range(1, len(wanted) + 1)):
        return [lines[pk] for pk in wanted]
    for index, pk in enumerate(wanted, start=1):
        HotlineLine.objects.filter(pk=pk).update(position=_PARKING_OFFSET + index)
    result = []
    for index, pk in enumerate(wanted, start=1):
        line = lines[pk]
        line.position = index
        _record(line, actor, _("调整振铃顺序"))
        line.save()
        result.append(line)
    return result


def line_move(*, line: HotlineLine, actor, direction: str) -> list[HotlineLine]:
    """Swap a line with its neighbour ("up": rings earlier, "down": later)."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": [_("移动方向无效。")]})
    ids = list(
        HotlineLine.objects.filter(hotline_id=line.hotline_id)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    index = ids.index(line.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ids):
        raise ValidationError(
            {"direction": [_("该分线已在最前。") if direction == "up" else _("该分线已在最后。")]}
        )
    ids[index], ids[other] = ids[other], ids[index]
    return lines_reorder(hotline=line.hotline, actor=actor, order=ids)


# --- agents ---------------------------------------------------------------------------------------------


def _check_agent_fields(
    errors: _Errors, *, authority: Authority, pbx_code: str, extension: str, exclude_pk=None
) -> None:
    if not pbx_code:
        errors.add("pbx_code", _("请填写 PBX 坐席标识（队列日志中的坐席名，如 Agent/1001 或 SIP/1001）。"))
    elif len(pbx_code) > 100 or any(ch.isspace() for ch in pbx_code):
        errors.add("pbx_code", _("PBX 坐席标识不能含空格，且不超过 100 个字符。"))
    elif Agent.objects.filter(authority=authority, pbx_code=pbx_code).exclude(pk=exclude_pk).exists():
        errors.add("pbx_code", _("PBX 坐席标识 %(code)s 已被其他坐席使用。") % {"code": pbx_code})
    if extension and not (extension.isdigit() and len(extension) <= 20):
        errors.add("extension", _("分机号只能是数字（不超过 20 位）。"))


@transaction.atomic
def agent_create(
    *, authority: Authority, actor, user, pbx_code: str, extension: str = "", is_active: bool = True
) -> Agent:
    """Make a staff user of the authority an agent, known to the PBX as `pbx_code`."""
    errors = _Errors()
    pbx_code, extension = _text(pbx_code), _text(extension)
    if user is None:
        errors.add("user", _("请选择工作人员。"))
    elif not user.is_active:
        errors.add("user", _("该账号已停用，不能设为坐席。"))
    elif not user.authorities.filter(pk=authority.pk).exists():
        errors.add("user", _("该工作人员不属于本登记机关。"))
    elif Agent.objects.filter(authority=authority, user=user).exists():
        errors.add("user", _("该工作人员已是本登记机关的坐席。"))
    _check_agent_fields(errors, authority=authority, pbx_code=pbx_code, extension=extension)
    errors.raise_if_any()
    agent = Agent(
        authority=authority, user=user, pbx_code=pbx_code, extension=extension, is_active=bool(is_active)
    )
    _record(agent, actor, _("新增坐席"))
    agent.save()
    return agent


@transaction.atomic
def agent_update(
    *, agent: Agent, actor, pbx_code: str, extension: str, is_active: bool, reason: str = ""
) -> Agent:
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    errors = _Errors()
    pbx_code, extension = _text(pbx_code), _text(extension)
    _check_agent_fields(
        errors, authority=agent.authority, pbx_code=pbx_code, extension=extension, exclude_pk=agent.pk
    )
    errors.raise_if_any()
    agent.pbx_code, agent.extension, agent.is_active = pbx_code, extension, bool(is_active)
    _record(agent, actor, reason or _("修改坐席"))
    agent.save()
    return agent


# --- shifts ---------------------------------------------------------------------------------------------


def _check_shift(
    errors: _Errors,
    *,
    authority: Authority,
    agent: Agent | None,
    starts_at,
    ends_at,
    note: str,
    exclude_pk=None,
) -> None:
    if agent is None:
        errors.add("agent", _("请选择坐席。"))
    elif agent.authority_id != authority.pk:
        errors.add("agent", _("该坐席不属于本登记机关。"))
    elif not agent.is_active and exclude_pk is None:
        errors.add("agent", _("该坐席已停用，不能排班。"))
    if starts_at is None:
        errors.add("starts_at", _("请填写开始时间。"))
    if ends_at is None:
        errors.add("ends_at", _("请填写结束时间。"))
    if len(note) > 200:
        errors.add("note", _("备注不能超过 200 个字。"))
    if starts_at is None or ends_at is None:
        return
    if ends_at <= starts_at:
        errors.add("ends_at", _("结束时间必须晚于开始时间。"))
        return
    if ends_at - starts_at > MAX_SHIFT:
        errors.add("ends_at", _("一个班次不能超过 %(hours)d 小时。") % {"hours": MAX_SHIFT.seconds // 3600})
        return
    if agent is None or "agent" in errors.errors:
        return
    clash = (
        Shift.objects.filter(agent=agent, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exclude(pk=exclude_pk)
        .order_by("starts_at")
        .first()
    )
    if clash is not None:
        errors.add(
            "starts_at",
            _("与该坐席已有的班次重叠：%(start)s – %(end)s。")
            % {
                "start": f"{timezone.localtime(clash.starts_at):%Y-%m-%d %H:%M}",
                "end": f"{timezone.localtime(clash.ends_at):%H:%M}",
            },
        )


@transaction.atomic
def shift_create(
    *, authority: Authority, actor, agent: Agent | None, starts_at, ends_at, note: str = ""
) -> Shift:
    """A shift for `agent`; refused when it overlaps another shift of the same agent."""
    if agent is not None:
        # Lock the agent: two managers adding shifts for one agent at once cannot both pass the check.
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
    errors = _Errors()
    note = _text(note)
    _check_shift(errors, authority=authority, agent=agent, starts_at=starts_at, ends_at=ends_at, note=note)
    errors.raise_if_any()
    return Shift.objects.create(
        authority=authority, agent=agent, starts_at=starts_at, ends_at=ends_at, note=note
    )


@transaction.atomic
def shift_update(*, shift: Shift, actor, agent: Agent | None, starts_at, ends_at, note: str = "") -> Shift:
    shift = Shift.objects.select_for_update().get(pk=shift.pk)
    if agent is not None:
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
    errors = _Errors()
    note = _text(note)
    _check_shift(
        errors,
        authority=shift.authority,
        agent=agent,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note,
        exclude_pk=shift.pk,
    )
    errors.raise_if_any()
    shift.agent, shift.starts_at, shift.ends_at, shift.note = agent, starts_at, ends_at, note
    shift.save()
    return shift


@transaction.atomic
def shift_delete(*, shift: Shift, actor) -> None:
    Shift.objects.filter(pk=shift.pk).delete()
