"""Explanations on a real model: worked examples, faithfulness, speed and the negation probe.

Trains a model with the default TrainConfig on SST-2 (or IMDB with --data imdb), or loads one
with --model, then prints:

(a) the explanation of "our service maid paid no attention to cleaning": the prediction, the
    words ranked by integrated gradients (and occlusion), and the strongest phrases by
    contextual decomposition for it and for "the food was not bad at all";
(b) over N evaluation reviews (SST-2 dev or IMDB test), the panel's whole explanation: ERASER
    comprehensiveness of the top 10% words vs as many random words, sufficiency, the
    completeness gap (target: below 1% on at least 95% of reviews) and the time per review
    (target 500 ms), with today's method beside it on the first --legacy reviews;
(c) time per explanation of a 200-word review: 50-step IG (target <= 100 ms), IG to a 1% gap,
    the panel explanation, each beside today's method, then occlusion and gradient x input;
(d) the negation probe set (resources/negation_probe.csv): the model's accuracy, and among the
    sentences it gets right how often per-word IG and the phrase method put the sentiment on
    the negated phrase with the right sign, with ERASER figures for both.

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

from bench import legacy_ig  # noqa: E402
from bench.common import IMDB, SST2, load, machine  # noqa: E402
from bench.probe import composition, probe_rows  # noqa: E402
from core.bundle import ModelBundle  # noqa: E402
from core.config import PRESETS, TrainConfig  # noqa: E402
from core.explain import (  # noqa: E402
    Explainer,
    analyse_phrases,
    class_probabilities,
    decompose,
    integrated_gradients,
    trajectory,
)
from core.explain.attribution import replaced  # noqa: E402
from core.explain.decomposition import span_masks, toward  # noqa: E402
from core.explain.faithfulness import faithfulness as eraser  # noqa: E402
from core.io.table import ReviewTable  # noqa: E402
from core.model.classifier import RecurrentClassifier  # noqa: E402
from core.model.device import configure_threads  # noqa: E402
from core.text.labels import binary_scheme, make_scheme  # noqa: E402
from core.training.pipeline import run_training  # noqa: E402
from core.training.trainer import EpochSummary, TrainCallbacks  # noqa: E402

EXAMPLE = "our service maid paid no attention to cleaning"
FOOD = "the food was not bad at all"
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
    print("  strongest phrases (contextual decomposition):")
    for text in (EXAMPLE, FOOD):
        phrases_of(explainer, text)


def legacy_panel(explainer: Explainer, text: str) -> tuple[float, float]:
    """Today's (pre-issue-15) panel explanation: adaptive IG + trajectory + faithfulness.
    Returns (relative completeness gap, seconds)."""
    started = time.perf_counter()
    alignment = explainer.align(text)
    ids = alignment.ids
    model = explainer.model
    predicted = int(class_probabilities(model, [ids])[0].argmax())
    result = legacy_ig.integrated_gradients(model, ids, predicted)
    scores = alignment.word_scores(result.scores)
    trajectory(model, ids, alignment.prefix_ends())
    eraser(model, ids, alignment.positions(), scores, predicted)
    return result.relative_gap, time.perf_counter() - started


def faithfulness(explainer: Explainer, name: str, n: int, seed: int, legacy: int) -> None:
    path, split = EVAL_SPLITS[name]
    table = load(path)
    assert table.splits is not None
    rows = [i for i, s in enumerate(table.splits) if s == split]
    rng = np.random.default_rng(seed)
    rows = rng.choice(rows, size=min(n, len(rows)), replace=False).tolist()
    comp, rand, suff, gaps, words, seconds, cpu = [], [], [], [], [], [], []
    for row in rows:
        started_cpu = time.process_time()
        e = explainer.explain(table.texts[row], "ig")  # exactly what the panel computes
        cpu.append(time.process_time() - started_cpu)
        seconds.append(e.seconds)
        if e.comprehensiveness is None:
            continue
        comp.append(e.comprehensiveness)
        rand.append(e.random_comprehensiveness)
        suff.append(e.sufficiency)
        gaps.append(e.relative_completeness_gap or 0.0)
        words.append(len(e.words))
    mean_comp, mean_rand = float(np.mean(comp)), float(np.mean(rand))
    ratio = mean_comp / mean_rand if mean_rand > 0 else float("inf")
    print(f"\n(b) The panel's explanation (IG + trajectory + faithfulness + phrases) over "
          f"{len(comp)} {name} {split} reviews (median {int(np.median(words))} words; toward "
          f"the predicted class, top 10%); {machine()}, {torch.backends.cpu.get_cpu_capability()}")
    print(f"  comprehensiveness, top 10% words: {mean_comp:.4f}")
    print(f"  comprehensiveness, random words:  {mean_rand:.4f}   -> {ratio:.1f}x random "
          f"({'meets' if ratio >= 2 else 'misses'} the 2x target)")
    print(f"  sufficiency (lower is better):    {float(np.mean(suff)):.4f}")
    gaps_array = np.asarray(gaps)
    print(f"  completeness gap: median {np.median(gaps):.3%}, max {np.max(gaps):.3%}, "
          f"{np.mean(gaps_array < 0.01):.1%} of reviews below 1% (target >= 95%)")
    print(f"  time per review: median {np.median(seconds) * 1000:.0f} ms, 95th percentile "
          f"{np.percentile(seconds, 95) * 1000:.0f} ms, {np.mean(np.asarray(seconds) <= 0.5):.1%}"
          f" within 500 ms (wall time on a shared machine, load {os.getloadavg()[0]:.1f})")
    print(f"  process CPU time per review: median {np.median(cpu) * 1000:.0f} ms, 95th "
          f"percentile {np.percentile(cpu, 95) * 1000:.0f} ms ({torch.get_num_threads()} "
          f"thread{'s' if torch.get_num_threads() != 1 else ''})")
    if legacy:
        old = [legacy_panel(explainer, table.texts[row]) for row in rows[:legacy]]
        new = seconds[:legacy]
        old_gaps = np.array([g for g, _ in old])
        print(f"  the same first {len(old)} reviews, today's method (adaptive IG + trajectory + "
              f"faithfulness, no phrases) beside this one:")
        print(f"    time: median {np.median([t for _, t in old]) * 1000:.0f} ms vs "
              f"{np.median(new) * 1000:.0f} ms; gap below 1%: {np.mean(old_gaps < 0.01):.1%} "
              f"vs {np.mean(gaps_array[:len(old)] < 0.01):.1%}")


def marked_words(alignment, phrase: str) -> list[int]:
    """Word indices overlapping the marked phrase's characters."""
    begin = alignment.text.lower().find(phrase.lower())
    end = begin + len(phrase)
    return [w for w, (a, b) in enumerate(alignment.spans) if a < end and begin < b]


def probe(explainer: Explainer, name: str) -> None:
    """(d) The negation probe set: accuracy, and where the explanations put the sentiment."""
    model = explainer.model
    positive = positive_class(explainer)
    by_category: dict[str, list[bool]] = {}
    hits = {key: [] for key in ("ig_top", "ig_sum", "phrase_top", "phrase_span")}
    eraser_rows: dict[str, list[tuple[float, float]]] = {"words": [], "phrases": []}
    for row in probe_rows():
        alignment = explainer.align(row["text"])
        ids, positions = alignment.ids, alignment.positions()
        probabilities = class_probabilities(model, [ids])[0]
        predicted = int(probabilities.argmax())
        truth = positive if row["label"] == "pos" else 1 - positive
        correct = predicted == truth
        by_category.setdefault(row["category"], []).append(correct)
        if not correct:
            continue
        marked = set(marked_words(alignment, row["phrase"]))
        ig = alignment.word_scores(integrated_gradients(model, ids, truth).scores)
        top_word = int(np.nanargmax(np.abs(ig)))
        hits["ig_top"].append(top_word in marked and ig[top_word] > 0)
        hits["ig_sum"].append(float(np.nansum(ig[sorted(marked)])) > 0)
        analysis = analyse_phrases(model, ids, positions, truth)
        units = analysis.units()
        top = max(units, key=lambda u: abs(u.score))
        inside = set(range(top.start, top.end))
        hits["phrase_top"].append(bool(inside & marked) and top.score > 0)
        span = (min(marked), max(marked) + 1)
        beta, _ = decompose(model, ids, span_masks(len(ids), positions, [span]))
        hits["phrase_span"].append(float(toward(beta, truth)[0]) > 0)
        # ERASER with the same number of words for both: the phrase layer's top unit
        k = top.end - top.start
        word_order = np.argsort(-np.nan_to_num(ig, nan=-np.inf))[:k]
        for key, chosen in (("words", word_order), ("phrases", np.arange(top.start, top.end))):
            removed = np.concatenate([positions[w] for w in chosen])
            kept = np.setdiff1d(np.arange(len(ids)), removed)
            variants = [replaced(ids, removed), replaced(ids, kept)]
            p = class_probabilities(model, variants)[:, truth]
            eraser_rows[key].append((probabilities[truth] - p[0], probabilities[truth] - p[1]))
    total = [ok for oks in by_category.values() for ok in oks]
    print(f"\n(d) Negation probe set ({len(total)} hand-written sentences, "
          f"resources/negation_probe.csv), {name} model")
    print(f"  model accuracy: {np.mean(total):.1%}   by category: " + ", ".join(
        f"{c} {np.mean(v):.0%} ({len(v)})" for c, v in sorted(by_category.items())))
    n = len(hits["ig_top"])
    print(f"  among the {n} sentences it gets right, the explanation puts the sentiment on the "
          "negated phrase with the right sign:")
    print(f"    strongest unit inside the phrase, right sign:  per-word IG "
          f"{np.mean(hits['ig_top']):.1%}   phrase method (CD) {np.mean(hits['phrase_top']):.1%}")
    print(f"    the phrase's own total has the right sign:     per-word IG (sum) "
          f"{np.mean(hits['ig_sum']):.1%}   CD score of the span "
          f"{np.mean(hits['phrase_span']):.1%}")
    for key in ("words", "phrases"):
        values = np.array(eraser_rows[key])
        print(f"    ERASER, top {'IG words' if key == 'words' else 'CD unit'} removed (same "
              f"word count): comprehensiveness {values[:, 0].mean():+.3f}, sufficiency "
              f"{values[:, 1].mean():+.3f}")
    print("  the negation or the word? each negated sentence beside itself without the negator:")
    for category, tally in composition(explainer.bundle).items():
        print(f"    {category}: " + "; ".join(f"{key}: {count}"
                                               for key, count in sorted(tally.items())))


def positive_class(explainer: Explainer) -> int:
    names = [c.lower() for c in explainer.classes]
    for name in ("positive", "pos", "1"):
        if name in names:
            return names.index(name)
    return len(names) - 1


def phrases_of(explainer: Explainer, text: str) -> None:
    e = explainer.explain(text, "ig", with_trajectory=False, with_faithfulness=False)
    probabilities = ", ".join(f"{c} {p:.3f}" for c, p in zip(e.classes, e.probabilities))
    print(f"  \"{text}\": {e.predicted_name} ({probabilities})")
    ranked = sorted(e.phrases, key=lambda p: -abs(p.score))
    print("    phrases (CD, log-odds toward " + e.target_name + "): " + ("; ".join(
        f"'{' '.join(p.words)}' {p.score:+.2f} (interaction {p.interaction:+.2f})"
        for p in ranked) or "none"))
    assert e.phrase_word_scores is not None
    print("    words alone (CD): " + " ".join(
        f"{w.word} {s:+.2f}" for w, s in zip(e.words, e.phrase_word_scores)))
    if e.flip:
        print(f"    {e.flip}")


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
    ids = alignment.ids
    seeds = alignment.word_scores(integrated_gradients(model, ids, target).scores)
    rows = [
        ("IG, exactly 50 steps: today's (captum)",
         lambda: legacy_ig.integrated_gradients(model, ids, target, 50, tolerance=None)),
        ("IG, exactly 50 steps: batched (target <= 100 ms)",
         lambda: integrated_gradients(model, ids, target, 50, tolerance=None)),
        ("IG, gap under 1%: today's adaptive rule",
         lambda: legacy_ig.integrated_gradients(model, ids, target, 50)),
        ("IG, gap under 1%: placed nodes + refinement",
         lambda: integrated_gradients(model, ids, target, 50)),
        ("panel explanation: today's (IG + traj. + faithf.)",
         lambda: legacy_panel(explainer, text)),
        ("panel explanation: now (+ phrases; target 500 ms)",
         lambda: explainer.explain(text, "ig")),
        ("  of which the trajectory",
         lambda: trajectory(model, ids, alignment.prefix_ends())),
        ("  of which faithfulness (ERASER)",
         lambda: eraser(model, ids, alignment.positions(), seeds, target)),
        ("  of which phrases (CD, seeded by IG as in the panel)",
         lambda: analyse_phrases(model, ids, alignment.positions(), target,
                                 seed_scores=seeds)),
        ("occlusion, every word", lambda: explainer.explain(text, "occlusion",
                                                            with_trajectory=False,
                                                            with_faithfulness=False,
                                                            with_phrases=False)),
        ("gradient x input", lambda: explainer.explain(text, "grad_input",
                                                       with_trajectory=False,
                                                       with_faithfulness=False,
                                                       with_phrases=False)),
    ]
    print(f"  CPU capability {torch.backends.cpu.get_cpu_capability()}")
    for label, function in rows:
        median, best, cpu = timed(function, repeat)
        print(f"  {label:<52} {median * 1000:7.0f} ms  (best {best * 1000:.0f} ms, "
              f"CPU time {cpu * 1000:.0f} ms)")
    old = legacy_ig.integrated_gradients(model, ids, target, 50)
    new = integrated_gradients(model, ids, target, 50)
    print(f"  (on this review: today's rule {old.steps} gradient evaluations, gap "
          f"{old.relative_gap:.3%}; now {new.steps}, gap {new.relative_gap:.3%})")
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
    parser.add_argument("--legacy", type=int, default=50,
                        help="reviews of (b) also explained with today's method, for timing")
    parser.add_argument("--skip", default="", help="parts to skip, e.g. 'b' or 'bcd'")
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
            faithfulness(explainer, name, args.n, args.seed, args.legacy)
    if "c" not in args.skip:
        speed(explainer, args.repeat)
    if "d" not in args.skip:
        probe(explainer, str(bundle.info.get("source", args.data)))
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
