"""Peak memory of ``main.py analyze`` on a generated file of many reviews: does it stay flat?

Inputs over 8 MB are read and tokenized by a helper process (``core.analyze.reading``); the
figures add up the analyze process and its helper.

Writes a CSV of N reviews (IMDB texts, or the short sample reviews, cycled with fresh ids),
builds a model of the default size (bidirectional GRU, 128 wide, 400 tokens; weights are
random, which changes nothing about memory), then runs the real command line in a child
process and samples its resident memory (psutil) until it ends. The peak comes from the
kernel's own count (``getrusage(RUSAGE_CHILDREN).ru_maxrss``).

With ``--compare`` it first runs the same on N/20 reviews: bounded memory means both peaks
are about the same, whatever N.

    python bench/batch_memory.py --reviews 200000                  # ~260 MB of IMDB text
    python bench/batch_memory.py --reviews 1000000 --compare       # the 1 GB target
    python bench/batch_memory.py --reviews 20000 --texts sample    # a quick look
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.bundle import ModelBundle  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.io.readers import read_reviews  # noqa: E402
from core.model.classifier import RecurrentClassifier  # noqa: E402
from core.text.labels import make_scheme  # noqa: E402
from core.text.tokenizer import Tokenizer  # noqa: E402
from core.text.vocabulary import Vocabulary  # noqa: E402
from core.training.dataset import tokenizer_settings  # noqa: E402

DATASETS = Path(os.environ.get("REVIEW_DATASETS", ROOT.parent / "shared" / "datasets"))
IMDB = DATASETS / "imdb" / "imdb.csv.gz"
SAMPLE = ROOT / "resources" / "sample_reviews.csv"
MB = 1024 * 1024


def source_texts(kind: str) -> list[str]:
    if kind == "imdb":
        return read_reviews(IMDB, max_rows=50000).texts
    return read_reviews(SAMPLE).texts


def write_input(path: Path, texts: list[str], count: int) -> None:
    """``id,text`` rows, the texts cycled; written as a stream (this process stays small)."""
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "text"])
        for index in range(count):
            writer.writerow([f"g{index}", texts[index % len(texts)]])


def build_model(texts: list[str], cell: str, path: Path) -> Path:
    """A default-size model with a vocabulary from the texts and untrained weights."""
    config = TrainConfig(cell=cell)
    tokenizer = Tokenizer(tokenizer_settings(config))
    vocab = Vocabulary.build((tokenizer.tokenize(t) for t in texts[:5000]), config.vocab_size,
                             config.min_count)
    scheme = make_scheme("categorical", ["neg", "pos"])
    model = RecurrentClassifier.from_config(config, len(vocab), scheme.num_classes)
    return ModelBundle(config, scheme, tokenizer.settings, vocab, model).save(path)


def run_analysis(source: Path, model: Path, out: Path, explain: str,
                 interval: float = 0.25) -> dict:
    """Run the CLI in a child; sample its RSS; return peak, timeline and timing."""
    command = [sys.executable, str(ROOT / "main.py"), "analyze", str(source), "--model",
               str(model), "--out", str(out), "--explain", explain]
    began = time.perf_counter()
    log = open(out.with_name(out.name + ".log"), "w+", encoding="utf-8")  # noqa: SIM115
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    process = psutil.Process(child.pid)
    samples: list[tuple[float, int]] = []
    main_peak = 0
    while child.poll() is None:
        try:
            main = process.memory_info().rss
            helpers = sum(_rss(p) for p in process.children(recursive=True))
        except psutil.Error:
            break
        main_peak = max(main_peak, main)
        samples.append((time.perf_counter() - began, main + helpers))
        time.sleep(interval)
    output = child.communicate()[0]
    seconds = time.perf_counter() - began
    log.seek(0)
    errors = log.read()[-3000:]
    log.close()
    if child.returncode != 0:
        raise SystemExit(f"analyze failed ({child.returncode}):\n{output}\n{errors}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "samples": samples, "peak_rusage": peak_kb * 1024,
            "peak_sampled": max((rss for _, rss in samples), default=0), "output": output,
            "main_peak": main_peak}


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def report(label: str, reviews: int, source: Path, out: Path, run: dict) -> None:
    samples = run["samples"]
    print(f"\n{label}: {reviews:,} reviews, input {source.stat().st_size / MB:,.0f} MB, "
          f"output {out.stat().st_size / MB:,.1f} MB")
    print(f"  {run['seconds']:,.0f} s, {reviews / run['seconds']:,.0f} reviews/s (end to end, "
          "including start-up)")
    print(f"  peak RSS of the largest process: {run['peak_rusage'] / MB:,.0f} MB (getrusage); "
          f"sampled: analyze process {run['main_peak'] / MB:,.0f} MB, with its reader "
          f"process {run['peak_sampled'] / MB:,.0f} MB")
    if samples:
        marks = [samples[min(len(samples) - 1, int(len(samples) * q))] for q in
                 (0.1, 0.25, 0.5, 0.75, 0.99)]
        print("  RSS (both processes) over the run: " + ", ".join(
            f"{int(q * 100)}%: {rss / MB:,.0f} MB" for q, (_, rss) in
            zip((0.1, 0.25, 0.5, 0.75, 0.99), marks)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviews", type=int, default=200000)
    parser.add_argument("--texts", choices=["imdb", "sample"], default="imdb",
                        help="IMDB reviews (about 1.3 KB each) or the short sample reviews")
    parser.add_argument("--explain", choices=["fast", "ig", "none"], default="fast")
    parser.add_argument("--cell", choices=["gru", "lstm", "rnn"], default="gru")
    parser.add_argument("--format", choices=["csv", "jsonl", "parquet"], default="parquet")
    parser.add_argument("--compare", action="store_true",
                        help="first run on N/20 reviews, to compare peaks")
    parser.add_argument("--workdir", type=Path,
                        help="keep the generated files here (default: a temporary folder)")
    args = parser.parse_args()
    texts = source_texts(args.texts)
    with tempfile.TemporaryDirectory(prefix="batch-memory-") as temporary:
        folder = args.workdir or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        model = build_model(texts, args.cell, folder / "model.ramodel")
        print(f"Model: default {args.cell} (bidirectional, 128 wide, 400 tokens), explain "
              f"{args.explain}, output .{args.format}; {psutil.cpu_count()} CPUs; texts: "
              f"{args.texts}")
        sizes = ([max(1, args.reviews // 20)] if args.compare else []) + [args.reviews]
        for count in sizes:
            source = folder / f"reviews_{count}.csv"
            write_input(source, texts, count)
            out = folder / f"out_{count}.{args.format}"
            run = run_analysis(source, model, out, args.explain)
            report(f"{count:,} reviews", count, source, out, run)
            source.unlink()
            # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: run the big one last.


if __name__ == "__main__":
    main()
