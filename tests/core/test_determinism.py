"""The same seed and data give the same model on the CPU: a run is reproduced from its config."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from core.bundle import ModelBundle
from core.config import TrainConfig
from core.io.table import ReviewTable
from core.predict.predictor import Predictor
from core.training.pipeline import run_training

POSITIVE = ["great", "lovely", "superb", "clean", "friendly", "quiet"]
NEGATIVE = ["awful", "rude", "dirty", "broken", "boring", "noisy"]
FILLER = ["the", "room", "film", "was", "very", "and", "our", "stay", "not", "but"]
BASE = dict(embedding_dim=8, hidden_size=8, epochs=2, batch_size=16, vocab_size=100,
            min_count=1, max_length=24, threads=1, device="cpu", dropout=0.3)
PROBE = ["great room but noisy", "not awful", "the film was very boring", ""]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def make_table(count: int = 120) -> ReviewTable:
    """Noisy labels, so runs differ in more than rounding when anything is not seeded."""
    rng = random.Random(5)
    texts, labels = [], []
    for _ in range(count):
        positive = rng.random() < 0.5
        words = rng.choices(POSITIVE if positive else NEGATIVE, k=2) + rng.choices(FILLER, k=5)
        words += rng.choices(NEGATIVE if positive else POSITIVE, k=rng.randint(0, 2))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append("pos" if positive else "neg")
    return ReviewTable(texts=texts, labels=labels, rows=list(range(1, count + 1)),
                       path="reviews.csv")


def fingerprint(outcome) -> dict:
    """Everything a run produces except timings."""
    result = outcome.result
    history = [{k: v for k, v in h.to_dict().items() if k not in ("seconds", "tokens_per_second")}
               for h in result.history]
    return {
        "metrics": outcome.bundle.metrics,
        "history": history,
        "batch_losses": result.batch_losses,
        "best_epoch": result.best_epoch,
        "stop_reason": result.stop_reason,
        "vocab": outcome.bundle.vocab.itos,
        "rows": [s.rows.tolist() for s in (outcome.data.train, outcome.data.validation,
                                           outcome.data.test)],
        "test_predictions": outcome.test_predictions.tolist(),
    }


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("changes", [
    dict(cell="gru", pooling="max", bidirectional=True),
    dict(cell="lstm", pooling="attention", bidirectional=False, layers=2),
    dict(cell="rnn", pooling="mean", bidirectional=True),
])
def test_two_runs_with_one_seed_are_identical(changes):
    table = make_table()
    config = TrainConfig(**{**BASE, **changes})
    first = run_training(table, config)
    second = run_training(table, config)
    assert fingerprint(first) == fingerprint(second)
    assert same_weights(first.bundle.model, second.bundle.model)
    assert np.array_equal(Predictor(first.bundle).probabilities(PROBE),
                          Predictor(second.bundle).probabilities(PROBE))


def test_another_seed_gives_another_model():
    """The check above can fail: the seed really drives the split, the order and the weights."""
    table = make_table()
    first = run_training(table, TrainConfig(**BASE))
    other = run_training(table, TrainConfig(**{**BASE, "seed": 99}))
    assert not same_weights(first.bundle.model, other.bundle.model)
    assert fingerprint(first)["rows"] != fingerprint(other)["rows"]


def test_a_run_reproduced_from_the_saved_config_matches(tmp_path):
    """The bundle's config alone reproduces the run (the config is the whole description)."""
    table = make_table()
    first = run_training(table, TrainConfig(**BASE))
    saved = ModelBundle.load(first.bundle.save(tmp_path / "first.ramodel"))
    again = run_training(table, saved.config, saved.scheme)
    assert fingerprint(first) == fingerprint(again)
    assert same_weights(saved.model, again.bundle.model)


def test_global_random_state_does_not_leak_into_a_run():
    """Other code drawing random numbers in between (as a GUI would) changes nothing."""
    table = make_table()
    config = TrainConfig(**BASE)
    first = run_training(table, config)
    torch.rand(1000)
    np.random.rand(1000)
    random.random()
    second = run_training(table, config)
    assert same_weights(first.bundle.model, second.bundle.model)
