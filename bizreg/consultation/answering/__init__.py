"""The answering engine's parts (issue 5, Deliver 6): text analysis (jieba, synonyms, typo and pinyin
tolerance), an Okapi BM25 index per authority and audience, optional re-rankers. The public entry points
are in bizreg.consultation.engine (answer, search), which re-exports what callers need from here."""
