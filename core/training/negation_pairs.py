"""Training reviews plus their negation counterfactuals (core/text/negation.py), labels flipped.

Only for two classes, where "not" + one class is the other. The pairs are built from the
training split alone, after the split and the vocabulary, so validation and test rows never
see them and the vocabulary is the one the reviews built.

A short text is flipped whole. A long review cannot be: negating one of its sentences does not
turn a whole review around. From a long review the pair is one of its sentences: the one that
leans most the way the review's label says, by the training reviews' own word ratios
(core/training/word_prior.py), taken with the review's label, and that sentence flipped with
the other label.

``edit="wide"`` (``negation_pairs="wide"``) uses the wide edit of core/text/negation.py: the
other negators ("never", "hardly", "barely", "rarely", "no" + noun) added and taken away as
well, one edit a text. ``edit="wide_add"`` keeps the "not" edit of each text and adds the wide
edit beside it where that is another one (an adverb added, or a text the "not" edit refuses).
Both are arms for selection runs, not what ``auto`` does: on selection splits neither raised
the negation probe on SST-2, and both lowered it on RT (the record is in docs/decisions.md).
``edit="determiner"`` keeps the "not" edit and teaches "no" + noun the other way: a text whose
one "a" / "an" / "some" can become "no" (core/text/negation.py) gets that edit where the "not"
edit refuses it, and one of the two (by the text's hash) where both apply: still one pair a text.
"""

from __future__ import annotations

import zlib

import numpy as np

from core.text.negation import (
    ADVERB_NEGATORS,
    determiner_counterfactual,
    negation_counterfactual,
)
from core.text.vocabulary import UNK_INDEX, Vocabulary
from core.training.dataset import EncodedSplit
from core.training.word_prior import log_count_ratios

SENTENCE_ENDS = frozenset({".", "!", "?"})
MAX_WHOLE_TOKENS = 12  # texts (and sentences) up to this long are flipped whole
# Long reviews give sentence pairs only when there are more training reviews than this: on
# IMDB with 1,000 labels the pairs (two short, near-identical texts a review, opposite labels)
# outnumbered the reviews and the model stopped learning from them (docs/decisions.md).
SENTENCE_PAIRS_MIN_REVIEWS = 2000
# The edits a run can ask for, by its settled negation_pairs value ("auto" settles to "on").
PAIR_EDITS = ("on", "wide", "wide_add", "determiner")


def wide_adverbs(vocab: Vocabulary) -> tuple[str, ...]:
    """The negating adverbs the vocabulary can spell: the wide edit adds only those."""
    return tuple(word for word in ADVERB_NEGATORS
                 if int(vocab.encode([word])[0]) != UNK_INDEX)


def wants_negation_pairs(mode: str, num_classes: int) -> bool:
    """Whether a run with ``mode`` adds the pairs: on two classes unless switched off."""
    return mode != "off" and num_classes == 2


def negation_pairs(split: EncodedSplit, vocab: Vocabulary,
                   sentences: bool | None = None, edit: str = "on") -> EncodedSplit:
    """One counterfactual per training review whose negation flips cleanly; label flipped.

    ``rows`` of a pair is the row it came from. A pair whose edit would bring in a word the
    vocabulary lacks ("not" in a set that never says it) is left out: as <unk> it would teach
    nothing about negation. ``sentences``: also pair a sentence of each long review (None:
    when there are more than SENTENCE_PAIRS_MIN_REVIEWS training reviews). ``edit``:
    "on" ("not" / "n't"), "wide", "wide_add" or "determiner" (the module docstring).
    """
    if edit not in PAIR_EDITS:
        raise ValueError(f"negation pair edit must be one of {', '.join(PAIR_EDITS)}: {edit!r}")
    adverbs = wide_adverbs(vocab) if edit in ("wide", "wide_add") else ()
    added = edit == "wide_add"
    determiners = edit == "determiner" and int(vocab.encode(["no"])[0]) != UNK_INDEX
    if sentences is None:
        sentences = len(split) > SENTENCE_PAIRS_MIN_REVIEWS
    ids: list[np.ndarray] = []
    labels: list[int] = []
    rows: list[int] = []
    lean: np.ndarray | None = None
    for sequence, label, row in zip(split.ids, split.labels, split.rows):
        if len(sequence) > MAX_WHOLE_TOKENS and not sentences:
            continue  # too long to flip whole, and no sentence pairs at this size
        tokens = [vocab.lookup(int(i)) for i in sequence]
        flips = _counterfactuals(tokens, adverbs, added, determiners=determiners)
        if flips:
            for flipped in flips:
                if _spelled(flipped, sequence, vocab):
                    ids.append(vocab.encode(flipped))
                    labels.append(1 - int(label))
                    rows.append(int(row))
            continue
        if not sentences:
            continue
        if lean is None:  # each word's lean toward class 1, from the training reviews
            ratios = log_count_ratios(split.ids, split.labels, len(vocab), 2)
            lean = ratios[:, 1] - ratios[:, 0]
        sentence = _leaning_sentence(tokens, sequence, lean, int(label), vocab, adverbs,
                                     added, determiners)
        if sentence is None:
            continue
        ids += [vocab.encode(sentence[0]), vocab.encode(sentence[1])]
        labels += [int(label), 1 - int(label)]
        rows += [int(row), int(row)]
    return EncodedSplit(ids, np.asarray(labels, dtype=np.int64), np.asarray(rows, dtype=np.int64))


def _counterfactuals(tokens: list[str], adverbs: tuple[str, ...], added: bool,
                     phrase_tokens: int = 3, determiners: bool = False) -> list[list[str]]:
    """The text's flips: one edit, or with ``added`` the "not" edit and the wide one beside it
    where the wide one brings in an adverb or the "not" edit refuses the text; with
    ``determiners`` the "not" edit or the determiner edit, one of them."""
    if determiners:
        narrow = negation_counterfactual(tokens, max_tokens=MAX_WHOLE_TOKENS,
                                         phrase_tokens=phrase_tokens)
        other = determiner_counterfactual(tokens, max_tokens=MAX_WHOLE_TOKENS)
        if narrow is not None and other is not None:  # both apply: the hash picks one
            return [other if zlib.crc32(" ".join(tokens).encode()) % 2 else narrow]
        return [flip for flip in (narrow, other) if flip is not None]
    wide = negation_counterfactual(tokens, max_tokens=MAX_WHOLE_TOKENS,
                                   phrase_tokens=phrase_tokens, adverbs=adverbs)
    if not added:
        return [] if wide is None else [wide]
    narrow = negation_counterfactual(tokens, max_tokens=MAX_WHOLE_TOKENS,
                                     phrase_tokens=phrase_tokens)
    flips = [] if narrow is None else [narrow]
    if wide is not None and (narrow is None or (set(wide) - set(tokens)) & set(adverbs)):
        flips.append(wide)
    return flips


def _spelled(flipped: list[str], original: np.ndarray, vocab: Vocabulary) -> bool:
    """Whether the edit brought in no word the vocabulary lacks (``original``: the ids)."""
    return int((vocab.encode(flipped) == UNK_INDEX).sum()) <= int((original == UNK_INDEX).sum())


def _leaning_sentence(tokens: list[str], sequence: np.ndarray, lean: np.ndarray, label: int,
                      vocab: Vocabulary,
                      adverbs: tuple[str, ...] = (), added: bool = False,
                      determiners: bool = False) -> tuple[list[str], list[str]] | None:
    """(sentence, its flip) for the sentence of a long review that leans most toward
    ``label``; None when no sentence flips cleanly and leans that way."""
    best: tuple[float, list[str], list[str]] | None = None
    start = 0
    sign = 1.0 if label == 1 else -1.0
    for end, token in enumerate(tokens):
        if token not in SENTENCE_ENDS and end + 1 < len(tokens):
            continue
        sentence = tokens[start:end + 1]
        ids = sequence[start:end + 1]
        start = end + 1
        flips = _counterfactuals(sentence, adverbs, added, phrase_tokens=0,
                                 determiners=determiners)
        flipped = flips[0] if flips else None  # one sentence pair a review
        if flipped is None or not _spelled(flipped, ids, vocab):
            continue
        score = sign * float(lean[np.unique(ids)].sum())
        if score > 0 and (best is None or score > best[0]):
            best = (score, sentence, flipped)
    return None if best is None else (best[1], best[2])


def with_negation_pairs(split: EncodedSplit, vocab: Vocabulary,
                        edit: str = "on") -> tuple[EncodedSplit, int]:
    """The split followed by its pairs, and how many pairs were added."""
    pairs = negation_pairs(split, vocab, edit=edit)
    if not len(pairs):
        return split, 0
    return EncodedSplit(list(split.ids) + pairs.ids,
                        np.concatenate([split.labels, pairs.labels]),
                        np.concatenate([split.rows, pairs.rows])), len(pairs)
