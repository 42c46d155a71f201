"""Axes that read right: whole-number ticks for counts, 0-100 ticks for shares shown in %.

pyqtgraph picks "nice" steps for any float range, so a count axis showing 0 to 2 gets ticks
at 0.5, 1.5 (half a review), and an axis of shares from 0 to 1 labelled "%" reads 0.1-0.9.
"""

from __future__ import annotations

import math

import pyqtgraph as pg


class IntegerAxis(pg.AxisItem):
    """Ticks only at whole numbers (epochs, reviews, word positions); never a 0.5 step."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float):  # noqa: N802, N803
        levels = super().tickSpacing(minVal, maxVal, size)
        whole = [(max(1.0, float(round(spacing))), offset) for spacing, offset in levels
                 if spacing >= 1.0 or not levels]
        if not whole:
            whole = [(1.0, 0.0)]
        return whole[:2]

    def tickValues(self, minVal: float, maxVal: float, size: float):  # noqa: N802, N803
        return [(spacing, [v for v in values if float(v).is_integer()])
                for spacing, values in super().tickValues(minVal, maxVal, size)]


class PercentAxis(pg.AxisItem):
    """Shares (0-1) drawn as percentages: 0.25 is labelled 25."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        digits = max(0, -int(math.floor(math.log10(spacing * 100)))) if spacing > 0 else 0
        return [f"{value * 100:.{digits}f}" for value in values]


def integer_axis(orientation: str) -> IntegerAxis:
    axis = IntegerAxis(orientation)
    axis.enableAutoSIPrefix(False)
    return axis


def percent_axis(orientation: str) -> PercentAxis:
    axis = PercentAxis(orientation)
    axis.enableAutoSIPrefix(False)
    return axis
