"""What every panel repeats, written once: its background jobs and its stand-alone preview.

A panel runs engine work through :meth:`Panel.run_job` (a ``gui.workers`` job in its own
QThread). The callbacks run in the GUI thread and are dropped once the panel has shut down,
so a result that arrives while the window closes touches nothing. :meth:`Panel.shutdown`
(the window closing, or the panel closed on its own) cancels every job the panel started
and waits for their threads; the jobs themselves are deleted by ``gui.workers`` in the GUI
thread once their threads have stopped.

Every panel module ends with a one-line preview entry, in the spirit of Orange's
``WidgetPreview``::

    if __name__ == "__main__":
        preview(ExplainPanel)

``python -m gui.panels.explain`` then opens that panel alone, filled with the sample data by
its :meth:`Panel.load_preview`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QWidget

from gui.workers import JobContext, JobHandle, start_job


class Panel(QWidget):
    """A tab of the window: owns its jobs, reports through ``status_message``."""

    status_message = Signal(str)

    STOP_TIMEOUT_MS = 30000
    PREVIEW_SIZE = (1280, 800)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._handle: JobHandle | None = None
        self._other_jobs: list[JobHandle] = []  # replaced or side jobs, until their end
        self._closed = False

    # -- jobs ------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """True once the panel has shut down: it starts no job and ignores late results."""
        return self._closed

    @property
    def handle(self) -> JobHandle | None:
        """The panel's main job, the last one started without ``side``."""
        return self._handle

    @property
    def running(self) -> bool:
        """The main job's thread has not ended yet."""
        return self._handle is not None and self._handle.running

    def run_job(self, function: Callable[[JobContext], Any], *,
                on_progress: Callable[[list], None] | None = None,
                on_finished: Callable[[Any], None] | None = None,
                on_failed: Callable[[str, str], None] | None = None,
                on_status: Callable[[str], None] | None = None,
                on_ended: Callable[[], None] | None = None,
                side: bool = False) -> JobHandle | None:
        """Run ``function(context)`` in a worker thread; None once the panel is shut down.

        The ``on_*`` callbacks run in the GUI thread while the panel is open; ``on_ended``
        runs when the thread has stopped (after ``on_finished`` or ``on_failed``). A job
        started with ``side=True`` (a parameter count next to a training run) does not
        replace the main job, yet is stopped with the others on shutdown.
        """
        assert self.thread() is QThread.currentThread()
        if self._closed:
            return None
        handle = start_job(function, self, on_progress=self._while_open(on_progress),
                           on_finished=self._while_open(on_finished),
                           on_failed=self._while_open(on_failed),
                           on_status=self._while_open(on_status),
                           on_ended=self._while_open(on_ended))
        self._other_jobs = [h for h in self._other_jobs if h.running]
        if side:
            self._other_jobs.append(handle)
        else:
            if self._handle is not None and self._handle.running:
                self._other_jobs.append(self._handle)
            self._handle = handle
        return handle

    def cancel_job(self) -> None:
        """Ask the main job to stop at its next check (between batches or chunks)."""
        if self._handle is not None and self._handle.running:
            self._handle.cancel()

    def stop_and_wait(self, timeout_ms: int | None = None) -> bool:
        """Cancel every job and block until their threads end; True when all have ended."""
        timeout = self.STOP_TIMEOUT_MS if timeout_ms is None else timeout_ms
        ended = True
        for handle in [*self._other_jobs, self._handle]:
            ended = _stop(handle, timeout) and ended
        return ended

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """End every job and start no new one (the window is closing, or this panel alone)."""
        self._closed = True
        self.stop_starting()
        return self.stop_and_wait(timeout_ms)

    def stop_starting(self) -> None:
        """Drop what would start a job later (timers, queued requests); called on shutdown."""

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Shown alone (preview, tests), the panel owns its threads: end them first."""
        self.shutdown()
        super().closeEvent(event)

    def _while_open(self, callback: Callable[..., None] | None) -> Callable[..., None] | None:
        if callback is None:
            return None

        def call(*args: Any) -> None:
            if not self._closed:
                callback(*args)

        return call

    # -- preview ---------------------------------------------------------------------------
    def load_preview(self, args: list[str]) -> None:
        """Fill the panel with the sample data for ``python -m gui.panels.<name> [args]``."""


def _stop(handle: JobHandle | None, timeout_ms: int) -> bool:
    """Cancel the job, end its thread's event loop, and wait; True when the thread ended.

    ``quit()`` is called here as well as by the job's own last signal: it is thread-safe, and
    a loop told to quit before it starts returns as soon as the job function does.
    """
    if handle is None or handle.thread.isFinished():
        return True
    handle.cancel()
    handle.thread.quit()
    return handle.thread.wait(timeout_ms)


def preview(panel_class: type[Panel], args: list[str] | None = None) -> NoReturn:
    """Open one panel alone, configured as in the app, on the sample data; exits with Qt."""
    import sys

    from PySide6.QtWidgets import QApplication

    from gui.app import configure_application

    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_application(app)
    panel = panel_class()
    panel.setWindowTitle(f"{panel_class.__name__} preview")
    panel.status_message.connect(print)
    panel.resize(*panel.PREVIEW_SIZE)
    panel.load_preview(sys.argv[1:] if args is None else args)
    panel.show()
    sys.exit(app.exec())
