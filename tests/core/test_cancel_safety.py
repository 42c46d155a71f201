"""Cancelling and crashing lose nothing: a cancel keeps the best model so far, and a process
killed while saving leaves the previous model file whole.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core.bundle import ModelBundle
from core.config import TrainConfig
from core.errors import TrainingError
from core.io.table import ReviewTable
from core.model.classifier import RecurrentClassifier
from core.predict.predictor import Predictor
from core.text.labels import make_scheme
from core.text.tokenizer import TokenizerSettings
from core.text.vocabulary import Vocabulary
from core.training.dataset import prepare_data
from core.training.pipeline import run_training, train_model
from core.training.trainer import TrainCallbacks, TrainControl

POSITIVE = ["great", "lovely", "superb", "clean", "friendly"]
NEGATIVE = ["awful", "rude", "dirty", "broken", "boring"]
FILLER = ["the", "room", "film", "was", "very", "and", "our", "stay"]
CONFIG = TrainConfig(embedding_dim=8, hidden_size=8, epochs=3, batch_size=16, vocab_size=100,
                     min_count=1, max_length=24, threads=1, early_stopping=False)
PROBE = ["great room", "awful stay", "the film was very boring", ""]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def make_table(count: int = 96) -> ReviewTable:
    rng = random.Random(1)
    texts, labels = [], []
    for index in range(count):
        positive = index % 2 == 0
        words = rng.choices(POSITIVE if positive else NEGATIVE, k=2) + rng.choices(FILLER, k=4)
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append("pos" if positive else "neg")
    return ReviewTable(texts=texts, labels=labels, rows=list(range(1, count + 1)),
                       path="reviews.csv")


@pytest.fixture(scope="module")
def data():
    torch.set_num_threads(1)
    return prepare_data(make_table(64), CONFIG)


def per_epoch(data) -> int:
    return int(np.ceil(len(data.train) / CONFIG.batch_size))


def cancel_after(k: int) -> tuple[TrainCallbacks, TrainControl]:
    """Callbacks that cancel once ``k`` batches are done (k = 0: before the first one)."""
    control = TrainControl()
    if k == 0:
        control.cancel()

    def on_batch(event) -> None:
        if event.step == k:
            control.cancel()

    return TrainCallbacks(on_batch=on_batch), control


def assert_kept_model_is_whole(outcome, folder: Path) -> None:
    """The kept model is the best validated one, with finite weights, and it round-trips."""
    result, bundle = outcome.result, outcome.bundle
    assert result.history, "a cancelled run must still validate one model"
    best = max(h.val_accuracy for h in result.history)
    assert bundle.metrics["validation"]["accuracy"] == pytest.approx(best)
    assert [h.epoch for h in result.history if h.is_best][-1] == result.best_epoch
    for value in bundle.model.state_dict().values():
        assert torch.isfinite(value).all()
    before = Predictor(bundle).probabilities(PROBE)
    path = bundle.save(folder / "cancelled.ramodel")
    loaded = ModelBundle.load(path)
    assert np.allclose(Predictor(loaded).probabilities(PROBE), before, atol=1e-6)
    assert loaded.info["stop_reason"] == result.stop_reason


def test_cancel_at_many_points_always_leaves_a_loadable_best_model(data, tmp_path):
    n = per_epoch(data)
    total = n * CONFIG.epochs
    points = sorted({0, 1, 2, n // 2, n - 1, n, n + 1, n + n // 2, 2 * n, total - 1})
    for k in points:
        callbacks, control = cancel_after(k)
        outcome = train_model(data, CONFIG, callbacks, control)
        result = outcome.result
        assert result.stop_reason == "cancelled", k
        assert len(result.batch_losses) == k
        # a cancel inside epoch e > 1 keeps the best full epoch; inside epoch 1 the partial one
        if k < n:
            assert [h.epoch for h in result.history] == [1] and result.history[0].partial
        else:
            assert all(not h.partial for h in result.history)
            assert len(result.history) == k // n
        assert_kept_model_is_whole(outcome, tmp_path)


def test_a_cancel_in_epoch_two_keeps_exactly_the_epoch_one_weights(data):
    n = per_epoch(data)
    one_epoch = train_model(data, CONFIG.replace(epochs=1))
    callbacks, control = cancel_after(n + n // 2)
    cancelled = train_model(data, CONFIG, callbacks, control)
    assert cancelled.result.best_epoch == 1
    for name, value in one_epoch.bundle.model.state_dict().items():
        assert torch.equal(value, cancelled.bundle.model.state_dict()[name]), name


def test_cancel_while_paused_stops_and_keeps_a_model(data, tmp_path):
    control = TrainControl()

    def on_batch(event) -> None:
        if event.step == 2:
            control.pause()
            threading.Timer(0.05, control.cancel).start()

    outcome = train_model(data, CONFIG, TrainCallbacks(on_batch=on_batch), control)
    assert outcome.result.stop_reason == "cancelled"
    assert len(outcome.result.batch_losses) == 2
    assert_kept_model_is_whole(outcome, tmp_path)


def test_cancel_from_another_thread_at_random_moments(tmp_path):
    """Whatever the moment, the run ends in a kept model or a clear 'cancelled' error."""
    rng = random.Random(7)
    table = make_table()
    config = CONFIG.replace(epochs=4)
    outcomes = []
    for _ in range(6):
        control = TrainControl()
        box: dict = {}

        def work(control=control, box=box) -> None:
            try:
                box["outcome"] = run_training(table, config, control=control)
            except TrainingError as error:  # cancelled while preparing the data
                box["error"] = error
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                box["crash"] = error

        thread = threading.Thread(target=work)
        thread.start()
        time.sleep(rng.uniform(0.0, 0.4))
        control.cancel()
        thread.join(timeout=60)
        assert not thread.is_alive(), "training did not stop after cancel"
        assert "crash" not in box, box.get("crash")
        if "error" in box:
            assert "cancelled" in str(box["error"])
            continue
        assert box["outcome"].result.stop_reason in ("cancelled", "completed")
        assert_kept_model_is_whole(box["outcome"], tmp_path)
        outcomes.append(box["outcome"])
    assert outcomes, "no run got far enough to keep a model"


# --- SIGKILL during save ------------------------------------------------------------------------


def big_bundle(value: float, rows: int = 40_000) -> ModelBundle:
    """A bundle of about 10 MB whose every weight equals ``value``, to spot torn writes."""
    tokens = ["<pad>", "<unk>"] + [f"word{i}" for i in range(rows)]
    vocab = Vocabulary(tokens)
    config = TrainConfig(embedding_dim=64, hidden_size=8, threads=1)
    scheme = make_scheme("categorical", ["neg", "pos"])
    model = RecurrentClassifier.from_config(config, len(vocab), 2)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(value)
    return ModelBundle(config, scheme, TokenizerSettings(), vocab, model)


def check_intact(path: Path) -> int:
    """Load ``path`` fully and return its save number; its weights must belong to that save."""
    loaded = ModelBundle.load(path)
    generation = loaded.info["generation"]
    expected = float(generation % 2 + 1)
    for name, value in loaded.model.state_dict().items():
        assert torch.all(value == expected), f"torn write: {name} of save {generation}"
    return generation


def save_generation(bundles: list[ModelBundle], target: Path, generation: int) -> None:
    """Save number ``generation``: even ones hold weights 1.0, odd ones 2.0."""
    bundle = bundles[generation % 2]
    bundle.info = {"generation": generation}
    bundle.save(target)


def saver_child(bundles: list[ModelBundle], target: Path, start: int, write_fd: int) -> None:
    """Runs in a forked child: save again and again, reporting each finished save."""
    try:
        generation = start
        while True:
            save_generation(bundles, target, generation)
            os.write(write_fd, generation.to_bytes(4, "big"))
            generation += 1
    finally:
        os._exit(0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sigkill_during_save_leaves_the_previous_bundle_intact(tmp_path):
    target = tmp_path / "model.ramodel"
    bundles = [big_bundle(1.0), big_bundle(2.0)]
    save_generation(bundles, target, 0)
    current = check_intact(target)
    rng = random.Random(3)
    killed_mid_write = 0
    for _ in range(10):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            os.close(read_fd)
            saver_child(bundles, target, current + 1, write_fd)
        os.close(write_fd)
        time.sleep(rng.uniform(0.02, 0.4))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(read_fd, "rb") as pipe:
            reported = pipe.read()
        last_reported = int.from_bytes(reported[-4:], "big") if reported else current
        generation = check_intact(target)
        # the last reported save, or the one in flight if the kill came just after its rename
        assert generation in (last_reported, last_reported + 1)
        leftovers = [p for p in tmp_path.iterdir() if p.name != target.name]
        # only hidden temporary files may stay behind (ours, and safetensors' own)
        assert all(p.name.startswith(".") and "tmp" in p.name for p in leftovers), leftovers
        killed_mid_write += bool(leftovers)
        for leftover in leftovers:
            leftover.unlink()
        current = generation
    # nearly all of the child's time is spent inside save(), so most kills land mid-write
    assert killed_mid_write >= 1, "no kill interrupted a save; the test proved nothing"
