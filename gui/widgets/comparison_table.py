"""The comparison's results as a table: one row per run, the best value per column highlighted.

Highlighting is bold text on a tinted cell (never colour alone), and the first column carries
each run's plot colour as a swatch, so a row and its curve are matched at a glance.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from core.compare.runner import ComparisonResult, RunResult, format_value
from gui.widgets.colors import BEST, mix

_TOOLTIPS = {
    "accuracy": "Share of test reviews classified correctly.",
    "macro_f1": "F1 averaged over classes with equal weight (fair when classes are unbalanced).",
    "mae": "Mean absolute error in classes (how many star levels off, on average).",
    "seconds": "Wall-clock training time (baselines: fitting time; VADER needs none).",
    "tokens_per_second": "Training throughput: tokens processed per second of training steps.",
    "parameters": "Learnt numbers in the model (the embedding included).",
    "best_epoch": "The epoch whose weights were kept (best validation accuracy).",
    "status": "completed, early stop, cancelled (best model so far kept) or failed.",
    "details": "The run's model settings.",
}


def swatch(color: QColor, size: int = 12, dashed: bool = False) -> QIcon:
    """A filled square (a run's plot colour), or a dashed grey line for a baseline."""
    pixmap = QPixmap(size, size)
    if not dashed:
        pixmap.fill(color)
        return QIcon(pixmap)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QPen(color, 2, Qt.PenStyle.DashLine))
    painter.drawLine(0, size // 2, size, size // 2)
    painter.end()
    return QIcon(pixmap)


class ComparisonTable(QTableWidget):
    """Read-only results; ``run_selected`` carries the selected run's name ("" for none)."""

    run_selected = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(0, 0, parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(False)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._result: ComparisonResult | None = None
        self._names: list[str] = []
        self._colors: dict[str, QColor] = {}
        self.itemSelectionChanged.connect(self._selection_changed)

    def show_result(self, result: ComparisonResult | None,
                    colors: dict[str, QColor] | None = None) -> None:
        """Fill the table from a (possibly partial) result; keeps the selected run selected."""
        assert self.thread() is QThread.currentThread()
        selected = self.selected_run()
        self._result = result
        self._colors = dict(colors or {})
        self.blockSignals(True)
        self.clearContents()
        if result is None:
            self.setRowCount(0)
            self.setColumnCount(0)
            self._names = []
            self.blockSignals(False)
            return
        columns = result.columns()
        rows = result.table_rows()
        best = result.best()
        self._names = [row["model"] for row in rows]
        self.setColumnCount(len(columns))
        self.setRowCount(len(rows))
        for index, column in enumerate(columns):
            header = QTableWidgetItem(column.title)
            header.setToolTip(_TOOLTIPS.get(column.key, ""))
            self.setHorizontalHeaderItem(index, header)
        highlight = self._highlight_color()
        bold = QFont(self.font())
        bold.setBold(True)
        runs = {run.name: run for run in result.runs}
        for row_index, row in enumerate(rows):
            run = runs[row["model"]]
            for col_index, column in enumerate(columns):
                item = QTableWidgetItem(format_value(column.key, row[column.key]))
                if column.numeric:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if row["model"] in best.get(column.key, ()):
                    item.setFont(bold)
                    item.setBackground(highlight)
                    item.setToolTip("Best in this column")
                if column.key == "model":
                    item.setToolTip(_run_tooltip(run))
                    color = self._colors.get(run.name)
                    if color is not None:
                        item.setIcon(swatch(color))
                    elif run.kind == "baseline":
                        ink = self.palette().color(QPalette.ColorRole.Text)
                        item.setIcon(swatch(ink, dashed=True))
                elif column.key in ("details", "status"):
                    item.setToolTip(run.message or run.details)
                if run.cancelled or run.status == "failed":
                    item.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
                self.setItem(row_index, col_index, item)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        if columns[-1].key == "details":
            header.setSectionResizeMode(len(columns) - 1, QHeaderView.ResizeMode.Stretch)
        self.blockSignals(False)
        if selected in self._names:
            self.selectRow(self._names.index(selected))
        elif selected:
            self.run_selected.emit("")

    EMPTY_TEXT = ("The comparison table appears here: each model's test accuracy with its 95% "
                  "interval, macro-F1, training time and size, on the same test reviews.")

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        """An empty table says what will fill it, instead of a blank white panel."""
        super().paintEvent(event)
        if self.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            area = self.viewport().rect().adjusted(24, 8, -24, -8)
            painter.drawText(area, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                             self.EMPTY_TEXT)
            painter.end()

    def result(self) -> ComparisonResult | None:
        return self._result

    def selected_run(self) -> str:
        rows = {index.row() for index in self.selectionModel().selectedRows()} \
            if self.selectionModel() else set()
        if not rows:
            return ""
        row = min(rows)
        return self._names[row] if row < len(self._names) else ""

    def select_run(self, name: str) -> None:
        if name in self._names:
            self.selectRow(self._names.index(name))

    def best_cells(self) -> dict[str, set[str]]:
        """Which runs are highlighted in which column (column title -> run names)."""
        out: dict[str, set[str]] = {}
        bold_columns = range(self.columnCount())
        for col in bold_columns:
            title = self.horizontalHeaderItem(col).text()
            names = {self._names[row] for row in range(self.rowCount())
                     if self.item(row, col) is not None and self.item(row, col).font().bold()}
            if names:
                out[title] = names
        return out

    def _highlight_color(self) -> QColor:
        base = self.palette().color(QPalette.ColorRole.Base)
        return mix(base, QColor(BEST), 0.28)

    def _selection_changed(self) -> None:
        self.run_selected.emit(self.selected_run())


def _run_tooltip(run: RunResult) -> str:
    lines = [run.name, run.details]
    if run.validation_metrics:
        lines.append(f"validation accuracy {run.validation_metrics['accuracy']:.2%}")
    if run.message:
        lines.append(run.message)
    if run.bundle is not None:
        lines.append("Select and press 'Use this model' to make it the current model.")
    return "\n".join(line for line in lines if line)
