"""Which rows of a labelled file are fair to score a saved model on.

Two guards against a flattering figure: a file with a split column is scored on its test rows
only (the same rule training uses to pick them), and a bundle remembers a fingerprint of the
reviews it learnt from, so an evaluation can say when it is scoring those reviews again.

The fingerprint is a bottom-k sketch: the ``SKETCH_SIZE`` smallest 48-bit hashes of the
normalised training texts. Every hash below the sketch's largest one is in the sketch, so the
share of scored reviews whose hash falls in that range and is found there estimates the share
of scored reviews that were training reviews, whatever the sizes of the two sets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.io.table import ReviewTable
from core.training.dataset import TEST_SPLITS

SKETCH_SIZE = 4096
_HEX_DIGITS = 12  # 48-bit hashes: collisions among a few million reviews stay negligible


def text_hash(text: str) -> str:
    """Hash of a review as read, ignoring case and runs of white space."""
    normal = " ".join(text.lower().split())
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=8).hexdigest()[:_HEX_DIGITS]


def training_fingerprint(texts: Iterable[str], size: int = SKETCH_SIZE) -> dict[str, Any]:
    """JSON-ready fingerprint of the reviews a model learnt from (kept in the bundle)."""
    hashes = {text_hash(text) for text in texts}
    return {"version": 1, "count": len(hashes), "hashes": sorted(hashes)[:size]}


def training_share(fingerprint: Mapping[str, Any] | None, texts: list[str]) -> float | None:
    """Estimated share of ``texts`` that the model was trained on; None without a fingerprint.

    None too when no text hashes into the sketch's range (too few texts to tell).
    """
    if not isinstance(fingerprint, Mapping) or not fingerprint.get("hashes"):
        return None
    sketch = set(fingerprint["hashes"])
    complete = int(fingerprint.get("count", 0)) <= len(sketch)
    ceiling = max(sketch)
    in_range = [h for h in map(text_hash, texts) if complete or h <= ceiling]
    if not in_range:
        return None
    return sum(h in sketch for h in in_range) / len(in_range)


@dataclass(frozen=True)
class ScoredRows:
    """The rows an evaluation scores and a sentence saying which."""

    indices: list[int]
    description: str


def rows_to_score(table: ReviewTable, all_rows: bool = False) -> ScoredRows:
    """Test rows when the file has a split column naming some (as training picks them)."""
    everything = list(range(len(table)))
    if table.splits is None:
        return ScoredRows(everything, f"all {len(table):,} rows (the file has no split column)")
    if all_rows:
        return ScoredRows(everything, f"all {len(table):,} rows, every split (as asked)")
    splits = np.array([str(s).strip().lower() for s in table.splits])
    for name in TEST_SPLITS:
        chosen = np.flatnonzero(splits == name)
        if len(chosen):
            return ScoredRows(chosen.tolist(), f"the {len(chosen):,} rows marked '{name}' in "
                                               f"the split column, of {len(table):,}")
    return ScoredRows(everything, f"all {len(table):,} rows (the split column marks no test "
                                  "rows)")
