"""RNN vs LSTM vs GRU vs bag-of-words baselines on IMDB and SST-2, with the default settings.

Runs exactly what the Compare panel and ``main.py compare`` run (core.compare.runner): the data are
prepared once per data set, every cell trains on that split with the same seed, and the
TF-IDF + logistic regression and VADER baselines score the same test reviews. Prints each
table and the machine, and writes ``<dataset>.csv`` / ``<dataset>.md`` (and, with
``--save-models``, each model) into ``--out``; the Markdown at the end is ready for the README.

    python bench/compare.py                                   # full runs (slow on a CPU)
    python bench/compare.py --max-train 2000 --epochs 1       # a quick smoke run
    python bench/compare.py --datasets sst2 --cells gru,lstm  # one data set, two cells

Model and training flags are those of ``main.py train`` (``--epochs``, ``--hidden-size``...);
without them every run uses the TrainConfig defaults.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.cli.progress import ProgressBar
from core.cli.train import add_config_options, config_from_args  # noqa: E402
from core.compare.runner import (  # noqa: E402
    BASELINES,
    CompareCallbacks,
    ComparisonResult,
    RunEvent,
    default_variants,
    run_comparison,
)
from core.config import CELLS, TrainConfig  # noqa: E402
from core.io.readers import read_reviews  # noqa: E402
from core.io.table import ReviewTable  # noqa: E402
from core.metrics import format_duration  # noqa: E402
from core.model.device import configure_threads, pick_device  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATASETS_DIR = Path(os.environ.get("REVIEW_DATASETS", ROOT.parent / "shared" / "datasets"))
DATASETS = {
    "imdb": ("IMDB", DATASETS_DIR / "imdb" / "imdb.csv.gz"),
    "sst2": ("SST-2", DATASETS_DIR / "sst2" / "sst2.csv"),
}
TRAIN_SPLITS = {"train", "training"}


def machine() -> str:
    """CPU model, cores this process may use, memory, GPU and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            cpu = next(line.split(":", 1)[1].strip() for line in stream
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        pass
    gpu = (f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else
           ", no GPU")
    return (f"{cpu}, {cores} cores{memory}{gpu}; Python {platform.python_version()}, "
            f"torch {torch.__version__}, {torch.get_num_threads()} torch threads")


def subsample_train(table: ReviewTable, max_train: int | None, max_test: int | None,
                    seed: int) -> ReviewTable:
    """At most ``max_train`` training rows (and ``max_test`` others), picked with a seed."""
    if max_train is None and max_test is None:
        return table
    rng = np.random.default_rng(seed)
    splits = [str(s).strip().lower() for s in (table.splits or [""] * len(table))]
    train = np.array([i for i, s in enumerate(splits) if s in TRAIN_SPLITS], dtype=np.int64)
    other = np.array([i for i, s in enumerate(splits) if s not in TRAIN_SPLITS], dtype=np.int64)
    if max_train is not None and len(train) > max_train:
        train = rng.choice(train, max_train, replace=False)
    if max_test is not None and len(other) > max_test:
        other = rng.choice(other, max_test, replace=False)
    return table.subset(sorted(int(i) for i in np.concatenate([train, other])))


def progress_printer() -> CompareCallbacks:
    bar = ProgressBar()

    def on_batch(event: RunEvent) -> None:
        batch = event.payload
        bar.update(event.fraction, f"{event.run} epoch {batch.epoch}/{batch.epochs} batch "
                   f"{batch.batch}/{batch.batches} {batch.tokens_per_second:,.0f} tok/s "
                   f"run ETA {format_duration(batch.eta)}")

    def on_epoch(event: RunEvent) -> None:
        summary = event.payload
        bar.close()
        print(f"  [{event.run}] epoch {summary.epoch}: val acc {summary.val_accuracy:.4f} "
              f"loss {summary.val_loss:.4f} | {summary.seconds:.0f}s, "
              f"{summary.tokens_per_second:,.0f} tok/s{'  *best' if summary.is_best else ''}",
              flush=True)

    def on_run(event: RunEvent) -> None:
        result = event.payload
        if result is None:
            return
        accuracy = result.test_metrics.get("accuracy")
        took = "" if result.seconds is None else f" in {format_duration(result.seconds)}"
        print(f"  [{event.run}] {result.status}{took}"
              + ("" if accuracy is None else f": test accuracy {accuracy:.2%}"), flush=True)

    return CompareCallbacks(on_batch, on_epoch, on_run, lambda m: print("  " + m, flush=True))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def markdown_section(title: str, result: ComparisonResult, base: TrainConfig,
                     seconds: float, subsample: str) -> str:
    baselines = "; ".join(f"{run.name}: {run.details}" for run in result.runs
                          if run.kind == "baseline")
    return (f"### {title}\n\n"
            f"{len(result.train_rows):,} training / {len(result.validation_rows):,} validation "
            f"/ {len(result.test_rows):,} test reviews ({result.test_source}){subsample}. "
            f"Shared settings: {'bidirectional' if base.bidirectional else 'one direction'}, "
            f"{plural(base.layers, 'layer')} x {base.hidden_size}, embedding "
            f"{base.embedding_dim}, {base.pooling} pooling, up to {plural(base.epochs, 'epoch')}"
            f" (early stopping "
            f"{'on, patience ' + str(base.patience) if base.early_stopping else 'off'}), "
            f"max {base.max_length} tokens, vocabulary {base.vocab_size:,}, seed {base.seed}. "
            f"Whole comparison: {format_duration(seconds)}."
            + (f" Baselines: {baselines}." if baselines else "")
            + f"\n\n{result.to_markdown(settings=False)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="imdb,sst2",
                        help="comma-separated: " + ", ".join(DATASETS))
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--max-train", type=int, help="subsample the training rows (seeded)")
    parser.add_argument("--max-test", type=int, help="subsample the test rows (smoke runs)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "compare")
    parser.add_argument("--save-models", action="store_true",
                        help="also write each run's .ramodel into --out/<dataset>/")
    add_config_options(parser)
    args = parser.parse_args(argv)

    base = config_from_args(args)
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    baselines = [] if args.no_baselines else list(BASELINES)
    names = [d.strip() for d in args.datasets.split(",") if d.strip()]
    unknown = [d for d in names if d not in DATASETS]
    if unknown:
        parser.error(f"unknown data set {unknown[0]}; choose from {', '.join(DATASETS)}")
    if pick_device(base.device).type == "cpu":
        configure_threads(base.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    described = machine()
    print(f"Machine: {described}")
    print(f"Settings: {base.to_dict()}\n")

    sections = []
    for key in names:
        title, path = DATASETS[key]
        if not path.exists():
            print(f"{path} not found: set REVIEW_DATASETS to the shared datasets folder")
            return 1
        start = time.perf_counter()
        table = read_reviews(path)
        table = subsample_train(table, args.max_train, args.max_test, base.seed)
        read_seconds = time.perf_counter() - start
        print(f"== {title}: {len(table):,} reviews read in {read_seconds:.1f}s")
        start = time.perf_counter()
        result = run_comparison(table, base, default_variants(base, cells),
                                baselines=baselines, callbacks=progress_printer())
        seconds = time.perf_counter() - start
        print()
        print(result.to_text())
        print(f"({title}: {format_duration(seconds)} for the whole comparison)\n", flush=True)
        result.to_csv(args.out / f"{key}.csv")
        subsample = ""
        if args.max_train or args.max_test:
            subsample = (f"; subsampled with --max-train {args.max_train} "
                         f"--max-test {args.max_test}")
        section = markdown_section(title, result, base, seconds, subsample)
        (args.out / f"{key}.md").write_text(section, encoding="utf-8")
        if args.save_models:
            result.save_models(args.out / key)
        sections.append(section)

    print("\n---- Markdown for the README ----\n")
    print(f"Measured on: {described}.\n")
    print("\n".join(sections))
    print(f"Tables written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
