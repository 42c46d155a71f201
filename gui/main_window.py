"""The main window: menus, tabs, the status bar, and the wiring between panels.

Panels never talk to each other; they emit signals and take data through small methods,
and this window connects them. Every tab is one line of ``PANELS``: its panel class, the
window signals it listens to (a window signal -> a method of the panel) and the panel
signals the window handles (a panel signal -> a method of the window). A name that does
not exist on either side raises when the window is built, so a wiring slip cannot pass
unnoticed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QThread, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import resources
from core import app_version
from core.bundle import SUFFIX, ModelBundle
from core.errors import ReviewDataError
from core.io.table import ReviewTable
from core.text.labels import LabelScheme
from gui import dialogs
from gui.file_dialogs import MODEL_FILTER, OPEN_MODEL_FILTER, REVIEWS_FILTER
from gui.panels.base import Panel
from gui.panels.batch import BatchPanel
from gui.panels.compare import ComparePanel
from gui.panels.data import DataPanel
from gui.panels.explain import ExplainPanel
from gui.panels.results import ResultsPanel
from gui.panels.train import TrainPanel
from gui.settings import AppSettings

if TYPE_CHECKING:  # torch loads after the window is up (gui/app.py)
    from core.training.pipeline import TrainingOutcome

log = logging.getLogger(__name__)

REQUIRED_PANELS: dict[str, type[Panel]] = {"Data": DataPanel, "Train": TrainPanel}
PANEL_SHORTCUTS = (("Explain the typed review (Explain tab)", "Ctrl+Enter"),
                   ("Analyse the files (Batch tab)", "Ctrl+Enter"),
                   ("Open the selected misclassified review (Results tab)", "Enter"))


@dataclass(frozen=True)
class PanelEntry:
    """One tab: what it shows, and how it is connected to the window."""

    name: str
    panel: type[Panel]
    icon: str
    listens: Mapping[str, str] = field(default_factory=dict)  # window signal -> panel method
    tells: Mapping[str, str] = field(default_factory=dict)  # panel signal -> window method
    needs_model: bool = False  # the tab is enabled only while a model is loaded


PANELS: tuple[PanelEntry, ...] = (
    PanelEntry("Data", DataPanel, "open", tells={
        "table_ready": "_on_table_ready", "table_cleared": "_on_table_cleared",
        "file_opened": "_on_file_opened", "columns_changed": "_on_columns_changed",
        "explain_requested": "explain_text",
        "add_unlabelled_requested": "_on_unlabelled_files_chosen",
        "clear_unlabelled_requested": "_on_unlabelled_clear_requested"},
        listens={"unlabelled_changed": "show_unlabelled"}),
    PanelEntry("Train", TrainPanel, "train", listens={
        "table_changed": "set_data", "unlabelled_files_added": "add_unlabelled_paths",
        "unlabelled_cleared": "clear_unlabelled"}, tells={
        "training_started": "_on_training_started",
        "training_finished": "_on_training_finished",
        "unlabelled_changed": "_on_unlabelled_changed"}),
    PanelEntry("Results", ResultsPanel, "model", listens={
        "outcome_ready": "show_training_outcome", "model_loaded": "show_metrics_only",
        "model_changed": "set_bundle"},
        tells={"review_activated": "explain_text"}),
    PanelEntry("Explain", ExplainPanel, "explain", listens={
        "model_changed": "set_bundle", "explain_requested": "explain_text"},
        needs_model=True),
    PanelEntry("Compare", ComparePanel, "compare", listens={
        "table_changed": "set_table", "base_config_changed": "set_base_config"},
        tells={"model_chosen": "set_bundle"}),
    PanelEntry("Batch", BatchPanel, "batch", listens={"model_changed": "set_bundle"},
               needs_model=True),
)


def describe_bundle(bundle: ModelBundle, source: str = "") -> str:
    """One line about a model: architecture, size, classes, test score, origin."""
    config = bundle.config
    cell = ("Bi" if config.bidirectional else "") + config.cell.upper()
    parts = [f"{cell}, {config.layers} layer{'s' if config.layers > 1 else ''}, "
             f"embedding {config.embedding_dim}, hidden {config.hidden_size}, "
             f"{config.pooling} pooling"]
    count = bundle.info.get("parameters")
    if isinstance(count, int):
        parts.append(f"{count:,} parameters")
    parts.append("classes: " + ", ".join(bundle.classes))
    for split in ("test", "validation"):
        metrics = bundle.metrics.get(split)
        if isinstance(metrics, dict) and isinstance(metrics.get("accuracy"), (int, float)):
            parts.append(f"{split} accuracy {metrics['accuracy']:.1%}")
            break
    origin = bundle.info.get("source")
    if origin:
        parts.append(f"trained on {Path(str(origin)).name}")
    if source:
        parts.append(f"from {Path(source).name}")
    return " · ".join(parts)


class WiringError(AttributeError):
    """A ``PanelEntry`` names a signal or a method that is not there."""


class MainWindow(QMainWindow):
    """Review Analyzer's window; ``settings`` is injectable so tests use a temporary store,
    and ``panels`` so they can build it from another list."""

    # What the window tells the panels; a panel listens by naming one in its PanelEntry.
    table_changed = Signal(object, object)  # ReviewTable, LabelScheme (None, None: no data)
    base_config_changed = Signal(object)  # TrainConfig of the Train form or of a run started
    model_changed = Signal(object, str)  # ModelBundle, its file ('' when trained here)
    model_loaded = Signal(object)  # ModelBundle opened from a file
    outcome_ready = Signal(object)  # TrainingOutcome of a finished run
    explain_requested = Signal(str)  # a review to explain
    # The added unlabelled files: one list, the Train tab's; the Data tab shows it and asks.
    unlabelled_changed = Signal(object)  # UnlabelledState from the Train tab
    unlabelled_files_added = Signal(list)  # paths chosen in the Data tab
    unlabelled_cleared = Signal()  # Clear pressed in the Data tab

    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None,
                 *, panels: tuple[PanelEntry, ...] = PANELS) -> None:
        check_wiring(panels)
        super().__init__(parent)
        self.entries = panels
        self.settings = settings or AppSettings()
        self.bundle: ModelBundle | None = None
        self.bundle_path = ""
        self.table: ReviewTable | None = None
        self.scheme: LabelScheme | None = None
        self.log_path: Path | None = None
        self._closing = False
        self.setWindowTitle("Review Analyzer")
        self.setWindowIcon(QIcon(str(resources.icon_path("app"))))
        self.setAcceptDrops(True)
        self._build_panels()
        self._build_menus()
        self._wire()
        self._restore()
        self._on_unlabelled_changed(self.train_panel.unlabelled_state())  # the first state
        self._update_actions()
        self.statusBar().showMessage("Open a review file to begin (File > Open reviews, or "
                                     "drop a file here).")

    # -- building ----------------------------------------------------------------------------
    def _build_panels(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.panels: dict[str, Panel] = {}
        for entry in self.entries:
            panel = entry.panel()
            self.panels[entry.name] = panel
            self.tabs.addTab(panel, QIcon(str(resources.icon_path(entry.icon))), entry.name)
        self.tabs.setIconSize(QSize(18, 18))
        self.data_panel: DataPanel = self.panels["Data"]  # type: ignore[assignment]
        self.train_panel: TrainPanel = self.panels["Train"]  # type: ignore[assignment]

        self.model_banner = QLabel()
        self.model_banner.setObjectName("modelBanner")
        self.model_banner.setWordWrap(True)
        self.model_banner.setContentsMargins(8, 4, 8, 4)
        self.model_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_banner.hide()
        # Keep the banner's room while hidden: the tabs no longer jump down when it appears.
        policy = self.model_banner.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.model_banner.setSizePolicy(policy)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(2)
        layout.addWidget(self.model_banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.model_status = QLabel("No model")
        self.statusBar().addPermanentWidget(self.model_status)

    def panel(self, name: str) -> Panel:
        """The panel of the tab called ``name``."""
        return self.panels[name]

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.open_action = _action(self, "&Open reviews…", "Ctrl+O", self.choose_reviews, "open")
        self.open_folder_action = _action(self, "Open &folder of reviews…", "Ctrl+Shift+O",
                                          self.choose_folder)
        self.sample_action = _action(self, "Open sa&mple reviews", None,  # &S is Save
                                     self.data_panel.open_sample)
        self.recent_menu = QMenu("&Recent files", self)
        self.load_action = _action(self, "&Load model…", "Ctrl+L", self.choose_model, "model")
        self.save_action = _action(self, "&Save model…", "Ctrl+S", self.save_model, "save")
        self.quit_action = _action(self, "&Quit", "Ctrl+Q", self.close)
        file_menu.addActions([self.open_action, self.open_folder_action, self.sample_action])
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.load_action, self.save_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        train_menu = menu.addMenu("&Training")
        train_menu.addActions(self.train_panel.run_actions())
        results = self.panels.get("Results")
        if isinstance(results, ResultsPanel):  # Evaluate a model on a file: issue 16, item 6
            train_menu.addSeparator()
            train_menu.addAction(results.evaluate_action)
            results.evaluate_action.triggered.connect(
                lambda: self.tabs.setCurrentWidget(results))

        view_menu = menu.addMenu("&View")
        self.tab_actions: list[QAction] = []
        for index, entry in enumerate(self.entries):
            action = _action(self, f"{entry.name} tab", f"Ctrl+{index + 1}",
                             lambda _=False, i=index: self.tabs.setCurrentIndex(i))
            view_menu.addAction(action)
            self.tab_actions.append(action)

        help_menu = menu.addMenu("&Help")
        self.shortcuts_action = _action(self, "&Keyboard shortcuts", "F1", self.show_shortcuts)
        self.about_action = _action(self, "&About Review Analyzer", None, self.show_about)
        help_menu.addActions([self.shortcuts_action, self.about_action])
        self._rebuild_recent_menu()

    def _wire(self) -> None:
        """Connect each panel as its entry says (``check_wiring`` vouched for the names)."""
        for entry in self.entries:
            panel = self.panels[entry.name]
            panel.status_message.connect(self.show_status)
            for signal, method in entry.listens.items():
                getattr(self, signal).connect(getattr(panel, method))
            for signal, method in entry.tells.items():
                getattr(panel, signal).connect(getattr(self, method))

    def _restore(self) -> None:
        settings = self.settings
        geometry = settings.window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(self._default_size())
        state = settings.window_state()
        if state is not None:
            self.restoreState(state)
        self.data_panel.last_folder = settings.last_folder
        config = settings.last_config()
        if config is not None:
            self.train_panel.set_config(config)
        self.tabs.setCurrentIndex(min(max(settings.current_tab(), 0), 1))

    def _default_size(self) -> QSize:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return QSize(1280, 800)
        available = screen.availableGeometry().size()
        return QSize(min(1280, available.width()), min(800, available.height()))

    # -- opening -----------------------------------------------------------------------------
    def choose_reviews(self) -> None:
        path = dialogs.choose_open_file(self, "Open reviews", self.settings.last_folder,
                                        REVIEWS_FILTER)
        if path:
            self.open_reviews(path)

    def choose_folder(self) -> None:
        path = dialogs.choose_folder(self, "Open a folder of reviews", self.settings.last_folder)
        if path:
            self.open_reviews(path)

    def open_reviews(self, path: str) -> None:
        """Open a review file or folder in the Data tab (menus, recent files, drops)."""
        self.tabs.setCurrentWidget(self.data_panel)
        self.data_panel.open_path(path, self.settings.column_choices(str(path)))

    def open_any(self, path: str) -> None:
        """A model file loads as a model; anything else opens as reviews."""
        target = Path(path)
        if target.suffix.lower() == SUFFIX or (target.is_dir()
                                                and (target / f"model{SUFFIX}").is_file()):
            self.load_model(path)
        else:
            self.open_reviews(path)

    def _on_file_opened(self, path: str) -> None:
        self.settings.add_recent_file(path)
        self.settings.last_folder = self.data_panel.last_folder
        self._rebuild_recent_menu()
        self.setWindowTitle(f"{Path(path).name} — Review Analyzer")

    def _on_columns_changed(self, path: str, text: Any, label: Any, split: Any) -> None:
        self.settings.set_column_choices(path, text, label or None, split or None)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for index, path in enumerate(files, 1):
            action = self.recent_menu.addAction(f"&{index}  {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self._open_recent(p))
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear recent files", self._clear_recent)
        self.recent_menu.setEnabled(bool(files))

    def _open_recent(self, path: str) -> None:
        if not Path(path).exists():
            self.settings.remove_recent_file(path)
            self._rebuild_recent_menu()
            dialogs.show_error(self, "File not found",
                               f"{path} no longer exists; it was removed from the recent files.")
            return
        self.open_any(path)

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self._rebuild_recent_menu()

    # -- data and training ---------------------------------------------------------------------
    def _on_table_ready(self, table: ReviewTable, scheme: LabelScheme) -> None:
        self.table, self.scheme = table, scheme
        self.table_changed.emit(table, scheme)
        self.base_config_changed.emit(self.train_panel.config())
        self._update_actions()

    def _on_table_cleared(self) -> None:
        self.table = self.scheme = None
        self.table_changed.emit(None, None)
        self._update_actions()

    def _on_training_started(self, config: Any) -> None:
        self.settings.set_last_config(config)
        self.base_config_changed.emit(config)
        self._update_actions()

    def _on_training_finished(self, outcome: TrainingOutcome) -> None:
        assert self.thread() is QThread.currentThread()
        if self._closing:
            return
        self.set_bundle(outcome.bundle, "")
        self.outcome_ready.emit(outcome)
        self._update_actions()

    def _on_unlabelled_changed(self, state: Any) -> None:
        self.unlabelled_changed.emit(state)

    def _on_unlabelled_files_chosen(self, paths: list[str]) -> None:
        self.unlabelled_files_added.emit(paths)

    def _on_unlabelled_clear_requested(self) -> None:
        self.unlabelled_cleared.emit()

    # -- models --------------------------------------------------------------------------------
    def set_bundle(self, bundle: ModelBundle, path: str = "") -> None:
        """Make ``bundle`` the current model: summary shown, Save/Explain/Batch enabled."""
        self.bundle, self.bundle_path = bundle, path
        summary = describe_bundle(bundle, path)
        self.model_banner.setText(f"<b>Model:</b> {summary}")
        self.model_banner.show()
        self.model_status.setText(f"Model: {'Bi' if bundle.config.bidirectional else ''}"
                                  f"{bundle.config.cell.upper()} · {len(bundle.classes)} classes")
        self.model_changed.emit(bundle, path)
        self._update_actions()

    def choose_model(self) -> None:
        path = dialogs.choose_open_file(self, "Load model", self.settings.last_folder,
                                        OPEN_MODEL_FILTER)
        if path:
            self.load_model(path)

    def load_model(self, path: str) -> ModelBundle | None:
        try:
            bundle = ModelBundle.load(path)
        except ReviewDataError as error:
            dialogs.show_error(self, "Cannot load the model", str(error))
            return None
        self.settings.last_folder = str(Path(path).parent)
        self.settings.add_recent_file(str(path))
        self._rebuild_recent_menu()
        self.set_bundle(bundle, str(path))
        if bundle.history:
            self.train_panel.curves.load_history(bundle.history)
        self.model_loaded.emit(bundle)
        self.show_status(f"Loaded model {path}")
        return bundle

    def save_model(self) -> Path | None:
        if self.bundle is None:
            return None
        start = self.bundle_path or str(Path(self.settings.last_folder or Path.home())
                                        / self._suggested_model_name())
        path = dialogs.choose_save_file(self, "Save model", start, MODEL_FILTER)
        if not path:
            return None
        if not path.lower().endswith(SUFFIX):
            path += SUFFIX
        try:
            target = self.bundle.save(path)
        except ReviewDataError as error:
            dialogs.show_error(self, "Cannot save the model", str(error))
            return None
        except OSError as error:
            dialogs.show_error(self, "Cannot save the model",
                               f"{path}: {error.strerror or error}. Choose another folder.")
            return None
        self.bundle_path = str(target)
        self.settings.last_folder = str(target.parent)
        self.show_status(f"Saved the model to {target}")
        return target

    def _suggested_model_name(self) -> str:
        assert self.bundle is not None
        source = Path(str(self.bundle.info.get("source") or "reviews")).stem.split(".")[0]
        return f"{source}-{self.bundle.config.cell}{SUFFIX}"

    # -- explain -----------------------------------------------------------------------------
    def explain_text(self, text: str) -> None:
        """Send a review to the Explain tab (from Data or Results)."""
        if self.bundle is None:
            self.show_status("Train or load a model first, then explain reviews.")
            return
        self.explain_requested.emit(text)
        listening = [e.name for e in self.entries if "explain_requested" in e.listens]
        if listening:
            self.tabs.setCurrentWidget(self.panels[listening[0]])

    # -- state -----------------------------------------------------------------------------
    def _update_actions(self) -> None:
        has_model = self.bundle is not None
        self.save_action.setEnabled(has_model)
        for index, entry in enumerate(self.entries):
            if entry.needs_model:
                self.tabs.setTabEnabled(index, has_model)

    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def shortcuts_text(self) -> str:
        """Every menu action with a shortcut, as an HTML table (Help > Keyboard shortcuts)."""
        rows = []
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            if menu is None:
                continue
            for action in menu.actions():
                keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                if keys:
                    name = action.text().replace("&", "").rstrip("…")
                    rows.append(f"<tr><td>{name}</td><td><b>{keys}</b></td></tr>")
        for name, keys in PANEL_SHORTCUTS:  # shortcuts of a tab's own widgets, not in menus
            rows.append(f"<tr><td>{name}</td><td><b>{keys}</b></td></tr>")
        return "<table cellspacing='0' cellpadding='4'>" + "".join(rows) + "</table>"

    def show_shortcuts(self) -> QDialog:
        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard shortcuts")
        browser = QTextBrowser()
        browser.setHtml(self.shortcuts_text())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(browser)
        layout.addWidget(buttons)
        dialog.resize(420, 460)
        dialog.open()
        return dialog

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setWindowTitle("About Review Analyzer")
        box.setIconPixmap(QIcon(str(resources.icon_path("app"))).pixmap(64, 64))
        box.setText(f"<b>Review Analyzer</b> {app_version()}")
        box.setInformativeText(
            "Train recurrent sentiment models (RNN, LSTM, GRU) on customer reviews, watch them "
            "learn, and see which words drive each prediction.<br><br>"
            f"Log file: {self.log_path or 'not set'}")
        box.open()
        return box

    # -- drag and drop -----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if _dropped_path(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = _dropped_path(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.open_any(path)

    # -- closing ----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.train_panel.running and not dialogs.ask_yes_no(
                self, "Training is running", "Stop training and quit?"):
            event.ignore()
            return
        self.shutdown()
        self.settings.set_window(self.saveGeometry(), self.saveState())
        self.settings.set_current_tab(self.tabs.currentIndex())
        self.settings.last_folder = self.data_panel.last_folder or self.settings.last_folder
        self.settings.set_last_config(self.train_panel.config())
        self.settings.sync()
        event.accept()

    def shutdown(self) -> None:
        """End every worker thread without asking (closing, or the app quitting)."""
        if self._closing:
            return
        self._closing = True
        for name, panel in self.panels.items():
            try:
                stopped = panel.shutdown()
            except Exception:  # noqa: BLE001 - the other panels' threads must still be ended
                log.exception("the %s panel did not stop cleanly", name)
            else:
                if not stopped:
                    log.error("a thread of the %s panel did not stop in time", name)


def check_wiring(entries: tuple[PanelEntry, ...]) -> None:
    """Raise ``WiringError`` if an entry names a signal or a method that does not exist (on
    the classes, before anything is built), or if two tabs share a name."""
    names = [entry.name for entry in entries]
    for name in names:
        if names.count(name) > 1:
            raise WiringError(f"two tabs are called {name!r}")
    for name, cls in REQUIRED_PANELS.items():  # the menus and settings use these two
        if not any(e.name == name and issubclass(e.panel, cls) for e in entries):
            raise WiringError(f"the window needs a {name} tab showing a {cls.__name__}")
    for entry in entries:
        for signal, method in entry.listens.items():
            _require_signal(MainWindow, signal, entry)
            _require_method(entry.panel, method, entry)
        for signal, method in entry.tells.items():
            _require_signal(entry.panel, signal, entry)
            _require_method(MainWindow, method, entry)


def _require_signal(owner: type, name: str, entry: PanelEntry) -> None:
    if not isinstance(getattr(owner, name, None), Signal):
        raise WiringError(f"the {entry.name} tab wires {owner.__name__}.{name}, which is not a "
                          "signal")


def _require_method(owner: type, name: str, entry: PanelEntry) -> None:
    found = getattr(owner, name, None)
    if not callable(found) or isinstance(found, Signal):
        raise WiringError(f"the {entry.name} tab wires {owner.__name__}.{name}, which is not a "
                          "method")


def _dropped_path(mime: Any) -> str:
    if mime is None or not mime.hasUrls():
        return ""
    for url in mime.urls():
        if url.isLocalFile() and Path(url.toLocalFile()).exists():
            return url.toLocalFile()
    return ""


def _action(parent: QWidget, text: str, shortcut: str | None, slot: Any,
            icon: str | None = None) -> QAction:
    action = QAction(text, parent)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    if icon:
        action.setIcon(QIcon(str(resources.icon_path(icon))))
    action.triggered.connect(slot)
    return action
