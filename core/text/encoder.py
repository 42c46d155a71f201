"""Tokens to model input: ids, the cut to the model's length, and padding; numpy only, no torch.

One encoder for training, prediction and whole-file analysis, so a review is cut the same way
everywhere; the analysis helper process imports this without loading torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.text.tokenizer import Tokenizer
from core.text.vocabulary import PAD_INDEX, Vocabulary
from core.text.window import window_tokens


def truncate(ids: np.ndarray, max_length: int, mode: str = "head_tail") -> np.ndarray:
    """Cut a long review to max_length tokens.

    ``head_tail`` keeps the first quarter and the last three quarters of the budget: reviews
    tend to open with context and close with the verdict (Sun et al. 2019 found head+tail
    best for long-text classification).
    """
    if len(ids) <= max_length:
        return ids
    if mode == "head":
        return ids[:max_length]
    if mode == "tail":
        return ids[-max_length:]
    head = max_length // 4
    return np.concatenate([ids[:head], ids[len(ids) - (max_length - head):]])


def pad_ids(sequences: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded [B, T] int64 ids and [B] lengths for a list of id arrays."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    ids = np.full((len(sequences), int(lengths.max())), PAD_INDEX, dtype=np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
    return ids, lengths


@dataclass(frozen=True)
class TextEncoder:
    """A review's text to the ids the model reads, exactly as its training cut them."""

    tokenizer: Tokenizer
    vocab: Vocabulary
    max_length: int
    truncation: str

    def encode_tokens(self, tokens: Sequence[str]) -> np.ndarray:
        return truncate(self.vocab.encode(tokens), self.max_length, self.truncation)

    def encode(self, text: str) -> np.ndarray:
        # a long review is tokenized only where the cut keeps it (core.text.window)
        return self.encode_tokens(window_tokens(self.tokenizer, text, self.max_length,
                                                self.truncation))

    def encode_all(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [self.encode(text) for text in texts]
