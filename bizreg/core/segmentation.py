"""Chinese word segmentation: each user gets its own jieba Tokenizer (never jieba's global one, which other
code may tune), so what one module adds to its dictionary never changes another's tokens."""

from __future__ import annotations

import logging


def new_jieba_tokenizer():
    """A freshly loaded jieba Tokenizer with jieba's start-up logging silenced (loading takes ~1 s)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer
