"""A confusion-matrix heat map drawn with QPainter: counts in the cells, class names on the axes.

Painted by hand rather than with pyqtgraph so the labels, fonts and colours follow the Qt
palette and stay legible at any size. The shade of a cell is its share of the true class
(row), so a rare class reads as clearly as a common one; the diagonal (correct) is blue, the
rest (errors) orange-red, a pair that colour-blind readers tell apart.
"""

from __future__ import annotations

from collections.abc import Sequence

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

_MIN_ROTATED_CELL = 44  # narrower columns get their class names written upwards
_MAX_LABEL = 150  # pixels a class name may take before it is elided


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
        return f"{self.row_share(true_index, predicted_index):.0%}"

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

    def _layout(self) -> tuple[QRect, int, bool, int, int]:
        """(grid rect, cell size, rotate column labels, row label width, column label height)."""
        n = len(self._classes)
        fm = QFontMetrics(self.font())
        title_h = QFontMetrics(self._title_font()).height()
        pad = 6
        label_w = min(_MAX_LABEL, max((fm.horizontalAdvance(c) for c in self._classes),
                                      default=0)) + pad
        left = pad + title_h + pad + label_w
        right = pad + 4
        top = pad + 2
        # First guess with horizontal column labels, then rotate them if the cells are narrow.
        bottom = pad + fm.height() + pad + title_h + pad
        avail_w = max(1, self.width() - left - right)
        avail_h = max(1, self.height() - top - bottom)
        cell = max(1, min(avail_w, avail_h) // max(n, 1))
        longest = max((fm.horizontalAdvance(c) for c in self._classes), default=0)
        rotate = cell < _MIN_ROTATED_CELL and longest > cell - 6
        col_label_h = fm.height()
        if rotate:
            col_label_h = min(_MAX_LABEL, longest) + pad
            bottom = pad + col_label_h + pad + title_h + pad
            avail_h = max(1, self.height() - top - bottom)
            cell = max(1, min(avail_w, avail_h) // max(n, 1))
        grid_w = cell * n
        x0 = left + (avail_w - grid_w) // 2
        y0 = top + (avail_h - grid_w) // 2
        return QRect(x0, y0, grid_w, grid_w), cell, rotate, label_w, col_label_h

    def cell_rect(self, true_index: int, predicted_index: int) -> QRect:
        grid, cell, _, _, _ = self._layout()
        return QRect(grid.left() + predicted_index * cell, grid.top() + true_index * cell,
                     cell, cell)

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(true, predicted) under a point, or None outside the grid."""
        if not self._classes:
            return None
        grid, cell, _, _, _ = self._layout()
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
        n = len(self._classes)
        grid, cell, rotate, label_w, col_label_h = self._layout()
        fm = QFontMetrics(self.font())
        gap_color = palette.color(QPalette.ColorRole.Window)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)

        count_font = QFont(self.font())
        count_font.setBold(True)
        count_font.setPixelSize(max(9, min(22, int(cell * 0.28))))
        caption_font = QFont(self.font())
        caption_font.setPixelSize(max(8, min(14, int(cell * 0.17))))
        count_h = QFontMetrics(count_font).height()
        caption_h = QFontMetrics(caption_font).height()
        show_caption = cell >= count_h + caption_h + 10
        show_count = cell >= min(count_h, 14) + 2

        for i in range(n):
            for j in range(n):
                rect = QRect(grid.left() + j * cell, grid.top() + i * cell, cell, cell)
                fill = self.cell_color(i, j)
                painter.fillRect(rect, fill)
                if not show_count:
                    continue
                empty = self._counts[i, j] == 0
                # An empty cell gets a muted "0" and no share: the eye goes to what happened.
                ink = muted if empty else readable_text_color(fill)
                painter.setPen(ink)
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
        painter.setPen(QPen(gap_color, 2))
        for k in range(n + 1):
            painter.drawLine(grid.left() + k * cell, grid.top(), grid.left() + k * cell,
                             grid.bottom() + 1)
            painter.drawLine(grid.left(), grid.top() + k * cell, grid.right() + 1,
                             grid.top() + k * cell)

        painter.setPen(text_color)
        painter.setFont(self.font())
        pad = 6
        for i, name in enumerate(self._classes):
            rect = QRect(grid.left() - label_w - pad, grid.top() + i * cell, label_w, cell)
            painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(name, Qt.TextElideMode.ElideRight, label_w))
        for j, name in enumerate(self._classes):
            x = grid.left() + j * cell
            if rotate:
                painter.save()
                painter.translate(x + cell / 2 + fm.ascent() / 2 - 1, grid.bottom() + pad)
                painter.rotate(-90)
                width = col_label_h - pad
                painter.drawText(QRectF(-width, -fm.ascent(), width, fm.height()),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                                 fm.elidedText(name, Qt.TextElideMode.ElideRight, width))
                painter.restore()
            else:
                rect = QRect(x, grid.bottom() + pad, cell, fm.height())
                painter.drawText(rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                                 fm.elidedText(name, Qt.TextElideMode.ElideRight, cell - 2))

        title_font = self._title_font()
        title_fm = QFontMetrics(title_font)
        painter.setFont(title_font)
        bottom_title = QRect(grid.left(), grid.bottom() + pad + col_label_h + pad,
                             grid.width(), title_fm.height())
        painter.drawText(bottom_title, Qt.AlignmentFlag.AlignCenter, "predicted")
        painter.save()
        x_title = grid.left() - label_w - pad - pad - title_fm.descent()
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
