"""Validation curves of several runs on shared axes: one colour and marker per run, a legend.

Validation accuracy and loss per epoch, side by side; baselines (no epochs) appear as flat
grey reference lines of their validation accuracy, so the bar to beat is always in view.
Colours are Okabe-Ito hues (told apart with the common colour-vision deficiencies), and
each run also gets its own marker shape, so the plot still reads in greyscale.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QThread
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.training.events import EpochSummary
from gui.widgets.colors import OKABE_ITO, is_dark, with_alpha
from gui.widgets.empty_state import show_data, show_empty

# Strong hues first; yellow last (weak on white), black replaced by the palette's ink.
RUN_COLORS = tuple(OKABE_ITO[name] for name in (
    "blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue", "yellow"))
RUN_SYMBOLS = ("o", "s", "t", "d", "t1", "p", "h", "star")
_DARK_BLUE = "#3A9BDC"  # the blue lifted for dark backgrounds (as gui.widgets.colors does)
_BASELINE_STYLES = (Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)


def run_color(index: int, dark: bool = False) -> QColor:
    """The colour of the ``index``-th recurrent run (the same in the plot and the table)."""
    hex_color = RUN_COLORS[index % len(RUN_COLORS)]
    if dark and hex_color == OKABE_ITO["blue"]:
        hex_color = _DARK_BLUE
    return QColor(hex_color)


class ComparisonCurves(QWidget):
    """Two plots (validation accuracy, validation loss) with a curve per run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumSize(360, 220)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        # one legend for both plots, in a row of its own above them, so it never hides a curve
        self.legend = pg.LegendItem(colCount=4, labelTextSize="9pt", horSpacing=18)
        self.graphics.addItem(self.legend, row=0, col=0, colspan=2)
        self.accuracy_plot = self.graphics.addPlot(row=1, col=0)
        self.loss_plot = self.graphics.addPlot(row=1, col=1)
        self.loss_plot.setXLink(self.accuracy_plot)
        for plot, title, label in ((self.accuracy_plot, "Validation accuracy", "accuracy (%)"),
                                   (self.loss_plot, "Validation loss", "cross-entropy loss")):
            plot.setTitle(title)
            plot.setLabel("bottom", "epoch")
            plot.setLabel("left", label)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.getAxis("left").setWidth(52)
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("bottom").setTickSpacing(major=1, minor=1)
            plot.setLimits(xMin=0.5)
        self._order: list[str] = []  # recurrent runs, in the order they were added
        self._epochs: dict[str, list[EpochSummary]] = {}
        self._curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self._cancelled: set[str] = set()
        self._baselines: dict[str, tuple[float, pg.InfiniteLine]] = {}
        self._apply_palette()
        self._show_empty()

    def _show_empty(self) -> None:
        """Before a comparison: a line of what to do, not bare 0-1 axes under 'accuracy (%)'."""
        show_empty(self.accuracy_plot, "Pick the cells to compare and press Compare: each "
                   "model's validation accuracy by epoch appears here.", self)
        show_empty(self.loss_plot, "…and its validation loss here.", self)

    def _show_data(self) -> None:
        for plot in (self.accuracy_plot, self.loss_plot):
            show_data(plot)
            plot.enableAutoRange()

    # ------------------------------------------------------------------ public API
    def reset(self) -> None:
        self._check_thread()
        for accuracy, loss in self._curves.values():
            self.accuracy_plot.removeItem(accuracy)
            self.loss_plot.removeItem(loss)
        for _, line in self._baselines.values():
            self.accuracy_plot.removeItem(line)
        self.legend.clear()
        self._order.clear()
        self._epochs.clear()
        self._curves.clear()
        self._cancelled.clear()
        self._baselines.clear()
        self._show_empty()

    def add_run(self, name: str) -> QColor:
        """Give a recurrent run its colour and (empty) curves; returns the colour."""
        self._check_thread()
        if name not in self._curves:
            if not self._curves and not self._baselines:
                self._show_data()
            self._order.append(name)
            self._epochs[name] = []
            accuracy = self.accuracy_plot.plot()
            loss = self.loss_plot.plot()
            self._curves[name] = (accuracy, loss)
            self._style_run(name)
            self.legend.addItem(accuracy, name)
            self._fit_legend()
        return self.color_of(name)

    def add_epoch(self, name: str, summary: EpochSummary) -> None:
        self._check_thread()
        self.add_run(name)
        epochs = [e for e in self._epochs[name] if e.epoch != summary.epoch] + [summary]
        epochs.sort(key=lambda e: e.epoch)
        self._epochs[name] = epochs
        x = np.array([e.epoch for e in epochs], dtype=np.float64)
        accuracy, loss = self._curves[name]
        accuracy.setData(x, np.array([e.val_accuracy * 100 for e in epochs]))
        loss.setData(x, np.array([e.val_loss for e in epochs]))

    def mark_cancelled(self, name: str) -> None:
        """Draw a cancelled run dashed: its last point is not a finished epoch."""
        self._check_thread()
        if name in self._curves:
            self._cancelled.add(name)
            self._style_run(name)

    def add_baseline(self, name: str, validation_accuracy: float) -> None:
        """A flat reference line at a baseline's validation accuracy."""
        self._check_thread()
        if not self._curves and not self._baselines:
            self._show_data()
        if name in self._baselines:
            self.accuracy_plot.removeItem(self._baselines[name][1])
        line = pg.InfiniteLine(pos=validation_accuracy * 100, angle=0, movable=False)
        line.setZValue(-1)
        self.accuracy_plot.addItem(line)
        self._baselines[name] = (validation_accuracy, line)
        self._style_baseline(name, len(self._baselines) - 1)
        # a sample of the line's pen in the legend (an InfiniteLine has no legend entry)
        sample = pg.PlotDataItem(pen=line.pen)
        self.legend.addItem(sample, f"{name} (baseline)")
        self._fit_legend()

    def _fit_legend(self) -> None:
        """One row for up to four entries, then as many columns as fit side by side."""
        count = len(self.legend.items)
        self.legend.setColumnCount(max(1, min(count, 4 if count <= 4 else 3 if count <= 6
                                              else 4)))

    def runs(self) -> list[str]:
        return list(self._order)

    def epochs_of(self, name: str) -> list[EpochSummary]:
        return list(self._epochs.get(name, []))

    def baselines(self) -> dict[str, float]:
        return {name: value for name, (value, _) in self._baselines.items()}

    def color_of(self, name: str) -> QColor:
        return run_color(self._order.index(name), is_dark(self.palette()))

    # ------------------------------------------------------------------ styling
    def _ink(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Text)

    def _style_run(self, name: str) -> None:
        index = self._order.index(name)
        color = self.color_of(name)
        style = Qt.PenStyle.DashLine if name in self._cancelled else Qt.PenStyle.SolidLine
        background = self.palette().color(QPalette.ColorRole.Base)
        for item in self._curves[name]:
            item.setPen(pg.mkPen(color, width=2, style=style))
            item.setSymbol(RUN_SYMBOLS[index % len(RUN_SYMBOLS)])
            item.setSymbolSize(8)
            item.setSymbolBrush(color)
            item.setSymbolPen(pg.mkPen(background, width=1))

    def _style_baseline(self, name: str, index: int) -> None:
        ink = self._ink()
        grey = with_alpha(ink, 0.6)
        line = self._baselines[name][1]
        line.setPen(pg.mkPen(grey, width=2, style=_BASELINE_STYLES[index % 3]))

    def _apply_palette(self) -> None:
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        ink = self._ink()
        self.graphics.setBackground(background)
        for plot in (self.accuracy_plot, self.loss_plot):
            for axis_name in ("left", "bottom"):
                axis = plot.getAxis(axis_name)
                axis.setPen(pg.mkPen(ink))
                axis.setTextPen(pg.mkPen(ink))
            plot.titleLabel.setText(plot.titleLabel.text, color=ink.name(), size="11pt",
                                    bold=True)
        self.legend.setLabelTextColor(ink)
        for name in self._order:
            self._style_run(name)
        for index, name in enumerate(self._baselines):
            self._style_baseline(name, index)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def _check_thread(self) -> None:
        assert self.thread() is QThread.currentThread()
