"""Run a core function in a QThread and turn its plain callbacks into Qt signals.

Core code takes a :class:`JobContext` (or plain callbacks built from it) and never sees Qt.
Signals carry plain data only; slots that receive them run in the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.errors import ReviewDataError
from core.training.events import TrainControl

log = logging.getLogger(__name__)


class JobContext:
    """What a job function gets: progress reporting and the pause/cancel control.

    ``emit`` buffers events and sends them as a list at most ``rate`` times a second, so a
    fast loop (thousands of batches a second on a tiny model) cannot flood the event loop.
    """

    def __init__(self, job: Job, rate: float = 10.0) -> None:
        self._job = job
        self.control = TrainControl()
        self._buffer: list[Any] = []
        self._lock = threading.Lock()
        self._interval = 1.0 / rate
        self._last = 0.0

    @property
    def cancelled(self) -> bool:
        return self.control.cancelled

    def is_cancelled(self) -> bool:
        """For core functions that take a ``cancel: Callable[[], bool]``."""
        return self.control.cancelled

    def emit(self, event: Any) -> None:
        with self._lock:
            self._buffer.append(event)
            now = time.monotonic()
            if now - self._last < self._interval:
                return
            self._last = now
            events, self._buffer = self._buffer, []
        self._job.progress.emit(events)

    def emit_now(self, event: Any) -> None:
        """Flush what is buffered, then send this event at once (epoch ends, phase changes)."""
        self.flush()
        self._job.progress.emit([event])

    def flush(self) -> None:
        with self._lock:
            events, self._buffer = self._buffer, []
            self._last = time.monotonic()
        if events:
            self._job.progress.emit(events)

    def status(self, message: str) -> None:
        self._job.status.emit(message)


class Job(QObject):
    """Runs ``function(context)`` once in its thread; emits finished(result) or failed."""

    progress = Signal(object)  # list of plain events
    status = Signal(str)
    finished = Signal(object)
    failed = Signal(str, str)  # user-facing message, details for the log

    def __init__(self, function: Callable[[JobContext], Any]) -> None:
        super().__init__()
        self._function = function
        self.context = JobContext(self)

    @Slot()
    def run(self) -> None:
        try:
            result = self._function(self.context)
        except ReviewDataError as error:
            self.context.flush()
            self.failed.emit(str(error), "")
        except Exception as error:  # noqa: BLE001 - a failed job must never kill the app
            details = traceback.format_exc()
            log.error("background job failed:\n%s", details)
            self.context.flush()
            self.failed.emit(f"Unexpected error: {type(error).__name__}: {error}", details)
        else:
            self.context.flush()
            self.finished.emit(result)


class _Relay(QObject):
    """Lives in the GUI thread, so job signals reach the callbacks there (queued), whatever
    kind of callable they are (a lambda has no thread of its own)."""

    def __init__(self, parent: QObject | None, callbacks: dict[str, Callable | None]) -> None:
        super().__init__(parent)
        self._callbacks = callbacks

    def _call(self, name: str, *args: Any) -> None:
        callback = self._callbacks.get(name)
        if callback is not None:
            callback(*args)

    @Slot(object)
    def on_progress(self, events: list) -> None:
        self._call("progress", events)

    @Slot(str)
    def on_status(self, message: str) -> None:
        self._call("status", message)

    @Slot(object)
    def on_finished(self, result: Any) -> None:
        self._call("finished", result)

    @Slot(str, str)
    def on_failed(self, message: str, details: str) -> None:
        self._call("failed", message, details)

    @Slot()
    def on_thread_finished(self) -> None:
        self._call("thread_finished")


_LIVE_HANDLES: set[JobHandle] = set()


class JobHandle:
    """The GUI side of a running job: pause, resume, cancel (``gui.panels.base`` stops and
    waits for its thread when a panel closes)."""

    def __init__(self, job: Job, thread: QThread) -> None:
        self.job = job
        self.thread = thread
        self._done = False
        thread.finished.connect(self._mark_done)

    def _mark_done(self) -> None:
        self._done = True

    @property
    def running(self) -> bool:
        return not self._done

    def cancel(self) -> None:
        self.job.context.control.cancel()

    def pause(self) -> None:
        self.job.context.control.pause()

    def resume(self) -> None:
        self.job.context.control.resume()

    @property
    def paused(self) -> bool:
        return self.job.context.control.paused


def start_job(function: Callable[[JobContext], Any], parent: QObject | None = None,
              on_progress: Callable[[list], None] | None = None,
              on_finished: Callable[[Any], None] | None = None,
              on_failed: Callable[[str, str], None] | None = None,
              on_status: Callable[[str], None] | None = None,
              on_ended: Callable[[], None] | None = None) -> JobHandle:
    """Start ``function`` in a new QThread; the callbacks run in the GUI thread.

    ``on_ended`` runs once the thread has stopped, after ``on_finished`` or ``on_failed``.
    It is connected here, before the thread starts: a job that fails at once can end its
    thread before a caller could connect to ``thread.finished`` (a flaky test, once).

    Wait for completion on ``handle.thread.finished`` (not on the job's own finished
    signal followed by ``thread.wait()``, which can deadlock).
    """
    thread = QThread(parent)
    job = Job(function)
    job.moveToThread(thread)

    def release() -> None:
        """In the GUI thread once the worker has ended: the job may now be deleted here.

        The worker thread itself does nothing with Qt after its last signal: deleting or
        moving a QObject there takes Qt's connection locks while holding (or waiting for) the
        GIL, and a GUI thread that is destroying widgets holds those locks while waiting for
        the GIL -- a deadlock, seen in two test runs (once with deleteLater in the worker,
        once with moveToThread from it). So the job is deleted here, after its own thread
        has stopped.
        """
        thread.wait()
        if shiboken6.isValid(job):
            shiboken6.delete(job)  # here and now, not whenever Python's GC gets to it
        _LIVE_HANDLES.discard(handle)
        if on_ended is not None:
            on_ended()

    relay = _Relay(parent, {"progress": on_progress, "status": on_status,
                            "finished": on_finished, "failed": on_failed,
                            "thread_finished": release})
    job.progress.connect(relay.on_progress)
    job.status.connect(relay.on_status)
    job.finished.connect(relay.on_finished)
    job.failed.connect(relay.on_failed)
    # Direct: quit from the worker thread itself, so a GUI thread blocked in wait() (closing
    # the window) is not waiting for a queued quit it can never deliver.
    job.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    job.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.started.connect(job.run)
    handle = JobHandle(job, thread)
    handle.relay = relay  # keep it alive as long as the handle
    # The handle's slot is connected to thread.finished: keep the handle alive until then,
    # even if the caller drops it (a collected receiver crashes PySide on delivery).
    _LIVE_HANDLES.add(handle)

    thread.finished.connect(relay.on_thread_finished)
    thread.start()
    return handle
