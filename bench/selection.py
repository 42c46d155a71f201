"""Choosing defaults on validation figures only: compare settings on held-out training rows.

The rows that ``bench/accuracy.py`` tests on are removed first (RT: the seed's 20% test share;
SST-2 and IMDB: the dev / test split), so nothing here can see them. From the remaining
training rows, each seed holds out its own share as a selection set (an inner split), trains
every arm on the rest (whose own validation rows drive early stopping) and scores the arm on
the selection set. The printed table, mean and sd over seeds per arm, is the record a
decision in docs/decisions.md cites.

    python bench/selection.py rt --seeds 13,14,15 --arm base: --arm at: adversarial=at
        [--imdb-unlabelled N] [--max-train N]

An arm is ``label:key=value,key=value`` (an empty list is the defaults).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see core/__init__.py
import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.accuracy import PATHS, imdb_training_texts, parse_overrides  # noqa: E402
from bench.common import load, machine  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.io.table import ReviewTable  # noqa: E402
from core.text.labels import make_scheme  # noqa: E402
from core.training.dataset import split_rows  # noqa: E402
from core.training.pipeline import run_training  # noqa: E402

SELECTION_SHARE = {"rt": 0.2, "sst2": 0.05, "imdb": 0.1}
SEED_OFFSET = 1000  # inner splits use other seeds than the reported runs


def training_rows_only(table: ReviewTable, name: str, seed: int) -> ReviewTable:
    """The rows a reported run of ``seed`` may train on; its test rows are gone."""
    if name == "rt":
        scheme = make_scheme("auto", table.labels)
        ids = np.array([scheme.encode(label) for label in table.labels])
        train, validation, _, _ = split_rows(table, ids, np.arange(len(table)),
                                             TrainConfig(seed=seed, test_share=0.2))
        return table.subset(sorted(np.concatenate([train, validation]).tolist()))
    kept = table.subset([i for i, s in enumerate(table.splits or []) if s == "train"])
    kept.splits = None
    return kept


def parse_arm(text: str) -> tuple[str, dict]:
    label, _, settings = text.partition(":")
    pairs = [p for p in settings.split(",") if p]
    return label or "defaults", parse_overrides(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", choices=sorted(SELECTION_SHARE))
    parser.add_argument("--seeds", default="13,14,15")
    parser.add_argument("--arm", action="append", default=[], help="label:key=value,...")
    parser.add_argument("--imdb-unlabelled", type=int, default=0,
                        help="N IMDB training texts as an unlabelled file (RT, SST-2)")
    parser.add_argument("--max-train", type=int, help="a seeded sample of N training rows")
    args = parser.parse_args()
    print(f"Machine: {machine()}, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    table = load(PATHS[args.dataset])
    extra = [imdb_training_texts(args.imdb_unlabelled)] if args.imdb_unlabelled else []
    arms = [parse_arm(a) for a in (args.arm or ["defaults:"])]
    scores: dict[str, list[float]] = {label: [] for label, _ in arms}
    minutes: dict[str, list[float]] = {label: [] for label, _ in arms}
    for seed in [int(s) for s in args.seeds.split(",")]:
        rows = training_rows_only(table, args.dataset, seed)
        if args.max_train and len(rows) > args.max_train:
            rows = rows.subset(sorted(random.Random(seed).sample(range(len(rows)),
                                                                 args.max_train)))
        for label, overrides in arms:
            config = TrainConfig.from_dict({**overrides, "seed": seed + SEED_OFFSET,
                                            "test_share": SELECTION_SHARE[args.dataset]})
            began = time.perf_counter()
            outcome = run_training(rows, config, unlabelled=extra)
            accuracy = outcome.bundle.metrics["test"]["accuracy"]  # the selection set
            scores[label].append(accuracy)
            minutes[label].append((time.perf_counter() - began) / 60)
            print(f"{args.dataset} seed {seed} {label}: selection accuracy {accuracy:.4f} "
                  f"(best epoch {outcome.result.best_epoch}, {minutes[label][-1]:.1f} min, "
                  f"{len(outcome.data.test)} selection reviews)", flush=True)
    print(f"\n| {args.dataset} arm | settings | selection accuracy (mean ± sd) | per seed "
          f"| minutes |")
    print("|---|---|---|---|---|")
    for label, overrides in arms:
        values = scores[label]
        spread = f" ± {statistics.stdev(values):.2%}" if len(values) > 1 else ""
        print(f"| {label} | {overrides or 'defaults'} | {statistics.mean(values):.2%}{spread} "
              f"| {', '.join(f'{v:.4f}' for v in values)} | "
              f"{statistics.mean(minutes[label]):.1f} |")


if __name__ == "__main__":
    main()
