"""The questionnaire: the default version, answers checked per question type (the bad-input rule
"questionnaire answers of the wrong type"), versions on edit (past visits keep theirs), and its pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.tracking.models import AnswerType, Questionnaire
from bizreg.tracking.services import questionnaires as services
from bizreg.tracking.services import visits as visit_services
from bizreg.tracking.tests.fixtures_visits import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _edited(questionnaire, **changes):
    rows = [
        {
            "code": q.code,
            "text": q.text,
            "answer_type": q.answer_type,
            "choices": q.choices,
            "required": q.required,
            "signals_move_out": q.signals_move_out,
            "help_text": q.help_text,
        }
        for q in questionnaire.questions.all()
    ]
    return rows + changes.get("add", [])


def test_the_default_questionnaire_is_created_once(authority):
    questionnaire = services.questionnaire_active(authority=authority)
    assert (questionnaire.version, questionnaire.is_active) == (1, True)
    questions = list(questionnaire.questions.all())
    assert len(questions) == 8
    types = {q.code: q.answer_type for q in questions}
    assert types["employees"] == AnswerType.INTEGER
    assert types["difficulties"] == AnswerType.MULTI
    assert types["move_date"] == AnswerType.DATE
    assert [q.code for q in questions if q.signals_move_out] == ["move_out_plan"]
    assert not next(q for q in questions if q.code == "move_date").required
    assert services.questionnaire_active(authority=authority) == questionnaire
    assert Questionnaire.objects.filter(authority=authority).count() == 1


def test_answers_are_turned_into_their_types(authority):
    questionnaire = services.questionnaire_active(authority=authority)
    cleaned = services.answers_clean(
        questionnaire=questionnaire,
        answers={
            "employees": " 35 ",
            "revenue_trend": "基本持平",
            "difficulties": ["融资难", "融资难", "其他"],
            "expand_plan": "是",
            "move_out_plan": False,
            "move_date": dt.date(2030, 1, 31),
            "satisfaction": "满意",
            "remarks": "",
        },
    )
    assert cleaned == {
        "employees": 35,
        "revenue_trend": "基本持平",
        "difficulties": ["融资难", "其他"],
        "expand_plan": True,
        "move_out_plan": False,
        "move_date": "2030-01-31",
        "satisfaction": "满意",
    }


@pytest.mark.parametrize(
    ("code", "value", "message"),
    [
        ("employees", "三十五", "“职工人数”须为整数。"),
        ("employees", "12.5", "“职工人数”须为整数。"),
        ("employees", True, "“职工人数”须为整数。"),
        ("employees", "-3", "“职工人数”不能为负数。"),
        ("revenue_trend", "翻了一番", "“近一年营业收入变化”没有“翻了一番”这个选项。"),
        ("revenue_trend", ["基本持平"], "“近一年营业收入变化”须选择一个选项。"),
        ("difficulties", ["融资难", "太热"], "“当前经营的主要困难”没有“太热”这个选项。"),
        ("difficulties", 3, "“当前经营的主要困难”须为选项列表。"),
        ("expand_plan", "也许", "“是否有扩大经营的计划”须回答“是”或“否”。"),
        ("move_date", "明年三月", "“预计迁出时间”须为日期（YYYY-MM-DD）。"),
        ("remarks", {"a": 1}, "“其他意见建议”须为文字。"),
    ],
)
def test_answers_of_the_wrong_type_are_refused_per_question(authority, code, value, message):
    questionnaire = services.questionnaire_active(authority=authority)
    with pytest.raises(ValidationError) as exc:
        services.answers_clean(questionnaire=questionnaire, answers={code: value}, require_all=False)
    assert exc.value.message_dict == {code: [message]}


def test_unknown_question_and_missing_required_answers(authority):
    questionnaire = services.questionnaire_active(authority=authority)
    with pytest.raises(ValidationError) as exc:
        services.answers_clean(questionnaire=questionnaire, answers={"shoe_size": "42", "employees": "3"})
    errors = exc.value.message_dict
    assert errors["shoe_size"] == ["问卷（第 1 版）中没有编码为“shoe_size”的题目。"]
    assert errors["revenue_trend"] == ["请回答“近一年营业收入变化”。"]
    assert "employees" not in errors and "remarks" not in errors
    # A draft may leave required questions open.
    assert services.answers_clean(
        questionnaire=questionnaire, answers={"employees": "3"}, require_all=False
    ) == {"employees": 3}


def test_decimal_answers(authority, manager):
    questionnaire = services.questionnaire_active(authority=authority)
    rows = _edited(
        questionnaire, add=[{"code": "revenue", "text": "年营业收入（万元）", "answer_type": "decimal"}]
    )
    new = services.questionnaire_update(
        questionnaire=questionnaire, actor=manager, title="问卷", questions=rows
    )
    assert services.answers_clean(questionnaire=new, answers={"revenue": "1234.5"}, require_all=False) == {
        "revenue": "1234.50"
    }
    with pytest.raises(ValidationError) as exc:
        services.answers_clean(questionnaire=new, answers={"revenue": "一千"}, require_all=False)
    assert exc.value.message_dict == {"revenue": ["“年营业收入（万元）”须为数值。"]}


def test_editing_makes_a_new_version_and_past_visits_keep_theirs(
    authority, manager, officer, enterprise, today
):
    v1 = services.questionnaire_active(authority=authority)
    visit = visit_services.visit_create(
        authority=authority,
        enterprise_id=enterprise.pk,
        actor=officer,
        method="phone",
        visited_on=today,
        answers={"employees": "8"},
    )
    rows = [row for row in _edited(v1) if row["code"] != "remarks"]
    rows.append(
        {"code": "digital", "text": "是否使用电子营业执照", "answer_type": "yes_no", "required": True}
    )
    v2 = services.questionnaire_update(
        questionnaire=v1, actor=manager, title="企业走访问卷（2025 版）", questions=rows
    )

    v1.refresh_from_db()
    assert (v2.version, v2.is_active, v1.is_active) == (2, True, False)
    assert [q.code for q in v2.questions.all()][-1] == "digital"
    assert "remarks" in {q.code for q in v1.questions.all()}
    assert services.questionnaire_active(authority=authority) == v2
    visit.refresh_from_db()
    assert visit.questionnaire == v1
    # The draft is still checked against the version it was started on.
    with pytest.raises(ValidationError) as exc:
        visit_services.visit_update(visit=visit, actor=officer, answers={"digital": "yes"})
    assert "digital" in exc.value.message_dict
    # The old version is history: editing it is refused.
    with pytest.raises(TransitionNotAllowed):
        services.questionnaire_update(questionnaire=v1, actor=manager, title="x", questions=rows)


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ({"code": "1st-item", "text": "x", "answer_type": "text"}, "编码须以小写字母开头"),
        ({"code": "employees", "text": "重复", "answer_type": "text"}, "编码“employees”重复"),
        ({"code": "rank", "text": "", "answer_type": "text"}, "请填写题目"),
        ({"code": "rank", "text": "排名", "answer_type": "ranking"}, "请选择答案类型"),
        ({"code": "rank", "text": "排名", "answer_type": "choice", "choices": "甲"}, "至少需要两个选项"),
        ({"code": "rank", "text": "排名", "answer_type": "text", "signals_move_out": True}, "迁出意向信号"),
    ],
)
def test_bad_questions_are_refused(authority, manager, row, fragment):
    questionnaire = services.questionnaire_active(authority=authority)
    with pytest.raises(ValidationError) as exc:
        services.questionnaire_update(
            questionnaire=questionnaire,
            actor=manager,
            title="问卷",
            questions=_edited(questionnaire, add=[row]),
        )
    assert any(fragment in message for message in exc.value.message_dict["questions"])
    assert Questionnaire.objects.filter(authority=authority).count() == 1


def test_choices_may_be_typed_as_text(authority, manager):
    questionnaire = services.questionnaire_active(authority=authority)
    row = {"code": "size", "text": "企业规模", "answer_type": "choice", "choices": "大型、中型，小型\n微型"}
    new = services.questionnaire_update(
        questionnaire=questionnaire, actor=manager, title="问卷", questions=_edited(questionnaire, add=[row])
    )
    assert new.questions.get(code="size").choices == ["大型", "中型", "小型", "微型"]


def test_only_a_manager_of_the_authority_edits_the_questionnaire(
    authority, other_authority, officer, make_user
):
    questionnaire = services.questionnaire_active(authority=authority)
    rows = _edited(questionnaire)
    with pytest.raises(PermissionDenied):
        services.questionnaire_update(questionnaire=questionnaire, actor=officer, title="x", questions=rows)
    foreign = make_user("manager", authorities=[other_authority])
    with pytest.raises(PermissionDenied):
        services.questionnaire_update(questionnaire=questionnaire, actor=foreign, title="x", questions=rows)


# --- pages ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("officer", 200), ("manager", 200), ("department", 403), ("clerk", 403)]
)
def test_questionnaire_page_by_role(client_for, officer, manager, department_member, clerk, role, status):
    user = {"officer": officer, "manager": manager, "department": department_member, "clerk": clerk}[role]
    response = client_for(user).get(reverse("tracking:questionnaire_detail"))
    assert response.status_code == status
    if status == 200:
        assert "职工人数" in response.content.decode()


def test_a_past_version_is_shown_by_number(client_for, authority, manager):
    v1 = services.questionnaire_active(authority=authority)
    services.questionnaire_update(questionnaire=v1, actor=manager, title="第二版问卷", questions=_edited(v1))
    client = client_for(manager)
    page = client.get(reverse("tracking:questionnaire_detail") + "?version=1").content.decode()
    assert "历史版本" in page and "企业走访问卷" in page
    assert client.get(reverse("tracking:questionnaire_detail") + "?version=9").status_code == 404


def _formset_post(questionnaire, title="企业走访问卷", extra=None):
    rows = [
        {
            "code": q.code,
            "text": q.text,
            "answer_type": q.answer_type,
            "choices": "、".join(q.choices),
            "required": "on" if q.required else "",
            "signals_move_out": "on" if q.signals_move_out else "",
            "help_text": q.help_text,
        }
        for q in questionnaire.questions.all()
    ]
    rows += extra or []
    data = {
        "version": questionnaire.version,
        "title": title,
        "questions-TOTAL_FORMS": len(rows),
        "questions-INITIAL_FORMS": questionnaire.questions.count(),
        "questions-MIN_NUM_FORMS": 0,
        "questions-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            if value not in ("", None):
                data[f"questions-{index}-{name}"] = value
    return data


def test_manager_saves_the_edit_page_as_a_new_version(client_for, authority, manager, officer):
    v1 = services.questionnaire_active(authority=authority)
    client = client_for(manager)
    assert client.get(reverse("tracking:questionnaire_edit")).status_code == 200
    data = _formset_post(v1, extra=[{"code": "export", "text": "是否有出口业务", "answer_type": "yes_no"}])
    data["questions-0-DELETE"] = "on"  # drop 职工人数
    response = client.post(reverse("tracking:questionnaire_edit"), data)
    assert response.status_code == 302
    v2 = services.questionnaire_active(authority=authority)
    codes = [q.code for q in v2.questions.all()]
    assert v2.version == 2 and codes[-1] == "export" and "employees" not in codes
    assert client_for(officer).get(reverse("tracking:questionnaire_edit")).status_code == 403


def test_the_edit_page_shows_bad_questions(client_for, authority, manager):
    v1 = services.questionnaire_active(authority=authority)
    data = _formset_post(
        v1, extra=[{"code": "size", "text": "企业规模", "answer_type": "choice", "choices": "大"}]
    )
    response = client_for(manager).post(reverse("tracking:questionnaire_edit"), data)
    assert response.status_code == 400
    assert "第 9 题：单选、多选题至少需要两个选项。" in response.content.decode()
    assert services.questionnaire_active(authority=authority).version == 1


def test_saving_an_outdated_edit_page_is_a_conflict(client_for, authority, manager):
    v1 = services.questionnaire_active(authority=authority)
    data = _formset_post(v1)
    services.questionnaire_update(questionnaire=v1, actor=manager, title="他人先改", questions=_edited(v1))
    response = client_for(manager).post(reverse("tracking:questionnaire_edit"), data)
    assert response.status_code == 409
