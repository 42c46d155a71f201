"""Corpus word lists leave out punctuation and function words, never negations (item 10)."""

from __future__ import annotations

from collections import Counter

from core.analyze.summary import _net
from core.text.function_words import is_content_word


def test_punctuation_and_function_words_are_not_content() -> None:
    for token in (".", ",", "!!", "and", "I", "an", "at", "the", "'s"):
        assert not is_content_word(token), token


def test_negations_and_sentiment_words_are_content() -> None:
    for token in ("not", "no", "never", "but", "n't", "didn't", "great", "refund", "5"):
        assert is_content_word(token), token


def test_the_pushed_word_list_skips_function_words_unless_all_are_asked_for() -> None:
    pushed = Counter({".": 90, "and": 80, "great": 40, "not": 30, "i": 25})
    other = Counter({".": 10, "and": 5})
    content = [e["word"] for e in _net(pushed, other, 10, is_content_word)]
    everything = [e["word"] for e in _net(pushed, other, 10)]
    assert content == ["great", "not"]
    assert everything[:2] == [".", "and"] and "i" in everything
