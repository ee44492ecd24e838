"""The answering engine as the portal chat, WeChat and agents use it: cited answers, synonyms, typos and
pinyin, audiences, hand-over and knowledge gaps, bad questions, no stale index."""

from __future__ import annotations

import sys
import types

import pytest
from django.core.exceptions import ImproperlyConfigured

from bizreg.consultation import engine
from bizreg.consultation.answering.index import index_for
from bizreg.consultation.answering.rerank import active_reranker, reranker_name
from bizreg.consultation.models import (
    AnswerLog,
    Article,
    ArticleUsage,
    KnowledgeGap,
    Synonym,
)
from bizreg.consultation.services.knowledge import kb_revision_bump
from bizreg.consultation.tests.engine_kb import build_kb, publish_article


@pytest.fixture
def kb(authority, make_user):
    return build_kb(authority, make_user("manager"))


def ask(authority, question, **kwargs):
    kwargs.setdefault("channel", "web_chat")
    return engine.answer(authority_id=authority.pk, question=question, **kwargs)


def top_code(authority, query, audience="internal"):
    found = engine.search(authority_id=authority.pk, query=query, audience=audience, limit=3)
    return found[0].code if found else None


# --- answers and citations ---------------------------------------------------------------------------------


def test_confident_answer_cites_its_article_and_legal_basis(authority, kb):
    result = ask(authority, "个体工商户怎么办理营业执照")

    assert result.confident and not result.handover
    assert result.version == kb["KB-0001"].published_version
    assert result.text.startswith("个体工商户设立登记可通过一网通办平台")
    assert "依据：《中华人民共和国市场主体登记管理条例》第十九条" in result.text
    assert result.text.endswith("（来源：知识库 KB-0001《个体工商户怎么办理营业执照？》）")
    assert 0 < result.score <= 1
    assert result.candidates[0].code == "KB-0001"


def test_answer_without_legal_basis_still_cites(authority, kb):
    result = ask(authority, "统一社会信用代码在哪里查")
    assert result.confident
    assert "依据" not in result.text
    assert "（来源：知识库 KB-0005《统一社会信用代码在哪里查询？》）" in result.text


def test_confident_answer_is_logged_and_counted_as_usage(authority, kb):
    result = ask(authority, "企业登记收费吗", channel="wechat")

    log = AnswerLog.objects.get()
    assert (log.version, log.handed_over, log.channel) == (result.version, False, "wechat")
    assert log.latency_ms >= 0 and log.score == result.score
    usage = ArticleUsage.objects.get()
    assert (usage.kind, usage.channel, usage.version) == ("engine_answer", "wechat", result.version)
    assert Article.objects.get(code="KB-0008").usage_count == 1
    assert not KnowledgeGap.objects.exists()


def test_log_false_writes_nothing(authority, kb):
    ask(authority, "企业登记收费吗", log=False)
    ask(authority, "宠物医院的营业时间", log=False)
    assert not AnswerLog.objects.exists()
    assert not ArticleUsage.objects.exists()
    assert not KnowledgeGap.objects.exists()


# --- synonyms, typos, pinyin -------------------------------------------------------------------------------


def test_synonym_individual_household_finds_the_article(authority, kb):
    result = ask(authority, "个体户怎么弄执照")
    assert result.confident
    assert result.version.article.code == "KB-0001"


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("法人变更要啥材料", "KB-0004"),  # 法人 → 法定代表人
        ("信用代码去哪查", "KB-0005"),  # 信用代码 → 统一社会信用代码
        ("注册资金必须实缴吗", "KB-0006"),  # 注册资金 → 注册资本
    ],
)
def test_builtin_abbreviations(authority, kb, question, code):
    assert top_code(authority, question) == code


def test_synonym_table_entry_applies_after_the_revision_moves(authority, kb):
    assert top_code(authority, "小本买卖登记") != "KB-0001"
    Synonym.objects.create(term="小本买卖", canonical="个体工商户")
    kb_revision_bump(authority.pk)  # what the knowledge services do on every synonym change
    assert top_code(authority, "小本买卖登记") == "KB-0001"


def test_typo_still_matches(authority, kb):
    result = ask(authority, "营叶执照丢失了怎么补领")  # 营叶 for 营业
    assert result.confident
    assert result.version.article.code == "KB-0002"


def test_homophone_typo_matches_through_pinyin(authority, kb):
    assert top_code(authority, "营业执造遗失补领") == "KB-0002"  # 造 for 照
    assert top_code(authority, "减易注消") == "KB-0003"  # 减易注消 for 简易注销


def test_question_typed_in_pinyin(authority, kb):
    assert top_code(authority, "yingye zhizhao yishi buling") == "KB-0002"
    assert top_code(authority, "jianyizhuxiao tiaojian") == "KB-0003"


# --- audiences and tenancy ---------------------------------------------------------------------------------


def test_internal_article_only_for_the_internal_audience(authority, kb):
    question = "冒用身份撤销登记的内部审核口径"
    assert top_code(authority, question, audience="internal") == "KB-0009"
    public = engine.search(authority_id=authority.pk, query=question, audience="public")
    assert "KB-0009" not in [c.code for c in public]

    public_answer = ask(authority, question)  # answer() defaults to the public audience
    assert public_answer.version is None or public_answer.version.article.code != "KB-0009"
    internal_answer = ask(authority, question, audience="internal")
    assert internal_answer.confident and internal_answer.version.article.code == "KB-0009"


def test_other_authority_articles_are_never_used(authority, other_authority, kb):
    assert engine.search(authority_id=other_authority.pk, query="个体工商户营业执照") == []
    result = ask(other_authority, "个体工商户怎么办理营业执照")
    assert result.handover and result.version is None and result.candidates == []


def test_retired_articles_and_drafts_are_not_used(authority, kb, make_user):
    Article.objects.filter(code="KB-0002").update(is_retired=True)
    kb_revision_bump(authority.pk)
    assert "KB-0002" not in [
        c.code for c in engine.search(authority_id=authority.pk, query="营业执照遗失补领")
    ]

    draft_only = Article.objects.create(
        authority=authority, code="KB-0099", owner=make_user("manager"), review_by="2099-01-01"
    )
    draft_only.versions.create(number=1, title="宠物医院设立登记", answer="草稿", author=draft_only.owner)
    kb_revision_bump(authority.pk)
    assert "KB-0099" not in [
        c.code for c in engine.search(authority_id=authority.pk, query="宠物医院设立登记")
    ]


# --- hand-over and knowledge gaps --------------------------------------------------------------------------


def test_unknown_question_hands_over_and_records_a_gap(authority, kb):
    result = ask(authority, "公积金贷款怎么申请？", channel="qq")

    assert not result.confident and result.handover
    assert result.version is None
    assert "该问题已转人工客服，请稍候" in result.text
    gap = KnowledgeGap.objects.get()
    assert (gap.question, gap.normalized_question, gap.occurrences, gap.channel) == (
        "公积金贷款怎么申请？",
        "公积金贷款怎么申请",
        1,
        "qq",
    )
    assert AnswerLog.objects.get().handed_over


def test_same_question_twice_is_one_gap_with_two_occurrences(authority, kb):
    ask(authority, "公积金贷款怎么申请？")
    ask(authority, " 公积金贷款 怎么申请!! ", channel="wechat")

    gap = KnowledgeGap.objects.get()
    assert gap.occurrences == 2
    assert gap.channel == "web_chat"  # the first channel it was asked on
    assert gap.last_asked_at >= gap.first_asked_at
    assert AnswerLog.objects.filter(handed_over=True).count() == 2


def test_gap_keeps_the_best_score_and_version(authority, kb, settings):
    settings.CONSULTATION_ANSWER_THRESHOLD = 1.01  # nothing is confident: every question becomes a gap
    ask(authority, "营业执照遗失")
    gap = KnowledgeGap.objects.get()
    assert gap.best_version.article.code == "KB-0002"
    assert gap.best_score > 0
    best = gap.best_score
    KnowledgeGap.objects.update(best_score=best + 0.5)
    ask(authority, "营业执照遗失")
    gap.refresh_from_db()
    assert gap.occurrences == 2 and gap.best_score == best + 0.5  # a worse match does not replace it


def test_threshold_setting_decides_handover(authority, kb, settings):
    settings.CONSULTATION_ANSWER_THRESHOLD = 0.0
    assert ask(authority, "股权变更", log=False).confident
    settings.CONSULTATION_ANSWER_THRESHOLD = 1.01
    result = ask(authority, "股权变更", log=False)
    assert result.handover and result.candidates and result.candidates[0].code == "KB-0007"


def test_gap_links_the_ticket(authority, kb, make_user):
    from bizreg.consultation.tests.tickets_fixtures import open_ticket

    ticket = open_ticket(authority, body="在吗")
    # Opening a ticket may already consult the engine: start counting from here.
    AnswerLog.objects.all().delete()
    KnowledgeGap.objects.all().delete()
    ask(authority, "公积金贷款怎么申请", ticket=ticket)
    assert KnowledgeGap.objects.get().ticket == ticket
    assert AnswerLog.objects.get().ticket == ticket


# --- bad questions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "？？！！。。", None])
def test_empty_question_gets_a_prompt_and_logs_nothing(authority, kb, question):
    result = ask(authority, question)
    assert result.text.startswith("请输入您要咨询的问题")
    assert not result.confident and not result.handover and result.candidates == []
    assert not AnswerLog.objects.exists() and not KnowledgeGap.objects.exists()


def test_five_thousand_character_question_answers_from_its_start(authority, kb):
    question = "个体工商户怎么办理营业执照？" + "我想再详细了解一下相关的规定和要求。" * 400
    assert len(question) > 5000
    result = ask(authority, question)
    # Retrieval read the first 500 characters: the right article leads, answered or handed over alike.
    assert result.candidates[0].code == "KB-0001"
    assert result.text
    log = AnswerLog.objects.get()
    assert len(log.question) == engine.STORED_QUESTION_CHARS


def test_five_thousand_characters_of_noise_hand_over_cleanly(authority, kb):
    result = ask(authority, "测试内容" * 1250)
    assert result.handover
    gap = KnowledgeGap.objects.get()
    assert len(gap.normalized_question) == 200


def test_script_and_odd_characters_are_just_text(authority, kb):
    result = ask(authority, "<script>alert(1)</script> 营业执照遗失 😀 ' OR 1=1 --")
    assert result.version.article.code == "KB-0002"


def test_question_of_only_function_words_asks_for_details(authority, kb):
    result = ask(authority, "请问怎么办呢？")
    assert result.text.startswith("请具体描述您要咨询的事项")
    assert not result.handover and not result.confident
    assert not AnswerLog.objects.exists() and not KnowledgeGap.objects.exists()


def test_greeting_and_thanks(authority, kb):
    assert "您好" in ask(authority, "你好！").text
    assert "不客气" in ask(authority, "谢谢").text
    assert not AnswerLog.objects.exists() and not KnowledgeGap.objects.exists()


def test_unknown_channel_is_a_programming_error(authority, kb):
    with pytest.raises(ValueError, match="未知的渠道"):
        ask(authority, "营业执照遗失", channel="fax")


def test_search_edge_cases(authority, kb):
    assert engine.search(authority_id=authority.pk, query="") == []
    assert engine.search(authority_id=authority.pk, query="营业执照", limit=0) == []
    found = engine.search(authority_id=authority.pk, query="营业执照", limit=2)
    assert len(found) == 2
    assert found[0].score >= found[1].score
    assert all(0 <= c.score <= 1 and c.snippet for c in found)
    with pytest.raises(ValueError, match="未知的受众"):
        engine.search(authority_id=authority.pk, query="营业执照", audience="everyone")


# --- no stale index ----------------------------------------------------------------------------------------


def test_publishing_a_new_version_changes_the_next_answer(authority, kb, make_user):
    from bizreg.consultation.services import knowledge

    author, reviewer = make_user("hotline_agent"), make_user("manager")
    article = kb["KB-0008"]
    assert "不收取任何费用" in ask(authority, "企业登记收费吗").text

    draft = knowledge.version_draft(
        article=article,
        actor=author,
        data={
            "title": "办理企业登记收费吗？",
            "question_variants": "营业执照办理要交钱吗",
            "answer": "企业登记全程免费（2025年新版口径），刻制首套印章也由政府买单。",
            "visibility": "public",
        },
    )
    draft = knowledge.version_transition(version=draft, action="submit", actor=author)
    draft = knowledge.version_transition(version=draft, action="publish", actor=reviewer)

    result = ask(authority, "企业登记收费吗")
    assert result.version == draft
    assert result.text.startswith("企业登记全程免费（2025年新版口径）")


def test_a_publish_in_another_worker_changes_this_workers_next_answer(authority, kb, make_user, monkeypatch):
    """Two gunicorn workers each hold their own index in memory. Worker A answers (and keeps its index);
    worker B publishes a new version — through the knowledge services, with its own memory — and worker
    A's very next answer uses that version: the only thing shared is the revision row in the database."""
    from bizreg.consultation.answering import index as index_module
    from bizreg.consultation.services import knowledge

    worker_a_memory: dict = {}
    monkeypatch.setattr(index_module, "_cache", worker_a_memory)
    assert "不收取任何费用" in ask(authority, "企业登记收费吗", log=False).text
    assert worker_a_memory  # A built and kept its index

    monkeypatch.setattr(index_module, "_cache", {})  # worker B: its own process memory
    author, reviewer = make_user("hotline_agent"), make_user("manager")
    draft = knowledge.version_draft(
        article=kb["KB-0008"],
        actor=author,
        data={
            "title": "办理企业登记收费吗？",
            "question_variants": "营业执照办理要交钱吗",
            "answer": "企业登记全程免费，营业执照邮寄到家也不收取费用（2025年版）。",
            "visibility": "public",
        },
    )
    draft = knowledge.version_transition(version=draft, action="submit", actor=author)
    knowledge.version_transition(version=draft, action="publish", actor=reviewer)

    monkeypatch.setattr(index_module, "_cache", worker_a_memory)  # back in worker A, nothing cleared
    result = ask(authority, "企业登记收费吗", log=False)
    assert result.text.startswith("企业登记全程免费，营业执照邮寄到家也不收取费用（2025年版）")
    assert result.version == draft


def test_retiring_an_article_elsewhere_stops_its_answers_here(authority, kb, monkeypatch):
    from bizreg.consultation.answering import index as index_module
    from bizreg.consultation.services import knowledge

    worker_a_memory: dict = {}
    monkeypatch.setattr(index_module, "_cache", worker_a_memory)
    assert ask(authority, "股权变更流程", log=False).version.article.code == "KB-0007"
    monkeypatch.setattr(index_module, "_cache", {})
    knowledge.article_retire(article=kb["KB-0007"], actor=kb["KB-0007"].owner, reason="政策调整，条目作废")
    monkeypatch.setattr(index_module, "_cache", worker_a_memory)
    result = ask(authority, "股权变更流程", log=False)
    assert result.version is None or result.version.article.code != "KB-0007"


def test_index_is_reused_until_the_revision_moves(authority, kb, django_assert_num_queries):
    first = index_for(authority.pk, "public")
    with django_assert_num_queries(1):  # only the revision is read
        assert index_for(authority.pk, "public") is first
    publish_article(authority, kb["KB-0001"].owner, code="KB-0100", title="新条目", answer="新答案")
    assert index_for(authority.pk, "public") is not first


# --- re-ranker setting -------------------------------------------------------------------------------------


def test_char_ngram_reranker_keeps_the_right_answers(authority, kb, settings):
    settings.CONSULTATION_RERANKER = "char_ngram"
    assert ask(authority, "个体户怎么弄执照", log=False).version.article.code == "KB-0001"
    assert top_code(authority, "营叶执照丢失了怎么补领") == "KB-0002"
    assert ask(authority, "公积金贷款怎么申请", log=False).handover


def test_reranker_is_off_by_default(authority, kb, settings):
    assert getattr(settings, "CONSULTATION_RERANKER", "none") == "none"
    assert active_reranker() == "none"
    assert engine.check_reranker() == []


@pytest.mark.parametrize(
    ("value", "check_id", "message"),
    [
        ("bert", "consultation.E001", "CONSULTATION_RERANKER='bert' 无效"),
        ("embedding", "consultation.W001", "不会在运行时下载"),
    ],
)
def test_misconfigured_reranker_falls_back_to_bm25_and_is_reported(
    authority, kb, settings, caplog, value, check_id, message
):
    baseline = ask(authority, "营业执照遗失", log=False)
    settings.CONSULTATION_RERANKER = value
    settings.CONSULTATION_EMBEDDING_MODEL = ""
    with caplog.at_level("WARNING", logger="bizreg.consultation.answering.rerank"):
        result = ask(authority, "营业执照遗失", log=False)
    # The citizen still gets the same cited answer, in BM25 order.
    assert result.confident and result.version == baseline.version
    assert [c.code for c in result.candidates] == [c.code for c in baseline.candidates]
    assert message in caplog.text or value == "embedding" and "sentence-transformers" in caplog.text
    errors = engine.check_reranker()
    assert [e.id for e in errors] == [check_id] and message in errors[0].msg
    with pytest.raises(ImproperlyConfigured, match=message):
        reranker_name()  # the strict reading, for the check and for operators


def test_embedding_reranker_refuses_a_model_name_instead_of_a_local_path(settings, tmp_path):
    pytest.importorskip("sentence_transformers")
    settings.CONSULTATION_RERANKER = "embedding"
    settings.CONSULTATION_EMBEDDING_MODEL = "BAAI/bge-small-zh"  # a hub name: would download
    with pytest.raises(ImproperlyConfigured, match="不是本地模型目录"):
        reranker_name()


# The embedding re-ranker with a stand-in for the sentence-transformers package (not installed here, and a
# real model is a download): it records how the model is loaded and embeds by shared characters.


class _FakeSentenceTransformer:
    loads: list = []
    fail_with: Exception | None = None

    def __init__(self, path, **kwargs):
        type(self).loads.append((path, kwargs))
        if type(self).fail_with is not None:
            raise type(self).fail_with

    def encode(self, texts, normalize_embeddings=True):
        import numpy as np

        alphabet = "营业执照遗失补领个体工商户注销简易股权法定代表人"
        vectors = np.array([[text.count(ch) for ch in alphabet] + [1] for text in texts], dtype=float)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def fake_sentence_transformers(monkeypatch):
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = _FakeSentenceTransformer
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    _FakeSentenceTransformer.loads = []
    _FakeSentenceTransformer.fail_with = None
    return _FakeSentenceTransformer


def test_embedding_reranker_loads_only_the_local_model(
    authority, kb, settings, tmp_path, fake_sentence_transformers
):
    settings.CONSULTATION_RERANKER = "embedding"
    settings.CONSULTATION_EMBEDDING_MODEL = str(tmp_path)
    assert engine.check_reranker() == []

    result = ask(authority, "营业执照遗失了怎么补领", log=False)
    assert result.confident and result.version.article.code == "KB-0002"
    assert fake_sentence_transformers.loads == [(str(tmp_path), {"device": "cpu", "local_files_only": True})]
    ask(authority, "个体户怎么办执照", log=False)
    assert len(fake_sentence_transformers.loads) == 1  # loaded once per index, not per question


def test_embedding_reranker_never_loads_a_hub_name(authority, kb, settings, fake_sentence_transformers):
    settings.CONSULTATION_RERANKER = "embedding"
    settings.CONSULTATION_EMBEDDING_MODEL = "BAAI/bge-small-zh"  # a hub name: loading it would download
    result = ask(authority, "营业执照遗失了怎么补领", log=False)
    assert result.version.article.code == "KB-0002"
    assert fake_sentence_transformers.loads == []
    assert engine.check_reranker()[0].id == "consultation.W001"


def test_broken_local_model_falls_back_cleanly(
    authority, kb, settings, tmp_path, fake_sentence_transformers, caplog
):
    settings.CONSULTATION_RERANKER = "embedding"
    settings.CONSULTATION_EMBEDDING_MODEL = str(tmp_path)  # a directory without the model's files
    fake_sentence_transformers.fail_with = OSError("config.json not found")
    with caplog.at_level("WARNING", logger="bizreg.consultation.answering.rerank"):
        result = ask(authority, "营业执照遗失了怎么补领", log=False)
    assert result.confident and result.version.article.code == "KB-0002"
    assert "无法加载本地向量模型" in caplog.text
