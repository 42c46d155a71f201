import numpy as np
import pytest

from core.config import TrainConfig
from core.errors import TrainingError
from core.training.dataset import prepare_data
from core.training.pipeline import run_training
from core.training.trainer import TrainCallbacks, TrainControl, Trainer
from tests.core.conftest import synthetic_table

SMALL = dict(embedding_dim=16, hidden_size=16, epochs=3, batch_size=32, vocab_size=200,
             min_count=1)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_each_cell_learns_the_synthetic_sentiment(table, cell):
    config = TrainConfig(cell=cell, **{**SMALL, "epochs": 6, "learning_rate": 5e-3})
    outcome = run_training(table, config)
    assert outcome.bundle.metrics["test"]["accuracy"] >= 0.9
    assert outcome.result.stop_reason in ("completed", "early_stopping")


def test_splits_are_stratified_and_disjoint(table):
    data = prepare_data(table, TrainConfig(**SMALL))
    rows = [set(split.rows.tolist()) for split in (data.train, data.validation, data.test)]
    assert not (rows[0] & rows[1] or rows[0] & rows[2] or rows[1] & rows[2])
    assert sum(len(r) for r in rows) == len(table)
    for split in (data.validation, data.test):
        assert 0.3 < split.labels.mean() < 0.7


def test_a_test_split_in_the_file_is_used_as_is(table):
    table.splits = ["test" if i % 5 == 0 else "train" for i in range(len(table))]
    data = prepare_data(table, TrainConfig(**SMALL))
    assert sorted(data.test.rows.tolist()) == list(range(0, len(table), 5))
    assert data.test_source == "file split 'test'"


def test_callbacks_report_every_batch_and_epoch(table):
    batches, epochs = [], []
    config = TrainConfig(**{**SMALL, "epochs": 2, "early_stopping": False})
    run_training(table, config, callbacks=TrainCallbacks(batches.append, epochs.append))
    data = prepare_data(table, config)
    per_epoch = int(np.ceil(len(data.train) / config.batch_size))
    assert len(batches) == 2 * per_epoch
    assert [e.epoch for e in epochs] == [1, 2]
    assert batches[-1].fraction == pytest.approx(1.0)
    assert all(b.tokens_per_second > 0 for b in batches)


def test_cancel_stops_between_batches_and_keeps_a_model(table):
    control = TrainControl()
    seen = []

    def on_batch(event):
        seen.append(event)
        if len(seen) == 3:
            control.cancel()

    outcome = run_training(table, TrainConfig(**{**SMALL, "epochs": 5}),
                           callbacks=TrainCallbacks(on_batch=on_batch), control=control)
    assert len(seen) == 3
    assert outcome.result.stop_reason == "cancelled"
    assert outcome.result.history and outcome.result.history[-1].partial
    assert outcome.bundle.model is not None


def test_early_stopping_restores_the_best_epoch(table, monkeypatch):
    # Validation accuracy peaks at epoch 2 and then falls: training must stop after
    # `patience` worse epochs and keep epoch 2's weights.
    import core.training.trainer as trainer_module

    scores = iter([0.6, 0.9, 0.8, 0.7, 0.6, 0.5])
    real = trainer_module.evaluate_split

    def scripted(model, split, classes, device, ordinal=False, batch_size=256):
        loss, metrics = real(model, split, classes, device, ordinal, batch_size)
        metrics["accuracy"] = next(scores)
        return loss, metrics

    monkeypatch.setattr(trainer_module, "evaluate_split", scripted)
    config = TrainConfig(**{**SMALL, "epochs": 6, "patience": 2})
    data = prepare_data(table, config)
    states = {}
    result = Trainer(config, TrainCallbacks(on_epoch=lambda e: states.setdefault(
        e.epoch, None))).fit(data)
    assert result.stop_reason == "early_stopping"
    assert [h.epoch for h in result.history] == [1, 2, 3, 4]
    assert result.best_epoch == 2
    assert [h.is_best for h in result.history] == [True, True, False, False]


def test_pause_blocks_until_resumed(table):
    import threading
    import time

    control = TrainControl()
    events = []

    def on_batch(event):
        events.append(event)
        if len(events) == 1:
            control.pause()
            threading.Timer(0.3, control.resume).start()

    start = time.perf_counter()
    run_training(table, TrainConfig(**{**SMALL, "epochs": 1}),
                 callbacks=TrainCallbacks(on_batch=on_batch), control=control)
    assert time.perf_counter() - start >= 0.3
    assert len(events) > 1


def test_single_class_is_a_clear_error(table):
    table.labels = ["pos"] * len(table)
    with pytest.raises(Exception, match="two classes"):
        run_training(table, TrainConfig(**SMALL))


def test_star_ratings_get_ordinal_metrics():
    table = synthetic_table(300, stars=True)
    from core.text.labels import make_scheme

    scheme = make_scheme("five", table.labels)
    outcome = run_training(table, TrainConfig(**SMALL), scheme)
    assert "mae" in outcome.bundle.metrics["test"]
    assert 0 <= outcome.bundle.metrics["test"]["within_one"] <= 1


def test_too_few_labelled_reviews_is_a_clear_error():
    table = synthetic_table(3)
    table.labels = ["pos", "neg", "pos"]
    with pytest.raises(TrainingError, match="at least 4"):
        prepare_data(table, TrainConfig(**SMALL))


def test_learning_rate_decay_changes_later_epochs_only(table):
    data = prepare_data(table, TrainConfig(**SMALL))
    losses = {}
    for decay in (1.0, 0.1):
        config = TrainConfig(**{**SMALL, "epochs": 2, "early_stopping": False}, lr_decay=decay)
        result = Trainer(config).fit(data)
        losses[decay] = [round(h.train_loss, 6) for h in result.history]
    assert losses[1.0][0] == losses[0.1][0]  # epoch 1 runs at the full rate either way
    assert losses[1.0][1] != losses[0.1][1]


def test_weight_average_is_validated_and_kept_but_not_trained_on(table):
    data = prepare_data(table, TrainConfig(**SMALL))
    runs = {}
    for decay in (0.0, 0.9):
        config = TrainConfig(**{**SMALL, "epochs": 2, "early_stopping": False}, ema_decay=decay)
        runs[decay] = Trainer(config).fit(data)
    plain, averaged = runs[0.0], runs[0.9]
    # Training itself is untouched: epoch 2 resumes from the trained weights, not the average.
    assert [round(loss, 6) for _, loss, _ in plain.batch_losses] == \
        [round(loss, 6) for _, loss, _ in averaged.batch_losses]
    # What is validated and kept is the average, so the kept weights differ.
    assert any(not np.allclose(a.detach().numpy(), b.detach().numpy())
               for a, b in zip(plain.model.parameters(), averaged.model.parameters()))
    assert [h.val_loss for h in plain.history] != [h.val_loss for h in averaged.history]
