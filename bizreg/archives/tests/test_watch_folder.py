"""The watched scan folder on real files: a folder is taken only once it holds READY, its files become one
batch (bad ones refused with their reason and kept), the folder ends in .done or .rejected with a
RESULT.txt, two workers never take the same folder, and a folder a dead worker left half done resumes."""

from __future__ import annotations

import io
import os
import threading
from functools import cache
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from bizreg.accounts.models import User
from bizreg.archives.imaging import samples
from bizreg.archives.models import ArchiveEvent, BatchState, DigitizationBatch
from bizreg.archives.services import digitization, watch_folder
from bizreg.archives.tasks import watch_scan_folder

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(settings, tmp_path) -> Path:
    settings.ARCHIVES_WATCH_DIR = tmp_path / "scan-inbox"
    settings.ARCHIVES_WATCH_AUTOSTART = True
    settings.DEFAULT_AUTHORITY_CODE = "440115"  # the `authority` fixture
    return settings.ARCHIVES_WATCH_DIR


@cache
def _image():
    """A generated registration page, shrunk: intake checks read headers and pixels, not the text."""
    page = samples.generate_page(7, "clean")
    return page.image.resize((page.image.width // 4, page.image.height // 4))


def _scan(fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    _image().save(buffer, fmt, dpi=(300, 300), **options)
    return buffer.getvalue()


def _jpeg() -> bytes:
    return _scan("JPEG", quality=85)


def _two_page_pdf() -> bytes:
    buffer = io.BytesIO()
    _image().save(buffer, "PDF", resolution=300.0, save_all=True, append_images=[_image().rotate(180)])
    return buffer.getvalue()


def _drop(inbox: Path, name: str, files: dict[str, bytes], *, ready: bool = True) -> Path:
    folder = inbox / name
    folder.mkdir(parents=True)
    for file_name, data in files.items():
        (folder / file_name).write_bytes(data)
    if ready:
        (folder / "READY").write_text("", encoding="utf-8")
    return folder


def _good_files(item) -> dict[str, bytes]:
    return {
        f"{item.archival_code}-001.tif": _scan("TIFF", compression="tiff_lzw"),
        "page-2.jpg": _jpeg(),
        "notice.pdf": _two_page_pdf(),
    }


def test_a_ready_folder_becomes_one_batch_and_moves_to_done(inbox, authority, archive):
    item = archive.items.order_by("item_number").first()
    files = _good_files(item)
    _drop(inbox, "第一批", files)

    [result] = watch_folder.watch_folder_scan()

    batch = DigitizationBatch.objects.get()
    assert result.batch == batch and batch.authority == authority
    assert batch.pages_total == 4 and batch.pages.count() == 4
    assert batch.pages.filter(item=item).count() == 1  # the DA/T 31 name binds the TIFF to its item
    assert batch.created_by.username == "system.scan-inbox"
    assert not batch.created_by.has_usable_password()  # nobody signs in as the system account
    assert batch.state == BatchState.PROCESSING and batch.job is not None  # ARCHIVES_WATCH_AUTOSTART
    event = ArchiveEvent.objects.get(
        object_type="digitizationbatch", object_id=batch.pk, action="watch_folder"
    )
    assert "第一批" in event.reason

    done = inbox / ".done" / f"{batch.number}-第一批"
    assert result.destination == done and done.is_dir()
    assert not (inbox / "第一批").exists() and not any((inbox / ".processing").iterdir())
    for name, data in files.items():
        assert (done / name).read_bytes() == data  # the contractor's files are kept as delivered
    report = (done / "RESULT.txt").read_text(encoding="utf-8")
    assert batch.number in report and "接收 3 个文件，共 4 页" in report
    assert "notice.pdf（2 页）" in report and "拒收" not in report


def test_a_folder_without_ready_is_left_alone(inbox, authority):
    folder = _drop(inbox, "还在复制", {"a.jpg": _jpeg()}, ready=False)

    assert watch_folder.watch_folder_scan() == []

    assert sorted(p.name for p in folder.iterdir()) == ["a.jpg"]
    assert not DigitizationBatch.objects.exists()
    assert not User.objects.filter(username__startswith="system.").exists()  # an idle minute does nothing


def test_without_a_known_authority_nothing_is_taken(inbox, authority, settings):
    settings.DEFAULT_AUTHORITY_CODE = "000000"
    folder = _drop(inbox, "无机关", {"a.jpg": _jpeg()})

    assert watch_folder.watch_folder_scan() == []

    assert (folder / "a.jpg").exists() and not DigitizationBatch.objects.exists()


def test_bad_files_are_refused_with_their_reason_and_kept(inbox, authority):
    good = _jpeg()
    _drop(
        inbox,
        "混合",
        {
            "0-empty.jpg": b"",
            "1-good.jpg": good,
            "2-truncated.jpg": good[: len(good) // 3],
            "3-notes.txt": b"x",
        },
    )

    [result] = watch_folder.watch_folder_scan()

    batch = DigitizationBatch.objects.get()
    assert batch.pages.count() == 1 and batch.pages.get().original_name == "1-good.jpg"
    assert {r["file"] for r in result.rejected} == {"0-empty.jpg", "2-truncated.jpg", "3-notes.txt"}
    done = inbox / ".done" / f"{batch.number}-混合"
    assert sorted(p.name for p in done.iterdir()) == [
        ".batch",
        "0-empty.jpg",
        "1-good.jpg",
        "2-truncated.jpg",
        "3-notes.txt",
        "READY",
        "RESULT.txt",
    ]
    report = (done / "RESULT.txt").read_text(encoding="utf-8")
    assert "拒收 3 个文件" in report
    for rejected in result.rejected:
        assert f"{rejected['file']}：{rejected['message']}" in report
    assert "为空（0 字节）" in report


def test_a_folder_of_only_bad_files_gets_no_batch(inbox, authority):
    _drop(inbox, "全是坏的", {"empty.tif": b"", "junk.jpg": b"\xff\xd8\xff\xe0 not really a jpeg"})

    [result] = watch_folder.watch_folder_scan()

    assert result.batch is None and not DigitizationBatch.objects.exists()
    rejected = inbox / ".rejected" / "全是坏的"
    assert result.destination == rejected
    assert (rejected / "empty.tif").exists() and (rejected / "junk.jpg").exists()
    report = (rejected / "RESULT.txt").read_text(encoding="utf-8")
    assert "未建批次" in report and "empty.tif" in report and "junk.jpg" in report


def test_subfolders_hidden_files_and_links_are_not_read(inbox, authority, tmp_path):
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(_jpeg())
    folder = _drop(inbox, "杂项", {"scan.jpg": _jpeg(), ".DS_Store": b"\0\0"})
    (folder / "嵌套").mkdir()
    (folder / "嵌套" / "deep.jpg").write_bytes(_jpeg())
    os.symlink(outside, folder / "link.jpg")

    [result] = watch_folder.watch_folder_scan()

    assert [a["file"] for a in result.accepted] == ["scan.jpg"]
    assert {i["file"] for i in result.ignored} == {"嵌套/", "link.jpg"}
    assert result.batch.pages.count() == 1
    report = (result.destination / "RESULT.txt").read_text(encoding="utf-8")
    assert "嵌套/" in report and ".DS_Store" not in report
    assert (result.destination / "嵌套" / "deep.jpg").exists()


def test_too_large_file_is_refused_without_being_read(inbox, authority, settings):
    settings.ARCHIVES_MAX_SCAN_MB = 1
    _drop(
        inbox,
        "大文件",
        {"huge.tif": b"\0" * (1024 * 1024 + 1), "ok.jpg": _jpeg()},
    )

    [result] = watch_folder.watch_folder_scan()

    assert [r["code"] for r in result.rejected] == ["too_large"]
    assert "超过 1 MB" in (result.destination / "RESULT.txt").read_text(encoding="utf-8")


def test_a_gb18030_file_name_is_reported_readably(inbox, authority):
    folder = _drop(inbox, "编码", {})
    with open(os.path.join(os.fsencode(folder), "扫描.jpg".encode("gb18030")), "wb") as fh:
        fh.write(_jpeg())

    [result] = watch_folder.watch_folder_scan()

    assert [a["file"] for a in result.accepted] == ["扫描.jpg"]
    assert result.batch.pages.get().original_name == "扫描.jpg"


def test_without_autostart_the_batch_waits_in_intake(inbox, authority, settings):
    settings.ARCHIVES_WATCH_AUTOSTART = False
    _drop(inbox, "待处理", {"a.jpg": _jpeg()})

    [result] = watch_folder.watch_folder_scan()

    assert result.batch.state == BatchState.INTAKE and result.job is None
    assert "待开始处理" in (result.destination / "RESULT.txt").read_text(encoding="utf-8")


def test_an_actor_without_the_digitization_role_is_refused(inbox, authority, archivist):
    folder = _drop(inbox, "无权", {"a.jpg": _jpeg()})

    with pytest.raises(PermissionDenied):
        watch_folder.watch_folder_scan(actor=archivist)

    assert folder.is_dir() and not DigitizationBatch.objects.exists()


def test_two_workers_racing_for_one_folder_take_it_once(inbox):
    folder = _drop(inbox, "抢", {"a.jpg": b"x"})
    (inbox / ".processing").mkdir()
    start, taken = threading.Barrier(8), []

    def worker():
        start.wait()
        with watch_folder._claim(folder, inbox, fresh=True) as claimed:
            taken.append(claimed)
            start_hold.wait()  # every worker has tried while the winner still holds the folder

    start_hold = threading.Barrier(8)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    winners = [c for c in taken if c is not None]
    assert len(taken) == 8 and winners == [inbox / ".processing" / "抢"]
    assert (inbox / ".processing" / "抢" / "a.jpg").exists()


def test_a_scan_running_while_another_holds_the_folder_takes_nothing(inbox, authority, monkeypatch):
    _drop(inbox, "并发", {"a.jpg": _jpeg()})
    real_add, second = digitization.batch_add_scans, []

    def add_while_a_second_worker_scans(**kwargs):
        second.append(watch_folder.watch_folder_scan())  # the folder is claimed and locked by the first
        return real_add(**kwargs)

    monkeypatch.setattr(digitization, "batch_add_scans", add_while_a_second_worker_scans)
    [first] = watch_folder.watch_folder_scan()

    assert second == [[]]
    assert DigitizationBatch.objects.count() == 1 and first.batch.pages.count() == 1


def test_a_folder_left_half_done_is_resumed_without_duplicates(inbox, authority, monkeypatch):
    files = {f"{n}.jpg": _jpeg() for n in (1, 2, 3)}
    _drop(inbox, "中断", files)
    real_add = digitization.batch_add_scans

    def dies_on_the_second_file(**kwargs):
        if kwargs["files"][0][0] == "2.jpg":
            raise OSError("worker lost its disk")
        return real_add(**kwargs)

    monkeypatch.setattr(digitization, "batch_add_scans", dies_on_the_second_file)
    assert watch_folder.watch_folder_scan() == []  # logged; the folder stays claimed, its lock released
    assert (inbox / ".processing" / "中断" / "1.jpg").exists()
    batch = DigitizationBatch.objects.get()
    assert batch.pages.count() == 1

    monkeypatch.setattr(digitization, "batch_add_scans", real_add)
    [result] = watch_folder.watch_folder_scan()

    assert result.batch == batch and DigitizationBatch.objects.count() == 1
    assert sorted(batch.pages.values_list("original_name", flat=True)) == ["1.jpg", "2.jpg", "3.jpg"]
    assert [a["file"] for a in result.accepted] == ["1.jpg", "2.jpg", "3.jpg"]
    assert result.destination == inbox / ".done" / f"{batch.number}-中断"
    assert not any((inbox / ".processing").iterdir())


def test_a_folder_dropped_again_under_a_used_name_is_kept_apart(inbox, authority):
    for _round in range(2):
        _drop(inbox, "同名", {"a.jpg": _jpeg()})
        watch_folder.watch_folder_scan()

    assert DigitizationBatch.objects.count() == 2
    assert len(list((inbox / ".done").iterdir())) == 2


def test_the_command_and_the_beat_task_run_the_scan(inbox, authority, other_authority):
    _drop(inbox, "命令", {"a.jpg": _jpeg()})
    out = io.StringIO()
    call_command("scan_inbox", "--authority", other_authority.code, stdout=out)
    assert "批次 SM-" in out.getvalue()
    assert DigitizationBatch.objects.get().authority == other_authority

    _drop(inbox, "定时", {"a.jpg": _jpeg()})
    assert watch_scan_folder() == 1
    assert DigitizationBatch.objects.filter(authority=authority).count() == 1


def test_the_command_refuses_an_unknown_authority(inbox):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="没有代码为 999999"):
        call_command("scan_inbox", "--authority", "999999", stdout=io.StringIO())


def test_pil_built_multi_page_tiff_counts_every_page(inbox, authority):
    two_pages = _scan("TIFF", save_all=True, append_images=[_image().rotate(180)])
    _drop(inbox, "多页", {"two.tif": two_pages})

    [result] = watch_folder.watch_folder_scan()

    assert result.pages == 2 and result.batch.pages_total == 2


def test_the_batch_list_shows_the_folder_batch_as_made_by_the_inbox(inbox, authority, digitizer, client_for):
    from django.urls import reverse

    digitization.batch_create(authority=authority, actor=digitizer)  # an uploaded batch beside it
    _drop(inbox, "列表", {"a.jpg": _jpeg()})
    [result] = watch_folder.watch_folder_scan()

    page = client_for(digitizer).get(reverse("archives:batches")).content.decode()
    row = page[page.index(result.batch.number) :].split("</tr>", 1)[0]
    assert watch_folder.SYSTEM_USER_NAME in row
    detail = client_for(digitizer).get(reverse("archives:batch_detail", args=[result.batch.pk]))
    assert "来自扫描收件文件夹“列表”" in detail.content.decode()
