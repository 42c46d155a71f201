"""Explain panel: type or paste a review and see which words pushed the model which way.

The engine (core.explain) does all the maths in a worker thread; this panel only turns an
Explanation into colours, bars, lines and sentences.

Colour convention: scores are pushes toward one class, the *explained* class: the predicted
class by default, so orange reads "supports the verdict" and blue "argues against it"; the
legend names the class, and the class switch picks another.

The phrase layer (contextual decomposition) brackets the groups of words that act as one unit,
lists the strongest ones both ways beside the word bars, and says in plain words when a phrase
turns a word around ("'not' turns 'bad' from negative to positive").
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QThread, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.bundle import ModelBundle
from core.text.labels import LabelScheme
from gui import dialogs
from gui.panels.base import Panel, preview
from gui.widgets.colors import OKABE_ITO, mix, role_color
from gui.widgets.explain_plots import StrongestPhrasesList, StrongestWordsChart, TrajectoryPlot
from gui.widgets.word_view import AWAY_COLOR, TOWARD_COLOR, ScoreLegend, WordView
from gui.workers import JobContext

if TYPE_CHECKING:  # the engine (torch) loads after the window is up (gui/app.py)
    from core.explain import Explainer, Explanation

PANEL_METHODS = [("ig", "Integrated gradients"), ("occlusion", "Occlusion")]
PREDICTED = "__predicted__"
BAR_WORDS = 8
LIST_PHRASES = 3  # strongest phrases listed each way


def class_colors(scheme: LabelScheme, palette: QPalette) -> list[QColor]:
    """Line colours per class: negative blue and positive orange, like the word colours;
    rating classes in between run from blue through grey to orange; other classes take the
    remaining Okabe-Ito hues."""
    count = scheme.num_classes
    if scheme.ordinal:
        grey = QColor("#8c8c8c")
        colors = []
        for index in range(count):
            t = index / (count - 1)
            colors.append(mix(AWAY_COLOR.darker(120), grey, t * 2) if t <= 0.5
                          else mix(grey, TOWARD_COLOR.darker(110), (t - 0.5) * 2))
        return colors
    spare = [OKABE_ITO[name] for name in ("bluish_green", "reddish_purple", "sky_blue",
                                          "vermillion", "yellow", "black")]
    negative, positive = scheme.negative_index(), scheme.positive_index()
    colors = []
    for index in range(count):
        if index == positive:
            colors.append(role_color(OKABE_ITO["orange"], palette))
        elif index == negative and negative != positive:
            colors.append(role_color(OKABE_ITO["blue"], palette))
        else:
            colors.append(QColor(spare[len(colors) % len(spare)]))
    return colors


def default_target(scheme: LabelScheme) -> str | int:
    """The class the panel explains unless the user picks one: the predicted class, so the
    colours explain the verdict the user is looking at."""
    return PREDICTED


def format_score(value: float) -> str:
    return f"{value:+.3f}" if abs(value) >= 0.0005 or value == 0 else f"{value:+.1e}"


def method_note(e: Explanation) -> str:
    """How to read the numbers, in plain words."""
    target = e.target_name
    if e.method == "occlusion":
        return (f"Occlusion: a word's score is how much P({target}) falls when that word alone "
                "is replaced by an unknown word.")
    gap = e.relative_completeness_gap
    if e.path_pieces and e.steps and e.path_pieces > e.steps // 2:
        how = (f"{e.steps} gradient evaluations: the model's opinion turns sharply on the way "
               f"from a blank review, so the path was cut finer where it turns, into "
               f"{e.path_pieces} pieces")
    else:
        how = f"{e.steps} steps, placed where the probability changes"
    text = (f"Integrated gradients ({how}): the scores add up to the change in "
            f"P({target}) from a blank review of the same length "
            f"({e.baseline_probability:.2f}) to this one "
            f"({e.probabilities[e.target_class]:.2f})")
    if gap is not None and e.completeness_gap is not None:
        if gap < 0.001:
            text += ", almost exactly"
        else:
            text += (f", to within {e.completeness_gap:.3f} ({gap:.1%} of that change"
                     f"{'; the time limit stopped the refinement' if gap > 0.01 else ''})")
    return text + "."


def faithfulness_note(e: Explanation) -> str:
    """ERASER comprehensiveness and sufficiency as two sentences a user can check."""
    if e.comprehensiveness is None or e.sufficiency is None:
        return ""
    about = e.target_class if e.faithfulness_class is None else e.faithfulness_class
    target = e.classes[about]
    k = e.top_k
    quoted = ", ".join(f"\u201c{e.words[i].word}\u201d" for i in e.top_words[:4])
    if len(e.top_words) > 4:
        quoted += ", \u2026"
    drop = e.comprehensiveness
    verb = "lowers" if drop >= 0 else "raises"
    random_drop = e.random_comprehensiveness or 0.0
    random_verb = "lowers" if random_drop >= 0 else "raises"
    kept = e.sufficiency
    kept_text = (f"{abs(kept):.2f} below" if kept > 0.005 else
                 f"{abs(kept):.2f} above" if kept < -0.005 else "about the same as")
    whose = ", the predicted class" if about == e.predicted_class else ""
    words = "word" if k == 1 else "words"
    which = "the word that pushes" if k == 1 else f"the {k} words that push"
    those = "that word" if k == 1 else f"those {k} words"
    stronger = abs(drop) > abs(random_drop) + 0.02
    plain = (f"Faithfulness check: hiding the top words ({quoted}) changes how sure the "
             f"model is of {target} by {abs(drop):.0%}, against {abs(random_drop):.0%} for "
             "random words" + (", so these words really drive the result." if stronger else
                ", so this explanation should be read with care."))
    return (f"{plain}\nDetails: hiding {which} hardest toward {target}{whose} (the top 10% "
            f"of words) {verb} the probability of {target} by {abs(drop):.2f}; hiding {k} "
            f"random {words} {random_verb} it by {abs(random_drop):.2f} on average. Keeping "
            f"only {those} gives a probability {kept_text} the full review's.")


def phrase_tooltip(e: Explanation, phrase) -> str:
    """One phrase on hover: its own push, and what its words do together."""
    direction = "toward" if phrase.score > 0 else "away from"
    return (f"phrase \u201c{' '.join(phrase.words)}\u201d: {phrase.score:+.3f} log-odds, "
            f"pushes {direction} {e.target_name} as one unit; its words alone add up to "
            f"{phrase.score - phrase.interaction:+.3f}")


def flip_note(e: Explanation) -> str:
    """What a phrase turned around, in plain words (empty when nothing was)."""
    if not e.flip:
        return ""
    return f"Phrase: {e.flip}."


class ExplainPanel(Panel):
    """Per-word contributions for one review; ``set_bundle`` then ``explain_text``."""

    explained = Signal(object)  # the Explanation just shown (for tests and the main window)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bundle: ModelBundle | None = None
        self.explainer: Explainer | None = None
        self.explanation: Explanation | None = None
        self._pending: tuple[str, str, Any] | None = None
        self._generation = 0  # bumped by set_bundle: results of an older model are dropped
        self._build()
        self._update_state()

    # ---------------------------------------------------------------- layout

    def _build(self) -> None:
        self.text_edit = QPlainTextEdit()
        self.text_edit.setPlaceholderText("Type or paste a review, then press Ctrl+Enter "
                                          "(or pick one from the data or the results).")
        self.text_edit.setFixedHeight(84)
        self.text_edit.textChanged.connect(self._update_state)
        self.text_edit.installEventFilter(self)

        self.method_combo = QComboBox()
        for key, name in PANEL_METHODS:
            self.method_combo.addItem(name, key)
        self.method_combo.setToolTip(
            "Integrated gradients: exact shares of the change from a blank review.\n"
            "Occlusion: the drop when each word alone is replaced by an unknown word.")
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("The class whose probability the word colours explain")
        self.class_combo.setMinimumContentsLength(10)
        self.explain_button = QPushButton("Explain")
        self.explain_button.setProperty("primary", True)
        self.explain_button.clicked.connect(self.explain)
        self.method_combo.currentIndexChanged.connect(self._options_changed)
        self.class_combo.currentIndexChanged.connect(self._options_changed)

        controls = QVBoxLayout()
        controls.setSpacing(6)
        for label, widget in (("Method", self.method_combo), ("Explain class", self.class_combo)):
            row = QHBoxLayout()
            caption = QLabel(label)
            caption.setMinimumWidth(80)
            row.addWidget(caption)
            row.addWidget(widget, 1)
            controls.addLayout(row)
        controls.addWidget(self.explain_button)
        controls.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.text_edit, 1)
        top.addLayout(controls)

        self.prediction_label = QLabel("No explanation yet.")
        self.prediction_label.setTextFormat(Qt.TextFormat.RichText)
        self.prediction_label.setSizePolicy(QSizePolicy.Policy.Expanding,
                                            QSizePolicy.Policy.Preferred)
        self.legend = ScoreLegend()
        summary = QHBoxLayout()
        summary.addWidget(self.prediction_label, 1)
        summary.addWidget(self.legend)

        self.word_view = WordView()
        self.word_view.setMinimumHeight(120)
        self.word_view.word_hovered.connect(self._word_hovered)
        self.bar_chart = StrongestWordsChart()
        self.trajectory_plot = TrajectoryPlot()
        self.trajectory_plot.word_hovered.connect(self._trajectory_hovered)

        self.notes_label = QLabel("")
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes_label.setSizePolicy(QSizePolicy.Policy.Expanding,
                                       QSizePolicy.Policy.Minimum)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.word_view, 1)
        left_layout.addWidget(self.notes_label)

        self.phrase_list = StrongestPhrasesList()
        self.phrase_list.setToolTip("Groups of words that act as one unit (contextual "
                                    "decomposition), in log-odds toward the explained class")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(_titled("Strongest words both ways", self.bar_chart))
        right.addWidget(_titled("Strongest phrases both ways", self.phrase_list))
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setChildrenCollapsible(False)
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(left)
        upper.addWidget(right)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        upper.setSizes([760, 480])
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(upper)
        self.class_legend = QLabel("")
        self.class_legend.setTextFormat(Qt.TextFormat.RichText)
        main.addWidget(_titled("Probabilities while reading (hover to find the word)",
                               self.trajectory_plot, self.class_legend))
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 2)
        main.setSizes([330, 210])
        main.setChildrenCollapsible(False)
        upper.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(summary)
        layout.addWidget(main, 1)

        for keys in (Qt.Modifier.CTRL | Qt.Key.Key_Return, Qt.Modifier.CTRL | Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.explain)
        self._set_legend()

    # ---------------------------------------------------------------- public API

    def set_bundle(self, bundle: ModelBundle | None) -> None:
        """Use this model from now on (None: no model); clears the shown explanation."""
        assert self.thread() is QThread.currentThread()
        self.bundle = bundle
        from core.explain import Explainer  # torch, loaded by the time a model exists

        self.explainer = Explainer(bundle) if bundle is not None else None
        self._generation += 1
        self._pending = None
        self.explanation = None
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        if bundle is not None:
            self.class_combo.addItem("Predicted class", PREDICTED)
            for index, name in enumerate(bundle.classes):
                self.class_combo.addItem(name, index)
            default = default_target(bundle.scheme)
            self.class_combo.setCurrentIndex(max(0, self.class_combo.findData(default)))
        self.class_combo.blockSignals(False)
        self._clear_results()
        self._update_state()

    def explain_text(self, text: str) -> None:
        """Put ``text`` in the box and explain it (from the data preview or the results)."""
        self.text_edit.setPlainText(text)
        self.explain()

    def explain(self) -> None:
        """Explain the text in the box with the chosen method and class, off the UI thread."""
        assert self.thread() is QThread.currentThread()
        text = self.text_edit.toPlainText()
        if self.explainer is None:
            self.status_message.emit("Load or train a model first, then explain a review.")
            return
        if not text.strip():
            self.status_message.emit("Type or paste a review to explain.")
            return
        request = (text, str(self.method_combo.currentData()), self.class_combo.currentData())
        if self.running:
            self._pending = request  # the newest request wins; run it when this one ends
            return
        self._start(request)

    def set_method(self, key: str) -> None:
        self.method_combo.setCurrentIndex(max(0, self.method_combo.findData(key)))

    def set_target(self, target: str | int) -> None:
        """Pick the explained class by name or index (or PREDICTED)."""
        if isinstance(target, str) and target != PREDICTED and self.bundle is not None:
            target = self.bundle.classes.index(target)
        self.class_combo.setCurrentIndex(max(0, self.class_combo.findData(target)))

    def stop_starting(self) -> None:
        self._pending = None

    def load_preview(self, args: list[str]) -> None:
        """``python -m gui.panels.explain [model.ramodel] [review]``: a saved model, or a small
        one trained on the sample reviews, explaining a review with a negation in it."""
        from gui.panels.samples import sample_outcome

        self.set_bundle(ModelBundle.load(args[0]) if args else sample_outcome().bundle)
        self.explain_text(args[1] if len(args) > 1 else
                          "The room was not clean and the staff were not friendly, "
                          "but the breakfast was great.")

    # ---------------------------------------------------------------- running

    def _start(self, request: tuple[str, str, Any]) -> None:
        text, method, target = request
        explainer = self.explainer
        assert explainer is not None
        chosen = None if target == PREDICTED else target

        def job(context: JobContext) -> Explanation:
            context.status("Explaining...")
            return explainer.explain(text, method, chosen)

        self._update_state(busy=True)
        self.status_message.emit("Explaining the review...")
        generation = self._generation
        self.run_job(job, on_finished=lambda result: self._finished(result, generation),
                     on_failed=self._failed, on_ended=self._job_ended)

    def _finished(self, explanation: Explanation, generation: int) -> None:
        assert self.thread() is QThread.currentThread()
        if (self.explainer is None or self._pending is not None
                or generation != self._generation):
            return  # a newer request (or another model) makes this result stale
        self.show_explanation(explanation)

    def _failed(self, message: str, details: str) -> None:
        self.status_message.emit(f"Could not explain: {message}")
        if self._pending is None:
            dialogs.show_error(self, "Cannot explain this review", message, details)

    def _job_ended(self) -> None:
        self._handle = None
        pending, self._pending = self._pending, None
        if pending is not None and not self.closed and self.explainer is not None:
            self._start(pending)
        else:
            self._update_state()

    def _options_changed(self) -> None:
        if self.explanation is not None and self.text_edit.toPlainText().strip():
            self.explain()

    # ---------------------------------------------------------------- showing

    def show_explanation(self, e: Explanation) -> None:
        """Fill every view from one Explanation (public so a caller can show a saved one)."""
        assert self.thread() is QThread.currentThread()
        self.explanation = e
        scores = [w.score for w in e.words]
        finite = [abs(s) for s in scores if s is not None and math.isfinite(s)]
        scale = max(finite, default=0.0)
        tooltips = [self._tooltip(e, i) for i in range(len(e.words))]
        self.word_view.set_words(e.text, [(w.start, w.end) for w in e.words], scores, scale,
                                 tooltips)
        self.word_view.set_phrases([(p.word_start, p.word_end, p.score) for p in e.phrases])
        self._show_phrases(e)
        self._set_legend(e, scale)
        self._show_prediction(e)
        self._show_bars(e)
        assert self.bundle is not None
        colors = class_colors(self.bundle.scheme, self.palette())
        self.trajectory_plot.set_trajectory(e.trajectory, e.classes, colors,
                                            [w.word for w in e.words],
                                            [not w.read for w in e.words])
        self.class_legend.setText(" &nbsp;&nbsp; ".join(
            f"<span style='color:{c.name()}; font-weight:bold'>━━</span> "
            f"{_escape(name)}" for name, c in zip(e.classes, colors)))
        notes = [flip_note(e), faithfulness_note(e), method_note(e)]
        if e.truncated:
            unread = sum(1 for w in e.words if not w.read)
            notes.append(f"This review is longer than the model reads ({e.tokens_read} of "
                         f"{e.tokens_total} tokens, keeping the start and the end): "
                         f"{unread} words in grey italics were not read.")
        self.notes_label.setText("\n".join(n for n in notes if n))
        self.status_message.emit(f"Explained {len(e.words)} words in {e.seconds:.2f} s "
                                 f"({dict(PANEL_METHODS).get(e.method, e.method)}).")
        self._update_state()
        self.explained.emit(e)

    def _tooltip(self, e: Explanation, index: int) -> str:
        word = e.words[index]
        if word.score is None:
            return f"\u201c{word.word}\u201d: not read (beyond the model's length limit)"
        direction = "toward" if word.score > 0 else "away from"
        unit = "probability points" if e.method in ("ig", "occlusion") else ""
        tip = (f"\u201c{word.word}\u201d (word {index + 1}): {word.score:+.4f} {unit}\n"
               f"pushes {direction} {e.target_name}")
        for phrase in e.phrases:
            if phrase.word_start <= index < phrase.word_end:
                tip += "\n" + phrase_tooltip(e, phrase)
        return tip

    def _show_phrases(self, e: Explanation) -> None:
        toward = sorted((p for p in e.phrases if p.score > 0), key=lambda p: -p.score)
        away = sorted((p for p in e.phrases if p.score < 0), key=lambda p: p.score)
        rows = [(" ".join(p.words), p.score, p.interaction)
                for p in toward[:LIST_PHRASES] + away[:LIST_PHRASES]]
        self.phrase_list.set_phrases(rows, f"log-odds toward {e.target_name}")

    def _show_prediction(self, e: Explanation) -> None:
        parts = []
        for index, (name, p) in enumerate(zip(e.classes, e.probabilities)):
            text = f"{_escape(name)} {p:.1%}"
            parts.append(f"<b>{text}</b>" if index == e.predicted_class else text)
        self.prediction_label.setText(
            f"Predicted: <b>{_escape(e.predicted_name)}</b> &nbsp;&nbsp;("
            + " \u00b7 ".join(parts) + ")")

    def _show_bars(self, e: Explanation) -> None:
        scale = max((abs(w.score) for w in e.words if w.score is not None), default=0.0)

        def visible(indices: list[int]) -> list[int]:  # bars too short to see say nothing
            return [i for i in indices if abs(e.words[i].score or 0.0) >= 0.02 * scale]

        toward = visible(e.ranked(True, BAR_WORDS))
        away = visible(e.ranked(False, BAR_WORDS))[::-1]  # strongest at the very bottom
        indices = toward + away
        duplicates = {w for w in (e.words[i].word for i in indices)
                      if sum(e.words[j].word == w for j in indices) > 1}
        labels = [f"{e.words[i].word} ({i + 1})" if e.words[i].word in duplicates
                  else e.words[i].word for i in indices]
        values = [float(e.words[i].score or 0.0) for i in indices]
        unit = "probability points" if e.method in ("ig", "occlusion") else "score"
        self.bar_chart.set_bars(labels, values, f"push toward {e.target_name} ({unit})")

    def _set_legend(self, e: Explanation | None = None, scale: float = 0.0) -> None:
        if e is None:
            self.legend.set_labels("pushes away from the class", "pushes toward it")
            return
        self.legend.set_labels(f"away from {e.target_name}", f"toward {e.target_name}",
                               f"full colour = {format_score(scale)[1:]}" if scale else "")

    def _clear_results(self) -> None:
        self.explanation = None
        self.word_view.clear()
        self.bar_chart.set_bars([], [], "")
        self.phrase_list.set_phrases([], "")
        self.trajectory_plot.set_trajectory(_empty_trajectory(), [], [], [])
        self.prediction_label.setText("No explanation yet." if self.bundle is not None else
                                      "No model yet: train one or open a saved model.")
        self.notes_label.setText("")
        self.class_legend.setText("")
        self._set_legend()

    # ---------------------------------------------------------------- hover links

    def _word_hovered(self, index: int) -> None:
        self.trajectory_plot.show_word(index)

    def _trajectory_hovered(self, index: int) -> None:
        self.word_view.highlight_word(index)

    # ---------------------------------------------------------------- state

    def _update_state(self, *_: Any, busy: bool | None = None) -> None:
        busy = self.running if busy is None else busy
        has_model = self.explainer is not None
        self.explain_button.setEnabled(has_model and bool(self.text_edit.toPlainText().strip()))
        self.explain_button.setText("Explaining\u2026" if busy else "Explain")
        self.explain_button.setToolTip("Explain the review (Ctrl+Enter)" if has_model else
                                       "Load or train a model first")
        self.class_combo.setEnabled(has_model)
        self.method_combo.setEnabled(has_model)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Ctrl+Enter in the text box explains even when the window shortcut cannot fire
        (a panel docked in a window that is not active, or under a test)."""
        if (watched is self.text_edit and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.explain()
            return True
        return super().eventFilter(watched, event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self.bar_chart.restyle()
            self.trajectory_plot.restyle()
            if self.explanation is not None:
                self.show_explanation(self.explanation)
            else:
                self._clear_results()
        super().changeEvent(event)


def _titled(title: str, widget: QWidget, extra: QWidget | None = None) -> QWidget:
    """A bold title over a widget, with an optional widget (a legend) at the title's right."""
    frame = QFrame()
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    label = QLabel(title)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    header = QHBoxLayout()
    header.addWidget(label)
    header.addStretch(1)
    if extra is not None:
        header.addWidget(extra)
    layout.addLayout(header)
    layout.addWidget(widget, 1)
    return frame


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _empty_trajectory():
    import numpy as np

    return np.zeros((0, 1))


if __name__ == "__main__":
    preview(ExplainPanel)
