"""Where the opinion turns: the class probabilities after reading each prefix of a review.

Each prefix is run as a review of its own, so a bidirectional model sees only the words read
so far (its backward direction cannot peek ahead). All prefixes go through the model in a few
length-sorted batches.
"""

from __future__ import annotations

import numpy as np

from core.explain.attribution import class_probabilities
from core.model.classifier import RecurrentClassifier

MAX_POINTS = 100  # prefixes cost O(length^2): a long review shows an even subset


def prefix_points(ends: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of the words to compute a prefix for: every read word, or an even subset.

    ``ends[w]`` is how many input positions are read once word w is (0 for words not read).
    A long review keeps at most ``max_points`` evenly spaced words, always including the last.
    """
    read = np.flatnonzero(ends > 0)
    if len(read) <= max_points:
        return read
    picks = np.unique(np.round(np.linspace(0, len(read) - 1, max_points)).astype(np.int64))
    return read[picks]


def trajectory(model: RecurrentClassifier, ids: np.ndarray, ends: np.ndarray,
               max_points: int = MAX_POINTS, batch_size: int = 64) -> np.ndarray:
    """[n_words, C] probabilities after each word; NaN rows for words skipped or not read."""
    num_classes = model.classifier.out_features
    result = np.full((len(ends), num_classes), np.nan)
    words = prefix_points(ends, max_points)
    if len(words):
        prefixes = [ids[: int(ends[w])] for w in words]
        result[words] = class_probabilities(model, prefixes, batch_size)
    return result
