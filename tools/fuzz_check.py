"""Judge the reader fuzzing: whatever file a user opens, the result is data or one
ReviewDataError naming the file (and the line when the fault has one), never another
exception or a hang; a file cut part-way keeps every complete review before the cut; a
gzip bomb stops at the read limit in bounded memory; no output ever replaces an input.

Shared by ``tests/core/test_reader_fuzz.py`` and ``bench/fuzz.py``; the inputs come from
``tools.fuzz_cases``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

from core.errors import ReviewDataError
from core.io.readers import FilePreview, iter_review_chunks, preview_file, read_reviews
from core.io.table import ReviewTable
from tools.fuzz_cases import Case, gzip_bomb

ROOT = Path(__file__).resolve().parents[1]
CASE_SECONDS = 20  # far above any honest read of these small files: only a hang reaches it

class CaseTimeout(BaseException):
    """A reader ran past CASE_SECONDS (BaseException: readers may not swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (main thread only; a no-op elsewhere)."""
    try:
        previous = signal.signal(signal.SIGALRM, _raise_timeout)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _raise_timeout(signum, frame) -> None:
    raise CaseTimeout()


class ReaderFault(AssertionError):
    """A broken promise: ``kind`` is 'crash', 'hang', 'unnamed file', 'no line' or 'bad data'."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


# Messages for faults that sit at one place in a line-based file: these must carry the line.
_LINE_FAULTS = ("not valid JSON", "malformed CSV", "quoted field", "is never closed")


def _check_error(error: ReviewDataError, path: Path, call: str) -> None:
    text = str(error)
    named = str(path) in text or (error.path is not None and str(error.path).startswith(
        str(path)))
    if not named or not error.message.strip():
        raise ReaderFault("unnamed file", f"{call}: {text!r}")
    if any(fault in text for fault in _LINE_FAULTS) and error.line is None:
        raise ReaderFault("no line", f"{call}: {text!r}")


def _check_table(table: ReviewTable, call: str) -> None:
    count = len(table.texts)
    aligned = [table.rows, table.sources] + [x for x in (table.labels, table.splits, table.ids)
                                             if x is not None]
    if any(len(values) != count for values in aligned):
        raise ReaderFault("bad data", f"{call}: lists of unequal length")
    if not all(isinstance(t, str) for t in table.texts):
        raise ReaderFault("bad data", f"{call}: a text that is not a string")
    for values in (table.labels, table.splits, table.ids):
        if values is not None and not all(isinstance(v, str) for v in values):
            raise ReaderFault("bad data", f"{call}: a label, split or id that is not a string")


def _check_preview(preview: FilePreview) -> None:
    if not preview.columns or preview.text_column not in preview.columns:
        raise ReaderFault("bad data", f"preview: text column {preview.text_column!r} not in "
                                      f"{preview.columns!r}")
    if any(len(row) != len(preview.columns) for row in preview.rows):
        raise ReaderFault("bad data", "preview: a row of another width than the header")
    if not all(isinstance(cell, str) for row in preview.rows for cell in row):
        raise ReaderFault("bad data", "preview: a cell that is not a string")


# The entry points under test, looked up at call time (a test swaps in broken ones).
READERS: dict[str, Callable] = {"preview_file": preview_file, "read_reviews": read_reviews,
                                "iter_review_chunks": iter_review_chunks}


def _calls(path: Path) -> list[tuple[str, Callable[[], object]]]:
    def chunks() -> list[ReviewTable]:
        return list(READERS["iter_review_chunks"]([path], chunk_size=7))

    return [("preview_file", lambda: READERS["preview_file"](path, 20)),
            ("read_reviews", lambda: READERS["read_reviews"](path)),
            ("iter_review_chunks", chunks)]


def check_file(path: Path, seconds: float = CASE_SECONDS) -> str:
    """Run every reader entry point on ``path``; 'data' or 'error' when each kept its promise.

    Raises ReaderFault otherwise.
    """
    outcomes = []
    for call, run in _calls(path):
        try:
            with time_limit(seconds):
                result = run()
        except ReviewDataError as error:
            _check_error(error, path, call)
            outcomes.append("error")
            continue
        except CaseTimeout:
            raise ReaderFault("hang", f"{call} ran over {seconds} s") from None
        except RecursionError as error:
            raise ReaderFault("crash", f"{call}: RecursionError {error}") from error
        except Exception as error:  # noqa: BLE001 - exactly what the fuzzing hunts
            raise ReaderFault("crash", f"{call}: {type(error).__name__}: {error}") from error
        if isinstance(result, FilePreview):
            _check_preview(result)
        elif isinstance(result, ReviewTable):
            _check_table(result, call)
        else:
            for chunk in result:
                _check_table(chunk, call)
        outcomes.append("data")
    return "data" if outcomes[1] == "data" else "error"


def run_case(case: Case, folder: Path, seconds: float = CASE_SECONDS) -> str:
    """Write ``case`` under ``folder`` and check it; returns 'data' or 'error'."""
    path = case.write(folder)
    try:
        return check_file(path, seconds)
    finally:
        if path.is_dir():
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


# ------------------------------------------------------------------------ truncated final records


def check_truncated_final(case: Case, complete: int, folder: Path,
                          seconds: float = CASE_SECONDS) -> str:
    """The reviews before a cut final record all survive, and the cut is named with its line."""
    path = case.write(folder)
    try:
        with time_limit(seconds):
            table = read_reviews(path)
            chunks: list[ReviewTable] = []
            error: ReviewDataError | None = None
            try:
                chunks.extend(iter_review_chunks([path], chunk_size=7))
            except ReviewDataError as caught:
                error = caught
    except CaseTimeout:
        raise ReaderFault("hang", f"{case.name} ran over {seconds} s") from None
    except ReviewDataError as caught:
        raise ReaderFault("lost reviews", f"{case.name}: read_reviews gave up: {caught}") from None
    finally:
        path.unlink(missing_ok=True)
    if len(table) != complete:
        raise ReaderFault("lost reviews", f"{case.name}: read_reviews kept {len(table)} of "
                                          f"{complete} complete reviews")
    if table.fault is None or "line" not in table.fault:
        raise ReaderFault("no line", f"{case.name}: the cut is not reported with its line")
    streamed = sum(len(chunk) for chunk in chunks)
    if streamed != complete or error is None or error.line is None:
        raise ReaderFault("lost reviews", f"{case.name}: iter_review_chunks gave {streamed} of "
                                          f"{complete}, fault {error!r}")
    return "data"


# ------------------------------------------------------------------------ gzip bombs


def bomb_in_child(path: Path, ceiling_mb: int, read_limit_mb: float = 16,
                  review_limit_mb: float = 8, seconds: float = 120) -> tuple[str, int]:
    """Read ``path`` with read_reviews in a fresh interpreter whose address space is capped at
    ``ceiling_mb``; returns (its one-line outcome, peak resident MB). Linux only."""
    script = textwrap.dedent(f"""
        import resource, sys
        sys.path.insert(0, {str(ROOT)!r})
        limit = {int(ceiling_mb)} * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        from core.errors import ReviewDataError
        from core.io.readers import read_reviews
        try:
            table = read_reviews({str(path)!r}, read_limit_mb={read_limit_mb!r})
            print("read", len(table), "reviews")
        except ReviewDataError as error:
            print("refused:", error)
        except MemoryError:
            print("MemoryError")
        # VmHWM: this program's own peak (ru_maxrss would carry the parent's over the fork)
        with open("/proc/self/status") as status:
            peak = [line for line in status if line.startswith("VmHWM:")][0]
        print(int(peak.split()[1]) // 1024)
    """)
    env = {**os.environ, "REVIEW_ANALYZER_MAX_REVIEW_MB": str(review_limit_mb)}
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=seconds, env=env)
    except subprocess.TimeoutExpired:
        raise ReaderFault("hang", f"reading the bomb {path.name} ran over {seconds} s") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or len(lines) < 2:
        raise ReaderFault("crash", f"{path.name}: exit {done.returncode}: {done.stderr[-500:]}")
    return lines[0], int(lines[-1])


def check_gzip_bomb(folder: Path, shape: str, expanded_mb: int = 400,
                    ceiling_mb: int = 1500, peak_mb: int = 400) -> str:
    """A bomb ends in a clear refusal that names the limit, with peak memory under
    ``peak_mb`` (the child cannot grow past ``ceiling_mb`` whatever happens)."""
    path = folder / {"one_line": "bomb.txt.gz", "many_rows": "bomb.csv.gz",
                     "json_array": "bomb.json.gz"}[shape]
    gzip_bomb(path, shape, expanded_mb)
    try:
        outcome, peak = bomb_in_child(path, ceiling_mb)
    finally:
        path.unlink(missing_ok=True)
    if not outcome.startswith("refused:") or "limit" not in outcome:
        raise ReaderFault("memory", f"{shape} bomb: {outcome[:300]}")
    if peak > peak_mb:
        raise ReaderFault("memory", f"{shape} bomb: peak {peak} MB over {peak_mb} MB")
    return "error"


# ------------------------------------------------------------------------ outputs onto inputs

LINKS = ("same path", "symbolic link", "hard link", "inside the input folder")


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def check_self_output(folder: Path, link: str, bundle: object, data: bytes,
                      suffix: str = ".csv") -> str:
    """``analyze`` with its output on an input (by ``link``) is refused and every file is
    byte for byte unchanged."""
    from core.analyze.analysis import BatchOptions, analyze

    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"in{suffix}"
    source.write_bytes(data)
    inputs: list[Path] = [source]
    if link == "same path":
        out = source
    elif link == "symbolic link":
        out = folder / f"alias{suffix}"
        out.symlink_to(source)
    elif link == "hard link":
        out = folder / f"twin{suffix}"
        os.link(source, out)
    else:
        inputs, out = [folder], folder / f"other{suffix}"
    before = _hashes(folder)
    try:
        analyze(inputs, bundle, out, BatchOptions(threads=1))  # type: ignore[arg-type]
    except ReviewDataError as error:
        if _hashes(folder) != before:
            raise ReaderFault("input changed", f"{link}: refused but files changed") from None
        if "input" not in str(error):
            raise ReaderFault("unclear", f"{link}: {error}") from None
        return "error"
    raise ReaderFault("input changed", f"{link}: analyze wrote its output onto an input")
