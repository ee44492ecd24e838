"""Import of online submissions exported by the 一网通办 system (format: docs/registration-import-format.md).

A batch is a JSON array of objects or an Excel sheet with one row per submission (Chinese headers, same
fields). Each submission becomes a registration case through `services.cases.case_intake` — the very
validation of the window (IDs, phones, USCC, case types, materials, locked enterprises) — and keeps its
一网通办 application number as `external_id`, which makes the import idempotent: a submission already
imported is skipped, and a row repeated inside the file is counted once.

The job runs in two passes so staff can watch it and nothing is half-written:

1. every distinct new submission is put through `case_intake` inside a transaction that is always rolled
   back (each row on its own, so no lock is held between rows and the progress bar moves);
2. if no row failed — or the submitter chose "仅导入正确的行" — the good rows are written again through
   `case_intake`, all in one transaction. A row that fails only now (another clerk imported it, an
   enterprise got locked in between) makes the whole file fail with a message to retry, unless only
   good rows were wanted, in which case that row joins the error list.

Rerunning a finished or failed job is safe: whatever was written is recognised by its application number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from bizreg.core import services as core_services
from bizreg.core.models import Authority, BackgroundJob
from bizreg.registration.models import CaseType, Channel, RegistrationCase

IMPORT_JOB_KIND = "registration.online_import"
ONLINE_CHANNELS = (Channel.ONE_STOP_ONLINE, Channel.FULL_ELECTRONIC)

# (field, Chinese header) in file order. The Excel template uses the headers; JSON uses the field names.
FIELDS: tuple[tuple[str, str], ...] = (
    ("external_id", "申请号"),
    ("case_type", "业务类型"),
    ("channel", "办理渠道"),
    ("submitted_at", "提交时间"),
    ("enterprise_name", "企业名称"),
    ("uscc", "统一社会信用代码"),
    ("applicant_name", "申请人姓名"),
    ("applicant_id_number", "申请人身份证号"),
    ("applicant_phone", "申请人手机"),
    ("agent_name", "代理人姓名"),
    ("agent_id_number", "代理人身份证号"),
    ("agent_phone", "代理人手机"),
    ("materials", "提交材料"),
    ("requested_changes", "申请事项"),
    ("investigation_reference", "关联调查案件"),
)
FIELD_NAMES = tuple(name for name, _header in FIELDS)
HEADER_BY_FIELD = dict(FIELDS)
REQUIRED_FIELDS = ("external_id", "case_type", "channel", "submitted_at")
# Which column an error reported by case_intake belongs to.
_INTAKE_FIELD_TO_COLUMN = {
    "received_at": "submitted_at",
    "enterprise": "uscc",
    "enterprise_uscc": "uscc",
}

_CASE_TYPE_BY_TEXT = {value: value for value in CaseType.values} | {
    label: value for value, label in CaseType.choices
}
_CASE_TYPE_BY_TEXT |= {"注销": CaseType.DEREGISTRATION, "普通注销": CaseType.DEREGISTRATION}
_CASE_TYPE_BY_TEXT |= {"简易注销": CaseType.SIMPLE_DEREGISTRATION}
_CHANNEL_BY_TEXT = {value: value for value in Channel.values} | {
    label: value for value, label in Channel.choices
}
_MATERIAL_SPLIT = re.compile(r"[,，、;；\s]+")
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d")
ZIP_MAX_UNCOMPRESSED = 256 * 1024 * 1024


def max_import_rows() -> int:
    return int(getattr(settings, "REGISTRATION_IMPORT_MAX_ROWS", 5_000))


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not JSON/Excel, wrong shape, too big); nothing is written."""


def column_label(name: str) -> str:
    name = name.split(".", 1)[0]
    name = _INTAKE_FIELD_TO_COLUMN.get(name, name)
    return HEADER_BY_FIELD.get(name, "")


# --- parsing --------------------------------------------------------------------------------------------


@dataclass
class Submission:
    """One row of the file: its number as the user sees it, the values for case_intake, its own errors."""

    row: int
    external_id: str
    data: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)
    fingerprint: str = ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _code(value: Any, label: str) -> str:
    # Long digit strings typed into a number cell lose their last digits (Excel keeps 15 significant ones).
    if isinstance(value, float) or (
        isinstance(value, int) and not isinstance(value, bool) and value > 10**15
    ):
        raise ValueError(
            _("%(label)s被存成了数字，末几位可能已丢失，请将该列设为“文本”格式后重新导出。")
            % {"label": label}
        )
    return _text(value)


def _submitted_at(value: Any) -> dt.datetime:
    if value in (None, ""):
        raise ValueError(_("请填写提交时间。"))
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(9, 0))
    else:
        text = _text(value)
        moment = parse_datetime(text.replace("/", "-")) if "T" in text else None
        for fmt in _DATETIME_FORMATS:
            if moment is not None:
                break
            try:
                moment = dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
        if moment is None:
            raise ValueError(
                _("提交时间“%(text)s”无法识别，应为 YYYY-MM-DD HH:MM:SS（北京时间）或 ISO 8601。")
                % {"text": text[:40]}
            )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _materials(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        items = [_text(v) for v in value]
    elif isinstance(value, str):
        items = _MATERIAL_SPLIT.split(value)
    else:
        raise ValueError(_("提交材料应为材料代码的列表（Excel 中用逗号或顿号分隔）。"))
    return [item for item in items if item]


_CHANGE_KEY_BY_LABEL: dict[str, str] | None = None


def _change_keys() -> dict[str, str]:
    global _CHANGE_KEY_BY_LABEL
    if _CHANGE_KEY_BY_LABEL is None:
        from bizreg.registration.services.cases import REQUESTED_CHANGE_LABELS

        _CHANGE_KEY_BY_LABEL = {label: key for key, label in REQUESTED_CHANGE_LABELS.items()}
    return _CHANGE_KEY_BY_LABEL


def _requested_changes(value: Any) -> dict:
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(_('申请事项应为 JSON 对象，如 {"address": "广州市南沙区……"}。')) from None
    if not isinstance(value, Mapping):
        raise ValueError(_("申请事项应为“事项: 内容”的对象。"))
    keys = _change_keys()
    # Chinese item names (住所, 名称 …) are accepted as well as the field names.
    return {keys.get(str(k).strip(), str(k).strip()): v for k, v in value.items()}


def _fingerprint(raw: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {k: raw.get(k) for k in FIELD_NAMES}, ensure_ascii=False, sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_submission(row: int, raw: Mapping[str, Any]) -> Submission:
    """Turn one raw record (field names as keys) into the data case_intake takes, with format errors."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def parse(name: str, func) -> Any:
        try:
            return func(raw.get(name))
        except ValueError as exc:
            err(name, str(exc))
            return None

    for name in REQUIRED_FIELDS:
        if raw.get(name) in (None, "") and name != "submitted_at":
            err(name, _("请填写%(label)s。") % {"label": HEADER_BY_FIELD[name]})
    external_id = parse("external_id", lambda v: _code(v, "申请号")) or ""
    if len(external_id) > 64:
        err("external_id", _("申请号不能超过 64 个字符。"))
    case_type_text = _text(raw.get("case_type")).replace(" ", "")
    case_type = _CASE_TYPE_BY_TEXT.get(case_type_text)
    if case_type_text and case_type is None:
        err(
            "case_type",
            _("业务类型“%(value)s”无法识别，应为：%(choices)s。")
            % {"value": case_type_text[:30], "choices": "、".join(label for _v, label in CaseType.choices)},
        )
    channel_text = _text(raw.get("channel")).replace(" ", "")
    channel = _CHANNEL_BY_TEXT.get(channel_text)
    if channel_text and channel not in ONLINE_CHANNELS:
        err(
            "channel",
            _("办理渠道“%(value)s”不是网办渠道：导入仅限一网通办、全程电子化。")
            % {"value": channel_text[:30]},
        )
    received_at = parse("submitted_at", _submitted_at)
    uscc = parse("uscc", lambda v: _code(v, "统一社会信用代码")) or ""
    data.update(
        {
            "external_id": external_id,
            "case_type": case_type or "",
            "channel": channel or "",
            "received_at": received_at,
            "enterprise_name": _text(raw.get("enterprise_name")),
            "materials": parse("materials", _materials) or [],
            "requested_changes": parse("requested_changes", _requested_changes) or {},
            "investigation_reference": _text(raw.get("investigation_reference")),
        }
    )
    from bizreg.registration.services.cases import EXISTING_ENTERPRISE_TYPES

    # An existing enterprise is named by its code; a new one (设立, 迁入) carries the code it will have.
    data["enterprise_uscc" if case_type in EXISTING_ENTERPRISE_TYPES else "uscc"] = uscc
    for prefix, label in (("applicant", "申请人"), ("agent", "代理人")):
        data[f"{prefix}_name"] = _text(raw.get(f"{prefix}_name"))
        data[f"{prefix}_id_number"] = parse(
            f"{prefix}_id_number", lambda v, lb=label: _code(v, f"{lb}身份证号")
        )
        data[f"{prefix}_phone"] = parse(f"{prefix}_phone", lambda v, lb=label: _code(v, f"{lb}手机"))
    return Submission(
        row=row, external_id=external_id, data=data, errors=errors, fingerprint=_fingerprint(raw)
    )


def _read_json(fh: io.BufferedIOBase) -> list[tuple[int, dict]]:
    raw = fh.read()
    try:
        payload = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportFileError(_("JSON 文件应为 UTF-8 编码。")) from None
    except ValueError as exc:
        raise ImportFileError(_("JSON 格式错误：%(error)s") % {"error": str(exc)[:200]}) from None
    if not isinstance(payload, list):
        raise ImportFileError(_("JSON 文件的最外层应为数组（[ {…}, {…} ]），每个对象为一件申请。"))
    records = []
    for index, item in enumerate(payload, start=1):
        if not isinstance(item, dict):
            raise ImportFileError(_("第 %(n)d 项不是对象（{…}）。") % {"n": index})
        unknown = sorted(set(item) - set(FIELD_NAMES))
        if unknown:
            raise ImportFileError(
                _("第 %(n)d 项有无法识别的字段：%(fields)s。可用字段：%(known)s。")
                % {"n": index, "fields": "、".join(unknown[:10]), "known": "、".join(FIELD_NAMES)}
            )
        records.append((index, item))
    return records


def _normalize_header(value: Any) -> str:
    return re.sub(r"\s+", "", _text(value)).replace("(", "（").replace(")", "）")


def _read_excel(fh: io.BufferedIOBase) -> list[tuple[int, dict]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(fh) as archive:
            names = set(archive.namelist())
            uncompressed = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError(_("文件已损坏或不是 Excel（.xlsx）文件。")) from None
    if "xl/workbook.xml" not in names:
        raise ImportFileError(_("文件不是 Excel（.xlsx）文件。"))
    if uncompressed > ZIP_MAX_UNCOMPRESSED:
        raise ImportFileError(_("文件解压后过大，无法导入。"))
    fh.seek(0)
    try:
        workbook = load_workbook(fh, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a malformed package
        raise ImportFileError(_("无法读取该 Excel 文件，文件可能已损坏。")) from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = next(rows, ())
        by_header = {h: n for n, h in FIELDS} | {n: n for n in FIELD_NAMES}
        positions: dict[str, int] = {}
        unknown = []
        for index, raw in enumerate(header):
            name = _normalize_header(raw)
            if not name:
                continue
            if name not in by_header:
                unknown.append(name)
            elif by_header[name] in positions:
                raise ImportFileError(_("表头“%(name)s”重复。") % {"name": name})
            else:
                positions[by_header[name]] = index
        missing = [HEADER_BY_FIELD[n] for n in REQUIRED_FIELDS if n not in positions]
        if missing or unknown:
            problems = []
            if missing:
                problems.append(_("缺少列：%(columns)s") % {"columns": "、".join(missing)})
            if unknown:
                problems.append(_("无法识别的列：%(columns)s") % {"columns": "、".join(unknown[:20])})
            raise ImportFileError(
                _("表头与导入格式不符（%(problems)s）。第一行应为：%(expected)s。")
                % {"problems": "；".join(problems), "expected": "、".join(h for _n, h in FIELDS)}
            )
        records = []
        for number, values in enumerate(rows, start=2):
            if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            records.append(
                (number, {n: (values[i] if i < len(values) else None) for n, i in positions.items()})
            )
            if len(records) > max_import_rows():
                break
        return records
    finally:
        workbook.close()


def read_submissions(fh: io.BufferedIOBase) -> tuple[str, list[Submission]]:
    """('json' | 'xlsx', the submissions of the file); ImportFileError when the file as a whole is bad."""
    fh.seek(0)
    head = fh.read(8)
    fh.seek(0)
    if head.startswith(b"PK"):
        kind, records = "xlsx", _read_excel(fh)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("这是旧版 Excel（.xls）文件，请另存为 .xlsx 后再上传。"))
    elif head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
        kind, records = "json", _read_json(fh)
    else:
        raise ImportFileError(_("只能导入 JSON（.json）或 Excel（.xlsx）文件。"))
    if not records:
        raise ImportFileError(_("文件中没有数据。"))
    limit = max_import_rows()
    if len(records) > limit:
        raise ImportFileError(_("文件超过 %(limit)s 件申请，请拆分后分批导入。") % {"limit": f"{limit:,}"})
    return kind, [parse_submission(row, raw) for row, raw in records]


# --- submitting and running the job ---------------------------------------------------------------------


def online_import_submit(*, authority: Authority, actor, upload, good_rows_only: bool) -> BackgroundJob:
    """Check the uploaded file now (type, size, shape), then import it in the background.

    Raises ValidationError({"file": [message]}) for a file that cannot be imported at all.
    """
    size = getattr(upload, "size", None) or 0
    limit = settings.MAX_IMPORT_FILE_BYTES
    if size == 0:
        raise ValidationError({"file": [_("文件为空。")]})
    if size > limit:
        raise ValidationError(
            {
                "file": [
                    _("文件过大（%(size).1f MB），上限为 %(limit).0f MB，请拆分后分批导入。")
                    % {"size": size / 1048576, "limit": limit / 1048576}
                ]
            }
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    try:
        kind, submissions = read_submissions(upload)
    except ImportFileError as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    finally:
        upload.seek(0)
    return core_services.job_submit(
        authority=authority,
        kind=IMPORT_JOB_KIND,
        actor=actor,
        parameters={
            "good_rows_only": bool(good_rows_only),
            "filename": getattr(upload, "name", "")[:200],
            "format": kind,
            "rows": len(submissions),
        },
        input_file=upload,
        sha256=digest.hexdigest(),
    )


def _resolve_streets(submissions: list[Submission], actor) -> None:
    """The 一网通办 system names the street/town (街道/镇) by name or code; the register wants its id."""
    from bizreg.enterprises.selectors import streets_visible_to

    streets = {}
    for pk, name, code in streets_visible_to(actor).values_list("pk", "name", "code"):
        streets[name] = streets[code] = pk
    for submission in submissions:
        changes = submission.data.get("requested_changes") or {}
        street = changes.get("street")
        text = str(street).strip() if isinstance(street, str | int) and not isinstance(street, bool) else ""
        if text:
            if text in streets:
                changes["street"] = streets[text]
            elif not text.isdigit() or len(text) > 6:  # a short number is the register's own id
                submission.errors.setdefault("requested_changes", []).append(
                    _("街道/镇“%(name)s”不在本登记机关辖区内。") % {"name": text[:30]}
                )


class _DryRun(Exception):
    pass


def _intake(authority: Authority, actor, submission: Submission) -> RegistrationCase:
    from bizreg.registration.services.cases import case_intake

    return case_intake(authority=authority, actor=actor, data=submission.data)


def _error_rows(submission: Submission, errors: Mapping[str, Iterable[str]]) -> list[dict]:
    return [
        {
            "row": submission.row,
            "external_id": submission.external_id,
            "column": column_label(name),
            "message": message,
        }
        for name, messages in errors.items()
        for message in messages
    ]


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: list(messages) for name, messages in exc.message_dict.items()}
    return {"": exc.messages}


def online_import_execute(*, job: BackgroundJob, progress: Callable[[int, int], None]) -> dict:
    """Validate every submission of the job's file through case_intake, then write them (see module doc)."""
    from bizreg.core.jobs import JobError

    actor = job.created_by
    authority = job.authority
    good_rows_only = bool(job.parameters.get("good_rows_only"))
    if actor is None or not actor.has_perm("registration.add_registrationcase"):
        raise JobError(_("提交人已无受理登记业务的权限，导入未执行。"))
    with job.input_file.open("rb") as fh:
        try:
            _kind, submissions = read_submissions(io.BytesIO(fh.read()))
        except ImportFileError as exc:
            raise JobError(str(exc)) from None
    total = len(submissions)
    progress(0, total)
    _resolve_streets(submissions, actor)

    # Rows repeated inside the file count once; the same number with other content is an error.
    first_by_id: dict[str, Submission] = {}
    duplicates: list[dict] = []
    errors: list[dict] = []
    distinct: list[Submission] = []
    for submission in submissions:
        first = first_by_id.get(submission.external_id) if submission.external_id else None
        if first is None:
            if submission.external_id:
                first_by_id[submission.external_id] = submission
            distinct.append(submission)
        elif first.fingerprint == submission.fingerprint:
            duplicates.append(
                {"row": submission.row, "external_id": submission.external_id, "same_as": first.row}
            )
        else:
            errors.extend(
                _error_rows(
                    submission,
                    {
                        "external_id": [
                            _("与第 %(row)s 行的申请号相同但内容不同，请核对一网通办导出的数据。")
                            % {"row": first.row}
                        ]
                    },
                )
            )
    existing = set()
    ids = [s.external_id for s in distinct if s.external_id]
    for i in range(0, len(ids), 500):
        existing.update(
            RegistrationCase.objects.filter(
                authority=authority, external_id__in=ids[i : i + 500]
            ).values_list("external_id", flat=True)
        )
    already = [s for s in distinct if s.external_id in existing]
    fresh = [s for s in distinct if s.external_id not in existing]

    # Pass 1: full intake validation, each row in its own transaction that is rolled back.
    good: list[Submission] = []
    for done, submission in enumerate(fresh, start=1):
        problems = dict(submission.errors)
        if not problems:
            try:
                with transaction.atomic():
                    _intake(authority, actor, submission)
                    raise _DryRun
            except _DryRun:
                pass
            except ValidationError as exc:
                problems = _messages(exc)
        if problems:
            errors.extend(_error_rows(submission, problems))
        else:
            good.append(submission)
        if done % 20 == 0:
            progress(done, total)
    progress(len(fresh), total)

    bad_rows = len({e["row"] for e in errors})
    result = {
        "total": total,
        "format": job.parameters.get("format", ""),
        "good_rows_only": good_rows_only,
        "duplicates_in_file": len(duplicates),
        "duplicates": duplicates[:1000],
        "already_imported": len(already),
        "already": [{"row": s.row, "external_id": s.external_id} for s in already][:1000],
        "bad_rows": bad_rows,
        "errors": errors[:10000],
        "errors_truncated": len(errors) > 10000,
        "cases": [],
    }
    if bad_rows and not good_rows_only:
        return {**result, "imported": 0, "rejected": True}

    # Pass 2: write the good rows in one transaction.
    created: list[tuple[Submission, RegistrationCase]] = []
    late_errors: list[dict] = []
    with transaction.atomic():
        for submission in good:
            try:
                with transaction.atomic():
                    created.append((submission, _intake(authority, actor, submission)))
            except ValidationError as exc:
                problems = _messages(exc)
                if not good_rows_only:
                    raise JobError(
                        _("第 %(row)s 行在校验后发生变化（%(message)s），本次未导入任何数据，请点击“重试”。")
                        % {"row": submission.row, "message": "；".join(sum(problems.values(), []))[:300]}
                    ) from None
                if RegistrationCase.objects.filter(
                    authority=authority, external_id=submission.external_id
                ).exists():
                    already.append(submission)
                else:
                    late_errors.extend(_error_rows(submission, problems))
    progress(total, total)
    errors = errors + late_errors
    return {
        **result,
        "already_imported": len(already),
        "bad_rows": len({e["row"] for e in errors}),
        "errors": errors[:10000],
        "imported": len(created),
        "rejected": False,
        "cases": [{"row": s.row, "external_id": c.external_id, "number": c.number} for s, c in created][
            :10000
        ],
    }


# --- the Excel template ---------------------------------------------------------------------------------


def build_template() -> bytes:
    """An .xlsx with the headers, one example row and a sheet explaining each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "网办申请"
    sheet.append([header for _name, header in FIELDS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    # Codes, ID numbers and phones stay text, or Excel rounds them.
    for row in range(2, 1002):
        for column in "AFHILK":
            sheet[f"{column}{row}"].number_format = "@"
    for index, width in enumerate((20, 12, 12, 20, 30, 22, 10, 22, 14, 10, 22, 14, 40, 40, 16)):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明")
    notes.append(["列", "字段名（JSON）", "填写要求"])
    explanations = {
        "external_id": "必填。一网通办申请号，同一登记机关内唯一；重复导入同一申请号不会重复受理",
        "case_type": "必填。" + "、".join(label for _v, label in CaseType.choices),
        "channel": "必填。一网通办 或 全程电子化",
        "submitted_at": "必填。申请提交时间（北京时间），如 2023-05-08 09:30:00",
        "enterprise_name": "设立、迁入必填（拟设立/迁入企业名称）；其他业务以登记簿名称为准",
        "uscc": "变更、注销、备案、迁出、迁入必填；设立可留空（核准时赋码）",
        "applicant_name": "必填",
        "applicant_id_number": "必填，18 位公民身份号码",
        "applicant_phone": "必填，11 位手机号码",
        "agent_name": "委托代理的填写；代理人三项须同时填写",
        "agent_id_number": "",
        "agent_phone": "",
        "materials": "已提交材料的代码，用逗号或顿号分隔（见格式说明文档）",
        "requested_changes": 'JSON 对象，如 {"address": "广州市南沙区……"}；变更、备案、迁出、设立、迁入填写',
        "investigation_reference": "被锁定企业的业务须填写锁定所依据的调查案件编号",
    }
    for name, header in FIELDS:
        notes.append([header, name, explanations[name]])
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 24
    notes.column_dimensions["C"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
