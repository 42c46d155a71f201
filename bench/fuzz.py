"""Fuzz the review readers with thousands of generated bad files and count broken promises.

Every case is a file (or folder) built by one of the categories in ``tools/fuzz_cases.py``
(truncated and malformed CSV/JSON/JSONL/Parquet, wrong delimiters, mixed encodings, binary
data, empty and header-only files, one class, missing labels, huge lines, NUL bytes, deeply
nested JSON, damaged gzip, odd suffixes, folders, truncated final records) or raw random
bytes, and judged by ``tools/fuzz_check.py`` (shared with tests/core/test_reader_fuzz.py).
Each is read with preview_file, read_reviews and iter_review_chunks; the promise is data or a
ReviewDataError naming the file (and its line for line faults), within a time limit; a cut
final record must leave every complete review before it. After the cases, the run checks
that analyze refuses an output that is an input (same path, symbolic link, hard link, inside
an input folder) leaving every file unchanged, and that gzip bombs stop at the read limit
under a memory ceiling (each read in a child process). The suite runs a few hundred of these;
this runs as many as you ask.

    python bench/fuzz.py [--cases 10000] [--seed 0] [--scale 1] [--keep DIR]
                         [--bomb-mb 2000] [--ceiling-mb 1500]

Exit status 1 when any case broke a promise; failing inputs are copied to --keep.
"""

from __future__ import annotations

import argparse
import faulthandler
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.fuzz_cases import (  # noqa: E402
    BOMB_SHAPES,
    CATEGORIES,
    SUFFIXES,
    Case,
    case_huge_lines,
    case_truncated_final,
)
from tools.fuzz_check import (  # noqa: E402
    LINKS,
    ReaderFault,
    check_file,
    check_gzip_bomb,
    check_self_output,
    check_truncated_final,
)


def case_random_bytes(rng: random.Random) -> Case:
    size = rng.choice([0, 1, 2, 3, 8, 100, 4000, 70_000])
    return Case("random_bytes", "r" + rng.choice(SUFFIXES), rng.randbytes(size))


def untrained_bundle():  # noqa: ANN201 - core types imported late (torch is slow to load)
    """A complete, untrained tiny model: the output check runs before any prediction."""
    import torch

    from core.bundle import ModelBundle
    from core.config import TrainConfig
    from core.model.classifier import RecurrentClassifier
    from core.text.labels import make_scheme
    from core.text.tokenizer import TokenizerSettings
    from core.text.vocabulary import Vocabulary

    torch.manual_seed(0)
    config = TrainConfig(embedding_dim=8, hidden_size=8, threads=1)
    vocab = Vocabulary.build([["good", "bad", "good", "bad"]], min_count=1)
    scheme = make_scheme("categorical", ["neg", "pos"])
    model = RecurrentClassifier.from_config(config, len(vocab), scheme.num_classes)
    return ModelBundle(config, scheme, TokenizerSettings(), vocab, model.eval())


def run_extra_checks(scratch: Path, bomb_mb: int, ceiling_mb: int) -> list[str]:
    """Outputs onto inputs and gzip bombs; one line per check, failures start with FAIL."""
    lines = []
    bundle = untrained_bundle()
    samples = {".csv": b"text,label\ngood,pos\nbad,neg\n",
               ".jsonl": b'{"text": "good"}\n{"text": "bad"}\n'}
    for suffix, data in samples.items():
        for index, link in enumerate(LINKS):
            try:
                check_self_output(scratch / f"out-{suffix[1:]}-{index}", link, bundle, data,
                                  suffix)
                lines.append(f"  ok    output onto an input ({link}, {suffix}): refused, "
                             "files unchanged")
            except ReaderFault as fault:
                lines.append(f"  FAIL  output onto an input ({link}, {suffix}): {fault}")
    for shape in BOMB_SHAPES:
        began = time.perf_counter()
        try:
            check_gzip_bomb(scratch, shape, expanded_mb=bomb_mb, ceiling_mb=ceiling_mb,
                            peak_mb=ceiling_mb // 2)
            lines.append(f"  ok    gzip bomb ({shape}, {bomb_mb:,} MB expanded): refused at the "
                         f"limit in {time.perf_counter() - began:.1f} s under a "
                         f"{ceiling_mb:,} MB ceiling")
        except ReaderFault as fault:
            lines.append(f"  FAIL  gzip bomb ({shape}): {fault}")
    return lines


def build(category: str, rng: random.Random, scale: int) -> Case:
    if category == "random_bytes":
        return case_random_bytes(rng)
    if category == "huge_lines":
        return case_huge_lines(rng, scale)
    return CATEGORIES[category](rng)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="how many cases in all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=int, default=4,
                        help="huge lines are 50-400 KB times this")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="time limit per reader call (a hang past it is a failure)")
    parser.add_argument("--only", help="comma-separated categories to run")
    parser.add_argument("--keep", type=Path, help="copy failing inputs into this folder")
    parser.add_argument("--show", type=int, default=5, help="failures to print per category")
    parser.add_argument("--bomb-mb", type=int, default=2000,
                        help="how far each gzip bomb expands (MB)")
    parser.add_argument("--ceiling-mb", type=int, default=1500,
                        help="address-space ceiling of the child reading a bomb (MB)")
    args = parser.parse_args(argv)

    names = sorted(CATEGORIES) + ["random_bytes", "truncated_final"]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    tried: Counter[str] = Counter()
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    faults: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    slowest: list[tuple[float, str]] = []
    start = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        for index in range(args.cases):
            category = names[index % len(names)]
            tag = f"{args.seed}-{category}-{index}"
            if category == "truncated_final":
                case, complete = case_truncated_final(random.Random(tag))
            else:
                case, complete = build(category, random.Random(tag), args.scale), -1
            path = case.write(scratch)
            # a hard hang in C code that the per-call alarm cannot break still ends the run
            faulthandler.dump_traceback_later(args.seconds * 4, exit=True)
            began = time.perf_counter()
            try:
                if complete >= 0:
                    path.unlink()
                    outcome = check_truncated_final(case, complete, scratch, args.seconds)
                    path = case.write(scratch)  # for the size and the clean-up below
                else:
                    outcome = check_file(path, args.seconds)
                outcomes[category][outcome] += 1
            except ReaderFault as fault:
                faults[category][fault.kind] += 1
                if len(examples[category]) < args.show:
                    examples[category].append(f"  [{tag}] {case.name}: {fault}"[:400])
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    copy = args.keep / f"{tag}-{case.name or 'noname'}"
                    (shutil.copytree if path.is_dir() else shutil.copyfile)(path, copy)
            finally:
                faulthandler.cancel_dump_traceback_later()
            elapsed = time.perf_counter() - began
            slowest.append((elapsed, f"[{tag}] {case.name} ({path.stat().st_size:,} bytes)"
                            if path.is_file() else f"[{tag}] folder"))
            slowest = sorted(slowest, reverse=True)[:5]
            tried[category] += 1
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            if (index + 1) % 1000 == 0:
                print(f"... {index + 1:,} cases, {sum(map(sum, faults.values()))} failed, "
                      f"{time.perf_counter() - start:.0f} s", flush=True)
        extra = run_extra_checks(scratch, args.bomb_mb, args.ceiling_mb)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    seconds = time.perf_counter() - start
    total_failed = sum(sum(c.values()) for c in faults.values())
    print(f"\nReader fuzzing: {sum(tried.values()):,} cases tried, {total_failed:,} failed, "
          f"{seconds:.0f} s (seed {args.seed})\n")
    print(f"{'category':<18}{'tried':>7}{'data':>7}{'error':>7}{'failed':>8}  failures by kind")
    for name in names:
        kinds = ", ".join(f"{k} {v}" for k, v in faults[name].most_common()) or "-"
        print(f"{name:<18}{tried[name]:>7}{outcomes[name]['data']:>7}"
              f"{outcomes[name]['error']:>7}{sum(faults[name].values()):>8}  {kinds}")
    all_kinds: Counter[str] = Counter()
    for counter in faults.values():
        all_kinds.update(counter)
    print(f"{'all':<18}{sum(tried.values()):>7}"
          f"{sum(o['data'] for o in outcomes.values()):>7}"
          f"{sum(o['error'] for o in outcomes.values()):>7}{total_failed:>8}  "
          + (", ".join(f"{k} {v}" for k, v in all_kinds.most_common()) or "-"))
    print("\nOutputs onto inputs and gzip bombs (each bomb read in a child process):")
    print("\n".join(extra))
    total_failed += sum(line.startswith("  FAIL") for line in extra)
    print("\nSlowest cases (all three readers together):")
    for elapsed, what in slowest:
        print(f"  {elapsed:6.2f} s  {what}")
    for name in names:
        if examples[name]:
            print(f"\n{name} failures:")
            print("\n".join(examples[name]))
    return 1 if total_failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
