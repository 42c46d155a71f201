"""Tokenize only the part of a long review that the model will read.

A model reads at most ``max_length`` tokens: the first ones (``head``), the last ones
(``tail``) or a quarter from the start and the rest from the end (``head_tail``). For a
review far longer than that, tokenizing the whole text only to throw most of it away costs
time and, for a review of hundreds of megabytes, many times its size in memory. Here each
kept end is tokenized from a window of the text that grows until it holds the tokens wanted
plus a margin, cut at white space, so the tokens are exactly those of the whole text (the
test compares them for every tokenizer and cut). Spans keep their offsets in the whole text,
so explanations still point at the right characters.

Only the regular-expression tokenizer (``words``, the default) is windowed: the nltk ones fall
back to it for a whole text when one token cannot be aligned, so a piece of a text may not
tokenize as the whole does; those read the whole text as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from core.text.tokenizer import Tokenizer

MARGIN = 16  # tokens beyond the ones kept: a cut can only change the tokens next to it
_FIRST_WINDOW_CHARS_PER_TOKEN = 16
_SPACE = re.compile(r"\s")

T = TypeVar("T")


def _head_cut(text: str, width: int) -> int:
    """An end near ``width`` that falls on white space (or ``width`` if there is none)."""
    for found in reversed(list(_SPACE.finditer(text, max(0, width - 256), width))):
        return found.start()
    return width


def _tail_cut(text: str, width: int) -> int:
    """A start near ``len(text) - width`` that falls on white space."""
    start = len(text) - width
    found = _SPACE.search(text, start, min(len(text), start + 256))
    return found.end() if found else start


def _edge(text: str, count: int, from_end: bool,
          tokenize: Callable[[str], Sequence[T]]) -> tuple[list[T], int] | None:
    """The first (or last) ``count`` tokens and the offset of the piece they came from, or
    None when the window would reach the middle of the text (then tokenize it whole)."""
    width = max(4096, count * _FIRST_WINDOW_CHARS_PER_TOKEN)
    while width * 2 < len(text):
        if from_end:
            start = _tail_cut(text, width)
            tokens = tokenize(text[start:])
            if len(tokens) >= count + MARGIN:
                return list(tokens[len(tokens) - count:]), start
        else:
            tokens = tokenize(text[:_head_cut(text, width)])
            if len(tokens) >= count + MARGIN:
                return list(tokens[:count]), 0
        width *= 4
    return None


def _window(text: str, max_length: int, truncation: str,
            tokenize: Callable[[str], Sequence[T]]) -> tuple[list[T], int, int] | None:
    """(kept tokens, offset of the tail piece, number of head tokens) or None for 'whole'."""
    if len(text) <= max(8192, max_length * _FIRST_WINDOW_CHARS_PER_TOKEN * 2):
        return None
    head_count = {"head": max_length, "tail": 0}.get(truncation, max_length // 4)
    tail_count = max_length - head_count
    head: list[T] = []
    tail: list[T] = []
    tail_start = 0
    if head_count:
        found = _edge(text, head_count, False, tokenize)
        if found is None:
            return None
        head = found[0]
    if tail_count:
        found = _edge(text, tail_count, True, tokenize)
        if found is None:
            return None
        tail, tail_start = found
    return head + tail, tail_start, len(head)


def cut_tokens(tokens: Sequence[T], max_length: int, truncation: str) -> list[T]:
    """``core.text.encoder.truncate`` for a list: the tokens a model of ``max_length`` reads."""
    if len(tokens) <= max_length:
        return tokens if isinstance(tokens, list) else list(tokens)
    head = {"head": max_length, "tail": 0}.get(truncation, max_length // 4)
    return list(tokens[:head]) + list(tokens[len(tokens) - (max_length - head):])


def window_tokens(tokenizer: Tokenizer, text: str, max_length: int,
                  truncation: str) -> list[str]:
    """The tokens the model reads: ``tokenizer.tokenize(text)`` cut to ``max_length`` by
    ``truncation``, computed from the kept ends only when the text is long."""
    found = (_window(text, max_length, truncation, tokenizer.tokenize)
             if tokenizer.settings.kind == "words" else None)
    if found is None:
        return cut_tokens(tokenizer.tokenize(text), max_length, truncation)
    return found[0]


def window_spans(tokenizer: Tokenizer, text: str, max_length: int,
                 truncation: str) -> list[tuple[str, int, int]]:
    """(token, start, end) of the tokens the model reads, offsets in the whole ``text``: for
    explanations of a review too long to tokenize whole."""
    found = (_window(text, max_length, truncation, tokenizer.tokenize_with_spans)
             if tokenizer.settings.kind == "words" else None)
    if found is None:
        return cut_tokens(tokenizer.tokenize_with_spans(text), max_length, truncation)
    tokens, tail_start, heads = found
    return tokens[:heads] + [(token, start + tail_start, end + tail_start)
                             for token, start, end in tokens[heads:]]
