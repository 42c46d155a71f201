"""Batch analysis on a Ray cluster (``analyze --engine ray``), with Ray Data.

The pipeline, one Ray Data dataset per run:

- **read in blocks**: a datasource with one read task per input unit (a file, or a folder of
  .txt reviews, as ``core.analyze.analysis.plan_inputs`` plans them). Each task reads its unit
  with the project's own readers (``core.io.readers.iter_review_chunks``: encodings, column
  guessing, skipped rows, faults) and yields one block per chunk of reviews, plus a block for a
  file that stopped part-way and one that closes the unit. Every block carries its row key
  ``(unit, seq)``.
- **map_batches with an actor pool**: each actor loads the model bundle once (from the object
  store), tokenizes a chunk exactly as training did (``core.analyze.reading.ChunkEncoder``) and
  predicts it with ``core.predict.batch_predictor.BatchPredictor`` with the run's options.
- **in input order**: the driver puts the results back in key order (the dataset also keeps
  order) and hands them to the single-process run's code, which writes the rows, the errors
  and the summary. So the output has the same rows, columns and summary as
  ``--engine local``, with probabilities equal within float rounding of different batch
  shapes.

Inputs must be readable at the same path from every node of the cluster (a shared folder); on
a local Ray instance they always are. ``import ray`` happens only here, and only when this
engine is chosen. Cancel is checked while waiting for results; a chunk already on an actor
finishes first.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import queue
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.analyze.analysis import BatchOptions, InputUnit, _Run
from core.analyze.reading import (
    ChunkEncoder,
    EncodedChunk,
    EncodingSpec,
    Event,
    Finished,
    ReadSpec,
    UnitDone,
    UnitFailed,
)
from core.errors import ReviewDataError
from core.io.readers import iter_review_chunks
from core.io.table import ReviewTable
from core.predict.batch_predictor import BatchOutput, BatchPredictor

INSTALL_HINT = 'the Ray engine needs Ray: pip install -e ".[cluster]" (in the app\'s folder)'
_POLL_SECONDS = 0.25
_RESULTS_AHEAD = 2  # results waiting for the driver; the dataset's own backpressure does the rest


def ray_available() -> bool:
    """Whether Ray can be imported here, without importing it."""
    return importlib.util.find_spec("ray") is not None


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ReviewDataError(INSTALL_HINT) from None
    return ray


@dataclass
class PredictedChunk(EncodedChunk):
    """An encoded chunk with the predictions an actor made for it."""

    output: BatchOutput | None = None


# ---------------------------------------------------------------- on the cluster


def _block(unit: int, seq: int, payload: object) -> Any:
    """One row: the key and the Python object, which Ray serialises itself."""
    import pandas as pd

    cell = np.empty(1, dtype=object)
    cell[0] = payload
    return pd.DataFrame({"unit": np.array([unit], dtype=np.int64),
                         "seq": np.array([seq], dtype=np.int64), "payload": cell})


def read_unit(unit: int, path: str, read: ReadSpec) -> Iterator[Any]:
    """The blocks of one input unit: its chunks, a reading failure if any, then its end.

    The same events, in the same order, as ``core.analyze.reading.produce`` for this unit.
    """
    seq = 0
    try:
        for table in iter_review_chunks([Path(path)], read.chunk_size, read.text_column,
                                        read.label_column, read.id_column, lambda: False):
            yield _block(unit, seq, table)
            seq += 1
    except ReviewDataError as error:
        yield _block(unit, seq, UnitFailed(unit, error.path or path, error.line, error.message))
        seq += 1
    yield _block(unit, seq, UnitDone(unit))


def review_datasource(paths: Sequence[Path], read: ReadSpec) -> Any:
    """A Ray Data datasource with one read task per unit (built here so ray loads lazily)."""
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class ReviewUnits(Datasource):
        def estimate_inmemory_data_size(self) -> int | None:
            return sum(_size(p) for p in paths) or None

        def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                           data_context: Any = None) -> list[ReadTask]:
            return [ReadTask(functools.partial(read_unit, index, str(path), read),
                             BlockMetadata(num_rows=None, size_bytes=_size(path) or None,
                                           input_files=[str(path)], exec_stats=None))
                    for index, path in enumerate(paths)]

    return ReviewUnits()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


class ChunkPredictor:
    """One actor of the pool: loads the model once, then tokenizes and predicts chunks."""

    def __init__(self, bundle: list[Any], precision: str, explain: str, batch_size: int,
                 ig_steps: int, threads: int) -> None:
        import ray
        import torch

        torch.set_num_threads(max(1, threads))
        model = ray.get(bundle[0])  # a list, so Ray hands over the reference, not the bundle
        self.encoder = ChunkEncoder(EncodingSpec(model.tokenizer, model.vocab,
                                                 model.config.max_length,
                                                 model.config.truncation))
        self.predictor = BatchPredictor(model.model, precision, explain, batch_size, ig_steps)

    def __call__(self, batch: Any) -> Any:
        payloads = []
        for unit, event in zip(batch["unit"], batch["payload"]):
            if isinstance(event, ReviewTable):
                encoded = self.encoder.encode(int(unit), event)
                output = (self.predictor.run(encoded.sequences()) if encoded.table.texts
                          else None)
                event = (encoded, output)
            payloads.append(event)
        result = np.empty(len(payloads), dtype=object)
        result[:] = payloads
        return batch.assign(payload=result)


# ---------------------------------------------------------------- on the driver


@dataclass
class RaySettings:
    address: str | None = None  # None: start a local instance with this machine's cores
    workers: int = 0  # actors; 0: one per CPU of the cluster
    threads_per_worker: int = 1


def connect(address: str | None, cpus: int = 0) -> bool:
    """Join the cluster at ``address``, or start a local instance; True when started here."""
    ray = _import_ray()
    if ray.is_initialized():
        return False
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    try:
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(num_cpus=cpus or _cores(), include_dashboard=False, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        hint = (" (is `ray start --head` running there, and is the port open?)" if address
                else "")
        raise ReviewDataError(f"cannot start or reach {where}{hint}: "
                              f"{str(error).splitlines()[0] if str(error) else error!r}") from None
    return True


def disconnect() -> None:
    ray = _import_ray()
    if ray.is_initialized():
        ray.shutdown()


def cluster_cpus() -> int:
    ray = _import_ray()
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


class RaySource:
    """The run's events (as ``core.analyze.reading.ChunkSource`` yields them), from Ray Data.

    A pump thread pulls results off the dataset into a short queue; the caller's thread
    restores key order and watches ``cancel`` while it waits.
    """

    def __init__(self, paths: Sequence[Path], read: ReadSpec, bundle: Any, options: Any,
                 settings: RaySettings, cancel: Callable[[], bool]) -> None:
        self.paths = list(paths)
        self.read = read
        self.bundle = bundle
        self.options = options
        self.settings = settings
        self.cancel = cancel
        self.workers = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def dataset(self) -> Any:
        ray = _import_ray()
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        # this app shows its own progress; Ray Data's notices are not for its users (set
        # after ray.data has loaded, which configures its own loggers)
        for name in ("ray.data", "ray.data._internal.execution.streaming_executor"):
            logging.getLogger(name).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="The minimum number of concurrent actors")
        threads = max(1, self.settings.threads_per_worker)
        slots = max(1, cluster_cpus() // threads)  # more actors than CPUs would wait forever
        self.workers = min(self.settings.workers, slots) if self.settings.workers else slots
        options = self.options
        # reading is light next to the model: its tasks take no CPU slot from the actors
        reviews = ray.data.read_datasource(review_datasource(self.paths, self.read),
                                           num_cpus=0, override_num_blocks=len(self.paths))
        return reviews.map_batches(
            ChunkPredictor, batch_size=1, batch_format="pandas",
            compute=ray.data.ActorPoolStrategy(size=self.workers), num_cpus=threads,
            fn_constructor_kwargs={
                "bundle": [ray.put(self.bundle)], "precision": options.precision,
                "explain": options.explain, "batch_size": options.batch_size,
                "ig_steps": options.ig_steps, "threads": threads})

    def _pump(self, dataset: Any, out: queue.Queue) -> None:
        try:
            for batch in dataset.iter_batches(batch_size=1, batch_format="pandas",
                                              prefetch_batches=1):
                for item in zip(batch["unit"], batch["seq"], batch["payload"]):
                    while not self._stop.is_set():
                        try:
                            out.put((int(item[0]), int(item[1]), item[2]),
                                    timeout=_POLL_SECONDS)
                            break
                        except queue.Full:
                            continue
                if self._stop.is_set():
                    return
            out.put(None)
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            if not self._stop.is_set():
                out.put(error)

    def __iter__(self) -> Iterator[Event]:
        results: queue.Queue = queue.Queue(maxsize=_RESULTS_AHEAD)
        self._thread = threading.Thread(target=self._pump, args=(self.dataset(), results),
                                        daemon=True, name="ray-results")
        self._thread.start()
        waiting: dict[tuple[int, int], Any] = {}
        unit, seq = 0, 0
        while unit < len(self.paths):
            if (unit, seq) not in waiting:
                if self.cancel():
                    yield Finished(cancelled=True)
                    return
                try:
                    item = results.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    continue
                if item is None:
                    raise ReviewDataError("the Ray cluster returned fewer results than it "
                                          f"was given (input {unit + 1} of {len(self.paths)})")
                if isinstance(item, BaseException):
                    raise ReviewDataError(f"the Ray cluster failed: {_first_line(item)}")
                waiting[item[0], item[1]] = item[2]
                continue
            event = _event(waiting.pop((unit, seq)))
            seq += 1
            if isinstance(event, UnitDone):
                unit, seq = unit + 1, 0
            yield event
        yield Finished()

    def close(self) -> None:
        """Stop pulling results; the dataset's tasks and actors end with it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


def _event(payload: object) -> Event:
    if isinstance(payload, tuple):
        encoded, output = payload
        return PredictedChunk(encoded.unit, encoded.table, encoded.ids, encoded.lengths,
                              encoded.failed, output)
    return payload  # UnitFailed or UnitDone


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else type(error).__name__)[:300]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class RayRun(_Run):
    """``core.analyze.analysis``'s run with reading, tokenizing and predicting on Ray."""

    def __init__(self, bundle: Any, out: Path, options: BatchOptions, *args: Any) -> None:
        # the cluster reads; no reader process beside the driver
        super().__init__(bundle, out, replace(options, parallel_read=False), *args)
        self.settings = RaySettings(options.ray_address, options.ray_workers)

    def run(self, inputs: Sequence[str | Path]) -> Any:
        started = connect(self.settings.address)
        try:
            return super().run(inputs)
        finally:
            if started:
                disconnect()

    def open_source(self, units: Sequence[InputUnit], read: ReadSpec) -> Any:
        return RaySource([u.path for u in units], read, self.bundle, self.options,
                         self.settings, self.cancel)

    def predict(self, encoded: EncodedChunk, sequences: list[np.ndarray],
                on_batch: Callable[[int], None]) -> BatchOutput:
        output = getattr(encoded, "output", None)
        if output is None:
            raise ReviewDataError("a chunk came back from the Ray cluster without predictions")
        on_batch(len(sequences))
        return output
