"""商事公示 uploads: a checked PDF stored with its hash and text; bad files refused; a file naming another
enterprise stored but flagged."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bizreg.archives.models import ArchiveItem, DigitizationStatus, DocType, ItemSource, OpenStatus
from bizreg.archives.models_search import ItemSearchDoc
from bizreg.archives.services import moves
from bizreg.archives.services.uploads import public_notice_upload, usccs_in_text
from bizreg.archives.tests.factories import pdf_bytes
from bizreg.testing.factories import valid_uscc


def upload(data: bytes, name: str = "章程.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def send(archive, actor, data: bytes, **kwargs):
    params = {"doc_type": DocType.ARTICLES, "title": "公司章程（2024 年修正）"}
    params.update(kwargs)
    return public_notice_upload(archive=archive, actor=actor, upload=upload(data), **params)


def test_upload_stores_pdf_hash_and_text(archive, archivist):
    data = pdf_bytes(f"广州南沙海港科技有限公司 统一社会信用代码：{archive.uscc}", "第一条 本公司依法设立。")
    item = send(archive, archivist, data)
    item.refresh_from_db()
    assert item.source == ItemSource.PUBLIC_NOTICE and item.item_number == 4
    assert item.open_status == OpenStatus.OPEN and item.digitization == DigitizationStatus.DIGITIZED
    assert item.e_file_sha256 == hashlib.sha256(data).hexdigest() and item.e_file_size == len(data)
    with item.e_file.open("rb") as stored:
        assert stored.read() == data
    assert "依法设立" in item.text.replace(" ", "")
    assert item.pages >= 1 and item.flags == []
    assert ItemSearchDoc.objects.filter(item_id=item.pk).exists()


def test_upload_naming_another_enterprise_is_stored_and_flagged(archive, archivist, client_for):
    other = valid_uscc("440106")
    item = send(
        archive,
        archivist,
        pdf_bytes(f"变更登记通知书 统一社会信用代码：{other}"),
        doc_type=DocType.NOTICE_CHANGE,
    )
    assert ArchiveItem.objects.filter(pk=item.pk).exists()
    assert [f["code"] for f in item.flags] == ["other_enterprise"]
    assert other in item.flags[0]["message"]
    page = client_for(archivist).get(reverse("archives:archive_detail", args=[archive.pk]))
    assert 'data-testid="item-flag"' in page.content.decode()
    page = client_for(archivist).get(reverse("archives:item_detail", args=[item.pk]))
    assert other in page.content.decode()


def test_usccs_in_text_ignores_invalid_and_glued_codes(archive):
    good = valid_uscc()
    text = f"代码{good}；错误 91440101MA5XXXXXX0；粘连 X{good}"
    assert usccs_in_text(text) == [good]


def test_zero_byte_upload_refused(archive, archivist):
    with pytest.raises(ValidationError, match="0 字节"):
        send(archive, archivist, b"")
    assert archive.items.count() == 3


def test_non_pdf_upload_refused(archive, archivist):
    with pytest.raises(ValidationError, match="不是 PDF"):
        send(archive, archivist, b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
    assert archive.items.count() == 3


def test_corrupt_pdf_refused(archive, archivist):
    with pytest.raises(ValidationError) as exc:
        send(archive, archivist, b"%PDF-1.7\n" + b"garbage" * 50)
    assert "upload" in exc.value.error_dict


def test_pdf_with_script_refused(archive, archivist):
    data = pdf_bytes("第一条").replace(b"%%EOF", b"/JavaScript (app.alert(1))\n%%EOF")
    with pytest.raises(ValidationError, match="拒收"):
        send(archive, archivist, data)


def test_oversized_upload_refused(archive, archivist, settings):
    settings.ARCHIVES_MAX_UPLOAD_MB = 0
    with pytest.raises(ValidationError, match="上传上限"):
        send(archive, archivist, pdf_bytes("第一条"))


@pytest.mark.parametrize(
    "params, field", [({"doc_type": DocType.IDENTITY}, "doc_type"), ({"title": " "}, "title")]
)
def test_upload_bad_fields_refused(archive, archivist, params, field):
    with pytest.raises(ValidationError) as exc:
        send(archive, archivist, pdf_bytes("第一条"), **params)
    assert field in exc.value.error_dict


def test_upload_to_moved_out_archive_refused(archive, archivist):
    moves.archive_move_out(archive=archive, actor=archivist, destination="天河区", reason="调档函")
    with pytest.raises(ValidationError, match="已迁出"):
        send(archive, archivist, pdf_bytes("第一条"))


def test_upload_needs_permission(archive, department_viewer):
    with pytest.raises(PermissionDenied):
        send(archive, department_viewer, pdf_bytes("第一条"))


def test_upload_page(archive, archivist, client_for):
    client = client_for(archivist)
    url = reverse("archives:archive_upload", args=[archive.pk])
    assert client.get(url).status_code == 200
    empty = client.post(url, {"doc_type": DocType.ARTICLES, "title": "章程", "upload": upload(b"")})
    assert empty.status_code == 400 and "0 字节" in empty.content.decode()
    ok = client.post(
        url, {"doc_type": DocType.ARTICLES, "title": "章程", "upload": upload(pdf_bytes("第一条"))}
    )
    assert ok.status_code == 302
    assert archive.items.filter(source=ItemSource.PUBLIC_NOTICE).count() == 1


def test_upload_page_forbidden_to_department_viewer(archive, department_viewer, client_for):
    response = client_for(department_viewer).get(reverse("archives:archive_upload", args=[archive.pk]))
    assert response.status_code == 403
