"""Shared fixtures for engine tests: a tiny synthetic review table that a small model learns."""

from __future__ import annotations

import random

import pytest
import torch

from core.io.table import ReviewTable

POSITIVE = ["great", "lovely", "excellent", "friendly", "clean", "superb", "comfortable"]
NEGATIVE = ["awful", "dirty", "rude", "terrible", "broken", "noisy", "boring"]
FILLER = ["the", "room", "staff", "film", "was", "and", "very", "our", "stay", "plot"]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def synthetic_table(count: int = 400, seed: int = 0, stars: bool = False) -> ReviewTable:
    """Reviews whose sentiment words decide the label; stars 1-2 / 4-5 when ``stars``."""
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


@pytest.fixture
def table() -> ReviewTable:
    return synthetic_table()
