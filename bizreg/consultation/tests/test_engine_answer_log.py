"""The answer log as staff read it: scoped to their authority, filtered, summarised, masked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bizreg.consultation import engine
from bizreg.consultation.models import AnswerLog
from bizreg.consultation.selectors import answers
from bizreg.consultation.tests.engine_kb import build_kb


@pytest.fixture
def asked(authority, other_authority, make_user):
    build_kb(authority, make_user("manager"))
    for question, channel in (
        ("个体工商户怎么办理营业执照", "web_chat"),
        ("营业执照遗失了怎么补领", "wechat"),
        ("公积金贷款怎么申请？我的电话13812345678", "web_chat"),
    ):
        engine.answer(authority_id=authority.pk, question=question, channel=channel)
    # Another authority's log: never visible to this authority's staff.
    engine.answer(authority_id=other_authority.pk, question="公积金贷款怎么申请", channel="qq")


def test_rows_are_scoped_to_the_users_authority(authority, asked, role_users, make_user, other_authority):
    agent = role_users["hotline_agent"]
    assert answers.answer_logs_visible_to(agent).count() == 3
    outsider = make_user("hotline_agent", authorities=[other_authority])
    assert answers.answer_logs_visible_to(outsider).count() == 1


def test_filters(authority, asked, role_users):
    agent = role_users["hotline_agent"]

    def count(**filters):
        return answers.answer_log_search(user=agent, filters=filters).count()

    assert count(outcome="handed_over") == 1
    assert count(outcome="answered") == 2
    assert count(channel="wechat") == 1
    assert count(channel="nonsense") == 3  # an unknown value filters nothing
    assert count(q="公积金") == 1
    assert count(article="kb-0002") == 1
    today = timezone.localdate()
    assert count(date_from=today.isoformat(), date_to=today.isoformat()) == 3
    assert count(date_from=(today + dt.timedelta(days=1)).isoformat()) == 0
    assert count(date_from="2024-13-45") == 3  # a mistyped date is ignored, not an error
    page = answers.answer_log_page(user=agent, filters={}, page="999")
    assert len(page.object_list) == 3


def test_summary(authority, asked, role_users):
    summary = answers.answer_log_summary(user=role_users["manager"], filters={})
    assert (summary.total, summary.answered, summary.handed_over) == (3, 2, 1)
    assert summary.answer_rate == pytest.approx(2 / 3, abs=1e-4)
    assert summary.p95_latency_ms == round(
        max(AnswerLog.objects.filter(authority=authority).values_list("latency_ms", flat=True)), 2
    )
    empty = answers.answer_log_summary(user=role_users["manager"], filters={"channel": "email"})
    assert (empty.total, empty.answer_rate, empty.p95_latency_ms) == (0, None, None)


def test_export_masks_numbers_in_questions(authority, asked, role_users):
    rows = list(
        answers.answer_log_export_rows(answers.answer_log_search(user=role_users["manager"], filters={}))
    )
    assert len(rows) == 3 and len(rows[0]) == len(answers.EXPORT_HEADERS)
    handed = next(r for r in rows if r[3] == "转人工")
    assert "138****5678" in handed[2] and "13812345678" not in handed[2]
    answered = next(r for r in rows if r[4] == "KB-0002")
    assert answered[3] == "智能应答" and answered[5] == "营业执照遗失了怎么补领？"
    full = list(
        answers.answer_log_export_rows(
            answers.answer_log_search(user=role_users["manager"], filters={}), full=True
        )
    )
    assert any("13812345678" in r[2] for r in full)


def test_mask_question():
    assert answers.mask_question("身份证440105199001011234，手机13912345678") == (
        "身份证4401**********1234，手机139****5678"
    )
    assert answers.mask_question("") == ""
