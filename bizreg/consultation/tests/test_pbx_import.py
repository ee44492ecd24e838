"""PBX imports through services.pbx_import on the shipped sample files (bizreg/consultation/samples/):
each format makes the right Calls, re-imports count nothing twice, linked CDRs make one call, malformed
lines are rejected by number (the rest imported, or nothing with all-or-nothing), survey scores join their
calls, big uploads go through the background job. Runs on SQLite and PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from bizreg.consultation import pbx_formats
from bizreg.consultation.models import Call, PbxFormat, PbxImportBatch, PbxRecord
from bizreg.consultation.services import pbx_import
from bizreg.consultation.tests.hotline_fixtures import make_agent, make_hotline
from bizreg.core.models import BackgroundJob

pytestmark = pytest.mark.django_db

SAMPLES = Path(pbx_import.__file__).resolve().parent.parent / "samples"
TZ = pbx_formats.DEFAULT_TZ
Status = PbxImportBatch.Status


def at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2024, 3, 4, hour, minute, second, tzinfo=TZ)


@pytest.fixture
def setup(authority, make_user):
    hotline = make_hotline(authority, lines=5)
    agents = {
        ext: make_agent(make_user("hotline_agent"), authority, f"SIP/{ext}")
        for ext in ("8001", "8002", "8003", "8004", "8005")
    }
    for ext, agent in agents.items():
        agent.extension = ext
        agent.save()
    user = make_user("hotline_agent")
    return {"authority": authority, "hotline": hotline, "agents": agents, "user": user}


def run(setup, name: str, fmt: str, *, all_or_nothing: bool = False, data: bytes | None = None):
    stream = io.BytesIO(data if data is not None else (SAMPLES / name).read_bytes())
    return pbx_import.import_pbx_file(
        authority=setup["authority"],
        actor=setup["user"],
        format=fmt,
        hotline=setup["hotline"],
        stream=stream,
        filename=name,
        all_or_nothing=all_or_nothing,
    )


def call(key: str, source: str = PbxFormat.ASTERISK_CDR) -> Call:
    return Call.objects.select_related("line", "agent").get(source=source, external_id=key)


def facts(c: Call) -> tuple:
    return (
        c.outcome,
        c.wait_seconds,
        c.talk_seconds,
        c.line.position if c.line else None,
        c.agent.pbx_code if c.agent else None,
    )


# --- Asterisk Master.csv --------------------------------------------------------------------------------


def test_master_csv_makes_one_call_per_linkedid_with_its_facts(setup):
    batch = run(setup, "Master.csv", PbxFormat.ASTERISK_CDR)
    assert batch.status == Status.DONE
    assert (batch.lines_total, batch.records_new, batch.records_duplicate, batch.lines_rejected) == (
        11,
        11,
        0,
        0,
    )
    assert (batch.calls_created, batch.calls_updated) == (9, 0)
    assert batch.sha256 and batch.finished_at
    # 18-field lines (no linkedid): the uniqueid is the call key
    assert facts(call("1709512205.1")) == ("answered", 7, 248, 1, "SIP/8001")
    first = call("1709512205.1")
    assert (first.offered_at, first.answered_at, first.ended_at) == (
        at(8, 30, 5),
        at(8, 30, 12),
        at(8, 34, 20),
    )
    assert first.caller_number == "13800138000" and first.hotline == setup["hotline"]
    assert facts(call("1709512860.3")) == ("missed", 30, 0, 2, "SIP/8002")
    # three CDRs of one linkedid (no answer at 8001, answered by 8002, transferred to 8003): one call
    linked = call("1709514000.10")
    assert facts(linked) == ("answered", 24, 420, 3, "SIP/8002")
    assert linked.ended_at == at(9, 7, 30)
    assert Call.objects.filter(external_id__startswith="1709514324").count() == 0
    assert facts(call("1709514600.16"))[:4] == ("busy", 2, 0, 4)  # BUSY: blocked
    assert facts(call("1709514750.17"))[:4] == ("busy", 1, 0, 5)  # CONGESTION
    assert facts(call("1709515200.18")) == ("missed", 3, 0, 2, "SIP/8004")  # FAILED
    assert facts(call("1709517600.20")) == ("abandoned", 40, 0, 1, None)  # answered by the PBX only
    withheld = call("1709518500.21")
    assert facts(withheld) == ("answered", 6, 180, 1, "SIP/8005") and withheld.caller_number == ""
    assert call("1709519400.23").caller_number == "13812345678"  # the out-of-area 0 dropped
    assert Call.objects.count() == 9


def test_reimport_counts_nothing_twice(setup):
    run(setup, "Master.csv", PbxFormat.ASTERISK_CDR)
    again = run(setup, "Master.csv", PbxFormat.ASTERISK_CDR)
    assert again.status == Status.DONE
    assert (again.records_new, again.records_duplicate, again.calls_created, again.calls_updated) == (
        0,
        11,
        0,
        0,
    )
    assert PbxRecord.objects.count() == 11 and Call.objects.count() == 9


def test_overlapping_files_join_a_linked_call_and_keep_the_agents_note(setup):
    lines = (SAMPLES / "Master.csv").read_bytes().splitlines(keepends=True)
    first = run(setup, "part1.csv", PbxFormat.ASTERISK_CDR, data=b"".join(lines[:4]))
    assert (first.records_new, first.calls_created) == (4, 3)
    partial = call("1709514000.10")
    assert facts(partial) == ("answered", 24, 300, 3, "SIP/8002")  # the transfer leg is not there yet
    Call.objects.filter(pk=partial.pk).update(topic="change", summary="咨询变更登记", resolved=True)
    second = run(setup, "Master.csv", PbxFormat.ASTERISK_CDR)
    assert (second.records_new, second.records_duplicate) == (7, 4)
    assert (second.calls_created, second.calls_updated) == (6, 1)
    joined = call("1709514000.10")
    assert joined.pk == partial.pk
    assert facts(joined) == ("answered", 24, 420, 3, "SIP/8002")
    assert (joined.topic, joined.summary, joined.resolved) == ("change", "咨询变更登记", True)


def test_linked_rows_split_across_chunks_still_make_one_call(setup, monkeypatch):
    monkeypatch.setattr(pbx_import, "CHUNK_ROWS", 2)
    batch = run(setup, "Master.csv", PbxFormat.ASTERISK_CDR)
    assert (batch.records_new, batch.calls_created) == (11, 9)
    assert facts(call("1709514000.10")) == ("answered", 24, 420, 3, "SIP/8002")


def test_malformed_lines_are_rejected_with_their_numbers_and_the_rest_imported(setup):
    batch = run(setup, "Master-malformed.csv", PbxFormat.ASTERISK_CDR)
    assert batch.status == Status.DONE
    assert (batch.lines_total, batch.records_new, batch.lines_rejected) == (8, 2, 6)
    assert [e["line"] for e in batch.errors] == [2, 3, 4, 5, 6, 7]
    messages = [e["message"] for e in batch.errors]
    assert messages[0].startswith("第 2 行：字段数为 4")
    assert "格式错误" in messages[1]
    assert "ANSWER" in messages[2] and "无法识别" in messages[2]
    assert "负数" in messages[3]
    assert "引号" in messages[4]
    assert "结束时间早于" in messages[5]
    assert all(e["text"] for e in batch.errors)
    assert set(Call.objects.values_list("external_id", flat=True)) == {"1709512205.1", "1709512860.3"}


def test_all_or_nothing_imports_nothing_when_a_line_is_bad(setup):
    batch = run(setup, "Master-malformed.csv", PbxFormat.ASTERISK_CDR, all_or_nothing=True)
    assert batch.status == Status.REJECTED
    assert (batch.lines_total, batch.records_new, batch.lines_rejected) == (8, 0, 6)
    assert [e["line"] for e in batch.errors] == [2, 3, 4, 5, 6, 7]
    assert not PbxRecord.objects.exists() and not Call.objects.exists()


def test_all_or_nothing_imports_a_clean_file(setup):
    batch = run(setup, "Master.csv", PbxFormat.ASTERISK_CDR, all_or_nothing=True)
    assert (batch.status, batch.records_new, batch.calls_created) == (Status.DONE, 11, 9)


def test_an_unknown_channel_or_agent_leaves_line_and_agent_empty(setup, other_authority, make_user):
    # An agent of another authority with the same PBX code must not be used.
    make_agent(make_user("hotline_agent", authorities=[other_authority]), other_authority, "SIP/8009")
    text = (
        '"","13800138009","39914115","from-trunk","","SIP/trunk9-00000001","SIP/8009-00000002","Queue",'
        '"hotline","2024-03-04 12:00:00","2024-03-04 12:00:05","2024-03-04 12:01:05",65,60,"ANSWERED",'
        '"DOCUMENTATION","1709524800.90","","","1709524800.90",90\n'
    )
    run(setup, "x.csv", PbxFormat.ASTERISK_CDR, data=text.encode())
    assert facts(call("1709524800.90")) == ("answered", 5, 60, None, None)


def test_gb18030_caller_names_are_read(setup):
    line = (SAMPLES / "Master.csv").read_text(encoding="utf-8").splitlines()[0]
    batch = run(setup, "gbk.csv", PbxFormat.ASTERISK_CDR, data=(line + "\r\n").encode("gb18030"))
    assert (batch.records_new, batch.lines_rejected) == (1, 0)
    assert "张先生" in PbxRecord.objects.get().raw


# --- Asterisk queue_log ---------------------------------------------------------------------------------


def test_queue_log_makes_calls_from_each_callid(setup):
    batch = run(setup, "queue_log", PbxFormat.ASTERISK_QUEUE_LOG)
    assert batch.status == Status.DONE
    assert (batch.lines_total, batch.records_new, batch.lines_rejected) == (23, 23, 0)
    assert batch.calls_created == 7  # H is still queueing: no call yet
    q = PbxFormat.ASTERISK_QUEUE_LOG
    answered = call("1709514000.201", q)
    assert facts(answered) == ("answered", 18, 240, None, "SIP/8002")
    assert answered.offered_at == at(9, 0) and answered.caller_number == "13912345678"
    assert answered.ended_at == at(9, 4, 18)
    assert facts(call("1709514100.203", q)) == ("abandoned", 45, 0, None, None)
    assert facts(call("1709514200.204", q)) == ("answered", 6, 300, None, "SIP/8001")
    assert facts(call("1709514300.206", q)) == ("abandoned", 300, 0, None, None)  # EXITWITHTIMEOUT
    assert facts(call("1709514700.207", q)) == ("busy", 0, 0, None, None)  # EXITEMPTY
    assert facts(call("1709514800.208", q)) == ("abandoned", 30, 0, None, None)  # EXITWITHKEY
    assert facts(call("1709514900.209", q)) == ("answered", 10, 120, None, "SIP/8002")  # TRANSFER
    assert not Call.objects.filter(external_id="1709515200.211").exists()
    assert run(setup, "queue_log", PbxFormat.ASTERISK_QUEUE_LOG).records_new == 0


def test_queue_log_malformed_lines(setup):
    batch = run(setup, "queue_log-malformed", PbxFormat.ASTERISK_QUEUE_LOG)
    assert [e["line"] for e in batch.errors] == [2, 3, 4, 5, 6]
    assert (batch.records_new, batch.lines_rejected) == (4, 5)
    assert "不是 Unix 秒数" in batch.errors[0]["message"]
    assert "未知的队列事件" in batch.errors[1]["message"]
    assert "CONNECT 事件缺少" in batch.errors[2]["message"]
    assert "至少应有 5 个字段" in batch.errors[3]["message"]
    assert "负数" in batch.errors[4]["message"]
    assert facts(call("1709514000.201", PbxFormat.ASTERISK_QUEUE_LOG))[0] == "answered"
    rejected = run(setup, "queue_log-malformed", PbxFormat.ASTERISK_QUEUE_LOG, all_or_nothing=True)
    assert (rejected.status, rejected.records_new, rejected.lines_rejected) == (Status.REJECTED, 0, 5)


# --- FreeSWITCH -----------------------------------------------------------------------------------------


def test_freeswitch_cdr_sample(setup):
    batch = run(setup, "freeswitch-Master.csv", PbxFormat.FREESWITCH_CDR)
    assert (batch.status, batch.records_new, batch.calls_created, batch.lines_rejected) == (
        Status.DONE,
        7,
        7,
        0,
    )
    f = PbxFormat.FREESWITCH_CDR
    got = {
        c.external_id[-2:]: (c.outcome, c.wait_seconds, c.talk_seconds) for c in Call.objects.filter(source=f)
    }
    assert got == {
        "01": ("answered", 9, 180),
        "02": ("abandoned", 25, 0),  # ORIGINATOR_CANCEL
        "03": ("busy", 1, 0),  # USER_BUSY
        "04": ("missed", 30, 0),  # NO_ANSWER
        "05": ("abandoned", 50, 0),  # answered by the IVR, never bridged
        "06": ("answered", 12, 120),  # the 15-field template with codecs
        "07": ("busy", 0, 0),  # NORMAL_CIRCUIT_CONGESTION
    }
    assert run(setup, "freeswitch-Master.csv", f).records_duplicate == 7


def test_freeswitch_malformed_lines(setup):
    batch = run(setup, "freeswitch-malformed.csv", PbxFormat.FREESWITCH_CDR)
    assert [e["line"] for e in batch.errors] == [2, 3, 4, 5]
    assert "挂机原因" in batch.errors[0]["message"]
    assert "字段数为 9" in batch.errors[1]["message"]
    assert "uuid" in batch.errors[3]["message"]
    assert (batch.records_new, batch.calls_created) == (2, 2)


# --- the post-call survey -------------------------------------------------------------------------------


def test_survey_scores_join_calls_by_key_or_number_and_time(setup):
    run(setup, "Master.csv", PbxFormat.ASTERISK_CDR)
    run(setup, "queue_log", PbxFormat.ASTERISK_QUEUE_LOG)
    batch = run(setup, "survey.csv", PbxFormat.SURVEY)
    assert batch.status == Status.DONE
    assert (batch.lines_total, batch.records_new, batch.lines_rejected) == (6, 3, 1)
    assert batch.calls_updated == 3
    assert call("1709514000.10").satisfaction_score == 5  # by linkedid
    assert call("1709512205.1").satisfaction_score == 3  # by number + time (08:31 vs 08:30:05)
    assert call("1709514000.201", PbxFormat.ASTERISK_QUEUE_LOG).satisfaction_score == 4
    assert call("1709514000.10").satisfaction_at == dt.datetime(2024, 3, 4, 9, 8, tzinfo=TZ)
    kinds = {e["line"]: e["kind"] for e in batch.errors}
    assert kinds == {5: "unmatched", 6: "rejected", 7: "unmatched"}
    assert "评分“7”应为 1–5" in next(e["message"] for e in batch.errors if e["line"] == 6)
    assert "未找到对应的来电" in next(e["message"] for e in batch.errors if e["line"] == 5)
    again = run(setup, "survey.csv", PbxFormat.SURVEY)
    assert (again.records_new, again.records_duplicate, again.calls_updated) == (0, 3, 0)


def test_survey_by_one_legs_uniqueid_finds_the_linked_call(setup):
    run(setup, "Master.csv", PbxFormat.ASTERISK_CDR)
    data = b"call_id,score,surveyed_at\n1709514324.14,2,2024-03-04 09:10\n"
    batch = run(setup, "s.csv", PbxFormat.SURVEY, data=data)
    assert (batch.records_new, batch.calls_updated) == (1, 1)
    assert call("1709514000.10").satisfaction_score == 2


def test_survey_file_without_its_header_fails_the_batch(setup):
    batch = run(setup, "s.csv", PbxFormat.SURVEY, data=b"1709514000.10,5,2024-03-04 09:08:00\n")
    assert batch.status == Status.FAILED
    assert "表头" in batch.errors[0]["message"]


# --- submitting uploads ---------------------------------------------------------------------------------


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else (SAMPLES / name).read_bytes())


@pytest.mark.parametrize(
    ("fmt", "data", "message"),
    [
        (PbxFormat.ASTERISK_CDR, b"", "文件为空"),
        (PbxFormat.ASTERISK_CDR, b"PK\x03\x04\x00\x00binary", "不是文本文件"),
        (PbxFormat.SURVEY, b"id,score\n1,5\n", "满意度回访格式"),
        ("csv", b"x\n", "请选择文件格式"),
    ],
)
def test_submit_refuses_files_that_cannot_be_imported(setup, fmt, data, message):
    with pytest.raises(ValidationError) as info:
        pbx_import.pbx_import_submit(
            authority=setup["authority"],
            actor=setup["user"],
            format=fmt,
            hotline=setup["hotline"],
            upload=upload("bad.csv", data),
        )
    assert message in str(info.value.message_dict)
    assert not PbxImportBatch.objects.exists()


def test_submit_refuses_another_authoritys_hotline(setup, other_authority):
    with pytest.raises(ValidationError) as info:
        pbx_import.pbx_import_submit(
            authority=setup["authority"],
            actor=setup["user"],
            format=PbxFormat.ASTERISK_CDR,
            hotline=make_hotline(other_authority),
            upload=upload("Master.csv"),
        )
    assert "不属于本登记机关" in str(info.value.message_dict["hotline"])


def test_submit_refuses_an_oversized_file(setup, settings):
    settings.CONSULTATION_PBX_MAX_UPLOAD_BYTES = 100
    with pytest.raises(ValidationError, match="文件过大"):
        pbx_import.pbx_import_submit(
            authority=setup["authority"],
            actor=setup["user"],
            format=PbxFormat.ASTERISK_CDR,
            hotline=setup["hotline"],
            upload=upload("Master.csv"),
        )


def test_small_upload_imports_inline_and_keeps_the_file(setup):
    batch = pbx_import.pbx_import_submit(
        authority=setup["authority"],
        actor=setup["user"],
        format=PbxFormat.ASTERISK_CDR,
        hotline=setup["hotline"],
        upload=upload("Master.csv"),
    )
    assert (batch.status, batch.records_new, batch.file_name) == (Status.DONE, 11, "Master.csv")
    assert batch.file and len(batch.sha256) == 64
    assert not BackgroundJob.objects.exists()


def test_big_upload_runs_in_the_worker_with_progress(
    setup, settings, celery_eager, django_capture_on_commit_callbacks
):
    settings.CONSULTATION_PBX_INLINE_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=True):
        batch = pbx_import.pbx_import_submit(
            authority=setup["authority"],
            actor=setup["user"],
            format=PbxFormat.ASTERISK_QUEUE_LOG,
            hotline=setup["hotline"],
            upload=upload("queue_log"),
            all_or_nothing=True,
        )
    job = BackgroundJob.objects.get(kind=pbx_import.IMPORT_JOB_KIND)
    assert job.parameters["batch_id"] == batch.pk
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.error
    assert (job.done, job.total) == (1000, 1000)
    batch.refresh_from_db()
    assert (batch.status, batch.records_new, batch.calls_created) == (Status.DONE, 23, 7)
    # A redelivered job finds the batch finished and writes nothing more.
    from bizreg.core import jobs

    BackgroundJob.objects.filter(pk=job.pk).update(status=BackgroundJob.Status.PENDING)
    assert jobs.execute(job.pk) == BackgroundJob.Status.SUCCEEDED
    assert Call.objects.count() == 7


def test_a_generated_file_streams_through_many_chunks(setup, monkeypatch):
    """5,000 generated lines in chunks of 700 (the bench's generator, at test size)."""
    from bench.cdr_import import generate_lines

    monkeypatch.setattr(pbx_import, "CHUNK_ROWS", 700)
    data = "".join(generate_lines(5000, seed=3)).encode()
    batch = run(setup, "gen.csv", PbxFormat.ASTERISK_CDR, data=data)
    assert (batch.lines_total, batch.records_new, batch.lines_rejected) == (5000, 5000, 0)
    calls = Call.objects.filter(source=PbxFormat.ASTERISK_CDR)
    assert calls.count() == batch.calls_created == len({r.call_key for r in _rows(data)})
    assert calls.filter(line__isnull=False).count() == calls.count()
    assert set(calls.values_list("outcome", flat=True)) == {"answered", "abandoned", "busy", "missed"}
    assert connection.vendor in ("sqlite", "postgresql")


def _rows(data: bytes):
    return [
        r
        for r in pbx_formats.parse_asterisk_cdr(pbx_formats.numbered_lines(io.BytesIO(data)))
        if isinstance(r, pbx_formats.PbxRow)
    ]


# --- one call in two files: Master.csv and queue_log ------------------------------------------------------

# Two calls seen by both files: A answered by 8002 after 20 s in the queue (the CDR's answer is the
# bridge), B answered by the welcome message and then abandoned in the queue after 30 s. The queue_log
# callid is the CDR's uniqueid/linkedid.
_BOTH_CDR = (
    b'"","13800138000","39914115","from-trunk","""A"" <13800138000>","SIP/line2-00000001",'
    b'"SIP/8001-00000002","Queue","hotline,t,,,300","2024-03-04 10:00:00","2024-03-04 10:00:25",'
    b'"2024-03-04 10:05:25",325,300,"ANSWERED","DOCUMENTATION","1709517600.1","","","1709517600.1",1\n'
    b'"","13911112222","39914115","from-trunk","""B"" <13911112222>","SIP/line4-00000003",'
    b'"","Playback","welcome","2024-03-04 10:10:00","2024-03-04 10:10:00",'
    b'"2024-03-04 10:10:40",40,40,"ANSWERED","DOCUMENTATION","1709518200.3","","","1709518200.3",2\n'
)
_BOTH_QUEUE = (
    b"1709517605|1709517600.1|hotline|NONE|ENTERQUEUE||13800138000|1\n"
    b"1709517625|1709517600.1|hotline|SIP/8002|CONNECT|20|1709517625.2|3000\n"
    b"1709517925|1709517600.1|hotline|SIP/8002|COMPLETECALLER|20|300|1\n"
    b"1709518208|1709518200.3|hotline|NONE|ENTERQUEUE||13911112222|1\n"
    b"1709518238|1709518200.3|hotline|NONE|ABANDON|1|1|30\n"
)


def _both_facts() -> dict[str, tuple]:
    return {
        c.external_id: (
            c.outcome,
            c.wait_seconds,
            c.talk_seconds,
            c.line.position if c.line else None,
            c.agent.pbx_code if c.agent else None,
            c.offered_at,
        )
        for c in Call.objects.select_related("line", "agent")
    }


_BOTH_EXPECTED = {
    # line from the CDR, wait and agent from the queue, talk (billsec) and the offer time from the CDR
    "1709517600.1": ("answered", 20, 300, 2, "SIP/8002", at(10, 0)),
    "1709518200.3": ("abandoned", 30, 0, 4, None, at(10, 10)),
}


@pytest.mark.parametrize("first", [PbxFormat.ASTERISK_CDR, PbxFormat.ASTERISK_QUEUE_LOG])
def test_a_call_in_both_files_is_one_call_whichever_comes_first(setup, first):
    from bizreg.consultation.metrics import call_figures

    files = {PbxFormat.ASTERISK_CDR: _BOTH_CDR, PbxFormat.ASTERISK_QUEUE_LOG: _BOTH_QUEUE}
    second = next(f for f in files if f != first)
    one = run(setup, "one", first, data=files[first])
    Call.objects.filter(external_id="1709517600.1").update(topic="change", resolved=True)
    two = run(setup, "two", second, data=files[second])
    assert (one.calls_created, one.calls_updated) == (2, 0)
    assert (two.records_new, two.calls_created, two.calls_updated) == (len(files[second].splitlines()), 0, 2)
    assert Call.objects.count() == 2
    assert set(Call.objects.values_list("source", flat=True)) == {first}
    assert _both_facts() == _BOTH_EXPECTED
    assert Call.objects.get(external_id="1709517600.1").topic == "change"  # the agent's note is kept
    figures = call_figures([setup["authority"].pk], dt.date(2024, 3, 4), dt.date(2024, 3, 5))
    assert (figures.offered, figures.answered, figures.abandoned) == (2, 1, 1)
    # Both again: nothing new, still one Call each.
    assert run(setup, "one", first, data=files[first]).records_new == 0
    assert run(setup, "two", second, data=files[second]).records_new == 0
    assert Call.objects.count() == 2 and _both_facts() == _BOTH_EXPECTED


def test_more_queue_events_later_update_the_merged_call(setup):
    queue = _BOTH_QUEUE.splitlines(keepends=True)
    run(setup, "q1", PbxFormat.ASTERISK_QUEUE_LOG, data=b"".join(queue[:2]))  # A connected, not completed
    run(setup, "cdr", PbxFormat.ASTERISK_CDR, data=_BOTH_CDR)
    run(setup, "q2", PbxFormat.ASTERISK_QUEUE_LOG, data=_BOTH_QUEUE)
    assert Call.objects.count() == 2
    assert _both_facts() == _BOTH_EXPECTED


def test_merge_facts_precedence():
    cdr = pbx_formats.CallFacts(
        at(9, 0), at(9, 1), at(9, 5), 60, 240, "answered", "138", ("SIP/line1",), ("SIP/8001",)
    )
    queue = pbx_formats.CallFacts(
        at(9, 0, 5), at(9, 1), at(9, 5), 50, 239, "answered", "", ("hotline",), ("SIP/8003",)
    )
    merged = pbx_formats.merge_facts({"asterisk_cdr": cdr, "asterisk_queue_log": queue})
    assert (merged.offered_at, merged.wait_seconds, merged.talk_seconds, merged.caller_number) == (
        at(9, 0),
        50,
        240,
        "138",
    )
    assert merged.line_names[0] == "SIP/line1" and merged.agent_names[0] == "SIP/8003"
    assert pbx_formats.merge_facts({"asterisk_cdr": cdr, "asterisk_queue_log": None}) == cdr


def _slow(data: bytes) -> list:
    return [pbx_formats._cdr_slow(n, t, TZ) for n, t in pbx_formats.numbered_lines(io.BytesIO(data))]


def test_the_fast_cdr_parser_gives_what_the_line_parser_gives():
    """The whole-stream parser must accept, reject (with the same words) and key every line exactly as
    the line-by-line parser: on the samples, generated calls, and lines that trip a shared csv reader."""
    from bench.cdr_import import generate_lines

    good = (SAMPLES / "Master.csv").read_bytes().splitlines(keepends=True)
    tricky = [
        good[0],
        b'"","138","39914115","x","open quote,"SIP/line1-1"\n',  # a quote left open runs into the next line
        good[1],
        b'"","138","39914115","x","a"b","SIP/line1-1"\n',  # a quote inside a field (strict)
        good[2],
        good[2].replace(b'"2024-03-04 09:00:00"', b'"2024-02-30 09:00:00"'),  # no such day
        good[2].replace(b'"2024-03-04 09:00:00"', b'"1970-01-01 08:00:00"'),  # start out of range
        good[2].replace(b'"2024-03-04 09:00:20"', b'"1970-01-01 08:00:00"'),  # end of 1970: "never"
        good[2].replace(b",20,0,", b",20,-1,"),
        good[2].replace(b",20,0,", b",\xef\xbc\x92\xef\xbc\x90,0,"),  # full-width digits
        good[2].replace(b'"NO ANSWER"', b'" no answer "'),
        good[2].replace(b'"1709514000.10",10', b'"1709514000.10",0010'),
        good[2].replace(b'"1709514000.10",10', b'"' + b"9" * 160 + b'",10'),
        good[3] + b"\r\n",
        b'"","138","39914115","x","unclosed at the end\n',
    ]
    for data in (
        (SAMPLES / "Master.csv").read_bytes(),
        (SAMPLES / "Master-malformed.csv").read_bytes(),
        "".join(generate_lines(2000, seed=5)).encode(),
        b"".join(tricky),
    ):
        fast = list(pbx_formats.parse_asterisk_cdr(pbx_formats.numbered_lines(io.BytesIO(data))))
        assert fast == _slow(data)
    kinds = [
        type(r).__name__
        for r in pbx_formats.parse_asterisk_cdr(pbx_formats.numbered_lines(io.BytesIO(b"".join(tricky))))
    ]
    assert kinds.count("PbxRow") >= 5 and kinds.count("LineError") >= 6
