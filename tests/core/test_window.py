"""A long review is tokenized only where the model reads it (issue 19 item 8): the tokens are
exactly those of the whole text cut to the model's length, the spans point into the whole
text, and a review of many megabytes costs kilobytes of memory to encode."""

from __future__ import annotations

import random
import tracemalloc

import numpy as np
import pytest

from core.text.encoder import TextEncoder, truncate
from core.text.tokenizer import Tokenizer, TokenizerSettings
from core.text.vocabulary import Vocabulary
from core.text.window import window_spans, window_tokens

PIECES = ["good", "bad", "don't", "film", "Hotel", ":)", "!!!", "...", "<br />", "\n", "\t",
          "naïve", "\"quoted\"", "(aside)", "end.", "U.S.", "5/10", "—", "wasn't", "it's"]
TRUNCATIONS = ("head", "tail", "head_tail")


def long_text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(PIECES) for _ in range(words))


@pytest.mark.parametrize("settings", [TokenizerSettings(), TokenizerSettings(lowercase=False),
                                      TokenizerSettings(strip_html=False),
                                      TokenizerSettings(kind="treebank"),
                                      TokenizerSettings(kind="tweet")], ids=str)
@pytest.mark.parametrize("truncation", TRUNCATIONS)
def test_window_tokens_equal_the_whole_text_cut(settings, truncation):
    tokenizer = Tokenizer(settings)
    rng = random.Random(f"{settings}-{truncation}")
    for words, max_length in [(3000, 50), (20_000, 400), (500, 400), (8000, 7)]:
        text = long_text(rng, words)
        whole = tokenizer.tokenize(text)
        expected = whole if len(whole) <= max_length else list(
            truncate(np.array(whole, dtype=object), max_length, truncation))
        assert window_tokens(tokenizer, text, max_length, truncation) == expected


@pytest.mark.parametrize("truncation", TRUNCATIONS)
def test_window_spans_point_into_the_whole_text(truncation):
    tokenizer = Tokenizer()
    text = long_text(random.Random(3), 30_000)
    spans = window_spans(tokenizer, text, 100, truncation)
    assert len(spans) == 100
    whole = tokenizer.tokenize_with_spans(text)
    expected = list(truncate(np.array(whole, dtype=object), 100, truncation))
    assert [tuple(s) for s in spans] == [tuple(e) for e in expected]
    assert all(text[start:end].lower() == token for token, start, end in spans)
    assert window_spans(tokenizer, "a short review", 100, truncation) == \
        tokenizer.tokenize_with_spans("a short review")


def test_a_huge_review_is_encoded_in_little_memory():
    vocab = Vocabulary.build([["good", "bad", "film"]], min_count=1)
    encoder = TextEncoder(Tokenizer(), vocab, 400, "head_tail")
    text = "good film " * 2_000_000 + "bad " * 1000  # 20 MB
    tracemalloc.start()
    try:
        ids = encoder.encode(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(ids) == 400 and ids[-1] == vocab.stoi["bad"]
    assert peak < 2_000_000  # whole-text tokens would take hundreds of MB
