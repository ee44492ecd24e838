"""PBX import pages: who may list and upload, the upload round trip (inline), the list filters and Excel
exports, the error table, and another authority's batch answering 404."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from bizreg.accounts.roles import ROLES
from bizreg.consultation.models import Call, PbxFormat, PbxImportBatch
from bizreg.consultation.services import pbx_import
from bizreg.consultation.tests.hotline_fixtures import make_hotline

pytestmark = pytest.mark.django_db

SAMPLES = Path(pbx_import.__file__).resolve().parent.parent / "samples"
IMPORTERS = {"hotline_agent", "manager"}
READERS = {"hotline_agent", "manager"}


def sample(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (SAMPLES / name).read_bytes(), content_type="text/csv")


@pytest.fixture
def hotline(authority):
    return make_hotline(authority, lines=5)


def imported(authority, hotline, user, name: str, fmt: str = PbxFormat.ASTERISK_CDR) -> PbxImportBatch:
    with open(SAMPLES / name, "rb") as fh:
        return pbx_import.import_pbx_file(
            authority=authority, actor=user, format=fmt, hotline=hotline, stream=fh, filename=name
        )


def test_role_matrix(authority, hotline, role_users, client_for):
    batch = imported(authority, hotline, role_users["manager"], "Master-malformed.csv")
    pages = [
        ("/consultation/imports/", READERS),
        ("/consultation/imports/export/", READERS),
        (f"/consultation/imports/{batch.pk}/", READERS),
        (f"/consultation/imports/{batch.pk}/errors.xlsx", READERS),
        ("/consultation/imports/new/", IMPORTERS),
    ]
    for role in ROLES:
        client = client_for(role_users[role.code])
        for url, allowed in pages:
            expected = 200 if role.code in allowed else 403
            assert client.get(url).status_code == expected, f"{role.code} {url}"


def test_a_reader_without_import_pbx_may_list_but_not_upload(authority, hotline, make_user, client_for):
    reader = make_user()
    reader.user_permissions.add(
        Permission.objects.get(codename="view_pbximportbatch"),
        Permission.objects.get(codename="view_hotlinenumber"),
    )
    client = client_for(reader)
    assert client.get("/consultation/imports/").status_code == 200
    assert client.get("/consultation/imports/new/").status_code == 403
    response = client.post(
        "/consultation/imports/new/",
        {"format": PbxFormat.ASTERISK_CDR, "hotline": hotline.pk, "file": sample("Master.csv")},
    )
    assert response.status_code == 403
    assert not PbxImportBatch.objects.exists() and not Call.objects.exists()


def test_upload_round_trip(authority, hotline, role_users, client_for):
    client = client_for(role_users["hotline_agent"])
    page = client.get("/consultation/imports/new/")
    assert "Master.csv" in page.content.decode()
    response = client.post(
        "/consultation/imports/new/",
        {"format": PbxFormat.ASTERISK_CDR, "hotline": hotline.pk, "file": sample("Master-malformed.csv")},
    )
    assert response.status_code == 302
    batch = PbxImportBatch.objects.get()
    assert response["Location"] == f"/consultation/imports/{batch.pk}/"
    assert (batch.status, batch.records_new, batch.lines_rejected) == ("done", 2, 6)
    assert batch.created_by == role_users["hotline_agent"] and batch.file_name == "Master-malformed.csv"
    detail = client.get(response["Location"]).content.decode()
    assert "新增记录 2 条" in detail and "6 行有错误未导入" in detail
    assert "第 4 行：处置（disposition）“ANSWER”无法识别" in detail
    # The same file again: nothing new.
    client.post(
        "/consultation/imports/new/",
        {"format": PbxFormat.ASTERISK_CDR, "hotline": hotline.pk, "file": sample("Master-malformed.csv")},
    )
    again = PbxImportBatch.objects.order_by("-pk").first()
    assert (again.records_new, again.records_duplicate) == (0, 2)
    assert Call.objects.count() == 2
    listing = client.get("/consultation/imports/").content.decode()
    assert listing.count("Master-malformed.csv") == 2


def test_upload_all_or_nothing_rejects_the_file(authority, hotline, role_users, client_for):
    client = client_for(role_users["hotline_agent"])
    response = client.post(
        "/consultation/imports/new/",
        {
            "format": PbxFormat.ASTERISK_QUEUE_LOG,
            "hotline": hotline.pk,
            "all_or_nothing": "on",
            "file": sample("queue_log-malformed"),
        },
        follow=True,
    )
    text = response.content.decode()
    assert "未导入任何数据" in text and "第 2 行：时间戳" in text
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format": PbxFormat.ASTERISK_CDR, "file": b""}, "空文件"),
        ({"format": PbxFormat.SURVEY, "file": b"a,b\n1,2\n"}, "满意度回访格式"),
        ({"format": "xml", "file": b"x\n"}, "选择一个有效的选项"),
        ({"format": PbxFormat.ASTERISK_CDR, "file": b"\x00\x01\x02"}, "不是文本文件"),
    ],
)
def test_bad_uploads_get_a_form_error(authority, hotline, role_users, client_for, data, message):
    client = client_for(role_users["hotline_agent"])
    payload = {
        "format": data["format"],
        "hotline": hotline.pk,
        "file": SimpleUploadedFile("x.csv", data["file"]),
    }
    response = client.post("/consultation/imports/new/", payload)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PbxImportBatch.objects.exists()


def test_another_authoritys_hotline_cannot_be_chosen(
    authority, hotline, other_authority, role_users, client_for
):
    foreign = make_hotline(other_authority, number="020-11111111")
    response = client_for(role_users["hotline_agent"]).post(
        "/consultation/imports/new/",
        {"format": PbxFormat.ASTERISK_CDR, "hotline": foreign.pk, "file": sample("Master.csv")},
    )
    assert response.status_code == 400 and not PbxImportBatch.objects.exists()


def test_another_authoritys_batch_is_404(authority, other_authority, role_users, make_user, client_for):
    foreign_hotline = make_hotline(other_authority, number="020-11111111")
    foreign = imported(
        other_authority, foreign_hotline, make_user("manager", [other_authority]), "Master.csv"
    )
    client = client_for(role_users["manager"])
    assert client.get(f"/consultation/imports/{foreign.pk}/").status_code == 404
    assert client.get(f"/consultation/imports/{foreign.pk}/errors.xlsx").status_code == 404
    assert client.get("/consultation/imports/999999/").status_code == 404
    assert "共 0 批" in client.get("/consultation/imports/").content.decode()


def test_list_filters_and_export(authority, hotline, role_users, client_for):
    user = role_users["manager"]
    imported(authority, hotline, user, "Master.csv")
    imported(authority, hotline, user, "queue_log", PbxFormat.ASTERISK_QUEUE_LOG)
    imported(authority, hotline, user, "freeswitch-malformed.csv", PbxFormat.FREESWITCH_CDR)
    client = client_for(user)
    page = client.get("/consultation/imports/", {"format": PbxFormat.ASTERISK_QUEUE_LOG}).content.decode()
    assert "queue_log</td>" in page and "Master.csv</td>" not in page
    page = client.get("/consultation/imports/", {"with_errors": "on"}).content.decode()
    assert "freeswitch-malformed.csv" in page and "Master.csv</td>" not in page
    page = client.get("/consultation/imports/", {"status": "rejected"}).content.decode()
    assert "没有符合条件的导入批次" in page
    bad = client.get("/consultation/imports/", {"date_from": "2030-01-02", "date_to": "2030-01-01"})
    assert bad.status_code == 200 and "起始日期不能晚于截止日期" in bad.content.decode()
    response = client.get("/consultation/imports/export/", {"format": PbxFormat.ASTERISK_CDR})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "批次号" and len(rows) == 2 and rows[1][4] == "Master.csv"


def test_error_table_and_export(authority, hotline, role_users, client_for):
    batch = imported(authority, hotline, role_users["manager"], "Master-malformed.csv")
    client = client_for(role_users["hotline_agent"])
    page = client.get(f"/consultation/imports/{batch.pk}/", {"kind": "rejected"}).content.decode()
    assert page.count("<tr><td>") == 6
    response = client.get(f"/consultation/imports/{batch.pk}/errors.xlsx")
    rows = list(
        load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True)
    )
    assert rows[0] == ("行号", "类型", "错误说明", "原始内容")
    assert [r[0] for r in rows[1:]] == [2, 3, 4, 5, 6, 7]
