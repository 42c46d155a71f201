"""Start the desktop app: one QApplication, its look, logging to a file, and a safety net.

An uncaught exception in a slot would otherwise print to a console nobody sees (or abort the
process): the excepthook here logs the traceback to the log file and shows a dialog, and the
window keeps working.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEvent, QObject, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QStyleFactory, QWidget

import resources
from gui.platform_check import window_problem
from gui.settings import APPLICATION, ORGANIZATION

log = logging.getLogger("review_analyzer")

LOG_NAME = "review-analyzer.log"
THEME_ENV = "REVIEW_ANALYZER_THEME"  # "light" or "dark" overrides the system scheme


def log_folder() -> Path:
    """``<AppDataLocation>/logs``; needs the application name set first."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".review-analyzer") / "logs"


def setup_logging(folder: Path | None = None, level: int = logging.INFO) -> Path:
    """Log to a rotating file (kept small) and to stderr; returns the log file path."""
    folder = folder or log_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_review_analyzer", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3,
                                       encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    file_handler._review_analyzer = True  # type: ignore[attr-defined]
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console._review_analyzer = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    root.addHandler(console)
    root.setLevel(level)
    return path


class ExceptionHook:
    """``sys.excepthook`` replacement: log the traceback, tell the user, keep running.

    ``show`` is the dialog call, replaceable in tests. Exceptions raised in other threads
    are logged there and the dialog is shown from the GUI thread.
    """

    def __init__(self, log_path: Path | None = None) -> None:
        self.log_path = log_path
        self.show = self._show_dialog
        self._showing = False

    def __call__(self, kind: type[BaseException], error: BaseException,
                 trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        details = "".join(traceback.format_exception(kind, error, trace))
        log.error("uncaught exception:\n%s", details)
        message = f"{kind.__name__}: {error}"
        app = QApplication.instance()
        if app is None:
            return
        if threading.current_thread() is threading.main_thread():
            self.show(message, details)
        else:
            QTimer.singleShot(0, app, lambda: self.show(message, details))

    def thread_hook(self, args: threading.ExceptHookArgs) -> None:
        self(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)

    def _show_dialog(self, message: str, details: str) -> None:
        if self._showing:  # one dialog at a time; the rest are in the log
            return
        self._showing = True
        try:
            box = QMessageBox(QMessageBox.Icon.Critical, "Something went wrong",
                              "An unexpected error happened. The window keeps working; "
                              "you may want to save your model.",
                              QMessageBox.StandardButton.Ok, QApplication.activeWindow())
            where = f"\n\nDetails were written to {self.log_path}" if self.log_path else ""
            box.setInformativeText(message + where)
            box.setDetailedText(details)
            box.exec()
        finally:
            self._showing = False


def dark_palette() -> QPalette:
    """A dark Fusion palette, for platforms that report a dark scheme but give no palette."""
    palette = QPalette()
    base, window, text = QColor(30, 32, 34), QColor(45, 47, 50), QColor(230, 230, 230)
    disabled = QColor(130, 130, 130)
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor(40, 42, 45),
        QPalette.ColorRole.ToolTipBase: QColor(60, 62, 66),
        QPalette.ColorRole.ToolTipText: text, QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window, QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Link: QColor(90, 190, 205),
        QPalette.ColorRole.Highlight: QColor(resources.ACCENT_COLOR),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Light: QColor(70, 72, 76),
        QPalette.ColorRole.Midlight: QColor(58, 60, 64),
        QPalette.ColorRole.Mid: QColor(90, 92, 96), QPalette.ColorRole.Dark: QColor(20, 20, 22),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
    }
    for role, color in roles.items():
        palette.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def wants_dark(app: QApplication) -> bool:
    """Dark when asked for in the environment, else when the system scheme is dark."""
    forced = os.environ.get(THEME_ENV, "").strip().lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication) -> None:
    """Fusion with the system's light or dark palette, plus the app stylesheet."""
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    if wants_dark(app):
        app.setPalette(dark_palette())
    else:
        app.setPalette(app.style().standardPalette())
    app.setStyleSheet(resources.load_stylesheet())


GIL_SWITCH_INTERVAL = 0.0001
"""Seconds a busy thread may keep the GIL while another asks for it (Python's default: 5 ms).

Painting calls back into Python hundreds of times (pyqtgraph items, item models); each
call needs the GIL, and while the training thread runs Python (tokenizing, the batch loop)
each one could wait the full interval. A shorter interval shortens the window's stalls
during a run (figures in the README, from ``bench/ui_responsiveness.py``). A thread that
nobody waits for is not interrupted, so training speed is unchanged when the window is idle.
"""


def collect_garbage_in_gui_thread(app: QApplication) -> None:
    """Run the cyclic garbage collector from a GUI-thread timer only, never automatically.

    An automatic collection runs in whichever thread happens to allocate: in a worker it
    can delete a Qt object that belongs to the GUI thread, which crashes Qt (seen in the
    widget tests). pyqtgraph ships the standard remedy: disable automatic collection and
    check the generation thresholds once a second from a QTimer.
    """
    from pyqtgraph.util.garbage_collector import GarbageCollector

    if getattr(app, "_garbage_collector", None) is None:
        app._garbage_collector = GarbageCollector(interval=1.0)  # type: ignore[attr-defined]


def configure_application(app: QApplication) -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    collect_garbage_in_gui_thread(app)
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName("Review Analyzer")
    app.setWindowIcon(QIcon(str(resources.icon_path("app"))))
    apply_theme(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))


def warm_up_engine() -> None:
    """Pay torch's one-time lazy imports now rather than during the first training run.

    Creating the first optimiser imports ``torch._dynamo``, which takes seconds; done in the
    worker at the start of a run, that import competes with the GUI thread for the GIL
    and shows up as the longest stall of the run. A background thread at start-up, while
    the user picks a file, takes it out of the way.
    """
    import torch

    from core.model.classifier import RecurrentClassifier

    model = RecurrentClassifier(16, 2, cell="gru", embedding_dim=4, hidden_size=4)
    torch.optim.Adam(model.parameters())
    freeze_startup_objects()


def freeze_startup_objects() -> None:
    """Exclude the objects of the loaded libraries from garbage collection.

    A full collection walks every tracked object while holding the GIL, so an automatic one
    during training froze the window for as long as it took. Frozen objects are
    never walked again; collections then only look at what the app creates later.
    """
    gc.freeze()


def start_warm_up() -> threading.Thread:
    thread = threading.Thread(target=warm_up_engine, name="warm-up", daemon=True)
    thread.start()
    return thread


def pyside_leaks_none() -> bool:
    """True for the PySide6 build that drops a reference to None on every void call.

    PySide6 6.12.0 on Python < 3.12 (where None is not immortal) does this; after about as
    many calls as None has references (~10^5, minutes of training with the window open)
    Python aborts with "deallocating None". 6.11.3 is fine.
    """
    if sys.version_info >= (3, 12):
        return False
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(100):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 50


def warn_about_pyside() -> None:
    if pyside_leaks_none():
        import PySide6

        message = (f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} has a "
                   "reference-counting bug that makes the app crash after a few minutes of "
                   "use. Install PySide6-Essentials 6.11.3 "
                   "(pip install 'PySide6-Essentials==6.11.3').")
        log.error(message)
        QMessageBox.warning(None, "Review Analyzer: unsupported PySide6", message)


STARTUP_PROBE_ENV = "REVIEW_ANALYZER_STARTUP_PROBE"


class FirstPaint(QObject):
    """Calls ``callbacks`` once, right after the watched window first paints itself."""

    def __init__(self, window: QWidget, callbacks: list[Callable[[], object]]) -> None:
        super().__init__(window)
        self.callbacks = callbacks
        self._done = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if not self._done and event.type() == QEvent.Type.Paint:
            self._done = True
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._run)  # after this paint has reached the screen
        return False

    def _run(self) -> None:
        for callback in self.callbacks:
            callback()


def run_app(argv: list[str]) -> int:
    """Open the main window; a path on the command line is opened as reviews or a model."""
    problem = None if QApplication.instance() else window_problem()
    if problem:  # one clear line instead of Qt's abort (exit code 134)
        print(problem, file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    configure_application(app)
    log_path = setup_logging()
    hook = ExceptionHook(log_path)
    sys.excepthook = hook
    threading.excepthook = hook.thread_hook
    log.info("Review Analyzer starting (log: %s)", log_path)
    warn_about_pyside()

    from gui.main_window import MainWindow  # after the app exists: panels import pyqtgraph

    window = MainWindow()
    window.log_path = log_path
    app.aboutToQuit.connect(window.shutdown)  # a quit that skips closeEvent (logout)
    # torch's imports and the engine warm-up wait for the first paint: started earlier, the
    # warm-up thread holds the GIL while the window tries to draw itself (issue 16, item 15)
    first_paint = FirstPaint(window, [start_warm_up])
    if os.environ.get(STARTUP_PROBE_ENV):  # bench/cold_start.py: report the paint, then quit
        first_paint.callbacks = [lambda: print(f"first-paint {time.time():.6f}", flush=True),
                                 lambda: QTimer.singleShot(0, app.quit)]
    window.show()
    paths = [a for a in argv if not a.startswith("-")]
    if paths:
        QTimer.singleShot(0, window, lambda: window.open_any(paths[0]))
    code = app.exec()
    log.info("Review Analyzer closed (exit code %d)", code)
    return code
