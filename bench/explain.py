"""Explanations on a real model: one worked example, faithfulness vs random, and speed.

Trains a model with the default TrainConfig on SST-2 (or IMDB with --data imdb), or loads one
with --model, then prints:

(a) the explanation of "our service maid paid no attention to cleaning": the prediction and
    the words ranked by integrated gradients (and by occlusion, for comparison);
(b) ERASER comprehensiveness at the top 10% of words vs removing as many random words (mean of
    10 draws per review), and sufficiency, averaged over N evaluation reviews (SST-2 dev or IMDB
    test; target: comprehensiveness at least 2x random);
(c) time per explanation of a 200-word review: integrated gradients with exactly 50 steps
    (target <= 150 ms on this CPU), then the full panel explanation (IG with the adaptive
    refinement + trajectory + faithfulness), occlusion and gradient x input.

    python bench/explain.py                                  # SST-2, default config
    python bench/explain.py --max-train 20000 --save /tmp/sst2.ramodel
    python bench/explain.py --model /tmp/sst2.ramodel --eval imdb --n 500
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import IMDB, SST2, load, machine  # noqa: E402
from core.bundle import ModelBundle  # noqa: E402
from core.config import PRESETS, TrainConfig  # noqa: E402
from core.explain import Explainer, integrated_gradients  # noqa: E402
from core.io.table import ReviewTable  # noqa: E402
from core.model.classifier import RecurrentClassifier  # noqa: E402
from core.model.device import configure_threads  # noqa: E402
from core.text.labels import binary_scheme, make_scheme  # noqa: E402
from core.training.pipeline import run_training  # noqa: E402
from core.training.trainer import EpochSummary, TrainCallbacks  # noqa: E402

EXAMPLE = "our service maid paid no attention to cleaning"
EVAL_SPLITS = {"sst2": (SST2, "dev"), "imdb": (IMDB, "test")}


def scheme_for(table: ReviewTable):
    """0/1 or neg/pos labels as named negative/positive classes."""
    values = {str(label).strip().lower() for label in table.labels or []}
    if values <= {"0", "1"}:
        return binary_scheme(0, 1)
    return make_scheme("auto", table.labels)


def train(data: str, max_train: int | None, seed: int, threads: int,
          changes: dict | None = None) -> ModelBundle:
    path = SST2 if data == "sst2" else IMDB
    table = load(path)
    assert table.splits is not None
    train_rows = [i for i, s in enumerate(table.splits) if s == "train"]
    other_rows = [i for i, s in enumerate(table.splits) if s != "train"]
    if max_train and max_train < len(train_rows):
        rng = np.random.default_rng(seed)
        train_rows = sorted(rng.choice(train_rows, size=max_train, replace=False).tolist())
    table = table.subset(train_rows + other_rows)
    # the default model; threads only say where it runs, --set changes name what differs
    config = TrainConfig.from_dict({**TrainConfig(threads=threads).to_dict(), **(changes or {})})
    print(f"Training the default config ({config.cell}, bidirectional={config.bidirectional}, "
          f"{config.hidden_size} hidden, {config.pooling} pooling) on {len(train_rows):,} "
          f"{data} training reviews...", flush=True)

    def on_epoch(event: EpochSummary) -> None:
        print(f"  epoch {event.epoch}: val acc {event.val_accuracy:.4f} "
              f"({event.seconds:.0f}s){'  *best' if event.is_best else ''}", flush=True)

    outcome = run_training(table, config, scheme_for(table), TrainCallbacks(on_epoch=on_epoch))
    test = outcome.bundle.metrics.get("test", {})
    print(f"Trained in {outcome.result.seconds:.0f}s; test accuracy "
          f"{test.get('accuracy', float('nan')):.4f} ({outcome.bundle.info['test_source']})")
    return outcome.bundle


def example(explainer: Explainer) -> None:
    print(f"\n(a) \"{EXAMPLE}\"")
    for method in ("ig", "occlusion"):
        e = explainer.explain(EXAMPLE, method)
        if method == "ig":
            probabilities = ", ".join(f"{c} {p:.3f}" for c, p in zip(e.classes, e.probabilities))
            print(f"  prediction: {e.predicted_name} ({probabilities})")
            print(f"  P({e.target_name}) for a blank review of this length: "
                  f"{e.baseline_probability:.3f}; completeness gap "
                  f"{e.relative_completeness_gap:.3%} with {e.steps} gradient evaluations "
                  f"over {e.path_pieces} path piece{'s' if e.path_pieces != 1 else ''}")
        order = sorted(range(len(e.words)), key=lambda i: -(e.words[i].score or 0.0))
        ranked = "  ".join(f"{e.words[i].word} {e.words[i].score:+.3f}" for i in order)
        print(f"  {method:>9} toward {e.target_name}: {ranked}")


def faithfulness(explainer: Explainer, name: str, n: int, seed: int) -> None:
    path, split = EVAL_SPLITS[name]
    table = load(path)
    assert table.splits is not None
    rows = [i for i, s in enumerate(table.splits) if s == split]
    rng = np.random.default_rng(seed)
    rows = rng.choice(rows, size=min(n, len(rows)), replace=False).tolist()
    comp, rand, suff, gaps, words = [], [], [], [], []
    started = time.perf_counter()
    for row in rows:
        e = explainer.explain(table.texts[row], "ig", with_trajectory=False)
        if e.comprehensiveness is None:
            continue
        comp.append(e.comprehensiveness)
        rand.append(e.random_comprehensiveness)
        suff.append(e.sufficiency)
        gaps.append(e.relative_completeness_gap or 0.0)
        words.append(len(e.words))
    seconds = time.perf_counter() - started
    mean_comp, mean_rand = float(np.mean(comp)), float(np.mean(rand))
    ratio = mean_comp / mean_rand if mean_rand > 0 else float("inf")
    print(f"\n(b) Faithfulness over {len(comp)} {name} {split} reviews "
          f"(median {int(np.median(words))} words; IG toward the predicted class, top 10%)")
    print(f"  comprehensiveness, top 10% words: {mean_comp:.4f}")
    print(f"  comprehensiveness, random words:  {mean_rand:.4f}   -> {ratio:.1f}x random "
          f"({'meets' if ratio >= 2 else 'misses'} the 2x target)")
    print(f"  sufficiency (lower is better):    {float(np.mean(suff)):.4f}")
    print(f"  completeness gap: median {np.median(gaps):.3%}, max {np.max(gaps):.3%}, "
          f"{np.mean(np.asarray(gaps) > 0.01):.1%} of reviews above 1%; "
          f"{seconds / len(comp) * 1000:.0f} ms per review")


def review_of(words: int) -> str:
    table = load(IMDB, max_rows=2000)
    for text in table.texts:
        split = text.split()
        if len(split) >= words:
            return " ".join(split[:words])
    raise SystemExit("no IMDB review is long enough")


def timed(function, repeat: int) -> tuple[float, float, float]:
    """(median wall, best wall, best process CPU time) in seconds.

    On a shared machine the wall time mostly measures the neighbours; the CPU time of a
    one-thread run is what the same call takes on a quiet core.
    """
    function()  # warm-up
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), min(times), min(cpu)


def speed(explainer: Explainer, repeat: int) -> None:
    text = review_of(200)
    alignment = explainer.align(text)
    model = explainer.model
    target = 1
    print(f"\n(c) Time per explanation of a 200-word review ({len(alignment.ids)} tokens), "
          f"median / best of {repeat}; {machine()}; load average "
          f"{os.getloadavg()[0]:.1f}")
    rows = [
        ("IG, exactly 50 steps (target <= 150 ms)",
         lambda: integrated_gradients(model, alignment.ids, target, 50, tolerance=None)),
        ("IG with the adaptive rule (gap under 1%)",
         lambda: explainer.explain(text, "ig", with_trajectory=False,
                                   with_faithfulness=False)),
        ("panel explanation (IG + trajectory + faithfulness)",
         lambda: explainer.explain(text, "ig")),
        ("occlusion, every word", lambda: explainer.explain(text, "occlusion",
                                                            with_trajectory=False,
                                                            with_faithfulness=False)),
        ("gradient x input", lambda: explainer.explain(text, "grad_input",
                                                       with_trajectory=False,
                                                       with_faithfulness=False)),
    ]
    for label, function in rows:
        median, best, cpu = timed(function, repeat)
        print(f"  {label:<52} {median * 1000:7.0f} ms  (best {best * 1000:.0f} ms, "
              f"CPU time {cpu * 1000:.0f} ms)")
    steps = explainer.explain(text, "ig", with_trajectory=False, with_faithfulness=False).steps
    print(f"  (the adaptive rule spent {steps} gradient evaluations on this review)")
    # Speed depends on the architecture, not the weights: untrained twins show what the
    # 50-step figure would be for other shapes on the same review.
    print("  IG, exactly 50 steps, other architectures (untrained weights, same review):")
    for name, changes in ARCHITECTURES:
        config = explainer.bundle.config.replace(**changes)
        torch.manual_seed(0)
        twin = RecurrentClassifier.from_config(config, len(explainer.bundle.vocab),
                                               len(explainer.classes)).eval()
        median, best, cpu = timed(
            lambda twin=twin: integrated_gradients(twin, alignment.ids, target, 50,
                                                   tolerance=None), repeat)
        print(f"    {name:<50} {median * 1000:7.0f} ms  (best {best * 1000:.0f} ms, "
              f"CPU time {cpu * 1000:.0f} ms)")


ARCHITECTURES = [
    ("default but unidirectional GRU", {"bidirectional": False}),
    ("default but bidirectional LSTM", {"cell": "lstm"}),
    ("Fast preset (GRU 64, unidirectional)", PRESETS["Fast"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=["sst2", "imdb"], default="sst2",
                        help="training data when no --model is given")
    parser.add_argument("--model", type=Path, help="reuse a saved bundle instead of training")
    parser.add_argument("--save", type=Path, help="save the trained bundle here")
    parser.add_argument("--max-train", type=int, help="train on N random training reviews")
    parser.add_argument("--eval", choices=["sst2", "imdb", "both"],
                        help="reviews for (b) (default: the training data's test split)")
    parser.add_argument("--n", type=int, default=500, help="reviews for (b)")
    parser.add_argument("--repeat", type=int, default=10, help="timing repeats for (c)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="train with this config setting changed (JSON value), repeatable")
    parser.add_argument("--skip", default="", help="parts to skip, e.g. 'b' or 'bc'")
    args = parser.parse_args()
    configure_threads(args.threads)
    if args.model:
        bundle = ModelBundle.load(args.model)
        print(f"Loaded {args.model}: {bundle.config.cell}, {bundle.classes}, test "
              f"{bundle.metrics.get('test', {}).get('accuracy', float('nan')):.4f}")
    else:
        changes = {k: _json_value(v) for k, v in (item.split("=", 1) for item in args.set)}
        bundle = train(args.data, args.max_train, args.seed, args.threads, changes)
        if args.save:
            print(f"Saved to {bundle.save(args.save)}")
    explainer = Explainer(bundle)
    torch.manual_seed(args.seed)
    if "a" not in args.skip:
        example(explainer)
    if "b" not in args.skip:
        source = args.eval or bundle_data(bundle, args)
        for name in (["sst2", "imdb"] if source == "both" else [source]):
            faithfulness(explainer, name, args.n, args.seed)
    if "c" not in args.skip:
        speed(explainer, args.repeat)
    return 0


def _json_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def bundle_data(bundle: ModelBundle, args: argparse.Namespace) -> str:
    source = str(bundle.info.get("source", ""))
    if args.model:
        return "imdb" if "imdb" in source else "sst2"
    return args.data


if __name__ == "__main__":
    sys.exit(main())
