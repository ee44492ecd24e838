"""Test data of the archives app, made through the services as staff would make it (the archive and its
items), or directly where only the row matters (shelf locations, enterprises)."""

from __future__ import annotations

import datetime as dt

from bizreg.archives.models import ArchiveFile, DocType, OpenStatus, ShelfLocation
from bizreg.archives.services.records import archive_for_enterprise, item_add
from bizreg.core import pdf
from bizreg.testing import factories

ITEM_SPECS = (
    (DocType.APPLICATION, "公司登记（备案）申请书", OpenStatus.OPEN),
    (DocType.ARTICLES, "公司章程", OpenStatus.OPEN),
    (DocType.IDENTITY, "股东身份证明", OpenStatus.CONTROLLED),
)


def make_enterprise(authority, **kwargs):
    return factories.EnterpriseFactory(authority=authority, **kwargs)


def make_shelf(
    authority,
    *,
    repository: str = "一号库房",
    zone: str = "A",
    column: int = 1,
    section: int = 1,
    layer: int = 1,
    capacity: int = 60,
    is_active: bool = True,
) -> ShelfLocation:
    return ShelfLocation.objects.create(
        authority=authority,
        repository=repository,
        zone=zone,
        column=column,
        section=section,
        layer=layer,
        capacity=capacity,
        is_active=is_active,
    )


def make_archive(*, enterprise, actor, items: int = 3, case=None) -> ArchiveFile:
    """The enterprise's archive with `items` items (application, articles, identity proof, then others)."""
    archive = archive_for_enterprise(enterprise=enterprise, actor=actor)
    for index in range(items):
        doc_type, title, open_status = ITEM_SPECS[index % len(ITEM_SPECS)]
        item_add(
            archive=archive,
            actor=actor,
            doc_type=doc_type,
            title=title if index < len(ITEM_SPECS) else f"{title}（{index + 1}）",
            case=case,
            responsible_party=enterprise.name,
            doc_date=dt.date(2021, 5, 8),
            pages=2,
            open_status=open_status,
        )
    return archive


def pdf_bytes(*lines: str, title: str = "公司章程") -> bytes:
    """A small real PDF with a text layer holding `lines` (rendered with the embedded CJK font)."""
    spec = pdf.DocumentSpec(
        title=title,
        created_at=dt.datetime(2024, 1, 2, 9, 0, tzinfo=dt.UTC),
        blocks=[pdf.Text(line) for line in lines] or [pdf.Text("第一条 本公司依法设立。")],
    )
    return pdf.render_pdf(spec)


def make_borrow(archive, actor, *, kind="paper", days=5, purpose="核对", department="登记科"):
    """A borrowing request (借阅申请) through the service, as the request page makes it."""
    from bizreg.archives.services import borrowing

    return borrowing.borrow_request(
        archive=archive, actor=actor, kind=kind, purpose=purpose, department=department, requested_days=days
    )
