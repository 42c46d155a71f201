"""A confusion-matrix heat map drawn with QPainter: counts in the cells, class names on the axes.

Painted by hand rather than with pyqtgraph so the labels, fonts and colours follow the Qt
palette and stay legible at any size. The shade of a cell is its share of the true class
(row), so a rare class reads as clearly as a common one; the diagonal (correct) is blue, the
rest (errors) orange-red, a pair that colour-blind readers tell apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui.widgets.colors import CORRECT, ERROR, ramp, readable_text_color, role_color


@dataclass(frozen=True)
class _Layout:
    grid: QRect
    cell: int
    rotate: bool  # column names written upwards
    label_w: int  # width given to row names
    col_label_h: int  # height given to column names
    font: QFont  # for class names (smaller when cells are crowded)
    pad: int


class ConfusionHeatmap(QWidget):
    """Rows are the true classes, columns the predicted ones; click a cell to pick that pair."""

    cell_clicked = Signal(int, int)  # (true class, predicted class)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._counts = np.zeros((0, 0), dtype=np.int64)
        self._classes: list[str] = []
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Confusion matrix")

    # ----------------------------------------------------------------- data
    def set_matrix(self, matrix: Sequence[Sequence[int]] | np.ndarray,
                   classes: Sequence[str]) -> None:
        counts = np.asarray(matrix, dtype=np.int64)
        if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or \
                counts.shape[0] != len(classes):
            raise ValueError(f"confusion matrix of shape {counts.shape} does not fit "
                             f"{len(classes)} classes")
        self._counts = counts.copy()
        self._classes = [str(c) for c in classes]
        self.updateGeometry()
        self.update()

    def clear(self) -> None:
        self._counts = np.zeros((0, 0), dtype=np.int64)
        self._classes = []
        self.update()

    def counts(self) -> np.ndarray:
        """The matrix shown, [true, predicted]."""
        return self._counts.copy()

    def classes(self) -> list[str]:
        return list(self._classes)

    def row_share(self, true_index: int, predicted_index: int) -> float:
        """The cell's share of its true class (what its shade encodes)."""
        total = int(self._counts[true_index].sum())
        return float(self._counts[true_index, predicted_index]) / total if total else 0.0

    def cell_text(self, true_index: int, predicted_index: int) -> str:
        """The count written in a cell."""
        return f"{int(self._counts[true_index, predicted_index]):,}"

    def cell_caption(self, true_index: int, predicted_index: int) -> str:
        """The smaller line under the count: the share of the true class."""
        share = self.row_share(true_index, predicted_index)
        return "<1%" if 0 < share < 0.005 else f"{share:.0%}"

    def cell_color(self, true_index: int, predicted_index: int) -> QColor:
        hue = CORRECT if true_index == predicted_index else ERROR
        base = self.palette().color(QPalette.ColorRole.Base)
        return ramp(base, role_color(hue, self.palette()), self.row_share(true_index,
                                                                           predicted_index))

    # ----------------------------------------------------------------- geometry
    def sizeHint(self) -> QSize:
        return QSize(440, 380)

    def minimumSizeHint(self) -> QSize:
        return QSize(220, 200)

    def _title_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def _layout(self) -> _Layout:
        """Where the grid, the class names and the axis titles go at the current size.

        Column names are written upwards when they would not fit across a cell; names shrink
        (down to 7 px) when cells are shorter than a line, and are elided past a cap.
        """
        n = max(len(self._classes), 1)
        pad = 6
        title_h = QFontMetrics(self._title_font()).height()
        font = QFont(self.font())
        fm = QFontMetrics(font)
        widest = max((fm.horizontalAdvance(c) for c in self._classes), default=0)
        label_w = min(widest, max(40, int(self.width() * 0.3))) + 2
        left = pad + title_h + pad + label_w + pad
        avail_w = max(1, self.width() - left - pad)

        def fit(bottom_labels: int) -> tuple[int, int]:
            avail_h = max(1, self.height() - pad - (pad + bottom_labels + pad + title_h + pad))
            return max(1, min(avail_w, avail_h) // n), avail_h

        cell, avail_h = fit(fm.height())
        rotate = widest > cell - 6
        col_label_h = fm.height()
        if rotate:
            col_label_h = min(widest, max(40, int(self.height() * 0.25))) + 2
            cell, avail_h = fit(col_label_h)
        if cell < fm.height():  # crowded: smaller names rather than overlapping ones
            font.setPixelSize(max(7, cell - 1))
            fm = QFontMetrics(font)
        grid_w = cell * n
        x0 = left + (avail_w - grid_w) // 2
        y0 = pad + (avail_h - grid_w) // 2
        return _Layout(QRect(x0, y0, grid_w, grid_w), cell, rotate, label_w, col_label_h, font,
                       pad)

    def cell_rect(self, true_index: int, predicted_index: int) -> QRect:
        layout = self._layout()
        grid, cell = layout.grid, layout.cell
        return QRect(grid.left() + predicted_index * cell, grid.top() + true_index * cell,
                     cell, cell)

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(true, predicted) under a point, or None outside the grid."""
        if not self._classes:
            return None
        layout = self._layout()
        grid, cell = layout.grid, layout.cell
        if not grid.contains(pos):
            return None
        column = (pos.x() - grid.left()) // cell
        row = (pos.y() - grid.top()) // cell
        n = len(self._classes)
        if 0 <= row < n and 0 <= column < n:
            return int(row), int(column)
        return None

    # ----------------------------------------------------------------- painting
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.WindowText)
        if not self._classes:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "The confusion matrix appears after a test run.")
            return
        layout = self._layout()
        self._paint_cells(painter, layout)
        self._paint_labels(painter, layout, text_color)

    def _paint_cells(self, painter: QPainter, layout: _Layout) -> None:
        n = len(self._classes)
        grid, cell = layout.grid, layout.cell
        palette = self.palette()
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        count_font = QFont(self.font())
        count_font.setBold(True)
        count_font.setPixelSize(max(8, min(22, int(cell * 0.28))))
        caption_font = QFont(self.font())
        caption_font.setPixelSize(max(8, min(14, int(cell * 0.17))))
        count_fm = QFontMetrics(count_font)
        count_h = count_fm.height()
        caption_h = QFontMetrics(caption_font).height()
        show_caption = cell >= count_h + caption_h + 10
        widest_count = max(count_fm.horizontalAdvance(self.cell_text(i, j))
                           for i in range(n) for j in range(n))
        show_count = cell >= count_h + 2 and cell >= widest_count + 4
        for i in range(n):
            for j in range(n):
                rect = QRect(grid.left() + j * cell, grid.top() + i * cell, cell, cell)
                fill = self.cell_color(i, j)
                painter.fillRect(rect, fill)
                if not show_count:
                    continue  # too small to write in: the tooltip still gives the count
                empty = self._counts[i, j] == 0
                # An empty cell gets a muted "0" and no share: the eye goes to what happened.
                painter.setPen(muted if empty else readable_text_color(fill))
                painter.setFont(count_font)
                if show_caption and not empty:
                    block = count_h + caption_h
                    top = rect.top() + (cell - block) // 2
                    painter.drawText(QRect(rect.left(), top, cell, count_h),
                                     Qt.AlignmentFlag.AlignCenter, self.cell_text(i, j))
                    painter.setFont(caption_font)
                    painter.drawText(QRect(rect.left(), top + count_h, cell, caption_h),
                                     Qt.AlignmentFlag.AlignCenter, self.cell_caption(i, j))
                else:
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.cell_text(i, j))
        # Thin gaps between cells in the window colour read as a grid in both themes.
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Window), 2 if cell > 12 else 1))
        for k in range(n + 1):
            painter.drawLine(grid.left() + k * cell, grid.top(), grid.left() + k * cell,
                             grid.bottom() + 1)
            painter.drawLine(grid.left(), grid.top() + k * cell, grid.right() + 1,
                             grid.top() + k * cell)

    def _paint_labels(self, painter: QPainter, layout: _Layout, text_color: QColor) -> None:
        grid, cell, pad = layout.grid, layout.cell, layout.pad
        fm = QFontMetrics(layout.font)
        painter.setPen(text_color)
        painter.setFont(layout.font)
        elide = Qt.TextElideMode.ElideRight
        for i, name in enumerate(self._classes):
            rect = QRect(grid.left() - layout.label_w - pad, grid.top() + i * cell,
                         layout.label_w, cell)
            painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(name, elide, layout.label_w))
        for j, name in enumerate(self._classes):
            x = grid.left() + j * cell
            if layout.rotate:
                width = layout.col_label_h
                painter.save()
                painter.translate(x + cell / 2, grid.bottom() + pad)
                painter.rotate(-90)
                painter.drawText(QRectF(-width, -fm.height() / 2, width, fm.height()),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 fm.elidedText(name, elide, width))
                painter.restore()
            else:
                rect = QRect(x, grid.bottom() + pad, cell, fm.height())
                painter.drawText(rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                                 fm.elidedText(name, elide, cell - 2))

        title_font = self._title_font()
        title_fm = QFontMetrics(title_font)
        painter.setFont(title_font)
        bottom_title = QRect(grid.left(), grid.bottom() + pad + layout.col_label_h + pad,
                             grid.width(), title_fm.height())
        painter.drawText(bottom_title, Qt.AlignmentFlag.AlignCenter, "predicted")
        painter.save()
        x_title = grid.left() - layout.label_w - 2 * pad - title_fm.descent()
        painter.translate(x_title, grid.center().y())
        painter.rotate(-90)
        width = max(grid.height(), title_fm.horizontalAdvance("true") + 4)
        painter.drawText(QRectF(-width / 2, -title_fm.ascent(), width, title_fm.height()),
                         Qt.AlignmentFlag.AlignCenter, "true")
        painter.restore()

    # ----------------------------------------------------------------- interaction
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            hit = self.cell_at(event.pos())
            if hit is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.tooltip_text(*hit), self)
            return True
        return super().event(event)

    def tooltip_text(self, true_index: int, predicted_index: int) -> str:
        count = int(self._counts[true_index, predicted_index])
        true_name = self._classes[true_index]
        predicted_name = self._classes[predicted_index]
        reviews = "review" if count == 1 else "reviews"
        share = self.row_share(true_index, predicted_index)
        verdict = "correct" if true_index == predicted_index else "misclassified"
        return (f"true {true_name}, predicted {predicted_name}: {count:,} {reviews} "
                f"({share:.1%} of {true_name}, {verdict})")

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self.cell_at(event.position().toPoint())
            if hit is not None:
                self.cell_clicked.emit(*hit)
        super().mouseReleaseEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        hit = self.cell_at(event.position().toPoint())
        self.setCursor(Qt.CursorShape.PointingHandCursor if hit else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)
