"""Batch analysis: run a saved model over whole files and folders, streaming, in bounded memory.

``analyze(inputs, bundle, out)`` reads the inputs chunk by chunk (``core.io.readers``), predicts
each chunk in length-sorted batches (``core.predict.batch_predictor``), writes the rows at once
(``core.analyze.writers``) and adds them to a corpus summary (``core.analyze.summary``). Nothing
grows with the input except the output file.

Files written next to ``out`` (names are ``out`` plus a suffix, so two outputs in one folder
never share side files):

- ``<out>.summary.json``: the corpus summary with run facts; ``"partial": true`` when the run
  was cancelled or failed part-way.
- ``<out>.errors.csv``: ``source,row,reason`` for every row or file that was skipped; only
  written when there is at least one.
- ``<out>.partial``: a marker that exists while the output is incomplete. It is created when
  the run starts and removed only when every input has been written, so a cancelled run,
  and even a killed process, leaves it behind. CSV and JSON Lines outputs are complete up to
  the last chunk; a Parquet output is closed properly on cancel (not after a kill).

Memory: batches are cut to an activation budget (``core.predict.batch_predictor``), and on glibc the
heap's mmap threshold is pinned at 4 MB for the process. By default glibc raises that threshold
after each large free, so every batch's activation tensors end up in the heap, fragment it, and
the resident size creeps up over a run; pinned, large tensors go back to the system when freed
(figures in the README, from bench/batch_memory.py).
"""

from __future__ import annotations

import copy
import datetime as _dt
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.analyze.reading import (
    ChunkSource,
    EncodedChunk,
    EncodingSpec,
    Finished,
    ReadSpec,
    UnitDone,
    UnitFailed,
    should_run_in_parallel,
)
from core.analyze.summary import CorpusSummary, save_summary
from core.analyze.writers import (
    Column,
    ErrorLog,
    ResultWriter,
    open_result_writer,
    output_format,
    probability_column,
    result_columns,
    rows_as_text,
)
from core.bundle import ModelBundle
from core.errors import ReviewDataError
from core.io.folders import find_table_files, scan_txt_layout
from core.io.formats import SUPPORTED_SUFFIXES
from core.io.output_paths import check_outputs, display_path, output_error
from core.io.table import ReviewTable
from core.model.device import batch_device, configure_threads
from core.predict.batch_predictor import IG_STEPS, BatchOutput, BatchPredictor, top_words

ENGINES = ("local", "ray")


@dataclass
class BatchOptions:
    """How to analyse; the defaults suit a first run on any machine."""

    explain: str = "fast"  # fast (gradient x input) | ig (integrated gradients) | none
    top_k: int = 5
    batch_size: int = 512  # at most; long reviews and explanations get smaller batches
    precision: str = "auto"  # auto | fp32 | int8 | bf16 (see core.predict.batch_predictor)
    device: str = "auto"  # auto (a GPU when there is one) | cuda | cpu
    text_column: str | None = None  # None: guessed per file
    id_column: str | None = None  # None: guessed; '' for none
    label_column: str | None = None  # None: guessed; '' for none (only scores agreement)
    include_text: bool = True
    chunk_size: int = 4096
    threads: int = 0  # 0: every core this process may use
    parallel_read: bool | None = None  # read+tokenize in a helper process; None: when it pays
    ig_steps: int = IG_STEPS
    preview_rows: int = 100
    engine: str = "local"  # local (this process) | ray (core.analyze.ray_engine)
    ray_address: str | None = None  # None: a local Ray instance with this machine's cores
    ray_workers: int = 0  # model actors on the Ray cluster; 0: one per CPU


@dataclass
class AnalysisProgress:
    """Sent after every chunk; ``fraction`` and ``eta`` are None while unknown."""

    reviews: int
    skipped: int
    errors: int
    fraction: float | None
    reviews_per_second: float
    elapsed: float
    eta: float | None
    current: str


@dataclass
class PreviewRows:
    """The first rows of the output as text, sent once, for a results table."""

    columns: list[str]
    rows: list[list[str]]


@dataclass
class SidePaths:
    summary: Path
    errors: Path
    partial: Path


def side_paths(out: str | Path) -> SidePaths:
    target = Path(out)
    return SidePaths(summary=target.with_name(target.name + ".summary.json"),
                     errors=target.with_name(target.name + ".errors.csv"),
                     partial=target.with_name(target.name + ".partial"))


def check_batch_output(inputs: Sequence[str | Path], out: str | Path) -> None:
    """Raise ReviewDataError unless ``out`` and its side files may be written (none is an
    input or read by an input folder, the folder takes files): before any work starts."""
    paths = side_paths(out)
    check_outputs([Path(out), paths.summary, paths.errors, paths.partial], inputs)


@dataclass
class BatchResult:
    output: Path
    summary_path: Path
    errors_path: Path | None
    summary: dict[str, Any]
    reviews: int
    skipped: int
    seconds: float
    partial: bool
    precision: str
    notes: list[str] = field(default_factory=list)

    @property
    def reviews_per_second(self) -> float:
        return self.reviews / self.seconds if self.seconds > 0 else 0.0


# ---------------------------------------------------------------- inputs


@dataclass
class InputUnit:
    """One thing handed to the reader: a file, or a folder of .txt reviews."""

    path: Path
    given: str  # the input as the user named it (summary key for folders' files too)
    size: int  # bytes on disk, the weight of this unit in the progress fraction
    rows_hint: int | None  # rows known up front (Parquet metadata, .txt count)
    compressed: bool


def _parquet_rows(path: Path) -> int | None:
    try:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(str(path)).metadata.num_rows)
    except Exception:  # noqa: BLE001 - only a progress hint; the reader reports real errors
        return None


def _file_unit(path: Path, given: str) -> InputUnit:
    size = path.stat().st_size
    name = path.name.lower()
    rows = _parquet_rows(path) if name.endswith(".parquet") else None
    return InputUnit(path, given, size, rows, name.endswith(".gz"))


class _Pending:
    """Reasons found while planning, kept until the output may be touched (then logged)."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, int | None, str]] = []

    def add(self, source: str, row: int | None, reason: str) -> None:
        self.entries.append((source, row, reason))


def plan_inputs(inputs: Sequence[str | Path], exclude: Sequence[Path] = (),
                errors: ErrorLog | _Pending | None = None) -> list[InputUnit]:
    """Files as given; a folder's table files one by one (so one bad file does not stop the
    rest) or, for a folder of .txt reviews, the folder. ``exclude`` keeps the run's own
    output files out. Missing inputs go to ``errors`` (or raise without one)."""
    skip = {p.resolve() for p in exclude}
    units: list[InputUnit] = []
    for given in inputs:
        path = Path(given)
        if not path.exists():
            message = "no such file or folder; check the path"
            if errors is None:
                raise ReviewDataError(message, path=str(path))
            errors.add(str(path), None, message)
            continue
        if path.resolve() in skip:
            raise ReviewDataError("this input is also the output; pick another output file",
                                  path=str(path))
        if not path.is_dir():
            units.append(_file_unit(path, str(given)))
            continue
        tables = [p for p in find_table_files(path) if p.resolve() not in skip]
        txt = scan_txt_layout(path).files
        if txt and tables:
            if any(s.is_relative_to(path.resolve()) for s in skip):
                raise ReviewDataError("the output is inside this input folder, which holds "
                                      "both .txt and table files; write it to another folder",
                                      path=str(path))
            size = sum(p.stat().st_size for p in tables) + sum(p.stat().st_size for p in txt)
            units.append(InputUnit(path, str(given), size, None, False))
        elif txt:
            units.append(InputUnit(path, str(given), sum(p.stat().st_size for p in txt),
                                   len(txt), False))
        elif tables:
            units.extend(_file_unit(p, str(p)) for p in tables)
        else:
            message = ("no review files in this folder (looked for "
                       f"{', '.join(SUPPORTED_SUFFIXES)})")
            if errors is None:
                raise ReviewDataError(message, path=str(path))
            errors.add(str(path), None, message)
    return units


class _ProgressEstimate:
    """Share of the input done: whole units by bytes, the current one by rows or text bytes."""

    def __init__(self, units: Sequence[InputUnit]) -> None:
        self.total = sum(max(1, u.size) for u in units)
        self.done = 0
        self.unit: InputUnit | None = None
        self.rows = 0
        self.text_bytes = 0
        self.read_share: float | None = None  # the reader's own share of a file (bytes read)

    def start(self, unit: InputUnit) -> None:
        self.unit, self.rows, self.text_bytes, self.read_share = unit, 0, 0, None

    def finish(self) -> None:
        if self.unit is not None:
            self.done += max(1, self.unit.size)
        self.unit = None

    def add(self, chunk: ReviewTable, extra_rows: int = 0) -> None:
        self.rows += len(chunk.texts) + len(chunk.skipped) + extra_rows
        self.text_bytes += sum(len(t) for t in chunk.texts)
        if chunk.read_fraction is not None and self.unit is not None and self.unit.path.is_file():
            self.read_share = chunk.read_fraction

    def fraction(self) -> float | None:
        if self.total <= 0:
            return None
        within = 0.0
        unit = self.unit
        if unit is not None:
            if unit.rows_hint:
                share = self.rows / unit.rows_hint
            elif self.read_share is not None:
                share = self.read_share  # compressed bytes read, for a .gz file
            else:
                share = self.text_bytes / max(1, unit.size)
            within = min(share, 0.99) * max(1, unit.size)
        return min(1.0, (self.done + within) / self.total)


# ---------------------------------------------------------------- the run


class _Run:
    """One analysis; the public entry is :func:`analyze`."""

    def __init__(self, bundle: ModelBundle, out: Path, options: BatchOptions,
                 on_progress: Callable[[AnalysisProgress], None] | None,
                 on_preview: Callable[[PreviewRows], None] | None,
                 cancel: Callable[[], bool] | None) -> None:
        self.bundle = bundle
        self.out = out
        self.options = options
        self.on_progress = on_progress
        self.on_preview = on_preview
        self.cancel = cancel or (lambda: False)
        self.classes = list(bundle.classes)
        self.encoding = EncodingSpec(bundle.tokenizer, bundle.vocab, bundle.config.max_length,
                                     bundle.config.truncation)
        self.parallel = False
        self.threads = 0
        model = bundle.model
        if batch_device(options.device).type == "cuda":  # a copy: the bundle stays as it was
            model = copy.deepcopy(model).to(batch_device(options.device))
        self.predictor = BatchPredictor(model, options.precision, options.explain,
                                        options.batch_size, options.ig_steps)
        self.columns: list[Column] = result_columns(self.classes, options.include_text,
                                                    options.explain != "none")
        self.summary = CorpusSummary(self.classes, bundle.scheme)
        self.labelled = 0
        self.label_columns: set[str] = set()
        self.agree = 0
        self.started = time.perf_counter()
        self.preview_sent = False
        self.stopped: list[str] = []  # files whose reading stopped part-way, with the line

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def report(self, estimate: _ProgressEstimate, errors: ErrorLog, current: str,
               in_chunk: tuple[float | None, float | None, int, int] | None = None) -> None:
        """Progress so far; ``in_chunk`` = (fraction before the chunk, after it, reviews of it
        done, its size), so a slow chunk still moves the bar batch by batch."""
        if self.on_progress is None:
            return
        elapsed = self.elapsed()
        reviews = self.summary.rows
        fraction = estimate.fraction()
        if in_chunk is not None:
            before, after, done, size = in_chunk
            reviews += done
            if before is not None and after is not None and size:
                fraction = after if done >= size else min(
                    after, before + (after - before) * done / size)
        eta = None
        if fraction and fraction > 0.001 and elapsed > 0:
            eta = elapsed * (1 - fraction) / fraction
        self.on_progress(AnalysisProgress(
            reviews=reviews, skipped=self.summary.skipped, errors=errors.count,
            fraction=fraction, reviews_per_second=reviews / elapsed if elapsed > 0 else 0.0,
            elapsed=elapsed, eta=eta, current=current))

    def process(self, unit: InputUnit, encoded: EncodedChunk, writer: ResultWriter,
                errors: ErrorLog, estimate: _ProgressEstimate) -> bool:
        """Predict, write and summarise one chunk; False when cancelled part-way."""
        chunk = encoded.table
        before = estimate.fraction()
        estimate.add(chunk, len(encoded.failed))
        after, done = estimate.fraction(), 0
        for skipped in chunk.skipped:
            errors.add(skipped.source, skipped.row, skipped.reason)
        for source, row, reason in encoded.failed:
            errors.add(source, row, reason)
        if chunk.skipped or encoded.failed:
            self.summary.add_skipped(unit.given, len(chunk.skipped) + len(encoded.failed))
        if not chunk.texts:
            return True
        sequences = encoded.sequences()

        def on_batch(count: int) -> None:
            nonlocal done
            done += count
            self.report(estimate, errors, unit.given, (before, after, done, len(sequences)))

        output = self.predict(encoded, sequences, on_batch)
        if output.completed < len(sequences):
            return False
        probabilities = output.probabilities
        predicted = probabilities.argmax(1)
        data: dict[str, Any] = {
            "source": chunk.sources, "row": chunk.rows,
            "id": chunk.ids if chunk.ids is not None else [None] * len(chunk.texts),
            "predicted": [self.classes[i] for i in predicted],
            "confidence": probabilities.max(1).tolist(),
        }
        if self.options.include_text:
            data["text"] = chunk.texts
        for index, name in enumerate(self.classes):
            data[probability_column(name)] = probabilities[:, index].tolist()
        toward = against = None
        if output.scores is not None:
            words = top_words(sequences, output.scores, self.options.top_k, self.bundle.vocab)
            toward, against = words.toward, words.against
            data["top_toward"], data["top_against"] = toward, against
        writer.write(data)
        self.summary.add(unit.given, probabilities, chunk.texts, chunk.sources, chunk.rows,
                         chunk.ids, toward, against)
        self._score(chunk, predicted)
        if not self.preview_sent and self.on_preview is not None:
            self.preview_sent = True
            names = [c.name for c in self.columns]
            self.on_preview(PreviewRows(names, rows_as_text(self.columns, data,
                                                            self.options.preview_rows)))
        return True

    def predict(self, encoded: EncodedChunk, sequences: list[np.ndarray],
                on_batch: Callable[[int], None]) -> BatchOutput:
        """Probabilities (and scores) of one chunk; the Ray engine's arrive with the chunk."""
        return self.predictor.run(sequences, self.cancel, on_batch)

    def open_source(self, units: Sequence[InputUnit], read: ReadSpec) -> ChunkSource:
        """Where the chunks come from (read here; the Ray engine reads on its cluster)."""
        return ChunkSource([u.path for u in units], read, self.encoding, self.cancel,
                           self.parallel)

    def _score(self, chunk: ReviewTable, predicted: np.ndarray) -> None:
        """Agreement with a label column the model's scheme understands, when there is one."""
        if chunk.labels is None:
            return
        self.label_columns.add(chunk.label_column or "")
        truth = self.bundle.scheme.encode_all(chunk.labels)
        for expected, got in zip(truth, predicted.tolist()):
            if expected is not None:
                self.labelled += 1
                self.agree += int(expected == got)

    def run(self, inputs: Sequence[str | Path]) -> tuple[SidePaths, ErrorLog, bool]:
        paths = side_paths(self.out)
        missing = _Pending()
        units = plan_inputs(inputs, [self.out, paths.summary, paths.errors, paths.partial],
                            missing)
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            for stale in (paths.summary, paths.errors, paths.partial):
                stale.unlink(missing_ok=True)
        except OSError as error:
            raise output_error(error, self.out) from None
        errors = ErrorLog(paths.errors)
        for source, row, reason in missing.entries:
            errors.add(source, row, reason)
        paths.partial.write_text(f"Batch analysis started {_now()} and not finished: "
                                 f"{display_path(self.out.name)} holds only part of the "
                                 "input.\n", encoding="utf-8")
        self.parallel = should_run_in_parallel(self.options.parallel_read,
                                               sum(u.size for u in units))
        threads = self.options.threads
        if self.parallel and threads <= 0:
            threads = max(1, _cores() - 1)  # one core reads and tokenizes
        self.threads = configure_threads(threads)
        writer = open_result_writer(self.out, self.columns)
        estimate = _ProgressEstimate(units)
        finished = False
        try:
            finished = self._read_all(units, writer, errors, estimate)
        finally:
            writer.close()
            errors.close()
        return paths, errors, finished

    def _read_all(self, units: Sequence[InputUnit], writer: ResultWriter, errors: ErrorLog,
                  estimate: _ProgressEstimate) -> bool:
        options = self.options
        read = ReadSpec(options.chunk_size, options.text_column, options.label_column,
                        options.id_column)
        source = self.open_source(units, read)
        current: int | None = None
        try:
            for event in source:
                if isinstance(event, Finished):
                    return not event.cancelled and not self.cancel()
                if self.cancel():
                    return False
                unit = units[event.unit]
                if event.unit != current:
                    estimate.start(unit)
                    current = event.unit
                if isinstance(event, EncodedChunk):
                    if not self.process(unit, event, writer, errors, estimate):
                        return False
                    errors.flush()
                elif isinstance(event, UnitFailed):
                    errors.add(event.path or str(unit.path), event.line, event.message)
                    self.summary.add_file_error(unit.given)
                    if event.line is not None and len(self.stopped) < _STOPPED_NOTES:
                        self.stopped.append(
                            f"{display_path(event.path or unit.path)} line {event.line}: "
                            f"{event.message} (the reviews before it were analysed)")
                elif isinstance(event, UnitDone):
                    estimate.finish()
                    current = None
                self.report(estimate, errors, unit.given)
        finally:
            source.close()
        return not self.cancel()


_STOPPED_NOTES = 10


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


_HEAP_PINNED = False
_M_MMAP_THRESHOLD = -3


def limit_heap_growth(threshold: int = 4 * 1024 * 1024) -> bool:
    """Pin glibc's mmap threshold (see the module notes); True when it was set."""
    global _HEAP_PINNED
    if _HEAP_PINNED:
        return True
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        _HEAP_PINNED = bool(libc.mallopt(_M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to pin
        _HEAP_PINNED = False
    return _HEAP_PINNED


def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def analyze(inputs: Sequence[str | Path], bundle: ModelBundle, out: str | Path,
            options: BatchOptions | None = None,
            on_progress: Callable[[AnalysisProgress], None] | None = None,
            on_preview: Callable[[PreviewRows], None] | None = None,
            cancel: Callable[[], bool] | None = None,
            model_path: str | Path | None = None) -> BatchResult:
    """Analyse every review in ``inputs`` (files and folders) and write ``out``.

    Raises ReviewDataError when the output cannot be written or when no review at all
    could be read (the reasons are then in ``<out>.errors.csv``). A cancel is not an error:
    the result says ``partial`` and so does the summary.
    """
    options = options or BatchOptions()
    target = Path(out)
    output_format(target)
    if not inputs:
        raise ReviewDataError("no inputs: pick at least one review file or folder")
    if options.top_k < 0 or options.batch_size < 1 or options.chunk_size < 1:
        raise ReviewDataError("top-k must be 0 or more, batch and chunk sizes at least 1")
    paths = side_paths(target)
    check_batch_output(inputs, target)
    limit_heap_growth()
    if options.engine not in ENGINES:
        raise ReviewDataError(f"engine must be one of {', '.join(ENGINES)}")
    if options.ray_address and options.engine != "ray":
        raise ReviewDataError("a Ray address is only used by the Ray engine (--engine ray)")
    run_class = _Run
    if options.engine == "ray":  # imports ray: only when chosen
        from core.analyze.ray_engine import RayRun

        run_class = RayRun
    run = run_class(bundle, target, options, on_progress, on_preview, cancel)
    started_at = _now()
    failure: BaseException | None = None
    errors: ErrorLog | None = None
    finished = False
    threads_before = torch.get_num_threads()
    try:
        paths, errors, finished = run.run(inputs)
    except BaseException as error:  # the summary still says what was done, then re-raise
        failure = error
    finally:
        torch.set_num_threads(threads_before)  # a window may train next: give its setting back
    seconds = run.elapsed()
    partial = not finished
    notes = ([run.predictor.note] if run.predictor.note else []) + run.stopped
    facts: dict[str, Any] = {
        "partial": partial,
        "cancelled": partial and failure is None,
        "output": str(target), "format": output_format(target),
        "model": str(model_path) if model_path else None,
        "inputs": [str(p) for p in inputs],
        "explain": options.explain, "top_k": options.top_k, "engine": options.engine,
        "precision": run.predictor.precision, "requested_precision": options.precision,
        "notes": notes, "threads": run.threads, "parallel_read": run.parallel,
        "batch_size": options.batch_size,
        "started": started_at, "seconds": round(seconds, 3),
        "reviews_per_second": round(run.summary.rows / seconds, 1) if seconds > 0 else 0.0,
        "errors_file": str(paths.errors) if errors is not None and errors.count else None,
        "error_count": errors.count if errors is not None else 0,
    }
    if run.predictor.bf16_check is not None:
        compared, change = run.predictor.bf16_check
        facts["bf16_check"] = {"reviews": compared, "largest_change": round(change, 6),
                               "speedup": round(run.predictor.bf16_speedup or 0.0, 3)}
    if run.labelled:
        facts["labelled"] = {"columns": sorted(run.label_columns), "reviews": run.labelled,
                             "accuracy": round(run.agree / run.labelled, 6)}
    if failure is not None:
        facts["failure"] = str(failure) or type(failure).__name__
    document = run.summary.to_dict(**facts)
    if run.summary.rows == 0 and failure is None and finished:
        _discard_empty_output(target, paths)
        first = errors.first if errors is not None else None
        detail = first[2] if first else ""
        if first and detail.startswith(f"{first[0]}: "):  # the file is named once, not twice
            detail = detail[len(first[0]) + 2:]
        reason = f"; the first: {first[0]}: {detail}" if first else ""
        where = f" (all reasons in {paths.errors})" if errors is not None and errors.count else ""
        raise ReviewDataError(f"no review could be read from the inputs{reason}{where}")
    if target.exists() or failure is None:
        save_summary(document, paths.summary)
    if finished:
        paths.partial.unlink(missing_ok=True)
    elif paths.partial.exists():
        paths.partial.write_text(
            f"Batch analysis started {started_at} stopped after {run.summary.rows} reviews "
            f"({'cancelled' if failure is None else 'failed: ' + str(failure)}). "
            f"{display_path(target.name)} holds only those; see "
            f"{display_path(paths.summary.name)}.\n", encoding="utf-8", errors="backslashreplace")
    if failure is not None:
        raise failure
    return BatchResult(output=target, summary_path=paths.summary,
                       errors_path=paths.errors if errors is not None and errors.count else None,
                       summary=document, reviews=run.summary.rows, skipped=run.summary.skipped,
                       seconds=seconds, partial=partial, precision=run.predictor.precision,
                       notes=notes)


def _discard_empty_output(target: Path, paths: SidePaths) -> None:
    """Nothing was read: leave no empty result that looks like an answer (errors stay)."""
    target.unlink(missing_ok=True)
    paths.partial.unlink(missing_ok=True)
    paths.summary.unlink(missing_ok=True)


def load_model(path: str | Path) -> ModelBundle:
    """The bundle at ``path`` (a .ramodel file or a folder holding model.ramodel)."""
    return ModelBundle.load(path)


__all__ = ["AnalysisProgress", "BatchOptions", "BatchResult", "PreviewRows", "analyze",
           "check_batch_output", "load_model", "plan_inputs", "side_paths"]
