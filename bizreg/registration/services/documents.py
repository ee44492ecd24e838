"""Notices (通知书/告知书/函) issued for registration cases: numbered, stored as PDF, publicly verifiable.

`notice_issue` is called by the case workflow (services.cases) inside its transaction: it takes the next
number of the authority's series for that kind and year (a counter row updated under its lock, so numbers
have no gaps and never repeat), writes the full text into `Notice.content`, renders the PDF from that
content with bizreg.core.pdf, stores it with its SHA-256 and gives it a random verification code that
the public page /portal/verify/<code>/ checks.

The PDF is a function of the stored content only (the verification URL and the date are part of it), so
`notice_pdf_bytes` re-renders exactly the stored bytes: the stored hash can always be checked.
Notices name the enterprise and never carry a person's ID number or phone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.core import pdf
from bizreg.core.models import Authority
from bizreg.registration.models import (
    CaseDeficiency,
    CaseTransitionLog,
    CaseType,
    Notice,
    NoticeCounter,
    NoticeIssuerProfile,
    NoticeKind,
    RegistrationCase,
)

# Unambiguous characters only (no 0/O, 1/I/L): codes are read off paper and typed by hand.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16

# The 字 of each series: 穗南政数登设字〔2023〕第00001号.
KIND_NUMBER_WORDS = {
    NoticeKind.ACCEPTANCE: "受",
    NoticeKind.CORRECTION: "补",
    NoticeKind.APPROVAL_ESTABLISHMENT: "设",
    NoticeKind.APPROVAL_CHANGE: "变",
    NoticeKind.APPROVAL_DEREGISTRATION: "销",
    NoticeKind.REJECTION: "驳",
    NoticeKind.EXTENSION: "延",
    NoticeKind.MIGRATION_LETTER: "迁",
}

# What the applicant applied for, as the notices name it.
APPLICATION_LABELS = {
    CaseType.ESTABLISHMENT: "设立登记",
    CaseType.CHANGE: "变更登记",
    CaseType.DEREGISTRATION: "注销登记",
    CaseType.SIMPLE_DEREGISTRATION: "简易注销登记",
    CaseType.FILING: "备案",
    CaseType.MIGRATION_IN: "迁入登记",
    CaseType.MIGRATION_OUT: "迁出登记",
}

# Fields of a change that a notice may print; personal identifiers are never printed.
CHANGE_FIELD_LABELS = {
    "name": "名称",
    "address": "住所",
    "legal_rep_name": "法定代表人",
    "registered_capital": "注册资本",
    "business_scope": "经营范围",
    "entity_type": "主体类型",
    "industry": "行业门类",
    "street": "所属街道",
    "articles": "章程",
    "officers": "董事、监事、经理",
    "liaison": "联络员",
    "beneficial_owners": "受益所有人",
}
_PERSONAL_KEYS = ("id_number", "phone", "mobile", "id_card")
_PERSONAL_LABEL_WORDS = ("身份证", "证件号", "电话", "手机")

REGULATION = "《中华人民共和国市场主体登记管理条例》"


class NoticeError(Exception):
    """A notice cannot be issued or served; the message (Chinese) is meant for staff."""


class NoticeIntegrityError(NoticeError):
    """The stored PDF no longer matches its recorded SHA-256 (and re-rendering does not either)."""


# --- numbering -------------------------------------------------------------------------------------------


def _profile(authority: Authority) -> NoticeIssuerProfile | None:
    return NoticeIssuerProfile.objects.filter(authority=authority).first()


def number_prefix(*, authority: Authority, kind: str, profile: NoticeIssuerProfile | None = None) -> str:
    """The configured prefix of a kind's series, else 机关代字 + 登 + 字 (机关代码 when no 代字 is set)."""
    profile = profile if profile is not None else _profile(authority)
    if profile is not None and (profile.number_prefixes or {}).get(kind):
        return str(profile.number_prefixes[kind])
    short = profile.short_name if profile is not None and profile.short_name else authority.code
    return f"{short}登{KIND_NUMBER_WORDS.get(kind, '文')}字"


def format_notice_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}〔{year}〕第{sequence:05d}号"


def _next_sequence(*, authority: Authority, kind: str, year: int) -> int:
    """Take the next number of the series; the row stays locked until the issuing transaction ends."""
    series = NoticeCounter.objects.filter(authority=authority, kind=kind, year=year)
    if not series.update(last=F("last") + 1):
        try:
            with transaction.atomic():
                NoticeCounter.objects.create(authority=authority, kind=kind, year=year, last=1)
            return 1
        except IntegrityError:
            # Another transaction created the series first; its row now exists (and is locked by it).
            series.update(last=F("last") + 1)
    return series.values_list("last", flat=True).get()


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_verification_code(value: str) -> str:
    """Upper case without spaces or dashes, as stored (people type "abcd-efgh …")."""
    return "".join(ch for ch in str(value or "").upper() if ch.isalnum())


def display_verification_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def verification_url(code: str) -> str:
    base = str(getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")
    return base + reverse("portal:verify", args=[code])


# --- texts ---------------------------------------------------------------------------------------------


def _as_date(value: Any) -> dt.date | dt.datetime | None:
    """A date given as a date, a datetime or an ISO string (extra values come from JSON-minded callers)."""
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _date(value: Any) -> str:
    value = _as_date(value)
    return pdf.chinese_date(value) if value else ""


def _application(case: RegistrationCase) -> str:
    return APPLICATION_LABELS.get(case.case_type, case.get_case_type_display())


def _uscc(case: RegistrationCase, extra: Mapping[str, Any]) -> str:
    if extra.get("uscc"):
        return str(extra["uscc"])
    if case.enterprise_id and case.enterprise.uscc:
        return case.enterprise.uscc
    return case.uscc


def _text(text: str) -> dict:
    return {"type": "text", "text": text}


def _facts(*pairs: tuple[str, str]) -> dict:
    return {"type": "facts", "pairs": [[label, value] for label, value in pairs if value]}


def _latest_reason(case: RegistrationCase, action: str) -> str:
    log = CaseTransitionLog.objects.filter(case=case, action=action).order_by("-occurred_at", "-id").first()
    return log.reason if log is not None else ""


def _deficiencies(case: RegistrationCase, extra: Mapping[str, Any]) -> list[str]:
    given = extra.get("deficiencies")
    if given:
        return [str(getattr(item, "description", item)).strip() for item in given if str(item).strip()]
    latest = (
        CaseDeficiency.objects.filter(case=case).order_by("-round").values_list("round", flat=True).first()
    )
    if latest is None:
        return []
    return list(
        CaseDeficiency.objects.filter(case=case, round=latest)
        .order_by("id")
        .values_list("description", flat=True)
    )


def _change_rows(case: RegistrationCase, extra: Mapping[str, Any]) -> list[list[str]]:
    """[事项, 变更前, 变更后] rows from extra["changes"] or the case's requested changes."""
    rows: list[list[str]] = []
    given = extra.get("changes")
    if given:
        for row in given:
            item, before, after = (list(row) + ["", "", ""])[:3]
            if any(word in str(item) for word in _PERSONAL_LABEL_WORDS):
                continue
            rows.append([str(item), str(before or ""), str(after or "")])
        return rows
    for key, value in (case.requested_changes or {}).items():
        if any(marker in str(key) for marker in _PERSONAL_KEYS):
            continue
        label = CHANGE_FIELD_LABELS.get(str(key), str(key))
        if isinstance(value, Mapping):
            before, after = (
                value.get("before", value.get("old", "")),
                value.get("after", value.get("new", "")),
            )
        else:
            before, after = "", value
        if isinstance(after, Mapping | list | tuple) or isinstance(before, Mapping | list | tuple):
            continue  # nested data (e.g. a list of officers) is not printed as a cell
        rows.append([label, "" if before is None else str(before), "" if after is None else str(after)])
    return rows


def _remedies(profile: NoticeIssuerProfile | None) -> str:
    review = f"向{profile.review_body}" if profile is not None and profile.review_body else "依法"
    court = f"向{profile.court}" if profile is not None and profile.court else "向人民法院"
    return (
        f"如对本决定不服，可以自收到本通知书之日起六十日内{review}申请行政复议，"
        f"也可以自收到本通知书之日起六个月内依法{court}提起行政诉讼。"
    )


def _contact(profile: NoticeIssuerProfile | None) -> dict | None:
    if profile is None or not (profile.contact_phone or profile.address):
        return None
    return _facts(("咨询电话", profile.contact_phone), ("办公地址", profile.address))


def _body(
    *,
    case: RegistrationCase,
    kind: str,
    extra: Mapping[str, Any],
    profile: NoticeIssuerProfile | None,
    issued_at: dt.datetime,
) -> tuple[str, list[dict]]:
    """The addressee and the body blocks of a notice of `kind` for `case`."""
    name = case.enterprise_name
    submitted = f"你（单位）于{_date(case.received_at)}提交的{name}{_application(case)}申请"
    uscc = _uscc(case, extra)
    if kind == NoticeKind.ACCEPTANCE:
        due = extra.get("due_on") or case.due_on
        timing = (
            "本机关将自受理之日起3个工作日内作出是否准予登记的决定；"
            "情形复杂的，经本机关负责人批准，可以再延长3个工作日，并书面告知。"
        )
        blocks = [
            _text(
                f"{submitted}，经审查，申请材料齐全，符合法定形式。根据{REGULATION}第十九条的规定，"
                f"本机关决定予以受理。"
            ),
            _text(timing),
            _facts(
                ("业务编号", case.number),
                ("申请事项", _application(case)),
                ("受理日期", _date(case.accepted_at or issued_at)),
                ("法定办结日", _date(due) if due else ""),
            ),
        ]
        return name, blocks
    if kind == NoticeKind.CORRECTION:
        items = _deficiencies(case, extra)
        if not items:
            raise NoticeError(_("一次性告知书至少要列明一项需要补正的内容。"))
        blocks = [
            _text(
                f"{submitted}，经审查，申请材料不齐全或者不符合法定形式。根据{REGULATION}第十九条的规定，"
                f"现将需要补正的全部内容一次性告知如下："
            ),
            {"type": "list", "items": items},
            _text(
                "请按上述要求补正后一并重新提交。退回补正期间不计入登记办理时限；本机关收到全部补正材料后，"
                "依法重新审查。除补正材料本身引出的问题外，本机关不再就本次申请要求补正其他材料。"
            ),
            _facts(("业务编号", case.number), ("告知事项", f"{len(items)} 项")),
        ]
        return name, blocks
    if kind == NoticeKind.APPROVAL_ESTABLISHMENT:
        blocks = [
            _text(
                f"{submitted}，经审查，申请材料齐全，符合法定形式。根据{REGULATION}第十九条的规定，"
                f"本机关决定准予设立登记。"
            ),
            _facts(
                ("企业名称", name),
                ("统一社会信用代码", uscc),
                ("业务编号", case.number),
                ("核准日期", _date(case.decided_at or issued_at)),
            ),
            _text(
                "请凭本通知书及经办人身份证明领取营业执照；选择邮寄的，营业执照将寄送至申请时填报的地址。"
                "电子营业执照与纸质营业执照具有同等法律效力。"
            ),
        ]
        return name, blocks
    if kind == NoticeKind.APPROVAL_CHANGE:
        rows = _change_rows(case, extra)
        blocks = [
            _text(
                f"{submitted}，经审查，申请材料齐全，符合法定形式。根据{REGULATION}第十九条的规定，"
                f"本机关决定准予变更登记（备案）。"
            ),
            _facts(
                ("企业名称", name),
                ("统一社会信用代码", uscc),
                ("业务编号", case.number),
                ("核准日期", _date(case.decided_at or issued_at)),
            ),
        ]
        if rows:
            blocks.append({"type": "table", "rows": [["变更（备案）事项", "变更前", "变更后"], *rows]})
        filing = extra.get("filing_items")
        if filing:
            items = (
                filing if isinstance(filing, list | tuple) else [line for line in str(filing).splitlines()]
            )
            items = [str(item).strip() for item in items if str(item).strip()]
            if items:
                blocks.append(_text("备案事项如下："))
                blocks.append({"type": "list", "items": items})
        blocks.append(_text("变更事项涉及营业执照记载事项的，请交回原营业执照正本、副本，换领新的营业执照。"))
        return name, blocks
    if kind == NoticeKind.APPROVAL_DEREGISTRATION:
        blocks = [
            _text(
                f"{submitted}，经审查，申请材料齐全，符合法定形式。根据{REGULATION}第十九条的规定，"
                f"本机关决定准予注销登记。经登记机关注销登记，市场主体终止。"
            ),
            _facts(
                ("企业名称", name),
                ("统一社会信用代码", uscc),
                ("业务编号", case.number),
                ("注销日期", _date(case.decided_at or issued_at)),
            ),
            _text("请交回营业执照正本、副本；已遗失的，依法在国家企业信用信息公示系统公告作废。"),
        ]
        return name, blocks
    if kind == NoticeKind.REJECTION:
        reason = str(extra.get("reason") or _latest_reason(case, "reject")).strip()
        if not reason:
            raise NoticeError(_("不予登记通知书必须写明不予登记的理由。"))
        blocks = [
            _text(
                f"{submitted}，经审查，不符合法律、行政法规的规定。根据{REGULATION}第二十条的规定，"
                f"本机关决定不予登记。理由如下："
            ),
            _text(reason),
            _text(_remedies(profile)),
            _facts(("业务编号", case.number)),
        ]
        return name, blocks
    if kind == NoticeKind.EXTENSION:
        reason = str(extra.get("reason") or "").strip()
        if not reason and hasattr(case, "extension"):
            reason = case.extension.reason
        due = extra.get("due_on") or case.due_on
        because = f"因{reason.rstrip('。')}，" if reason else "因情形复杂，"
        blocks = [
            _text(
                f"{submitted}，本机关已于{_date(case.accepted_at)}受理。{because}不能在3个工作日内作出决定。"
                f"根据{REGULATION}第十九条的规定，经本机关负责人批准，办理期限延长3个工作日"
                + (f"，至{_date(due)}。" if due else "。")
            ),
            _facts(("业务编号", case.number), ("延长后办结日", _date(due) if due else "")),
        ]
        return name, blocks
    if kind == NoticeKind.MIGRATION_LETTER:
        requested = case.requested_changes or {}
        destination = str(
            extra.get("destination_authority")
            or requested.get("destination_authority")
            or requested.get("destination")
            or ""
        ).strip()
        if not destination:
            raise NoticeError(_("迁移调档函必须写明迁入地登记机关。"))
        blocks = [
            _text(
                f"{name}（统一社会信用代码：{uscc}）申请将住所迁移至你局辖区。经审查，该企业符合迁移条件，"
                f"本机关同意其迁出。现将该企业的登记档案随函移交，请依法办理迁入登记手续。"
            ),
            _facts(
                ("企业名称", name),
                ("统一社会信用代码", uscc),
                ("迁入地址", str(extra.get("new_address") or requested.get("new_address") or "")),
                ("业务编号", case.number),
            ),
            _text("请在收到本函及档案后核对签收，并将迁入登记结果函告本机关。"),
        ]
        return destination, blocks
    raise NoticeError(_("未知的文书类型：%(kind)s") % {"kind": kind})


def build_notice_content(
    *,
    case: RegistrationCase,
    kind: str,
    number: str,
    code: str,
    issued_at: dt.datetime,
    extra: Mapping[str, Any] | None = None,
) -> dict:
    """Everything the PDF shows, as stored in Notice.content (the PDF is rendered from this alone)."""
    extra = extra or {}
    authority = case.authority
    profile = _profile(authority)
    addressee, blocks = _body(case=case, kind=kind, extra=extra, profile=profile, issued_at=issued_at)
    contact = _contact(profile)
    if contact is not None and kind != NoticeKind.MIGRATION_LETTER:
        blocks.append(contact)
    closing = "特此函告。" if kind == NoticeKind.MIGRATION_LETTER else "特此通知。"
    blocks.append(_text(closing))
    return {
        "version": 1,
        "title": NoticeKind(kind).label,
        "number": number,
        "addressee": addressee,
        "blocks": blocks,
        "issuer": authority.name,
        "issued_on": timezone.localtime(issued_at, timezone.get_default_timezone()).date().isoformat(),
        "date_text": pdf.chinese_date(issued_at, hanzi=True),
        "issued_at": issued_at.isoformat(),
        "enterprise_name": case.enterprise_name,
        "case_number": case.number,
        "verify_url": verification_url(code),
        "verification_code": display_verification_code(code),
    }


# --- rendering -----------------------------------------------------------------------------------------


def _spec_from_content(content: Mapping[str, Any]) -> pdf.DocumentSpec:
    blocks: list[pdf.Block] = []
    for block in content.get("blocks", []):
        kind = block.get("type")
        if kind == "text":
            blocks.append(pdf.Text(block["text"]))
        elif kind == "list":
            blocks.append(pdf.NumberedList(tuple(block["items"])))
        elif kind == "facts":
            if block["pairs"]:
                blocks.append(pdf.KeyValues(tuple((label, value) for label, value in block["pairs"])))
        elif kind == "table":
            blocks.append(
                pdf.TableBlock(tuple(tuple(row) for row in block["rows"]), col_widths_mm=(42, 58, 58))
            )
        elif kind == "heading":
            blocks.append(pdf.Heading(block["text"]))
    return pdf.DocumentSpec(
        title=content["title"],
        number=content.get("number", ""),
        addressee=content.get("addressee", ""),
        blocks=blocks,
        signature=pdf.Signature(content["issuer"], content["date_text"]),
        qr=pdf.QrCode(
            content["verify_url"],
            caption=("扫码核验真伪", f"验证码：{content['verification_code']}"),
        ),
        created_at=dt.datetime.fromisoformat(content["issued_at"]),
        author=content["issuer"],
        subject=f"{content['title']} {content.get('number', '')}",
        keywords=(content.get("case_number", ""), content.get("enterprise_name", "")),
        footer_note="本文书可扫描二维码，或在政务服务门户“文书核验”页面输入验证码，核验真伪。",
    )


def notice_pdf_bytes(notice: Notice) -> bytes:
    """The notice's PDF rendered from its stored content: the same bytes as the stored file."""
    return pdf.render_pdf(_spec_from_content(notice.content))


def notice_stored_bytes(notice: Notice) -> bytes:
    """The PDF to hand out: the stored file if it still matches its hash, else the identical re-rendering.

    Raises NoticeIntegrityError when neither matches the recorded SHA-256 (the record was altered).
    A notice recorded without its PDF (the demo year's, or one taken over from an older system) is
    rendered and stored the first time it is needed.
    """
    if not notice.sha256:
        return notice_materialize(notice)
    if notice.file:
        try:
            with notice.file.open("rb") as handle:
                data = handle.read()
        except OSError:
            data = b""
        if data and hashlib.sha256(data).hexdigest() == notice.sha256:
            return data
    data = notice_pdf_bytes(notice)
    if hashlib.sha256(data).hexdigest() != notice.sha256:
        raise NoticeIntegrityError(
            _("文书 %(number)s 的存档文件与登记的校验值不符，请联系系统管理员。") % {"number": notice.number}
        )
    return data


def notice_materialize(notice: Notice) -> bytes:
    """Write the full content and the PDF of a notice recorded with its number and code only.

    Its text is built from its case as `notice_issue` builds it; from then on it is an ordinary notice
    whose hash is checked like any other. A notice that already has its PDF is left as it is.
    """
    with transaction.atomic():
        row = (
            Notice.objects.select_for_update(of=("self",))
            .select_related("case", "case__authority", "case__enterprise")
            .get(pk=notice.pk)
        )
        if row.sha256:  # rendered meanwhile by another request
            data = notice_stored_bytes(row)
        else:
            row.content = build_notice_content(
                case=row.case,
                kind=row.kind,
                number=row.number,
                code=row.verification_code,
                issued_at=row.issued_at,
                extra=_materialize_extra(row),
            )
            data = notice_pdf_bytes(row)
            row.sha256 = hashlib.sha256(data).hexdigest()
            row.file.save(f"{row.verification_code}.pdf", ContentFile(data), save=False)
            row.save(update_fields=["content", "sha256", "file", "updated_at"])
    notice.content, notice.sha256, notice.file = row.content, row.sha256, row.file
    return data


def _materialize_extra(notice: Notice) -> dict:
    """What a recorded-only notice's content kept for the texts the case row cannot give back."""
    kept = notice.content or {}
    return {key: kept[key] for key in ("reason", "deficiencies", "changes", "due_on") if kept.get(key)}


# --- issuing -------------------------------------------------------------------------------------------


@transaction.atomic
def notice_issue(
    *,
    case: RegistrationCase,
    kind: str,
    actor,
    extra: dict | None = None,
    issued_at: dt.datetime | None = None,
) -> Notice:
    """Number, write, render and store a notice of `kind` for `case`; returns the saved Notice.

    `extra` carries what the case row does not: deficiencies (一次性告知书), reason (不予登记/延长),
    due_on, changes ([事项, 变更前, 变更后]), uscc, destination_authority (迁移调档函).
    """
    if kind not in NoticeKind.values:
        raise NoticeError(_("未知的文书类型：%(kind)s") % {"kind": kind})
    if case.pk is None:
        raise NoticeError(_("业务尚未保存，不能签发文书。"))
    issued_at = issued_at or timezone.now()
    year = timezone.localtime(issued_at, timezone.get_default_timezone()).year
    authority = case.authority
    prefix = number_prefix(authority=authority, kind=kind)
    sequence = _next_sequence(authority=authority, kind=kind, year=year)
    number = format_notice_number(prefix, year, sequence)
    code = new_verification_code()
    content = build_notice_content(
        case=case, kind=kind, number=number, code=code, issued_at=issued_at, extra=extra
    )
    notice = Notice(
        authority=authority,
        case=case,
        kind=kind,
        number=number,
        verification_code=code,
        issued_at=issued_at,
        issued_by=actor,
        content=content,
    )
    data = notice_pdf_bytes(notice)
    notice.sha256 = hashlib.sha256(data).hexdigest()
    # Named by the random code: unique, and it reveals nothing about the case.
    notice.file.save(f"{code}.pdf", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            notice.save()
    except IntegrityError:
        raise NoticeError(
            _("文书编号 %(number)s 已被使用，请检查“文书签发设置”中的编号前缀是否与其他机关重复。")
            % {"number": number}
        ) from None
    return notice
