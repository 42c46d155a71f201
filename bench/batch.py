"""Batch analysis speed and accuracy on the IMDB test reviews, against a plain loop and VADER.

For each model (a 128-wide unidirectional LSTM and GRU, trained here on a slice of the IMDB
training reviews, or given with --model), in one run on one machine:

- plain loop: the same model and weights, random order, batches of 64 each padded to its
  longest review, pack_padded_sequence (what a notebook does);
- ours, model only: ``BatchPredictor`` (length-sorted batches; fp32 through
  ``core.model.fast_recurrent``'s step loop) in fp32, int8 (dynamic quantization of torch's
  modules) and bf16 autocast of torch's modules (refused or emulated without native bf16);
- ours, end to end: ``core.analyze.analysis.analyze`` from a CSV of the test reviews to a
  Parquet file (reading, tokenizing, predicting, writing), with --explain none and fast, reading and
  tokenizing in this process or in a helper process (``parallel_read``);
- ours on a Ray cluster: ``analyze(engine="ray")`` on a local Ray instance with --ray-workers
  actors (2 by default: this machine's cores), which reads, tokenizes and predicts in the
  actors; the instance is started before the clock starts, the actors (each loading the
  model) inside it. Labelled as a local cluster: across machines the figure scales with the
  per-worker rate printed beside it, as long as the driver keeps up with writing;
- bf16 beside fp32: how many reviews keep their class and the largest probability change,
  the figures ``auto`` is held to (>= 99.9% and <= 0.01);
- VADER (compound >= 0 means positive), on the same texts.

Every figure is reviews per second over the whole set, tokenizing included except in the
"model only" rows; accuracy is on the same reviews. The plain loop and fp32 must agree exactly
(same weights, exact padding), which the script checks.

    python bench/batch.py                       # full run: 25,000 test reviews
    python bench/batch.py --limit 500 --train 1000 --epochs 1   # a quick smoke test
    python bench/batch.py --model lstm.ramodel --model gru.ramodel   # reuse trained models
    python bench/batch.py --model lstm.ramodel --limit 5000 --batch-sizes '' --no-vader
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow.parquet  # noqa: F401 - imported before any timing starts
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.analyze.analysis import BatchOptions, analyze  # noqa: E402
from core.analyze.ray_engine import ray_available  # noqa: E402
from core.bundle import ModelBundle  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.io.readers import read_reviews  # noqa: E402
from core.io.table import ReviewTable  # noqa: E402
from core.model.batch_input import pad_batch  # noqa: E402
from core.model.classifier import RecurrentClassifier, reverse_within_length  # noqa: E402
from core.model.device import (  # noqa: E402
    configure_threads,
    cpu_flags,
    native_bf16,
)
from core.predict.batch_predictor import (  # noqa: E402
    BF16_TOLERANCE,
    BatchPredictor,
    quantize_int8,
)
from core.predict.predictor import Predictor  # noqa: E402
from core.text.labels import make_scheme  # noqa: E402
from core.training.pipeline import run_training  # noqa: E402

DATASETS = Path(os.environ.get("REVIEW_DATASETS", ROOT.parent / "shared" / "datasets"))
IMDB = DATASETS / "imdb" / "imdb.csv.gz"


# ---------------------------------------------------------------- the plain loop


def plain_logits(model: RecurrentClassifier, ids: torch.Tensor,
                 lengths: torch.Tensor) -> torch.Tensor:
    """The model run the textbook way: every recurrent layer on a PackedSequence."""
    x = model.embedding(ids)
    steps = ids.size(1)

    def packed_run(rnn: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
        out, _ = rnn(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=steps)[0]

    for index, forward_rnn in enumerate(model.forward_layers):
        out = packed_run(forward_rnn, x)
        if model.bidirectional:
            backward = packed_run(model.backward_layers[index], reverse_within_length(x, lengths))
            out = torch.cat([out, reverse_within_length(backward, lengths)], dim=-1)
        x = out
    return model.classifier(model.pool(x, lengths))


def plain_predict(model: RecurrentClassifier, sequences: Sequence[np.ndarray],
                  seed: int = 0) -> np.ndarray:
    """Random order, batches of 64, each padded to its longest review; [N, C] logits."""
    model.eval()
    order = np.random.default_rng(seed).permutation(len(sequences))
    out = np.zeros((len(sequences), model.classifier.out_features), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            index = order[start:start + 64]
            ids, lengths = pad_batch([sequences[i] for i in index])
            out[index] = plain_logits(model, ids, lengths).numpy()
    return out


# ---------------------------------------------------------------- helpers


REPEAT = 1  # set from --repeat: best of N runs, against bursts of load from other work
RAY_WORKERS = 0  # set from --ray-workers (0: no Ray rows)
READER_PROCESS_ROWS = True  # set from --no-reader-process
TABLE: "Table"


def timed(function: Callable[[], object]) -> tuple[object, float]:
    """The result and the shortest wall time of REPEAT runs."""
    best, value = float("inf"), None
    for _ in range(REPEAT):
        began = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - began)
    return value, best


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float((predicted == truth).mean())


def train_model(table: ReviewTable, cell: str, count: int, epochs: int,
                max_length: int) -> ModelBundle:
    rows = [i for i, s in enumerate(table.splits or []) if s == "train"]
    rows = sorted(np.random.default_rng(0).choice(rows, min(count, len(rows)),
                                                  replace=False).tolist())
    subset = table.subset(rows)
    subset.splits = None
    config = TrainConfig(cell=cell, bidirectional=False, layers=1, embedding_dim=128,
                         hidden_size=128, pooling="last", dropout=0.2, max_length=max_length,
                         truncation="head_tail", vocab_size=20000, epochs=epochs,
                         early_stopping=False, test_share=0.0, validation_share=0.05,
                         device="cpu")
    began = time.perf_counter()
    bundle = run_training(subset, config, make_scheme("auto", subset.labels)).bundle
    print(f"  trained {cell} on {len(rows):,} reviews, {epochs} epoch(s) in "
          f"{time.perf_counter() - began:.0f}s", flush=True)
    return bundle


def write_csv(path: Path, texts: Sequence[str], labels: Sequence[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels))


class Table:
    """Rows printed as they come, so a long run shows figures early."""

    HEADER = f"{'method':<38}{'reviews/s':>11}{'x plain':>9}{'accuracy':>10}{'vs fp32':>9}"

    def __init__(self) -> None:
        self.plain = 0.0
        self.fp32 = 0.0
        print(self.HEADER)
        print("-" * len(self.HEADER), flush=True)

    def row(self, name: str, per_second: float | None, acc: float | None,
            note: str = "") -> None:
        speed = f"{per_second:>11,.0f}" if per_second else f"{'-':>11}"
        ratio = (f"{per_second / self.plain:>8.2f}x" if per_second and self.plain
                 else f"{'':>9}")
        acc_text = f"{acc:>10.2%}" if acc is not None else f"{'-':>10}"
        delta = (f"{(acc - self.fp32) * 100:>+8.2f}p" if acc is not None and self.fp32
                 else f"{'':>9}")
        print(f"{name:<38}{speed}{ratio}{acc_text}{delta}  {note}".rstrip(), flush=True)


# ---------------------------------------------------------------- one model


def bench_model(name: str, bundle: ModelBundle, texts: list[str], labels: list[str],
                truth: np.ndarray, workdir: Path, batch_sizes: Sequence[int] = ()) -> None:
    print(f"\n{name}: {bundle.config.cell}, embedding {bundle.config.embedding_dim}, hidden "
          f"{bundle.config.hidden_size}, {'bi' if bundle.config.bidirectional else 'uni'}"
          f"directional, {bundle.config.layers} layer(s), pooling {bundle.config.pooling}, "
          f"max {bundle.config.max_length} tokens")
    table = Table()
    global TABLE
    TABLE = table
    encoder = Predictor(bundle)
    model = bundle.model.eval()
    count = len(texts)

    # Plain loop, end to end (tokenizing included) and model only.
    sequences, encode_seconds = timed(lambda: encoder.encode(texts))
    plain_out, plain_seconds = timed(lambda: plain_predict(model, sequences))
    plain_predicted = np.asarray(plain_out).argmax(1)
    table.plain = count / (plain_seconds + encode_seconds)
    table.row("plain loop (pack, batch 64), end to end", table.plain,
              accuracy(plain_predicted, truth))
    table.row("  tokenizing alone", count / encode_seconds, None)
    table.row("  plain loop, model only", count / plain_seconds, None)

    # Ours, model only, each precision.
    variants = ["fp32", "int8"] + (["int8 +lstm"] if model.cell == "lstm" else []) + ["bf16"]
    for variant in variants:
        precision = variant.split()[0]
        predictor = BatchPredictor(model, precision, explain="none")
        predictor.precision = precision  # measure bf16 even where it is not offered
        if precision == "bf16":  # torch's modules under autocast (the step loop is fp32 only)
            predictor.forward = model
        note = "" if precision != "bf16" or native_bf16() else "(CPU lacks native bf16)"
        if variant == "int8":
            note = predictor.note
        if variant == "int8 +lstm":
            predictor.forward = quantize_int8(model, lstm=True)
            note = "LSTM layers quantized too"
        try:
            output, seconds = timed(lambda p=predictor: p.run(sequences))
        except RuntimeError as error:
            table.row(f"ours {variant}, model only", None, None,
                      f"fails: {str(error).splitlines()[0][:60]}")
            continue
        predicted = output.probabilities.argmax(1)
        acc = accuracy(predicted, truth)
        if precision == "fp32":
            table.fp32 = acc
            exact = output.probabilities
            same = int((predicted == plain_predicted).sum())
            note = f"same class as plain loop on {same:,}/{count:,}"
        elif precision == "bf16":
            same = int((predicted == exact.argmax(1)).sum())
            change = float(np.abs(output.probabilities - exact).max())
            kept = same / count >= 0.999 and change <= BF16_TOLERANCE
            note = (f"{note} class as fp32 on {same / count:.2%}, max |dp| {change:.4f}"
                    f" ({'within' if kept else 'OUTSIDE'} auto's bounds)").strip()
        table.row(f"ours {variant}, model only", count / seconds, acc, note[:80])

    # Batch size: small batches stay in cache, large ones share out better across threads.
    for size in batch_sizes:
        for precision in ("fp32", "int8"):
            predictor = BatchPredictor(model, precision, explain="none", batch_size=size)
            _, seconds = timed(lambda p=predictor: p.run(sequences))
            table.row(f"  ours {precision}, batch {size}", count / seconds, None)

    # Ours end to end: CSV in, Parquet out, through analyze().
    source = workdir / "reviews.csv"
    write_csv(source, texts, labels)
    runs = [("none", "fp32", False), ("none", "auto", False), ("none", "fp32", True),
            ("none", "int8", False), ("none", "int8", True), ("fast", "fp32", True)]
    if READER_PROCESS_ROWS is False:
        runs = [r for r in runs if not r[2]]
    for explain, precision, parallel in runs:
        out = workdir / f"{name}-{explain}-{precision}-{parallel}.parquet"
        options = BatchOptions(explain=explain, precision=precision, include_text=False,
                               parallel_read=parallel)
        result = max((analyze([source], bundle, out, options) for _ in range(REPEAT)),
                     key=lambda r: r.reviews_per_second)
        acc = result.summary.get("labelled", {}).get("accuracy")
        label = (f"ours analyze(), explain {explain}, {result.precision}"
                 f"{', reader process' if parallel else ''}")
        note = f"file to file, {result.summary['threads']} torch thread(s)"
        if "bf16_check" in result.summary:
            note += f", bf16 checked on {result.summary['bf16_check']['reviews']} reviews"
        table.row(label, result.reviews_per_second, acc, note)
    if RAY_WORKERS:
        bench_ray(name, bundle, source, workdir)


def bench_ray(name: str, bundle: ModelBundle, source: Path, workdir: Path) -> None:
    """analyze() on a local Ray instance, beside the rows above (same file, same run)."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=RAY_WORKERS, include_dashboard=False, log_to_driver=False)
    try:
        for precision in ("fp32", "auto"):
            options = BatchOptions(explain="none", precision=precision, include_text=False,
                                   engine="ray", ray_workers=RAY_WORKERS)
            out = workdir / f"{name}-ray-{precision}.parquet"
            result = analyze([source], bundle, out, options)
            acc = result.summary.get("labelled", {}).get("accuracy")
            TABLE.row(f"ours Ray, local cluster {RAY_WORKERS} workers, {result.precision}",
                      result.reviews_per_second, acc,
                      "file to file, actors' start-up (torch import, model load) included")
        # what one worker does (read, tokenize, predict on one thread): the per-worker
        # figure a cluster of N such workers multiplies, while the driver keeps up writing
        options = BatchOptions(explain="none", precision="fp32", include_text=False, threads=1,
                               parallel_read=False)
        result = analyze([source], bundle, workdir / f"{name}-one.parquet", options)
        TABLE.row("  one worker's share: analyze(), 1 thread", result.reviews_per_second,
                  None, f"x{RAY_WORKERS} = {RAY_WORKERS * result.reviews_per_second:,.0f}/s "
                        "for this many workers on paper")
    finally:
        if started:
            ray.shutdown()


def bench_vader(texts: list[str], labels: list[str]) -> None:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        print("\nVADER: vaderSentiment is not installed")
        return
    analyzer = SentimentIntensityAnalyzer()
    began = time.perf_counter()
    scores = [analyzer.polarity_scores(t)["compound"] for t in texts]
    seconds = time.perf_counter() - began
    predicted = np.array(["pos" if s >= 0 else "neg" for s in scores])
    acc = float((predicted == np.array(labels)).mean())
    print(f"\nVADER (compound >= 0 is positive): {len(texts) / seconds:,.0f} reviews/s, "
          f"accuracy {acc:.2%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="score only the first N test reviews")
    parser.add_argument("--train", type=int, default=10000, help="IMDB reviews to train on")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--model", action="append", default=[],
                        help="a trained model to use instead of training (repeatable)")
    parser.add_argument("--save-models", type=Path, help="keep the trained models here")
    parser.add_argument("--no-vader", action="store_true")
    parser.add_argument("--batch-sizes", default="32,64,128,512",
                        help="extra model-only rows at these batch sizes ('' for none)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="best of N runs per row (use 3 on a busy machine)")
    parser.add_argument("--ray-workers", type=int, default=2,
                        help="Ray rows on a local instance with this many workers (0: none; "
                             "needs the cluster extra)")
    parser.add_argument("--no-reader-process", action="store_true",
                        help="leave out the rows with a reader process (short runs)")
    args = parser.parse_args()
    global REPEAT, RAY_WORKERS, READER_PROCESS_ROWS
    REPEAT = max(1, args.repeat)
    RAY_WORKERS = max(0, args.ray_workers) if ray_available() else 0
    READER_PROCESS_ROWS = not args.no_reader_process
    threads = configure_threads(0)
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{threads} torch threads, torch {torch.__version__}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"native bf16: {native_bf16()} "
          f"({', '.join(sorted(f for f in cpu_flags() if 'bf16' in f or 'amx' in f)) or 'none'})"
          f", Ray rows: {RAY_WORKERS or 'off'}")
    print("Note: a shared machine (other work runs beside this); compare rows within this run.")
    table = read_reviews(IMDB)
    test = [i for i, s in enumerate(table.splits or []) if s == "test"][: args.limit]
    texts = [table.texts[i] for i in test]
    labels = [table.labels[i] for i in test] if table.labels else []
    print(f"IMDB test reviews: {len(texts):,}", flush=True)
    models: list[tuple[str, ModelBundle]] = []
    for path in args.model:
        models.append((Path(path).stem, ModelBundle.load(path)))
    if not models:
        for cell in args.cells.split(","):
            bundle = train_model(table, cell, args.train, args.epochs, args.max_length)
            if args.save_models:
                bundle.save(args.save_models / f"{cell}.ramodel")
            models.append((cell, bundle))
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
        for name, bundle in models:
            truth = np.array([-1 if c is None else c for c in bundle.scheme.encode_all(labels)])
            sizes = [int(x) for x in args.batch_sizes.split(",") if x.strip()]
            bench_model(name, bundle, texts, labels, truth, Path(folder), sizes)
    if not args.no_vader:
        bench_vader(texts, labels)


if __name__ == "__main__":
    main()
