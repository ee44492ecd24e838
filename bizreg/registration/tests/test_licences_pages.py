"""Licence pages and API: the role matrix, tenancy, bad input through the forms, Excel ledger, warnings."""

# ruff: noqa: F811 — the shared fixtures are imported from docs_fixtures and requested by name

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from bizreg.accounts.roles import ROLES
from bizreg.registration.models import CaseState, LicenceKind, LicenceSheet, RegistrationCase
from bizreg.registration.services import licences
from bizreg.registration.tests.docs_fixtures import (  # noqa: F401
    case,
    clerk,
    make_case,
    manager,
    private_media,
    receive,
)

pytestmark = pytest.mark.django_db

ALL = {role.code for role in ROLES}
STOCK_READERS = {"registration_clerk", "manager"}
PRINTERS = {"registration_clerk"}
STOCK_MANAGERS = {"manager"}
CASE_READERS = {
    "registration_clerk",
    "archivist",
    "investigator",
    "enterprise_officer",
    "manager",
    "hotline_agent",
}


@dataclass
class Check:
    name: str
    method: str
    url: str  # {printed}, {blank}: sheets; {case}: a fresh approved case with no licence yet
    allowed: set[str]
    ok: int
    data: dict[str, Any] = field(default_factory=dict)
    json: bool = False


CHECKS = [
    Check("stock page", "get", "/registration/licences/", STOCK_READERS, 200),
    Check("batch form", "get", "/registration/licences/batches/new/", STOCK_MANAGERS, 200),
    Check(
        "batch post",
        "post",
        "/registration/licences/batches/new/",
        STOCK_MANAGERS,
        302,
        {
            "kind": "original",
            "serial_start": "{serial}",
            "serial_end": "{serial}",
            "unit_cost": "3.5",
            "received_on": "2023-01-05",
        },
    ),
    Check(
        "reorder level",
        "post",
        "/registration/licences/reorder-level/",
        STOCK_MANAGERS,
        302,
        {"kind": "original", "reorder_level": 9},
    ),
    Check("ledger", "get", "/registration/licences/sheets/", STOCK_READERS, 200),
    Check("ledger export", "get", "/registration/licences/sheets/export/", STOCK_READERS, 200),
    Check("spoil form", "get", "/registration/licences/sheets/{printed}/spoil/", PRINTERS, 200),
    Check("void printed form", "get", "/registration/licences/sheets/{printed}/void/", PRINTERS, 200),
    Check("void blank form", "get", "/registration/licences/sheets/{blank}/void/", STOCK_MANAGERS, 200),
    Check("print", "post", "/registration/cases/{case}/print-licence/", PRINTERS, 302, {"kind": "original"}),
    Check("case panel", "get", "/registration/cases/{case}/documents/", CASE_READERS, 200),
    Check("api batches", "get", "/api/licence-batches/", STOCK_READERS, 200),
    Check(
        "api batch create",
        "post",
        "/api/licence-batches/",
        STOCK_MANAGERS,
        201,
        {
            "kind": "duplicate",
            "serial_start": "{serial}",
            "serial_end": "{serial}",
            "unit_cost": "3.50",
            "received_on": "2023-01-05",
        },
        json=True,
    ),
    Check("api sheets", "get", "/api/licence-sheets/", STOCK_READERS, 200),
    Check("api stock", "get", "/api/licence-sheets/stock/", STOCK_READERS, 200),
    Check(
        "api print",
        "post",
        "/api/licence-sheets/print/",
        PRINTERS,
        201,
        {"case": "{case}", "kind": "original"},
        json=True,
    ),
    Check(
        "api spoil",
        "post",
        "/api/licence-sheets/{printed}/spoil/",
        PRINTERS,
        200,
        {"reason": "卡纸"},
        json=True,
    ),
    Check(
        "api void printed",
        "post",
        "/api/licence-sheets/{printed}/void/",
        PRINTERS,
        200,
        {"reason": "交回"},
        json=True,
    ),
    Check(
        "api void blank",
        "post",
        "/api/licence-sheets/{blank}/void/",
        STOCK_MANAGERS,
        200,
        {"reason": "受潮"},
        json=True,
    ),
]


def fill(value, names):
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    return value


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_permission_matrix(check, role_users, client_for, authority, manager, clerk):
    receive(authority, manager, kind=LicenceKind.ORIGINAL, count=40, start=10_000)
    receive(authority, manager, kind=LicenceKind.DUPLICATE, count=40, start=20_000)
    outcomes = {}
    for index, role in enumerate(sorted(ALL)):
        printed = licences.licence_print(case=make_case(authority), kind=LicenceKind.ORIGINAL, actor=clerk)
        blank = LicenceSheet.objects.filter(status=LicenceSheet.Status.BLANK).order_by("-number").first()
        names = {
            "printed": printed.pk,
            "blank": blank.pk,
            "case": make_case(authority).pk,
            "serial": 90_000 + index,
        }
        url, data = fill(check.url, names), fill(check.data, names)
        client = client_for(role_users[role])
        if check.json:
            response = getattr(client, check.method)(url, json.dumps(data), content_type="application/json")
        else:
            response = getattr(client, check.method)(url, data)
        outcomes[role] = response.status_code
    assert outcomes == {role: check.ok if role in check.allowed else 403 for role in ALL}


def test_another_authoritys_sheets_and_cases_do_not_exist_for_me(
    client_for, clerk, other_authority, make_user, authority, manager
):
    other_manager = make_user("manager", authorities=[other_authority])
    receive(other_authority, other_manager, count=3, start=555)
    sheet = LicenceSheet.objects.get(number=555)
    foreign_case = make_case(other_authority)
    client = client_for(clerk)
    assert client.get(f"/registration/licences/sheets/{sheet.pk}/spoil/").status_code == 404
    assert (
        client.post(f"/registration/cases/{foreign_case.pk}/print-licence/", {"kind": "original"}).status_code
        == 404
    )
    assert client.get(f"/api/licence-sheets/{sheet.pk}/").status_code == 404
    response = client.post("/api/licence-sheets/print/", {"case": foreign_case.pk, "kind": "original"})
    assert response.status_code == 404
    assert "NS00000555" not in client.get("/registration/licences/sheets/").content.decode()
    assert LicenceSheet.objects.filter(status=LicenceSheet.Status.PRINTED).count() == 0


def test_batch_form_prefills_today_as_the_date_input_accepts_it(client_for, manager, settings):
    # <input type="date"> takes only YYYY-MM-DD; zh-hans's own first input format (2026/12/07) left it empty.
    settings.LANGUAGE_CODE = "zh-hans"
    page = client_for(manager).get("/registration/licences/batches/new/").content.decode()
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in page


def test_overlapping_batch_through_the_form_is_a_field_error(client_for, manager, authority):
    receive(authority, manager, count=10, start=1000)
    response = client_for(manager).post(
        "/registration/licences/batches/new/",
        {
            "kind": "original",
            "prefix": "ns",
            "serial_start": 1009,
            "serial_end": 1020,
            "unit_cost": "3.5",
            "received_on": "2023-02-01",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-field-error="serial_start"' in page
    assert "编号段与已入库的批次重叠" in page
    assert LicenceSheet.objects.count() == 10


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"serial_start": "abc"}, "serial_start", "起始编号应为整数"),
        ({"serial_end": "5"}, "serial_end", "终止编号不能小于起始编号"),
        ({"unit_cost": "三块"}, "unit_cost", "单价应为金额"),
        ({"kind": ""}, "kind", "请选择执照类型"),
        ({"received_on": "2023-13-01"}, "received_on", ""),
    ],
)
def test_bad_batch_form_input(client_for, manager, data, field, message):
    payload = {
        "kind": "original",
        "serial_start": 10,
        "serial_end": 20,
        "unit_cost": "3.5",
        "received_on": "2023-02-01",
    }
    payload.update(data)
    response = client_for(manager).post("/registration/licences/batches/new/", payload)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'data-field-error="{field}"' in page
    assert message in page
    assert not LicenceSheet.objects.exists()


def test_printing_with_empty_stock_shows_the_chinese_reason(client_for, clerk, case):
    response = client_for(clerk).post(
        f"/registration/cases/{case.pk}/print-licence/", {"kind": "original"}, follow=True
    )
    assert "营业执照正本空白纸已用完，请先登记入库新的执照纸后再打印" in response.content.decode()
    api = client_for(clerk).post("/api/licence-sheets/print/", {"case": case.pk, "kind": "duplicate"})
    assert api.status_code == 409
    assert "副本空白纸已用完" in api.json()["detail"]


def test_spoil_through_the_page_reprints(client_for, clerk, manager, authority, case):
    receive(authority, manager, count=2, start=1)
    sheet = licences.licence_print(case=case, kind=LicenceKind.ORIGINAL, actor=clerk)
    client = client_for(clerk)
    assert client.post(f"/registration/licences/sheets/{sheet.pk}/spoil/", {"reason": ""}).status_code == 400
    response = client.post(
        f"/registration/licences/sheets/{sheet.pk}/spoil/", {"reason": "卡纸", "reprint": "on"}, follow=True
    )
    assert "已登记 NS00000001 打印损坏，并用 NS00000002 重新打印" in response.content.decode()


def test_a_licence_that_left_the_office_offers_void_but_not_spoil(client_for, clerk, manager, authority):
    """The ledger and the case's panel offer 打印损坏 only while the licence is in the office; the spoil
    page says why before a reason is typed, and a POST (page or API) is refused with nothing changed."""
    receive(authority, manager, count=3, start=1)
    kept = make_case(authority, state=CaseState.APPROVED)
    in_office = licences.licence_print(case=kept, kind=LicenceKind.ORIGINAL, actor=clerk)
    archived = make_case(authority)
    handed_over = licences.licence_print(case=archived, kind=LicenceKind.ORIGINAL, actor=clerk)
    RegistrationCase.objects.filter(pk=archived.pk).update(state=CaseState.ARCHIVED)
    client = client_for(clerk)

    ledger = client.get("/registration/licences/sheets/").content.decode()
    rows = dict(re.findall(r'<tr data-serial="(\w+)">(.*?)</tr>', ledger, flags=re.S))
    assert 'data-testid="spoil"' in rows[in_office.serial]
    assert 'data-testid="spoil"' not in rows[handed_over.serial] and "作废" in rows[handed_over.serial]
    panel = client.get(f"/registration/cases/{archived.pk}/documents/").content.decode()
    assert 'data-testid="spoil"' not in panel and "作废" in panel
    panel = client.get(f"/registration/cases/{kept.pk}/documents/").content.decode()
    assert 'data-testid="spoil"' in panel

    url = f"/registration/licences/sheets/{handed_over.pk}/spoil/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        'data-testid="refusal"' in html and "营业执照已发出，不能再登记为打印损坏；如需收回，请作废" in html
    )
    assert 'data-testid="retire-submit"' not in html
    refused = client.post(url, {"reason": "卡纸", "reprint": "on"})
    assert refused.status_code == 400 and "不能再登记为打印损坏" in refused.content.decode()
    api = client.post(f"/api/licence-sheets/{handed_over.pk}/spoil/", {"reason": "卡纸"})
    assert api.status_code == 409 and "如需收回，请作废" in api.json()["detail"]
    assert LicenceSheet.objects.get(pk=handed_over.pk).status == LicenceSheet.Status.PRINTED
    assert LicenceSheet.objects.filter(status=LicenceSheet.Status.PRINTED).count() == 2


def test_ledger_export_is_a_workbook_of_the_filtered_sheets(client_for, clerk, manager, authority, case):
    receive(authority, manager, kind=LicenceKind.ORIGINAL, count=3, start=1)
    receive(authority, manager, kind=LicenceKind.DUPLICATE, count=2, start=100)
    licences.licence_print(case=case, kind=LicenceKind.ORIGINAL, actor=clerk)
    response = client_for(clerk).get("/registration/licences/sheets/export/", {"kind": "original"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("登记机关", "编号", "类型", "状态")
    assert [row[1] for row in rows[1:]] == ["NS00000001", "NS00000002", "NS00000003"]
    assert rows[1][3] == "已打印" and rows[1][7] == case.number and rows[1][8] == case.enterprise_name
    assert rows[2][3] == "空白"


def test_ledger_export_gives_every_column_of_a_spoiled_and_reprinted_sheet(
    client_for, clerk, manager, authority, case
):
    receive(
        authority, manager, kind=LicenceKind.ORIGINAL, count=3, start=1, unit_cost="4.25", supplier="某印刷厂"
    )
    spoiled = licences.licence_print(case=case, kind=LicenceKind.ORIGINAL, actor=clerk)
    reprint = licences.licence_spoil(sheet=spoiled, actor=clerk, reason="卡纸", reprint=True)
    spoiled.refresh_from_db()
    response = client_for(clerk).get("/registration/licences/sheets/export/")
    rows = list(
        load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True)
    )
    by_serial = {row[1]: row for row in rows[1:]}
    local = lambda moment: timezone.localtime(moment).replace(tzinfo=None, microsecond=0)  # noqa: E731
    first = by_serial["NS00000001"]
    assert first[:9] == (
        authority.name,
        "NS00000001",
        "正本",
        "打印损坏",
        dt.datetime(2023, 1, 5),
        "某印刷厂",
        4.25,
        case.number,
        case.enterprise_name,
    )
    assert first[9].replace(microsecond=0) == local(spoiled.used_at)
    assert first[10] == str(clerk) and first[11] == "卡纸"
    assert first[12].replace(microsecond=0) == local(spoiled.retired_at)
    assert first[13:] == (str(clerk), reprint.serial)
    second = by_serial[reprint.serial]
    assert second[3] == "已打印" and second[7] == case.number and second[10] == str(clerk)
    assert second[11:] == (None, None, None, None)
    assert by_serial["NS00000003"][3:] == ("空白", dt.datetime(2023, 1, 5), "某印刷厂", 4.25) + (None,) * 8


def test_reorder_warning_on_the_stock_page_and_the_clerks_home(
    client_for, clerk, manager, authority, settings
):
    settings.LICENCE_REORDER_LEVEL = 10
    receive(authority, manager, kind=LicenceKind.ORIGINAL, count=4)
    receive(authority, manager, kind=LicenceKind.DUPLICATE, count=30)
    page = client_for(clerk).get("/registration/licences/").content.decode()
    assert page.count('data-testid="reorder-warning"') == 1
    assert "营业执照正本空白纸仅剩 4 张，低于补货预警线 10 张" in page
    home = client_for(clerk).get("/").content.decode()
    assert 'data-figure="licence_blank_original">4' in home
    assert "低于补货预警线 10 张" in home
    assert 'data-figure="licence_blank_duplicate">30' in home


def test_the_manager_sets_the_reorder_level(client_for, manager, authority):
    receive(authority, manager, kind=LicenceKind.DUPLICATE, count=30)
    client = client_for(manager)
    client.post("/registration/licences/reorder-level/", {"kind": "duplicate", "reorder_level": 50})
    assert (
        "副本空白纸仅剩 30 张，低于补货预警线 50 张" in client.get("/registration/licences/").content.decode()
    )
    response = client.post(
        "/registration/licences/reorder-level/", {"kind": "duplicate", "reorder_level": -3}, follow=True
    )
    assert "预警线未保存" in response.content.decode()


def test_the_ledger_costs_the_same_queries_for_few_or_many_printed_sheets(
    client_for, clerk, manager, authority
):
    from bizreg.registration.tests.docs_fixtures import queries_for

    receive(authority, manager, count=40, start=1)
    client = client_for(clerk)
    for _ in range(3):
        sheet = licences.licence_print(case=make_case(authority), kind=LicenceKind.ORIGINAL, actor=clerk)
    licences.licence_spoil(sheet=sheet, actor=clerk, reason="卡纸")
    few = queries_for(client, "/registration/licences/sheets/")
    for _ in range(25):
        sheet = licences.licence_print(case=make_case(authority), kind=LicenceKind.ORIGINAL, actor=clerk)
    licences.licence_spoil(sheet=sheet, actor=clerk, reason="卡纸")
    assert queries_for(client, "/registration/licences/sheets/") == few
