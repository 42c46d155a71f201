"""Colours for plots and heat maps: Okabe-Ito hues that stay apart for colour-blind readers.

The hues are fixed; what changes with the system palette is the background and the ink,
so a light and a dark theme both read well. Everything here is plain QColor arithmetic.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common
# colour-vision deficiencies and in greyscale print.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

# Roles used across panels, so "train" is the same blue everywhere.
TRAIN = OKABE_ITO["blue"]
TRAIN_BATCH = OKABE_ITO["sky_blue"]
VALIDATION = OKABE_ITO["vermillion"]
BEST = OKABE_ITO["bluish_green"]
CORRECT = OKABE_ITO["blue"]
ERROR = OKABE_ITO["vermillion"]

# On a dark background the dark blue and vermillion lose contrast; these lighter members of
# the same palette keep the hue family (blue for train, orange-red for validation).
_DARK_VARIANTS: dict[str, str] = {
    OKABE_ITO["blue"]: "#3A9BDC",
    OKABE_ITO["vermillion"]: "#F07A2E",
    OKABE_ITO["bluish_green"]: "#1FC49A",
}


def widget_palette(widget: QWidget | None = None) -> QPalette:
    """The palette a widget paints with (the application's when there is no widget)."""
    if widget is not None:
        return widget.palette()
    app = QApplication.instance()
    return app.palette() if app is not None else QPalette()


def is_dark(palette: QPalette) -> bool:
    """Whether the window background is dark (so plots should be drawn light on dark)."""
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5


def role_color(hex_color: str, palette: QPalette) -> QColor:
    """A role's colour, lightened for dark themes where the plain hue lacks contrast."""
    if is_dark(palette):
        hex_color = _DARK_VARIANTS.get(hex_color, hex_color)
    return QColor(hex_color)


def with_alpha(color: QColor | str, alpha: float) -> QColor:
    """A copy of ``color`` with opacity ``alpha`` in [0, 1]."""
    result = QColor(color)
    result.setAlphaF(max(0.0, min(1.0, alpha)))
    return result


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """Linear blend from ``a`` (t=0) to ``b`` (t=1) in RGB."""
    t = max(0.0, min(1.0, t))
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t,
                           a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t, 1.0)


def relative_luminance(color: QColor) -> float:
    """WCAG relative luminance, to pick readable text on a coloured cell."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF())
            + 0.0722 * channel(color.blueF()))


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    high, low = max(la, lb), min(la, lb)
    return (high + 0.05) / (low + 0.05)


def readable_text_color(background: QColor) -> QColor:
    """Black or white, whichever contrasts more with ``background``."""
    black, white = QColor("#000000"), QColor("#ffffff")
    if contrast_ratio(background, black) >= contrast_ratio(background, white):
        return black
    return white


def ramp(base: QColor, target: QColor, t: float) -> QColor:
    """A sequential colour scale from the background to a hue, for heat-map cells.

    The first step is visible (t > 0 never equals the background), so one review in a cell
    is not mistaken for none; the square root spreads the small shares (where most errors
    sit) over more of the scale.
    """
    if t <= 0:
        return QColor(base)
    return mix(base, target, 0.12 + 0.88 * math.sqrt(min(t, 1.0)))


__all__ = [
    "OKABE_ITO", "TRAIN", "TRAIN_BATCH", "VALIDATION", "BEST", "CORRECT", "ERROR",
    "widget_palette", "is_dark", "role_color", "with_alpha", "mix", "relative_luminance",
    "contrast_ratio", "readable_text_color", "ramp",
]
