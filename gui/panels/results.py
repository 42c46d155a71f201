"""Results of a model on held-out reviews: headline figures, per-class scores, confusion matrix,
and the misclassified reviews themselves, which are what a user learns most from.

Figures come from ``core.metrics.compute_metrics``; this panel only lays them out.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QThread,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.bundle import ModelBundle
from core.errors import ReviewDataError
from core.metrics import accuracy_interval, compute_metrics, format_accuracy
from gui import dialogs
from gui.file_dialogs import REVIEWS_FILTER
from gui.panels.base import Panel, preview
from gui.widgets.colors import OKABE_ITO, contrast_ratio, is_dark, role_color
from gui.widgets.heatmap import ConfusionHeatmap
from gui.widgets.metric_card import MetricCard

if TYPE_CHECKING:  # torch loads after the window is up (gui/app.py)
    from core.training.pipeline import TrainingOutcome

SORT_ROLE = Qt.ItemDataRole.UserRole
TEXT_ROLE = Qt.ItemDataRole.UserRole + 1
ANY = -1  # filter value: any class
_ELIDE_CHARS = 220  # characters of a review shown in the list; the tooltip and dialog show all
_SET_NAMES = {"test": "Test set", "validation": "Validation set", "file": "Evaluated file"}
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Misclassified:
    """One wrong prediction: the review, what it was, what the model said and how sure it was."""

    position: int  # index among the reviews passed to show_outcome
    text: str
    true_index: int
    predicted_index: int
    confidence: float  # probability of the predicted class (NaN when not known)
    probabilities: tuple[float, ...] = ()


class MisclassifiedModel(QAbstractTableModel):
    """The misclassified reviews as a table; the full text stays in the model, not in widgets."""

    COLUMNS = ("Review", "True", "Predicted", "Confidence")
    REVIEW, TRUE, PREDICTED, CONFIDENCE = range(4)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Misclassified] = []
        self._classes: list[str] = []

    def set_rows(self, rows: Sequence[Misclassified], classes: Sequence[str]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._classes = list(classes)
        self.endResetModel()

    def record(self, row: int) -> Misclassified:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt API)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return ("The probability the model gave its (wrong) answer; high means a "
                    "confident mistake." if section == self.CONFIDENCE else None)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.REVIEW:
                return _one_line(item.text, _ELIDE_CHARS)
            if column == self.TRUE:
                return self._classes[item.true_index]
            if column == self.PREDICTED:
                return self._classes[item.predicted_index]
            return "–" if math.isnan(item.confidence) else f"{item.confidence:.0%}"
        if role == SORT_ROLE:
            return (item.text.casefold(), item.true_index, item.predicted_index,
                    -1.0 if math.isnan(item.confidence) else item.confidence)[column]
        if role == TEXT_ROLE:
            return item.text
        if role == Qt.ItemDataRole.ToolTipRole and column == self.REVIEW:
            return _one_line(item.text, 600) + "\n\nDouble-click to open the whole review."
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.CONFIDENCE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class MisclassifiedFilter(QSortFilterProxyModel):
    """Narrows the list to one true and/or predicted class and to reviews holding some words."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._true = ANY
        self._predicted = ANY
        self._words = ""
        self.setSortRole(SORT_ROLE)

    def set_classes(self, true_index: int = ANY, predicted_index: int = ANY) -> None:
        self._refilter(_true=true_index, _predicted=predicted_index)

    def set_words(self, words: str) -> None:
        self._refilter(_words=words.strip().casefold())

    def _refilter(self, **state: Any) -> None:
        """Change the filter state and re-run it (Qt >= 6.9 has begin/endFilterChange)."""
        modern = hasattr(self, "beginFilterChange")
        if modern:
            self.beginFilterChange()
        for name, value in state.items():
            setattr(self, name, value)
        if modern:
            self.endFilterChange()
        else:  # older Qt
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:  # noqa: N802
        model = self.sourceModel()
        assert isinstance(model, MisclassifiedModel)
        item = model.record(source_row)
        if self._true != ANY and item.true_index != self._true:
            return False
        if self._predicted != ANY and item.predicted_index != self._predicted:
            return False
        return not self._words or self._words in item.text.casefold()


class ReviewDialog(QDialog):
    """The whole text of one review, with the model's verdict; reused for every review opened."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review")
        self.setModal(False)
        self.resize(560, 380)
        self.verdict_label = QLabel()
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict_label)
        layout.addWidget(self.text_view, 1)
        layout.addWidget(buttons)

    def show_review(self, item: Misclassified, classes: Sequence[str]) -> None:
        verdict = (f"True: {classes[item.true_index]}    Predicted: "
                   f"{classes[item.predicted_index]}")
        if not math.isnan(item.confidence):
            verdict += f" ({item.confidence:.0%} sure)"
        if item.probabilities:
            shares = ", ".join(f"{name} {p:.0%}" for name, p in zip(classes, item.probabilities))
            verdict += f"\nProbabilities: {shares}"
        self.verdict_label.setText(verdict)
        self.text_view.setPlainText(item.text)
        self.show()
        self.raise_()
        self.activateWindow()


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _percent(value: Any) -> str:
    return "–" if value is None else f"{float(value):.1%}"


def _interval_caption(metrics: dict[str, Any]) -> str:
    """'accuracy · 95%: 88.4-97.8%': the card's caption says how far the figure can be off."""
    if metrics.get("accuracy") is None or not metrics.get("count"):
        return "accuracy"
    low, high = accuracy_interval(metrics)
    return f"accuracy · 95%: {low * 100:.1f}-{high:.1%}"


@dataclass(frozen=True)
class FileEvaluation:
    """A saved model scored on a labelled file: what ``show_outcome`` needs, and which rows."""

    path: str
    texts: list[str]
    y_true: list[int]
    y_pred: list[int]
    probabilities: np.ndarray
    scored: str  # which rows were scored, in words
    training_share: float | None  # estimated share of scored reviews the model learnt from


def evaluate_file(bundle: ModelBundle, path: str) -> FileEvaluation:
    """Score ``bundle`` on a labelled file with the CLI's rule: its test rows when the file has
    a split column, else all rows (``core.training.held_out``). Runs in a worker thread."""
    from core.io.readers import read_reviews
    from core.predict.predictor import Predictor
    from core.training.held_out import rows_to_score, training_share

    table = read_reviews(path)
    if table.labels is None:
        raise ReviewDataError("The file has no label column to evaluate against; evaluate "
                              "needs reviews with their ratings or labels.", path=path)
    chosen = rows_to_score(table)
    class_ids = bundle.scheme.encode_all([table.labels[i] for i in chosen.indices])
    keep = [(row, c) for row, c in zip(chosen.indices, class_ids) if c is not None]
    if not keep:
        raise ReviewDataError(f"No label among {chosen.description} matches the model's "
                              f"classes ({bundle.scheme.describe()}).", path=path)
    texts = [table.texts[row] for row, _ in keep]
    probabilities = Predictor(bundle).probabilities(texts)
    return FileEvaluation(path, texts, [c for _, c in keep],
                          probabilities.argmax(1).tolist(), probabilities, chosen.description,
                          training_share(bundle.info.get("training_fingerprint"), texts))


class ResultsPanel(Panel):
    """What a trained model gets right and wrong on reviews it never trained on."""

    review_activated = Signal(str)  # full text of a review the user opened (Explain hooks in)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._classes: list[str] = []
        self._metrics: dict[str, Any] | None = None
        self._bundle: ModelBundle | None = None
        self.last_folder = ""

        self.heading_label = QLabel()
        font = self.heading_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.heading_label.setFont(font)
        self.heading_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label = QLabel()
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.setWordWrap(True)

        self.accuracy_card = MetricCard("accuracy", "Share of reviews whose class was predicted "
                                        "exactly.")
        self.macro_f1_card = MetricCard("macro-F1", "F1 averaged over classes with equal "
                                        "weight, so a rare class counts as much as a common one.")
        self.mae_card = MetricCard("mean error (classes)", "Mean absolute distance between the "
                                   "true and predicted class on an ordered scale (0 is perfect).")
        self.within_one_card = MetricCard("within one class", "Share of reviews predicted at "
                                          "most one class away from the truth.")
        self.count_card = MetricCard("reviews", "How many reviews these figures are based on.")
        cards = QHBoxLayout()
        cards.setSpacing(6)
        for card in (self.accuracy_card, self.macro_f1_card, self.mae_card,
                     self.within_one_card, self.count_card):
            cards.addWidget(card)
        cards.addStretch(1)

        self.class_table = QTableWidget(0, 5)
        self.class_table.setHorizontalHeaderLabels(["Class", "Precision", "Recall", "F1",
                                                    "Support"])
        self.class_table.verticalHeader().setVisible(False)
        self.class_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.class_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.class_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.class_table.setAlternatingRowColors(True)
        self.class_table.verticalHeader().setDefaultSectionSize(
            self.class_table.fontMetrics().height() + 10)
        header = self.class_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header_tips = ["", "Of the reviews predicted as this class, the share that are.",
                       "Of the reviews of this class, the share found.",
                       "Harmonic mean of precision and recall.",
                       "Reviews of this class in the set."]
        for column, tip in enumerate(header_tips):
            self.class_table.horizontalHeaderItem(column).setToolTip(tip)
        class_box = QGroupBox("Per class")
        class_layout = QVBoxLayout(class_box)
        class_layout.addWidget(self.class_table)

        self.heatmap = ConfusionHeatmap()
        self.heatmap.cell_clicked.connect(self._cell_clicked)
        self.heat_caption = heat_caption = QLabel()
        heat_caption.setWordWrap(True)
        heat_box = QGroupBox("Confusion matrix")
        heat_layout = QVBoxLayout(heat_box)
        heat_layout.addWidget(self.heatmap, 1)
        heat_layout.addWidget(heat_caption)

        # Left: the figures (headline, cards, per-class table); right: the heat map; below,
        # full width: the misclassified reviews, which need the room for their text.
        summary = QWidget()
        summary_layout = QVBoxLayout(summary)
        summary_layout.setContentsMargins(0, 0, 0, 0)
        self.evaluate_button = QPushButton("&Evaluate on a labelled file…")
        self.evaluate_button.setToolTip("Score this model on a file of labelled reviews and "
                                        "list the ones it gets wrong. A file with a split "
                                        "column is scored on its test rows only.")
        self.evaluate_button.clicked.connect(self.choose_evaluation_file)
        self.evaluate_action = QAction("&Evaluate on a labelled file…", self)
        self.evaluate_action.setStatusTip(self.evaluate_button.toolTip())
        self.evaluate_action.triggered.connect(self.choose_evaluation_file)
        heading_row = QHBoxLayout()
        heading_row.addWidget(self.heading_label, 1)
        heading_row.addWidget(self.evaluate_button)
        summary_layout.addLayout(heading_row)
        summary_layout.addWidget(self.note_label)
        summary_layout.addLayout(cards)
        summary_layout.addWidget(class_box)
        summary_layout.addWidget(self._build_mistakes_box())
        summary_layout.addStretch(1)
        self.top_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.top_splitter.addWidget(summary)
        self.top_splitter.addWidget(heat_box)
        self.top_splitter.setStretchFactor(0, 3)
        self.top_splitter.setStretchFactor(1, 2)
        self.top_splitter.setChildrenCollapsible(False)

        self.errors_box = self._build_misclassified()

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.top_splitter)
        self.splitter.addWidget(self.errors_box)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([450, 350])  # proportions; the splitter scales them on show

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        self.review_dialog = ReviewDialog(self)
        self.clear()

    def _build_mistakes_box(self) -> QGroupBox:
        self.mistakes_label = QLabel()
        self.mistakes_label.setTextFormat(Qt.TextFormat.RichText)
        self.mistakes_label.setWordWrap(False)  # short lines; wrapping breaks its height here
        self.mistakes_label.linkActivated.connect(self._mistake_link)
        self.mistakes_label.setToolTip("Click a line to list those reviews.")
        box = QGroupBox("Most frequent mistakes")
        layout = QVBoxLayout(box)
        layout.addWidget(self.mistakes_label)
        return box

    def _build_misclassified(self) -> QGroupBox:
        self.errors_model = MisclassifiedModel(self)
        self.errors_proxy = MisclassifiedFilter(self)
        self.errors_proxy.setSourceModel(self.errors_model)
        self.errors_view = QTableView()
        self.errors_view.setModel(self.errors_proxy)
        self.errors_view.setSortingEnabled(True)
        self.errors_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.errors_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.errors_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors_view.setAlternatingRowColors(True)
        self.errors_view.setWordWrap(False)
        self.errors_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.errors_view.verticalHeader().setVisible(False)
        self.errors_view.verticalHeader().setDefaultSectionSize(
            self.errors_view.fontMetrics().height() + 8)
        header = self.errors_view.horizontalHeader()
        header.setSectionResizeMode(MisclassifiedModel.REVIEW, QHeaderView.ResizeMode.Stretch)
        for column in (MisclassifiedModel.TRUE, MisclassifiedModel.PREDICTED,
                       MisclassifiedModel.CONFIDENCE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # Double-click (and Enter on the current row) opens the review; ``activated`` is not
        # used because whether it fires on double-click depends on the platform style.
        self.errors_view.doubleClicked.connect(self._row_activated)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(key), self.errors_view)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(
                lambda: self._row_activated(self.errors_view.currentIndex()))

        self.true_filter = QComboBox()
        self.predicted_filter = QComboBox()
        for combo in (self.true_filter, self.predicted_filter):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._filters_changed)
        self.words_filter = QLineEdit()
        self.words_filter.setPlaceholderText("Reviews containing…")
        self.words_filter.setClearButtonEnabled(True)
        self.words_filter.textChanged.connect(self._filters_changed)
        self.errors_count_label = QLabel()
        true_label = QLabel("True")
        true_label.setBuddy(self.true_filter)
        predicted_label = QLabel("Predicted")
        predicted_label.setBuddy(self.predicted_filter)
        filters = QHBoxLayout()
        filters.addWidget(true_label)
        filters.addWidget(self.true_filter)
        filters.addSpacing(8)
        filters.addWidget(predicted_label)
        filters.addWidget(self.predicted_filter)
        filters.addSpacing(8)
        filters.addWidget(self.words_filter, 1)
        filters.addSpacing(8)
        filters.addWidget(self.errors_count_label)

        self.errors_empty_note = QLabel()
        self.errors_empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.errors_empty_note.setWordWrap(True)
        self.errors_stack = QStackedWidget()
        self.errors_stack.addWidget(self.errors_view)
        self.errors_stack.addWidget(self.errors_empty_note)

        box = QGroupBox("Misclassified reviews")
        layout = QVBoxLayout(box)
        layout.addLayout(filters)
        layout.addWidget(self.errors_stack, 1)
        return box

    # ------------------------------------------------------------------ public API
    def clear(self) -> None:
        """Nothing to show: before the first run, or after the data changed."""
        self._check_thread()
        self._classes = []
        self._metrics = None
        self.heading_label.setText("No results yet")
        self.note_label.setText("Train a model, or load one, to see how it does on reviews it "
                                "never trained on.")
        for card in (self.accuracy_card, self.macro_f1_card, self.mae_card,
                     self.within_one_card, self.count_card):
            card.set_value("–")
        self.accuracy_card.set_caption("accuracy")
        self.mae_card.setVisible(False)
        self.within_one_card.setVisible(False)
        self.class_table.setRowCount(0)
        self.heatmap.clear()
        self.mistakes_label.setText("–")
        self._set_misclassified([], "Misclassified reviews are listed here after training.")
        self._update_heat_caption()
        self.review_dialog.hide()
        self._update_evaluate()

    def show_outcome(self, bundle: ModelBundle, texts: Sequence[str], y_true: Sequence[int],
                     y_pred: Sequence[int], probabilities: np.ndarray | None = None, *,
                     split: str = "test") -> None:
        """Score predictions on held-out reviews and list the wrong ones.

        ``split`` names the set ("test", or "validation" when the data had no test set).
        With no reviews at all this shows the figures saved in the bundle instead.
        """
        self._check_thread()
        self._bundle = bundle
        self._update_evaluate()
        if not len(texts):
            self.show_metrics_only(bundle)
            return
        if not len(texts) == len(y_true) == len(y_pred):
            raise ValueError(f"{len(texts)} texts, {len(y_true)} labels and {len(y_pred)} "
                             "predictions: they must be aligned")
        classes = bundle.classes
        metrics = compute_metrics(y_true, y_pred, classes, bundle.scheme.ordinal)
        probs = None if probabilities is None else np.asarray(probabilities, dtype=np.float64)
        rows = []
        for position, (text, truth, guess) in enumerate(zip(texts, y_true, y_pred)):
            if int(truth) == int(guess):
                continue
            row_probs = () if probs is None else tuple(float(p) for p in probs[position])
            confidence = row_probs[int(guess)] if row_probs else math.nan
            rows.append(Misclassified(position, str(text), int(truth), int(guess), confidence,
                                      row_probs))
        self._display(metrics, split, self._source(bundle, split), rows,
                      "No review was misclassified.")

    def show_training_outcome(self, outcome: TrainingOutcome) -> None:
        """A run that just ended: its test reviews, mapped back to their texts."""
        data = outcome.data
        texts = [data.table.texts[int(row)] for row in data.test.rows]
        self.show_outcome(outcome.bundle, texts, data.test.labels.tolist(),
                          outcome.test_predictions.tolist(), outcome.test_probabilities)

    def load_preview(self, args: list[str]) -> None:
        """``python -m gui.panels.results [binary|three|five]``: a small model trained on the
        sample reviews (three classes unless named), scored on its test reviews."""
        from gui.panels.samples import sample_outcome

        self.review_activated.connect(lambda text: print("activated:", text[:60]))
        self.show_training_outcome(sample_outcome(args[0] if args else "three"))

    def show_metrics_only(self, bundle: ModelBundle) -> None:
        """A loaded model: the figures saved with it (test, else validation), no review list."""
        self._check_thread()
        split = "test" if bundle.metrics.get("test") else "validation"
        metrics = bundle.metrics.get(split)
        if not metrics:
            self.clear()
            self._bundle = bundle
            self._update_evaluate()
            self.note_label.setText("This model file holds no evaluation figures. Use "
                                    "Evaluate on a labelled file to score it.")
            return
        self._bundle = bundle
        self._update_evaluate()
        source = " ".join(filter(None, ["Figures saved with the model when it was trained.",
                                        self._source(bundle, split)]))
        self._display(metrics, split, source, [], "A saved model keeps its figures, not the "
                      "reviews. Use Evaluate on a labelled file (above, or in the Training "
                      "menu) to list the reviews it gets wrong.")

    # ------------------------------------------------------------------ evaluate a file
    def set_bundle(self, bundle: ModelBundle, path: str = "") -> None:
        """The window's current model (``path``: its file, unused): the one Evaluate scores."""
        self._bundle = bundle
        self._update_evaluate()

    def choose_evaluation_file(self) -> None:
        """Ask for a labelled file and score the current model on it in the background."""
        if self._bundle is None or self.running:
            return
        path = dialogs.choose_open_file(self, "Evaluate the model on a labelled file",
                                        dialogs.start_folder(self.last_folder), REVIEWS_FILTER)
        if path:
            self.evaluate_path(path)

    def evaluate_path(self, path: str) -> None:
        """Score the current model on ``path`` (test rows only when it has a split column)."""
        bundle = self._bundle
        if bundle is None:
            return
        self.last_folder = str(Path(path).parent)
        self.heading_label.setText(f"Evaluating on {Path(path).name}…")
        self.status_message.emit(f"Evaluating the model on {path}…")
        self.run_job(lambda context: evaluate_file(bundle, path),
                     on_finished=self._show_evaluation, on_failed=self._evaluation_failed,
                     on_ended=self._update_evaluate)
        self._update_evaluate()

    def _show_evaluation(self, result: FileEvaluation) -> None:
        if self._bundle is None:
            return
        self.show_outcome(self._bundle, result.texts, result.y_true, result.y_pred,
                          result.probabilities, split="file")
        notes = [f"{Path(result.path).name}: scored {result.scored}."]
        if result.training_share is not None and result.training_share >= 0.1:
            notes.append(f"About {result.training_share:.0%} of these reviews are ones the "
                         "model was trained on, so the figures overstate how it does on new "
                         "reviews.")
        self.note_label.setText("  ".join(notes))

    def _evaluation_failed(self, message: str, details: str) -> None:
        if self._metrics is None:
            self.heading_label.setText("No results yet")
        elif self._bundle is not None and not self.errors_model.rowCount():
            self.show_metrics_only(self._bundle)
        self.status_message.emit("Evaluation failed.")
        dialogs.show_error(self, "Cannot evaluate the model", message, details)

    def _update_evaluate(self) -> None:
        enabled = self._bundle is not None and not self.running
        self.evaluate_button.setEnabled(enabled)
        self.evaluate_action.setEnabled(enabled)
        self.evaluate_button.setToolTip(
            self.evaluate_action.statusTip() if self._bundle is not None else
            "Train or load a model first; then score it on a file of labelled reviews.")

    def show_metrics(self, metrics: dict[str, Any], split: str = "test",
                     source: str = "") -> None:
        """Lay out a ``compute_metrics`` result (also what ``evaluate_bundle`` returns)."""
        self._check_thread()
        self._display(metrics, split, source, [], "No reviews were passed with these figures.")

    def _display(self, metrics: dict[str, Any], split: str, source: str,
                 rows: Sequence[Misclassified], empty_message: str) -> None:
        self._metrics = metrics
        self._classes = [str(c) for c in metrics.get("classes", [])]
        count = int(metrics.get("count", 0))
        name = _SET_NAMES.get(split, split.capitalize() + " set")
        self.heading_label.setText(f"{name} · {count:,} reviews")
        notes = [source] if source else []
        if split == "validation":
            notes.append("There was no separate test set, so these figures come from the "
                         "validation reviews that also chose the best epoch (a little "
                         "optimistic).")
        self.note_label.setText("  ".join(notes))
        self.accuracy_card.set_value(_percent(metrics.get("accuracy")))
        self.accuracy_card.set_caption(_interval_caption(metrics))
        self.macro_f1_card.set_value(f"{float(metrics.get('macro_f1', 0.0)):.3f}")
        has_ordinal = "mae" in metrics
        self.mae_card.setVisible(has_ordinal)
        self.within_one_card.setVisible(has_ordinal)
        if has_ordinal:
            self.mae_card.set_value(f"{float(metrics['mae']):.2f}")
            self.within_one_card.set_value(_percent(metrics.get("within_one")))
        self.count_card.set_value(f"{count:,}")
        self._fill_class_table(metrics.get("per_class", []))
        confusion = metrics.get("confusion")
        if confusion and self._classes:
            self.heatmap.set_matrix(confusion, self._classes)
        else:
            self.heatmap.clear()
        self._fill_filter_combos()
        self._set_misclassified(rows, empty_message)
        self._fill_mistakes(confusion or [])
        self._update_heat_caption()
        self.status_message.emit(f"{name}: accuracy {format_accuracy(metrics)}, "
                                 f"macro-F1 {float(metrics.get('macro_f1', 0.0)):.3f}")

    def metrics(self) -> dict[str, Any] | None:
        return self._metrics

    def misclassified_count(self) -> int:
        return self.errors_model.rowCount()

    def visible_misclassified(self) -> int:
        """Rows left after the filters."""
        return self.errors_proxy.rowCount()

    def set_class_filter(self, true_index: int = ANY, predicted_index: int = ANY) -> None:
        """Show only errors of one true and/or predicted class (ANY = -1 for either)."""
        self.true_filter.setCurrentIndex(true_index + 1)
        self.predicted_filter.setCurrentIndex(predicted_index + 1)

    # ------------------------------------------------------------------ internals
    def _check_thread(self) -> None:
        assert self.thread() is QThread.currentThread(), "ResultsPanel used off the GUI thread"

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.PaletteChange and self._metrics is not None:
            self._fill_mistakes(self._metrics.get("confusion") or [])
        super().changeEvent(event)

    @staticmethod
    def _source(bundle: ModelBundle, split: str) -> str:
        info = bundle.info or {}
        if split == "test" and info.get("test_source"):
            return f"Reviews never used in training ({info['test_source']})."
        return ""

    def _fill_class_table(self, per_class: Sequence[dict[str, Any]]) -> None:
        self.class_table.setRowCount(len(per_class))
        for row, entry in enumerate(per_class):
            name = QTableWidgetItem(str(entry.get("class", "")))
            self.class_table.setItem(row, 0, name)
            values = [f"{float(entry.get(key, 0.0)):.3f}" for key in ("precision", "recall", "f1")]
            values.append(f"{int(entry.get('support', 0)):,}")
            for column, value in enumerate(values, 1):
                item = QTableWidgetItem(value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.class_table.setItem(row, column, item)
        # As tall as its rows (no empty white area under a 2-class table); scrolls when short.
        frame = 2 * self.class_table.frameWidth()
        height = (self.class_table.horizontalHeader().sizeHint().height() + frame
                  + self.class_table.verticalHeader().defaultSectionSize() * len(per_class))
        self.class_table.setMaximumHeight(height + 2)
        self.class_table.setMinimumHeight(min(height + 2, 140))

    def _fill_mistakes(self, confusion: Sequence[Sequence[int]], limit: int = 4) -> None:
        """The largest off-diagonal cells, as links that filter the list of reviews (if any)."""
        matrix = np.asarray(confusion, dtype=np.int64)
        pairs = [(int(matrix[i, j]), i, j) for i in range(len(matrix))
                 for j in range(len(matrix)) if i != j and matrix[i, j] > 0]
        pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
        if not pairs:
            self.mistakes_label.setText("None: every review was classified correctly."
                                        if matrix.size else "–")
            return
        link = self._link_color().name()
        with_links = self.errors_model.rowCount() > 0  # links filter the list; none, no links
        lines = []
        for count, i, j in pairs[:limit]:
            share = count / max(int(matrix[i].sum()), 1)
            noun = "review" if count == 1 else "reviews"
            pair = f"{html.escape(self._classes[i])} read as {html.escape(self._classes[j])}"
            if with_links:
                pair = f'<a href="pair:{i}:{j}" style="color:{link}">{pair}</a>'
            lines.append(f"{pair}: {count:,} {noun} "
                         f"({share:.0%} of {html.escape(self._classes[i])})")
        self.mistakes_label.setText("<br>".join(lines))

    def _update_heat_caption(self) -> None:
        text = "Shade: share of the true class. Blue: correct; orange: misclassified."
        if self.errors_model.rowCount():
            text += " Click a cell to list its reviews."
        self.heat_caption.setText(text)

    def _link_color(self) -> QColor:
        """The palette's link colour, unless it is too dark to read on this background."""
        palette = self.palette()
        link = palette.color(QPalette.ColorRole.Link)
        window = palette.color(QPalette.ColorRole.Window)
        if contrast_ratio(link, window) >= 4.5:
            return link
        return role_color(OKABE_ITO["sky_blue"] if is_dark(palette) else OKABE_ITO["blue"],
                          palette)

    def _mistake_link(self, link: str) -> None:
        _, true_index, predicted_index = link.split(":")
        self.set_class_filter(int(true_index), int(predicted_index))

    def _fill_filter_combos(self) -> None:
        for combo in (self.true_filter, self.predicted_filter):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("any class", ANY)
            for index, name in enumerate(self._classes):
                combo.addItem(name, index)
            combo.blockSignals(False)
        self._filters_changed()

    def _set_misclassified(self, rows: Sequence[Misclassified], empty_message: str) -> None:
        self.errors_model.set_rows(rows, self._classes)
        self.errors_view.sortByColumn(MisclassifiedModel.CONFIDENCE,
                                      Qt.SortOrder.DescendingOrder)
        self.errors_empty_note.setText(empty_message)
        has_rows = bool(rows)
        self.errors_stack.setCurrentWidget(self.errors_view if has_rows
                                           else self.errors_empty_note)
        for widget in (self.true_filter, self.predicted_filter, self.words_filter):
            widget.setEnabled(has_rows)
        self._update_count()

    def _filters_changed(self) -> None:
        true_index = self.true_filter.currentData()
        predicted_index = self.predicted_filter.currentData()
        self.errors_proxy.set_classes(ANY if true_index is None else int(true_index),
                                      ANY if predicted_index is None else int(predicted_index))
        self.errors_proxy.set_words(self.words_filter.text())
        self._update_count()

    def _update_count(self) -> None:
        total = self.errors_model.rowCount()
        shown = self.errors_proxy.rowCount()
        if total == 0:
            self.errors_count_label.setText("")
        elif shown == total:
            self.errors_count_label.setText(f"{total:,} misclassified")
        else:
            self.errors_count_label.setText(f"{shown:,} of {total:,} shown")

    def _cell_clicked(self, true_index: int, predicted_index: int) -> None:
        """A click on the heat map lists those reviews (a diagonal cell: all errors of a class)."""
        if true_index == predicted_index:
            self.set_class_filter(true_index, ANY)
        else:
            self.set_class_filter(true_index, predicted_index)

    def _row_activated(self, index: QModelIndex) -> None:
        source = self.errors_proxy.mapToSource(index)
        if not source.isValid():
            return
        item = self.errors_model.record(source.row())
        self.review_activated.emit(item.text)
        self.review_dialog.show_review(item, self._classes)


if __name__ == "__main__":
    preview(ResultsPanel)
