"""The answering engine (issue 5, Deliver 6) for the portal chat, WeChat and the agents.

    answer(authority_id=…, question="个体户怎么办执照", channel="web_chat") → Answer
    search(authority_id=…, query="简易注销", audience="internal") → [Candidate, …]

Chinese retrieval over the current published versions of non-retired articles (bizreg.consultation.
answering: jieba + synonyms + typo/pinyin tolerance, own Okapi BM25, optional re-ranker). Every confident
answer cites its article; below settings.CONSULTATION_ANSWER_THRESHOLD the question goes to a human and
is counted as a knowledge gap. The index is rebuilt whenever the authority's KnowledgeBaseRevision moved,
so a newly published version changes the very next answer in every process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from bizreg.consultation.answering.index import (
    Hit,
    KnowledgeDocument,
    KnowledgeIndex,
    QueryAnalysis,
    clear_index_cache,
    index_for,
    snippet,
)
from bizreg.consultation.answering.rerank import RERANK_DEPTH, active_reranker, check_reranker
from bizreg.consultation.answering.text import is_greeting, is_thanks, normalize_question
from bizreg.consultation.models import (
    AnswerLog,
    ArticleUsage,
    ArticleVersion,
    KnowledgeGap,
    TicketChannel,
)

__all__ = [
    "Answer",
    "Candidate",
    "KnowledgeDocument",
    "KnowledgeIndex",
    "answer",
    "check_reranker",
    "clear_index_cache",
    "compose_answer_text",
    "search",
]

# Retrieval reads at most this much of a question: longer text is pasted documents, not a question, and
# only slows the analysis down (a 5,000-character question still gets an answer, from its start).
MAX_QUESTION_CHARS = 500
# What is kept of a question in AnswerLog / KnowledgeGap.
STORED_QUESTION_CHARS = 2000
DEFAULT_THRESHOLD = 0.55

EMPTY_QUESTION_TEXT = "请输入您要咨询的问题，例如：“个体工商户怎么办理营业执照？”"
GREETING_TEXT = "您好！我是企业登记智能咨询助手，请直接输入您要咨询的问题，例如：“办理营业执照需要哪些材料？”"
VAGUE_QUESTION_TEXT = "请具体描述您要咨询的事项，例如办理什么业务、遇到了什么问题，我们会尽快为您解答。"
THANKS_TEXT = "不客气，很高兴为您服务！如还有其他问题，欢迎继续咨询。"
HANDOVER_TEXT = (
    "该问题已转人工客服，请稍候，工作人员将尽快为您解答。（工作时间：工作日 9:00–12:00，13:30–17:30）"
)


@dataclass(frozen=True)
class Candidate:
    version_id: int
    article_id: int
    code: str
    title: str
    score: float  # confidence-scaled relevance in [0, 1]; the first candidate's is the answer's score
    snippet: str


@dataclass
class Answer:
    confident: bool
    text: str
    version: ArticleVersion | None
    score: float
    candidates: list[Candidate] = field(default_factory=list)
    handover: bool = False
    latency_ms: float = 0.0


def answer_threshold() -> float:
    return float(getattr(settings, "CONSULTATION_ANSWER_THRESHOLD", DEFAULT_THRESHOLD))


def _ranked(authority_id: int, query: str, audience: str, limit: int) -> tuple[list[Hit], QueryAnalysis]:
    name = active_reranker()
    index = index_for(authority_id, audience)
    analysed = index.analyse_query(query)
    hits = index.rank(analysed, max(limit, RERANK_DEPTH if name != "none" else limit))
    reranker = index.reranker(name) if name != "none" and hits else None
    if reranker is not None:
        hits = reranker.rerank(query, hits)
        hits[0].confidence = index.confidence(hits[0].number, analysed)
    return hits[:limit], analysed


def _candidates(hits: list[Hit], words: list[str]) -> list[Candidate]:
    if not hits:
        return []
    top_raw, top_confidence = hits[0].raw_score or 1.0, hits[0].confidence
    return [
        Candidate(
            version_id=hit.document.version_id,
            article_id=hit.document.article_id,
            code=hit.document.code,
            title=hit.document.title,
            score=round(
                top_confidence if n == 0 else min(top_confidence, top_confidence * hit.raw_score / top_raw), 4
            ),
            snippet=snippet(hit.document, words),
        )
        for n, hit in enumerate(hits)
    ]


def search(*, authority_id: int, query: str, audience: str = "internal", limit: int = 5) -> list[Candidate]:
    """The best-matching articles for a query (agents' lookup, the public KB search). Logs nothing."""
    query = (query or "").strip()[:MAX_QUESTION_CHARS]
    if not normalize_question(query) or limit < 1:
        return []
    hits, analysed = _ranked(authority_id, query, audience, limit)
    return _candidates(hits, analysed.words)


def compose_answer_text(version: ArticleVersion) -> str:
    """The reply: the answer, its legal basis (依据：《…》) if any, and the citation of the article."""
    parts = [version.answer.strip()]
    basis = version.legal_basis.strip()
    if basis:
        parts.append(f"依据：{basis if '《' in basis else f'《{basis}》'}")
    parts.append(f"（来源：知识库 {version.article.code}《{version.title}》）")
    return "\n".join(parts)


def answer(
    *,
    authority_id: int,
    question: str,
    channel: str,
    audience: str = "public",
    ticket=None,
    log: bool = True,
) -> Answer:
    """Answer a question from the knowledge base, or hand it over to a human.

    Confident (score ≥ CONSULTATION_ANSWER_THRESHOLD): the cited answer; with `log`, an AnswerLog row and
    a usage of the article. Otherwise: the hand-over text, handover=True; with `log`, an AnswerLog row
    (handed_over) and the question counted as a KnowledgeGap. Empty questions, greetings and thanks get a
    short reply and log nothing. Never raises for any question text.
    """
    started = time.perf_counter()
    if channel not in TicketChannel.values:
        raise ValueError(f"未知的渠道：{channel}")
    question = question if isinstance(question, str) else ""
    if not normalize_question(question):
        return Answer(confident=False, text=EMPTY_QUESTION_TEXT, version=None, score=0.0)
    if is_greeting(question):
        return Answer(confident=False, text=GREETING_TEXT, version=None, score=0.0)
    if is_thanks(question):
        return Answer(confident=False, text=THANKS_TEXT, version=None, score=0.0)

    hits, analysed = _ranked(authority_id, question.strip()[:MAX_QUESTION_CHARS], audience, limit=5)
    if analysed.is_empty:
        # Only function words (怎么办呢, 请问一下): nothing to search for and nothing to learn as a gap.
        return Answer(confident=False, text=VAGUE_QUESTION_TEXT, version=None, score=0.0)
    candidates = _candidates(hits, analysed.words)
    score = candidates[0].score if candidates else 0.0
    confident = bool(candidates) and score >= answer_threshold()
    best_version = (
        ArticleVersion.objects.select_related("article").get(pk=candidates[0].version_id)
        if candidates
        else None
    )
    text = compose_answer_text(best_version) if confident else HANDOVER_TEXT
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    result = Answer(
        confident=confident,
        text=text,
        version=best_version if confident else None,
        score=score,
        candidates=candidates,
        handover=not confident,
        latency_ms=latency_ms,
    )
    if log:
        _log_answer(
            authority_id=authority_id,
            question=question,
            channel=channel,
            result=result,
            best_version=best_version,
            ticket=ticket,
        )
    return result


def _log_answer(
    *, authority_id: int, question: str, channel: str, result: Answer, best_version, ticket
) -> None:
    stored_question = question.strip()[:STORED_QUESTION_CHARS]
    now = timezone.now()
    with transaction.atomic():
        AnswerLog.objects.create(
            authority_id=authority_id,
            asked_at=now,
            channel=channel,
            question=stored_question,
            version=result.version,
            score=result.score,
            handed_over=result.handover,
            latency_ms=result.latency_ms,
            ticket=ticket,
        )
        if result.confident:
            from bizreg.consultation.services.knowledge import article_record_usage

            article_record_usage(
                version=result.version, kind=ArticleUsage.Kind.ENGINE_ANSWER, channel=channel
            )
        else:
            _count_gap(
                authority_id=authority_id,
                question=stored_question,
                channel=channel,
                score=result.score,
                best_version=best_version,
                ticket=ticket,
                now=now,
            )


def _count_gap(
    *, authority_id: int, question: str, channel: str, score: float, best_version, ticket, now
) -> None:
    """One KnowledgeGap per normalised question: asked again, it counts one more occurrence and keeps the
    best match seen so far. Two processes creating the same gap at once: the unique constraint lets one
    win and the other counts on the winner's row."""
    key = normalize_question(question)
    for _attempt in range(2):
        gap = (
            KnowledgeGap.objects.select_for_update()
            .filter(authority_id=authority_id, normalized_question=key)
            .first()
        )
        if gap is not None:
            updates = {"occurrences": F("occurrences") + 1, "last_asked_at": now, "updated_at": now}
            if best_version is not None and score > gap.best_score:
                updates.update(best_score=score, best_version=best_version)
            if ticket is not None and gap.ticket_id is None:
                updates["ticket"] = ticket
            KnowledgeGap.objects.filter(pk=gap.pk).update(**updates)
            return
        try:
            with transaction.atomic():
                KnowledgeGap.objects.create(
                    authority_id=authority_id,
                    question=question,
                    normalized_question=key,
                    channel=channel,
                    first_asked_at=now,
                    last_asked_at=now,
                    occurrences=1,
                    best_score=score if best_version is not None else 0.0,
                    best_version=best_version,
                    ticket=ticket,
                )
            return
        except IntegrityError:
            continue
