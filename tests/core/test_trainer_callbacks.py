"""The trainer's loop and its callbacks: training is exactly a plain Adam loop, and each
callback does its one job (early stopping stops, the best checkpoint survives a cancel, the
divergence guard falls back, weight averaging leaves the training steps alone).

Scripted events come in through the callback API itself (an extra callback), not by patching.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from torch import nn

from core.config import TrainConfig
from core.errors import TrainingError
from core.io.table import ReviewTable
from core.model.batch_input import pad_batch
from core.model.classifier import RecurrentClassifier
from core.training.batching import bucket_batches
from core.training.callbacks import (
    BestCheckpoint,
    Callback,
    DivergenceGuard,
    EarlyStopping,
    FitState,
    WeightAveraging,
    default_callbacks,
    in_order,
)
from core.training.dataset import prepare_data
from core.training.trainer import TrainCallbacks, TrainControl, Trainer, seed_everything

POSITIVE = ["great", "lovely", "superb", "clean", "friendly"]
NEGATIVE = ["awful", "rude", "dirty", "broken", "boring"]
FILLER = ["the", "room", "film", "was", "very", "and", "our", "stay", "not"]
# Negation pairs off: these tests count steps and compare with a plain loop over data.train.
TINY = TrainConfig(embedding_dim=8, hidden_size=8, epochs=3, batch_size=16, vocab_size=100,
                   min_count=1, max_length=24, threads=1, device="cpu", dropout=0.2,
                   early_stopping=False, negation_pairs="off")


@pytest.fixture(scope="module")
def data():
    torch.set_num_threads(1)
    rng = random.Random(3)
    texts, labels = [], []
    for _ in range(96):
        positive = rng.random() < 0.5
        words = rng.choices(POSITIVE if positive else NEGATIVE, k=2) + rng.choices(FILLER, k=4)
        words += rng.choices(NEGATIVE if positive else POSITIVE, k=rng.randint(0, 1))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append("pos" if positive else "neg")
    table = ReviewTable(texts=texts, labels=labels, rows=list(range(1, 97)), path="r.csv")
    return prepare_data(table, TINY)


def weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def losses(result) -> list[float]:
    return [loss for _, loss, _ in result.batch_losses]


class Scripted(Callback):
    """Overrides the validation accuracy with a script, before anything judges it."""

    order = -100

    def __init__(self, accuracies: list[float]) -> None:
        self.accuracies = iter(accuracies)

    def after_validate(self, state: FitState) -> None:
        state.val_metrics["accuracy"] = next(self.accuracies)


class Recorder(Callback):
    """Copies the validated weights of each epoch marked best, and the latest trained ones.

    Runs last, so it sees the weights as every other callback left them.
    """

    order = 100

    def __init__(self) -> None:
        self.best: dict[int, dict[str, torch.Tensor]] = {}
        self.validated: dict[str, torch.Tensor] = {}
        self.last_trained: dict[str, torch.Tensor] = {}

    def after_step(self, state: FitState) -> None:
        self.last_trained = weights(state.model)

    def after_validate(self, state: FitState) -> None:
        self.validated = weights(state.model)

    def after_epoch(self, state: FitState) -> None:
        if state.summary.is_best:
            self.best[state.epoch] = self.validated


class PoisonLoss(Callback):
    """Turns the loss of batch number ``at`` (1-based, over the run) into NaN.

    Keeps the weights behind the last finite loss before it.
    """

    order = 0  # before the guard judges the loss

    def __init__(self, at: int) -> None:
        self.at = at
        self.last_finite: dict[str, torch.Tensor] = {}

    def after_loss(self, state: FitState) -> None:
        if state.step + 1 == self.at:
            state.loss = state.loss * float("nan")
        else:
            self.last_finite = weights(state.model)


def plain_adam_losses(data, config: TrainConfig) -> tuple[list[float], nn.Module]:
    """The whole training procedure with no callbacks: what every run must reproduce."""
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    model = RecurrentClassifier.from_config(config.replace(word_prior="off"), len(data.vocab),
                                            data.scheme.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate,
                                 weight_decay=config.weight_decay, fused=True)
    labels = torch.from_numpy(data.train.labels)
    seen = []
    for epoch in range(1, config.epochs + 1):
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate * config.lr_decay ** (epoch - 1)
        model.train()
        for index in bucket_batches(data.train.lengths, config.batch_size, rng):
            ids, lengths = pad_batch([data.train.ids[i] for i in index])
            loss = nn.functional.cross_entropy(model(ids, lengths), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            seen.append(float(loss.detach()))
        model.eval()
        model(*pad_batch([data.validation.ids[0]]))  # validation runs between epochs
    return seen, model


@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_training_steps_are_exactly_a_plain_adam_loop(data, ema_decay):
    config = TINY.replace(word_prior="off", lr_decay=0.5, ema_decay=ema_decay)
    expected, plain = plain_adam_losses(data, config)
    recorder = Recorder()
    result = Trainer(config, extra_callbacks=[recorder]).fit(data)
    assert losses(result) == expected
    # the weights trained on (not those kept) are the plain loop's, step for step
    assert same(recorder.last_trained, weights(plain))


def test_two_fits_are_identical_and_extra_callbacks_do_not_disturb_them(data):
    config = TINY.replace(early_stopping=True, patience=1)
    first = Trainer(config).fit(data)
    second = Trainer(config, extra_callbacks=[Recorder()]).fit(data)
    assert first.batch_losses == second.batch_losses
    assert [h.val_loss for h in first.history] == [h.val_loss for h in second.history]
    assert same(weights(first.model), weights(second.model))


def test_early_stopping_stops_after_patience_epochs_without_a_better_model(data):
    statuses = []
    config = TINY.replace(epochs=8, early_stopping=True, patience=2)
    scripted = Scripted([0.5, 0.8, 0.7, 0.75, 0.99, 0.99, 0.99, 0.99])
    result = Trainer(config, TrainCallbacks(on_status=statuses.append),
                     extra_callbacks=[scripted]).fit(data)
    assert result.stop_reason == "early_stopping"
    assert [h.epoch for h in result.history] == [1, 2, 3, 4]
    assert result.best_epoch == 2
    assert [h.is_best for h in result.history] == [True, True, False, False]
    assert "keeping epoch 2" in statuses[-1]


def test_without_early_stopping_every_epoch_runs(data):
    result = Trainer(TINY.replace(epochs=4),
                     extra_callbacks=[Scripted([0.9, 0.1, 0.1, 0.1])]).fit(data)
    assert result.stop_reason == "completed" and len(result.history) == 4
    assert result.best_epoch == 1


def test_a_cancel_keeps_the_best_checkpoint_not_the_last_weights(data):
    control = TrainControl()
    per_epoch = math.ceil(len(data.train) / TINY.batch_size)
    recorder = Recorder()

    def on_batch(event) -> None:
        if event.step == 2 * per_epoch + 2:  # inside epoch 3; epoch 1 scripted best
            control.cancel()

    result = Trainer(TINY.replace(epochs=5), TrainCallbacks(on_batch=on_batch), control,
                     extra_callbacks=[Scripted([0.9, 0.5, 0.5]), recorder]).fit(data)
    assert result.stop_reason == "cancelled"
    assert [h.epoch for h in result.history] == [1, 2]  # the cut epoch is not validated
    assert result.best_epoch == 1
    assert same(weights(result.model), recorder.best[1])
    assert not same(weights(result.model), recorder.last_trained)


def test_a_cancel_in_the_first_epoch_validates_and_keeps_the_partial_model(data):
    control = TrainControl()
    result = Trainer(TINY, TrainCallbacks(on_batch=lambda e: e.step == 2 and control.cancel()),
                     control).fit(data)
    assert result.stop_reason == "cancelled"
    assert len(result.history) == 1 and result.history[0].partial and result.history[0].is_best


def test_divergence_guard_keeps_the_last_best_epoch(data):
    per_epoch = math.ceil(len(data.train) / TINY.batch_size)
    recorder = Recorder()
    poison = PoisonLoss(per_epoch + 3)
    result = Trainer(TINY.replace(ema_decay=0.0), extra_callbacks=[poison, recorder]).fit(data)
    assert result.stop_reason == "diverged"
    assert "epoch 2, batch 3" in result.message and "kept (epoch 1)" in result.message
    assert len(result.batch_losses) == per_epoch + 2
    assert same(weights(result.model), recorder.best[1])


def test_divergence_guard_in_the_first_epoch_falls_back_to_the_last_finite_weights(data):
    poison = PoisonLoss(4)
    result = Trainer(TINY, extra_callbacks=[poison]).fit(data)
    assert result.stop_reason == "diverged"
    assert "partly trained" in result.message
    assert math.isfinite(result.history[0].val_loss)
    assert same(weights(result.model), poison.last_finite)


def test_divergence_on_the_first_step_is_a_clear_error(data):
    with pytest.raises(TrainingError, match="Lower the learning rate"):
        Trainer(TINY, extra_callbacks=[PoisonLoss(1)]).fit(data)


def test_weight_averaging_validates_the_average_and_leaves_the_steps_alone(data):
    config = TINY.replace(epochs=2, ema_decay=0.0)  # the averaging is added by hand below
    averaging = WeightAveraging(0.9)

    class Probe(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.validated_by_epoch: dict[int, list[torch.Tensor]] = {}
            self.after: dict[int, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}
            self.resumed_from: list[torch.Tensor] = []

        def before_epoch(self, state: FitState) -> None:
            if state.epoch == 2:
                self.resumed_from = [p.detach().clone() for p in state.model.parameters()]

        def after_validate(self, state: FitState) -> None:
            super().after_validate(state)
            self.validated_by_epoch[state.epoch] = [p.detach().clone()
                                                    for p in state.model.parameters()]

        def after_epoch(self, state: FitState) -> None:
            super().after_epoch(state)
            self.after[state.epoch] = ([p.detach().clone() for p in state.model.parameters()],
                                       [a.clone() for a in averaging.average.average])

    probe = Probe()
    plain = Trainer(config).fit(data)
    averaged = Trainer(config, extra_callbacks=[averaging, probe, Scripted([0.9, 0.1])]).fit(data)
    assert losses(averaged) == losses(plain)
    trained, averages = probe.after[1]
    # what was validated (and so kept) is the average, not the trained weights ...
    assert all(torch.equal(v, a) for v, a in zip(probe.validated_by_epoch[1], averages))
    assert not all(torch.equal(t, a) for t, a in zip(trained, averages))
    assert averaged.best_epoch == 1 and same(weights(averaged.model), probe.best[1])
    assert all(torch.equal(m.detach(), a) for m, a in zip(averaged.model.parameters(), averages))
    # ... and epoch 2 trains on from the trained weights
    assert all(torch.equal(r, t) for r, t in zip(probe.resumed_from, trained))


def test_an_added_loss_term_is_trained_on_and_reported(data):
    class PlusOne(Callback):
        def after_loss(self, state: FitState) -> None:
            state.loss = state.loss + 1.0  # a constant: same gradients, loss one higher

    plain = Trainer(TINY).fit(data)
    shifted = Trainer(TINY, extra_callbacks=[PlusOne()]).fit(data)
    assert losses(shifted) == pytest.approx([loss + 1.0 for loss in losses(plain)], abs=1e-5)
    assert same(weights(shifted.model), weights(plain.model))


def test_compute_loss_can_be_overridden(data):
    class Smoothed(Trainer):
        def compute_loss(self, state: FitState) -> torch.Tensor:
            state.logits = state.model(state.ids, state.lengths)
            return nn.functional.cross_entropy(state.logits, state.labels, label_smoothing=0.2)

    plain = Trainer(TINY).fit(data)
    smoothed = Smoothed(TINY).fit(data)
    assert losses(smoothed)[0] != losses(plain)[0]
    assert len(losses(smoothed)) == len(losses(plain))


def test_a_callback_can_stop_the_run(data):
    class StopAfter(Callback):
        def after_batch(self, state: FitState) -> None:
            if state.step == 5:
                state.stop("cancelled")

    result = Trainer(TINY, extra_callbacks=[StopAfter()]).fit(data)
    assert len(result.batch_losses) == 5
    assert result.stop_reason == "cancelled"
    assert result.history[-1].partial


def test_callbacks_run_by_order_then_as_listed():
    early, late = EarlyStopping(2), DivergenceGuard()
    best = BestCheckpoint()
    plain_a, plain_b = Callback(), Callback()
    assert in_order([late, plain_a, early, best, plain_b]) == [best, plain_a, plain_b, early,
                                                               late]


def test_default_callbacks_follow_the_config():
    names = {type(c).__name__ for c in default_callbacks(TINY.replace(ema_decay=0.0))}
    assert "WeightAveraging" not in names and "EarlyStopping" not in names
    names = {type(c).__name__ for c in default_callbacks(
        TINY.replace(ema_decay=0.9, early_stopping=True))}
    assert {"WeightAveraging", "EarlyStopping", "BestCheckpoint", "DivergenceGuard"} <= names
