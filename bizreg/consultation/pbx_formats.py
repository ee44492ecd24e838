"""Parsers of the PBX files the hotline imports, and the rules that turn a call's records into its facts.

Pure Python (no Django models), so the rules can be read, property-tested and reused by the bench.
Every parser takes numbered text lines (`numbered_lines`) and yields, per non-blank line, either a
`PbxRow` (one PbxRecord to be) or a `LineError` (line number, Chinese reason, the text). Formats — as
docs/… and REFERENCE.md "Hotline and channels" describe them:

* Asterisk `cdr_csv` Master.csv: no header; 16 base fields — accountcode, src, dst, dcontext, clid,
  channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags —
  then, as cdr.conf enables them, uniqueid, userfield, and with `newcdrcolumns` peeraccount, linkedid,
  sequence. The field count tells the layout (16 base, 17 +uniqueid, 18 +uniqueid +userfield,
  19 +newcdrcolumns, 20 +uniqueid +newcdrcolumns, 21 all; 17 and 20 are read with uniqueid, as
  cdr_csv's `loguniqueid` defaults on). Strings are quoted with `""` escapes; dates `%Y-%m-%d %H:%M:%S`
  in the PBX's local time, empty when unset. Several rows of one call share its linkedid (the call key;
  uniqueid when there is no linkedid).
* Asterisk `queue_log`: `epoch|callid|queue|agent|EVENT|data1|data2|…`; one call = the events of one
  callid. Events without a call (callid NONE: QUEUESTART, PAUSEALL …; member events) are kept with an
  empty call key.
* FreeSWITCH mod_cdr_csv: the 13 fields of the built-in default template — caller_id_name,
  caller_id_number, destination_number, context, start_stamp, answer_stamp, end_stamp, duration, billsec,
  hangup_cause, uuid, bleg_uuid, accountcode — or 15 with read_codec and write_codec (the "example"
  template the vanilla cdr_csv.conf.xml selects). One row per call (`legs="a"`, the default).
* The post-call survey (满意度回访) CSV, documented in SURVEY_COLUMNS below: a header row, then per answer
  the call key or the caller's number and call time, the score 1–5 and when it was given.

`call_facts(format, rows)` folds all the records of one call key (from any file) into the Call's
timings and outcome; it is the single place the outcome rules live.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
MAX_KEY_LENGTH = 150
MAX_RAW_LENGTH = 4000
# Dates outside this range are a typo or an unset clock (FreeSWITCH writes 1970-01-01 for "never").
_EARLIEST = dt.datetime(2000, 1, 1)
_LATEST = dt.datetime(2100, 1, 1)
_EPOCH_EARLIEST = 946684800  # 2000-01-01 UTC
_EPOCH_LATEST = 4102444800  # 2100-01-01 UTC

ASTERISK_CDR = "asterisk_cdr"
ASTERISK_QUEUE_LOG = "asterisk_queue_log"
FREESWITCH_CDR = "freeswitch_cdr"
SURVEY = "survey"

# Outcomes, as Call.outcome spells them (kept as plain strings: no Django import here).
ANSWERED = "answered"
ABANDONED = "abandoned"
BUSY = "busy"
MISSED = "missed"


class PbxRow(NamedTuple):
    """One good line, in the column order of PbxRecord (and of the import's staging table)."""

    line_number: int
    record_key: str
    call_key: str
    event: str
    caller_number: str
    destination: str
    channel: str
    dst_channel: str
    agent_code: str
    started_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_seconds: int | None
    billsec_seconds: int | None
    wait_seconds: int | None
    raw: str


class LineError(NamedTuple):
    line: int
    message: str
    text: str


class PbxFileError(Exception):
    """The file as a whole cannot be read in this format (e.g. a survey file without its header)."""


class _Bad(Exception):
    """A reason why one line is rejected (Chinese, without the line number)."""


# --- reading lines -------------------------------------------------------------------------------------


def numbered_lines(stream: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) for each non-blank line of a binary stream, newline stripped.

    PBXs on Chinese systems write caller names in GB18030 as often as UTF-8: each line is read as UTF-8
    and, failing that, as GB18030; a line neither can read is passed on as text with replacement marks
    and then rejected by the parser's own checks.
    """
    for number, data in enumerate(stream, start=1):
        if number == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                text = data.decode("utf-8", errors="replace")
        text = text.rstrip("\r\n")
        if text.strip():
            yield number, text


def _raw(text: str) -> str:
    return text if len(text) <= MAX_RAW_LENGTH else text[:MAX_RAW_LENGTH]


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", errors="replace")).hexdigest()


# --- field checks ---------------------------------------------------------------------------------------


def _datetime(text: str, label: str, tz: dt.tzinfo, *, required: bool = False) -> dt.datetime | None:
    """`YYYY-MM-DD HH:MM:SS` in the PBX's local time → aware datetime; '' → None."""
    if not text:
        if required:
            raise _Bad(f"{label}为空")
        return None
    if (
        len(text) != 19
        or text[4] != "-"
        or text[7] != "-"
        or text[10] != " "
        or text[13] != ":"
        or text[16] != ":"
        or not text.isascii()
    ):
        raise _Bad(f"{label}“{text[:30]}”格式错误，应为 YYYY-MM-DD HH:MM:SS")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _Bad(f"{label}“{text}”不是有效的日期时间") from None
    if not _EARLIEST <= moment < _LATEST:
        if not required and moment.year == 1970:
            return None  # FreeSWITCH's "never" (epoch 0 in local time)
        raise _Bad(f"{label}“{text}”超出合理范围（2000–2099 年）")
    return moment.replace(tzinfo=tz)


def _seconds(text: str, label: str, *, required: bool = True) -> int | None:
    """A non-negative whole number of seconds."""
    if not text:
        if required:
            raise _Bad(f"{label}为空")
        return None
    if text.isascii() and text.isdigit():
        if len(text) > 9:
            raise _Bad(f"{label}“{text[:20]}”过大")
        return int(text)
    if text[:1] == "-" and text[1:].isascii() and text[1:].isdigit():
        raise _Bad(f"{label}为负数（{text}）")
    raise _Bad(f"{label}“{text[:20]}”不是整数")


def _key(text: str, label: str) -> str:
    if len(text) > MAX_KEY_LENGTH:
        raise _Bad(f"{label}超过 {MAX_KEY_LENGTH} 个字符")
    return text


def _check_order(start, answer, end) -> None:
    if start is not None and end is not None and end < start:
        raise _Bad("结束时间早于开始时间")
    if answer is not None:
        if start is not None and answer < start:
            raise _Bad("应答时间早于开始时间")
        if end is not None and end < answer:
            raise _Bad("结束时间早于应答时间")


def _csv_fields(text: str) -> list[str]:
    """The fields of one CSV line (RFC 4180 quoting, `""` escapes); a line never spans two lines."""
    try:
        return next(csv.reader((text,), strict=True))
    except csv.Error as exc:
        raise _Bad(f"引号不匹配或字段格式错误（{exc}）") from None


# --- Asterisk cdr_csv ----------------------------------------------------------------------------------

CDR_DISPOSITIONS = frozenset({"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"})
# field count → (index of uniqueid, userfield, linkedid, sequence) or -1 when absent
_CDR_LAYOUTS: dict[int, tuple[int, int, int, int]] = {
    16: (-1, -1, -1, -1),
    17: (16, -1, -1, -1),
    18: (16, 17, -1, -1),
    19: (-1, -1, 17, 18),
    20: (16, -1, 18, 19),
    21: (16, 17, 19, 20),
}


def _cdr_row(number: int, text: str, tz: dt.tzinfo) -> PbxRow:
    fields = _csv_fields(text)
    layout = _CDR_LAYOUTS.get(len(fields))
    if layout is None:
        raise _Bad(f"字段数为 {len(fields)}，Asterisk Master.csv 每行应为 16–21 个字段")
    uniqueid_at, _userfield_at, linkedid_at, sequence_at = layout
    start = _datetime(fields[9], "开始时间（start）", tz, required=True)
    answer = _datetime(fields[10], "应答时间（answer）", tz)
    end = _datetime(fields[11], "结束时间（end）", tz)
    duration = _seconds(fields[12], "时长（duration）")
    billsec = _seconds(fields[13], "计费时长（billsec）")
    disposition = fields[14].strip().upper()
    if disposition not in CDR_DISPOSITIONS:
        raise _Bad(
            f"处置（disposition）“{fields[14][:30]}”无法识别，"
            "应为 ANSWERED、NO ANSWER、BUSY、FAILED、CONGESTION 之一"
        )
    if disposition == "ANSWERED" and answer is None:
        raise _Bad("处置为 ANSWERED 但应答时间为空")
    _check_order(start, answer, end)
    uniqueid = fields[uniqueid_at].strip() if uniqueid_at >= 0 else ""
    linkedid = fields[linkedid_at].strip() if linkedid_at >= 0 else ""
    sequence = ""
    if sequence_at >= 0 and fields[sequence_at].strip():
        sequence = str(_seconds(fields[sequence_at].strip(), "序号（sequence）"))
    raw = _raw(text)
    if uniqueid:
        # One uniqueid can have several CDRs (transfers, forks): its sequence, else the line itself,
        # tells them apart, while the very same line imported again keeps its key.
        record_key = _key(f"{uniqueid}#{sequence or _sha1(raw)[:16]}", "唯一标识（uniqueid）")
    else:
        record_key = "sha1:" + _sha1(raw)
    call_key = _key(linkedid or uniqueid or record_key, "关联标识（linkedid）")
    return PbxRow(
        number,
        record_key,
        call_key,
        disposition,
        fields[1][:80],
        fields[2][:80],
        fields[5][:150],
        fields[6][:150],
        "",
        start,
        answer,
        end,
        duration,
        billsec,
        None,
        raw,
    )


def _cdr_slow(number: int, text: str, tz: dt.tzinfo) -> PbxRow | LineError:
    try:
        return _cdr_row(number, text, tz)
    except _Bad as exc:
        return LineError(number, f"第 {number} 行：{exc}", text[:300])


_STAMP_CACHE_SIZE = 50_000
_NOT_A_STAMP = object()


def _cdr_fast(
    number: int, text: str, f: list[str], tz: dt.tzinfo, stamps: dict[str, object]
) -> PbxRow | None:
    """The row `_cdr_row` makes of a line it accepts, from fields already split; None for anything that
    is not plainly good, so the slow path decides it and words the reason. Same rules, inlined: this runs
    a million times per big file, and one call's three dates repeat across its rows and neighbours."""
    layout = _CDR_LAYOUTS.get(len(f))
    if layout is None:
        return None
    moments = []
    for text_at in (f[9], f[10], f[11]):
        moment = stamps.get(text_at, _NOT_A_STAMP)
        if moment is _NOT_A_STAMP:
            try:
                moment = _datetime(text_at, "", tz)
            except _Bad:
                return None
            if len(stamps) >= _STAMP_CACHE_SIZE:
                stamps.clear()
            stamps[text_at] = moment
        moments.append(moment)
    start, answer, end = moments
    if start is None:
        return None
    duration, billsec = f[12], f[13]
    if not (duration.isdigit() and duration.isascii() and len(duration) <= 9):
        return None
    if not (billsec.isdigit() and billsec.isascii() and len(billsec) <= 9):
        return None
    disposition = f[14].strip().upper()
    if disposition not in CDR_DISPOSITIONS:
        return None
    if answer is None:
        if disposition == "ANSWERED" or (end is not None and end < start):
            return None
    elif answer < start or (end is not None and end < answer):
        return None
    uniqueid_at, _userfield_at, linkedid_at, sequence_at = layout
    uniqueid = f[uniqueid_at].strip() if uniqueid_at >= 0 else ""
    linkedid = f[linkedid_at].strip() if linkedid_at >= 0 else ""
    sequence = f[sequence_at].strip() if sequence_at >= 0 else ""
    if sequence:
        if not (sequence.isdigit() and sequence.isascii() and len(sequence) <= 9):
            return None
        sequence = str(int(sequence))
    raw = text if len(text) <= MAX_RAW_LENGTH else text[:MAX_RAW_LENGTH]
    record_key = f"{uniqueid}#{sequence or _sha1(raw)[:16]}" if uniqueid else "sha1:" + _sha1(raw)
    call_key = linkedid or uniqueid or record_key
    if len(record_key) > MAX_KEY_LENGTH or len(call_key) > MAX_KEY_LENGTH:
        return None
    return PbxRow(
        number,
        record_key,
        call_key,
        disposition,
        f[1][:80],
        f[2][:80],
        f[5][:150],
        f[6][:150],
        "",
        start,
        answer,
        end,
        int(duration),
        int(billsec),
        None,
        raw,
    )


def parse_asterisk_cdr(
    lines: Iterable[tuple[int, str]], *, tz: dt.tzinfo = DEFAULT_TZ
) -> Iterator[PbxRow | LineError]:
    """One csv reader over the whole stream (a reader per line costs as much as the rest of the parse);
    a line the reader could not read on its own — a quote left open runs into the next line — and any
    line the fast check doubts go through `_cdr_row` one by one, exactly as before."""
    fed: list[tuple[int, str]] = []

    def texts() -> Iterator[str]:
        for item in lines:
            fed.append(item)
            yield item[1]

    reader = csv.reader(texts(), strict=True)
    stamps: dict[str, object] = {"": None}
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:
            fields = None  # the reader starts afresh with the next line
        if fields is not None and len(fed) == 1:
            number, text = fed.pop()
            row = _cdr_fast(number, text, fields, tz, stamps)
            yield row if row is not None else _cdr_slow(number, text, tz)
            continue
        taken = fed[:]
        fed.clear()
        for number, text in taken:
            yield _cdr_slow(number, text, tz)


# --- Asterisk queue_log --------------------------------------------------------------------------------

# Events of one call; the value names the data fields that must be whole seconds (or ms for ringtime).
QUEUE_CALL_EVENTS: dict[str, tuple[str, ...]] = {
    "ENTERQUEUE": ("url", "callerid", "?position"),
    "CONNECT": ("#holdtime", "bridged_uniqueid", "?#ringtime"),
    "COMPLETECALLER": ("#holdtime", "#calltime", "?#origposition"),
    "COMPLETEAGENT": ("#holdtime", "#calltime", "?#origposition"),
    "ABANDON": ("#position", "#origposition", "#waittime"),
    "EXITWITHTIMEOUT": ("#position", "?#origposition", "?#waittime"),
    "EXITEMPTY": ("#position", "#origposition", "#waittime"),
    "EXITWITHKEY": ("key", "#position", "?#origposition", "?#waittime"),
    "RINGNOANSWER": ("#ringtime",),
    "RINGCANCELED": ("?#ringtime",),
    "TRANSFER": ("extension", "context", "#holdtime", "#calltime", "?#origposition"),
    "BLINDTRANSFER": ("extension", "context", "#holdtime", "#calltime", "?#origposition"),
    "ATTENDEDTRANSFER": (),
    "DID": (),
    "INFO": (),
}
# Events about the queue or its members, not about one call.
QUEUE_OTHER_EVENTS = frozenset(
    {
        "AGENTLOGIN",
        "AGENTLOGOFF",
        "AGENTCALLBACKLOGIN",
        "AGENTCALLBACKLOGOFF",
        "AGENTDUMP",
        "ADDMEMBER",
        "REMOVEMEMBER",
        "PAUSE",
        "UNPAUSE",
        "PAUSEALL",
        "UNPAUSEALL",
        "QUEUESTART",
        "CONFIGRELOAD",
        "SYSCOMPAT",
    }
)
_FIELD_LABELS = {
    "holdtime": "等待时长（holdtime）",
    "calltime": "通话时长（calltime）",
    "waittime": "等待时长（waittime）",
    "ringtime": "振铃时长（ringtime）",
    "position": "排队位置（position）",
    "origposition": "初始排队位置（origposition）",
}


def _queue_row(number: int, text: str, tz: dt.tzinfo) -> PbxRow:
    fields = text.split("|")
    if len(fields) < 5:
        raise _Bad(f"字段数为 {len(fields)}，queue_log 每行至少应有 5 个字段（时间|呼叫标识|队列|坐席|事件）")
    epoch_text, callid, queue, agent, event = (f.strip() for f in fields[:5])
    data = [f.strip() for f in fields[5:]]
    if epoch_text[:1] == "-":
        raise _Bad(f"时间戳为负数（{epoch_text[:20]}）")
    if not (epoch_text.isascii() and epoch_text.isdigit()) or len(epoch_text) > 11:
        raise _Bad(f"时间戳“{epoch_text[:20]}”不是 Unix 秒数")
    epoch = int(epoch_text)
    if not _EPOCH_EARLIEST <= epoch < _EPOCH_LATEST:
        raise _Bad(f"时间戳 {epoch} 超出合理范围（2000–2099 年）")
    if not event:
        raise _Bad("事件名为空")
    if event not in QUEUE_CALL_EVENTS and event not in QUEUE_OTHER_EVENTS:
        raise _Bad(f"未知的队列事件“{event[:30]}”")
    if not callid:
        raise _Bad("呼叫标识（callid）为空")
    values: dict[str, int | str | None] = {}
    for index, spec in enumerate(QUEUE_CALL_EVENTS.get(event, ())):
        optional = spec.startswith("?")
        name = spec.lstrip("?#")
        value = data[index] if index < len(data) else ""
        if "#" in spec:
            if not value and optional:
                values[name] = None
                continue
            if not value:
                raise _Bad(f"{event} 事件缺少{_FIELD_LABELS.get(name, name)}")
            values[name] = _seconds(value, _FIELD_LABELS.get(name, name))
        else:
            values[name] = value
    moment = dt.datetime.fromtimestamp(epoch, tz)
    is_call_event = event in QUEUE_CALL_EVENTS and callid.upper() != "NONE"
    ringtime = values.get("ringtime")
    if event in ("RINGNOANSWER", "RINGCANCELED") and isinstance(ringtime, int):
        ringtime = round(ringtime / 1000)  # these two log milliseconds
    wait = values.get("holdtime") if "holdtime" in values else values.get("waittime")
    raw = _raw(text)
    return PbxRow(
        number,
        "sha1:" + _sha1(raw),
        _key(callid, "呼叫标识（callid）") if is_call_event else "",
        event,
        str(values.get("callerid") or "")[:80],
        queue[:80],
        "",
        str(values.get("bridged_uniqueid") or "")[:150],
        "" if agent.upper() == "NONE" else agent[:100],
        moment,
        None,
        None,
        ringtime if isinstance(ringtime, int) else None,
        values.get("calltime") if isinstance(values.get("calltime"), int) else None,
        wait if isinstance(wait, int) else None,
        raw,
    )


def parse_queue_log(
    lines: Iterable[tuple[int, str]], *, tz: dt.tzinfo = DEFAULT_TZ
) -> Iterator[PbxRow | LineError]:
    for number, text in lines:
        try:
            yield _queue_row(number, text, tz)
        except _Bad as exc:
            yield LineError(number, f"第 {number} 行：{exc}", text[:300])


# --- FreeSWITCH mod_cdr_csv ----------------------------------------------------------------------------

# Q.850 hangup causes as FreeSWITCH names them (switch_call_cause_t), each with the outcome of an
# unanswered call that ended so. An answered call is answered (or abandoned if never bridged).
FREESWITCH_CAUSES: dict[str, str] = {
    **dict.fromkeys(
        (
            "NORMAL_CLEARING",
            "ORIGINATOR_CANCEL",
            "LOSE_RACE",
            "PICKED_OFF",
            "MANAGER_REQUEST",
            "BLIND_TRANSFER",
            "ATTENDED_TRANSFER",
            "NORMAL_UNSPECIFIED",
        ),
        ABANDONED,
    ),
    **dict.fromkeys(
        (
            "USER_BUSY",
            "CALL_REJECTED",
            "NORMAL_CIRCUIT_CONGESTION",
            "SWITCH_CONGESTION",
            "NETWORK_OUT_OF_ORDER",
            "REQUESTED_CHAN_UNAVAIL",
            "RESOURCE_UNAVAILABLE",
            "NORMAL_TEMPORARY_FAILURE",
            "OUTGOING_CALL_BARRED",
            "INCOMING_CALL_BARRED",
            "USER_CHALLENGE",
        ),
        BUSY,
    ),
    **dict.fromkeys(
        (
            "NONE",
            "NO_ANSWER",
            "NO_USER_RESPONSE",
            "UNALLOCATED_NUMBER",
            "NO_ROUTE_TRANSIT_NET",
            "NO_ROUTE_DESTINATION",
            "CHANNEL_UNACCEPTABLE",
            "CALL_AWARDED_DELIVERED",
            "SUBSCRIBER_ABSENT",
            "NUMBER_CHANGED",
            "REDIRECTION_TO_NEW_DESTINATION",
            "EXCHANGE_ROUTING_ERROR",
            "DESTINATION_OUT_OF_ORDER",
            "INVALID_NUMBER_FORMAT",
            "FACILITY_REJECTED",
            "RESPONSE_TO_STATUS_ENQUIRY",
            "ACCESS_INFO_DISCARDED",
            "PRE_EMPTED",
            "FACILITY_NOT_SUBSCRIBED",
            "BEARERCAPABILITY_NOTAUTH",
            "BEARERCAPABILITY_NOTAVAIL",
            "SERVICE_UNAVAILABLE",
            "BEARERCAPABILITY_NOTIMPL",
            "CHAN_NOT_IMPLEMENTED",
            "FACILITY_NOT_IMPLEMENTED",
            "SERVICE_NOT_IMPLEMENTED",
            "INVALID_CALL_REFERENCE",
            "INCOMPATIBLE_DESTINATION",
            "INVALID_MSG_UNSPECIFIED",
            "MANDATORY_IE_MISSING",
            "MESSAGE_TYPE_NONEXIST",
            "WRONG_MESSAGE",
            "IE_NONEXIST",
            "INVALID_IE_CONTENTS",
            "WRONG_CALL_STATE",
            "RECOVERY_ON_TIMER_EXPIRE",
            "MANDATORY_IE_LENGTH_ERROR",
            "PROTOCOL_ERROR",
            "INTERWORKING",
            "SUCCESS",
            "CRASH",
            "SYSTEM_SHUTDOWN",
            "MEDIA_TIMEOUT",
            "ALLOTTED_TIMEOUT",
            "USER_NOT_REGISTERED",
            "PROGRESS_TIMEOUT",
            "GATEWAY_DOWN",
            "UNKNOWN",
        ),
        MISSED,
    ),
}


def _freeswitch_row(number: int, text: str, tz: dt.tzinfo) -> PbxRow:
    fields = _csv_fields(text)
    if len(fields) not in (13, 15):
        raise _Bad(
            f"字段数为 {len(fields)}，FreeSWITCH mod_cdr_csv 默认模板每行应为 13 个字段（含编解码为 15 个）"
        )
    start = _datetime(fields[4], "开始时间（start_stamp）", tz, required=True)
    answer = _datetime(fields[5], "应答时间（answer_stamp）", tz)
    end = _datetime(fields[6], "结束时间（end_stamp）", tz)
    duration = _seconds(fields[7], "时长（duration）")
    billsec = _seconds(fields[8], "计费时长（billsec）")
    cause = fields[9].strip().upper()
    if cause not in FREESWITCH_CAUSES:
        raise _Bad(f"挂机原因（hangup_cause）“{fields[9][:40]}”无法识别")
    _check_order(start, answer, end)
    uuid = fields[10].strip()
    if not uuid:
        raise _Bad("通话标识（uuid）为空")
    _key(uuid, "通话标识（uuid）")
    return PbxRow(
        number,
        uuid,
        uuid,
        cause,
        fields[1][:80],
        fields[2][:80],
        "",
        fields[11].strip()[:150],
        "",
        start,
        answer,
        end,
        duration,
        billsec,
        None,
        _raw(text),
    )


def parse_freeswitch_cdr(
    lines: Iterable[tuple[int, str]], *, tz: dt.tzinfo = DEFAULT_TZ
) -> Iterator[PbxRow | LineError]:
    for number, text in lines:
        try:
            yield _freeswitch_row(number, text, tz)
        except _Bad as exc:
            yield LineError(number, f"第 {number} 行：{exc}", text[:300])


# --- post-call survey CSV ------------------------------------------------------------------------------

# The survey file: UTF-8 (or GB18030) CSV with a header row naming these columns, in any order, by the
# English or the Chinese name. A row names its call either by call_id — the PBX's call key: the CDR's
# linkedid or uniqueid, the queue_log callid or the FreeSWITCH uuid — or by caller_number + call_time
# (the call from that number offered nearest that time, within SURVEY_MATCH_MINUTES). score is 1
# (very dissatisfied) … 5 (very satisfied); surveyed_at is when it was given. `comment` is accepted and
# not stored (Call has no field for it).
SURVEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "call_id": ("call_id", "呼叫标识"),
    "caller_number": ("caller_number", "主叫号码", "来电号码"),
    "call_time": ("call_time", "来电时间"),
    "score": ("score", "评分", "满意度"),
    "surveyed_at": ("surveyed_at", "评价时间"),
    "comment": ("comment", "备注"),
}
SURVEY_HEADER = "call_id,caller_number,call_time,score,surveyed_at"
SURVEY_MATCH_MINUTES = 5
_SURVEY_NAME = {alias.lower(): name for name, aliases in SURVEY_COLUMNS.items() for alias in aliases}


def _survey_time(text: str, label: str, tz: dt.tzinfo, *, required: bool) -> dt.datetime | None:
    text = text.strip().replace("T", " ").replace("/", "-")
    if len(text) == 16:
        text += ":00"  # minutes are precise enough for a survey
    return _datetime(text, label, tz, required=required)


def survey_columns(header: str) -> dict[str, int]:
    """Column name → index from the header line; PbxFileError when it is not the survey header."""
    names = [name.strip().lower() for name in _csv_fields_or_file_error(header)]
    positions: dict[str, int] = {}
    unknown = []
    for index, name in enumerate(names):
        canonical = _SURVEY_NAME.get(name)
        if canonical is None:
            unknown.append(name or f"第 {index + 1} 列（空）")
        elif canonical in positions:
            raise PbxFileError(f"第 1 行（表头）：列“{name}”重复")
        else:
            positions[canonical] = index
    problems = []
    if unknown:
        problems.append("无法识别的列：" + "、".join(unknown[:10]))
    missing = [n for n in ("score", "surveyed_at") if n not in positions]
    if missing:
        problems.append("缺少列：" + "、".join(missing))
    if "call_id" not in positions and not {"caller_number", "call_time"} <= positions.keys():
        problems.append("应有 call_id 列，或 caller_number 与 call_time 两列")
    if problems:
        raise PbxFileError(
            f"第 1 行（表头）不符合满意度回访格式（{'；'.join(problems)}）。表头应为：{SURVEY_HEADER}"
        )
    return positions


def _csv_fields_or_file_error(text: str) -> list[str]:
    try:
        return _csv_fields(text)
    except _Bad as exc:
        raise PbxFileError(f"第 1 行（表头）：{exc}") from None


def _survey_row(number: int, text: str, columns: dict[str, int], tz: dt.tzinfo) -> PbxRow:
    fields = _csv_fields(text)
    width = max(columns.values()) + 1
    if len(fields) < width:
        raise _Bad(f"字段数为 {len(fields)}，表头有 {width} 列")

    def value(name: str) -> str:
        index = columns.get(name)
        return fields[index].strip() if index is not None else ""

    call_id = _key(value("call_id"), "呼叫标识（call_id）")
    caller = value("caller_number")
    call_time = _survey_time(value("call_time"), "来电时间（call_time）", tz, required=False)
    if not call_id and not (caller and call_time):
        raise _Bad("应填写呼叫标识（call_id），或同时填写主叫号码与来电时间")
    score_text = value("score")
    if not (score_text.isascii() and score_text.isdigit() and 1 <= int(score_text) <= 5):
        raise _Bad(f"评分“{score_text[:20]}”应为 1–5 的整数")
    surveyed_at = _survey_time(value("surveyed_at"), "评价时间（surveyed_at）", tz, required=True)
    canonical = "|".join(
        (call_id, caller, call_time.isoformat() if call_time else "", score_text, surveyed_at.isoformat())
    )
    return PbxRow(
        number,
        "survey:" + _sha1(canonical),
        call_id,
        str(int(score_text)),
        caller[:80],
        "",
        "",
        "",
        "",
        call_time,
        surveyed_at,  # for a survey record, "answered" is when the caller answered the survey
        None,
        None,
        None,
        None,
        _raw(text),
    )


def parse_survey(
    lines: Iterable[tuple[int, str]], *, tz: dt.tzinfo = DEFAULT_TZ
) -> Iterator[PbxRow | LineError]:
    """Raises PbxFileError (before yielding anything) when the header is not the survey header."""
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        return
    columns = survey_columns(first[1])
    for number, text in iterator:
        try:
            yield _survey_row(number, text, columns, tz)
        except _Bad as exc:
            yield LineError(number, f"第 {number} 行：{exc}", text[:300])


PARSERS = {
    ASTERISK_CDR: parse_asterisk_cdr,
    ASTERISK_QUEUE_LOG: parse_queue_log,
    FREESWITCH_CDR: parse_freeswitch_cdr,
    SURVEY: parse_survey,
}
HAS_HEADER = {SURVEY: True}


def parse(format: str, lines: Iterable[tuple[int, str]], *, tz: dt.tzinfo = DEFAULT_TZ):
    return PARSERS[format](lines, tz=tz)


# --- from records to a call ----------------------------------------------------------------------------


_HEX = "0123456789abcdefABCDEF"


def channel_base(name: str) -> str:
    """The device of an Asterisk channel name: 'SIP/line1-0000002a' → 'SIP/line1',
    'Local/1001@from-queue-00000001;2' → 'Local/1001@from-queue', 'DAHDI/1-1' → 'DAHDI/1'."""
    name = name.strip()
    if ";" in name:
        name = name.rsplit(";", 1)[0]
    head, sep, tail = name.rpartition("-")
    if sep and head and "/" in head and tail and not tail.strip(_HEX):
        return head
    return name


@dataclass(frozen=True)
class CallFacts:
    """What the records of one call say about it; `line_names`/`agent_names` are PBX names to look up
    (HotlineLine.pbx_channel, Agent.pbx_code or extension), best first."""

    offered_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    wait_seconds: int
    talk_seconds: int
    outcome: str
    caller_number: str
    line_names: tuple[str, ...]
    agent_names: tuple[str, ...]


def _span(later: dt.datetime | None, earlier: dt.datetime | None) -> int:
    if later is None or earlier is None:
        return 0
    return max(0, int((later - earlier).total_seconds()))


def _names(*candidates: str) -> tuple[str, ...]:
    seen: list[str] = []
    for name in candidates:
        if name and name not in seen:
            seen.append(name)
    return tuple(seen)


def _cdr_facts(rows: list[PbxRow]) -> CallFacts:
    """Asterisk CDRs of one call (linkedid). A row ANSWERED and bridged to a peer (dstchannel set) is
    an answered call; ANSWERED without a peer means the PBX itself answered (IVR, queue music) and the
    caller hung up before an agent: abandoned. Otherwise busy if every attempt was BUSY/CONGESTION
    (every line of the hunt group engaged: blocked), else missed (NO ANSWER, FAILED)."""
    if len(rows) > 1:
        rows = sorted(rows, key=lambda r: (r.started_at, r.ended_at or r.started_at, r.record_key))
    first = rows[0]
    offered = first.started_at
    ended = max((r.ended_at or r.started_at) for r in rows)
    bridged = [r for r in rows if r.event == "ANSWERED" and r.dst_channel]
    if bridged:
        deciding = min(bridged, key=lambda r: (r.answered_at, r.record_key))
        answered = deciding.answered_at
        talk = sum(
            r.billsec_seconds if r.billsec_seconds is not None else _span(r.ended_at, r.answered_at)
            for r in bridged
        )
        outcome, wait = ANSWERED, _span(answered, offered)
    else:
        deciding = rows[-1]
        answered, talk = None, 0
        if any(r.event == "ANSWERED" for r in rows):
            outcome = ABANDONED
        elif all(r.event in ("BUSY", "CONGESTION") for r in rows):
            outcome = BUSY
        else:
            outcome = MISSED
        wait = _span(ended, offered)
    dst = channel_base(deciding.dst_channel)
    src = channel_base(deciding.channel)
    return CallFacts(
        offered_at=offered,
        answered_at=answered,
        ended_at=ended,
        wait_seconds=wait,
        talk_seconds=talk,
        outcome=outcome,
        caller_number=first.caller_number,
        line_names=_names(src, dst),
        agent_names=_names(dst, src, deciding.destination),
    )


_QUEUE_ABANDON = ("ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY")
_QUEUE_END = ("COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER")


def _queue_facts(rows: list[PbxRow]) -> CallFacts | None:
    """queue_log events of one callid: CONNECT → answered (wait = holdtime, talk = the COMPLETE*'s
    calltime); ABANDON, EXITWITHTIMEOUT, EXITWITHKEY → abandoned (wait = waittime); EXITEMPTY (no
    member could take it) → busy. A call with none of these is still in the queue: no call yet."""
    rows = sorted(rows, key=lambda r: (r.started_at, r.record_key))
    by_event: dict[str, PbxRow] = {}
    for row in rows:
        by_event.setdefault(row.event, row)  # the first of each event
    enter = by_event.get("ENTERQUEUE")
    connect = by_event.get("CONNECT")
    end = next((by_event[e] for e in _QUEUE_END if e in by_event), None)
    abandon = next((by_event[e] for e in _QUEUE_ABANDON if e in by_event), None)
    empty = by_event.get("EXITEMPTY")
    offered = (enter or rows[0]).started_at
    caller = enter.caller_number if enter else ""
    queue = (enter or rows[0]).destination
    if connect is not None:
        answered = connect.started_at
        wait = connect.wait_seconds if connect.wait_seconds is not None else _span(answered, offered)
        if end is not None:
            ended = end.started_at
            talk = end.billsec_seconds if end.billsec_seconds is not None else _span(ended, answered)
        else:
            ended, talk = None, 0
        agent = connect.agent_code
        return CallFacts(
            offered, answered, ended, wait, talk, ANSWERED, caller, _names(agent, queue), _names(agent)
        )
    closing = abandon or empty
    if closing is None:
        return None
    outcome = ABANDONED if closing is abandon else BUSY
    wait = closing.wait_seconds if closing.wait_seconds is not None else _span(closing.started_at, offered)
    return CallFacts(offered, None, closing.started_at, wait, 0, outcome, caller, _names(queue), ())


def _freeswitch_facts(rows: list[PbxRow]) -> CallFacts:
    """A FreeSWITCH A-leg: answered and bridged (bleg_uuid) → answered; answered but never bridged (an
    IVR or queue answered it) → abandoned; not answered → by hangup cause (ORIGINATOR_CANCEL,
    NORMAL_CLEARING: the caller gave up → abandoned; USER_BUSY, CALL_REJECTED, congestion → busy;
    NO_ANSWER, NO_USER_RESPONSE and the rest → missed)."""
    row = min(rows, key=lambda r: (r.started_at, r.record_key))
    ended = row.ended_at
    if ended is None and row.duration_seconds is not None:
        ended = row.started_at + dt.timedelta(seconds=row.duration_seconds)
    if row.answered_at is not None and row.dst_channel:
        talk = row.billsec_seconds if row.billsec_seconds is not None else _span(ended, row.answered_at)
        outcome, answered, wait = ANSWERED, row.answered_at, _span(row.answered_at, row.started_at)
    else:
        answered, talk = None, 0
        outcome = ABANDONED if row.answered_at is not None else FREESWITCH_CAUSES.get(row.event, MISSED)
        wait = _span(ended, row.started_at)
    return CallFacts(
        row.started_at,
        answered,
        ended,
        wait,
        talk,
        outcome,
        row.caller_number,
        _names(row.destination),
        _names(row.destination),
    )


_FACTS = {ASTERISK_CDR: _cdr_facts, ASTERISK_QUEUE_LOG: _queue_facts, FREESWITCH_CDR: _freeswitch_facts}


def call_facts(format: str, rows: list[PbxRow]) -> CallFacts | None:
    """The call that all the records of one call key describe (None: not a call yet, or no rows)."""
    rows = [r for r in rows if r.started_at is not None]
    if not rows or format not in _FACTS:
        return None
    return _FACTS[format](rows)


# What each format knows best when one call is in two files (Asterisk's queue_log callid is the CDR's
# uniqueid/linkedid of the same call). The CDR saw the whole call from the trunk: when it reached the hunt
# group, on which line, when it ended, the billed talk time, the caller's number. The queue_log saw the
# queue: how long the caller waited for an agent, which agent took it, whether the caller gave up.
CDR_FORMATS = (ASTERISK_CDR, FREESWITCH_CDR)


def merge_facts(by_format: dict[str, CallFacts]) -> CallFacts | None:
    """One call's facts from the formats that describe it (see the module docstring of
    services.pbx_import for the precedence); None when no format has a call yet."""
    cdr = next((by_format[f] for f in CDR_FORMATS if by_format.get(f) is not None), None)
    queue = by_format.get(ASTERISK_QUEUE_LOG)
    if cdr is None or queue is None:
        return cdr or queue
    # The queue tells answered from abandoned-in-queue; a CDR alone calls an IVR-answered caller who left
    # "abandoned" and cannot see the queue's EXITEMPTY. A call that reached the queue is decided there.
    outcome = queue.outcome
    if outcome == ANSWERED:
        answered = cdr.answered_at if cdr.outcome == ANSWERED else queue.answered_at
        talk = cdr.talk_seconds if cdr.outcome == ANSWERED else queue.talk_seconds
    else:
        answered, talk = None, 0
    return CallFacts(
        offered_at=min(cdr.offered_at, queue.offered_at),
        answered_at=answered,
        ended_at=cdr.ended_at or queue.ended_at,
        wait_seconds=queue.wait_seconds,
        talk_seconds=talk,
        outcome=outcome,
        caller_number=cdr.caller_number or queue.caller_number,
        line_names=_names(*cdr.line_names, *queue.line_names),
        agent_names=_names(*queue.agent_names, *cdr.agent_names),
    )
