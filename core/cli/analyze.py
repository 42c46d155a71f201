"""``analyze``: run a saved model over whole files and folders and write one result file.

    python main.py analyze reviews/ more.csv --model runs/imdb --out results.parquet

The output's extension picks the format (.csv, .jsonl, .parquet); a summary and, when some
rows could not be used, an error list are written next to it. Ctrl+C stops after the current
batch and leaves a valid partial output (marked by ``<out>.partial``; exit code 130).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from core.analyze.analysis import ENGINES, AnalysisProgress, BatchOptions, analyze
from core.bundle import ModelBundle
from core.cli.progress import ProgressBar
from core.metrics import format_duration
from core.predict.batch_predictor import EXPLAIN_METHODS, PRECISIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze", help="label whole files or folders with a saved model",
        description="Predict every review in the inputs with a saved model; write one CSV, "
                    "JSON Lines or Parquet file (by extension) with probabilities and the "
                    "words that pushed each way, plus <out>.summary.json.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="review files (CSV, TSV, JSON, JSONL, Parquet, TXT, .gz) or folders")
    parser.add_argument("--model", required=True, help="model folder or .ramodel file")
    parser.add_argument("--out", type=Path, required=True,
                        help="result file: .csv, .jsonl or .parquet")
    parser.add_argument("--explain", choices=EXPLAIN_METHODS, default="fast",
                        help="top words by gradient x input (fast, default), integrated "
                             "gradients (ig, slower) or none (fastest)")
    parser.add_argument("--top-k", type=int, default=5, help="words each way per review")
    parser.add_argument("--batch-size", type=int, default=512,
                        help="reviews per model batch (long reviews get smaller batches)")
    parser.add_argument("--quantize", nargs="?", const="int8", default="auto",
                        choices=PRECISIONS, metavar="{auto,fp32,int8,bf16}",
                        help="arithmetic: auto (default: bf16 with --explain none where the "
                             "CPU or GPU has it natively, checked against fp32 on the first "
                             "reviews; else fp32), fp32, int8 dynamic quantization (the bare "
                             "flag; give it after the inputs or as --quantize int8) or bf16; "
                             "see bench/batch.py for accuracy")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto",
                        help="where the model runs (auto: a GPU when there is one)")
    parser.add_argument("--text-col", help="column with the review text (guessed if omitted)")
    parser.add_argument("--id-col", help="column with review ids (guessed; '' for none)")
    parser.add_argument("--label-col",
                        help="column with known labels, to report agreement (guessed; '' for "
                             "none)")
    parser.add_argument("--no-text", action="store_true",
                        help="leave the review text out of the result file")
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads (default: every core this process may use)")
    parser.add_argument("--chunk-size", type=int, default=4096,
                        help="reviews read and written at a time (memory stays bounded)")
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="local: this process (default); ray: read, tokenize and predict "
                             "on a Ray cluster with Ray Data (pip install -e \".[cluster]\")")
    parser.add_argument("--ray-address", metavar="ADDRESS",
                        help="with --engine ray: the cluster to join (host:port of `ray start "
                             "--head`); without it a local Ray instance uses this machine's "
                             "cores")
    parser.add_argument("--ray-workers", type=int, default=0,
                        help="with --engine ray: model copies (actors), one CPU each "
                             "(default: one per CPU of the cluster)")
    parser.set_defaults(handler=cmd_analyze)


def progress_text(event: AnalysisProgress) -> str:
    eta = format_duration(event.eta) if event.eta is not None else "--:--"
    parts = [f"{event.reviews:,} reviews", f"{event.reviews_per_second:,.0f}/s", f"ETA {eta}"]
    if event.skipped or event.errors:
        parts.append(f"{event.errors:,} skipped")
    name = Path(event.current).name
    return "  ".join(parts) + (f"  {name}" if name else "")


def cmd_analyze(args: argparse.Namespace) -> int:
    bundle = ModelBundle.load(args.model)
    options = BatchOptions(explain=args.explain, top_k=args.top_k, batch_size=args.batch_size,
                           precision=args.quantize, text_column=args.text_col,
                           id_column=args.id_col, label_column=args.label_col,
                           include_text=not args.no_text, chunk_size=args.chunk_size,
                           threads=args.threads, device=args.device, engine=args.engine,
                           ray_address=args.ray_address, ray_workers=args.ray_workers)
    bar = ProgressBar()
    stop = threading.Event()
    last: list[AnalysisProgress] = []

    def on_signal(*_: object) -> None:
        stop.set()
        signal.signal(signal.SIGINT, previous)  # a second Ctrl+C stops at once
        print("\nstopping after the current batch (Ctrl+C again to abort)...", file=sys.stderr)

    def on_progress(event: AnalysisProgress) -> None:
        last[:] = [event]
        bar.update(event.fraction or 0.0, progress_text(event))

    previous = signal.signal(signal.SIGINT, on_signal)
    try:
        result = analyze(args.inputs, bundle, args.out, options, on_progress=on_progress,
                         cancel=stop.is_set, model_path=args.model)
    finally:
        signal.signal(signal.SIGINT, previous)
        if last:
            bar.update(last[0].fraction or 0.0, progress_text(last[0]), force=True)
        bar.close()
    summary = result.summary
    for note in result.notes:
        print(f"note: {note}")
    state = "STOPPED EARLY, partial output" if result.partial else "done"
    print(f"{state}: {result.reviews:,} reviews in {format_duration(result.seconds)} "
          f"({result.reviews_per_second:,.0f} reviews/s, {result.precision}) -> {result.output}")
    shares = "  ".join(f"{name} {entry['count']:,} ({entry['share']:.1%})"
                       for name, entry in summary["classes"].items())
    print(f"classes: {shares}")
    if "labelled" in summary:
        labelled = summary["labelled"]
        print(f"agreement with column {', '.join(labelled['columns'])}: "
              f"{labelled['accuracy']:.2%} of {labelled['reviews']:,} labelled reviews")
    print(f"summary: {result.summary_path}")
    if result.errors_path is not None:
        count = summary["error_count"]
        print(f"{count:,} {'row or file' if count == 1 else 'rows or files'} skipped; reasons "
              f"in {result.errors_path}")
    return 130 if result.partial else 0
