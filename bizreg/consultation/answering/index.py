"""The knowledge index: published versions of non-retired articles, analysed into BM25 fields.

Fields (each its own FieldIndex, combined with FIELD_WEIGHTS):
- question: the standard question (title, counted twice) and its question variants — how people ask;
- body: the answer and the legal basis — what the article says;
- bigram / pinyin: character and fuzzy-pinyin bigrams of the questions — typo and homophone tolerance.

One index per (authority, audience) is kept in process memory together with the KnowledgeBaseRevision
it was built from. Every lookup reads the current revision (one single-row query) and rebuilds when it
moved, so a version published in any process changes the very next answer in every process.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field

from bizreg.consultation.answering.bm25 import FieldIndex
from bizreg.consultation.answering.text import Analysis, Analyzer, Respeller

AUDIENCES = ("public", "internal")

# k1/b tuned on the demo evaluation set (bench qa_retrieval): question fields are short, so length
# normalisation is kept moderate; the body field is long and varied, so it is normalised harder.
QUESTION_K1, QUESTION_B = 1.2, 0.5
BODY_K1, BODY_B = 1.2, 0.75
FIELD_WEIGHTS = {"question": 1.0, "phrasing": 0.5, "body": 0.35, "bigram": 0.45, "pinyin": 0.3}
PHRASING_B = 0.5
# A word found only in the answer text counts this much toward confidence (one in the questions: 1).
BODY_MATCH_CREDIT = 0.6
# Below this much query information (sum of word idf) a question is too vague to answer with confidence:
# "公司" or "登记" alone match dozens of articles equally well.
MIN_QUERY_INFORMATION = 4.5
# jieba dictionary rarity (log total/frequency) of everyday words (以后 7.9, 朋友 8.8) and of subject words
# (公积金 11.6, 驾驶证 13.5): an unknown word weighs from 20 % (common) to 100 % (rare) of the rarest idf.
GENERAL_COMMON_RARITY = 7.0
GENERAL_RARITY_SPAN = 5.0


@dataclass(frozen=True)
class KnowledgeDocument:
    """What the index needs of one published article version (also built straight from demo content)."""

    version_id: int
    article_id: int
    code: str
    title: str
    variants: tuple[str, ...]
    answer: str
    legal_basis: str = ""
    visibility: str = "public"

    @property
    def question_text(self) -> str:
        return "\n".join((self.title, *self.variants))


@dataclass
class Hit:
    document: KnowledgeDocument
    raw_score: float
    confidence: float = 0.0
    number: int = -1


@dataclass
class QueryAnalysis:
    text: str
    analysis: Analysis
    words: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)  # word → its weight in the ranking

    @property
    def is_empty(self) -> bool:
        """Nothing searchable: the question was only stop words."""
        return not (self.words or self.analysis.bigrams or self.analysis.pinyin)


class KnowledgeIndex:
    def __init__(self, documents: list[KnowledgeDocument], synonyms: dict[str, str] | None = None):
        started = time.perf_counter()
        self.documents = documents
        self.analyzer = Analyzer(synonyms)
        question_words, body_words, bigrams, pinyin = [], [], [], []
        phrasings: list[list[str]] = []
        self.phrasing_document: list[int] = []
        for number, doc in enumerate(documents):
            title = self.analyzer.cached_analyse(doc.title)
            variants = [self.analyzer.cached_analyse(variant) for variant in doc.variants]
            question_words.append(title.words * 2 + [w for v in variants for w in v.words])
            body_words.append(self.analyzer.cached_words(f"{doc.answer}\n{doc.legal_basis}"))
            bigrams.append(title.bigrams + [b for v in variants for b in v.bigrams])
            pinyin.append(title.pinyin + [p for v in variants for p in v.pinyin])
            for phrasing in (title, *variants):
                phrasings.append(phrasing.words)
                self.phrasing_document.append(number)
        self.question = FieldIndex(question_words, k1=QUESTION_K1, b=QUESTION_B)
        # Each way of asking on its own: the best-matching one counts (a long variant list does not
        # dilute a variant that says exactly what was asked).
        self.phrasing = FieldIndex(phrasings, k1=QUESTION_K1, b=PHRASING_B)
        self.body = FieldIndex(body_words, k1=BODY_K1, b=BODY_B)
        self.bigram = FieldIndex(bigrams, k1=QUESTION_K1, b=QUESTION_B)
        self.pinyin = FieldIndex(pinyin, k1=QUESTION_K1, b=QUESTION_B)
        # idf over every word of an article, for the confidence's information weights.
        self.any_word = FieldIndex([q + b for q, b in zip(question_words, body_words, strict=True)])
        # What a pinyin or mistyped word may be respelled to: the words people ask with (the questions)
        # and the answers' words used by more than one article — enough for typos, and it keeps the
        # first build of a process short (every candidate costs a pinyin conversion).
        vocabulary: dict[str, float] = {
            term: len(hits)
            for term, hits in self.any_word.postings.items()
            if len(hits) > 1 or term in self.question.postings
        }
        for term, canonical in self.analyzer.synonyms.items():
            vocabulary.setdefault(term, vocabulary.get(canonical, 0.5))
        self.respeller = Respeller(vocabulary, self.analyzer.tokenizer.FREQ)
        self._reranker = None
        self._reranker_name = None
        self.build_seconds = time.perf_counter() - started

    def __len__(self) -> int:
        return len(self.documents)

    def analyse_query(self, text: str) -> QueryAnalysis:
        tokens = self.analyzer.tokens(text)
        analysis = self.analyzer.analyse_tokens(tokens)
        weights = self.analyzer.query_words(tokens)
        respelled, replaced = self.respeller.respell(tokens)
        if respelled:
            # The respelled words stand in for the pinyin or mistyped tokens (which no article has, and
            # which would only lower the confidence); bigrams and pinyin keep what was typed.
            weights = {w: v for w, v in weights.items() if w not in replaced}
            for word, weight in self.analyzer.query_words(self.analyzer.tokens(" ".join(respelled))).items():
                weights[word] = max(weight, weights.get(word, 0.0))
        return QueryAnalysis(text=text, analysis=analysis, words=list(weights), weights=weights)

    def rank(self, query: QueryAnalysis, limit: int) -> list[Hit]:
        """Documents by their combined BM25 score, best first, with a confidence for each in [0, 1]."""
        analysis = query.analysis
        scores: dict[int, float] = {}
        self.question.score_into(scores, query.weights, FIELD_WEIGHTS["question"])
        self.body.score_into(scores, query.weights, FIELD_WEIGHTS["body"])
        self.bigram.score_into(scores, set(analysis.bigrams), FIELD_WEIGHTS["bigram"])
        self.pinyin.score_into(scores, set(analysis.pinyin), FIELD_WEIGHTS["pinyin"])
        if FIELD_WEIGHTS["phrasing"]:
            best_phrasing: dict[int, float] = {}
            for phrasing, score in self.phrasing.scores(query.weights).items():
                number = self.phrasing_document[phrasing]
                if score > best_phrasing.get(number, 0.0):
                    best_phrasing[number] = score
            for number, score in best_phrasing.items():
                scores[number] = scores.get(number, 0.0) + FIELD_WEIGHTS["phrasing"] * score
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [
            Hit(document=self.documents[n], raw_score=s, confidence=self.confidence(n, query), number=n)
            for n, s in best
        ]

    def confidence(self, number: int, query: QueryAnalysis) -> float:
        """How much of the question document `number` answers: the idf-weighted share of the question's
        words found in its questions (in its answer: partial credit), or of its character or pinyin
        bigrams (typos, homophones, pinyin), scaled down when the question carries too little information
        to single out one article."""
        analysis = query.analysis
        total = matched = 0.0
        question_terms, body_terms = self.question.terms[number], self.body.terms[number]
        for word in query.words:
            idf = self._information(word)
            total += idf
            if word in question_terms:
                matched += idf
            elif word in body_terms:
                matched += BODY_MATCH_CREDIT * idf
        word_share = matched / total if total else 0.0
        bigram_share = self.bigram.coverage(number, set(analysis.bigrams))
        pinyin_share = self.pinyin.coverage(number, set(analysis.pinyin))
        share = max(word_share, 0.9 * bigram_share, 0.85 * pinyin_share)
        information = max(total, 0.5 * sum(self.pinyin.term_idf(p) for p in set(analysis.pinyin)))
        if information < MIN_QUERY_INFORMATION:
            share *= information / MIN_QUERY_INFORMATION
        return round(min(1.0, max(0.0, share)), 4)

    def _information(self, word: str) -> float:
        """A word's weight in the confidence: its idf in the knowledge base; for a word no article uses,
        the rarest idf scaled by how rare the word is in general Chinese (jieba's dictionary frequency),
        so everyday filler (以后, 朋友, 家里) that an article happens not to use costs little, while an
        unknown subject (公积金, 驾驶证) costs the full weight."""
        idf = self.any_word.idf.get(word)
        if idf is not None:
            return idf
        frequency = self.analyzer.tokenizer.FREQ.get(word, 0)
        if not frequency or word.isascii():
            return self.any_word.unseen_idf
        rarity = math.log(self.analyzer.tokenizer.total / frequency)
        scale = min(1.0, max(0.2, (rarity - GENERAL_COMMON_RARITY) / GENERAL_RARITY_SPAN))
        return self.any_word.unseen_idf * scale

    def reranker(self, name: str):
        """The re-ranker of this index, built on first use (its vectors cost time only when enabled)."""
        if self._reranker_name != name:
            from bizreg.consultation.answering.rerank import build_reranker

            self._reranker = build_reranker(name, self)
            self._reranker_name = name
        return self._reranker


_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")


def snippet(document: KnowledgeDocument, query_words: list[str], length: int = 120) -> str:
    """The answer's sentence that shares most words with the question (else its start), cut to `length`."""
    sentences = [s.strip() for s in _SENTENCE.findall(document.answer) if s.strip()]
    if not sentences:
        return document.answer[:length]
    best = max(sentences, key=lambda s: (sum(1 for w in query_words if len(w) > 1 and w in s), -len(s)))
    if not any(len(w) > 1 and w in best for w in query_words):
        best = sentences[0]
    return best if len(best) <= length else best[: length - 1] + "…"


# --- the per-process cache -------------------------------------------------------------------------------

_cache: dict[tuple[int, str], tuple[int, KnowledgeIndex]] = {}
_cache_lock = threading.Lock()


def clear_index_cache() -> None:
    """Forget every built index (tests: a rolled-back database can reuse an authority id and revision)."""
    with _cache_lock:
        _cache.clear()


def current_revision(authority_id: int) -> int:
    from bizreg.consultation.models import KnowledgeBaseRevision

    revision = (
        KnowledgeBaseRevision.objects.filter(authority_id=authority_id)
        .values_list("revision", flat=True)
        .first()
    )
    return revision or 0


def load_documents(authority_id: int, audience: str) -> list[KnowledgeDocument]:
    """Current published versions of the authority's non-retired articles the audience may see."""
    from bizreg.consultation.models import Article, ArticleVersionState, Visibility

    articles = Article.objects.filter(
        authority_id=authority_id,
        is_retired=False,
        published_version__isnull=False,
        published_version__state=ArticleVersionState.PUBLISHED,
    )
    if audience == "public":
        articles = articles.filter(published_version__visibility=Visibility.PUBLIC)
    rows = articles.order_by("code").values_list(
        "published_version_id",
        "id",
        "code",
        "published_version__title",
        "published_version__question_variants",
        "published_version__answer",
        "published_version__legal_basis",
        "published_version__visibility",
    )
    return [
        KnowledgeDocument(
            version_id=version_id,
            article_id=article_id,
            code=code,
            title=title,
            variants=tuple(line.strip() for line in variants.splitlines() if line.strip()),
            answer=answer,
            legal_basis=legal_basis,
            visibility=visibility,
        )
        for version_id, article_id, code, title, variants, answer, legal_basis, visibility in rows
    ]


def load_synonyms() -> dict[str, str]:
    from bizreg.consultation.models import Synonym

    return dict(Synonym.objects.values_list("term", "canonical"))


def index_for(authority_id: int, audience: str) -> KnowledgeIndex:
    """The authority's index for the audience, rebuilt first when the knowledge base revision moved."""
    if audience not in AUDIENCES:
        raise ValueError(f"未知的受众：{audience}（应为 public 或 internal）")
    revision = current_revision(authority_id)
    key = (authority_id, audience)
    cached = _cache.get(key)
    if cached and cached[0] == revision:
        return cached[1]
    with _cache_lock:
        cached = _cache.get(key)
        if cached and cached[0] == revision:
            return cached[1]
        index = KnowledgeIndex(load_documents(authority_id, audience), load_synonyms())
        _cache[key] = (revision, index)
        return index


def warm_indexes() -> int:
    """Build the index of every authority that has published articles, for both audiences.

    Run when a web worker starts (config/gunicorn.py): the first build in a process loads jieba's
    dictionary and takes seconds, and a WeChat passive reply has only 5 s. Returns the indexes built."""
    from bizreg.consultation.models import Article

    authority_ids = (
        Article.objects.filter(published_version__isnull=False)
        .values_list("authority_id", flat=True)
        .distinct()
        .order_by()
    )
    built = 0
    for authority_id in list(authority_ids):
        for audience in AUDIENCES:
            index_for(authority_id, audience)
            built += 1
    return built
