"""Optional re-rankers of the BM25 top-k, chosen by settings.CONSULTATION_RERANKER:

- "none" (default): BM25 order as is;
- "char_ngram": a model-free dense re-ranker — character 1–3-gram TF-IDF vectors of each article's
  questions, cosine with the question's vector, blended with the BM25 score;
- "embedding": cosine of sentence embeddings from a LOCAL model (settings.CONSULTATION_EMBEDDING_MODEL, a
  directory). Never downloads: the model is loaded with local_files_only from a directory that must exist.

A misconfigured re-ranker never breaks an answer: at run time the engine falls back to the plain BM25 order
(`active_reranker`, logged once per problem), while the system check `check_reranker` reports the problem
at start-up — an unknown name as an error, an embedding re-ranker without its package or local model as a
warning.
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from bizreg.consultation.answering.text import normalize_question

RERANKERS = ("none", "char_ngram", "embedding")
RERANK_DEPTH = 20
# Share of the final score the re-ranker's cosine gets; the rest stays with BM25 (normalised to the top).
RERANK_BLEND = 0.4

logger = logging.getLogger(__name__)
_reported: set[str] = set()


def reranker_name() -> str:
    """The configured re-ranker, validated: a wrong value fails loudly rather than silently not ranking."""
    name = getattr(settings, "CONSULTATION_RERANKER", "none") or "none"
    if name not in RERANKERS:
        raise ImproperlyConfigured(
            f"CONSULTATION_RERANKER={name!r} 无效：可选 {', '.join(RERANKERS)}（默认 none）。"
        )
    if name == "embedding":
        _embedding_model_path()
    return name


def _embedding_model_path() -> str:
    try:
        import sentence_transformers  # noqa: F401
    except ImportError as exc:
        raise ImproperlyConfigured(
            "CONSULTATION_RERANKER='embedding' 需要安装 sentence-transformers 并在 "
            "CONSULTATION_EMBEDDING_MODEL 指定本地模型目录；系统不会在运行时下载模型。"
        ) from exc
    path = getattr(settings, "CONSULTATION_EMBEDDING_MODEL", "") or ""
    if not path or not os.path.isdir(path):
        raise ImproperlyConfigured(
            f"CONSULTATION_EMBEDDING_MODEL={path!r} 不是本地模型目录：'embedding' 重排只加载本地模型，"
            "不会在运行时下载。"
        )
    return path


def active_reranker() -> str:
    """The re-ranker answers use now: the configured one, or "none" when it cannot run here (unknown name,
    no sentence-transformers, no local model) — a chat answer must not fail over an optional refinement."""
    try:
        return reranker_name()
    except ImproperlyConfigured as exc:
        report_fallback(str(exc))
        return "none"


def report_fallback(problem: str) -> None:
    # Once per process and problem: every question would otherwise repeat it in the log.
    if problem not in _reported:
        _reported.add(problem)
        logger.warning("答疑引擎重排未启用，按 BM25 排序作答：%s", problem)


def check_reranker(app_configs=None, **kwargs):
    """A Django system check (register it in the app config) for the re-ranker settings."""
    from django.core.checks import Error, Warning

    name = getattr(settings, "CONSULTATION_RERANKER", "none") or "none"
    try:
        reranker_name()
    except ImproperlyConfigured as exc:
        if name not in RERANKERS:
            return [Error(str(exc), id="consultation.E001")]
        return [Warning(f"{exc} 运行时将按 BM25 排序作答。", id="consultation.W001")]
    return []


def build_reranker(name: str, index):
    """The re-ranker for the index, or None (BM25 order) when it is off or its model cannot be loaded."""
    if name == "none":
        return None
    if name == "char_ngram":
        return CharNgramReranker(index)
    try:
        return EmbeddingReranker(index, _embedding_model_path())
    except Exception as exc:  # noqa: BLE001 - a broken local model must not break answering
        report_fallback(f"无法加载本地向量模型（{type(exc).__name__}: {exc}）")
        return None


def _ngrams(text: str) -> Counter:
    text = normalize_question(text, limit=400)
    grams: Counter = Counter()
    for size in (1, 2, 3):
        grams.update(text[i : i + size] for i in range(len(text) - size + 1))
    return grams


class _Blending:
    def rerank(self, query_text: str, hits: list) -> list:
        head, tail = hits[:RERANK_DEPTH], hits[RERANK_DEPTH:]
        if len(head) < 2:
            return hits
        similarities = self.similarities(query_text, [hit.number for hit in head])
        top = head[0].raw_score or 1.0
        blended = [
            ((1 - RERANK_BLEND) * hit.raw_score / top + RERANK_BLEND * similarity, hit)
            for hit, similarity in zip(head, similarities, strict=True)
        ]
        blended.sort(key=lambda pair: -pair[0])
        return [hit for _, hit in blended] + tail

    def similarities(self, query_text: str, numbers: list[int]) -> list[float]:
        raise NotImplementedError


class CharNgramReranker(_Blending):
    """TF-IDF over character 1–3-grams of each article's questions (sublinear tf, l2-normalised)."""

    def __init__(self, index):
        grams = [_ngrams(doc.question_text) for doc in index.documents]
        df: Counter = Counter()
        for counts in grams:
            df.update(counts.keys())
        size = len(grams)
        self.idf = {g: math.log((1 + size) / (1 + n)) + 1 for g, n in df.items()}
        self.default_idf = math.log(1 + size) + 1
        self.vectors = [self._vector(counts) for counts in grams]

    def _vector(self, counts: Counter) -> dict[str, float]:
        vector = {g: (1 + math.log(tf)) * self.idf.get(g, self.default_idf) for g, tf in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {g: v / norm for g, v in vector.items()}

    def similarities(self, query_text: str, numbers: list[int]) -> list[float]:
        query = self._vector(_ngrams(query_text))
        out = []
        for number in numbers:
            doc = self.vectors[number]
            out.append(sum(weight * doc.get(g, 0.0) for g, weight in query.items()))
        return out


class EmbeddingReranker(_Blending):
    """Sentence-embedding cosine from a local sentence-transformers model (loaded once per index)."""

    def __init__(self, index, model_path: str):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self.vectors = self.model.encode(
            [doc.question_text for doc in index.documents], normalize_embeddings=True
        )

    def similarities(self, query_text: str, numbers: list[int]) -> list[float]:
        query = self.model.encode([query_text], normalize_embeddings=True)[0]
        return [float(self.vectors[n] @ query) for n in numbers]
