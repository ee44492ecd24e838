"""The visit questionnaire (走访问卷): versioned per authority. Editing the active version makes a new one and
leaves the old untouched, so a past visit's answers are always read against the questions it was asked.
`answers_clean` turns submitted answers (form strings or JSON values) into the stored types, with one message
per question that names it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from bizreg.core.models import Authority
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.tracking.models import AnswerType, Question, Questionnaire
from bizreg.tracking.services.common import Errors, assert_authority, assert_perm, clean_text, text

ADD = "tracking.add_questionnaire"
CHANGE = "tracking.change_questionnaire"
DEFAULT_TITLE = "企业走访问卷"
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CHOICE_TYPES = frozenset({AnswerType.CHOICE, AnswerType.MULTI})
# A move-out intention is a "yes" or a chosen option; the other types cannot carry the signal.
SIGNAL_TYPES = frozenset({AnswerType.YES_NO, AnswerType.CHOICE})
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "on", "是"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "off", "否"})
MAX_TEXT = 2000
CHOICE_SPLIT = re.compile(r"[\n\r、，,；;|]+")

DEFAULT_QUESTIONS: list[dict[str, Any]] = [
    {
        "code": "employees",
        "text": "职工人数",
        "answer_type": AnswerType.INTEGER,
        "required": True,
        "help_text": "含劳务派遣，按最近一个月计",
    },
    {
        "code": "revenue_trend",
        "text": "近一年营业收入变化",
        "answer_type": AnswerType.CHOICE,
        "choices": ["明显增长", "小幅增长", "基本持平", "有所下降", "明显下降"],
        "required": True,
    },
    {
        "code": "difficulties",
        "text": "当前经营的主要困难",
        "answer_type": AnswerType.MULTI,
        "choices": [
            "融资难",
            "用工招工难",
            "场地租金成本高",
            "市场需求不足",
            "政策不了解或难兑现",
            "审批办事不便",
            "配套设施不足",
            "其他",
        ],
    },
    {
        "code": "expand_plan",
        "text": "是否有扩大经营的计划",
        "answer_type": AnswerType.YES_NO,
        "required": True,
    },
    {
        "code": "move_out_plan",
        "text": "是否有迁出本区的打算",
        "answer_type": AnswerType.YES_NO,
        "required": True,
        "signals_move_out": True,
    },
    {
        "code": "move_date",
        "text": "预计迁出时间",
        "answer_type": AnswerType.DATE,
        "help_text": "有迁出打算时填写",
    },
    {
        "code": "satisfaction",
        "text": "对政务服务的满意度",
        "answer_type": AnswerType.CHOICE,
        "choices": ["非常满意", "满意", "基本满意", "不满意", "非常不满意"],
        "required": True,
    },
    {"code": "remarks", "text": "其他意见建议", "answer_type": AnswerType.TEXT},
]


def _create_version(
    *, authority: Authority, title: str, questions: Sequence[Mapping[str, Any]]
) -> Questionnaire:
    latest = Questionnaire.objects.filter(authority=authority).aggregate(v=Max("version"))["v"] or 0
    questionnaire = Questionnaire.objects.create(
        authority=authority, title=title, version=latest + 1, is_active=True
    )
    Question.objects.bulk_create(
        Question(
            questionnaire=questionnaire,
            code=q["code"],
            order=(index + 1) * 10,
            text=q["text"],
            answer_type=q["answer_type"],
            choices=list(q.get("choices") or []),
            required=bool(q.get("required")),
            signals_move_out=bool(q.get("signals_move_out")),
            help_text=q.get("help_text", ""),
        )
        for index, q in enumerate(questions)
    )
    return questionnaire


def questionnaire_active(*, authority: Authority) -> Questionnaire:
    """The authority's active version; on first use the default questionnaire (version 1)."""
    active = Questionnaire.objects.filter(authority=authority, is_active=True).order_by("-version").first()
    if active is not None:
        return active
    if Questionnaire.objects.filter(authority=authority).exists():
        # Versions exist but none is active (deactivated in the admin): the latest one serves.
        return Questionnaire.objects.filter(authority=authority).order_by("-version").first()
    try:
        with transaction.atomic():
            return _create_version(authority=authority, title=DEFAULT_TITLE, questions=DEFAULT_QUESTIONS)
    except IntegrityError:  # another request created version 1 first
        return Questionnaire.objects.filter(authority=authority).order_by("-version").first()


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return text(value).lower() in TRUE_WORDS


def _choices(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else CHOICE_SPLIT.split(text(value))
    seen: dict[str, None] = {}
    for item in items:
        item = text(item)
        if item:
            seen.setdefault(item, None)
    return list(seen)


def questions_clean(questions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The edited questions checked (ValidationError on "questions", each message naming the question's
    place) and normalised: choices as a list (text may separate them by 、，, or new lines)."""
    problems: list[str] = []
    cleaned: list[dict[str, Any]] = []
    codes: set[str] = set()
    for index, raw in enumerate(questions, start=1):
        where = f"第 {index} 题"
        code = text(raw.get("code")).lower()
        question_text = text(raw.get("text"))
        answer_type = text(raw.get("answer_type"))
        if not CODE_RE.match(code):
            problems.append(
                f"{where}：编码须以小写字母开头，只含小写字母、数字和下划线（不超过 40 个字符）。"
            )
        elif code in codes:
            problems.append(f"{where}：编码“{code}”重复。")
        codes.add(code)
        if not question_text:
            problems.append(f"{where}：请填写题目。")
        elif len(question_text) > 200:
            problems.append(f"{where}：题目不能超过 200 个字。")
        if answer_type not in AnswerType.values:
            problems.append(f"{where}：请选择答案类型。")
        choices = _choices(raw.get("choices")) if answer_type in CHOICE_TYPES else []
        if answer_type in CHOICE_TYPES and len(choices) < 2:
            problems.append(f"{where}：单选、多选题至少需要两个选项。")
        if any(len(choice) > 50 for choice in choices):
            problems.append(f"{where}：每个选项不能超过 50 个字。")
        signals = _flag(raw.get("signals_move_out"))
        if signals and answer_type not in SIGNAL_TYPES:
            problems.append(f"{where}：只有是/否题或单选题可以作为迁出意向信号。")
        help_text = text(raw.get("help_text"))
        if len(help_text) > 200:
            problems.append(f"{where}：填写说明不能超过 200 个字。")
        cleaned.append(
            {
                "code": code,
                "text": question_text,
                "answer_type": answer_type,
                "choices": choices,
                "required": _flag(raw.get("required")),
                "signals_move_out": signals,
                "help_text": help_text,
            }
        )
    if not cleaned:
        problems.append("问卷至少需要一道题目。")
    if problems:
        raise ValidationError({"questions": problems})
    return cleaned


def questionnaire_update(
    *, questionnaire: Questionnaire, actor, title: str, questions: Sequence[Mapping[str, Any]]
) -> Questionnaire:
    """Save edited questions as a new active version (manager); the edited version stays as it was for the
    visits that answered it. Only the active version can be edited (another one → TransitionNotAllowed)."""
    assert_perm(actor, CHANGE, "您的角色无权修改走访问卷。")
    assert_perm(actor, ADD, "您的角色无权修改走访问卷。")
    assert_authority(questionnaire, actor, what="该问卷")
    if not questionnaire.is_active:
        raise TransitionNotAllowed(f"第 {questionnaire.version} 版不是当前启用的问卷，历史版本不能修改。")
    errors = Errors()
    title = clean_text(title, name="title", label="问卷名称", max_length=100, errors=errors)
    try:
        cleaned = questions_clean(questions)
    except ValidationError as exc:
        for message in exc.message_dict["questions"]:
            errors.add("questions", message)
    errors.raise_if_any()
    with transaction.atomic():
        active = list(
            Questionnaire.objects.select_for_update().filter(
                authority_id=questionnaire.authority_id, is_active=True
            )
        )
        if questionnaire.pk not in {q.pk for q in active}:
            raise TransitionNotAllowed("问卷已被他人修改并生成了新版本，请刷新后在新版本上修改。")
        for old in active:
            old.is_active = False
            old._history_user = actor
            old.save(update_fields=["is_active", "updated_at"])
        new = _create_version(authority=questionnaire.authority, title=title, questions=cleaned)
    return new


# --- answers -------------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == ()


def _answer(question: Question, value: Any) -> Any:
    """The answer in its stored type, or raise ValueError with the message for the question."""
    label = f"“{question.text}”"
    kind = question.answer_type
    if kind == AnswerType.TEXT:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(f"{label}须为文字。")
        result = str(value).strip()
        if len(result) > MAX_TEXT:
            raise ValueError(f"{label}不能超过 {MAX_TEXT} 个字。")
        return result
    if kind == AnswerType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"{label}须为整数。")
        if isinstance(value, str) and not re.fullmatch(r"[+-]?\d{1,12}", value.strip()):
            raise ValueError(f"{label}须为整数。")
        number = int(value)
        if number < 0:
            raise ValueError(f"{label}不能为负数。")
        return number
    if kind == AnswerType.DECIMAL:
        if isinstance(value, bool) or not isinstance(value, int | str | float | Decimal):
            raise ValueError(f"{label}须为数值。")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{label}须为数值。") from None
        if not number.is_finite() or abs(number) >= Decimal("1e12"):
            raise ValueError(f"{label}须为数值。")
        return f"{number.quantize(Decimal('0.01'))}"
    if kind == AnswerType.YES_NO:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower() if isinstance(value, str | int) else ""
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"{label}须回答“是”或“否”。")
    if kind == AnswerType.CHOICE:
        if not isinstance(value, str):
            raise ValueError(f"{label}须选择一个选项。")
        choice = value.strip()
        if choice not in question.choices:
            raise ValueError(f"{label}没有“{choice}”这个选项。")
        return choice
    if kind == AnswerType.MULTI:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
            raise ValueError(f"{label}须为选项列表。")
        chosen = list(dict.fromkeys(item.strip() for item in items if item.strip()))
        unknown = [item for item in chosen if item not in question.choices]
        if unknown:
            raise ValueError(f"{label}没有“{'、'.join(unknown)}”这个选项。")
        return [choice for choice in question.choices if choice in chosen]
    if kind == AnswerType.DATE:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        raise ValueError(f"{label}须为日期（YYYY-MM-DD）。")
    raise ValueError(f"{label}的答案类型无法识别。")


def answers_clean(*, questionnaire: Questionnaire, answers: Mapping, require_all: bool = True) -> dict:
    """{code: answer} in the questions' order and stored types; unanswered questions are left out.

    Refuses (ValidationError keyed by question code) an answer of the wrong type, an unknown option, an
    unknown question code and — with `require_all` (submitting) — a required question left unanswered; a
    draft is saved with `require_all=False`.
    """
    questions = list(questionnaire.questions.all())
    known = {q.code for q in questions}
    errors = Errors()
    for code in answers:
        if code not in known:
            errors.add(str(code), f"问卷（第 {questionnaire.version} 版）中没有编码为“{code}”的题目。")
    result: dict[str, Any] = {}
    for question in questions:
        value = answers.get(question.code)
        if _blank(value):
            if require_all and question.required:
                errors.add(question.code, f"请回答“{question.text}”。")
            continue
        try:
            answer = _answer(question, value)
        except ValueError as exc:
            errors.add(question.code, str(exc))
            continue
        result[question.code] = answer
    errors.raise_if_any()
    return result


def answer_display(question: Question, value: Any) -> str:
    """An answer as the pages and exports show it."""
    if value is None or value == "" or value == []:
        return "—"
    if question.answer_type == AnswerType.YES_NO:
        return "是" if value else "否"
    if question.answer_type == AnswerType.MULTI and isinstance(value, list):
        return "、".join(str(item) for item in value)
    return str(value)
