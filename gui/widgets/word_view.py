"""A review shown word by word on a diverging colour scale, with exact scores on hover.

Blue and orange stay distinguishable under every common colour-vision deficiency (they are the
two ends of the usual colour-blind-safe diverging maps), and black text stays readable on both
ends. Scores arrive as plain numbers; this widget only paints them.

A phrase layer can lie over the words: a bracket under each group of words that acts as one
unit (from contextual decomposition), drawn in the colour of the group's own push, so "not
bad" can be read as one positive unit even where "bad" alone is coloured negative.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QLinearGradient,
    QPainter,
    QPalette,
    QPen,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QSizePolicy, QTextBrowser, QTextEdit, QToolTip, QWidget

from gui.widgets.colors import readable_text_color

TOWARD_COLOR = QColor("#f0923a")  # orange: pushes toward the explained class
AWAY_COLOR = QColor("#4f93d8")  # blue: pushes away from it
NOT_READ_COLOR = QColor("#9a9a9a")
HIGHLIGHT_COLOR = QColor("#2b2b2b")
_WHITE = QColor("#ffffff")
_BREAK = re.compile(r"<\s*br\s*/?\s*>|</?\s*p\s*>", re.IGNORECASE)


def score_color(score: float, scale: float, base: QColor | None = None) -> QColor:
    """``base`` (white unless given) for 0, full orange for +scale, full blue for -scale.

    A square-root ramp makes a word with a fifth of the top score still visibly tinted. On a
    dark theme ``base`` is the dark background, so weak words stay dark instead of glowing.
    """
    start = QColor(base) if base is not None else QColor(_WHITE)
    if scale <= 0 or score == 0:
        return start
    amount = min(1.0, abs(score) / scale) ** 0.5
    end = TOWARD_COLOR if score > 0 else AWAY_COLOR
    return QColor(round(start.red() + (end.red() - start.red()) * amount),
                  round(start.green() + (end.green() - start.green()) * amount),
                  round(start.blue() + (end.blue() - start.blue()) * amount))


def separator(gap: str) -> str:
    """What to show between two words: a paragraph break for line breaks, else one space."""
    breaks = gap.count("\n") + len(_BREAK.findall(gap))
    if breaks:
        return "\n" if breaks == 1 else "\n\n"
    return " "


class WordView(QTextBrowser):
    """Read-only coloured text; ``word_hovered(index)`` (-1 off any word) as the pointer moves."""

    word_hovered = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.viewport().setMouseTracking(True)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.document().setDefaultFont(font)
        self.document().setDocumentMargin(10)
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._tooltips: list[str] = []
        self._hovered = -1
        self._highlighted = -1
        self._phrases: list[tuple[int, int, float]] = []  # (first word, end word, score)

    # ---------------------------------------------------------------- content

    def set_words(self, text: str, spans: Sequence[tuple[int, int]],
                  scores: Sequence[float | None], scale: float,
                  tooltips: Sequence[str]) -> None:
        """Show ``text``'s words (``spans``) coloured by score; None marks a word not read."""
        self.clear()
        self._tooltips = list(tooltips)
        cursor = QTextCursor(self.document())
        block = QTextBlockFormat()
        block.setLineHeight(150, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value)
        block.setBottomMargin(4)
        cursor.setBlockFormat(block)
        plain = QTextCharFormat()
        base = self.palette().color(QPalette.ColorRole.Base)
        previous_end = None
        for (start, end), score in zip(spans, scores):
            if previous_end is not None:
                cursor.insertText(separator(text[previous_end:start]), plain)
            word_format = QTextCharFormat()
            if score is None:
                word_format.setForeground(NOT_READ_COLOR)
                word_format.setFontItalic(True)
            else:
                color = score_color(score, scale, base)
                if color != base:
                    word_format.setBackground(color)
                    # Black or white, whichever reads better on this tint (WCAG contrast).
                    word_format.setForeground(readable_text_color(color))
            self._starts.append(cursor.position())
            cursor.insertText(text[start:end], word_format)
            self._ends.append(cursor.position())
            previous_end = end
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def clear(self) -> None:
        super().clear()
        self._starts, self._ends, self._tooltips = [], [], []
        self._highlighted = self._hovered = -1
        self._phrases = []

    def set_phrases(self, phrases: Sequence[tuple[int, int, float]]) -> None:
        """Brackets under word groups: (first word, one past the last word, score); the
        bracket takes the colour of the score's sign. Call after ``set_words``."""
        count = len(self._starts)
        self._phrases = [(a, b, s) for a, b, s in phrases if 0 <= a < b <= count]
        self.viewport().update()

    def phrases(self) -> list[tuple[int, int, float]]:
        return list(self._phrases)

    def phrase_at(self, index: int) -> int:
        """Index into ``phrases()`` of the phrase holding word ``index``, or -1."""
        for number, (a, b, _) in enumerate(self._phrases):
            if a <= index < b:
                return number
        return -1

    def word_rect(self, index: int) -> QRect:
        """The word's box in viewport coordinates (its first line if it wraps)."""
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._starts[index])
        left = self.cursorRect(cursor)
        cursor.setPosition(self._ends[index])
        right = self.cursorRect(cursor)
        if right.top() != left.top():  # wrapped: the part on the first line
            return QRect(left.left(), left.top(), max(8, self.viewport().width() - left.left()),
                         left.height())
        return QRect(left.left(), left.top(), right.left() - left.left(), left.height())

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().paintEvent(event)
        if not self._phrases:
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for first, end, score in self._phrases:
            color = (TOWARD_COLOR if score > 0 else AWAY_COLOR).darker(135)
            painter.setPen(QPen(color, 2.2))
            self._bracket(painter, first, end)
        painter.end()

    def _bracket(self, painter: QPainter, first: int, end: int) -> None:
        """A bracket under words first..end-1, one segment per line they occupy."""
        rects = [self.word_rect(i) for i in range(first, end)]
        segments: list[list[QRect]] = []
        for rect in rects:
            if segments and segments[-1][-1].top() == rect.top():
                segments[-1].append(rect)
            else:
                segments.append([rect])
        for number, line in enumerate(segments):
            left, right = line[0].left() - 1, line[-1].right() + 1
            y = line[0].bottom() + 3
            painter.drawLine(left, y, right, y)
            if number == 0:
                painter.drawLine(left, y, left, y - 5)
            if number == len(segments) - 1:
                painter.drawLine(right, y, right, y - 5)

    def word_at(self, point: QPoint) -> int:
        """Index of the word under a viewport point, or -1."""
        offset = QPoint(self.horizontalScrollBar().value(), self.verticalScrollBar().value())
        position = self.document().documentLayout().hitTest(
            (point + offset).toPointF(), Qt.HitTestAccuracy.ExactHit)
        if position < 0:
            return -1
        index = bisect.bisect_right(self._starts, position) - 1
        if index >= 0 and position < self._ends[index]:
            return index
        return -1

    def word_count(self) -> int:
        return len(self._starts)

    # ---------------------------------------------------------------- highlight

    def highlight_word(self, index: int) -> None:
        """Mark one word (dark background) and scroll it into view; -1 clears."""
        self._highlighted = index
        if not 0 <= index < len(self._starts):
            self.setExtraSelections([])
            return
        selection = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._starts[index])
        cursor.setPosition(self._ends[index], QTextCursor.MoveMode.KeepAnchor)
        selection.cursor = cursor
        selection.format.setBackground(HIGHLIGHT_COLOR)
        selection.format.setForeground(_WHITE)
        self.setExtraSelections([selection])
        rect = self.cursorRect(cursor)
        if not self.viewport().rect().contains(rect):
            self._scroll_to(cursor)

    def _scroll_to(self, cursor: QTextCursor) -> None:
        bar = self.verticalScrollBar()
        rect = self.cursorRect(cursor)
        bar.setValue(bar.value() + rect.center().y() - self.viewport().height() // 2)

    def highlighted_word(self) -> int:
        return self._highlighted

    # ---------------------------------------------------------------- events

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt naming
        index = self.word_at(event.position().toPoint())
        if index != self._hovered:
            self._hovered = index
            self.word_hovered.emit(index)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if self._hovered != -1:
            self._hovered = -1
            self.word_hovered.emit(-1)
        super().leaveEvent(event)

    def viewportEvent(self, event) -> bool:  # noqa: N802 - Qt naming
        if event.type() == QEvent.Type.ToolTip:
            index = self.word_at(event.pos())
            if 0 <= index < len(self._tooltips):
                QToolTip.showText(event.globalPos(), self._tooltips[index], self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def tooltip_for(self, index: int) -> str:
        return self._tooltips[index] if 0 <= index < len(self._tooltips) else ""


class ScoreLegend(QWidget):
    """The colour scale: blue (away from the class) through white to orange (toward it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._left = "pushes away"
        self._right = "pushes toward"
        self._scale = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_labels(self, left: str, right: str, scale: str = "") -> None:
        self._left, self._right, self._scale = left, right, scale
        self.setToolTip(f"Blue: {left}. Orange: {right}. Stronger colour = bigger push"
                        + (f" (full colour = {scale})." if scale else "."))
        self.updateGeometry()
        self.update()

    def labels(self) -> tuple[str, str]:
        return self._left, self._right

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        metrics = self.fontMetrics()
        width = (metrics.horizontalAdvance(self._left) + metrics.horizontalAdvance(self._right)
                 + metrics.horizontalAdvance(self._scale) + 180)
        return QSize(width, metrics.height() + 10)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return self.sizeHint()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt naming
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = self.fontMetrics()
        height = self.height()
        bar_width, bar_height = 120, 12
        x = 0
        text_color = self.palette().color(QPalette.ColorRole.WindowText)
        painter.setPen(text_color)
        left_width = metrics.horizontalAdvance(self._left)
        baseline = (height + metrics.ascent() - metrics.descent()) // 2
        painter.drawText(x, baseline, self._left)
        x += left_width + 8
        bar = QRectF(x, (height - bar_height) / 2, bar_width, bar_height)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        gradient.setColorAt(0.0, AWAY_COLOR)
        gradient.setColorAt(0.5, self.palette().color(QPalette.ColorRole.Base))
        gradient.setColorAt(1.0, TOWARD_COLOR)
        painter.setBrush(gradient)
        painter.setPen(QColor("#8a8a8a"))
        painter.drawRoundedRect(bar, 3, 3)
        x += bar_width + 8
        painter.setPen(text_color)
        painter.drawText(x, baseline, self._right)
        if self._scale:
            x += metrics.horizontalAdvance(self._right) + 14
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(x, baseline, self._scale)
        painter.end()
