"""Training reviews plus their negation counterfactuals (core/text/negation.py), labels flipped.

Only for two classes, where "not" + one class is the other. The pairs are built from the
training split alone, after the split and the vocabulary, so validation and test rows never
see them and the vocabulary is the one the reviews built.
"""

from __future__ import annotations

import numpy as np

from core.text.negation import negation_counterfactual
from core.text.vocabulary import UNK_INDEX, Vocabulary
from core.training.dataset import EncodedSplit


def wants_negation_pairs(mode: str, num_classes: int) -> bool:
    """Whether a run with ``mode`` adds the pairs: on two classes unless switched off."""
    return mode != "off" and num_classes == 2


def negation_pairs(split: EncodedSplit, vocab: Vocabulary) -> EncodedSplit:
    """One counterfactual per training review whose negation flips cleanly; label flipped.

    ``rows`` of a pair is the row it came from. A pair whose edit would bring in a word the
    vocabulary lacks ("not" in a set that never says it) is left out: as <unk> it would teach
    nothing about negation.
    """
    ids: list[np.ndarray] = []
    labels: list[int] = []
    rows: list[int] = []
    for sequence, label, row in zip(split.ids, split.labels, split.rows):
        tokens = [vocab.lookup(int(i)) for i in sequence]
        flipped = negation_counterfactual(tokens)
        if flipped is None:
            continue
        encoded = vocab.encode(flipped)
        if int((encoded == UNK_INDEX).sum()) > int((sequence == UNK_INDEX).sum()):
            continue
        ids.append(encoded)
        labels.append(1 - int(label))
        rows.append(int(row))
    return EncodedSplit(ids, np.asarray(labels, dtype=np.int64), np.asarray(rows, dtype=np.int64))


def with_negation_pairs(split: EncodedSplit, vocab: Vocabulary) -> tuple[EncodedSplit, int]:
    """The split followed by its pairs, and how many pairs were added."""
    pairs = negation_pairs(split, vocab)
    if not len(pairs):
        return split, 0
    return EncodedSplit(list(split.ids) + pairs.ids,
                        np.concatenate([split.labels, pairs.labels]),
                        np.concatenate([split.rows, pairs.rows])), len(pairs)
