"""The plots of an explanation: the strongest words both ways, the strongest phrases both ways,
and the class probabilities after each word (hovering a point names the word and asks the text
view to mark it)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QToolTip, QWidget

from gui.widgets.axes import integer_axis
from gui.widgets.word_view import AWAY_COLOR, TOWARD_COLOR


def _style(chart: pg.PlotWidget) -> None:
    palette = chart.palette()
    chart.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.WindowText)
    for name in ("left", "bottom"):
        axis = chart.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))


def _empty_note(chart: pg.PlotWidget, text: str) -> None:
    """A grey note in the middle of an empty chart (instead of bare, meaningless axes)."""
    chart.setXRange(0, 1, padding=0)
    chart.setYRange(0, 1, padding=0)
    color = chart.palette().color(QPalette.ColorRole.PlaceholderText)
    note = pg.TextItem(text, color=color, anchor=(0.5, 0.5))
    note.setPos(0.5, 0.5)
    chart.addItem(note)
    for name in ("left", "bottom"):
        chart.getAxis(name).setStyle(showValues=False)


def _short(word: str, limit: int = 16) -> str:
    return word if len(word) <= limit else word[:limit - 1] + "\u2026"


class StrongestWordsChart(pg.PlotWidget):
    """Horizontal bars: the words pushing hardest toward the class on top (orange), the ones
    pushing hardest away at the bottom (blue)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMinimumHeight(180)
        _style(self)
        self.getAxis("bottom").enableAutoSIPrefix(False)  # "x0.001" would hide the units
        self._labels: list[str] = []
        self.set_bars([], [], "")

    def restyle(self) -> None:
        """Follow a light/dark theme switch."""
        _style(self)

    def set_bars(self, labels: Sequence[str], values: Sequence[float], axis_label: str) -> None:
        """``labels``/``values`` from top to bottom; positive values draw orange, negative blue."""
        self.clear()
        self._labels = list(labels)
        plot = self.getPlotItem()
        plot.setLabel("bottom", axis_label)
        plot.getAxis("bottom").setStyle(showValues=True)
        plot.getAxis("left").setStyle(showValues=True)
        if not labels:
            plot.getAxis("left").setTicks([[]])
            _empty_note(self, "The words that pushed hardest will appear here.")
            return
        count = len(labels)
        ys = np.arange(count)[::-1].astype(float)
        values = np.asarray(values, dtype=float)
        brushes = [pg.mkBrush(TOWARD_COLOR if v > 0 else AWAY_COLOR) for v in values]
        self.addItem(pg.BarGraphItem(x0=np.minimum(values, 0), width=np.abs(values), y=ys,
                                     height=0.7, brushes=brushes,
                                     pens=[pg.mkPen(None)] * count))
        self.addItem(pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#8a8a8a")))
        plot.getAxis("left").setTicks([[(float(y), _short(label)) for y, label in
                                        zip(ys, labels)]])
        limit = float(np.abs(values).max()) or 1.0
        self.setXRange(-limit * 1.05 if (values < 0).any() else 0,
                       limit * 1.05 if (values > 0).any() else 0, padding=0.02)
        self.setYRange(-0.6, count - 0.4, padding=0)

    def labels(self) -> list[str]:
        return list(self._labels)


class StrongestPhrasesList(QListWidget):
    """Phrases that act as one unit, pushing toward the class first (orange marker), then
    away (blue); each row shows the phrase, its push and what its words add together."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.setFocusPolicy(self.focusPolicy().NoFocus)
        self.setMinimumHeight(60)
        self.set_phrases([], "")

    def set_phrases(self, rows: Sequence[tuple[str, float, float]], unit: str) -> None:
        """``rows``: (phrase text, score, interaction), in the order to show."""
        self.clear()
        if not rows:
            item = QListWidgetItem("No group of words acts as one unit here."
                                   if unit else "Phrases that act as one unit will appear here.")
            item.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
            self.addItem(item)
            return
        for text, score, interaction in rows:
            marker = "\u25b2" if score > 0 else "\u25bc"
            item = QListWidgetItem(f"{marker} \u201c{_short(text, 36)}\u201d  {score:+.2f}   "
                                   f"(together {interaction:+.2f})")
            item.setForeground((TOWARD_COLOR if score > 0 else AWAY_COLOR).darker(130))
            item.setToolTip(f"\u201c{text}\u201d: {score:+.3f} {unit}; its words alone add up "
                            f"to {score - interaction:+.3f}, so together they add "
                            f"{interaction:+.3f}")
            self.addItem(item)

    def texts(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]


class TrajectoryPlot(pg.PlotWidget):
    """One line per class across word positions; ``word_hovered(index)`` follows the pointer."""

    word_hovered = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"bottom": integer_axis("bottom")})
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMinimumHeight(150)
        _style(self)
        plot = self.getPlotItem()
        plot.setLabel("left", "probability")
        plot.setLabel("bottom", "after reading word number")
        plot.showGrid(x=False, y=True, alpha=0.2)
        self.setYRange(-0.04, 1.06, padding=0)
        plot.getAxis("left").setTicks([[(v / 5, f"{v / 5:.1f}") for v in range(6)]])
        self._marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#555555", width=1,
                                                              style=pg.QtCore.Qt.DashLine))
        self._marker.setVisible(False)
        self._words: list[str] = []
        self._classes: list[str] = []
        self._values = np.zeros((0, 0))
        self._points: np.ndarray = np.zeros(0, dtype=np.int64)
        self._hovered = -1
        self._unread: np.ndarray | None = None
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.set_trajectory(np.zeros((0, 0)), [], [], [])

    def restyle(self) -> None:
        """Follow a light/dark theme switch."""
        _style(self)

    def set_trajectory(self, values: np.ndarray, classes: Sequence[str],
                       colors: Sequence[QColor], words: Sequence[str],
                       unread: Sequence[bool] | None = None) -> None:
        """``values`` [n_words, C] with NaN rows where no prefix was computed; ``unread``
        marks the words the model did not read (shaded, and the lines break there)."""
        self.clear()
        self._unread = None if unread is None else np.asarray(unread, dtype=bool)
        self._words, self._classes = list(words), list(classes)
        self._values = np.asarray(values, dtype=float)
        self._points = np.flatnonzero(np.isfinite(self._values[:, 0])) if len(values) else \
            np.zeros(0, dtype=np.int64)
        for name in ("left", "bottom"):
            self.getAxis(name).setStyle(showValues=bool(len(words)))
        if not len(words):
            _empty_note(self, "The probabilities after each word will appear here.")
            return
        xs, rows = self._line_points()
        for start, end in self.unread_runs():
            region = pg.LinearRegionItem((start + 0.5, end + 0.5), movable=False,
                                         brush=pg.mkBrush(150, 150, 150, 45),
                                         pen=pg.mkPen(None))
            self.addItem(region)
            label = pg.TextItem("not read", color="#777777", anchor=(0.5, 0))
            label.setPos((start + end) / 2 + 0.5, 1.0)
            self.addItem(label)
        for column, (name, color) in enumerate(zip(classes, colors)):
            curve = pg.PlotDataItem(xs, rows[:, column], pen=pg.mkPen(color, width=2),
                                    name=name, connect="finite",
                                    symbol="o" if len(self._points) <= 40 else None,
                                    symbolSize=5, symbolBrush=color, symbolPen=None)
            self.addItem(curve)
        self.addItem(self._marker)
        self._marker.setVisible(False)
        self.setXRange(0.5, max(2.0, len(words) + 0.5), padding=0)
        self.setYRange(-0.04, 1.06, padding=0)
        self._hovered = -1

    def unread_runs(self) -> list[tuple[int, int]]:
        """(first, last) word numbers (1-based) of each stretch of words the model never read
        (a thinned long review skips prefixes too, but those words were read: no gap)."""
        if self._unread is None or not self._unread.any():
            return []
        padded = np.concatenate([[False], self._unread, [False]]).astype(np.int8)
        edges = np.diff(padded)
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        return [(int(a) + 1, int(b)) for a, b in zip(starts, ends)]

    def _line_points(self) -> tuple[np.ndarray, np.ndarray]:
        """x and values of the computed points, with a NaN row breaking the line at each
        unread stretch (so the line does not pretend the model read it)."""
        xs = list(self._points + 1.0)
        rows = list(self._values[self._points]) if len(self._points) else []
        for start, _ in reversed(self.unread_runs()):
            at = int(np.searchsorted(np.asarray(xs), start))
            xs.insert(at, float(start))
            rows.insert(at, np.full(self._values.shape[1], np.nan))
        width = self._values.shape[1] if self._values.ndim == 2 else 0
        return np.asarray(xs, dtype=float), np.asarray(rows, dtype=float).reshape(-1, width)

    def nearest_word(self, x: float) -> int:
        """The computed word closest to plot coordinate ``x`` (word numbers start at 1)."""
        if not len(self._points):
            return -1
        return int(self._points[np.abs(self._points + 1 - x).argmin()])

    def describe(self, index: int) -> str:
        parts = ", ".join(f"{c} {v:.2f}" for c, v in zip(self._classes, self._values[index]))
        return f"after word {index + 1} \u201c{self._words[index]}\u201d: {parts}"

    def show_word(self, index: int) -> None:
        """Move the marker to a word (-1 hides it)."""
        if 0 <= index < len(self._words):
            self._marker.setValue(index + 1)
            self._marker.setVisible(True)
        else:
            self._marker.setVisible(False)

    def _mouse_moved(self, position: QPointF) -> None:
        plot = self.getPlotItem()
        if not plot.sceneBoundingRect().contains(position) or not len(self._points):
            self._set_hovered(-1)
            return
        point = plot.vb.mapSceneToView(position)
        index = self.nearest_word(point.x())
        self._set_hovered(index)
        if index >= 0:
            QToolTip.showText(self.mapToGlobal(self.mapFromScene(position)),
                              self.describe(index), self)

    def _set_hovered(self, index: int) -> None:
        if index == self._hovered:
            return
        self._hovered = index
        self.show_word(index)
        self.word_hovered.emit(index)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self._set_hovered(-1)
        super().leaveEvent(event)
