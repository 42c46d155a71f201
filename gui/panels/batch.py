"""The Batch tab: run a saved model over whole files and folders, see the first rows and a
summary of the corpus, and open the result.

The analysis runs in a worker thread (``core.analyze.analysis.analyze`` via ``gui.workers``);
progress arrives as throttled lists of plain events, the first result rows once, and the corpus
summary at the end, drawn as bar charts. The panel does no ML itself.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QThread, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

import resources
from core.analyze.summary import class_polarity
from core.bundle import SUFFIX as MODEL_SUFFIX
from core.bundle import ModelBundle
from core.errors import ReviewDataError
from core.metrics import format_duration
from gui import dialogs
from gui.file_dialogs import (
    OPEN_MODEL_FILTER,
    OUTPUT_FILTER,
    REVIEWS_FILTER,
    output_formats,
    output_suffix,
)
from gui.panels.base import Panel, preview
from gui.panels.data import RowsModel
from gui.widgets.axes import integer_axis
from gui.widgets.colors import OKABE_ITO, role_color
from gui.widgets.empty_state import hide_message, show_empty
from gui.workers import JobContext, JobHandle

if TYPE_CHECKING:  # the engine (torch) loads after the window is up (gui/app.py)
    from core.analyze.analysis import AnalysisProgress, BatchOptions, BatchResult, PreviewRows

log = logging.getLogger(__name__)

EXPLAIN_CHOICES = (("Fast (gradient × input)", "fast"), ("Integrated gradients (slow)", "ig"),
                   ("None (fastest)", "none"))
PRECISION_CHOICES = (("Automatic (bf16 where native)", "auto"), ("Exact (fp32)", "fp32"),
                     ("Faster (int8)", "int8"), ("bf16", "bf16"))
ENGINE_CHOICES = (("This computer", "local"), ("Ray cluster", "ray"))
RAY_INSTALL_HINT = 'Ray is not installed here: pip install -e ".[cluster]" in the app\'s folder.'
CHART_WORDS = 12
POSITIVE_COLOR = OKABE_ITO["bluish_green"]
NEGATIVE_COLOR = OKABE_ITO["vermillion"]
NEUTRAL_COLOR = "#8c8c8c"

__all__ = ["BatchPanel", "choose_open_files"]


def choose_open_files(parent: QWidget | None, title: str, folder: str, filters: str) -> list[str]:
    """Several files at once (gui.dialogs has the single-file dialog); tests replace this."""
    paths, _ = QFileDialog.getOpenFileNames(parent, title, dialogs.start_folder(folder), filters)
    return paths


def open_folder(path: Path) -> bool:
    """Show a folder in the system file manager; tests replace this."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class BatchPanel(Panel):
    """Inputs, model, output and options on the left; progress, first rows and charts right."""

    analysis_finished = Signal(object)  # BatchResult

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bundle: ModelBundle | None = None
        self.model_path: str | None = None
        self.result: BatchResult | None = None
        self._summary: dict[str, Any] | None = None  # the last run's summary document
        self.last_folder = ""
        self.setAcceptDrops(True)
        self._build()
        self._update_state()

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        self.input_list = QListWidget()
        self.input_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.input_list.setToolTip("Files and folders to analyse; drop more here")
        self.input_list.setMinimumHeight(90)
        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.clicked.connect(self.choose_files)
        self.add_folder_button = QPushButton("Add folder…")
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected inputs from the list")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        for button in (self.add_files_button, self.add_folder_button, self.remove_button):
            buttons.addWidget(button)
        inputs_box = QGroupBox("Reviews to analyse")
        inputs = QVBoxLayout(inputs_box)
        self.drop_hint = QLabel("Drop files or folders here.")
        self.drop_hint.setEnabled(False)
        inputs.addWidget(self.input_list, 1)
        inputs.addWidget(self.drop_hint)
        inputs.addLayout(buttons)

        self.model_label = QLabel("No model yet: train one or load a saved model.")
        self.model_label.setWordWrap(True)
        self.load_model_button = QPushButton("Load model…")
        self.load_model_button.setIcon(_icon("model"))
        self.load_model_button.clicked.connect(self.choose_model)
        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        model_layout.addWidget(self.model_label)
        model_layout.addWidget(self.load_model_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("results.csv")
        self.output_edit.setToolTip("The result file; its extension picks the format")
        self.output_edit.textChanged.connect(self._on_output_edited)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self.choose_output)
        self.format_combo = QComboBox()
        for name, suffix in output_formats().items():
            self.format_combo.addItem(name, suffix)
        self.format_combo.setToolTip("CSV opens anywhere; Parquet is smallest and fastest "
                                     "to load in pandas, R or Spark")
        self.format_combo.activated.connect(self._on_format_chosen)
        path_row = QHBoxLayout()
        path_row.addWidget(self.output_edit, 1)
        path_row.addWidget(self.browse_button)
        self.explain_combo = QComboBox()
        for name, key in EXPLAIN_CHOICES:
            self.explain_combo.addItem(name, key)
        self.explain_combo.setToolTip("How the words that pushed each review are found: "
                                      "fast is one extra pass; integrated gradients are more "
                                      "faithful and many times slower")
        self.top_k_spin = QSpinBox()
        self.top_k_spin.setRange(1, 50)
        self.top_k_spin.setValue(5)
        self.top_k_spin.setToolTip("Words kept per review, toward and against its class")
        self.precision_combo = QComboBox()
        for name, key in PRECISION_CHOICES:
            if key != "bf16":  # offered once the engine can say whether the CPU has it
                self.precision_combo.addItem(name, key)
        self._bf16_checked = False
        self.precision_combo.setToolTip("Lists what this computer does well. Automatic uses "
                                        "bf16 with top words off where the CPU multiplies bf16 "
                                        "natively, after checking it against fp32 on the first "
                                        "reviews; int8 quantization speeds up prediction "
                                        "(mostly for GRU models) when explanations are off; see "
                                        "the summary for what ran")
        self.engine_combo = QComboBox()
        for name, key in ENGINE_CHOICES:
            self.engine_combo.addItem(name, key)
        self.engine_combo.setToolTip("Where the reviews are read, tokenized and predicted: in "
                                     "this program, or on a Ray cluster (README: When one "
                                     "machine is not enough)")
        self.ray_address_edit = QLineEdit()
        self.ray_address_edit.setPlaceholderText("empty: a Ray instance on this computer")
        self.ray_address_edit.setToolTip("The head of the cluster (host:port shown by "
                                         "`ray start --head`); the inputs must be readable at "
                                         "the same path on every machine")
        self.engine_hint = QLabel("")
        self.engine_hint.setWordWrap(True)
        self.engine_hint.setVisible(False)
        self.engine_combo.currentIndexChanged.connect(self._on_engine_chosen)
        self.ray_address_edit.setEnabled(False)
        self.text_check = QCheckBox("Include the review text")
        self.text_check.setChecked(True)
        self.text_column_edit = QLineEdit()
        self.text_column_edit.setPlaceholderText("guess")
        self.text_column_edit.setToolTip("The column holding the review text (guessed per "
                                         "file when empty)")
        output_box = QGroupBox("Output and options")
        form = QFormLayout(output_box)
        form.addRow("File:", path_row)
        form.addRow("Format:", self.format_combo)
        form.addRow("Top words:", self.explain_combo)
        form.addRow("Words each way:", self.top_k_spin)
        form.addRow("Arithmetic:", self.precision_combo)
        form.addRow("Engine:", self.engine_combo)
        form.addRow("Ray address:", self.ray_address_edit)
        form.addRow(self.engine_hint)
        form.addRow("Text column:", self.text_column_edit)
        form.addRow(self.text_check)

        self.run_button = QPushButton("Analyze")
        self.run_button.setProperty("primary", True)
        self.run_button.setIcon(_icon("batch"))
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Stop")
        self.cancel_button.setIcon(_icon("stop"))
        self.cancel_button.setToolTip("Stop after the current batch; the rows written so far "
                                      "stay in a valid file marked partial")
        self.cancel_button.clicked.connect(self.cancel)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button, 1)
        run_row.addWidget(self.cancel_button)

        left = QVBoxLayout()
        left.addWidget(inputs_box, 1)
        left.addWidget(model_box)
        left.addWidget(output_box)
        left.addLayout(run_row)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setFixedWidth(390)
        left.setContentsMargins(0, 0, 0, 0)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p%")
        self.progress_label = QLabel("")
        self.open_folder_button = QPushButton("Open output folder")
        self.open_folder_button.setIcon(_icon("open"))
        self.open_folder_button.clicked.connect(self.open_output_folder)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.progress_label, 2)
        progress_row.addWidget(self.open_folder_button)
        self.summary_label = QLabel("Add reviews, pick a model and an output file, then "
                                    "press Analyze.")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                         QSizePolicy.Policy.Preferred)

        self.rows_model = RowsModel(self)
        self.rows_view = _table_view(self.rows_model)
        self.confident_model = RowsModel(self)
        self.uncertain_model = RowsModel(self)
        self.files_model = RowsModel(self)
        self.tabs = QTabWidget()
        self.summary_views: list[QTableView] = []
        self.tabs.addTab(self.rows_view, "First results")
        for model, title, tip in (
                (self.uncertain_model, "Most uncertain",
                 "Reviews where the two likeliest classes were closest: worth a human look"),
                (self.confident_model, "Most confident", "Reviews the model was surest about"),
                (self.files_model, "Per file", "Reviews, skipped rows and classes per input")):
            view = _table_view(model)
            self.summary_views.append(view)
            self.tabs.addTab(view, title)
            self.tabs.setTabToolTip(self.tabs.count() - 1, tip)
        rows_box = self.tabs

        self.class_chart = _chart("reviews")
        self.positive_chart = _chart("reviews")
        self.negative_chart = _chart("reviews")
        self.charts = (self.class_chart, self.positive_chart, self.negative_chart)
        self.class_chart.empty_text = ("Add review files and a model, then Analyze: the "
                                       "reviews per predicted class appear here.")
        self.positive_chart.empty_text = ("After a run: the words that most often pushed "
                                          "reviews towards the positive class.")
        self.negative_chart.empty_text = ("After a run: the words that most often pushed "
                                          "reviews towards the negative class.")
        for chart in self.charts:
            _empty(chart)
        charts = QHBoxLayout()
        word_tip = ("Reviews in which the word was among the top words pushing this way, minus "
                    "those in which it pushed the other way")
        for title, chart in (("Predicted classes", self.class_chart),
                             ("Words that pushed positive", self.positive_chart),
                             ("Words that pushed negative", self.negative_chart)):
            box = QGroupBox(title)
            if chart is not self.class_chart:
                box.setToolTip(word_tip)
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(4, 4, 4, 4)
            box_layout.addWidget(chart)
            charts.addWidget(box, 1)
        self.all_words_check = QCheckBox("Show all words")
        self.all_words_check.setToolTip("The word charts leave out punctuation and function "
                                        "words such as 'the', 'and', 'i' (negations such as "
                                        "not, no, never and but stay). Tick to list every "
                                        "token.")
        self.all_words_check.toggled.connect(self._draw_word_charts)
        charts_column = QVBoxLayout()
        charts_column.setContentsMargins(0, 0, 0, 0)
        charts_column.addLayout(charts)
        charts_column.addWidget(self.all_words_check, 0, Qt.AlignmentFlag.AlignRight)
        charts_widget = QWidget()
        charts_widget.setLayout(charts_column)
        charts.setContentsMargins(0, 0, 0, 0)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(rows_box)
        splitter.addWidget(charts_widget)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        right = QVBoxLayout()
        right.addLayout(progress_row)
        right.addWidget(self.summary_label)
        right.addWidget(splitter, 1)
        right.setContentsMargins(0, 0, 0, 0)

        layout = QHBoxLayout(self)
        layout.addWidget(left_widget)
        layout.addLayout(right, 1)
        self._style_charts()

    # -- inputs ----------------------------------------------------------------------------
    @property
    def inputs(self) -> list[str]:
        return [self.input_list.item(i).text() for i in range(self.input_list.count())]

    def add_inputs(self, paths: list[str | Path]) -> None:
        """Add files or folders (duplicates once); a first input suggests an output file."""
        present = set(self.inputs)
        for path in paths:
            text = str(path)
            if text and text not in present:
                self.input_list.addItem(text)
                present.add(text)
        if paths:
            first = Path(paths[0])
            self.last_folder = str(first if first.is_dir() else first.parent)
            if not self.output_edit.text().strip():
                self.set_output(_suggest_output(first, self.format_suffix()))
        self._update_state()

    def choose_files(self) -> None:
        paths = choose_open_files(self, "Add review files", self.last_folder,
                                  REVIEWS_FILTER)
        if paths:
            self.add_inputs(paths)

    def choose_folder(self) -> None:
        path = dialogs.choose_folder(self, "Add a folder of reviews", self.last_folder)
        if path:
            self.add_inputs([path])

    def remove_selected(self) -> None:
        for item in self.input_list.selectedItems():
            self.input_list.takeItem(self.input_list.row(item))
        self._update_state()

    def clear_inputs(self) -> None:
        self.input_list.clear()
        self._update_state()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        models = [p for p in paths if p.lower().endswith(MODEL_SUFFIX)]
        if models:
            self.load_model(models[0])
        reviews = [p for p in paths if not p.lower().endswith(MODEL_SUFFIX)]
        if reviews:
            self.add_inputs(reviews)
        event.acceptProposedAction()

    # -- model -----------------------------------------------------------------------------
    def _offer_bf16(self) -> None:
        """Add the bf16 choice if the CPU runs it: asked of torch when the tab is first shown
        or a model arrives, not while the window starts (torch is not loaded yet then)."""
        if self._bf16_checked:
            return
        self._bf16_checked = True
        from core.predict.batch_predictor import bf16_supported

        if bf16_supported():
            for index, (name, key) in enumerate(PRECISION_CHOICES):
                if key == "bf16":
                    self.precision_combo.insertItem(index, name, key)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt name)
        self._offer_bf16()
        super().showEvent(event)

    def set_bundle(self, bundle: ModelBundle | None, path: str | Path | None = None) -> None:
        """The model to analyse with (the main window passes the trained or opened one)."""
        self.bundle = bundle
        if bundle is not None:
            self._offer_bf16()
        self.model_path = str(path) if path else None
        if bundle is None:
            self.model_label.setText("No model yet: train one or load a saved model.")
        else:
            config = bundle.config
            where = Path(self.model_path).name if self.model_path else "trained in this window"
            direction = "Bi" if config.bidirectional else ""  # BiLSTM, as elsewhere
            self.model_label.setText(
                f"<b>{where}</b><br>{direction}{config.cell.upper()} {config.hidden_size}, "
                f"classes: {', '.join(bundle.classes)}")
        self._update_state()

    def choose_model(self) -> None:
        path = dialogs.choose_open_file(self, "Load a model", self.last_folder,
                                        OPEN_MODEL_FILTER)
        if path:
            self.load_model(path)

    def load_model(self, path: str | Path) -> bool:
        try:
            bundle = ModelBundle.load(path)
        except ReviewDataError as error:
            dialogs.show_error(self, "Cannot load the model", str(error))
            return False
        self.set_bundle(bundle, path)
        self.status_message.emit(f"Model loaded: {path}")
        return True

    # -- output ----------------------------------------------------------------------------
    def format_suffix(self) -> str:
        return str(self.format_combo.currentData())

    def set_output(self, path: str | Path) -> None:
        self.output_edit.setText(str(path))

    @property
    def output_path(self) -> Path | None:
        text = self.output_edit.text().strip()
        return Path(text).expanduser() if text else None

    def choose_output(self) -> None:
        start = str(self.output_path or Path(self.last_folder or ".") / "results.csv")
        path = dialogs.choose_save_file(self, "Save results as", start, OUTPUT_FILTER)
        if path:
            target = Path(path)
            if not output_suffix(target.suffix):
                target = target.with_name(target.name + self.format_suffix())
            self.set_output(target)

    def _on_output_edited(self, text: str) -> None:
        suffix = output_suffix(Path(text.strip()).suffix)
        index = self.format_combo.findData(suffix) if suffix else -1
        if index >= 0 and index != self.format_combo.currentIndex():
            self.format_combo.setCurrentIndex(index)
        self._update_state()

    def _on_format_chosen(self, *_: Any) -> None:
        path = self.output_path
        if path is not None:
            self.set_output(path.with_suffix(self.format_suffix()))

    # -- running ---------------------------------------------------------------------------
    def options(self) -> BatchOptions:
        from core.analyze.analysis import BatchOptions

        column = self.text_column_edit.text().strip() or None
        return BatchOptions(explain=str(self.explain_combo.currentData()),
                            top_k=self.top_k_spin.value(),
                            precision=str(self.precision_combo.currentData()),
                            text_column=column, include_text=self.text_check.isChecked(),
                            **self.engine_options())

    def engine_options(self) -> dict[str, Any]:
        """The engine choice as BatchOptions fields (the address only for Ray)."""
        engine = str(self.engine_combo.currentData())
        address = self.ray_address_edit.text().strip() or None
        return {"engine": engine, "ray_address": address if engine == "ray" else None}

    def _on_engine_chosen(self, *_: Any) -> None:
        ray = self.engine_combo.currentData() == "ray"
        missing = ray and importlib.util.find_spec("ray") is None
        self.ray_address_edit.setEnabled(ray and not self.running)
        self.engine_hint.setText(RAY_INSTALL_HINT if missing else "")
        self.engine_hint.setVisible(missing)
        self._update_state()

    def missing(self) -> str:
        """What still stops a run, in words ('' when it can start)."""
        if not self.inputs:
            return "Add review files or folders."
        if self.bundle is None:
            return "Load a model, or train one first."
        if self.engine_combo.currentData() == "ray" and importlib.util.find_spec("ray") is None:
            return RAY_INSTALL_HINT
        path = self.output_path
        if path is None:
            return "Choose an output file."
        if not output_suffix(path.suffix):
            *most, last = output_formats().values()
            return f"The output must end in {', '.join(most)} or {last}."
        return ""

    def start(self) -> JobHandle | None:
        """Start the analysis in a worker; None (with a message) when something is missing."""
        from core.analyze.analysis import analyze, check_batch_output

        if self.running:
            return None
        problem = self.missing()
        if problem:
            self.status_message.emit(problem)
            self.summary_label.setText(problem)
            return None
        assert self.bundle is not None and self.output_path is not None
        try:  # never an input, never inside an input folder, a folder that takes files
            check_batch_output(self.inputs, self.output_path)
        except ReviewDataError as error:
            dialogs.show_error(self, "Cannot write the output there", str(error))
            return None
        if self.output_path.exists() and not dialogs.ask_yes_no(
                self, "Replace the output?", f"{self.output_path} exists. Replace it?"):
            return None
        bundle, out, inputs = self.bundle, self.output_path, self.inputs
        options, model_path = self.options(), self.model_path

        def job(ctx: JobContext) -> BatchResult:
            ctx.status(f"Analysing {len(inputs)} input(s)…")
            return analyze(inputs, bundle, out, options, on_progress=ctx.emit,
                           on_preview=ctx.emit_now, cancel=ctx.is_cancelled,
                           model_path=model_path)

        self.result = None
        self.rows_model.set_rows([], [])
        self._clear_charts()
        self.progress.setValue(0)
        self.progress_label.setText("Starting…")
        self.summary_label.setText(f"Writing {out}")
        handle = self.run_job(job, on_progress=self._on_progress,
                              on_finished=self._on_finished, on_failed=self._on_failed,
                              on_status=self.status_message.emit, on_ended=self._update_state)
        self._update_state()
        return handle

    def cancel(self) -> None:
        if self.running:
            self.cancel_job()
            self.progress_label.setText("Stopping after this batch…")

    def _on_progress(self, events: list) -> None:
        from core.analyze.analysis import AnalysisProgress, PreviewRows  # loaded by the run

        assert self.thread() is QThread.currentThread()
        progress = [e for e in events if isinstance(e, AnalysisProgress)]
        for event in events:
            if isinstance(event, PreviewRows):
                self.rows_model.set_rows(event.columns, _short_sources(event))
                self._size_columns()
        if progress:
            self._show_progress(progress[-1])

    def _show_progress(self, event: AnalysisProgress) -> None:
        if event.fraction is not None:
            self.progress.setValue(int(round(event.fraction * 1000)))
        eta = format_duration(event.eta) if event.eta is not None else "--:--"
        text = (f"{event.reviews:,} reviews · {event.reviews_per_second:,.0f}/s · ETA {eta}")
        if event.errors:
            text += f" · {event.errors:,} skipped"
        self.progress_label.setText(text)

    def _on_finished(self, result: BatchResult) -> None:
        assert self.thread() is QThread.currentThread()
        self.result = result
        if not result.partial:
            self.progress.setValue(1000)
        self.progress_label.setText(
            f"{result.reviews:,} reviews · {result.reviews_per_second:,.0f}/s · "
            f"{format_duration(result.seconds)}")
        self.show_summary(result.summary)
        state = "Stopped early: partial output" if result.partial else "Done"
        self.status_message.emit(f"{state}: {result.reviews:,} reviews → {result.output}")
        self.analysis_finished.emit(result)

    def _on_failed(self, message: str, details: str) -> None:
        self.progress.setValue(0)  # not a full bar beside "Failed" (issue 16, item 7)
        self.progress_label.setText("Failed")
        self.summary_label.setText(message)
        self.status_message.emit("Batch analysis failed: " + message.splitlines()[0]
                                 if message else "Batch analysis failed.")
        dialogs.show_error(self, "Batch analysis failed", message, details)

    # -- summary ---------------------------------------------------------------------------
    def show_summary(self, summary: dict[str, Any]) -> None:
        """Fill the summary line and the three charts from a summary document."""
        rows, skipped = summary["rows_read"], summary["rows_skipped"]
        parts = [f"<b>{'Partial output' if summary.get('partial') else 'Done'}</b>: "
                 f"{rows:,} reviews in {format_duration(summary['seconds'])} "
                 f"({summary['reviews_per_second']:,.0f}/s, {summary['precision']})"]
        if skipped or summary.get("error_count"):
            parts.append(f"{summary.get('error_count', skipped):,} rows or files skipped "
                         f"(see {Path(summary['errors_file']).name})"
                         if summary.get("errors_file") else f"{skipped:,} rows skipped")
        labelled = summary.get("labelled")
        if labelled:
            parts.append(f"agrees with column '{', '.join(labelled['columns'])}' on "
                         f"{labelled['accuracy']:.1%} of {labelled['reviews']:,}")
        parts += [f"<i>{note}</i>" for note in summary.get("notes", [])]
        self.summary_label.setText(" · ".join(parts))
        classes = summary["classes"]
        names = list(classes)
        example_header = ["predicted", "confidence", "margin", "file:row", "text"]
        self.uncertain_model.set_rows(example_header,
                                      example_rows(summary.get("most_uncertain", [])))
        self.confident_model.set_rows(example_header,
                                      example_rows(summary.get("most_confident", [])))
        self.files_model.set_rows(["file", "reviews", "skipped", *names],
                                  file_rows(summary.get("files", {}), names))
        for view in self.summary_views:
            _fit_columns(view)
        colors = self._class_colors(names)
        _bars(self.class_chart, names, [classes[n]["count"] for n in names], colors,
              vertical=True)
        self._summary = summary
        self._draw_word_charts()

    def _draw_word_charts(self, *_: Any) -> None:
        """The words that pushed each way: content words, or every token when asked (an older
        summary without the '_all' lists shows what it has)."""
        words = (self._summary or {}).get("words", {})
        suffix = "_all" if self.all_words_check.isChecked() else ""
        for chart, key, color in ((self.positive_chart, "pushed_positive", POSITIVE_COLOR),
                                  (self.negative_chart, "pushed_negative", NEGATIVE_COLOR)):
            if self._summary is None:
                _empty(chart)
                continue
            entries = words.get(key + suffix, words.get(key, []))[:CHART_WORDS]
            _bars(chart, [e["word"] for e in entries], [e["net"] for e in entries],
                  [role_color(color, self.palette())] * len(entries), vertical=False)

    def _class_colors(self, names: list[str]) -> list[Any]:
        polarity = ([0] * len(names) if self.bundle is None or self.bundle.classes != names
                    else class_polarity(self.bundle.scheme).tolist())
        table = {1: POSITIVE_COLOR, -1: NEGATIVE_COLOR, 0: NEUTRAL_COLOR}
        return [role_color(table[p], self.palette()) for p in polarity]

    def _clear_charts(self) -> None:
        self._summary = None
        for chart in self.charts:
            _empty(chart)
        for model in (self.uncertain_model, self.confident_model, self.files_model):
            model.set_rows([], [])

    def _size_columns(self) -> None:
        _fit_columns(self.rows_view)

    def open_output_folder(self) -> bool:
        path = self.output_path
        if path is None:
            return False
        folder = path.parent if path.parent.exists() else Path(self.last_folder or ".")
        return open_folder(folder)

    # -- state -----------------------------------------------------------------------------
    def _update_state(self, *_: Any) -> None:
        running = self.running
        self.run_button.setEnabled(not running and not self.missing())
        self.run_button.setToolTip(self.missing() or "Analyse every review (Ctrl+Enter)")
        self.cancel_button.setEnabled(running)
        for widget in (self.add_files_button, self.add_folder_button, self.remove_button,
                       self.load_model_button, self.browse_button, self.output_edit,
                       self.format_combo, self.explain_combo, self.top_k_spin,
                       self.precision_combo, self.text_check, self.text_column_edit,
                       self.engine_combo):
            widget.setEnabled(not running)
        self.ray_address_edit.setEnabled(not running
                                         and self.engine_combo.currentData() == "ray")
        self.remove_button.setEnabled(not running and self.input_list.count() > 0)
        path = self.output_path
        self.open_folder_button.setEnabled(path is not None and path.parent.exists())
        self.drop_hint.setVisible(self.input_list.count() == 0)

    def _style_charts(self) -> None:
        palette = self.palette()
        for chart in self.charts:
            chart.setBackground(palette.color(QPalette.ColorRole.Base))
            text = palette.color(QPalette.ColorRole.WindowText)
            for name in ("left", "bottom"):
                axis = chart.getAxis(name)
                axis.setPen(pg.mkPen(text))
                axis.setTextPen(pg.mkPen(text))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self._style_charts()
            if self.result is not None:
                self.show_summary(self.result.summary)
        super().changeEvent(event)

    def load_preview(self, args: list[str]) -> None:
        """``python -m gui.panels.batch [model.ramodel]``: the sample reviews analysed with a
        saved model, or with a small one trained on them, into a temporary folder."""
        import tempfile

        from gui.panels.samples import sample_outcome

        if args:
            self.load_model(args[0])
        else:
            self.set_bundle(sample_outcome(epochs=4).bundle, None)
        self.add_inputs([resources.SAMPLE_REVIEWS])
        self.set_output(Path(tempfile.mkdtemp(prefix="batch-preview-")) / "sample_analysis.csv")
        self.start()


def _icon(name: str) -> Any:
    from PySide6.QtGui import QIcon

    try:
        return QIcon(str(resources.icon_path(name)))
    except (FileNotFoundError, ValueError):
        return QIcon()


def _table_view(model: RowsModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setWordWrap(False)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    return view


def _fit_columns(view: QTableView, widest: int = 260) -> None:
    """Columns as wide as their contents, long text capped (the last one stretches)."""
    header = view.horizontalHeader()
    view.resizeColumnsToContents()
    for column in range(view.model().columnCount()):
        header.resizeSection(column, min(header.sectionSize(column), widest))


def example_rows(examples: list[dict[str, Any]]) -> list[list[str]]:
    """Summary examples as table rows: class, confidence, margin, where, text."""
    return [[e["predicted"], f"{e['confidence']:.3f}", f"{e['margin']:.3f}",
             f"{Path(e['source']).name}:{e['row']}", e["text"]] for e in examples]


def file_rows(files: dict[str, Any], classes: list[str]) -> list[list[str]]:
    return [[Path(name).name or name, f"{entry['reviews']:,}", f"{entry['skipped']:,}",
             *(f"{entry['classes'][c]['share']:.1%}" for c in classes)]
            for name, entry in files.items()]


def _short_sources(preview: PreviewRows) -> list[list[str]]:
    """File names instead of full paths in the source column (the file keeps full paths)."""
    if "source" not in preview.columns:
        return preview.rows
    at = preview.columns.index("source")
    return [[Path(v).name if i == at else v for i, v in enumerate(row)] for row in preview.rows]


def _suggest_output(first: Path, suffix: str) -> Path:
    """``<input>_analysis.<ext>`` beside the first input (a folder's goes beside it)."""
    stem = first.name
    for ending in (".gz", ".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".json", ".parquet",
                   ".txt"):
        if stem.lower().endswith(ending):
            stem = stem[: -len(ending)]
    return first.parent / f"{stem or 'reviews'}_analysis{suffix}"


def _chart(left_label: str) -> pg.PlotWidget:
    chart = pg.PlotWidget(axisItems={"left": integer_axis("left"),
                                     "bottom": integer_axis("bottom")})  # counts: whole ticks
    chart.setMenuEnabled(False)
    chart.setMouseEnabled(x=False, y=False)
    chart.hideButtons()
    chart.setMinimumHeight(170)
    chart.setLabel("left" if left_label else "bottom", left_label)
    return chart


def _empty(chart: pg.PlotWidget) -> None:
    """No data yet: no axes either (an empty 0-1 grid reads as a result), and a line that
    says what will appear (``chart.empty_text``)."""
    chart.clear()
    chart.getPlotItem().hideAxis("left")
    chart.getPlotItem().hideAxis("bottom")
    text = getattr(chart, "empty_text", "")
    if text:
        show_empty(chart, text, chart)


def _bars(chart: pg.PlotWidget, names: list[str], counts: list[int], colors: list[Any],
          vertical: bool) -> None:
    """Class bars stand up (names below); word bars lie down, the top word on top."""
    _empty(chart)
    if not names:
        return
    hide_message(chart)
    plot = chart.getPlotItem()
    plot.showAxis("left")
    plot.showAxis("bottom")
    if vertical:
        xs = list(range(len(names)))
        chart.addItem(pg.BarGraphItem(x=xs, height=counts, width=0.6, brushes=colors,
                                      pens=[pg.mkPen(None)] * len(names)))
        plot.getAxis("bottom").setTicks([list(zip(xs, names))])
        plot.getAxis("left").setTicks(None)
        plot.setLabel("left", "reviews")
        plot.setLabel("bottom", "")
        chart.setXRange(-0.6, len(names) - 0.4, padding=0)
        chart.setYRange(0, max(counts) * 1.08 or 1, padding=0)
    else:
        ys = list(range(len(names)))[::-1]
        chart.addItem(pg.BarGraphItem(x0=0, y=ys, height=0.7, width=counts, brushes=colors,
                                      pens=[pg.mkPen(None)] * len(names)))
        plot.getAxis("left").setTicks([list(zip(ys, names))])
        plot.getAxis("bottom").setTicks(None)
        plot.setLabel("left", "")
        plot.setLabel("bottom", "reviews (net)")
        chart.setYRange(-0.6, len(names) - 0.4, padding=0)
        chart.setXRange(0, max(counts) * 1.05 or 1, padding=0)


if __name__ == "__main__":
    preview(BatchPanel)
