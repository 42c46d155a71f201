"""``compare``: RNN, LSTM and GRU (or any cells) and the baselines on one split, one table."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from core.bundle import SUFFIX
from core.cli.progress import ProgressBar
from core.cli.reading import add_read_limit_option, read_table, report_read
from core.cli.train import add_column_options, add_config_options, config_from_args, parse_cuts
from core.compare.runner import (
    BASELINES,
    CompareCallbacks,
    RunEvent,
    default_variants,
    run_comparison,
    slug,
)
from core.config import CELLS
from core.errors import ReviewDataError
from core.io.output_paths import check_outputs, save_with_fallback
from core.metrics import format_duration
from core.text.labels import make_scheme
from core.training.trainer import TrainControl

TABLE_CSV = "comparison.csv"
TABLE_MARKDOWN = "comparison.md"


def parse_cells(text: str) -> list[str]:
    cells = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if unknown:
        raise ReviewDataError(f"Unknown cell '{unknown[0]}' in --cells; use a comma-separated "
                              f"list of {', '.join(CELLS)} (or an empty string for none).")
    return list(dict.fromkeys(cells))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="train several architectures on one split and tabulate them",
        description="Train RNN, LSTM and GRU models (and optional bag-of-words baselines) on "
                    "the same split with the same seed, then write one results table (CSV and "
                    "Markdown) and every model into --out.")
    parser.add_argument("file", help="labelled review file or folder")
    add_column_options(parser)
    parser.add_argument("--scheme", default="auto",
                        choices=["auto", "categorical", "binary", "three", "five"],
                        help="how labels become classes; ratings default to binary")
    parser.add_argument("--cuts", help="rating cut points, e.g. '2,4' (binary/three)")
    parser.add_argument("--max-rows", type=int, help="read only the first N reviews")
    parser.add_argument("--cells", default=",".join(CELLS),
                        help="comma-separated cells to train (default: rnn,lstm,gru); every "
                             "other setting is shared")
    parser.add_argument("--baselines", action="store_true",
                        help="add TF-IDF + logistic regression and, for two classes, VADER")
    add_config_options(parser)
    add_read_limit_option(parser)
    parser.add_argument("--out", type=Path, required=True,
                        help="folder for the table (comparison.csv, comparison.md) and models")
    parser.set_defaults(handler=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    base = config_from_args(args)
    cells = parse_cells(args.cells)
    baselines = list(BASELINES) if args.baselines else []
    if not cells and not baselines:
        raise ReviewDataError("Nothing to compare: name cells with --cells or add --baselines.")
    if args.out.exists() and not args.out.is_dir():
        raise ReviewDataError("--out must be a folder.", path=str(args.out))
    written = [args.out / TABLE_CSV, args.out / TABLE_MARKDOWN,
               *(args.out / f"{slug(v.name)}{SUFFIX}" for v in default_variants(base, cells))]
    check_outputs(written, [args.file], "comparison")  # before training, not after
    table = read_table(args.file, args, args.max_rows, args.split_col)
    if table.labels is None:
        raise ReviewDataError("No label column found; name one with --label-col.",
                              path=str(args.file))
    scheme = make_scheme(args.scheme, table.labels, parse_cuts(args.cuts))
    report_read(table, args.file)
    print(f"Classes: {scheme.describe()}")

    bar = ProgressBar()
    control = TrainControl()

    def on_batch(event: RunEvent) -> None:
        batch = event.payload
        bar.update(event.fraction, f"{event.run} epoch {batch.epoch}/{batch.epochs} "
                   f"batch {batch.batch}/{batch.batches} loss {batch.loss:.3f} "
                   f"{batch.tokens_per_second:,.0f} tok/s")

    def on_epoch(event: RunEvent) -> None:
        summary = event.payload
        bar.update(event.fraction, force=True)
        bar.close()
        print(f"[{event.run}] epoch {summary.epoch}: train loss {summary.train_loss:.4f} | "
              f"val loss {summary.val_loss:.4f} acc {summary.val_accuracy:.4f} | "
              f"{summary.seconds:.1f}s{'  *best' if summary.is_best else ''}")

    def on_run(event: RunEvent) -> None:
        result = event.payload
        if result is None:
            return
        seconds = "" if result.seconds is None else f" in {format_duration(result.seconds)}"
        accuracy = result.test_metrics.get("accuracy")
        figure = "" if accuracy is None else f": test accuracy {accuracy:.2%}"
        print(f"[{event.run}] {result.status}{seconds}{figure}"
              f"{' - ' + result.message if result.message else ''}")

    previous = signal.signal(signal.SIGINT, lambda *_: control.cancel())
    try:
        result = run_comparison(
            table, base, default_variants(base, cells), scheme, baselines,
            CompareCallbacks(on_batch, on_epoch, on_run, lambda message: print(message)),
            control)
    finally:
        signal.signal(signal.SIGINT, previous)

    def save(folder: Path) -> tuple[Path, dict[str, Path]]:
        folder.mkdir(parents=True, exist_ok=True)
        models = result.save_models(folder)
        result.to_csv(folder / TABLE_CSV)
        (folder / TABLE_MARKDOWN).write_text(result.to_markdown(), encoding="utf-8")
        return folder, models

    (folder, saved), rescued = save_with_fallback(save, args.out, "comparison")
    print()
    print(result.to_text())
    print()
    for name, path in saved.items():
        print(f"Saved {name} to {path}")
    print(f"Table: {folder / TABLE_CSV} and {folder / TABLE_MARKDOWN}")
    if rescued:
        print(f"warning: {rescued}", file=sys.stderr)
        return 1
    return 130 if result.cancelled else 0
