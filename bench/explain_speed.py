"""Explanation speed (issue 15 part 4) beside an earlier commit, interleaved in one run.

    python bench/explain_speed.py --model /tmp/imdb.ramodel --model /tmp/sst2.ramodel \
        [--base e693241] [--threads 2] [--repeat 5] [--parts]

For the 200-word review bench/explain.py (c) uses, prints medians of interleaved runs:
(i)  50-step integrated gradients on the first model (target <= 100 ms on 2 cores);
(ii) the whole Explain-panel explanation (``Explainer.explain(text, "ig")``: adaptive IG,
     trajectory, faithfulness, phrase layer) on every model (target <= 500 ms), with the IG
     evaluations and the completeness gap of both.
"Before" is core/explain at ``--base``, extracted with ``git show`` into a temporary package;
"now" is the working tree. ``--parts`` adds the time of each part of today's explanation;
``--floor`` splits 50-step IG's gradient pass into a cost per pass (the ~22 small operations
a step pays whatever the batch) and a cost per path point, from one pass of 50 points against
two of 25.
Timings are wall clock: on a shared machine, compare only the two columns of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def old_package(base: str) -> str:
    """core/explain at ``base`` as a package named oldexplain in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="oldexplain_"))
    target = folder / "oldexplain"
    target.mkdir()
    files = subprocess.run(["git", "ls-tree", "--name-only", base, "core/explain/"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split()
    for name in files:
        text = subprocess.run(["git", "show", f"{base}:{name}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
        (target / Path(name).name).write_text(text.replace("core.explain", "oldexplain"))
    return str(folder)


def interleaved(old: Callable[[], object], new: Callable[[], object],
                repeat: int) -> tuple[float, float]:
    """Median milliseconds of ``old`` and ``new``, run turn about after one warm-up each."""
    old(), new()
    a, b = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        old()
        a.append(time.perf_counter() - started)
        started = time.perf_counter()
        new()
        b.append(time.perf_counter() - started)
    return statistics.median(a) * 1000, statistics.median(b) * 1000


def parts(explainer, text: str, repeat: int) -> str:
    """Median milliseconds of each part of today's panel explanation."""
    import core.explain.explainer as module

    names = ("trajectory", "integrated_gradients", "faithfulness", "analyse_phrases")
    spent: dict[str, list[float]] = {name: [] for name in names}
    originals = {name: getattr(module, name) for name in names}

    def timed(name: str):
        def call(*args, **kwargs):
            started = time.perf_counter()
            result = originals[name](*args, **kwargs)
            spent[name].append(time.perf_counter() - started)
            return result
        return call

    try:
        for name in names:
            setattr(module, name, timed(name))
        for _ in range(repeat):
            explainer.explain(text, "ig")
    finally:
        for name, function in originals.items():
            setattr(module, name, function)
    return ", ".join(f"{name} {statistics.median(spent[name]) * 1000:.0f}" for name in names)


def floor(bundle, ids, repeat: int) -> str:
    """Milliseconds a gradient pass costs whatever its size, and per path point (a line)."""
    import numpy as np

    from core.explain.integrated import _Path

    fast = _Path(bundle.model, np.asarray(ids), 1).fast
    if fast is None:
        return "no hand-written path for this model"
    alphas = (np.arange(50) + 0.5) / 50

    def halves():
        fast.gradients(alphas[:25], 1)
        fast.gradients(alphas[25:], 1)

    whole, two = interleaved(lambda: fast.gradients(alphas, 1), halves, repeat)
    per_pass = two - whole  # two passes of 25 points minus one of 50
    per_point = (whole - per_pass) / 50
    return (f"one pass of 50 points {whole:.0f} ms, two of 25 {two:.0f} ms: {per_pass:.0f} ms "
            f"a pass whatever its size, {per_point:.2f} ms a point")


def one_model(old, new, bundle, name: str, text: str, with_plain: bool,
              args: argparse.Namespace) -> None:
    """(i) when ``with_plain``, and (ii), for one model."""
    model = bundle.model
    before, now = old.Explainer(bundle), new.Explainer(bundle)
    ids = now.align(text).ids
    config = bundle.config
    print(f"\n{name}: {config.cell}, bidirectional {config.bidirectional}, "
          f"{config.pooling} pooling; review of {len(ids)} tokens", flush=True)
    if with_plain:
        a, b = interleaved(
            lambda: old.integrated_gradients(model, ids, 1, 50, tolerance=None),
            lambda: new.integrated_gradients(model, ids, 1, 50, tolerance=None),
            args.repeat)
        print(f"  (i)  50-step IG:         before {a:6.0f} ms   now {b:6.0f} ms"
              f"   (target <= 100 ms)", flush=True)
    a, b = interleaved(lambda: before.explain(text, "ig"), lambda: now.explain(text, "ig"),
                       args.repeat)
    e_old, e_new = before.explain(text, "ig"), now.explain(text, "ig")
    print(f"  (ii) panel explanation:  before {a:6.0f} ms   now {b:6.0f} ms"
          f"   (target <= 500 ms)")
    print(f"       IG evaluations:     before {e_old.steps:6d}      now {e_new.steps:6d}"
          f"      gap before {e_old.relative_completeness_gap:.3%}, now "
          f"{e_new.relative_completeness_gap:.3%}", flush=True)
    if args.parts:
        print(f"       now, parts (ms): {parts(now, text, args.repeat)}", flush=True)
    if args.floor and with_plain:
        print(f"       now, gradients: {floor(bundle, ids, args.repeat)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True,
                        help=".ramodel file (repeat for several; (i) uses the first)")
    parser.add_argument("--base", default="e693241", help="commit to compare with")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--parts", action="store_true", help="time each part of today's")
    parser.add_argument("--floor", action="store_true",
                        help="split a gradient pass into its cost per pass and per point")
    args = parser.parse_args()
    sys.path.insert(0, old_package(args.base))
    import torch

    torch.set_num_threads(args.threads)
    import oldexplain as old

    import core.explain as new
    from bench.explain import review_of
    from core.bundle import ModelBundle

    text = review_of(args.words)
    print(f"CPU capability {torch.backends.cpu.get_cpu_capability()}, {args.threads} threads, "
          f"load average {os.getloadavg()[0]:.1f}; before = {args.base[:10]}, medians of "
          f"{args.repeat} interleaved runs", flush=True)
    for index, path in enumerate(args.model):
        one_model(old, new, ModelBundle.load(path), Path(path).name, text, index == 0, args)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
