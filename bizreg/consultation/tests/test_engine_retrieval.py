"""The retrieval underneath the answering engine: synonyms and abbreviations, pinyin and homophone typos
respelled to the knowledge base's words, query word weights — and the evaluation set the qa_retrieval
benchmark measures it with (bench/data/qa_eval.json)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bizreg.consultation import engine
from bizreg.consultation.answering.index import KnowledgeDocument, KnowledgeIndex
from bizreg.consultation.answering.text import SUBWORD_QUERY_WEIGHT, Analyzer, Respeller
from bizreg.consultation.demo_content import PART_MODULES, SYNONYMS, all_articles
from bizreg.consultation.tests.engine_kb import build_kb

EVAL_FILE = Path(__file__).resolve().parents[3] / "bench" / "data" / "qa_eval.json"


@pytest.fixture
def kb(authority, make_user):
    return build_kb(authority, make_user("manager"))


def top_code(authority, query, audience="public"):
    found = engine.search(authority_id=authority.pk, query=query, audience=audience, limit=3)
    return found[0].code if found else None


# --- the issue's synonyms, typos and pinyin, end to end ---------------------------------------------------


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("个体户要准备什么材料", "KB-0001"),  # 个体户 → 个体工商户
        ("执照丢了", "KB-0002"),  # 执照 → 营业执照, 丢了 → 遗失
        ("执照要交钱吗", "KB-0008"),
    ],
)
def test_issue_synonyms(authority, kb, question, code):
    result = engine.answer(authority_id=authority.pk, question=question, channel="web_chat", log=False)
    assert result.confident and result.version.article.code == code
    assert f"（来源：知识库 {code}《" in result.text


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("营业执照被掉了怎么补岭", "KB-0002"),  # 岭 for 领 (one character, same sound)
        ("简易注消要什么条件", "KB-0003"),  # 注消: a rare word, read exactly like 注销
        ("法定代表人变跟要啥材料", "KB-0004"),  # 变跟 for 变更 (-n/-ng)
        ("jianyi zhuxiao", "KB-0003"),  # pinyin with spaces
        ("gutiquan zhuanrang", "KB-0007"),  # a stray syllable (ti) in the pinyin
        ("guquanzhuanrang zenme ban", "KB-0007"),  # pinyin without spaces
        ("JingYing FanWei zenme tian", "KB-0010"),  # mixed case
    ],
)
def test_typos_and_pinyin_find_the_article(authority, kb, question, code):
    assert top_code(authority, question) == code


def test_pinyin_question_is_answered_with_confidence(authority, kb):
    result = engine.answer(
        authority_id=authority.pk, question="yingye zhizhao yishi buling", channel="wechat", log=False
    )
    assert result.confident and result.version.article.code == "KB-0002"


# --- the respeller ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def respeller():
    analyzer = Analyzer()
    vocabulary = {"注销": 9, "吊销": 3, "填写": 4, "营业": 8, "执照": 8, "保税": 2, "邮寄": 3, "身份证": 2}
    return Respeller(vocabulary, analyzer.tokenizer.FREQ), analyzer


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("zhuxiao", ["注销"]),
        ("yingyezhizhao", ["营业", "执照"]),
        ("zhizao", ["执照"]),  # zh/z merged
        ("营业执照被掉销了", ["吊销"]),  # 掉销: two characters jieba cannot join, sounding like 吊销
        ("经营范围怎么天写", ["填写"]),
        ("免费油寄", ["邮寄"]),
        ("身分证", ["身份证"]),  # a rare word read exactly like a known one
    ],
)
def test_respeller_finds_the_meant_word(respeller, text, meant):
    speller, analyzer = respeller
    found, replaced = speller.respell(analyzer.tokens(text))
    assert found == meant
    assert replaced


@pytest.mark.parametrize(
    "text",
    [
        "报税",  # a real word (bao4) must not become 保税 (bao3)
        "营业执照",  # known words stay as they are
        "zenme",  # a pinyin stop word
        "ok",  # not pinyin
        "a",  # one letter
        "x" * 80,  # not pinyin, long
        "",
    ],
)
def test_respeller_leaves_real_words_alone(respeller, text):
    speller, analyzer = respeller
    assert speller.respell(analyzer.tokens(text))[0] == []


def test_query_words_weigh_subwords_less():
    analyzer = Analyzer()
    weights = analyzer.query_words(analyzer.tokens("营业执照 遗失"))
    assert weights["营业执照"] == weights["遗失"] == 1.0
    assert weights["营业"] == weights["执照"] == SUBWORD_QUERY_WEIGHT
    # A part written on its own as well counts fully.
    assert analyzer.query_words(analyzer.tokens("营业执照的营业"))["营业"] == 1.0


def test_index_over_no_documents_answers_nothing():
    index = KnowledgeIndex([], {})
    assert index.rank(index.analyse_query("营业执照遗失"), 5) == []


# --- the demo knowledge base and its evaluation set ---------------------------------------------------------


@pytest.fixture(scope="module")
def eval_set():
    return json.loads(EVAL_FILE.read_text(encoding="utf-8"))["questions"]


def _normal(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def test_eval_set_is_big_varied_and_covers_every_part(eval_set):
    articles = {a.code: a for a in all_articles()}
    assert len(eval_set) >= 400
    assert all(item["code"] in articles for item in eval_set), "an evaluation question cites no demo article"
    kinds = Counter(item["kind"] for item in eval_set)
    assert set(kinds) == {"colloquial", "abbreviation", "typo", "pinyin"}
    assert kinds["typo"] >= 10 and kinds["pinyin"] >= 10
    # Every part of the demo content (every module, so every code block) is asked about.
    from importlib import import_module

    asked = {item["code"] for item in eval_set}
    for part in PART_MODULES:
        codes = {a.code for a in import_module(f"bizreg.consultation.demo_content.{part}").ARTICLES}
        assert codes & asked, f"no evaluation question for {part}"
    blocks = {code[:5] for code in articles}
    assert blocks == {code[:5] for code in asked}


def test_eval_questions_are_paraphrases_not_copies(eval_set):
    written = {_normal(t): a.code for a in all_articles() for t in (a.title, *a.variants)}
    copies = [item["question"] for item in eval_set if _normal(item["question"]) in written]
    assert copies == []
    assert len({_normal(item["question"]) for item in eval_set}) == len(eval_set)  # no duplicates


@pytest.mark.django_db(False)
def test_demo_knowledge_base_answers_most_of_a_sample_quickly(eval_set):
    """A smoke check of the benchmark's claim on a sample (the full figures come from bench/run.py)."""
    import time

    documents = [
        KnowledgeDocument(
            version_id=n,
            article_id=n,
            code=a.code,
            title=a.title,
            variants=a.variants,
            answer=a.answer,
            legal_basis=a.legal_basis,
            visibility=a.visibility,
        )
        for n, a in enumerate(all_articles())
    ]
    index = KnowledgeIndex(documents, dict(SYNONYMS))
    sample = eval_set[::7]
    started = time.perf_counter()
    hits = sum(
        index.rank(index.analyse_query(item["question"]), 1)[0].document.code == item["code"]
        for item in sample
    )
    elapsed = time.perf_counter() - started
    assert hits / len(sample) >= 0.8
    assert elapsed / len(sample) < 0.05
