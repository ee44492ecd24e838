"""Transfer-list pages per role, and one list taken through its steps in the browser's way."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from bizreg.archives.models import TransferList, TransferState
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
    data = {f"returned_{e.pk}": e.present_items for e in entries}
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
    assert bad.status_code == 200 and "截止日期不能早于起始日期" in body(bad)
    cancel = reverse("archives:transfer_action", args=[transfer.pk, "cancel"])
    assert c.post(cancel, {"reason": ""}).status_code == 400
    assert c.post(cancel, {"reason": "重编"}).status_code == 302
    assert c.post(reverse("archives:transfer_action", args=[transfer.pk, "explode"])).status_code == 404
