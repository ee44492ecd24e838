"""Transfer lists built from real registration cases (made through registration.services), their steps and
refusals, and the Excel/PDF exports read back."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook
from pypdf import PdfReader

from bizreg.archives.models import (
    ArchiveFile,
    ArchiveItem,
    ArchiveStatus,
    DocType,
    ItemSource,
    TransferState,
)
from bizreg.archives.selectors import transfers as selectors
from bizreg.archives.services import transfers as services
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.registration.tests.cases_fixtures import (  # noqa: F401
    all_material_codes,
    intake,
    intake_data,
    licence_stock,
    step,
    street,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(intake, step, licence_stock):  # noqa: F811 — fixtures imported above
    """A licensed establishment (window), a withdrawn one missing its articles, a licensed one-stop case."""
    licence_stock(5)

    def licensed(**overrides):
        case = step(step(step(intake(**overrides), "pass_pre_review"), "accept"), "approve")
        return step(case, "issue_licence")

    materials = [c for c in all_material_codes("establishment", mandatory_only=True) if c != "articles"]
    withdrawn = step(intake(materials=materials), "withdraw")
    return {
        "licensed": licensed(),
        "withdrawn": withdrawn,
        "online": licensed(channel="one_stop"),
        "open": intake(),  # still at intake: never on a list
    }


def build(authority, archivist, **kwargs):
    return services.transfer_build(authority=authority, actor=archivist, **kwargs)


def test_build_from_completed_cases_flags_missing_materials(authority, archivist, completed):
    transfer = build(authority, archivist, title="2025 年第一批")
    assert transfer.number.startswith("YJ-") and transfer.number.endswith("-0001")
    entries = {e.case_id: e for e in transfer.entries.all()}
    assert set(entries) == {completed[k].pk for k in ("licensed", "withdrawn", "online")}

    withdrawn = entries[completed["withdrawn"].pk]
    assert withdrawn.missing == ["公司章程"]
    assert withdrawn.present_items == withdrawn.expected_items - 1
    # No register entry for a withdrawn establishment: an archive under the applied-for name.
    assert withdrawn.archive.enterprise_id is None
    assert withdrawn.archive.enterprise_name == completed["withdrawn"].enterprise_name

    licensed = entries[completed["licensed"].pk]
    assert licensed.missing == [] and licensed.present_items == licensed.expected_items == 7
    assert licensed.archive.enterprise == completed["licensed"].enterprise
    items = ArchiveItem.objects.filter(case=completed["licensed"])
    assert items.count() == 7 and set(items.values_list("source", flat=True)) == {ItemSource.PAPER}
    assert items.filter(doc_type=DocType.ARTICLES, title="公司章程").exists()
    assert items.filter(doc_type=DocType.APPLICATION).exists()

    online = ArchiveItem.objects.filter(case=completed["online"])
    assert set(online.values_list("source", flat=True)) == {ItemSource.BORN_DIGITAL}
    sections = selectors.transfer_entries(transfer)
    assert [e.case_id for e in sections.born_digital] == [completed["online"].pk]
    assert len(sections.paper) == 2 and sections.missing_count == 1


def test_case_on_a_live_list_is_not_taken_again(authority, archivist, completed):
    first = build(authority, archivist, case_ids=[completed["licensed"].pk])
    with pytest.raises(ValidationError) as exc:
        build(authority, archivist, case_ids=[completed["licensed"].pk])
    assert completed["licensed"].number in str(exc.value)
    second = build(authority, archivist)
    assert first.number != second.number
    assert completed["licensed"].pk not in set(second.entries.values_list("case_id", flat=True))


def test_open_case_refused(authority, archivist, completed):
    with pytest.raises(ValidationError) as exc:
        build(authority, archivist, case_ids=[completed["open"].pk])
    assert "未办结" in str(exc.value)


def test_nothing_to_transfer_and_bad_period(authority, archivist, completed):
    build(authority, archivist)
    with pytest.raises(ValidationError) as exc:
        build(authority, archivist)
    assert "没有可移交" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        build(authority, archivist, period_start=dt.date(2025, 5, 1), period_end=dt.date(2025, 4, 1))
    assert "截止日期不能早于起始日期" in str(exc.value)


def test_roles_that_may_not_build(authority, manager, department_viewer, completed):
    for user in (manager, department_viewer):
        with pytest.raises(PermissionDenied):
            build(authority, user)


def test_cancelled_list_frees_its_cases_without_duplicating_items(authority, archivist, completed):
    first = build(authority, archivist, case_ids=[completed["licensed"].pk])
    with pytest.raises(ValidationError):
        services.transfer_cancel(transfer=first, actor=archivist)
    services.transfer_cancel(transfer=first, actor=archivist, reason="编错了")
    second = build(authority, archivist, case_ids=[completed["licensed"].pk])
    assert second.entries.get().archive == first.entries.get().archive
    assert ArchiveItem.objects.filter(case=completed["licensed"]).count() == 7


def test_sign_send_receive_with_discrepancy(authority, archivist, manager, completed):
    transfer = build(authority, archivist)
    with pytest.raises(PermissionDenied):
        services.transfer_sign(transfer=transfer, actor=archivist)
    with pytest.raises(TransitionNotAllowed):
        services.transfer_send(transfer=transfer, actor=archivist, contractor="某数字化公司")
    transfer = services.transfer_sign(transfer=transfer, actor=manager)
    assert transfer.state == TransferState.SIGNED and transfer.signed_by == manager
    with pytest.raises(ValidationError):
        services.transfer_send(transfer=transfer, actor=archivist, contractor=" ")
    transfer = services.transfer_send(transfer=transfer, actor=archivist, contractor="广州某数字化公司")
    assert transfer.state == TransferState.SENT and transfer.contractor == "广州某数字化公司"
    with pytest.raises(TransitionNotAllowed):
        services.transfer_cancel(transfer=transfer, actor=archivist, reason="x")

    paper = selectors.transfer_entries(transfer).paper
    short, full = paper
    # A short count without a note is refused, nothing changes.
    with pytest.raises(ValidationError) as exc:
        services.transfer_receive(
            transfer=transfer,
            actor=archivist,
            counts={short.pk: (short.present_items - 1, ""), full.pk: (full.present_items, "")},
        )
    assert "请填写清点说明" in str(exc.value)
    transfer.refresh_from_db()
    assert transfer.state == TransferState.SENT
    # Shelved meanwhile: the folder goes back to 待整理 to take its papers.
    ArchiveFile.objects.filter(pk=full.archive_id).update(status=ArchiveStatus.SHELVED)
    transfer = services.transfer_receive(
        transfer=transfer,
        actor=archivist,
        counts={short.pk: (short.present_items - 1, "少一件，待补"), full.pk: (full.present_items, "")},
    )
    assert transfer.state == TransferState.RECEIVED and transfer.received_by == archivist
    assert [e.pk for e in services.transfer_discrepancies(transfer)] == [short.pk]
    assert ArchiveFile.objects.get(pk=full.archive_id).status == ArchiveStatus.PENDING


def test_receive_needs_every_paper_entry(authority, archivist, manager, completed):
    transfer = build(authority, archivist)
    services.transfer_sign(transfer=transfer, actor=manager)
    services.transfer_send(transfer=transfer, actor=archivist, contractor="某公司")
    with pytest.raises(ValidationError) as exc:
        services.transfer_receive(transfer=transfer, actor=archivist, counts={})
    assert "请填写返还件数" in str(exc.value)
    online = selectors.transfer_entries(transfer).born_digital[0]
    with pytest.raises(ValidationError):
        services.transfer_receive(transfer=transfer, actor=archivist, counts={online.pk: (1, "")})


def test_counting_in_parts_keeps_the_list_out_until_received(
    authority, archivist, manager, completed, monkeypatch
):
    transfer = build(authority, archivist)
    with pytest.raises(TransitionNotAllowed):  # not out yet
        services.transfer_count_entries(transfer=transfer, actor=archivist, counts={})
    services.transfer_sign(transfer=transfer, actor=manager)
    services.transfer_send(transfer=transfer, actor=archivist, contractor="某公司")
    first, second = selectors.transfer_entries(transfer).paper
    online = selectors.transfer_entries(transfer).born_digital[0]
    with pytest.raises(PermissionDenied):
        services.transfer_count_entries(transfer=transfer, actor=manager, counts={first.pk: (1, "")})
    with pytest.raises(ValidationError, match="不属于本清单纸质部分"):
        services.transfer_count_entries(transfer=transfer, actor=archivist, counts={online.pk: (1, "")})

    assert (
        services.transfer_count_entries(
            transfer=transfer, actor=archivist, counts={first.pk: (first.present_items, "")}
        )
        == 1
    )
    # The same count again changes nothing and logs nothing more.
    assert (
        services.transfer_count_entries(
            transfer=transfer, actor=archivist, counts={first.pk: (first.present_items, "")}
        )
        == 0
    )
    assert summary_of(transfer) == (2, 1, 0)

    monkeypatch.setattr(services, "_NAMED_UNCOUNTED", 0)
    with pytest.raises(ValidationError, match="共 1 件业务尚未清点或清点有误"):
        services.transfer_receive(transfer=transfer, actor=archivist)
    # The stored count of the first entry and the given one of the second close the list.
    received = services.transfer_receive(
        transfer=transfer, actor=archivist, counts={second.pk: (second.present_items + 1, "多一件他案材料")}
    )
    assert received.state == TransferState.RECEIVED
    assert summary_of(received) == (2, 2, 1)
    with pytest.raises(TransitionNotAllowed):  # closed: no more counting
        services.transfer_count_entries(transfer=transfer, actor=archivist, counts={first.pk: (0, "x")})


def summary_of(transfer) -> tuple[int, int, int]:
    summary = selectors.transfer_summary(transfer)
    return summary.paper, summary.counted, summary.discrepancies


def test_numbers_are_consecutive_per_year(authority, archivist, completed):
    a = build(authority, archivist, case_ids=[completed["licensed"].pk])
    b = build(authority, archivist, case_ids=[completed["withdrawn"].pk])
    assert int(b.number[-4:]) == int(a.number[-4:]) + 1 and a.number[:8] == b.number[:8]


def test_exports_open_and_contain_the_case_numbers(authority, archivist, completed):
    transfer = build(authority, archivist)
    workbook = selectors.transfer_workbook(transfer)
    buffer = io.BytesIO()
    workbook.save(buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    for key in ("licensed", "withdrawn", "online"):
        assert completed[key].number in cells
    assert "公司章程" in cells and any("签字" in c for c in cells)
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(selectors.transfer_pdf(transfer))).pages
    )
    compact = text.replace(" ", "").replace("\n", "")
    for key in ("licensed", "withdrawn", "online"):
        assert completed[key].number in compact
    assert transfer.number in compact and "签字" in compact
