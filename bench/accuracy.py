"""Accuracy of the default config on the shared review datasets (prints figures, not a test).

IMDB: official split (25k train, 25k test; test scored once at the end). SST-2: train, with
dev as test. RT polarity: seeded stratified 80/20. Validation always comes out of training.

    python bench/accuracy.py [--datasets imdb,sst2,rt] [--set key=value ...] [--max-train N]
                             [--seeds 13,14,15]

--seeds repeats each dataset once per seed (the seed also draws RT's split) and prints the
mean and standard deviation: one run of RT's 2,132 test reviews moves by about a point.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see core/__init__.py
import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import IMDB, RT, SST2, load, machine  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.training.pipeline import run_training  # noqa: E402
from core.training.trainer import TrainCallbacks  # noqa: E402

TARGETS = {"imdb": 0.90, "sst2": 0.84, "rt": 0.78}
PATHS = {"imdb": IMDB, "sst2": SST2, "rt": RT}


def parse_overrides(pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return values


def run_one(name: str, table, args: argparse.Namespace, seed: int | None) -> tuple:
    """Train and test once; the row for the summary table."""
    overrides = parse_overrides(args.set)
    if seed is not None:
        overrides["seed"] = seed
    if name == "rt":
        overrides.setdefault("test_share", 0.2)
    config = TrainConfig.from_dict(overrides)
    began = time.perf_counter()

    def on_epoch(event) -> None:
        print(f"  [{name}] epoch {event.epoch}: train acc {event.train_accuracy:.4f} "
              f"val acc {event.val_accuracy:.4f} val loss {event.val_loss:.4f} "
              f"({event.seconds:.0f}s, {event.tokens_per_second:,.0f} tok/s)"
              f"{' *' if event.is_best else ''}  t={time.perf_counter() - began:.0f}s",
              flush=True)

    outcome = run_training(table, config, callbacks=TrainCallbacks(on_epoch=on_epoch))
    seconds = time.perf_counter() - began
    test = outcome.bundle.metrics["test"]
    print(f"{name}: test accuracy {test['accuracy']:.4f} (target {TARGETS[name]:.2f}), "
          f"macro-F1 {test['macro_f1']:.4f}, {seconds / 60:.1f} min in all "
          f"(train+tokenize), best epoch {outcome.result.best_epoch}, seed {config.seed}, "
          f"{outcome.data.describe()}", flush=True)
    if args.save:
        suffix = "" if seed is None else f"-{seed}"
        outcome.bundle.save(args.save / f"{name}{suffix}.ramodel")
    return (name, test["accuracy"], test["macro_f1"], seconds, outcome.result.best_epoch,
            outcome.bundle.info["test_source"], config.seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="imdb,sst2,rt")
    parser.add_argument("--set", nargs="*", default=[], help="config overrides, key=value")
    parser.add_argument("--max-train", type=int, help="use only N training rows (quick check)")
    parser.add_argument("--save", type=Path, help="folder to save each model in")
    parser.add_argument("--seeds", help="comma-separated seeds: one run each, mean and sd")
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    rows = []
    for name in args.datasets.split(","):
        table = load(PATHS[name])
        if args.max_train:
            keep = [i for i, s in enumerate(table.splits or ["train"] * len(table))
                    if s != "train"]
            train = [i for i, s in enumerate(table.splits or ["train"] * len(table))
                     if s == "train"]
            # A seeded sample, not the first N: files such as IMDB are sorted by label.
            train = random.Random(0).sample(train, min(args.max_train, len(train)))
            table = table.subset(sorted(train + keep))
        seeds = [int(v) for v in args.seeds.split(",")] if args.seeds else [None]
        for seed in seeds:
            rows.append(run_one(name, table, args, seed))
        if len(seeds) > 1:
            scores = [row[1] for row in rows[-len(seeds):]]
            print(f"{name}: mean test accuracy {statistics.mean(scores):.4f} "
                  f"(sd {statistics.stdev(scores):.4f}) over seeds {args.seeds}", flush=True)
    print()
    print("Config: " + json.dumps(TrainConfig.from_dict(parse_overrides(args.set)).to_dict()))
    print("| data | seed | test accuracy | target | macro-F1 | minutes | best epoch | test set |")
    print("|---|---|---|---|---|---|---|---|")
    for name, accuracy, f1, seconds, best, source, seed in rows:
        print(f"| {name} | {seed} | {accuracy:.2%} | {TARGETS[name]:.0%} | {f1:.4f} | "
              f"{seconds / 60:.1f} | {best} | {source} |")


if __name__ == "__main__":
    main()
