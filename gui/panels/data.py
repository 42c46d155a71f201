"""The Data tab: open a review file, check its columns, pick a label scheme, see the balance.

The file is read in a worker thread (a million-row file must not freeze the window), the
preview is a model/view table over the first rows, and the class balance is recomputed from
the distinct raw labels only, so moving a cut point is instant even on a large file.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QPoint, Qt, QThread, Signal
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

import resources
from core.errors import ReviewDataError
from core.io.readers import FilePreview, ReadCancelled, preview_file, read_reviews
from core.io.table import ReviewTable
from core.text.labels import LabelScheme, looks_like_stars, make_scheme, rating_range
from core.training.dataset import no_label_row_count
from gui import dialogs
from gui.file_dialogs import REVIEWS_FILTER
from gui.panels.base import Panel, preview
from gui.widgets.axes import integer_axis
from gui.widgets.empty_state import show_data, show_empty
from gui.workers import JobContext, JobHandle

if TYPE_CHECKING:
    from gui.panels.train import UnlabelledState  # plain data the Train tab sends

log = logging.getLogger(__name__)

NONE = "(none)"
SCHEME_KINDS = (("As is", "categorical"), ("Binary", "binary"), ("3-class", "three"),
                ("5-class", "five"))
TINY_SHARE = 0.05
PREVIEW_ROWS = 200
CELL_CHARS = 200
WARNING_COLOR = "#d9822b"

__all__ = ["DataPanel", "RowsModel"]


class RowsModel(QAbstractTableModel):
    """Read-only rows of strings for a QTableView: the view asks only for visible cells."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._headers: list[str] = []
        self._rows: list[list[str]] = []
        self._marks: dict[int, str] = {}

    def set_rows(self, headers: list[str], rows: list[list[str]]) -> None:
        self.beginResetModel()
        self._headers, self._rows, self._marks = list(headers), rows, {}
        self.endResetModel()

    def set_marks(self, marks: dict[int, str]) -> None:
        """Role names shown in the header of the columns that play a role ("text")."""
        self._marks = marks
        if self._headers:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self._headers) - 1)

    def row_values(self, row: int) -> list[str]:
        return self._rows[row]

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        value = row[index.column()] if index.column() < len(row) else ""
        if role == Qt.ItemDataRole.DisplayRole:
            flat = value.replace("\n", " ")
            return flat if len(flat) <= CELL_CHARS else flat[:CELL_CHARS - 1] + "…"
        if role == Qt.ItemDataRole.ToolTipRole and len(value) > 40:
            return value if len(value) <= 1500 else value[:1500] + "…"
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        if section >= len(self._headers):
            return None
        mark = self._marks.get(section)
        return f"{self._headers[section]}  [{mark}]" if mark else self._headers[section]


@dataclass
class _ReadResult:
    preview: FilePreview | None
    table: ReviewTable
    columns: tuple[str, str, str] = ("", "", "")  # text, label, split actually read


class DataPanel(Panel):
    """Open reviews, choose columns and a label scheme; emits ``table_ready`` when usable."""

    table_ready = Signal(object, object)  # ReviewTable, LabelScheme
    table_cleared = Signal()
    columns_changed = Signal(str, object, object, object)  # path, text, label, split
    file_opened = Signal(str)
    explain_requested = Signal(str)
    # The list of added unlabelled files is the Train tab's; these ask it to change.
    add_unlabelled_requested = Signal(list)  # paths chosen here
    clear_unlabelled_requested = Signal()

    STOP_TIMEOUT_MS = 10000
    PREVIEW_SIZE = (1200, 700)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview: FilePreview | None = None
        self.table: ReviewTable | None = None
        self.scheme: LabelScheme | None = None
        self.last_folder = ""
        self._label_counts: Counter[str] = Counter()
        self._updating = False
        self._read_token: object | None = None
        self._before_open: tuple[str, str, FilePreview | None] = ("", "", None)
        self.unlabelled_state: UnlabelledState | None = None  # None: no Train tab has said
        self._build()
        self._show_table_state()
        self._show_reading()  # no empty progress box or live Stop button before a read

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        self.open_button = QPushButton("Open reviews…")
        self.open_button.setProperty("primary", True)
        self.open_button.setToolTip("Open a CSV, TSV, JSON, JSONL or Parquet file (Ctrl+O)")
        self.open_button.clicked.connect(self.choose_file)
        self.sample_button = QPushButton("Open sample")
        self.sample_button.setToolTip("1,200 made-up hotel, product, film and app reviews "
                                      "with star ratings, for a first run")
        self.sample_button.clicked.connect(self.open_sample)
        self.path_label = QLabel("No file open. Open a review file, or drop one on the window.")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.read_progress = QProgressBar()
        self.read_progress.setRange(0, 1000)
        self.read_progress.setMaximumWidth(220)
        self.read_progress.setFormat("Reading… %p%")
        self.cancel_read_button = QPushButton("Stop")
        self.cancel_read_button.setToolTip("Stop reading the file")
        self.cancel_read_button.clicked.connect(self.cancel_read)
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.sample_button)
        top.addWidget(self.path_label, 1)
        top.addWidget(self.read_progress)
        top.addWidget(self.cancel_read_button)

        self.text_combo = QComboBox()
        self.label_combo = QComboBox()
        self.split_combo = QComboBox()
        self.text_combo.setToolTip("The column that holds the review text")
        self.label_combo.setToolTip("The column with the label or star rating to learn")
        self.split_combo.setToolTip("A column saying which rows are train or test (optional)")
        for combo in (self.text_combo, self.label_combo, self.split_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMinimumContentsLength(8)
            combo.activated.connect(self._on_columns_changed)
        columns = QHBoxLayout()
        for name, combo in (("Text:", self.text_combo), ("Label:", self.label_combo),
                            ("Split:", self.split_combo)):
            columns.addWidget(QLabel(name))
            columns.addWidget(combo)
            columns.addSpacing(8)
        columns.addStretch(1)
        self.explain_button = QPushButton("Explain this review")
        self.explain_button.setToolTip("Explain the selected review with the current model")
        self.explain_button.clicked.connect(self._explain_selected)
        columns.addWidget(self.explain_button)

        self.preview_model = RowsModel(self)
        self.preview_view = QTableView()
        self.preview_view.setModel(self.preview_model)
        self.preview_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.preview_view.setWordWrap(False)
        self.preview_view.setAlternatingRowColors(True)
        self.preview_view.verticalHeader().setDefaultSectionSize(
            self.preview_view.fontMetrics().height() + 8)
        self.preview_view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Interactive)
        self.preview_view.horizontalHeader().setStretchLastSection(True)
        self.preview_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.preview_view.customContextMenuRequested.connect(self._preview_menu)
        self.preview_view.selectionModel().selectionChanged.connect(self._update_explain_button)
        self.preview_caption = QLabel("")

        left = QVBoxLayout()
        left.addLayout(top)
        left.addLayout(columns)
        left.addWidget(self.preview_view, 1)
        left.addWidget(self.preview_caption)

        # label scheme
        self.scheme_combo = QComboBox()
        for name, kind in SCHEME_KINDS:
            self.scheme_combo.addItem(name, kind)
        self.scheme_combo.setToolTip("How labels become classes: as they are, or star ratings "
                                     "grouped into 2, 3 or 5 classes by cut points")
        self.scheme_combo.activated.connect(self._on_scheme_kind)
        self.negative_cut = _cut_box("Ratings up to this value are negative")
        self.positive_cut = _cut_box("Ratings from this value up are positive")
        self.five_cuts = [_cut_box(f"Highest rating in the '{i} star' class")
                          for i in range(1, 5)]
        for box in (self.negative_cut, self.positive_cut, *self.five_cuts):
            box.valueChanged.connect(self._on_cuts_changed)
        scheme_box = QGroupBox("Label scheme")
        self.scheme_form = QFormLayout(scheme_box)
        self.scheme_form.addRow("Classes:", self.scheme_combo)
        self.scheme_form.addRow("Negative ≤", self.negative_cut)
        self.scheme_form.addRow("Positive ≥", self.positive_cut)
        for index, box in enumerate(self.five_cuts, 1):
            self.scheme_form.addRow(f"{index} star{'s' if index > 1 else ''} ≤", box)
        self.scheme_note = QLabel("")
        self.scheme_note.setWordWrap(True)
        self.scheme_form.addRow(self.scheme_note)

        balance_box = QGroupBox("Class balance")
        balance = QVBoxLayout(balance_box)
        self.chart = pg.PlotWidget(axisItems={"left": integer_axis("left")})  # counts
        self.chart.setMenuEnabled(False)
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.hideButtons()
        self.chart.setMinimumHeight(150)
        self.chart.setLabel("left", "reviews")
        self.bars: pg.BarGraphItem | None = None
        self.bar_counts: list[int] = []
        self.warning_label = QLabel("")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet(f"color: {WARNING_COLOR};")
        balance.addWidget(self.chart, 1)
        balance.addWidget(self.warning_label)

        summary_box = QGroupBox("Rows")
        summary = QVBoxLayout(summary_box)
        self.counts_label = QLabel("")
        self.counts_label.setWordWrap(True)
        self.skipped_button = QPushButton("Show skipped rows…")
        self.skipped_button.clicked.connect(self.show_skipped)
        summary.addWidget(self.counts_label)
        summary.addWidget(self.skipped_button, 0, Qt.AlignmentFlag.AlignLeft)

        unlabelled_box = QGroupBox("Unlabelled reviews")
        unlabelled = QVBoxLayout(unlabelled_box)
        self.unlabelled_label = QLabel("")
        self.unlabelled_label.setObjectName("unlabelledSummary")
        self.unlabelled_label.setWordWrap(True)
        self.add_unlabelled_button = QPushButton("Add unlabelled files…")
        self.add_unlabelled_button.setToolTip(
            "Review files whose texts pretraining (and virtual adversarial training) also "
            "learn from; their labels, if any, are ignored. Shared with the Train tab.")
        self.add_unlabelled_button.clicked.connect(self.choose_unlabelled)
        self.clear_unlabelled_button = QPushButton("Clear")
        self.clear_unlabelled_button.setToolTip("Forget the added unlabelled files")
        self.clear_unlabelled_button.clicked.connect(self.clear_unlabelled_requested)
        unlabelled_buttons = QHBoxLayout()
        unlabelled_buttons.addWidget(self.add_unlabelled_button)
        unlabelled_buttons.addWidget(self.clear_unlabelled_button)
        unlabelled_buttons.addStretch(1)
        unlabelled.addWidget(self.unlabelled_label)
        unlabelled.addLayout(unlabelled_buttons)

        right = QVBoxLayout()
        right.addWidget(scheme_box)
        right.addWidget(balance_box, 1)
        right.addWidget(summary_box)
        right.addWidget(unlabelled_box)
        right_widget = QWidget()
        right_widget.setLayout(right)
        right_widget.setFixedWidth(340)
        right.setContentsMargins(0, 0, 0, 0)

        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(right_widget)
        self._style_chart()

    # -- opening ---------------------------------------------------------------------------
    def choose_file(self) -> None:
        path = dialogs.choose_open_file(self, "Open reviews", self.last_folder,
                                        REVIEWS_FILTER)
        if path:
            self.open_path(path)

    def open_sample(self) -> None:
        self.open_path(str(resources.SAMPLE_REVIEWS))

    def load_preview(self, args: list[str]) -> None:
        """``python -m gui.panels.data [file]``: the file, or the sample reviews."""
        if args:
            self.open_path(args[0])
        else:
            self.open_sample()

    def open_path(self, path: str | Path,
                  columns: dict[str, str | None] | None = None) -> JobHandle | None:
        """Preview and read ``path`` in a worker (the file dialog's path lands here too).

        ``columns`` (text / label / split) are remembered choices for this file; a column
        the file no longer has falls back to the engine's guess.
        """
        path = str(path)
        self.last_folder = str(Path(path).parent if Path(path).is_file() else Path(path))

        def job(ctx: JobContext) -> _ReadResult | None:
            ctx.status("Looking at the file…")
            preview = preview_file(path, PREVIEW_ROWS)
            text, label, split = _pick_columns(preview, columns)
            ctx.emit_now(("preview", preview, (text, label, split)))
            try:
                table = read_reviews(path, text_column=text, label_column=label,
                                     split_column=split, progress=ctx.emit,
                                     cancel=ctx.is_cancelled)
            except ReadCancelled:
                return None
            return _ReadResult(preview, table, (text, label, split))

        self._before_open = (self.path_label.text(), self.path_label.toolTip(), self.preview)
        self.path_label.setText(f"Opening {path}…")
        self.status_message.emit(f"Opening {path}…")
        return self._start_read(job, opening=True)

    def _restore_path_label(self) -> None:
        """After an open that failed or was stopped: say again what is really open (the
        'Opening …' line stayed beside the old table before, issue 16 item 7)."""
        text, tip, preview = self._before_open
        if self.preview is preview:
            self.path_label.setText(text if preview is not None else "No file open. Open a "
                                    "review file, or drop one on the window.")
            self.path_label.setToolTip(tip)

    def reread(self) -> JobHandle | None:
        """Read the open file again with the columns in the combo boxes."""
        if self.preview is None:
            return None
        path = self.preview.path
        text = self.text_combo.currentData() or None
        label = self.label_combo.currentData() or ""
        split = self.split_combo.currentData() or ""

        def job(ctx: JobContext) -> _ReadResult | None:
            try:
                table = read_reviews(path, text_column=text, label_column=label,
                                     split_column=split, progress=ctx.emit,
                                     cancel=ctx.is_cancelled)
            except ReadCancelled:
                return None
            return _ReadResult(None, table)

        self.status_message.emit("Reading the file again with the new columns…")
        return self._start_read(job, opening=False)

    def _start_read(self, job: Any, opening: bool) -> JobHandle | None:
        assert self.thread() is QThread.currentThread()
        if self.closed:
            return None
        self.cancel_job()  # the newer read replaces it; its late results are dropped
        self.read_progress.setValue(0)
        token = object()  # results of a read replaced by a newer one are dropped
        self._read_token = token
        handle = self.run_job(
            job,
            on_progress=lambda events: self._on_read_progress(token, events),
            on_finished=lambda result: self._on_read_finished(token, result),
            on_failed=lambda message, details: self._on_read_failed(
                token, message, details, opening),
            on_status=self.status_message.emit, on_ended=self._show_reading)
        self._show_reading()
        return handle

    def cancel_read(self) -> None:
        self.cancel_job()

    @property
    def reading(self) -> bool:
        return self.running

    def _show_reading(self) -> None:
        reading = self.reading
        self.read_progress.setVisible(reading)
        self.cancel_read_button.setVisible(reading)
        for combo in (self.text_combo, self.label_combo, self.split_combo):
            combo.setEnabled(not reading and self.preview is not None)

    def _on_read_progress(self, token: object, events: list) -> None:
        if token is not self._read_token:
            return  # a read that was replaced by a newer one
        for event in events:
            if isinstance(event, float):
                self.read_progress.setValue(int(event * 1000))
            elif isinstance(event, tuple) and event[0] == "preview":
                self._show_preview(event[1], event[2])

    def _on_read_finished(self, token: object, result: _ReadResult | None) -> None:
        assert self.thread() is QThread.currentThread()
        if token is not self._read_token:
            return
        if result is None:  # cancelled: keep what was shown before
            self.status_message.emit("Reading stopped.")
            self._restore_path_label()
            return
        if result.preview is not None and result.preview is not self.preview:
            self._show_preview(result.preview, result.columns)
        self.set_table(result.table)
        self.file_opened.emit(self.preview.path if self.preview else result.table.path)
        self.columns_changed.emit(result.table.path, result.table.text_column,
                                  result.table.label_column, self.split_combo.currentData())
        table = result.table
        if table.fault:  # the reviews before a fatal fault are kept; say where it stopped
            dialogs.show_error(self, "The file was not read to the end",
                               f"{table.path}: {table.fault}. The {len(table):,} complete "
                               "reviews before that point were kept.")

    def _on_read_failed(self, token: object, message: str, details: str,
                        opening: bool) -> None:
        if token is not self._read_token:
            return
        if opening:
            self._restore_path_label()
        if (not opening or self.preview is not self._before_open[2]) and self.table is not None:
            self.table = None  # the combos no longer match the table that was read
            self._label_counts = Counter()
            self._show_table_state()
        self.status_message.emit("Could not read the file.")
        dialogs.show_error(self, "Cannot read the reviews", message, details)

    # -- showing the file -------------------------------------------------------------------
    def _show_preview(self, preview: FilePreview, columns: tuple[str, str, str]) -> None:
        """Fill the preview table, and the column combos with the columns being read."""
        self.preview = preview
        self.table = None
        hint = (f"{preview.total_rows_hint:,} rows" if preview.total_rows_hint is not None
                else "row count unknown until read")
        encoding = f", {preview.encoding}" if preview.encoding else ""
        self.path_label.setText(f"{preview.path}  ({preview.format}{encoding}, {hint})")
        self.path_label.setToolTip(preview.path)
        self.preview_model.set_rows(preview.columns, preview.rows)
        self.preview_caption.setText(
            f"Showing the first {len(preview.rows):,} rows. Right-click a row to explain it.")
        self._fill_combos(preview.columns, *columns)
        self._size_preview_columns()

    def _fill_combos(self, columns: list[str], text: str | None, label: str | None,
                     split: str | None) -> None:
        self._updating = True
        try:
            for combo, value, optional in ((self.text_combo, text, False),
                                           (self.label_combo, label, True),
                                           (self.split_combo, split, True)):
                combo.clear()
                if optional:
                    combo.addItem(NONE, "")
                for column in columns:
                    combo.addItem(column, column)
                index = combo.findData(value or "")
                combo.setCurrentIndex(max(index, 0))
        finally:
            self._updating = False
        self._mark_columns()

    def _mark_columns(self) -> None:
        if self.preview is None:
            return
        marks = {}
        for role, combo in (("text", self.text_combo), ("label", self.label_combo),
                            ("split", self.split_combo)):
            name = combo.currentData()
            if name and name in self.preview.columns:
                marks[self.preview.columns.index(name)] = role
        self.preview_model.set_marks(marks)

    def _size_preview_columns(self) -> None:
        header = self.preview_view.horizontalHeader()
        header.setResizeContentsPrecision(30)  # measure 30 rows, not all 200
        self.preview_view.resizeColumnsToContents()
        for column in range(self.preview_model.columnCount()):
            header.resizeSection(column, min(header.sectionSize(column), 420))

    def set_columns(self, text: str | None = None, label: str | None = None,
                    split: str | None = None) -> JobHandle | None:
        """Pick columns as a user would in the combo boxes ('' means none), then re-read."""
        for combo, value in ((self.text_combo, text), (self.label_combo, label),
                             (self.split_combo, split)):
            if value is not None:
                index = combo.findData(value)
                if index < 0:
                    raise ValueError(f"no column {value!r}")
                combo.setCurrentIndex(index)
        return self._on_columns_changed()

    def _on_columns_changed(self, *_: Any) -> JobHandle | None:
        if self._updating:
            return None
        self._mark_columns()
        return self.reread()

    def set_table(self, table: ReviewTable) -> None:
        """Show a table that was read, and pick the default label scheme for it."""
        assert self.thread() is QThread.currentThread()
        self.table = table
        self._label_counts = Counter(table.labels) if table.labels is not None else Counter()
        self._setup_scheme_editor()
        self._show_table_state()

    # -- label scheme ------------------------------------------------------------------------
    def _setup_scheme_editor(self) -> None:
        """Enable the rating schemes for numeric labels and choose the default kind."""
        labels = list(self._label_counts)
        bounds = rating_range(labels) if labels else None
        model = self.scheme_combo.model()
        for row in range(1, self.scheme_combo.count()):
            item = model.item(row)  # type: ignore[attr-defined]
            item.setEnabled(bounds is not None)
            item.setToolTip("" if bounds is not None else "Needs numeric ratings as labels")
        self._updating = True
        try:
            low, high = bounds if bounds is not None else (0.0, 10.0)
            for box in (self.negative_cut, self.positive_cut, *self.five_cuts):
                box.setRange(low, high)
            kind = "binary" if bounds is not None and looks_like_stars(labels) else "categorical"
            self.scheme_combo.setCurrentIndex(self.scheme_combo.findData(kind))
        finally:
            self._updating = False
        self._rebuild_scheme(default_cuts=True)

    def set_scheme_kind(self, kind: str) -> None:
        """Choose 'categorical', 'binary', 'three' or 'five' as the user would."""
        index = self.scheme_combo.findData(kind)
        if index < 0:
            raise ValueError(f"unknown scheme kind {kind!r}")
        self.scheme_combo.setCurrentIndex(index)
        self._on_scheme_kind()

    def _on_scheme_kind(self, *_: Any) -> None:
        if not self._updating:
            self._rebuild_scheme(default_cuts=True)

    def _on_cuts_changed(self, *_: Any) -> None:
        if not self._updating:
            self._rebuild_scheme(default_cuts=False)

    def _cuts(self, kind: str) -> list[float]:
        if kind == "five":
            return [box.value() for box in self.five_cuts]
        return [self.negative_cut.value(), self.positive_cut.value()]

    def _rebuild_scheme(self, default_cuts: bool) -> None:
        kind = self.scheme_combo.currentData()
        self._show_cut_rows(kind)
        self.scheme = None
        labels = list(self._label_counts)
        if self.table is None or self.table.labels is None:
            self._show_table_state()
            return
        try:
            cuts = None if default_cuts or kind == "categorical" else self._cuts(kind)
            self.scheme = make_scheme(kind, labels, cuts)
        except ReviewDataError as error:
            self.scheme_note.setText(str(error))
        else:
            self.scheme_note.setText(self.scheme.describe())
            if default_cuts:
                self._show_cuts(self.scheme)
        self._show_table_state()

    def _show_cuts(self, scheme: LabelScheme) -> None:
        """Put the cut points a fresh scheme uses into the spin boxes."""
        self._updating = True
        try:
            if scheme.kind == "five":
                for box, (_, high) in zip(self.five_cuts, scheme.bins):
                    box.setValue(high)
            elif scheme.kind in ("binary", "three"):
                self.negative_cut.setValue(scheme.bins[0][1])
                self.positive_cut.setValue(scheme.bins[-1][0])
        finally:
            self._updating = False

    def _show_cut_rows(self, kind: str) -> None:
        for box in (self.negative_cut, self.positive_cut):
            self.scheme_form.setRowVisible(box, kind in ("binary", "three"))
        for box in self.five_cuts:
            self.scheme_form.setRowVisible(box, kind == "five")

    def class_counts(self) -> tuple[list[int], int]:
        """Reviews per class of the current scheme, and how many it leaves out."""
        if self.scheme is None:
            return [], 0
        counts = [0] * self.scheme.num_classes
        left_out = 0
        for raw, count in self._label_counts.items():
            index = self.scheme.encode(raw)
            if index is None:
                left_out += count
            else:
                counts[index] += count
        return counts, left_out

    def left_out_labels(self) -> list[str]:
        if self.scheme is None:
            return []
        return sorted((raw for raw in self._label_counts if self.scheme.encode(raw) is None),
                      key=lambda r: (rating_range([r]) is None, rating_range([r]) or 0, r))

    # -- state display -----------------------------------------------------------------------
    def _show_table_state(self) -> None:
        table = self.table
        has_labels = table is not None and table.labels is not None
        self.scheme_combo.setEnabled(has_labels)
        for box in (self.negative_cut, self.positive_cut, *self.five_cuts):
            box.setEnabled(has_labels)
        self.skipped_button.setEnabled(table is not None and bool(table.skipped))
        self._update_explain_button()
        self._show_unlabelled()
        if table is None:
            self.counts_label.setText("No reviews read yet.")
            self.scheme_note.setText("")
            self._draw_bars([], [])
            self.warning_label.setText("")
            self.table_cleared.emit()
            return
        counts, left_out = self.class_counts()
        skipped = len(table.skipped)
        lines = [f"<b>{len(table):,}</b> reviews read; {skipped:,} row"
                 f"{'' if skipped == 1 else 's'} skipped."]
        unlabelled = no_label_row_count(table)
        if unlabelled:
            lines.append(f"{unlabelled:,} of them have text but no label (see Unlabelled "
                         "reviews below).")
        if not has_labels:
            lines.append("No label column: pick one to train a model.")
        elif self.scheme is not None:
            used = sum(counts)
            lines.append(f"{used:,} reviews in {self.scheme.num_classes} classes.")
            if left_out:
                shown = ", ".join(self.left_out_labels()[:6])
                lines.append(f"{left_out:,} left out by the scheme (labels: {shown}).")
        if table.splits is not None:
            split_counts = Counter(s.lower() for s in table.splits)
            lines.append("Split column: " + ", ".join(
                f"{name or 'blank'} {count:,}" for name, count in split_counts.most_common(4)))
        self.counts_label.setText("<br>".join(lines))
        if self.scheme is None:
            self._draw_bars([], [])
            self.warning_label.setText("" if has_labels else "Pick a label column.")
            self.table_cleared.emit()
            return
        self._draw_bars(self.scheme.classes, counts)
        self.warning_label.setText(_balance_warning(self.scheme.classes, counts))
        self.status_message.emit(f"{len(table):,} reviews ready: {self.scheme.describe()}")
        self.table_ready.emit(table, self.scheme)

    def _draw_bars(self, classes: list[str], counts: list[int]) -> None:
        self.chart.clear()
        self.bar_counts = list(counts)
        self.bars = None
        if not classes:
            show_empty(self.chart, "Open a review file with a label column (File > Open, or "
                       "Open sample) to see how many reviews each class has.", self)
            return
        show_data(self.chart)
        total = max(sum(counts), 1)
        brushes = [pg.mkBrush(WARNING_COLOR if c / total < TINY_SHARE else
                              resources.ACCENT_COLOR) for c in counts]
        self.bars = pg.BarGraphItem(x=list(range(len(classes))), height=counts, width=0.65,
                                    brushes=brushes, pen=pg.mkPen(None))
        self.chart.addItem(self.bars)
        text_color = self.palette().color(QPalette.ColorRole.WindowText)
        for index, count in enumerate(counts):
            label = pg.TextItem(f"{count:,}", color=text_color, anchor=(0.5, 1.0))
            label.setPos(index, count)
            self.chart.addItem(label)
        axis = self.chart.getAxis("bottom")
        axis.setTicks([[(i, _short(name)) for i, name in enumerate(classes)]])
        self.chart.setXRange(-0.6, len(classes) - 0.4, padding=0)
        self.chart.setYRange(0, max(counts) * 1.18 + 1, padding=0)

    def _style_chart(self) -> None:
        palette = self.palette()
        self.chart.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.WindowText)
        for name in ("left", "bottom"):
            axis = self.chart.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self._style_chart()
            if self.scheme is not None:
                self._draw_bars(self.scheme.classes, self.bar_counts)
        super().changeEvent(event)

    # -- unlabelled reviews -----------------------------------------------------------------
    def spare_rows(self) -> int:
        """Rows of the open file with text but no label (the reader set them aside)."""
        if self.table is None:
            return 0
        return no_label_row_count(self.table, outside_test=True)

    def show_unlabelled(self, state: UnlabelledState) -> None:
        """The Train tab's added files and whether its settings use unlabelled reviews."""
        self.unlabelled_state = state
        self._show_unlabelled()

    def choose_unlabelled(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add unlabelled reviews",
                                                dialogs.start_folder(self.last_folder or None),
                                                REVIEWS_FILTER)
        if paths:
            self.add_unlabelled_requested.emit(list(paths))

    def _show_unlabelled(self) -> None:
        self.unlabelled_label.setText(unlabelled_summary(self.spare_rows(),
                                                         self.unlabelled_state))
        state = self.unlabelled_state
        editable = state is None or state.editable
        self.add_unlabelled_button.setEnabled(editable)
        self.clear_unlabelled_button.setEnabled(editable and state is not None
                                                and bool(state.files))
        self.unlabelled_label.setToolTip("" if state is None else state.tooltip())

    # -- skipped rows ---------------------------------------------------------------------------
    def show_skipped(self) -> None:
        if self.table is None or not self.table.skipped:
            return
        dialog = QDialog(self)
        dialog.setWindowTitle(f"Skipped rows ({len(self.table.skipped):,})")
        model = RowsModel(dialog)
        model.set_rows(["Row", "Reason", "Source"],
                       [[str(s.row), s.reason, s.source] for s in self.table.skipped])
        view = QTableView()
        view.setModel(model)
        view.horizontalHeader().setStretchLastSection(True)
        view.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(QLabel("These rows were not read, and why:"))
        layout.addWidget(view)
        layout.addWidget(buttons)
        dialog.resize(760, 420)
        dialog.open()
        self.skipped_dialog = dialog

    # -- explain ----------------------------------------------------------------------------
    def preview_text(self, row: int) -> str | None:
        """The review text of a preview row, from the chosen text column."""
        if self.preview is None or not 0 <= row < len(self.preview.rows):
            return None
        column = self.text_combo.currentData() or self.preview.text_column
        if column not in self.preview.columns:
            return None
        values = self.preview.rows[row]
        index = self.preview.columns.index(column)
        return values[index] if index < len(values) else None

    def explain_row(self, row: int) -> None:
        text = self.preview_text(row)
        if text and text.strip():
            self.explain_requested.emit(text)

    def _explain_selected(self) -> None:
        rows = self.preview_view.selectionModel().selectedRows()
        if rows:
            self.explain_row(rows[0].row())

    def _update_explain_button(self, *_: Any) -> None:
        selected = bool(self.preview_view.selectionModel().selectedRows())
        self.explain_button.setEnabled(selected)

    def _preview_menu(self, point: QPoint) -> None:
        index = self.preview_view.indexAt(point)
        if not index.isValid():
            return
        menu = QMenu(self)
        action = QAction("Explain this review", menu)
        action.triggered.connect(lambda: self.explain_row(index.row()))
        menu.addAction(action)
        menu.popup(self.preview_view.viewport().mapToGlobal(point))


def _pick_columns(preview: FilePreview, remembered: dict[str, str | None] | None
                  ) -> tuple[str, str, str]:
    """Remembered columns when the file still has them, else the engine's guesses."""
    text, label, split = preview.text_column, preview.label_column, preview.split_column
    if remembered:
        if remembered.get("text") in preview.columns:
            text = remembered["text"]  # type: ignore[assignment]
        if "label" in remembered and (not remembered["label"]
                                      or remembered["label"] in preview.columns):
            label = remembered["label"]
        if "split" in remembered and (not remembered["split"]
                                      or remembered["split"] in preview.columns):
            split = remembered["split"]
    return text, label or "", split or ""


def _balance_warning(classes: list[str], counts: list[int]) -> str:
    total = sum(counts)
    notes = []
    for name, count in zip(classes, counts):
        if count == 0:
            notes.append(f"'{name}' has no reviews")
        elif count / max(total, 1) < TINY_SHARE:
            notes.append(f"'{name}' has only {count:,} reviews ({count / total:.1%})")
    if not notes:
        return ""
    return ("⚠ " + "; ".join(notes) + ". The model may rarely predict "
            + ("it" if len(notes) == 1 else "them")
            + ": merge classes or move the cut points.")


def unlabelled_summary(spare: int, state: UnlabelledState | None) -> str:
    """The Data tab's lines about unlabelled reviews: how many, from where, and whether the
    current training settings will read them (and how to make them)."""
    files = state.files if state is not None else ()
    added = state.reviews if state is not None else 0
    total = spare + added
    parts = []
    if spare:
        parts.append(f"{spare:,} row{'' if spare == 1 else 's'} of this file without a label")
    if state is not None and files:
        parts.append(f"{added:,} in {len(files)} added file{'' if len(files) == 1 else 's'} "
                     f"({state.shown_names()})")
    uses = " and ".join(state.used_by) if state is not None else ""
    if total:
        lines = [f"<b>{total:,}</b> unlabelled review{'' if total == 1 else 's'}: "
                 + "; ".join(parts) + "."]
        if uses:
            lines.append(f"Will be used by {uses}, as set in the Train tab.")
        elif state is not None:
            lines.append(f"<span style='color: {WARNING_COLOR};'>Not used with the current "
                         "settings: in the Train tab, set Pretraining to Word vectors or "
                         "Language model, or Adversarial to Virtual adversarial.</span>")
    else:
        lines = ["No unlabelled reviews yet (rows with text but no label, or files added "
                 "here)."]
        lines.append(f"Add files to give {uses} more text to learn from." if uses else
                     "Pretraining can learn from them; it is set in the Train tab.")
    if state is not None and state.reading:
        lines.append(f"Reading {state.reading} file{'' if state.reading == 1 else 's'}…")
    return "<br>".join(lines)


def _short(name: str, limit: int = 12) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"


def _cut_box(tooltip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(1)
    box.setSingleStep(0.5)
    box.setKeyboardTracking(False)
    box.setToolTip(tooltip)
    return box


if __name__ == "__main__":
    preview(DataPanel)
