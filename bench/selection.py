"""Choosing defaults on validation figures only: compare settings on held-out training rows.

The rows that ``bench/accuracy.py`` tests on are removed first (RT: the seed's 20% test share;
SST-2 and IMDB: the dev / test split), so nothing here can see them. From the remaining
training rows, each seed holds out its own share as a selection set (an inner split), trains
every arm on the rest (whose own validation rows drive early stopping) and scores the arm on
the selection set. The printed table, mean and sd over seeds per arm, is the record a
decision in docs/decisions.md cites.

    python bench/selection.py rt --seeds 13,14,15 --arm base: --arm at: adversarial=at
        [--imdb-unlabelled N] [--max-train N] [--probe]

--probe also scores each arm on the project's negation probe set (bench/probe.py), a dev set
written for the project.

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
from bench.probe import probe_accuracy  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.io.table import ReviewTable  # noqa: E402
from core.text.labels import make_scheme  # noqa: E402
from core.training.dataset import split_rows  # noqa: E402
from core.training.pipeline import run_training  # noqa: E402

SELECTION_SHARE = {"rt": 0.2, "sst2": 0.05, "imdb": 0.1}
SEED_OFFSET = 1000  # inner splits use other seeds than the reported runs
SST2_SELECTION_SENTENCES = 800
SST2_SENTENCE_TOKENS = 12  # rows this long are candidate whole sentences


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


def sst2_sentence_split(rows: ReviewTable, seed: int) -> ReviewTable:
    """SST-2's training rows with a split column: whole sentences held out for selection.

    SST-2's training file holds every phrase of its sentences, so a random share of rows
    scores arms on short phrases (about 93% accuracy) and leaks: the phrases of a held-out
    sentence stay in training. Its dev set, which the reported runs test on, is whole
    sentences. So selection holds out whole sentences (long rows that are no part of a longer
    row) and drops from training every row that is part of one of them.
    """
    normal = [" ".join(text.lower().split()) for text in rows.texts]
    long_rows = [i for i, text in enumerate(normal)
                 if len(text.split()) >= SST2_SENTENCE_TOKENS]
    longer_text = "\n".join(normal[i] for i in long_rows)
    candidates = random.Random(seed).sample(long_rows, min(len(long_rows),
                                                           5 * SST2_SELECTION_SENTENCES))
    held: list[int] = []
    for index in candidates:
        if longer_text.count(normal[index]) == 1:  # itself only: a whole sentence
            held.append(index)
        if len(held) == SST2_SELECTION_SENTENCES:
            break
    held_text = "\n".join(normal[i] for i in held)
    held_set = set(held)
    splits = ["test" if i in held_set else ("drop" if normal[i] in held_text else "train")
              for i in range(len(rows))]
    kept = [i for i, split in enumerate(splits) if split != "drop"]
    table = rows.subset(kept)
    table.splits = [splits[i] for i in kept]
    return table


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
    parser.add_argument("--phrase-rows", action="store_true",
                        help="SST-2: select on a random share of rows (phrases) instead of "
                             "held-out whole sentences")
    parser.add_argument("--probe", action="store_true",
                        help="also score each arm on the negation probe set")
    args = parser.parse_args()
    print(f"Machine: {machine()}, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    table = load(PATHS[args.dataset])
    extra = [imdb_training_texts(args.imdb_unlabelled)] if args.imdb_unlabelled else []
    arms = [parse_arm(a) for a in (args.arm or ["defaults:"])]
    scores: dict[str, list[float]] = {label: [] for label, _ in arms}
    minutes: dict[str, list[float]] = {label: [] for label, _ in arms}
    probes: dict[str, list[float]] = {label: [] for label, _ in arms}
    for seed in [int(s) for s in args.seeds.split(",")]:
        rows = training_rows_only(table, args.dataset, seed)
        if args.max_train and len(rows) > args.max_train:
            rows = rows.subset(sorted(random.Random(seed).sample(range(len(rows)),
                                                                 args.max_train)))
        if args.dataset == "sst2" and not args.phrase_rows:
            rows = sst2_sentence_split(rows, seed + SEED_OFFSET)
        for label, overrides in arms:
            config = TrainConfig.from_dict({**overrides, "seed": seed + SEED_OFFSET,
                                            "test_share": SELECTION_SHARE[args.dataset]})
            began = time.perf_counter()
            outcome = run_training(rows, config, unlabelled=extra)
            accuracy = outcome.bundle.metrics["test"]["accuracy"]  # the selection set
            scores[label].append(accuracy)
            minutes[label].append((time.perf_counter() - began) / 60)
            probe = ""
            if args.probe:
                overall, categories = probe_accuracy(outcome.bundle)
                probes[label].append(overall)
                probe = f", probe {overall:.3f} (" + " ".join(
                    f"{c}={v:.2f}" for c, v in categories.items()) + ")"
            print(f"{args.dataset} seed {seed} {label}: selection accuracy {accuracy:.4f} "
                  f"(best epoch {outcome.result.best_epoch}, {minutes[label][-1]:.1f} min, "
                  f"{len(outcome.data.test)} selection reviews){probe}", flush=True)
    probe_head = " probe accuracy (mean ± sd) |" if args.probe else ""
    print(f"\n| {args.dataset} arm | settings | selection accuracy (mean ± sd) | per seed "
          f"|{probe_head} minutes |")
    print("|---|---|---|---|" + ("---|" if args.probe else "") + "---|")
    for label, overrides in arms:
        probe_cell = f" {mean_sd(probes[label])} |" if args.probe else ""
        print(f"| {label} | {overrides or 'defaults'} | {mean_sd(scores[label])} "
              f"| {', '.join(f'{v:.4f}' for v in scores[label])} |{probe_cell} "
              f"{statistics.mean(minutes[label]):.1f} |")


def mean_sd(values: list[float]) -> str:
    spread = f" ± {statistics.stdev(values):.2%}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.2%}{spread}"


if __name__ == "__main__":
    main()
