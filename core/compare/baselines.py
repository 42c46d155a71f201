"""Simple reference models on the same split as the recurrent runs: is the network worth it?

Both read the *original* texts of the rows the recurrent models saw (``data.table.texts``),
so the only difference in a comparison is the method, never the data:

- TF-IDF over word uni- and bigrams with logistic regression, fit on the training rows
  only, its strength ``C`` picked on the validation rows (the test rows choose nothing);
- VADER, a sentiment lexicon with rules (``vaderSentiment`` ships it; nothing is
  downloaded), for two-class data only: it knows positive vs negative, not star levels.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import TrainingError
from core.metrics import compute_metrics
from core.training.dataset import PreparedData

TFIDF_NAME = "TF-IDF + LogReg"
VADER_NAME = "VADER"
BASELINE_NAMES = (TFIDF_NAME, VADER_NAME)
C_GRID = (0.25, 1.0, 4.0, 16.0)
"""Inverse regularisation strengths tried on the validation rows (wide, log-spaced)."""

Cancel = Callable[[], bool] | None


@dataclass
class BaselineResult:
    """Test (and validation) figures of one baseline, shaped like a recurrent run's."""

    name: str
    test_predictions: np.ndarray
    test_metrics: dict[str, Any]
    validation_metrics: dict[str, Any] | None
    seconds: float | None  # fitting time; None for VADER, which learns nothing
    parameters: int | None
    details: str
    extra: dict[str, Any] = field(default_factory=dict)


class BaselineCancelled(Exception):
    """Raised inside a baseline when the comparison is cancelled (nothing is kept)."""


def _texts(data: PreparedData, rows: np.ndarray) -> list[str]:
    texts = data.table.texts
    return [texts[int(r)] for r in rows]


def _check(cancel: Cancel) -> None:
    if cancel is not None and cancel():
        raise BaselineCancelled


def vader_applies(num_classes: int) -> bool:
    """VADER gives one polarity score, so it can only separate two classes."""
    return num_classes == 2


def tfidf_logistic(data: PreparedData, c_grid: Sequence[float] = C_GRID,
                   cancel: Cancel = None) -> BaselineResult:
    """TF-IDF (uni+bigrams, sublinear tf) + logistic regression; C chosen on validation."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if not len(data.test):
        raise TrainingError("The baselines need test reviews; set a test share above 0.")
    start = time.perf_counter()
    classes = data.scheme.classes
    ordinal = data.scheme.ordinal
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                 lowercase=True, strip_accents="unicode", dtype=np.float32)
    try:
        train_x = vectorizer.fit_transform(_texts(data, data.train.rows))
    except ValueError:  # every term below min_df on a tiny set: keep all of them
        vectorizer.set_params(min_df=1)
        train_x = vectorizer.fit_transform(_texts(data, data.train.rows))
    _check(cancel)
    validation_x = vectorizer.transform(_texts(data, data.validation.rows))
    best: tuple[float, float, Any] | None = None
    for c in c_grid:
        _check(cancel)
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(train_x, data.train.labels)
        predicted = model.predict(validation_x) if validation_x.shape[0] else np.zeros(0)
        accuracy = float(np.mean(predicted == data.validation.labels)) if len(predicted) else 0.0
        # ties go to the smaller C (stronger regularisation), which the grid order gives
        if best is None or accuracy > best[0]:
            best = (accuracy, c, model)
    assert best is not None
    _, chosen_c, model = best
    seconds = time.perf_counter() - start
    _check(cancel)
    test_predictions = _class_ids(model.predict(vectorizer.transform(
        _texts(data, data.test.rows))))
    validation_predictions = (_class_ids(model.predict(validation_x)) if validation_x.shape[0]
                              else np.zeros(0, dtype=np.int64))
    parameters = int(model.coef_.size + model.intercept_.size)
    features = len(vectorizer.vocabulary_)
    return BaselineResult(
        TFIDF_NAME, test_predictions,
        compute_metrics(data.test.labels, test_predictions, classes, ordinal),
        compute_metrics(data.validation.labels, validation_predictions, classes, ordinal),
        seconds, parameters, f"uni+bigrams, {features:,} features, C={chosen_c:g}",
        {"C": chosen_c, "features": features})


def _class_ids(predicted: np.ndarray) -> np.ndarray:
    """Class ids as int64 (sklearn predicts the label values it saw, which are our ids)."""
    return np.asarray(predicted, dtype=np.int64).reshape(-1)


def vader_scores(texts: Sequence[str], cancel: Cancel = None) -> np.ndarray:
    """VADER compound polarity in [-1, 1] per text."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    scores = np.zeros(len(texts), dtype=np.float64)
    for index, text in enumerate(texts):
        if index % 200 == 0:
            _check(cancel)
        scores[index] = analyzer.polarity_scores(text)["compound"]
    return scores


def vader(data: PreparedData, cancel: Cancel = None) -> BaselineResult:
    """Lexicon polarity: compound >= 0 reads as the scheme's positive class, else the other."""
    scheme = data.scheme
    if not vader_applies(scheme.num_classes):
        raise TrainingError(f"VADER only separates two classes; this label scheme has "
                            f"{scheme.num_classes} ({scheme.describe()}).")
    if not len(data.test):
        raise TrainingError("The baselines need test reviews; set a test share above 0.")
    positive = scheme.positive_index()
    negative = 1 - positive
    start = time.perf_counter()
    scores = vader_scores(_texts(data, data.test.rows), cancel)
    seconds = time.perf_counter() - start
    predictions = np.where(scores >= 0, positive, negative).astype(np.int64)
    # validation figures too, so plots can draw VADER as a reference line beside the curves
    validation = np.where(vader_scores(_texts(data, data.validation.rows), cancel) >= 0,
                          positive, negative).astype(np.int64)
    return BaselineResult(
        VADER_NAME, predictions,
        compute_metrics(data.test.labels, predictions, scheme.classes, scheme.ordinal),
        compute_metrics(data.validation.labels, validation, scheme.classes, scheme.ordinal),
        None, None, f"lexicon, no training; compound >= 0 -> '{scheme.classes[positive]}'",
        {"scoring_seconds": seconds, "reviews_per_second": len(scores) / max(seconds, 1e-9)})
