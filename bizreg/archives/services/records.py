"""Archive files and their items: opening an enterprise's archive, adding and describing items (著录).

档号 (DA/T 22-2015): an archive file is 全宗号-门类代码·年度-保管期限-机构代码 + a four-digit serial of the
authority and year (one enterprise, one archive: the serial stands in for the enterprise); an item is the
archive's code + "-" + its four-digit 件号. The 全宗号 and 机构代码 come from settings
(ARCHIVES_FONDS_CODE, ARCHIVES_ORGANIZATION_CODE) or, failing that, the authority's own code.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from bizreg.archives.models import (
    ArchiveFile,
    ArchiveItem,
    ArchiveStatus,
    Classification,
    DocType,
    ItemSource,
    OpenStatus,
    Retention,
)
from bizreg.archives.services.events import record_event
from bizreg.core.models import Authority

CATEGORY_CODE = "SS"  # 门类代码: 商事登记

# Registration materials (registration.MaterialRequirement.code) → the item's document type.
_DOC_TYPE_BY_MATERIAL = {
    DocType.APPLICATION: (
        "application",
        "change_application",
        "dereg_application",
        "simple_dereg_application",
        "filing_application",
        "migration_in_application",
        "migration_out_application",
    ),
    DocType.ARTICLES: ("articles", "articles_amendment"),
    DocType.RESOLUTION: ("resolution", "dissolution_resolution", "migration_resolution"),
    DocType.IDENTITY: ("shareholder_qualification", "liaison_info", "agent_authorization"),
    DocType.APPOINTMENT: ("officers_appointment", "new_officer_documents"),
    DocType.PREMISES: ("domicile_proof", "new_domicile_proof", "destination_domicile_proof"),
    DocType.DEREGISTRATION: (
        "liquidation_report",
        "creditor_notice",
        "tax_clearance",
        "investor_commitment",
        "public_notice",
    ),
    DocType.MIGRATION: ("migration_letter", "destination_consent"),
    DocType.LICENCE_COPY: ("licence_return",),
}
DOC_TYPE_BY_MATERIAL: dict[str, str] = {
    code: doc_type for doc_type, codes in _DOC_TYPE_BY_MATERIAL.items() for code in codes
}


def doc_type_for_material(code: str) -> str:
    return DOC_TYPE_BY_MATERIAL.get(code, DocType.OTHER)


# Registration notices (registration.NoticeKind) → the item's document type, for the notices a born-digital
# case enters into the e-archive. A 准予注销登记通知书 is an approval notice like the others.
DOC_TYPE_BY_NOTICE: dict[str, str] = {
    "approval_establishment": DocType.NOTICE_APPROVAL,
    "approval_deregistration": DocType.NOTICE_APPROVAL,
    "approval_change": DocType.NOTICE_CHANGE,
    "migration_letter": DocType.MIGRATION,
}


def doc_type_for_notice(kind: str) -> str:
    """受理通知书, 一次性告知书, 不予登记通知书 and 延长期限通知书 are 其他登记文书."""
    return DOC_TYPE_BY_NOTICE.get(kind, DocType.NOTICE_OTHER)


_CODE_ATTEMPTS = 5


def fonds_code_for(authority: Authority) -> str:
    return getattr(settings, "ARCHIVES_FONDS_CODE", "") or f"Q{authority.code[-4:]}"


def organization_code_for(authority: Authority) -> str:
    return getattr(settings, "ARCHIVES_ORGANIZATION_CODE", "") or "DJK"


def archive_code(*, fonds: str, year: int, retention: str, organization: str, serial: int) -> str:
    return f"{fonds}-{CATEGORY_CODE}·{year}-{retention}-{organization}-{serial:04d}"


def item_code(archive: ArchiveFile | str, item_number: int) -> str:
    """An item's 档号 from its archive (or the archive's 档号) and its 件号."""
    code = archive if isinstance(archive, str) else archive.archival_code
    return f"{code}-{item_number:04d}"


def archive_for_enterprise(*, enterprise, actor, year: int | None = None, reason: str = "") -> ArchiveFile:
    """The enterprise's archive, opened (待整理) when it has none yet. One enterprise, one archive: a
    concurrent call gets the archive the other one opened."""
    existing = ArchiveFile.objects.filter(enterprise=enterprise, merged_into__isnull=True).first()
    if existing is not None:
        return existing
    return archive_open(
        authority=enterprise.authority,
        actor=actor,
        enterprise=enterprise,
        enterprise_name=enterprise.name,
        uscc=enterprise.uscc,
        year=year or enterprise.established_on.year,
        reason=reason or "新建企业档案",
    )


def archive_for_case(*, case, actor) -> ArchiveFile:
    """The archive a registration case's items go into: the one its earlier items are in, else its
    enterprise's, else (no register entry: a refused or withdrawn establishment) a new archive under the
    applied-for name."""
    # A case built onto a transfer list that was later cancelled, or whose born-digital documents already
    # entered the e-archive, has its items: reuse that archive.
    earlier = ArchiveItem.objects.filter(case=case).select_related("archive").first()
    if earlier is not None:
        return earlier.archive
    if case.enterprise_id is not None:
        return archive_for_enterprise(enterprise=case.enterprise, actor=actor)
    return archive_open(
        authority=case.authority,
        actor=actor,
        enterprise_name=case.enterprise_name,
        uscc=case.uscc or "",
        year=timezone.localtime(case.received_at).year,
        reason=f"业务 {case.number} 无商事主体，按申请名称建档",
    )


def archive_open(
    *,
    authority: Authority,
    actor,
    enterprise_name: str,
    uscc: str,
    year: int,
    enterprise=None,
    retention: str = Retention.PERMANENT,
    moved_in_from: str = "",
    reason: str = "",
) -> ArchiveFile:
    """Open a new archive file with the next 档号 of its authority and year."""
    if retention not in Retention.values:
        raise ValidationError({"retention": ["保管期限无效。"]})
    if not 1949 <= year <= dt.date.today().year + 1:
        raise ValidationError({"year": [f"年度 {year} 不在合理范围内。"]})
    if not enterprise_name.strip():
        raise ValidationError({"enterprise_name": ["请填写企业名称。"]})
    fonds, organization = fonds_code_for(authority), organization_code_for(authority)
    for _attempt in range(_CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                if enterprise is not None:
                    found = (
                        ArchiveFile.objects.select_for_update()
                        .filter(enterprise=enterprise, merged_into__isnull=True)
                        .first()
                    )
                    if found is not None:
                        return found
                last = ArchiveFile.objects.filter(authority=authority, year=year).count()
                archive = ArchiveFile(
                    authority=authority,
                    archival_code=archive_code(
                        fonds=fonds,
                        year=year,
                        retention=retention,
                        organization=organization,
                        serial=last + 1,
                    ),
                    fonds_code=fonds,
                    category_code=CATEGORY_CODE,
                    year=year,
                    retention=retention,
                    organization_code=organization,
                    enterprise=enterprise,
                    enterprise_name=enterprise_name.strip()[:200],
                    uscc=uscc.strip().upper()[:18],
                    status=ArchiveStatus.PENDING,
                    moved_in_from=moved_in_from[:100],
                )
                archive._history_user = actor
                archive.save()
                record_event(obj=archive, action="open", actor=actor, to_state=archive.status, reason=reason)
                return archive
        except IntegrityError:
            continue  # another archive took this serial (or a concurrent open of the same enterprise): again
    raise ValidationError("档号分配冲突，请稍后重试。")


def item_add(
    *,
    archive: ArchiveFile,
    actor,
    doc_type: str,
    title: str,
    case=None,
    responsible_party: str = "",
    doc_date: dt.date | None = None,
    doc_number: str = "",
    pages: int = 0,
    classification: str = Classification.NONE,
    open_status: str = OpenStatus.CONTROLLED,
    keywords: str = "",
    source: str = ItemSource.PAPER,
) -> ArchiveItem:
    """Add an item (件) with the archive's next 件号."""
    errors: dict[str, list[str]] = {}
    if doc_type not in DocType.values:
        errors["doc_type"] = ["文件类型无效。"]
    if not title.strip():
        errors["title"] = ["请填写题名。"]
    if pages < 0:
        errors["pages"] = ["页数不能为负数。"]
    if classification not in Classification.values:
        errors["classification"] = ["密级无效。"]
    if open_status not in OpenStatus.values:
        errors["open_status"] = ["开放标识无效。"]
    if source not in ItemSource.values:
        errors["source"] = ["来源无效。"]
    if errors:
        raise ValidationError(errors)
    for _attempt in range(_CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                # Re-read under lock: the caller's copy may predate a move-out or merge.
                archive = ArchiveFile.objects.select_for_update().get(pk=archive.pk)
                if archive.status == ArchiveStatus.MOVED_OUT:
                    raise ValidationError({"archive": ["该档案已迁出或已合并，不能再添加档案件。"]})
                number = (archive.items.aggregate(n=Max("item_number"))["n"] or 0) + 1
                item = ArchiveItem(
                    archive=archive,
                    case=case,
                    case_number=getattr(case, "number", "") or "",
                    item_number=number,
                    archival_code=item_code(archive, number),
                    doc_type=doc_type,
                    title=title.strip()[:300],
                    responsible_party=responsible_party.strip()[:200],
                    doc_date=doc_date,
                    doc_number=doc_number.strip()[:60],
                    pages=pages,
                    classification=classification,
                    open_status=open_status,
                    keywords=keywords.strip()[:200],
                    source=source,
                )
                item._history_user = actor
                item.save()
                record_event(
                    obj=archive, action="add_item", actor=actor, reason=f"{item.archival_code} {item.title}"
                )
                return item
        except IntegrityError:
            continue
    raise ValidationError("件号分配冲突，请稍后重试。")
