"""qa_retrieval: how well and how fast the answering engine finds the right article.

Knowledge base: the demo articles (bizreg.consultation.demo_content, ≥ 300 at full size) and the demo
synonyms, written into the throwaway database as the seeder leaves them (published versions, synonyms,
the knowledge-base revision). Evaluation set: bench/data/qa_eval.json — paraphrased questions (colloquial
wording, abbreviations, a few typos and pinyin), each with the code of the article that answers it.

Project: `bizreg.consultation.engine.search(authority_id=…, query=…, audience="internal", limit=10)` —
what the agents' lookup and the engine's answer() run: the revision check (one query), jieba with the
registration dictionary, synonyms, stop words, pinyin and homophone typos respelled to the knowledge
base's words, character and pinyin bigrams, the engine's own BM25 over weighted fields. Its `answering`
figures say what answer() would do at the configured threshold (answered right / wrong / handed over).
Reference: plain jieba (precise mode) + rank_bm25's BM25Okapi over title + variants + answer of the same
articles, no synonyms, no stop words (punctuation dropped), built in the same run.
Figures for both: hit_at_1, mrr (MRR@10), p50/p95 latency per question (after one warm-up pass), hit@1
by kind of question (by_kind), and the project's index build time (cold: first build in the process,
with jieba's dictionary; warm: a rebuild after a publish). ratio = project p95 ÷ reference p95.
Goals: project p95 < 30 ms; hit@1 at least 10 points above the reference.

    python -m bench.qa_retrieval --backend sqlite
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from bench.common import (
    backend_args,
    demo_authority,
    emit,
    latency_figures,
    log,
    machine,
    setup_django,
    throwaway_database,
)

# BENCH_QA_EVAL: another evaluation file (same format), e.g. while tuning.
EVAL_FILE = Path(os.environ.get("BENCH_QA_EVAL") or Path(__file__).resolve().parent / "data" / "qa_eval.json")
TOP_K = 10
_PUNCTUATION = re.compile(r"^[\W_]+$")


def load_eval_items(path: Path = EVAL_FILE) -> list[dict]:
    """[{question, code, kind}] from the evaluation file (a list, or {"questions": [...]})."""
    data = json.loads(path.read_text(encoding="utf-8"))
    items = data.get("questions", data.get("items", [])) if isinstance(data, dict) else data
    out = []
    for item in items:
        question = item.get("question") or item.get("q")
        code = item.get("code") or item.get("expected_code") or item.get("expected") or item.get("article")
        if question and code:
            out.append({"question": question, "code": code, "kind": item.get("kind") or "other"})
    return out


def load_eval_set(path: Path = EVAL_FILE) -> list[tuple[str, str]]:
    """[(question, expected article code)] from the evaluation file."""
    return [(item["question"], item["code"]) for item in load_eval_items(path)]


def _by_kind(found: list[list[str]], expected: list[str], kinds: list[str]) -> dict:
    """hit@1 per kind of question (colloquial, abbreviation, typo, pinyin): where each side wins or loses."""
    totals: dict[str, list[int]] = {}
    for codes, code, kind in zip(found, expected, kinds, strict=True):
        total = totals.setdefault(kind, [0, 0])
        total[0] += codes[:1] == [code]
        total[1] += 1
    return {kind: {"hit_at_1": round(hits / n, 4), "n": n} for kind, (hits, n) in sorted(totals.items())}


def load_knowledge_base(authority) -> int:
    """The demo articles as published versions, the demo synonyms, the revision bumped; returns articles."""
    import datetime as dt

    from django.utils import timezone

    from bizreg.accounts.models import User
    from bizreg.consultation.demo_content import SYNONYMS, all_articles
    from bizreg.consultation.models import Article, ArticleVersion, ArticleVersionState, Synonym
    from bizreg.consultation.services.knowledge import kb_revision_bump

    author = User.objects.create(username="bench_kb_author", display_name="基准测试")
    articles = all_articles()
    review_by = timezone.localdate() + dt.timedelta(days=180)
    rows = Article.objects.bulk_create(
        [Article(authority=authority, code=a.code, owner=author, review_by=review_by) for a in articles]
    )
    now = timezone.now()
    versions = ArticleVersion.objects.bulk_create(
        [
            ArticleVersion(
                article=row,
                number=1,
                state=ArticleVersionState.PUBLISHED,
                title=a.title,
                question_variants=a.question_variants,
                answer=a.answer,
                legal_basis=a.legal_basis,
                case_types=list(a.case_types),
                topic=a.topic,
                visibility=a.visibility,
                author=author,
                published_at=now,
            )
            for row, a in zip(rows, articles, strict=True)
        ]
    )
    for row, version in zip(rows, versions, strict=True):
        row.published_version = version
    Article.objects.bulk_update(rows, ["published_version"])
    Synonym.objects.bulk_create(
        [Synonym(term=term, canonical=canonical) for term, canonical in SYNONYMS], ignore_conflicts=True
    )
    kb_revision_bump(authority.pk)
    return len(articles)


def _ranks(found: list[list[str]], expected: list[str]) -> dict:
    hit_at_1 = sum(1 for codes, code in zip(found, expected, strict=True) if codes[:1] == [code])
    reciprocal = 0.0
    for codes, code in zip(found, expected, strict=True):
        if code in codes[:TOP_K]:
            reciprocal += 1 / (codes.index(code) + 1)
    n = len(expected) or 1
    return {"hit_at_1": round(hit_at_1 / n, 4), "mrr": round(reciprocal / n, 4)}


def run_project(authority_id: int, questions: list[str]) -> tuple[list[list[str]], list[float], dict]:
    from bizreg.consultation import engine
    from bizreg.consultation.answering.index import clear_index_cache, index_for
    from bizreg.consultation.services.knowledge import kb_revision_bump

    clear_index_cache()
    t0 = time.perf_counter()
    index_for(authority_id, "internal")
    cold = time.perf_counter() - t0
    kb_revision_bump(authority_id)  # as a publish does: the next lookup rebuilds
    t0 = time.perf_counter()
    index = index_for(authority_id, "internal")
    warm = time.perf_counter() - t0
    build = {"index_build_cold_ms": round(cold * 1000, 1), "index_build_ms": round(warm * 1000, 1)}
    build["documents"] = len(index)

    def lookup(question: str) -> list:
        return engine.search(authority_id=authority_id, query=question, audience="internal", limit=TOP_K)

    for question in questions:  # warm-up: jieba's and pypinyin's caches, as in a running process
        lookup(question)
    found, samples, confidences = [], [], []
    for question in questions:
        t0 = time.perf_counter()
        candidates = lookup(question)
        samples.append(time.perf_counter() - t0)
        found.append([c.code for c in candidates])
        confidences.append(candidates[0].score if candidates else 0.0)
    build["confidences"] = confidences
    return found, samples, build


def _answer_figures(found: list[list[str]], expected: list[str], confidences: list[float]) -> dict:
    """What answer() would have done at the configured threshold: answered right, answered wrong (a
    confident wrong article — the costly error), handed over."""
    from bizreg.consultation.engine import answer_threshold

    threshold = answer_threshold()
    right = wrong = 0
    for codes, code, confidence in zip(found, expected, confidences, strict=True):
        if confidence >= threshold:
            right += codes[:1] == [code]
            wrong += codes[:1] != [code]
    n = len(expected) or 1
    return {
        "threshold": threshold,
        "answered_right": round(right / n, 4),
        "answered_wrong": round(wrong / n, 4),
        "handed_over": round(1 - (right + wrong) / n, 4),
    }


def run_reference(questions: list[str]) -> tuple[list[list[str]], list[float], dict]:
    import jieba
    import numpy as np
    from rank_bm25 import BM25Okapi

    from bizreg.consultation.demo_content import all_articles

    def tokens(text: str) -> list[str]:
        return [t for t in jieba.lcut(text.lower()) if t.strip() and not _PUNCTUATION.match(t)]

    articles = all_articles()
    t0 = time.perf_counter()
    bm25 = BM25Okapi([tokens("\n".join((a.title, *a.variants, a.answer))) for a in articles])
    build_ms = round((time.perf_counter() - t0) * 1000, 1)
    codes = [a.code for a in articles]

    def lookup(question: str) -> list[str]:
        scores = bm25.get_scores(tokens(question))
        best = np.argsort(-scores)[:TOP_K]
        return [codes[i] for i in best if scores[i] > 0]

    for question in questions:
        lookup(question)
    found, samples = [], []
    for question in questions:
        t0 = time.perf_counter()
        result = lookup(question)
        samples.append(time.perf_counter() - t0)
        found.append(result)
    return found, samples, {"index_build_ms": build_ms, "documents": len(articles)}


def run(backend: str, size: str) -> dict:
    if not EVAL_FILE.exists():
        raise SystemExit(
            f"qa_retrieval: the evaluation set {EVAL_FILE} is missing (written with the demo content)"
        )
    items = load_eval_items()
    pairs = [(item["question"], item["code"]) for item in items]
    questions = [q for q, _ in pairs]
    expected = [code for _, code in pairs]
    kinds = [item["kind"] for item in items]
    with throwaway_database(backend) as db:
        setup_django(db)
        authority = demo_authority()
        articles = load_knowledge_base(authority)
        log(f"  {articles} articles, {len(pairs)} evaluation questions")
        project_found, project_samples, project_build = run_project(authority.pk, questions)
        answering = _answer_figures(project_found, expected, project_build.pop("confidences"))
        reference_found, reference_samples, reference_build = run_reference(questions)
    project = {**_ranks(project_found, expected), **latency_figures(project_samples), **project_build}
    project["answering"] = answering
    project["by_kind"] = _by_kind(project_found, expected, kinds)
    reference = {**_ranks(reference_found, expected), **latency_figures(reference_samples), **reference_build}
    reference["by_kind"] = _by_kind(reference_found, expected, kinds)
    misses = [
        {"question": q, "expected": code, "got": found[:3]}
        for q, code, found in zip(questions, expected, project_found, strict=True)
        if found[:1] != [code]
    ]
    return {
        "bench": "qa_retrieval",
        "size": size,
        "questions": len(pairs),
        "articles": articles,
        "backend": backend,
        "project": project,
        "reference": reference,
        "ratio": round(project["p95_ms"] / reference["p95_ms"], 2) if reference["p95_ms"] else None,
        "goal": "project p95 < 30 ms; hit@1 ≥ reference + 0.10",
        "goal_met": project["p95_ms"] < 30 and project["hit_at_1"] >= reference["hit_at_1"] + 0.10,
        "hit_at_1_gain": round(project["hit_at_1"] - reference["hit_at_1"], 4),
        "project_misses": misses[:40],
        "machine": machine(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main() -> None:
    args = backend_args(__doc__.splitlines()[0]).parse_args()
    emit(run(args.backend, args.size))


if __name__ == "__main__":
    main()
