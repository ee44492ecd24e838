"""Okapi BM25 over one field, written for this engine (rank_bm25 is only the benchmark's baseline).

Per-posting term weights tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl)) are computed once at build time, so
a query only sums idf × weight over the postings of its terms: a few thousand additions for a
thousand-article knowledge base.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence


class FieldIndex:
    """An inverted index of one field of every document: term → [(document number, BM25 weight)]."""

    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.size = len(documents)
        lengths = [len(terms) for terms in documents]
        average = (sum(lengths) / self.size) if self.size else 0.0
        self.postings: dict[str, list[tuple[int, float]]] = {}
        self.terms: list[frozenset[str]] = []
        for number, terms in enumerate(documents):
            counts = Counter(terms)
            self.terms.append(frozenset(counts))
            norm = k1 * (1 - b + b * (lengths[number] / average if average else 0.0))
            for term, tf in counts.items():
                self.postings.setdefault(term, []).append((number, tf * (k1 + 1) / (tf + norm)))
        # Lucene's non-negative idf; a term no document has weighs as much as the rarest possible one.
        self.idf = {term: self._idf(len(hits)) for term, hits in self.postings.items()}
        self.unseen_idf = self._idf(0)

    def _idf(self, df: int) -> float:
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def term_idf(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def score_into(
        self, scores: dict[int, float], query_terms: Iterable[str] | Mapping[str, float], weight: float = 1.0
    ) -> None:
        """Add this field's weighted BM25 score of every matching document to `scores` (query terms as a
        mapping: each term's own weight too)."""
        term_weights = query_terms if isinstance(query_terms, Mapping) else dict.fromkeys(query_terms, 1.0)
        for term, term_weight in term_weights.items():
            hits = self.postings.get(term)
            if not hits:
                continue
            factor = weight * term_weight * self.idf[term]
            for number, term_weight in hits:
                scores[number] = scores.get(number, 0.0) + factor * term_weight

    def scores(self, query_terms: Iterable[str] | Mapping[str, float]) -> dict[int, float]:
        scores: dict[int, float] = {}
        self.score_into(scores, query_terms)
        return scores

    def coverage(self, number: int, query_terms: Iterable[str]) -> float:
        """The idf-weighted share of the query's terms that document `number` contains, in [0, 1]."""
        total = matched = 0.0
        doc_terms = self.terms[number]
        for term in query_terms:
            idf = self.term_idf(term)
            total += idf
            if term in doc_terms:
                matched += idf
        return matched / total if total else 0.0
