"""Length-bucketed batches: reviews of similar length together, so little time goes on padding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
