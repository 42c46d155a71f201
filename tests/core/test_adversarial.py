"""Adversarial and virtual adversarial training: the added loss, its push, unlabelled batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import core.training.unlabelled as unlabelled_module
from core.config import TrainConfig
from core.io.table import ReviewTable
from core.model.classifier import length_mask
from core.training.adversarial import AdversarialTraining, _unit
from core.training.callbacks import Callback
from core.training.dataset import prepare_data
from core.training.pipeline import run_training
from core.training.trainer import Trainer
from core.training.unlabelled import prepare_unlabelled, settle_adversarial

SMALL = dict(embedding_dim=16, hidden_size=16, epochs=2, batch_size=32, vocab_size=200,
             min_count=1, ema_decay=0.0)


class LossSpy(Callback):
    """Records the batch loss at its place in the callback order."""

    def __init__(self, order: int) -> None:
        self.order = order
        self.values: list[float] = []

    def after_loss(self, state) -> None:
        self.values.append(float(state.loss.detach()))


def test_push_has_unit_norm_per_review_and_spares_padding():
    torch.manual_seed(0)
    direction = torch.randn(3, 5, 4)
    lengths = torch.tensor([5, 2, 1])
    unit = _unit(direction, length_mask(lengths, 5))
    assert torch.allclose(unit.pow(2).sum(dim=(1, 2)), torch.ones(3), atol=1e-5)
    assert torch.all(unit[1, 2:] == 0) and torch.all(unit[2, 1:] == 0)


@pytest.mark.parametrize("kind", ["at", "vat"])
def test_adversarial_term_is_added_to_the_loss_and_the_model_still_learns(table, kind):
    config = TrainConfig(**SMALL, adversarial=kind)
    data = prepare_data(table, config)
    before, after = LossSpy(order=5), LossSpy(order=60)
    adversarial = AdversarialTraining(kind, 5.0, seed=0)
    trainer = Trainer(config, extra_callbacks=[before, adversarial, after])
    result = trainer.fit(data)
    assert len(before.values) == len(after.values) > 0
    assert all(a > b for a, b in zip(after.values, before.values))
    assert adversarial.capture is None  # the embedding hook is removed after the run
    assert not model_has_hooks(result.model)
    assert result.history[-1].val_accuracy > 0.6


def model_has_hooks(model: torch.nn.Module) -> bool:
    return any(m._forward_hooks for m in model.modules())


def test_virtual_adversarial_training_reads_the_unlabelled_reviews(table):
    config = TrainConfig(**{**SMALL, "epochs": 1}, adversarial="vat")
    data = prepare_data(table, config)
    extra = ReviewTable(texts=["great room and friendly staff"] * 40, path="extra.csv")
    prepared = prepare_unlabelled(data, config, [extra])
    callback = next(c for c in prepared.callbacks if isinstance(c, AdversarialTraining))
    assert len(callback.unlabelled) == 40
    drawn = []
    original = callback._unlabelled_batch

    def spy(size):
        batch = original(size)
        drawn.append(batch[0].shape[0])
        return batch

    callback._unlabelled_batch = spy
    Trainer(config, extra_callbacks=prepared.callbacks).fit(prepared.data)
    assert drawn and all(size > 0 for size in drawn)


def test_adversarial_run_through_the_pipeline_saves_its_setting(table):
    outcome = run_training(table, TrainConfig(**SMALL, adversarial="at",
                                              adversarial_epsilon=2.0))
    assert outcome.bundle.config.adversarial == "at"
    assert outcome.bundle.config.adversarial_epsilon == 2.0
    assert np.isfinite(outcome.result.history[-1].train_loss)


def test_auto_trains_adversarially_on_small_sets_only(table):
    data = prepare_data(table, TrainConfig(**SMALL))
    assert settle_adversarial(TrainConfig(**SMALL), data).adversarial == "at"
    assert settle_adversarial(TrainConfig(**SMALL, adversarial="off"), data).adversarial == "off"
    big = data.train.token_count() - 1
    with_limit = unlabelled_module.AUTO_ADVERSARIAL_TOKENS
    try:
        unlabelled_module.AUTO_ADVERSARIAL_TOKENS = big
        assert settle_adversarial(TrainConfig(**SMALL), data).adversarial == "off"
    finally:
        unlabelled_module.AUTO_ADVERSARIAL_TOKENS = with_limit
    outcome = run_training(table, TrainConfig(**SMALL))
    assert outcome.bundle.config.adversarial == "at"  # saved as settled
