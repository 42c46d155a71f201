"""Where batch analysis gets its encoded chunks: read and tokenized here, or in a second process.

Tokenizing costs a sizeable share of predicting (bench/batch.py measures both), and more once
the model is fast, so on a machine with cores to spare a helper process reads and tokenizes
the next chunks while this process predicts.
The queue between them holds two chunks, so memory stays bounded. The helper imports no torch:
it encodes with ``core.text.encoder``, the same numpy-only encoder training uses.

Both sources yield the same events: ``EncodedChunk``, ``UnitFailed``, ``UnitDone``, and a
final ``Finished`` (``cancelled`` when the reader stopped on request).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ReviewDataError
from core.io.readers import ReadCancelled, iter_review_chunks
from core.io.table import ReviewTable
from core.text.encoder import TextEncoder
from core.text.tokenizer import Tokenizer, TokenizerSettings
from core.text.vocabulary import Vocabulary

PARALLEL_MIN_BYTES = 8 * 1024 * 1024  # below this the helper's start-up costs more than it saves
PARALLEL_MIN_CORES = 4  # with 2 cores the model would lose half its threads to the reader
_QUEUE_CHUNKS = 2
_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class EncodingSpec:
    """How the model's training tokenized and cut reviews (from the bundle)."""

    tokenizer: TokenizerSettings
    vocab: Vocabulary
    max_length: int
    truncation: str


@dataclass(frozen=True)
class ReadSpec:
    chunk_size: int
    text_column: str | None
    label_column: str | None
    id_column: str | None


@dataclass
class EncodedChunk:
    """A chunk of reviews and their token ids (concatenated, with lengths: cheap to send)."""

    unit: int
    table: ReviewTable
    ids: np.ndarray
    lengths: np.ndarray
    failed: list[tuple[str, int, str]] = field(default_factory=list)  # rows left out

    def sequences(self) -> list[np.ndarray]:
        return np.split(self.ids, np.cumsum(self.lengths)[:-1]) if len(self.lengths) else []


@dataclass
class UnitFailed:
    unit: int
    path: str
    line: int | None
    message: str


@dataclass
class UnitDone:
    unit: int


@dataclass
class Finished:
    cancelled: bool = False


Event = EncodedChunk | UnitFailed | UnitDone | Finished


class ChunkEncoder:
    """Tokens to ids exactly as training did; a review that fails is reported, not fatal."""

    def __init__(self, spec: EncodingSpec) -> None:
        self.spec = spec
        self.text_encoder = TextEncoder(Tokenizer(spec.tokenizer), spec.vocab, spec.max_length,
                                        spec.truncation)

    def encode_text(self, text: str) -> np.ndarray:
        return self.text_encoder.encode(text)

    def encode(self, unit: int, table: ReviewTable) -> EncodedChunk:
        sequences, kept, failed = [], [], []
        for index, text in enumerate(table.texts):
            try:
                sequences.append(self.encode_text(text))
                kept.append(index)
            except Exception as error:  # noqa: BLE001 - one odd review must not stop a corpus
                failed.append((table.sources[index], table.rows[index],
                               f"cannot tokenize this review ({type(error).__name__}: {error})"))
        if failed:
            skipped = table.skipped
            table = table.subset(kept)
            table.skipped = skipped
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        ids = (np.concatenate(sequences).astype(np.int32) if sequences
               else np.zeros(0, dtype=np.int32))
        return EncodedChunk(unit, table, ids, lengths, failed)


def produce(paths: Sequence[Path], read: ReadSpec, encoding: EncodingSpec,
            cancel: Callable[[], bool]) -> Iterator[Event]:
    """Every event for ``paths`` in order: chunks, per-unit failures and ends, then Finished."""
    encoder = ChunkEncoder(encoding)
    for index, path in enumerate(paths):
        try:
            for table in iter_review_chunks([path], read.chunk_size, read.text_column,
                                            read.label_column, read.id_column, cancel):
                yield encoder.encode(index, table)
        except ReadCancelled:
            yield Finished(cancelled=True)
            return
        except ReviewDataError as error:
            yield UnitFailed(index, error.path or str(path), error.line, error.message)
        yield UnitDone(index)
        if cancel():
            yield Finished(cancelled=True)
            return
    yield Finished()


def _helper(paths: list[Path], read: ReadSpec, encoding: EncodingSpec, out: Any,
            stop: Any) -> None:
    """The helper process: produce events into ``out`` until done or told to stop."""
    try:
        for event in produce(paths, read, encoding, stop.is_set):
            while True:
                try:
                    out.put(event, timeout=_POLL_SECONDS)
                    break
                except queue.Full:
                    if stop.is_set():
                        return
    except BaseException as error:  # noqa: BLE001 - hand anything unexpected to the parent
        with contextlib.suppress(Exception):
            out.put(UnitFailed(-1, "", None, f"the reader process failed: "
                                             f"{type(error).__name__}: {error}"), timeout=5)


class ChunkSource:
    """Iterate events in this process, or from a helper process when ``parallel``."""

    def __init__(self, paths: Sequence[Path], read: ReadSpec, encoding: EncodingSpec,
                 cancel: Callable[[], bool], parallel: bool) -> None:
        self.paths = list(paths)
        self.read = read
        self.encoding = encoding
        self.cancel = cancel
        self.parallel = parallel
        self._process: Any = None
        self._stop: Any = None
        self._queue: Any = None

    def __iter__(self) -> Iterator[Event]:
        if not self.parallel:
            yield from produce(self.paths, self.read, self.encoding, self.cancel)
            return
        context = multiprocessing.get_context("spawn")  # never fork a process with threads
        self._stop = context.Event()
        self._queue = context.Queue(maxsize=_QUEUE_CHUNKS)
        self._process = context.Process(
            target=_helper, args=(self.paths, self.read, self.encoding, self._queue, self._stop),
            daemon=True, name="review-reader")
        self._process.start()
        while True:
            if self.cancel():
                self._stop.set()
            try:
                event = self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not self._process.is_alive():
                    raise ReviewDataError("the reader process stopped unexpectedly (exit code "
                                          f"{self._process.exitcode})") from None
                continue
            if isinstance(event, UnitFailed) and event.unit < 0:
                raise ReviewDataError(event.message)
            yield event
            if isinstance(event, Finished):
                return

    def close(self) -> None:
        """Stop the helper (if any) and wait for it; safe to call twice."""
        process = self._process
        if process is None:
            return
        self._stop.set()
        for _ in range(40):
            try:
                while True:
                    self._queue.get_nowait()  # unblock a helper waiting to put
            except (queue.Empty, OSError, ValueError):
                pass
            process.join(timeout=0.25)
            if not process.is_alive():
                break
        else:
            process.terminate()
            process.join(timeout=5)
        self._queue.close()
        self._process = None


def should_run_in_parallel(requested: bool | None, total_bytes: int) -> bool:
    """Auto: with four or more cores and enough input to repay the helper's start-up.

    On two cores the helper takes one of the model's two threads and adds its own
    interpreter, nltk and numpy to memory; it is offered there (``parallel_read=True``) but
    not chosen by default until bench/batch.py shows it pays on that machine.
    """
    if requested is not None:
        return requested
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return cores >= PARALLEL_MIN_CORES and total_bytes >= PARALLEL_MIN_BYTES
