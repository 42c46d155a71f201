"""The negation probe set (resources/negation_probe.csv) as a dev set: a model's accuracy on it.

Written for the project, never a test split, so selection may read it: bench/selection.py
scores every arm on it beside the selection accuracy (--probe).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from core.bundle import ModelBundle
from core.predict.predictor import Predictor

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
