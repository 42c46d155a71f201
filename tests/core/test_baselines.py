"""Baselines: fit on the training rows only, sane on an easy set, VADER for two classes."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from sklearn.feature_extraction.text import TfidfVectorizer

from core.compare.baselines import (
    C_GRID,
    BaselineCancelled,
    tfidf_logistic,
    vader,
    vader_applies,
)
from core.config import TrainConfig
from core.errors import TrainingError
from core.io.table import ReviewTable
from core.text.labels import make_scheme
from core.training.dataset import prepare_data

POSITIVE = ["great", "lovely", "excellent", "friendly", "clean", "superb", "comfortable"]
NEGATIVE = ["awful", "dirty", "rude", "terrible", "broken", "noisy", "boring"]
FILLER = ["the", "room", "staff", "film", "was", "and", "very", "our", "stay", "plot"]


def synthetic_table(count: int = 400, seed: int = 0, stars: bool = False) -> ReviewTable:
    """Easy reviews: two sentiment words decide the label (stars 1-2 / 4-5 when ``stars``)."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(count):
        positive = rng.random() < 0.5
        words = rng.choices(POSITIVE if positive else NEGATIVE, k=2) + rng.choices(FILLER, k=4)
        rng.shuffle(words)
        texts.append(" ".join(words))
        if stars:
            labels.append(str(rng.choice([4, 5]) if positive else rng.choice([1, 2])))
        else:
            labels.append("pos" if positive else "neg")
    return ReviewTable(texts=texts, labels=labels, rows=list(range(1, count + 1)),
                       sources=["synthetic"] * count, path="synthetic.csv")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)

CONFIG = TrainConfig(min_count=1, seed=3)


def test_tfidf_learns_an_easy_set() -> None:
    data = prepare_data(synthetic_table(), CONFIG)
    result = tfidf_logistic(data)
    assert result.test_metrics["accuracy"] >= 0.9
    assert result.test_metrics["count"] == len(data.test)
    assert len(result.test_predictions) == len(data.test)
    assert result.extra["C"] in C_GRID
    assert result.seconds is not None and result.seconds > 0
    assert result.parameters == result.extra["features"] + 1  # binary: one weight row


def test_tfidf_vocabulary_comes_from_training_rows_only() -> None:
    table = synthetic_table(300, seed=1)
    data = prepare_data(table, CONFIG)
    # words that only held-out rows contain must not become features
    for row in np.concatenate([data.validation.rows, data.test.rows]):
        table.texts[int(row)] += " heldoutonlyword anotherheldoutword"
    result = tfidf_logistic(data)
    expected = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                               strip_accents="unicode")
    expected.fit([table.texts[int(r)] for r in data.train.rows])
    assert result.extra["features"] == len(expected.vocabulary_)


def test_vader_reads_positive_words_as_the_positive_class() -> None:
    table = synthetic_table(200, seed=2)
    # "pos" sorts first next to "zzz", so the positive class is index 0 here
    table.labels = ["pos" if label == "pos" else "zzz" for label in table.labels]
    data = prepare_data(table, CONFIG)
    assert data.scheme.classes == ["pos", "zzz"]
    result = vader(data)
    assert result.test_metrics["accuracy"] >= 0.9
    assert result.seconds is None and result.parameters is None


def test_vader_refuses_more_than_two_classes() -> None:
    table = synthetic_table(200, seed=2, stars=True)
    data = prepare_data(table, CONFIG, make_scheme("five", table.labels))
    assert not vader_applies(data.scheme.num_classes)
    with pytest.raises(TrainingError, match="two classes"):
        vader(data)


def test_cancel_stops_a_baseline() -> None:
    data = prepare_data(synthetic_table(), CONFIG)
    with pytest.raises(BaselineCancelled):
        tfidf_logistic(data, cancel=lambda: True)
    with pytest.raises(BaselineCancelled):
        vader(data, cancel=lambda: True)
