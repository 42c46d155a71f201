"""Length-bucketed batches: reviews of similar length together, so little time goes on padding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from core.vocab import PAD_INDEX


def bucket_batches(lengths: Sequence[int] | np.ndarray, batch_size: int,
                   rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Index batches with near-equal lengths; shuffled (ties and batch order) when rng given.

    Sorting by length with random tie-breaks keeps padding near zero while each epoch still
    sees different batch compositions and orders.
    """
    lengths = np.asarray(lengths)
    if len(lengths) == 0:
        return []
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:
        order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)  # type: ignore[arg-type]
    return batches


def pad_batch(sequences: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded [B, T] int64 ids and [B] lengths for a list of id arrays."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    ids = np.full((len(sequences), int(lengths.max())), PAD_INDEX, dtype=np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
    return torch.from_numpy(ids), torch.from_numpy(lengths)


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
