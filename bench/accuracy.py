"""Test accuracy of the default config beside TF-IDF + LR and VADER, on the same split, per seed.

Each run trains once and scores its test rows once; the baselines are fit on the same
training rows (TF-IDF + LR picks its C on the same validation rows) and scored on the same test
rows, in the same run. Defaults are chosen elsewhere, on validation figures only
(``bench/selection.py``, docs/decisions.md); nothing here is tuned on these figures.

IMDB: official split (25k train / 25k test). IMDB low-label: 1,000 labelled training reviews
(seeded), the other 24,000 training texts as unlabelled reviews. SST-2: train, dev as test.
RT polarity: seeded stratified 80/20. Validation always comes out of training.

    python bench/accuracy.py [--datasets rt,sst2,imdb,imdb_low] [--seeds 13,14,15]
                             [--set key=value ...] [--imdb-unlabelled N] [--save DIR]

``--imdb-unlabelled N`` adds N of IMDB's training texts (never its test texts) as an
unlabelled file to the RT and SST-2 runs: movie reviews a user of those sets could have.
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

import torch  # noqa: E402

from bench.common import IMDB, RT, SST2, load, machine  # noqa: E402
from core.compare.baselines import tfidf_logistic, vader  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.io.table import ReviewTable  # noqa: E402
from core.training.pipeline import run_training  # noqa: E402
from core.training.pretraining import PretrainCallbacks  # noqa: E402
from core.training.trainer import TrainCallbacks  # noqa: E402

TARGETS = {"imdb": 0.913, "imdb_low": 0.87, "sst2": 0.865, "rt": 0.80}
PATHS = {"imdb": IMDB, "imdb_low": IMDB, "sst2": SST2, "rt": RT}
DEFAULT_SEEDS = {"imdb": "13,14", "imdb_low": "13,14", "sst2": "13,14,15", "rt": "13,14,15"}
LOW_LABELS = 1000


def parse_overrides(pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return values


def imdb_training_texts(count: int) -> ReviewTable:
    """``count`` of IMDB's training texts (seeded sample), without labels: an unlabelled file."""
    table = load(IMDB)
    rows = [i for i, s in enumerate(table.splits or []) if s == "train"]
    rows = sorted(random.Random(0).sample(rows, min(count, len(rows))))
    return ReviewTable(texts=[table.texts[i] for i in rows], path="imdb-train-texts.csv")


def low_label_split(table: ReviewTable, seed: int) -> tuple[ReviewTable, ReviewTable]:
    """(1,000 labelled training reviews + the test rows, the other training texts unlabelled)."""
    train = [i for i, s in enumerate(table.splits or []) if s == "train"]
    test = [i for i, s in enumerate(table.splits or []) if s != "train"]
    labelled = set(random.Random(seed).sample(train, LOW_LABELS))
    rest = [i for i in train if i not in labelled]
    unlabelled = ReviewTable(texts=[table.texts[i] for i in rest], path="imdb-unlabelled.csv")
    return table.subset(sorted(labelled) + test), unlabelled


def run_one(name: str, table: ReviewTable, extra: list[ReviewTable],
            args: argparse.Namespace, seed: int) -> dict:
    """Train and test once, then the baselines on the same split; one row of the table."""
    overrides = parse_overrides(args.set)
    overrides["seed"] = seed
    if name == "rt":
        overrides.setdefault("test_share", 0.2)
    config = TrainConfig.from_dict(overrides)
    began = time.perf_counter()

    def on_epoch(event) -> None:
        print(f"  [{name} {seed}] epoch {event.epoch}: train acc {event.train_accuracy:.4f} "
              f"val acc {event.val_accuracy:.4f} val loss {event.val_loss:.4f} "
              f"({event.seconds:.0f}s, {event.tokens_per_second:,.0f} tok/s)"
              f"{' *' if event.is_best else ''}  t={time.perf_counter() - began:.0f}s",
              flush=True)

    def on_pretrain_epoch(epoch: int, loss: float) -> None:
        print(f"  [{name} {seed}] pretraining epoch {epoch}: LM loss {loss:.3f} "
              f"t={time.perf_counter() - began:.0f}s", flush=True)

    outcome = run_training(table, config, callbacks=TrainCallbacks(on_epoch=on_epoch),
                           unlabelled=extra,
                           pretrain_callbacks=PretrainCallbacks(on_epoch=on_pretrain_epoch))
    seconds = time.perf_counter() - began
    test = outcome.bundle.metrics["test"]
    tfidf = tfidf_logistic(outcome.data)
    lexicon = vader(outcome.data)
    record = outcome.bundle.pretraining
    print(f"{name} seed {seed}: recurrent {test['accuracy']:.4f} | TF-IDF + LR "
          f"{tfidf.test_metrics['accuracy']:.4f} | VADER {lexicon.test_metrics['accuracy']:.4f}"
          f" | {seconds / 60:.1f} min, best epoch {outcome.result.best_epoch}, "
          f"{outcome.data.describe()}"
          + (f"; pretrained: {record.describe()}" if record else ""), flush=True)
    if args.save:
        outcome.bundle.save(args.save / f"{name}-{seed}.ramodel")
    return {"name": name, "seed": seed, "recurrent": test["accuracy"],
            "tfidf": tfidf.test_metrics["accuracy"], "vader": lexicon.test_metrics["accuracy"],
            "minutes": seconds / 60, "train": len(outcome.data.train),
            "test": len(outcome.data.test), "test_source": outcome.data.test_source}


def _mean_sd(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.2%}"
    return f"{statistics.mean(values):.2%} ± {statistics.stdev(values):.2%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="rt,sst2")
    parser.add_argument("--set", nargs="*", default=[], help="config overrides, key=value")
    parser.add_argument("--seeds", help="comma-separated seeds (default: 3 for RT and SST-2, "
                                        "2 for IMDB)")
    parser.add_argument("--imdb-unlabelled", type=int, default=0,
                        help="add N IMDB training texts as unlabelled reviews to RT / SST-2")
    parser.add_argument("--save", type=Path, help="folder to save each model in")
    args = parser.parse_args()
    print(f"Machine: {machine()}, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    config = TrainConfig.from_dict(parse_overrides(args.set))
    print("Config: " + json.dumps(config.to_dict()), flush=True)
    rows: list[dict] = []
    for name in args.datasets.split(","):
        table = load(PATHS[name])
        extra: list[ReviewTable] = []
        if name in ("rt", "sst2") and args.imdb_unlabelled:
            extra = [imdb_training_texts(args.imdb_unlabelled)]
        for seed in [int(v) for v in (args.seeds or DEFAULT_SEEDS[name]).split(",")]:
            run_table = table
            if name == "imdb_low":
                run_table, unlabelled = low_label_split(table, seed)
                extra = [unlabelled]
            rows.append(run_one(name, run_table, extra, args, seed))
    print()
    print("| data | seeds | recurrent (default) | TF-IDF + LR | VADER | target | minutes a run "
          "| train / test reviews |")
    print("|---|---|---|---|---|---|---|---|")
    for name in dict.fromkeys(row["name"] for row in rows):
        mine = [row for row in rows if row["name"] == name]
        print(f"| {name} | {','.join(str(r['seed']) for r in mine)} | "
              f"{_mean_sd([r['recurrent'] for r in mine])} | "
              f"{_mean_sd([r['tfidf'] for r in mine])} | {_mean_sd([r['vader'] for r in mine])} "
              f"| {TARGETS[name]:.1%} | {statistics.mean(r['minutes'] for r in mine):.1f} | "
              f"{mine[0]['train']:,} / {mine[0]['test']:,} ({mine[0]['test_source']}) |")
    print("\nPer run (recurrent vs TF-IDF + LR on the same split):")
    for row in rows:
        print(f"  {row['name']} seed {row['seed']}: {row['recurrent']:.4f} vs {row['tfidf']:.4f}"
              f" ({row['recurrent'] - row['tfidf']:+.4f})")


if __name__ == "__main__":
    main()
