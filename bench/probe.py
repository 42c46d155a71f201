"""The negation probe set (resources/negation_probe.csv) as a dev set: a model's accuracy on it.

Written for the project, never a test split, so selection may read it: bench/selection.py
scores every arm on it beside the selection accuracy (--probe).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from core.bundle import ModelBundle
from core.explain.attribution import class_probabilities
from core.predict.predictor import Predictor
from core.text.negation import ADVERB_NEGATORS, negation_counterfactual

PROBE = Path(__file__).resolve().parents[1] / "resources" / "negation_probe.csv"
POSITIVE_NAMES = ("1", "pos", "positive")


def probe_rows() -> list[dict[str, str]]:
    with PROBE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def probe_accuracy(bundle: ModelBundle) -> tuple[float, dict[str, float]]:
    """(accuracy, accuracy per category) of a two-class model on the probe sentences."""
    positive = next(i for i, name in enumerate(bundle.classes)
                    if name.lower() in POSITIVE_NAMES)
    rows = probe_rows()
    predicted = Predictor(bundle).probabilities([row["text"] for row in rows]).argmax(1)
    right = [(p == positive) == (row["label"] == "pos") for p, row in zip(predicted, rows)]
    categories: dict[str, list[bool]] = {}
    for ok, row in zip(right, rows):
        categories.setdefault(row["category"], []).append(ok)
    return float(np.mean(right)), {c: float(np.mean(v)) for c, v in sorted(categories.items())}


NEGATED = ("negated_positive", "negated_negative")


def composition(bundle: ModelBundle) -> dict[str, dict[str, int]]:
    """Whether a miss is the negation or the word: per negated category, the sentences counted
    by whether the model reads the sentence without its negator right ("the setup is
    complicated" should read negative) and the negated one right ("the setup isn't
    complicated": positive). A model that reads the plain sentence right but not the negated
    one fails to compose; one that misreads the plain sentence too lacks the word.
    Sentences whose negator cannot be taken away cleanly ("no one", "not a single") are
    counted as ``no plain form``."""
    positive = next(i for i, name in enumerate(bundle.classes)
                    if name.lower() in POSITIVE_NAMES)
    encoder = Predictor(bundle).encoder  # the model's own tokenizer, vocabulary and cut
    counts: dict[str, dict[str, int]] = {category: {} for category in NEGATED}
    for row in probe_rows():
        if row["category"] not in NEGATED:
            continue
        tokens = encoder.tokenizer.tokenize(row["text"])
        plain = negation_counterfactual(tokens, max_tokens=len(tokens),
                                        adverbs=ADVERB_NEGATORS)
        tally = counts[row["category"]]
        if plain is None or len(plain) >= len(tokens):  # the edit added a negator instead
            tally["no plain form"] = tally.get("no plain form", 0) + 1
            continue
        ids = [encoder.encode_tokens(t) for t in (tokens, plain)]
        negated, unnegated = class_probabilities(bundle.model, ids).argmax(1) == positive
        truth = row["label"] == "pos"
        key = (f"plain {'right' if unnegated != truth else 'wrong'}, "
               f"negated {'right' if negated == truth else 'wrong'}")
        tally[key] = tally.get(key, 0) + 1
    return counts
