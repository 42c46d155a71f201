"""Stratified, seeded splits: every class keeps its share in train, validation and test."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def stratified_split(labels: Sequence[int] | np.ndarray, share: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held_out) index arrays; about ``share`` of each class is held out.

    A class with a single review stays in ``kept`` (it cannot be both learnt and checked).
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    held: list[np.ndarray] = []
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        rng.shuffle(members)
        count = int(round(len(members) * share)) if len(members) > 1 else 0
        count = min(max(count, 1 if share > 0 and len(members) > 1 else 0), len(members) - 1)
        held.append(members[:count])
        kept.append(members[count:])
    kept_all = np.sort(np.concatenate(kept)) if kept else np.array([], dtype=np.int64)
    held_all = np.sort(np.concatenate(held)) if held else np.array([], dtype=np.int64)
    return kept_all.astype(np.int64), held_all.astype(np.int64)
