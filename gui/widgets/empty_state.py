"""What an empty chart says: one line of what to do next, instead of bare 0-1 axes.

An empty grid with ticks reads as a result (a class with 0 reviews, a loss of 0); a sentence
in the middle of the plot area says what is missing and how to get it.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

_MESSAGE_KEY = "_empty_state_message"


def _plot_item(plot: pg.PlotItem | pg.PlotWidget) -> pg.PlotItem:
    return plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot


def show_empty(plot: pg.PlotItem | pg.PlotWidget, message: str,
               palette_source: QWidget | None = None) -> pg.TextItem:
    """Hide the axes and write ``message`` in the middle; :func:`show_data` undoes it."""
    item = _plot_item(plot)
    hide_message(item)
    for name in ("left", "bottom"):
        item.hideAxis(name)
    palette = palette_source.palette() if palette_source is not None else QPalette()
    color = palette.color(QPalette.ColorRole.PlaceholderText)
    text = pg.TextItem(message, color=color, anchor=(0.5, 0.5))
    text.setTextWidth(260)
    item.addItem(text, ignoreBounds=True)
    view = item.getViewBox()
    view.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
    (x_min, x_max), (y_min, y_max) = view.viewRange()  # limits (xMin...) may have moved it
    text.setPos((x_min + x_max) / 2, (y_min + y_max) / 2)
    setattr(item, _MESSAGE_KEY, text)
    return text


def hide_message(plot: pg.PlotItem | pg.PlotWidget) -> None:
    item = _plot_item(plot)
    text = getattr(item, _MESSAGE_KEY, None)
    if text is not None:
        item.removeItem(text)
        setattr(item, _MESSAGE_KEY, None)


def show_data(plot: pg.PlotItem | pg.PlotWidget) -> None:
    """Axes back, message gone: there is something to draw."""
    item = _plot_item(plot)
    hide_message(item)
    for name in ("left", "bottom"):
        item.showAxis(name)


def empty_message(plot: pg.PlotItem | pg.PlotWidget) -> str:
    """The line shown now ('' when the plot shows data): for tests and screenshots."""
    text = getattr(_plot_item(plot), _MESSAGE_KEY, None)
    return "" if text is None else text.toPlainText()
