"""First-guess indexing (著录) fields from a page's OCR text, for the operator to confirm.

Only USCCs that pass the check-digit test are returned, so an OCR slip never becomes a wrong link to an
enterprise. The document type is one of bizreg.archives.models.DocType's values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from stdnum.cn import uscc as stdnum_uscc

_USCC_RE = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{18}(?![0-9A-Z])")
_USCC_LABELLED_RE = re.compile(r"统一社会信用代码\s*[:：]?\s*([0-9A-Za-z\s]{18,26})")
_NAME_RE = re.compile(
    r"([\u4e00-\u9fa5（）()]{2,40}?(?:股份有限公司|有限责任公司|有限公司|合伙企业（有限合伙）|合伙企业"
    r"|个体工商户|分公司))"
)
_BRANCH_RE = re.compile(r"([\u4e00-\u9fa5（）()]{2,40}?公司[\u4e00-\u9fa5]{1,12}?分公司)")
_NAME_LEAD_TRIM = re.compile(r"^.*?(?:为规范|股东会|关于|根据|同意|变更|经审查|你单位|会议|决定|准予|本)")
_DOC_NUMBER_RE = re.compile(
    r"((?:[（(][\u4e00-\u9fa5]{1,6}[）)])?[\u4e00-\u9fa5]{1,12}[〔\[［【(（]\s*(?:19|20)\d{2}\s*[〕\]］】)）]"
    r"\s*第?\s*\d{1,8}\s*号)"
)
_DATE_ZH_RE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_ISO_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-./](\d{1,2})[-./](\d{1,2})(?!\d)")
_AUTHORITY_RE = re.compile(
    r"([\u4e00-\u9fa5]{2,30}(?:市场监督管理局|市场监管局|工商行政管理局|人民政府|政务服务和数据管理局))"
)

# Title fragment → DocType value, most specific first.
_TITLES = (
    ("准予设立登记通知书", "notice_approval"),
    ("准予注销登记通知书", "deregistration"),
    ("准予变更登记通知书", "notice_change"),
    ("变更登记通知书", "notice_change"),
    ("准予迁移登记通知书", "migration"),
    ("迁移调档函", "migration"),
    ("调档函", "migration"),
    ("准予登记通知书", "notice_approval"),
    ("登记通知书", "notice_other"),
    ("受理通知书", "notice_other"),
    ("不予受理通知书", "notice_other"),
    ("补正材料通知书", "notice_other"),
    ("登记申请书", "application"),
    ("申请书", "application"),
    ("公司章程", "articles"),
    ("章程", "articles"),
    ("股东会决议", "resolution"),
    ("股东决定", "resolution"),
    ("董事会决议", "resolution"),
    ("任职文件", "appointment"),
    ("任命书", "appointment"),
    ("住所使用证明", "premises"),
    ("租赁合同", "premises"),
    ("身份证明", "identity"),
    ("营业执照", "licence_copy"),
    ("清算报告", "deregistration"),
    ("注销", "deregistration"),
    ("公示", "public_notice"),
)


@dataclass
class IndexGuess:
    title: str = ""
    responsible_party: str = ""
    doc_date: dt.date | None = None
    doc_number: str = ""
    usccs: list[str] = field(default_factory=list)
    enterprise_names: list[str] = field(default_factory=list)
    doc_type: str = "other"


def _valid_usccs(text: str) -> list[str]:
    candidates = [m.group(0) for m in _USCC_RE.finditer(text.upper())]
    # OCR may break the code with a space or line break after its label.
    candidates += ["".join(m.group(1).split()).upper()[:18] for m in _USCC_LABELLED_RE.finditer(text)]
    found: list[str] = []
    for code in candidates:
        if code not in found and stdnum_uscc.is_valid(code):
            found.append(code)
    return found


def _names(text: str) -> list[str]:
    names: list[str] = []
    for line in text.splitlines():
        # Spaces stay: OCR puts them between separate blocks of a row, which names never straddle.
        compact = line
        # A branch's name contains its parent's: take branches first so the parent match cannot cut it.
        branches = [m.group(1) for m in _BRANCH_RE.finditer(compact)]
        for branch in branches:
            compact = compact.replace(branch, " ")
        matches = [m.group(1) for m in _NAME_RE.finditer(compact)]
        for name in branches + matches:
            name = _NAME_LEAD_TRIM.sub("", name) if _NAME_LEAD_TRIM.match(name) else name
            name = name.lstrip("（(")
            if len(name) >= 6 and name not in names:
                names.append(name)
    return names


def _date(text: str) -> dt.date | None:
    dates: list[dt.date] = []
    for pattern in (_DATE_ZH_RE, _DATE_ISO_RE):
        for match in pattern.finditer(text):
            try:
                dates.append(dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
            except ValueError:
                continue
    if not dates:
        return None
    # The signing date closes the document; earlier dates in the body are events it refers to.
    last_zh = list(_DATE_ZH_RE.finditer(text))
    if last_zh:
        match = last_zh[-1]
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    return dates[-1]


def _title(lines: list[str]) -> tuple[str, str]:
    for line in lines[:8]:
        compact = line.replace(" ", "")
        for fragment, doc_type in _TITLES:
            if fragment in compact and len(compact) <= 40:
                return compact, doc_type
    compact_all = "".join(lines).replace(" ", "")
    for fragment, doc_type in _TITLES:
        if fragment in compact_all:
            return fragment, doc_type
    return (lines[0].replace(" ", "")[:60] if lines else ""), "other"


def guess_index(text: str) -> IndexGuess:
    """Guess title, 责任者, date, 文号, USCCs, enterprise names and DocType value from OCR text."""
    from bizreg.archives.models import DocType

    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title, doc_type = _title(lines)
    if doc_type not in DocType.values:
        doc_type = DocType.OTHER.value
    number = _DOC_NUMBER_RE.search(text.replace(" ", ""))
    names = _names(text)
    authority = _AUTHORITY_RE.findall(text.replace(" ", ""))
    responsible = authority[-1] if authority else (names[0] if names else "")
    return IndexGuess(
        title=title,
        responsible_party=responsible,
        doc_date=_date(text),
        doc_number=number.group(1) if number else "",
        usccs=_valid_usccs(text),
        enterprise_names=names,
        doc_type=doc_type,
    )
