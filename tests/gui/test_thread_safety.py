"""No widget is touched from a worker thread, and closing the window mid-job exits cleanly.

Every job started through ``gui.workers`` runs here under a profiler that records any call
on a widget, layout, graphics item, item model or action made from the worker thread; the
panels' result slots record the thread they run in. A training and a batch analysis go
through the real main window, then the window is closed while each kind of job is running.
"""

from __future__ import annotations

import csv
import random
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import PySide6
import pytest
from PySide6.QtCore import QAbstractItemModel, QStringListModel, QThread
from PySide6.QtGui import QAction, QTextDocument
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsScene, QLayout, QWidget

import gui.workers as workers
from gui.main_window import MainWindow
from gui.panels.batch import BatchPanel
from gui.panels.data import DataPanel
from gui.panels.train import TrainPanel

TIMEOUT = 60000
WIDGETISH = (QWidget, QLayout, QGraphicsItem, QGraphicsScene, QAbstractItemModel, QAction,
             QTextDocument)
GUI_SOURCES = (str(Path(workers.__file__).resolve().parent), "pyqtgraph")


class WorkerWatch:
    """Profiles every worker job and records each touch of a Qt widget-like object."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.touches: list[str] = []
        self.job_threads: list[Any] = []

    def _record(self, what: str) -> None:
        with self.lock:
            if len(self.touches) < 50:
                self.touches.append(f"{what} (thread {threading.current_thread().name})")

    def profile(self, frame, event: str, arg: Any) -> None:
        if event == "c_call":
            owner = getattr(arg, "__self__", None)
            if isinstance(owner, WIDGETISH):
                self._record(f"{type(owner).__name__}.{arg.__name__}()")
        elif event == "call":
            code = frame.f_code
            if (code.co_argcount and code.co_varnames[0] == "self"
                    and any(part in code.co_filename for part in GUI_SOURCES)):
                owner = frame.f_locals.get("self")
                if isinstance(owner, WIDGETISH):
                    self._record(f"{type(owner).__name__}.{code.co_name}() "
                                 f"[{Path(code.co_filename).name}:{frame.f_lineno}]")

    def wrap(self, function: Callable) -> Callable:
        def watched(context: Any) -> Any:
            with self.lock:
                self.job_threads.append(QThread.currentThread())
            sys.setprofile(self.profile)
            try:
                return function(context)
            finally:
                sys.setprofile(None)

        return watched


class SlotLog:
    """Which thread each panel slot ran in."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch, cls: type, names: list[str]) -> None:
        for name in names:
            original = getattr(cls, name)

            def slot(panel, *args, _original=original, _name=f"{cls.__name__}.{name}"):
                self.calls.append((_name, QThread.currentThread()))
                return _original(panel, *args)

            monkeypatch.setattr(cls, name, slot)

    def names(self) -> set[str]:
        return {name for name, _ in self.calls}


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> WorkerWatch:
    recorder = WorkerWatch()
    original_init = workers.Job.__init__

    def init(job: Any, function: Callable) -> None:
        original_init(job, recorder.wrap(function))

    monkeypatch.setattr(workers.Job, "__init__", init)
    return recorder


@pytest.fixture
def slots(monkeypatch: pytest.MonkeyPatch) -> SlotLog:
    log = SlotLog()
    log.install(monkeypatch, TrainPanel, ["_on_progress", "_on_finished", "_on_failed"])
    log.install(monkeypatch, BatchPanel, ["_on_progress", "_on_finished", "_on_failed"])
    return log


@pytest.fixture
def window(qtbot, app_settings, tiny_config) -> MainWindow:
    app_settings.set_last_config(tiny_config)
    widget = MainWindow(app_settings)
    qtbot.addWidget(widget)
    return widget


def review_file(folder: Path, rows: int) -> Path:
    rng = random.Random(0)
    words = ["great", "awful", "room", "film", "lovely", "rude", "clean", "boring", "the"]
    path = folder / "many_reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "stars"])
        for _ in range(rows):
            writer.writerow([" ".join(rng.choices(words, k=12)), rng.choice("12345")])
    return path


def open_sample(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.data_panel.table_ready, timeout=TIMEOUT):
        window.sample_action.trigger()


def train(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.train_panel.training_finished, timeout=TIMEOUT):
        window.train_panel.train_action.trigger()
    qtbot.waitUntil(lambda: window.train_panel.handle.thread.isFinished(), timeout=TIMEOUT)


def batch_panel(window: MainWindow) -> BatchPanel:
    panel = window.panel("Batch")
    assert isinstance(panel, BatchPanel), "the Batch tab is not built"
    return panel


def start_batch(window: MainWindow, inputs: Path, output: Path):
    panel = batch_panel(window)
    panel.add_inputs([inputs])
    panel.set_output(output)
    handle = panel.start()
    assert handle is not None, panel.missing()
    return panel, handle


def test_training_and_batch_touch_widgets_only_from_the_gui_thread(
        qtbot, window, watch, slots, tmp_path):
    gui_thread = QApplication.instance().thread()
    open_sample(qtbot, window)
    train(qtbot, window)
    assert window.bundle is not None
    panel, handle = start_batch(window, review_file(tmp_path, 300), tmp_path / "out.csv")
    with qtbot.waitSignal(panel.analysis_finished, timeout=TIMEOUT):
        pass
    qtbot.waitUntil(handle.thread.isFinished, timeout=TIMEOUT)
    assert (tmp_path / "out.csv").exists()

    assert watch.job_threads, "no job ran through gui.workers"
    assert all(thread is not gui_thread for thread in watch.job_threads)
    assert not watch.touches, "widgets touched from a worker thread:\n" + "\n".join(
        watch.touches)
    assert {"TrainPanel._on_progress", "TrainPanel._on_finished",
            "BatchPanel._on_finished"} <= slots.names()
    wrong = [name for name, thread in slots.calls if thread is not gui_thread]
    assert not wrong, f"slots run outside the GUI thread: {wrong}"


def test_the_watch_catches_a_qt_view_object_used_in_a_worker(qtbot, watch):
    """The check above can fail. (Touching a real widget from a worker would be the very
    undefined behaviour under test, so the job uses an item model it made itself.)"""

    def job(ctx):
        model = QStringListModel(["a", "b"])
        return model.rowCount()

    owner = QWidget()  # as in the panels: the job's thread belongs to a widget
    qtbot.addWidget(owner)
    handle = workers.start_job(job, owner)
    # a handle must outlive its thread's queued 'finished' (gui.workers convention)
    qtbot.waitUntil(lambda: not handle.running, timeout=TIMEOUT)
    assert any("QStringListModel.rowCount" in touch for touch in watch.touches), watch.touches


def test_emitting_a_signal_does_not_steal_a_reference_to_true():
    """PySide6 6.12.0 on Python < 3.12 drops a reference to True on every Signal.emit();
    after some ten thousand emits (progress, status, every pyqtgraph update) the interpreter
    aborts with 'bool_dealloc: deallocating True'. 6.11.3 is clean: pin PySide6-Essentials<6.12.
    """
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        fired = Signal(object)

    emitter = Emitter()
    emitter.fired.connect(lambda value: None)
    before = sys.getrefcount(True)
    for _ in range(100):
        emitter.fired.emit(1)
    assert sys.getrefcount(True) - before > -50, (
        f"PySide6 {PySide6.__version__} loses a reference to True on every emit; "
        "install PySide6-Essentials<6.12 (see pyproject.toml)")


def test_a_bad_file_shows_the_readers_message_in_a_dialog(qtbot, window, dialog_log, tmp_path):
    """The user sees the reader's own error text, naming the file and the line."""
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"text": "fine", "label": "pos"}\n{"text": oops}\n', encoding="utf-8")
    window.open_reviews(str(bad))
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.data_panel.reading, timeout=TIMEOUT)
    message = dialog_log.errors[-1][1]
    assert str(bad) in message and "line 2" in message


# --- closing the window while a job runs ------------------------------------------------------


def close_and_check(qtbot, window: MainWindow, handle) -> None:
    """Close the window now; the job's thread must have ended when close() returns."""
    window.close()
    assert not window.isVisible()
    assert handle.thread.isFinished(), "the worker thread outlived the window"
    qtbot.wait(50)  # let any queued signal from the ended job arrive: it must not crash


def test_closing_the_window_during_training_stops_it_cleanly(qtbot, window, dialog_log, watch):
    open_sample(qtbot, window)
    panel = window.train_panel
    panel.set_config(panel.config().replace(epochs=200))
    window.show()
    panel.train_action.trigger()
    qtbot.waitUntil(lambda: panel.batches_seen > 0, timeout=TIMEOUT)
    close_and_check(qtbot, window, panel.handle)
    assert dialog_log.questions, "closing during training should ask first"
    assert not watch.touches


def test_refusing_to_close_keeps_training(qtbot, window, dialog_log):
    open_sample(qtbot, window)
    panel = window.train_panel
    panel.set_config(panel.config().replace(epochs=200))
    window.show()
    panel.train_action.trigger()
    qtbot.waitUntil(lambda: panel.batches_seen > 0, timeout=TIMEOUT)
    dialog_log.answer = False
    window.close()
    assert window.isVisible() and panel.running
    panel.cancel()
    qtbot.waitUntil(panel.handle.thread.isFinished, timeout=TIMEOUT)


def test_closing_the_window_during_a_batch_run_stops_it_cleanly(qtbot, window, watch, tmp_path):
    open_sample(qtbot, window)
    train(qtbot, window)
    panel, handle = start_batch(window, review_file(tmp_path, 20_000), tmp_path / "out.csv")
    window.show()
    qtbot.waitUntil(lambda: panel.progress.value() > 0 or not panel.running, timeout=TIMEOUT)
    assert panel.running, "the batch finished before the window could be closed mid-run"
    close_and_check(qtbot, window, handle)
    assert not watch.touches


def test_closing_the_window_while_a_file_is_read_stops_it_cleanly(qtbot, window, tmp_path):
    path = review_file(tmp_path, 60_000)
    window.show()
    handle = window.data_panel.open_path(path)
    assert handle is not None
    qtbot.waitUntil(lambda: window.data_panel.preview is not None
                    or handle.thread.isFinished(), timeout=TIMEOUT)
    close_and_check(qtbot, window, handle)


def test_a_panel_closed_alone_ends_its_job(qtbot, tmp_path):
    """Panels previewed on their own (python -m gui.panels.data) own their threads too."""
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.show()
    handle = panel.open_path(review_file(tmp_path, 60_000))
    panel.close()
    assert handle.thread.isFinished()


def test_a_finished_job_is_deleted_in_the_gui_thread_after_its_thread_stops(qtbot,
                                                                             monkeypatch):
    """The worker does nothing with Qt after its last signal (see gui.workers.start_job)."""
    import types

    import shiboken6

    deleted_in: list[QThread] = []

    def delete(obj):
        deleted_in.append(QThread.currentThread())
        shiboken6.delete(obj)

    monkeypatch.setattr(workers, "shiboken6",
                        types.SimpleNamespace(isValid=shiboken6.isValid, delete=delete))
    owner = QWidget()
    qtbot.addWidget(owner)
    results: list[int] = []
    handle = workers.start_job(lambda ctx: 7, owner, on_finished=results.append)
    qtbot.waitUntil(lambda: handle not in workers._LIVE_HANDLES, timeout=TIMEOUT)
    assert results == [7]
    assert handle.thread.isFinished()
    assert not shiboken6.isValid(handle.job)
    assert deleted_in == [QApplication.instance().thread()]
