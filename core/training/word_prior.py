"""Each word's lean toward each class in the training reviews: a fixed input feature.

The naive-Bayes log-count ratio (Wang & Manning 2012, NBSVM) for word w and class c is
log(share of c's reviews holding w) - log(share of the other classes' reviews holding w),
smoothed by one review. Fed to the recurrent layers beside the learned embedding, it gives a
model trained on a few thousand reviews a head start that it would otherwise have to learn
word by word; the recurrent layers still decide how context (negation, "but") changes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SMOOTHING = 1.0
# 'auto' turns the prior on when the median training review is at most this many tokens
# (short-review sets: RT, SST-2), or when there are at most SMALL_SET_REVIEWS training
# reviews of any length (IMDB with 1,000 labels); a large set of long reviews keeps it off
# (full IMDB, where it learns film names the test films do not share). docs/decisions.md.
SHORT_REVIEW_TOKENS = 50
SMALL_SET_REVIEWS = 2000


def wants_prior(mode: str, lengths: np.ndarray) -> bool:
    """Whether a run with word_prior ``mode`` uses the prior, given its training lengths."""
    if mode == "on":
        return True
    if mode == "off" or len(lengths) == 0:
        return False
    return (float(np.median(lengths)) <= SHORT_REVIEW_TOKENS
            or len(lengths) <= SMALL_SET_REVIEWS)


def log_count_ratios(sequences: Sequence[np.ndarray], labels: np.ndarray, vocab_size: int,
                     num_classes: int, reserved: int = 2) -> np.ndarray:
    """[vocab_size, num_classes] float32 ratios; the first ``reserved`` ids (pad, unk) stay 0."""
    counts = np.zeros((num_classes, vocab_size), dtype=np.float64)
    for ids, label in zip(sequences, labels):
        if len(ids):
            counts[int(label), np.unique(ids)] += 1.0
    counts += SMOOTHING
    total = counts.sum(axis=0, keepdims=True)
    others = total - counts
    ratios = (np.log(counts / counts.sum(axis=1, keepdims=True))
              - np.log(others / others.sum(axis=1, keepdims=True)))
    ratios[:, :reserved] = 0.0
    return ratios.T.astype(np.float32)
