"""Training tokens/s and inference reviews/s: our engine vs a plain hand-written loop.

The plain loop is what a notebook does: random batches of 64, each padded to its longest
review, packed with pack_padded_sequence, Adam. Ours: length-bucketed batches, unpacked
recurrent layers (exact, see core/model.py), the same model size (embedding 128, hidden 128,
one unidirectional layer, last-state pooling). Both see the same reviews for the same epochs
and are scored on the same test reviews.

    python bench/throughput.py [--train 8000] [--test 5000] [--epochs 1] [--cells lstm,gru,rnn]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see core/__init__.py
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import IMDB, load, machine, split_rows  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.model.batch_input import pad_batch  # noqa: E402
from core.model.device import configure_threads  # noqa: E402
from core.predict.inference import predict_logits  # noqa: E402
from core.training.dataset import prepare_data  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402


class PlainModel(nn.Module):
    def __init__(self, vocab: int, cell: str, classes: int = 2) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, 128, padding_idx=0)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](128, 128,
                                                                          batch_first=True)
        self.out = nn.Linear(128, classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(self.embedding(ids), lengths, batch_first=True,
                                      enforce_sorted=False)
        _, hidden = self.rnn(packed)
        if isinstance(hidden, tuple):
            hidden = hidden[0]
        return self.out(hidden[-1])


def plain_train(model: PlainModel, ids: list[np.ndarray], labels: np.ndarray, epochs: int,
                seed: int) -> float:
    """Tokens/s of the plain loop (step time only: padding, forward, backward, update)."""
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    tokens, seconds = 0, 0.0
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(ids))
        for start in range(0, len(order), 64):
            index = order[start:start + 64]
            began = time.perf_counter()
            batch, lengths = pad_batch([ids[i] for i in index])
            loss = nn.functional.cross_entropy(model(batch, lengths),
                                               torch.from_numpy(labels[index]))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            seconds += time.perf_counter() - began
            tokens += int(lengths.sum())
    return tokens / seconds


def plain_predict(model: PlainModel, ids: list[np.ndarray]) -> tuple[np.ndarray, float]:
    model.eval()
    out = np.zeros(len(ids), dtype=np.int64)
    began = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(ids), 64):
            batch, lengths = pad_batch(ids[start:start + 64])
            out[start:start + 64] = model(batch, lengths).argmax(1).numpy()
    return out, len(ids) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=8000, help="IMDB training reviews used")
    parser.add_argument("--test", type=int, default=5000, help="IMDB test reviews scored")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--cells", default="lstm,gru,rnn")
    args = parser.parse_args()
    configure_threads(0)
    table = load(IMDB)
    rng = np.random.default_rng(0)
    train = rng.choice(split_rows(table, "train"), args.train, replace=False)
    test = rng.choice(split_rows(table, "test"), args.test, replace=False)
    subset = table.subset(sorted(train.tolist()) + sorted(test.tolist()))
    base = TrainConfig(bidirectional=False, layers=1, embedding_dim=128, hidden_size=128,
                       pooling="last", dropout=0.0, batch_size=64, max_length=args.max_length,
                       truncation="head", epochs=args.epochs, early_stopping=False,
                       vocab_size=20000, validation_share=0.05)
    data = prepare_data(subset, base)
    print(f"Machine: {machine()}")
    print(f"IMDB: {len(data.train)} train reviews ({data.train.token_count():,} tokens), "
          f"{len(data.test)} test reviews, max length {args.max_length}, {args.epochs} epoch(s)")
    print()
    header = (f"{'cell':<6}{'plain tok/s':>13}{'ours tok/s':>12}{'x':>6}{'plain rev/s':>13}"
              f"{'ours rev/s':>12}{'x':>6}{'plain acc':>11}{'ours acc':>10}")
    print(header)
    print("-" * len(header))
    for cell in args.cells.split(","):
        torch.manual_seed(1)
        plain = PlainModel(len(data.vocab), cell)
        plain_tps = plain_train(plain, data.train.ids, data.train.labels, args.epochs, 1)
        predicted, plain_rps = plain_predict(plain, data.test.ids)
        plain_acc = float((predicted == data.test.labels).mean())

        result = Trainer(base.replace(cell=cell)).fit(data)
        began = time.perf_counter()
        logits = predict_logits(result.model, data.test.ids, batch_size=256)
        ours_rps = len(data.test) / (time.perf_counter() - began)
        ours_acc = float((logits.argmax(1) == data.test.labels).mean())
        print(f"{cell:<6}{plain_tps:>13,.0f}{result.tokens_per_second:>12,.0f}"
              f"{result.tokens_per_second / plain_tps:>6.1f}{plain_rps:>13,.0f}{ours_rps:>12,.0f}"
              f"{ours_rps / plain_rps:>6.1f}{plain_acc:>11.4f}{ours_acc:>10.4f}", flush=True)


if __name__ == "__main__":
    main()
