"""Transfer-list pages per role, and one list taken through its steps in the browser's way."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from bizreg.archives.models import ArchiveEvent, TransferList, TransferState
from bizreg.archives.selectors import transfers as selectors
from bizreg.archives.services import transfers as services
from bizreg.archives.tests.test_transfers_services import completed  # noqa: F401
from bizreg.registration.tests.cases_fixtures import (  # noqa: F401
    intake,
    intake_data,
    licence_stock,
    step,
    street,
)

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def test_pages_per_role(client_for, authority, archivist, manager, department_viewer, digitizer, clerk):
    transfer = TransferList.objects.create(authority=authority, number="YJ-2025-0009", created_by=archivist)
    detail = reverse("archives:transfer_detail", args=[transfer.pk])
    pages = [
        reverse("archives:transfer_list"),
        detail,
        reverse("archives:transfer_export_xlsx", args=[transfer.pk]),
        reverse("archives:transfer_export_pdf", args=[transfer.pk]),
    ]
    for user in (archivist, manager):
        for url in pages:
            assert client_for(user).get(url).status_code == 200, (user, url)
    for user in (department_viewer, digitizer, clerk):
        for url in [*pages, reverse("archives:transfer_build")]:
            assert client_for(user).get(url).status_code == 403, (user, url)
    assert client_for(manager).get(reverse("archives:transfer_build")).status_code == 403
    assert client_for(archivist).get(reverse("archives:transfer_build")).status_code == 200


def test_other_authority_list_is_404(client_for, other_authority, other_archivist, archivist):
    transfer = TransferList.objects.create(
        authority=other_authority, number="YJ-2025-0099", created_by=other_archivist
    )
    assert (
        client_for(archivist).get(reverse("archives:transfer_detail", args=[transfer.pk])).status_code == 404
    )


def test_build_sign_send_receive_through_the_pages(client_for, archivist, manager, completed):  # noqa: F811
    c = client_for(archivist)
    page = c.get(reverse("archives:transfer_build"))
    assert completed["withdrawn"].number in body(page)
    response = c.post(
        reverse("archives:transfer_build"),
        {"title": "第一批", "case_ids": [completed["licensed"].pk, completed["withdrawn"].pk]},
    )
    assert response.status_code == 302
    transfer = TransferList.objects.get()
    detail = reverse("archives:transfer_detail", args=[transfer.pk])
    html = body(c.get(detail))
    assert 'class="table-danger"' in html and "公司章程" in html  # the missing material, in red
    assert "确认清单" not in html  # the archivist may not sign

    # Signing is the manager's; the archivist is refused.
    assert c.post(reverse("archives:transfer_action", args=[transfer.pk, "sign"])).status_code == 403
    assert (
        client_for(manager).post(reverse("archives:transfer_action", args=[transfer.pk, "sign"])).status_code
        == 302
    )
    # Signing again: 409 with the reason.
    again = client_for(manager).post(reverse("archives:transfer_action", args=[transfer.pk, "sign"]))
    assert again.status_code == 409 and "已签收确认" in body(again)

    send = reverse("archives:transfer_action", args=[transfer.pk, "send"])
    assert c.post(send, {"contractor": ""}).status_code == 400
    assert c.post(send, {"contractor": "广州某数字化公司"}).status_code == 302

    receive = reverse("archives:transfer_receive", args=[transfer.pk])
    form = c.get(receive)
    assert form.status_code == 200
    entries = list(transfer.entries.order_by("id"))
    data = {"step": "receive", **{f"returned_{e.pk}": e.present_items for e in entries}}
    data[f"returned_{entries[0].pk}"] = entries[0].present_items + 1
    bad = c.post(receive, data)
    assert bad.status_code == 400 and "请填写清点说明" in body(bad)
    data[f"note_{entries[0].pk}"] = "多一件他案材料"
    assert c.post(receive, data).status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == TransferState.RECEIVED
    assert 'data-testid="discrepancies"' in body(c.get(detail))

    xlsx = c.get(reverse("archives:transfer_export_xlsx", args=[transfer.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    cells = {str(cell.value) for row in sheet.iter_rows() for cell in row}
    assert completed["licensed"].number in cells
    pdf = c.get(reverse("archives:transfer_export_pdf", args=[transfer.pk]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace("\n", "")
    assert completed["withdrawn"].number in text


def test_list_filters_and_search(client_for, authority, archivist, completed):  # noqa: F811
    transfer = services.transfer_build(
        authority=authority, actor=archivist, case_ids=[completed["licensed"].pk]
    )
    c = client_for(archivist)
    url = reverse("archives:transfer_list")
    assert transfer.number in body(c.get(url, {"q": completed["licensed"].number}))
    assert transfer.number not in body(c.get(url, {"q": "不存在的企业名"}))
    assert transfer.number not in body(c.get(url, {"state": "sent"}))
    bad = c.get(url, {"date_from": "2025-05-01", "date_to": "2025-04-01"})
    assert bad.status_code == 200 and "起始日期不能晚于截止日期" in body(bad)
    cancel = reverse("archives:transfer_action", args=[transfer.pk, "cancel"])
    assert c.post(cancel, {"reason": ""}).status_code == 400
    assert c.post(cancel, {"reason": "重编"}).status_code == 302
    assert c.post(reverse("archives:transfer_action", args=[transfer.pk, "explode"])).status_code == 404


@pytest.fixture
def built(authority, archivist, completed):  # noqa: F811
    """A list of the three completed cases (two paper, one born digital)."""
    return services.transfer_build(authority=authority, actor=archivist)


@pytest.fixture
def sent(built, archivist, manager):
    """The list signed and at the contractor."""
    transfer = built
    services.transfer_sign(transfer=transfer, actor=manager)
    return services.transfer_send(transfer=transfer, actor=archivist, contractor="广州某数字化公司")


def test_detail_pages_its_entries_and_filters_them(client_for, archivist, completed, built, monkeypatch):  # noqa: F811
    monkeypatch.setattr(selectors, "ENTRY_PAGE_SIZE", 1)
    transfer = built
    c = client_for(archivist)
    detail = reverse("archives:transfer_detail", args=[transfer.pk])
    licensed, withdrawn, online = (completed[k].number for k in ("licensed", "withdrawn", "online"))

    first = body(c.get(detail))
    assert "第 1 / 3 页" in first and "纸质档案（移交扫描）2 件" in first and "电子原生档案" in first
    assert sum(number in first for number in (licensed, withdrawn, online)) == 1
    third = body(c.get(detail, {"page": 3}))
    assert online in third and licensed not in third

    digital = body(c.get(detail, {"section": "born_digital"}))
    assert online in digital and licensed not in digital and withdrawn not in digital
    missing = body(c.get(detail, {"problem": "missing"}))
    assert withdrawn in missing and "公司章程" in missing and licensed not in missing
    found = body(c.get(detail, {"q": completed["licensed"].number}))
    assert licensed in found and withdrawn not in found
    # The pager keeps the filter.
    assert "?section=paper&page=2" in body(c.get(detail, {"section": "paper"}))

    bad = c.get(detail, {"section": "boxes", "problem": "lost"})
    assert bad.status_code == 200 and 'data-testid="filter-errors"' in body(bad)
    assert "第 1 / 3 页" in body(bad)  # a bad filter filters nothing


def test_receive_page_counts_in_sittings_then_receives(client_for, archivist, sent, monkeypatch):
    monkeypatch.setattr(selectors, "ENTRY_PAGE_SIZE", 1)
    transfer = sent
    first, second = selectors.transfer_entries(transfer).paper
    c = client_for(archivist)
    receive = reverse("archives:transfer_receive", args=[transfer.pk])

    page = body(c.get(receive))
    assert "已清点 0 / 2 件" in page and first.case.number in page and second.case.number not in page
    assert f'name="returned_{first.pk}"' in page and f'value="{first.present_items}"' in page

    # One short entry, saved with its note: the list stays out, the count is kept and logged.
    saved = c.post(
        receive + "?problem=uncounted",
        {"step": "save", f"returned_{first.pk}": first.present_items - 1, f"note_{first.pk}": "少一件，待补"},
    )
    assert saved.status_code == 302 and saved["Location"].endswith("?problem=uncounted")
    transfer.refresh_from_db()
    first.refresh_from_db()
    assert transfer.state == TransferState.SENT
    assert (first.returned_items, first.return_note) == (first.present_items - 1, "少一件，待补")
    event = ArchiveEvent.objects.get(object_type="transferlist", object_id=transfer.pk, action="count")
    assert event.actor == archivist and "清点 1 件业务，其中 1 件不符" in event.reason

    # The page now opens on the entry not yet counted; the counted one is kept under 已清点.
    page = body(c.get(receive))
    assert "已清点 1 / 2 件" in page and second.case.number in page and first.case.number not in page
    counted = body(c.get(receive, {"problem": "counted"}))
    assert first.case.number in counted and "少一件，待补" in counted

    # Receiving now with the first entry still uncounted is refused, nothing changes.
    refused = c.post(receive, {"step": "receive"})
    assert refused.status_code == 400 and f"业务 {second.case.number}：请填写返还件数" in body(refused)
    # A short count without a note is refused on save too.
    no_note = c.post(receive, {"step": "save", f"returned_{second.pk}": 0})
    assert no_note.status_code == 400 and "请填写清点说明" in body(no_note)
    second.refresh_from_db()
    assert second.returned_items is None

    done = c.post(receive, {"step": "receive", f"returned_{second.pk}": second.present_items})
    assert done.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == TransferState.RECEIVED
    assert [e.pk for e in services.transfer_discrepancies(transfer)] == [first.pk]
    detail = body(c.get(reverse("archives:transfer_detail", args=[transfer.pk])))
    assert (
        "1 件业务返还件数与移交不符" in detail
        and "编制清单" in detail
        and "保存清点" in detail
        and "已移交扫描 → 已接收清点" in detail
    )


def test_receive_page_refuses_entries_of_another_list_or_born_digital(
    client_for, archivist, manager, clerk, sent
):
    transfer = sent
    online = selectors.transfer_entries(transfer).born_digital[0]
    receive = reverse("archives:transfer_receive", args=[transfer.pk])
    c = client_for(archivist)
    foreign = c.post(receive, {"step": "save", "returned_999999": 1})
    assert foreign.status_code == 400 and "不属于本清单的条目" in body(foreign)
    digital = c.post(receive, {"step": "save", f"returned_{online.pk}": 1})
    assert digital.status_code == 400 and "不属于本清单纸质部分" in body(digital)
    negative = c.post(
        receive, {"step": "save", f"returned_{selectors.transfer_entries(transfer).paper[0].pk}": -1}
    )
    assert negative.status_code == 400
    assert not ArchiveEvent.objects.filter(object_id=transfer.pk, action="count").exists()
    for user in (manager, clerk):
        assert client_for(user).get(receive).status_code == 403
        assert client_for(user).post(receive, {"step": "receive"}).status_code == 403


def test_receive_page_of_a_list_not_sent_shows_no_buttons(client_for, archivist, built):
    transfer = built
    receive = reverse("archives:transfer_receive", args=[transfer.pk])
    page = body(client_for(archivist).get(receive))
    assert 'data-testid="not-receivable"' in page and 'value="receive"' not in page
    refused = client_for(archivist).post(receive, {"step": "receive"})
    assert refused.status_code == 409
