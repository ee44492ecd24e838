"""Excel files of the register: the import template and its parsing, the error report, the export.

Parsing only turns cells into typed values (and says which cells it could not read); the rules of a
register entry are checked by services.clean_enterprise_data, the same as for the form.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from bizreg.core.excel import safe_cell
from bizreg.core.masking import mask_id_number
from bizreg.core.money import TEN_THOUSAND, yuan_to_wan
from bizreg.enterprises.models import EnterpriseStatus, EntityType, IndustrySection

# (header, field): the documented columns of an import file, in template order.
IMPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("统一社会信用代码", "uscc"),
    ("名称", "name"),
    ("主体类型", "entity_type"),
    ("法定代表人", "legal_rep_name"),
    ("法定代表人身份证号", "legal_rep_id_number"),
    ("注册资本（万元）", "registered_capital"),
    ("成立日期", "established_on"),
    ("经营范围", "business_scope"),
    ("行业门类", "industry"),
    ("住所", "address"),
    ("街道/镇", "street"),
    ("登记状态", "status"),
)
_LABEL_BY_FIELD = {name: header for header, name in IMPORT_COLUMNS} | {
    "status_changed_on": "状态变更日期",
    "ftz_override": "自贸区人工认定",
    "ftz_override_reason": "人工认定理由",
    "uscc_exception_reason": "例外确认理由",
}
ZIP_MAX_UNCOMPRESSED = 1024 * 1024 * 1024


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not Excel, too big, wrong columns); nothing is written."""


def column_label(name: str) -> str:
    return _LABEL_BY_FIELD.get(name, "")


def max_import_rows() -> int:
    return int(getattr(settings, "ENTERPRISE_IMPORT_MAX_ROWS", 100_000))


def _normalize_header(value: Any) -> str:
    text = "" if value is None else str(value)
    text = re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）")
    return text


def _header_map(header_row: Iterable[Any]) -> dict[str, int]:
    """Field → column index; ImportFileError naming missing, unknown or repeated columns."""
    known = {header: name for header, name in IMPORT_COLUMNS}
    positions: dict[str, int] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for index, raw in enumerate(header_row):
        header = _normalize_header(raw)
        if not header:
            continue
        if header not in known:
            unknown.append(header)
        elif known[header] in positions:
            repeated.append(header)
        else:
            positions[known[header]] = index
    missing = [header for header, name in IMPORT_COLUMNS if name not in positions]
    problems = []
    if missing:
        problems.append(_("缺少列：%(columns)s") % {"columns": "、".join(missing)})
    if unknown:
        problems.append(_("无法识别的列：%(columns)s") % {"columns": "、".join(unknown[:20])})
    if repeated:
        problems.append(_("重复的列：%(columns)s") % {"columns": "、".join(repeated)})
    if problems:
        expected = "、".join(header for header, _name in IMPORT_COLUMNS)
        raise ImportFileError(
            _("表头与导入模板不符（%(problems)s）。第一行应依次为：%(expected)s。请下载模板填写。")
            % {"problems": "；".join(problems), "expected": expected}
        )
    return positions


def _open_workbook(fh: IO[bytes]):
    fh.seek(0)
    head = fh.read(8)
    fh.seek(0)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("这是旧版 Excel（.xls）文件，请在 Excel 中“另存为 .xlsx”后再上传。"))
    if not head.startswith(b"PK"):
        raise ImportFileError(_("文件不是 Excel（.xlsx）文件，请使用导入模板填写后上传。"))
    try:
        with zipfile.ZipFile(fh) as archive:
            names = set(archive.namelist())
            uncompressed = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError(_("文件已损坏或不是 Excel（.xlsx）文件。")) from None
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise ImportFileError(_("文件不是 Excel（.xlsx）文件，请使用导入模板填写后上传。"))
    if uncompressed > ZIP_MAX_UNCOMPRESSED:
        raise ImportFileError(_("文件解压后过大，无法导入。"))
    fh.seek(0)
    try:
        return load_workbook(fh, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a malformed package
        raise ImportFileError(_("无法读取该 Excel 文件，文件可能已损坏。")) from None


def check_upload(upload) -> None:
    """Raise ValidationError({"file": ...}) unless the upload is a readable .xlsx of the template's shape."""
    limit = settings.MAX_IMPORT_FILE_BYTES
    size = getattr(upload, "size", None) or 0
    if size > limit:
        message = _("文件过大（%(size).1f MB），上限为 %(limit).0f MB，请拆分后分批导入。") % {
            "size": size / 1048576,
            "limit": limit / 1048576,
        }
        raise ValidationError({"file": [message]})
    if size == 0:
        raise ValidationError({"file": [_("文件为空。")]})
    try:
        workbook = _open_workbook(upload)
        try:
            sheet = workbook.worksheets[0]
            header = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
            _header_map(header)
        finally:
            workbook.close()
    except ImportFileError as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    finally:
        upload.seek(0)


# --- parsing rows ---------------------------------------------------------------------------------------


@dataclass
class ImportRow:
    number: int  # the row number as Excel shows it
    data: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ParsedImport:
    rows: list[ImportRow]


_ENTITY_BY_LABEL = {label: value for value, label in EntityType.choices} | {v: v for v in EntityType.values}
_STATUS_BY_LABEL = {label: value for value, label in EnterpriseStatus.choices} | {
    v: v for v in EnterpriseStatus.values
}
_INDUSTRY_BY_TEXT: dict[str, str] = {}
for _value, _label in IndustrySection.choices:
    _INDUSTRY_BY_TEXT[_value] = _value
    _INDUSTRY_BY_TEXT[_label.replace(" ", "")] = _value
    _INDUSTRY_BY_TEXT[_label.split(" ", 1)[1]] = _value
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_code(value: Any, label: str) -> str:
    # Long digit strings typed into a number cell lose their last digits (Excel keeps 15 significant ones).
    if isinstance(value, float):
        raise ValueError(
            _("%(label)s被 Excel 存成了数字，末几位可能已丢失，请将该列设为“文本”格式后重新填写。")
            % {"label": _(label)}
        )
    return _cell_text(value)


def _parse_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _cell_text(value)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("成立日期“%(text)s”无法识别，应为 YYYY-MM-DD（如 2023-05-08）。") % {"text": text})


def _parse_capital(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ValueError(
            _("注册资本“%(text)s”应为数字（单位：万元）。") % {"text": _cell_text(value)}
        ) from None
    return amount * TEN_THOUSAND


def _parse_row(values: tuple, positions: Mapping[str, int], streets: Mapping[str, int]) -> tuple[dict, dict]:
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def cell(name: str) -> Any:
        index = positions[name]
        return values[index] if index < len(values) else None

    def parse(name: str, func) -> None:
        try:
            data[name] = func(cell(name))
        except ValueError as exc:
            errors[name] = [str(exc)]
            data[name] = None

    parse("uscc", lambda v: _parse_code(v, N_("统一社会信用代码")))
    parse("legal_rep_id_number", lambda v: _parse_code(v, N_("身份证号")))
    for name in ("name", "legal_rep_name", "business_scope", "address"):
        data[name] = _cell_text(cell(name))
    parse("registered_capital", _parse_capital)
    parse("established_on", _parse_date)

    def lookup(name: str, table: Mapping[str, str], label: str, *, default: str | None = None) -> None:
        text = _cell_text(cell(name)).replace(" ", "")
        if not text and default is not None:
            data[name] = default
        elif text in table:
            data[name] = table[text]
        elif not text:
            data[name] = ""
        else:
            errors[name] = [_("%(label)s“%(text)s”无法识别。") % {"label": _(label), "text": text}]
            data[name] = None

    lookup("entity_type", _ENTITY_BY_LABEL, N_("主体类型"))
    lookup("industry", _INDUSTRY_BY_TEXT, N_("行业门类"))
    lookup("status", _STATUS_BY_LABEL, N_("登记状态"), default=EnterpriseStatus.ACTIVE)
    street_name = _cell_text(cell("street"))
    if not street_name:
        data["street"] = None
    elif street_name in streets:
        data["street"] = streets[street_name]
    else:
        errors["street"] = [_("街道/镇“%(name)s”不在本登记机关辖区内。") % {"name": street_name}]
        data["street"] = None
    return data, errors


def read_import_rows(fh: IO[bytes], *, streets: Mapping[str, int]) -> ParsedImport:
    """All non-empty data rows of the first sheet, each with its typed values and its cell errors."""
    workbook = _open_workbook(fh)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        positions = _header_map(next(rows, ()))
        parsed: list[ImportRow] = []
        limit = max_import_rows()
        for number, values in enumerate(rows, start=2):
            if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if len(parsed) >= limit:
                raise ImportFileError(
                    _("文件超过 %(limit)s 行，请拆分后分批导入。") % {"limit": f"{limit:,}"}
                )
            data, errors = _parse_row(values, positions, streets)
            parsed.append(ImportRow(number=number, data=data, errors=errors))
    finally:
        workbook.close()
    return ParsedImport(rows=parsed)


# --- writing workbooks ----------------------------------------------------------------------------------


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def build_template(*, street_names: Iterable[str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "商事主体"
    sheet.append([header for header, _name in IMPORT_COLUMNS])
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    widths = (22, 30, 16, 12, 22, 16, 14, 40, 16, 40, 12, 10)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    # Codes and ID numbers must stay text, or Excel rounds them to 15 digits.
    for row in range(2, 2002):
        for column in ("A", "E"):
            sheet[f"{column}{row}"].number_format = "@"
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet("填写说明")
    notes.append(["列", "填写要求"])
    notes.append(["统一社会信用代码", "18 位，不含字母 I、O、Z、S、V；请保持“文本”格式"])
    notes.append(["名称", "必填，不超过 200 字"])
    notes.append(["主体类型", "、".join(label for _value, label in EntityType.choices)])
    notes.append(["法定代表人", "必填，自然人姓名"])
    notes.append(["法定代表人身份证号", "18 位公民身份号码；请保持“文本”格式"])
    notes.append(["注册资本（万元）", "数字，单位万元，可留空"])
    notes.append(["成立日期", "YYYY-MM-DD，如 2023-05-08"])
    notes.append(["经营范围", "可留空"])
    notes.append(["行业门类", "字母或名称：" + "；".join(label for _value, label in IndustrySection.choices)])
    notes.append(["住所", "必填，不超过 300 字"])
    notes.append(["街道/镇", "、".join(street_names)])
    notes.append(
        ["登记状态", "、".join(label for _value, label in EnterpriseStatus.choices) + "；留空为存续"]
    )
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 100
    return _to_bytes(workbook)


def build_error_report(errors: Iterable[Mapping[str, Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误报告")
    sheet.append(["行号", "列", "错误说明"])
    for error in errors:
        sheet.append(
            [error.get("row"), safe_cell(error.get("column", "")), safe_cell(error.get("message", ""))]
        )
    return _to_bytes(workbook)


EXPORT_HEADERS = (
    "统一社会信用代码",
    "代码校验例外",
    "名称",
    "主体类型",
    "法定代表人",
    "法定代表人身份证号",
    "注册资本（万元）",
    "成立日期",
    "经营范围",
    "行业门类",
    "住所",
    "街道/镇",
    "自贸区",
    "自贸区片区/区块",
    "登记状态",
    "状态变更日期",
    "锁定",
)
_EXPORT_VALUES = (
    "uscc",
    "uscc_is_exception",
    "name",
    "entity_type",
    "legal_rep_name",
    "legal_rep_id_number",
    "registered_capital",
    "established_on",
    "business_scope",
    "industry",
    "address",
    "street__name",
    "in_ftz",
    "ftz_area",
    "status",
    "status_changed_on",
    "is_locked",
)


EXPORT_WIDTHS = (22, 10, 36, 14, 12, 22, 14, 12, 40, 24, 40, 12, 8, 16, 8, 12, 8)


def export_rows(queryset, *, full_id: bool) -> Iterator[list]:
    """The export's rows of the enterprises of `queryset` (annotated with is_locked), read in chunks."""
    entity_labels = dict(EntityType.choices)
    industry_labels = dict(IndustrySection.choices)
    status_labels = dict(EnterpriseStatus.choices)
    for row in queryset.values_list(*_EXPORT_VALUES).iterator(chunk_size=2000):
        values = dict(zip(_EXPORT_VALUES, row, strict=True))
        id_number = values["legal_rep_id_number"]
        capital = values["registered_capital"]
        yield [
            values["uscc"],
            "例外" if values["uscc_is_exception"] else "",
            values["name"],
            entity_labels.get(values["entity_type"], values["entity_type"]),
            values["legal_rep_name"],
            id_number if full_id else mask_id_number(id_number),
            float(yuan_to_wan(capital)) if capital is not None else None,
            values["established_on"],
            values["business_scope"],
            industry_labels.get(values["industry"], values["industry"]),
            values["address"],
            values["street__name"],
            "是" if values["in_ftz"] else "否",
            values["ftz_area"],
            status_labels.get(values["status"], values["status"]),
            values["status_changed_on"],
            "锁定" if values["is_locked"] else "",
        ]
