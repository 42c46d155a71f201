"""Training on awkward data ends in a usable model or one clear TrainingError, never a crash.

Covers the cases a user reaches by accident: tiny files, one class, no labels, a vocabulary
emptied by the minimum count, reviews far past the length cap, and a loss that turns NaN
(the run stops, says why, and keeps the last model whose outputs were finite).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.bundle import ModelBundle
from core.config import TrainConfig
from core.errors import ReviewDataError, TrainingError
from core.io.table import ReviewTable
from core.model.classifier import RecurrentClassifier
from core.predict.predictor import Predictor
from core.text.labels import make_scheme
from core.training.pipeline import run_training

POSITIVE = ["great", "lovely", "superb", "clean", "friendly"]
NEGATIVE = ["awful", "rude", "dirty", "broken", "boring"]
FILLER = ["the", "room", "film", "was", "very", "and", "our", "stay"]
TINY = dict(embedding_dim=8, hidden_size=8, epochs=2, batch_size=16, vocab_size=100,
            min_count=1, max_length=24, threads=1, early_stopping=False)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def make_table(count: int = 96, seed: int = 0, words: int = 6,
               labels: list[str | None] | None = None) -> ReviewTable:
    """Reviews whose sentiment words decide a pos/neg label."""
    rng = random.Random(seed)
    texts, made = [], []
    for index in range(count):
        positive = index % 2 == 0
        tokens = rng.choices(POSITIVE if positive else NEGATIVE, k=2)
        tokens += rng.choices(FILLER, k=max(words - 2, 0))
        rng.shuffle(tokens)
        texts.append(" ".join(tokens))
        made.append("pos" if positive else "neg")
    return ReviewTable(texts=texts, labels=labels if labels is not None else made,
                       rows=list(range(1, count + 1)), path="reviews.csv",
                       label_column="label")


def weights_are_finite(model: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.state_dict().values())


def assert_usable(outcome, tmp_path) -> None:
    """The kept model has finite weights and outputs, and survives a save and a load."""
    bundle = outcome.bundle
    assert weights_are_finite(bundle.model)
    probabilities = Predictor(bundle).probabilities(["great room", "awful stay", ""])
    assert np.isfinite(probabilities).all()
    loaded = ModelBundle.load(bundle.save(tmp_path / "kept.ramodel"))
    assert np.allclose(Predictor(loaded).probabilities(["great room"]),
                       probabilities[:1], atol=1e-6)


def test_fewer_reviews_than_one_batch_still_train(tmp_path):
    outcome = run_training(make_table(14), TrainConfig(**{**TINY, "batch_size": 64}))
    assert outcome.result.stop_reason == "completed"
    assert len(outcome.result.batch_losses) == 2  # one batch per epoch
    assert_usable(outcome, tmp_path)


def test_batch_size_of_one_trains(tmp_path):
    outcome = run_training(make_table(12), TrainConfig(**{**TINY, "batch_size": 1}))
    assert len(outcome.result.batch_losses) == 2 * len(outcome.data.train)
    assert_usable(outcome, tmp_path)


def test_a_single_class_is_refused_with_the_file_named():
    table = make_table(40, labels=["pos"] * 40)
    with pytest.raises(TrainingError, match="two classes") as caught:
        run_training(table, TrainConfig(**TINY))
    assert "reviews.csv" in str(caught.value)


def test_a_single_class_inside_a_rating_scheme_is_refused():
    table = make_table(40, labels=["5"] * 20 + ["3"] * 20)  # 3 stars fall in no binary class
    scheme = make_scheme("binary", ["1", "5"])
    with pytest.raises(TrainingError, match="single class|two") as caught:
        run_training(table, TrainConfig(**TINY), scheme)
    assert "reviews.csv" in str(caught.value)


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_labels_all_missing_are_refused_with_the_file_named(missing):
    table = make_table(30, labels=[missing] * 30)
    with pytest.raises(TrainingError) as caught:
        run_training(table, TrainConfig(**TINY))
    assert "reviews.csv" in str(caught.value)


def test_no_label_column_is_refused():
    table = make_table(30)
    table.labels = None
    with pytest.raises(ReviewDataError, match="label column"):
        run_training(table, TrainConfig(**TINY))


def test_too_few_labelled_reviews_are_refused():
    table = make_table(30, labels=["pos", "neg", "pos"] + [None] * 27)
    with pytest.raises(TrainingError, match="at least 4"):
        run_training(table, TrainConfig(**TINY))


def test_an_empty_vocabulary_after_filtering_is_refused():
    with pytest.raises(TrainingError, match="minimum count") as caught:
        run_training(make_table(40), TrainConfig(**{**TINY, "min_count": 10_000}))
    assert "reviews.csv" in str(caught.value)


@pytest.mark.parametrize("truncation", ["head", "tail", "head_tail"])
def test_reviews_all_longer_than_the_cap_are_cut_and_train(tmp_path, truncation):
    config = TrainConfig(**{**TINY, "max_length": 3, "truncation": truncation, "epochs": 1})
    outcome = run_training(make_table(48, words=40), config)
    lengths = np.concatenate([outcome.data.train.lengths, outcome.data.validation.lengths])
    assert (lengths == 3).all()
    assert_usable(outcome, tmp_path)


def test_a_cap_of_one_token_with_head_tail_keeps_one_token(tmp_path):
    config = TrainConfig(**{**TINY, "max_length": 1, "truncation": "head_tail", "epochs": 1})
    outcome = run_training(make_table(32, words=10), config)
    assert (outcome.data.train.lengths == 1).all()
    assert_usable(outcome, tmp_path)


def test_empty_and_blank_texts_train_as_unknown_words(tmp_path):
    table = make_table(40)
    for index in range(0, 40, 3):
        table.texts[index] = "" if index % 2 else "   \n\t "
    outcome = run_training(table, TrainConfig(**TINY))
    assert_usable(outcome, tmp_path)


@pytest.mark.parametrize("field,value", [
    ("learning_rate", 1e39), ("learning_rate", float("inf")), ("learning_rate", float("nan")),
    ("weight_decay", 1e39), ("weight_decay", float("nan")), ("grad_clip", float("nan")),
])
def test_absurd_optimizer_settings_are_refused_before_training(field, value):
    with pytest.raises(ReviewDataError, match="Invalid setting"):
        TrainConfig(**{**TINY, field: value}).validate()


# --- a loss that turns NaN -------------------------------------------------------------------


def poison_forward(monkeypatch, at_call: int) -> list[int]:
    """Make the ``at_call``-th training forward pass return NaN logits (1-based)."""
    calls = [0]
    original = RecurrentClassifier.forward

    def forward(self, token_ids, lengths):
        logits = original(self, token_ids, lengths)
        if self.training:
            calls[0] += 1
            if calls[0] == at_call:
                return logits * float("nan")
        return logits

    monkeypatch.setattr(RecurrentClassifier, "forward", forward)
    return calls


def batches_per_epoch(count: int, batch_size: int) -> int:
    table = make_table(count)
    from core.training.dataset import prepare_data
    data = prepare_data(table, TrainConfig(**{**TINY, "batch_size": batch_size}))
    return int(np.ceil(len(data.train) / batch_size))


def test_nan_loss_in_epoch_two_stops_and_keeps_epoch_one(monkeypatch, tmp_path):
    per_epoch = batches_per_epoch(96, 16)
    poison_forward(monkeypatch, per_epoch + 2)
    outcome = run_training(make_table(96), TrainConfig(**{**TINY, "epochs": 3}))
    result = outcome.result
    assert result.stop_reason == "diverged"
    assert "nan" in result.message and "epoch 2, batch 2" in result.message
    assert "learning rate" in result.message
    assert result.best_epoch == 1
    assert [h.epoch for h in result.history] == [1]
    assert outcome.bundle.info["stop_reason"] == "diverged"
    assert_usable(outcome, tmp_path)


def test_nan_loss_in_epoch_one_keeps_the_last_good_weights(monkeypatch, tmp_path):
    poison_forward(monkeypatch, 3)
    outcome = run_training(make_table(96), TrainConfig(**TINY))
    result = outcome.result
    assert result.stop_reason == "diverged"
    assert "epoch 1, batch 3" in result.message
    assert len(result.batch_losses) == 2
    assert np.isfinite(result.history[-1].val_loss)
    assert_usable(outcome, tmp_path)


def test_nan_loss_on_the_very_first_batch_is_a_clear_error(monkeypatch):
    poison_forward(monkeypatch, 1)
    with pytest.raises(TrainingError, match="learning rate"):
        run_training(make_table(64), TrainConfig(**TINY))


def test_weights_turned_nan_by_the_last_step_of_an_epoch_are_never_kept(monkeypatch, tmp_path):
    """A step that leaves NaN weights just before validation must not become the 'best'."""
    per_epoch = batches_per_epoch(96, 16)
    original_step = torch.optim.Adam.step
    steps = [0]

    def step(self, *args, **kwargs):
        out = original_step(self, *args, **kwargs)
        steps[0] += 1
        if steps[0] == per_epoch:  # the last step of epoch 1
            with torch.no_grad():
                for group in self.param_groups:
                    for parameter in group["params"]:
                        parameter.fill_(float("nan"))
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    outcome = run_training(make_table(96), TrainConfig(**{**TINY, "epochs": 3}))
    assert outcome.result.stop_reason == "diverged"
    assert outcome.result.message
    assert_usable(outcome, tmp_path)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_a_huge_learning_rate_diverges_or_trains_but_never_keeps_nan(cell, tmp_path):
    config = TrainConfig(**{**TINY, "cell": cell, "learning_rate": 10.0, "grad_clip": 0.0,
                            "epochs": 3})
    try:
        outcome = run_training(make_table(96), config)
    except TrainingError as error:
        assert "learning rate" in str(error)
        return
    assert outcome.result.stop_reason in ("completed", "diverged")
    assert all(np.isfinite(h.val_loss) for h in outcome.result.history if h.is_best)
    assert_usable(outcome, tmp_path)


# --- small random tables: data or a clear error -------------------------------------------


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    count=st.integers(0, 24),
    label_pool=st.lists(st.sampled_from(["pos", "neg", "neutral", "4", "1", "", None]),
                        min_size=1, max_size=4),
    batch_size=st.integers(1, 40),
    min_count=st.integers(1, 4),
    max_length=st.integers(1, 12),
    seed=st.integers(0, 1000),
)
def test_small_random_tables_give_a_model_or_a_clear_error(
        tmp_path, count, label_pool, batch_size, min_count, max_length, seed):
    rng = random.Random(seed)
    labels = [rng.choice(label_pool) for _ in range(count)]
    table = make_table(count, seed=seed, words=rng.randint(0, 30), labels=labels)
    config = TrainConfig(**{**TINY, "epochs": 1, "batch_size": batch_size,
                            "min_count": min_count, "max_length": max_length, "seed": seed})
    try:
        outcome = run_training(table, config)
    except ReviewDataError as error:
        assert str(error).strip()
        return
    assert weights_are_finite(outcome.bundle.model)
    assert np.isfinite(Predictor(outcome.bundle).probabilities(["great", ""])).all()
