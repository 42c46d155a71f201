"""The Train tab: a form bound to TrainConfig, the run controls, progress, and live curves.

Training runs in a worker thread (``Panel.run_job``); the trainer's plain callbacks
become throttled progress lists here, so the form, the progress bar and the curves update a
few times a second whatever the batch rate.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.config import PRESETS, TrainConfig, preset
from core.errors import ReviewDataError
from core.io.readers import ReadCancelled, read_reviews
from core.io.table import ReviewTable
from core.metrics import format_duration
from core.text.labels import LabelScheme
from core.training.dataset import no_label_row_count
from core.training.events import BatchProgress, EpochSummary, TrainCallbacks, TrainControl
from core.training.word_prior import SHORT_REVIEW_TOKENS, SMALL_SET_REVIEWS
from gui import dialogs
from gui.file_dialogs import REVIEWS_FILTER
from gui.panels.base import Panel, preview
from gui.panels.curves import CurvesPanel
from gui.workers import JobContext, JobHandle

if TYPE_CHECKING:  # torch loads after the window is up (gui/app.py)
    from core.training.pipeline import TrainingOutcome
    from core.training.pretraining import PretrainProgress

log = logging.getLogger(__name__)

CUSTOM = "Custom"

TOOLTIPS: dict[str, str] = {
    "preset": "Ready-made settings: Fast trains in a fraction of the time, Accurate takes "
              "longest and usually scores best.",
    "cell": "The recurrent unit: GRU and LSTM remember long-range context, a plain RNN is "
            "fastest but forgets quickly.",
    "layers": "How many recurrent layers are stacked; more can learn subtler patterns but "
              "train slower.",
    "bidirectional": "Also read each review from the end backwards, so every word sees its "
                     "right-hand context.",
    "embedding_dim": "Length of the vector that represents each word.",
    "hidden_size": "Size of the recurrent memory per direction; larger holds more but trains "
                   "slower.",
    "pooling": "How the word outputs become one review vector: last step, mean, max, max "
               "and mean side by side, or learned attention weights.",
    "dropout": "Share of values randomly zeroed while training, to reduce overfitting.",
    "word_prior": "Give the model each word's lean toward each class in the training reviews "
                  "(naive-Bayes ratios) as a fixed extra input. Helps sets of short reviews "
                  "(about +1.5 points on short movie-review sentences); can hurt when training "
                  "and test reviews are about different things (e.g. other films). Auto: on "
                  f"when the median training review is at most {SHORT_REVIEW_TOKENS} tokens "
                  f"or there are at most {SMALL_SET_REVIEWS:,} training reviews.",
    "epochs": "Maximum number of passes over the training reviews.",
    "batch_size": "Reviews per training step; larger is faster per review, smaller often "
                  "generalises better.",
    "learning_rate": "Step size of the optimiser (Adam); too high diverges, too low learns "
                     "slowly.",
    "lr_decay": "After every epoch the learning rate is multiplied by this (1 keeps it "
                "constant); smaller steps late in training often settle on a better model.",
    "ema_decay": "Check and keep an average of the recent weights instead of only the "
                 "latest ones: it smooths out the last steps' noise and usually scores a "
                 "little better. 0 turns it off; closer to 1 averages over more steps "
                 "(0.995: roughly the last 200).",
    "max_length": "Reviews longer than this many tokens are cut (keeping the beginning and "
                  "the end).",
    "vocab_size": "The most frequent words kept; rarer words become 'unknown'.",
    "validation_share": "Share of the training reviews held back to pick the best epoch.",
    "seed": "Random seed: the same seed and settings give the same model.",
    "early_stopping": "Stop when validation accuracy has not improved for 'patience' epochs.",
    "patience": "Epochs without improvement before early stopping ends the run.",
    "pretrain": "Learn from the reviews' texts before the labels: word vectors (word2vec), or "
                "the recurrent layers as a language model that predicts each next word. Reads "
                "the training rows, the file's rows without a label and any added unlabelled "
                "files; never the validation or test rows.",
    "pretrain_epochs": "Passes over the texts while pretraining.",
    "adversarial": "Also train on each review pushed slightly in the direction that hurts "
                   "most: against its label (adversarial) or against the model's own "
                   "prediction (virtual adversarial, which also reads unlabelled reviews). "
                   "About three times the training time. Auto: adversarial for training sets "
                   "of up to 250,000 words, off for larger ones.",
    "negation_pairs": "Also train on each short training text with its one negation flipped "
                      "('was clean' -> 'was not clean', 'not bad' <- 'bad') and the other "
                      "label, so the model learns that 'not' turns a complaint into praise "
                      "as well as the other way round. Only short, single-clause texts are "
                      "used. Auto: on for two classes. Wide: the other negators too ('never', "
                      "'hardly', 'barely', 'rarely', 'no' + noun), an experiment that did not "
                      "beat 'not' alone on the project's selection splits. Determiner: "
                      "'a' / 'some' -> 'no' as well ('is a disaster' -> 'is no disaster').",
}

CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
WORD_PRIOR_NAMES = {"auto": "Auto (short reviews or small sets)", "on": "On", "off": "Off"}
PRETRAIN_NAMES = {"off": "Off", "vectors": "Word vectors", "lm": "Language model"}
ADVERSARIAL_NAMES = {"auto": "Auto (on for small sets)", "off": "Off", "at": "Adversarial",
                     "vat": "Virtual adversarial"}
NEGATION_PAIR_NAMES = {"auto": "Auto (two classes)", "on": "On", "off": "Off",
                       "wide": "Wide (also never, hardly, no + noun)",
                       "wide_add": "Wide, beside each 'not' pair",
                       "determiner": "Also 'a' -> 'no' (is no disaster)"}
POOLING_NAMES = {"last": "Last step", "mean": "Mean", "max": "Max", "max_mean": "Max + mean",
                 "attention": "Attention"}


@dataclass
class PretrainEpoch:
    """One finished pretraining epoch, as a progress event."""

    epoch: int
    loss: float


def unlabelled_uses(config: TrainConfig) -> tuple[str, ...]:
    """What in ``config`` reads unlabelled reviews, in words; empty when nothing does."""
    uses = []
    if config.pretrain != "off":
        uses.append(f"pretraining ({PRETRAIN_NAMES[config.pretrain].lower()})")
    if config.adversarial == "vat":
        uses.append("virtual adversarial training")
    return tuple(uses)


def wants_unlabelled(config: TrainConfig) -> bool:
    """Whether the run reads unlabelled reviews (pretraining or virtual adversarial)."""
    return bool(unlabelled_uses(config))


@dataclass(frozen=True)
class UnlabelledState:
    """The added unlabelled files and whether the settings use them: what the Data tab shows
    of the list this panel owns (plain data, so it can travel in a signal)."""

    files: tuple[tuple[str, int], ...] = ()  # (file name, reviews) of each added file
    used_by: tuple[str, ...] = ()  # what in the current settings reads them
    reading: int = 0  # files still being read
    editable: bool = True  # False while a run is on (it has taken its copy of the list)

    @property
    def reviews(self) -> int:
        return sum(count for _, count in self.files)

    def shown_names(self, most: int = 3, chars: int = 30) -> str:
        """The file names for a narrow label: a long name shortened in the middle, at most
        ``most`` names and then how many more (the full list goes in a tooltip)."""
        names = [n if len(n) <= chars else n[:chars // 2 - 1] + "…" + n[-(chars // 2):]
                 for n, _ in self.files[:most]]
        more = len(self.files) - most
        return ", ".join(names) + (f" and {more} more" if more > 0 else "")

    def tooltip(self) -> str:
        return "\n".join(f"{name}: {count:,} reviews" for name, count in self.files)


def count_parameters(config: TrainConfig, num_classes: int, vocab_size: int | None = None) -> int:
    """Parameters of the model the config would build with ``vocab_size`` words (the
    config's cap when None). Runs in a worker: a large embedding takes a moment to build."""
    from core.model.classifier import RecurrentClassifier  # torch: in the worker, not at start

    size = config.vocab_size if vocab_size is None else vocab_size
    return RecurrentClassifier.from_config(config, size, num_classes).parameter_count()


class WordCounts:
    """How often each token occurs in the loaded reviews, per tokenizer setting (cached), so
    the parameter count can use the vocabulary training would really build."""

    def __init__(self, table: ReviewTable) -> None:
        self.table = table
        self._counts: dict[tuple[str, bool], Counter[str]] = {}
        self._lock = threading.Lock()

    def vocabulary_size(self, config: TrainConfig) -> int:
        """Entries a vocabulary built from all these reviews would hold (specials included);
        training builds it from its training rows only, so it may come out a little smaller."""
        from core.text.tokenizer import Tokenizer
        from core.training.dataset import tokenizer_settings

        key = (config.tokenizer, config.lowercase)
        with self._lock:
            counts = self._counts.get(key)
            if counts is None:
                tokenizer = Tokenizer(tokenizer_settings(config))
                counts = Counter()
                for text in self.table.texts:
                    counts.update(tokenizer.tokenize(text))
                self._counts[key] = counts
        kept = sum(1 for count in counts.values() if count >= config.min_count)
        return min(kept, max(0, config.vocab_size - 2)) + 2


def format_count(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.2f} M"
    if count >= 10_000:
        return f"{count / 1_000:.0f} k"
    return f"{count:,}"


class TrainPanel(Panel):
    """Edit a TrainConfig, run it on the table from the Data tab, and watch it train."""

    training_finished = Signal(object)  # TrainingOutcome
    training_started = Signal(object)  # TrainConfig
    run_ended = Signal()  # after training_finished, or after a failure or early cancel
    parameter_count_changed = Signal(int)
    unlabelled_changed = Signal(object)  # UnlabelledState, when the list or its use changes

    PREVIEW_SIZE = (1200, 720)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table: ReviewTable | None = None
        self._word_counts: WordCounts | None = None
        self._scheme: LabelScheme | None = None
        self._active = False
        self._control: TrainControl | None = None
        self._count_token: object | None = None
        self._base = TrainConfig()
        self._loading = False
        self.batches_seen = 0
        self.epochs_seen: list[EpochSummary] = []
        self.last_outcome: TrainingOutcome | None = None
        self._unlabelled_reading = 0
        self._unlabelled_shown: UnlabelledState | None = None
        self._count_timer = QTimer(self, singleShot=True, interval=120)
        self._count_timer.timeout.connect(self._update_parameter_count)
        self._build()
        self.set_config(TrainConfig(), preset_name="Balanced")
        self._update_controls()

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        self.preset_combo = QComboBox()
        self.preset_combo.addItems([*PRESETS, CUSTOM])
        self.preset_combo.setToolTip(TOOLTIPS["preset"])
        self.preset_combo.activated.connect(self._on_preset)

        self.cell = QComboBox()
        for key, name in CELL_NAMES.items():
            self.cell.addItem(name, key)
        self.layers = _spin(1, 8)
        self.bidirectional = QCheckBox("Bidirectional (read both ways)")
        self.embedding_dim = _spin(1, 2048, step=16)
        self.hidden_size = _spin(1, 4096, step=16)
        self.pooling = QComboBox()
        for key, name in POOLING_NAMES.items():
            self.pooling.addItem(name, key)
        self.dropout = _double(0.0, 0.9, 0.05, 2)
        self.word_prior = QComboBox()
        for key, name in WORD_PRIOR_NAMES.items():
            self.word_prior.addItem(name, key)
        self.negation_pairs = QComboBox()
        for key, name in NEGATION_PAIR_NAMES.items():
            self.negation_pairs.addItem(name, key)
        self.parameter_label = QLabel("counting…")
        self.parameter_label.setObjectName("parameterCount")

        self.epochs = _spin(1, 500)
        self.batch_size = _spin(1, 4096, step=16)
        self.learning_rate = _double(0.00001, 1.0, 0.0005, 5)
        self.lr_decay = _double(0.05, 1.0, 0.05, 2)
        self.ema_decay = _double(0.0, 0.9999, 0.001, 4)
        self.max_length = _spin(1, 100_000, step=50, suffix=" tokens")
        self.vocab_size = _spin(10, 2_000_000, step=5000, suffix=" words")
        self.validation_share = _spin(1, 50, suffix=" %")
        self.seed = _spin(0, 2**31 - 1)
        self.early_stopping = QCheckBox("Early stopping")
        self.patience = _spin(1, 100, suffix=" epochs")
        self.pretrain = QComboBox()
        for key, name in PRETRAIN_NAMES.items():
            self.pretrain.addItem(name, key)
        self.pretrain_epochs = _spin(1, 100, suffix=" epochs")
        self.adversarial = QComboBox()
        for key, name in ADVERSARIAL_NAMES.items():
            self.adversarial.addItem(name, key)
        self.unlabelled_label = QLabel("No unlabelled reviews added.")
        self.unlabelled_label.setWordWrap(True)
        self.add_unlabelled_button = QPushButton("Add unlabelled files…")
        self.add_unlabelled_button.setToolTip("Review files whose texts pretraining (and virtual "
                                              "adversarial training) also learn from; their "
                                              "labels, if any, are ignored.")
        self.add_unlabelled_button.clicked.connect(self._choose_unlabelled)
        self.clear_unlabelled_button = QPushButton("Clear")
        self.clear_unlabelled_button.clicked.connect(self.clear_unlabelled)
        self.unlabelled: list[ReviewTable] = []

        self._fields: dict[str, QWidget] = {
            "cell": self.cell, "layers": self.layers, "bidirectional": self.bidirectional,
            "embedding_dim": self.embedding_dim, "hidden_size": self.hidden_size,
            "pooling": self.pooling, "dropout": self.dropout, "word_prior": self.word_prior,
            "epochs": self.epochs,
            "batch_size": self.batch_size, "learning_rate": self.learning_rate,
            "lr_decay": self.lr_decay, "ema_decay": self.ema_decay,
            "max_length": self.max_length, "vocab_size": self.vocab_size,
            "validation_share": self.validation_share, "seed": self.seed,
            "early_stopping": self.early_stopping, "patience": self.patience,
            "pretrain": self.pretrain, "pretrain_epochs": self.pretrain_epochs,
            "adversarial": self.adversarial, "negation_pairs": self.negation_pairs,
        }
        for name, widget in self._fields.items():
            widget.setToolTip(TOOLTIPS[name])
            widget.setObjectName(name)
            signal = _changed_signal(widget)
            signal.connect(self._on_field_changed)

        model_box = QGroupBox("Model")
        model_form = _form(model_box)
        model_form.addRow("Cell:", self.cell)
        model_form.addRow("Layers:", self.layers)
        model_form.addRow("", self.bidirectional)
        model_form.addRow("Embedding size:", self.embedding_dim)
        model_form.addRow("Hidden size:", self.hidden_size)
        model_form.addRow("Pooling:", self.pooling)
        model_form.addRow("Dropout:", self.dropout)
        model_form.addRow("Word prior:", self.word_prior)
        model_form.addRow("Parameters:", self.parameter_label)

        text_box = QGroupBox("Text")
        text_form = _form(text_box)
        text_form.addRow("Max length:", self.max_length)
        text_form.addRow("Vocabulary:", self.vocab_size)

        train_box = QGroupBox("Training")
        train_form = _form(train_box)
        train_form.addRow("Epochs:", self.epochs)
        train_form.addRow("Batch size:", self.batch_size)
        train_form.addRow("Learning rate:", self.learning_rate)
        train_form.addRow("LR decay / epoch:", self.lr_decay)
        train_form.addRow("Weight average:", self.ema_decay)
        train_form.addRow("Validation:", self.validation_share)
        train_form.addRow("Seed:", self.seed)
        train_form.addRow("", self.early_stopping)
        train_form.addRow("Patience:", self.patience)
        train_form.addRow("Negation pairs:", self.negation_pairs)

        pretrain_box = QGroupBox("Unlabelled reviews")
        pretrain_form = _form(pretrain_box)
        pretrain_form.addRow("Pretraining:", self.pretrain)
        pretrain_form.addRow("Pretraining epochs:", self.pretrain_epochs)
        pretrain_form.addRow("Adversarial:", self.adversarial)
        unlabelled_buttons = QHBoxLayout()
        unlabelled_buttons.addWidget(self.add_unlabelled_button)
        unlabelled_buttons.addWidget(self.clear_unlabelled_button)
        pretrain_form.addRow("", unlabelled_buttons)
        pretrain_form.addRow("", self.unlabelled_label)

        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Preset:"))
        preset_row.addWidget(self.preset_combo, 1)

        self.form = QWidget()
        form_layout = QVBoxLayout(self.form)
        form_layout.setContentsMargins(0, 0, 6, 0)
        form_layout.addLayout(preset_row)
        form_layout.addWidget(model_box)
        form_layout.addWidget(text_box)
        form_layout.addWidget(train_box)
        form_layout.addWidget(pretrain_box)
        form_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll_bar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setFixedWidth(self.form.minimumSizeHint().width() + scroll_bar + 8)

        # run controls: actions carry the shortcuts so they work from any tab
        self.train_action = QAction("Start training", self, shortcut=QKeySequence("Ctrl+T"))
        self.pause_action = QAction("Pause training", self, shortcut=QKeySequence("Ctrl+P"))
        self.resume_action = QAction("Resume training", self,
                                     shortcut=QKeySequence("Ctrl+R"))
        self.cancel_action = QAction("Cancel training", self,
                                     shortcut=QKeySequence("Ctrl+Shift+X"))
        self.train_action.triggered.connect(self.start_training)
        self.pause_action.triggered.connect(self.pause)
        self.resume_action.triggered.connect(self.resume)
        self.cancel_action.triggered.connect(self.cancel)

        self.train_button = QPushButton("Train")
        self.train_button.setProperty("primary", True)
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel")
        for button, action in ((self.train_button, self.train_action),
                               (self.pause_button, self.pause_action),
                               (self.resume_button, self.resume_action),
                               (self.cancel_button, self.cancel_action)):
            button.clicked.connect(action.trigger)
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            button.setToolTip(f"{action.text()} ({keys})")
            self.addAction(action)
        self.cancel_button.setToolTip(self.cancel_button.toolTip()
                                      + ": keeps the best model so far")
        self.data_label = QLabel("Open reviews in the Data tab first.")
        self.data_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.cancel_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.data_label, 1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress_label = QLabel("Not started.")
        self.progress_label.setObjectName("progressLabel")
        # long progress lines are clipped rather than widening the window
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                          QSizePolicy.Policy.Preferred)
        self.progress_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.curves = CurvesPanel(self)
        # The curves take the width that is left; a long summary line inside them must not
        # push the window wider than the screen.
        self.curves.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.curves.setMinimumWidth(560)

        right = QVBoxLayout()
        right.addLayout(buttons)
        right.addWidget(self.progress)
        right.addWidget(self.progress_label)
        right.addWidget(self.curves, 1)

        layout = QHBoxLayout(self)
        layout.addWidget(scroll)
        layout.addLayout(right, 1)

    # -- the config ------------------------------------------------------------------------
    def config(self) -> TrainConfig:
        """The config the form shows; knobs not on the form keep their loaded values."""
        return self._base.replace(
            cell=self.cell.currentData(), layers=self.layers.value(),
            bidirectional=self.bidirectional.isChecked(),
            embedding_dim=self.embedding_dim.value(), hidden_size=self.hidden_size.value(),
            pooling=self.pooling.currentData(), dropout=round(self.dropout.value(), 4),
            word_prior=self.word_prior.currentData(),
            epochs=self.epochs.value(), batch_size=self.batch_size.value(),
            learning_rate=self.learning_rate.value(), lr_decay=round(self.lr_decay.value(), 4),
            ema_decay=round(self.ema_decay.value(), 4),
            max_length=self.max_length.value(),
            vocab_size=self.vocab_size.value(),
            validation_share=self.validation_share.value() / 100.0, seed=self.seed.value(),
            early_stopping=self.early_stopping.isChecked(), patience=self.patience.value(),
            pretrain=self.pretrain.currentData(), pretrain_epochs=self.pretrain_epochs.value(),
            adversarial=self.adversarial.currentData(),
            negation_pairs=self.negation_pairs.currentData())

    def set_config(self, config: TrainConfig, preset_name: str | None = None) -> None:
        """Show ``config`` in the form (e.g. restored from settings or a loaded model)."""
        self._loading = True
        try:
            self._base = config
            self.cell.setCurrentIndex(self.cell.findData(config.cell))
            self.layers.setValue(config.layers)
            self.bidirectional.setChecked(config.bidirectional)
            self.embedding_dim.setValue(config.embedding_dim)
            self.hidden_size.setValue(config.hidden_size)
            self.pooling.setCurrentIndex(self.pooling.findData(config.pooling))
            self.dropout.setValue(config.dropout)
            self.word_prior.setCurrentIndex(self.word_prior.findData(config.word_prior))
            self.epochs.setValue(config.epochs)
            self.batch_size.setValue(config.batch_size)
            self.learning_rate.setValue(config.learning_rate)
            self.lr_decay.setValue(config.lr_decay)
            self.ema_decay.setValue(config.ema_decay)
            self.max_length.setValue(config.max_length)
            self.vocab_size.setValue(config.vocab_size)
            self.validation_share.setValue(round(config.validation_share * 100))
            self.seed.setValue(config.seed)
            self.early_stopping.setChecked(config.early_stopping)
            self.patience.setValue(config.patience)
            self.pretrain.setCurrentIndex(self.pretrain.findData(config.pretrain))
            self.pretrain_epochs.setValue(config.pretrain_epochs)
            self.adversarial.setCurrentIndex(self.adversarial.findData(config.adversarial))
            self.negation_pairs.setCurrentIndex(
                self.negation_pairs.findData(config.negation_pairs))
        finally:
            self._loading = False
        self.preset_combo.setCurrentText(preset_name or self._matching_preset())
        self._update_controls()
        self._count_timer.start()

    def _matching_preset(self) -> str:
        current = self.config()
        for name in PRESETS:
            if preset(name).replace(threads=current.threads, device=current.device) == current:
                return name
        return CUSTOM

    def _on_preset(self, index: int) -> None:
        name = self.preset_combo.itemText(index)
        if name in PRESETS:
            keep = self._base
            self.set_config(preset(name).replace(threads=keep.threads, device=keep.device),
                            preset_name=name)

    def _on_field_changed(self, *_: Any) -> None:
        if self._loading:
            return
        self.preset_combo.setCurrentText(self._matching_preset())
        self.patience.setEnabled(self.early_stopping.isChecked() and not self.running)
        self._show_unlabelled()
        self._count_timer.start()

    def _update_parameter_count(self) -> JobHandle | None:
        """Count in a worker; a result that a newer edit has overtaken is dropped."""
        config, classes, words = self.config(), self.num_classes, self._word_counts
        token = object()
        self._count_token = token

        def count(_ctx: Any) -> tuple[int, int | None]:
            size = None if words is None else words.vocabulary_size(config)
            return count_parameters(config, classes, size), size

        def show(result: tuple[int, int | None]) -> None:
            if token is not self._count_token:
                return
            total, size = result
            if size is None:  # no data yet: the most the settings allow
                self.parameter_label.setText(f"at most {format_count(total)}  ({total:,})")
                self.parameter_label.setToolTip(
                    f"An upper bound: {total:,} weights if the vocabulary fills all "
                    f"{config.vocab_size:,} words. Open reviews to count what training "
                    "will build from them.")
            else:
                self.parameter_label.setText(f"about {format_count(total)}  ({total:,})")
                self.parameter_label.setToolTip(
                    f"{total:,} weights: a vocabulary of {size:,} entries (words of the "
                    f"loaded reviews seen at least {config.min_count} times, up to "
                    f"{config.vocab_size:,}) and {classes} classes. Training builds the "
                    "vocabulary from its training rows only, so it can be a little smaller.")
            self.parameter_count_changed.emit(total)

        def failed(message: str, _details: str) -> None:
            if token is self._count_token:
                self.parameter_label.setText("cannot build this model")
                self.parameter_label.setToolTip(message)

        return self.run_job(count, on_finished=show, on_failed=failed, side=True)

    @property
    def num_classes(self) -> int:
        return self._scheme.num_classes if self._scheme is not None else 2

    # -- the data --------------------------------------------------------------------------
    def set_data(self, table: ReviewTable | None, scheme: LabelScheme | None) -> None:
        """The reviews and label scheme a run will use (from the Data tab)."""
        self._table, self._scheme = table, scheme
        if table is None:
            self._word_counts = None
        elif self._word_counts is None or self._word_counts.table is not table:
            self._word_counts = WordCounts(table)
        if table is None or scheme is None:
            self.data_label.setText("Open reviews in the Data tab first.")
        else:
            name = table.path.rsplit("/", 1)[-1] if table.path else "reviews"
            self.data_label.setText(f"{len(table):,} reviews from {name}; classes: "
                                    f"{', '.join(scheme.classes)}")
        self._update_controls()
        self._count_timer.start()

    # -- running ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """A run is on until it reports its end (its thread stops a moment later)."""
        return self._active and not self.closed

    def start_training(self) -> JobHandle | None:
        """Start a run in a worker thread; returns its handle (None when it cannot start)."""
        assert self.thread() is QThread.currentThread()
        if self.running or self.closed or self._table is None or self._scheme is None:
            return None
        try:
            config = self.config().validate()
        except ReviewDataError as error:
            dialogs.show_error(self, "Cannot start training", str(error))
            return None
        table, scheme = self._table, self._scheme
        self.curves.reset()
        self.batches_seen = 0
        self.epochs_seen = []
        self.progress.setValue(0)
        self.progress_label.setText("Preparing the reviews...")

        extra = list(self.unlabelled)

        def job(ctx: JobContext) -> TrainingOutcome:
            from core.training.pipeline import run_training
            from core.training.pretraining import PretrainCallbacks
            from core.training.unlabelled import read_unlabelled_rows

            callbacks = TrainCallbacks(on_batch=ctx.emit, on_epoch=ctx.emit_now,
                                       on_status=ctx.status)
            unlabelled = extra
            if wants_unlabelled(config) and table.path and Path(table.path).is_file():
                ctx.status("Reading the file's reviews without a label...")
                spare = read_unlabelled_rows(table.path, table.text_column, table.label_column,
                                             cancel=lambda: ctx.control.cancelled)
                unlabelled = ([spare] if len(spare) else []) + extra
            pretraining = PretrainCallbacks(
                on_batch=ctx.emit, on_status=ctx.status,
                on_epoch=lambda epoch, loss: ctx.emit_now(PretrainEpoch(epoch, loss)))
            return run_training(table, config, scheme, callbacks, ctx.control, unlabelled,
                                pretrain_callbacks=pretraining)

        handle = self.run_job(job, on_progress=self._on_progress,
                              on_finished=self._on_finished, on_failed=self._on_failed,
                              on_status=self._on_status, on_ended=self._update_controls)
        if handle is None:
            return None
        self._control = handle.job.context.control  # outlives the job object
        self._active = True
        self._epochs_planned = config.epochs
        self.training_started.emit(config)
        self.status_message.emit("Training started.")
        log.info("training started: %s", config.to_dict())
        self._update_controls()
        return handle

    def pause(self) -> None:
        if self.running and not self._handle.paused:  # type: ignore[union-attr]
            self._handle.pause()  # type: ignore[union-attr]
            self.progress_label.setText("Paused. " + self.progress_label.text())
            self.status_message.emit("Training paused.")
            self._update_controls()

    def resume(self) -> None:
        if self.running and self._handle.paused:  # type: ignore[union-attr]
            self._handle.resume()  # type: ignore[union-attr]
            self.status_message.emit("Training resumed.")
            self._update_controls()

    def cancel(self) -> None:
        if self.running:
            self._handle.cancel()  # type: ignore[union-attr]
            self.progress_label.setText("Cancelling: finishing the current batch...")
            self.status_message.emit("Cancelling training...")
            self._update_controls()

    def stop_starting(self) -> None:
        self._count_timer.stop()

    def _on_progress(self, events: list) -> None:
        assert self.thread() is QThread.currentThread()
        from core.training.pretraining import PretrainProgress  # loaded by the run already

        pending: list[BatchProgress] = []
        for event in events:
            if isinstance(event, PretrainProgress):
                self._show_pretraining(event)
                continue
            if isinstance(event, PretrainEpoch):
                self.status_message.emit(f"Pretraining epoch {event.epoch}: language-model "
                                         f"loss {event.loss:.3f} (perplexity "
                                         f"{math.exp(min(event.loss, 50)):,.0f})")
                continue
            if isinstance(event, BatchProgress):
                pending.append(event)
                continue
            if pending:
                self._show_batches(pending)
                pending = []
            if isinstance(event, EpochSummary):
                self._show_epoch(event)
        if pending:
            self._show_batches(pending)

    def _show_batches(self, batches: list[BatchProgress]) -> None:
        self.batches_seen += len(batches)
        self.curves.add_batches(batches)
        last = batches[-1]
        self.progress.setValue(int(round(last.fraction * 1000)))
        paused = self._handle is not None and self._handle.paused
        self.progress_label.setText(
            f"{'Paused. ' if paused else ''}Epoch {last.epoch}/{last.epochs} · batch "
            f"{last.batch}/{last.batches} · loss {last.loss:.3f} · "
            f"{last.tokens_per_second:,.0f} tokens/s · ETA {format_duration(last.eta)}")

    def _show_pretraining(self, event: PretrainProgress) -> None:
        """Pretraining has its own pass through the bar, then training starts it again."""
        self.curves.add_pretraining([event])
        self.progress.setValue(int(round(event.fraction * 1000)))
        paused = self._handle is not None and self._handle.paused
        self.progress_label.setText(
            f"{'Paused. ' if paused else ''}Pretraining epoch {event.epoch}/{event.epochs} · "
            f"batch {event.batch}/{event.batches} · language-model loss {event.loss:.3f} "
            f"(perplexity {event.perplexity:,.0f}) · {event.tokens_per_second:,.0f} tokens/s · "
            f"ETA {format_duration(event.eta)}")

    # -- unlabelled reviews ------------------------------------------------------------------
    def set_unlabelled(self, tables: list[ReviewTable]) -> None:
        """Extra review files for pretraining and virtual adversarial training."""
        self.unlabelled = list(tables)
        self._show_unlabelled()

    def clear_unlabelled(self) -> None:
        """Forget the added files (the Clear button of either tab)."""
        self.set_unlabelled([])

    def unlabelled_state(self) -> UnlabelledState:
        """The added files and their use by the current settings, for the Data tab."""
        return UnlabelledState(
            files=tuple((t.file_name, len(t)) for t in self.unlabelled),
            used_by=unlabelled_uses(self.config()), reading=self._unlabelled_reading,
            editable=not self.running)

    def _show_unlabelled(self) -> None:
        """Refresh this tab's line and tell the window when the state changed."""
        state = self.unlabelled_state()
        spare = self._spare_rows()
        parts = []
        if spare:
            parts.append(f"{spare:,} rows of the loaded file have no label")
        if state.files:
            parts.append(f"{state.reviews:,} reviews added ({state.shown_names()})")
        if state.reading:
            parts.append(f"reading {state.reading} file{'' if state.reading == 1 else 's'}…")
        text = "; ".join(parts) + "." if parts else "No unlabelled reviews added."
        if (spare or state.files) and not state.used_by:
            text += " Not used with these settings: turn on pretraining or virtual adversarial."
        self.unlabelled_label.setText(text)
        self.unlabelled_label.setToolTip(state.tooltip())
        self.clear_unlabelled_button.setEnabled(bool(self.unlabelled))
        if state != self._unlabelled_shown:
            self._unlabelled_shown = state
            self.unlabelled_changed.emit(state)

    def _spare_rows(self) -> int:
        """Rows the reader set aside for having no label: pretraining reads them."""
        if self._table is None:
            return 0
        return no_label_row_count(self._table, outside_test=True)

    def _choose_unlabelled(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add unlabelled reviews",
                                                dialogs.start_folder(None), REVIEWS_FILTER)
        if paths:
            self.add_unlabelled_paths(paths)

    def add_unlabelled_paths(self, paths: list[str]) -> JobHandle | None:
        """Read ``paths`` as unlabelled reviews in a worker and add them (from either tab).

        The file open in the Data tab is refused: its rows without a label are read already,
        and reading it again would feed its labelled rows, test rows included, to pretraining.
        A file that cannot be read is named in one message; the others are still added.
        """
        assert self.thread() is QThread.currentThread()
        if self.running:
            return None
        loaded = _same_file_key(self._table.path) if self._table and self._table.path else None
        have = {_same_file_key(t.path) for t in self.unlabelled if t.path}
        problems: list[str] = []
        todo: list[str] = []
        for path in dict.fromkeys(str(p) for p in paths):
            key = _same_file_key(path)
            if key == loaded:
                problems.append(f"{path}: this is the file open in the Data tab. Its rows "
                                "without a label are used already; add other files here.")
            elif key not in have:
                todo.append(path)
        if not todo:
            self._report_unlabelled_problems(problems)
            return None

        def read(ctx: JobContext) -> tuple[list[ReviewTable], list[str]]:
            tables, errors = [], []
            for path in todo:
                try:
                    tables.append(read_reviews(path, label_column="",
                                               cancel=ctx.is_cancelled))
                except ReadCancelled:
                    break
                except ReviewDataError as error:
                    errors.append(str(error))
            return tables, errors

        def done(result: tuple[list[ReviewTable], list[str]]) -> None:
            tables, errors = result
            self.set_unlabelled(self.unlabelled + tables)
            if tables:
                self.status_message.emit(
                    f"Added {sum(len(t) for t in tables):,} unlabelled reviews from "
                    + ", ".join(t.file_name for t in tables) + ".")
            self._report_unlabelled_problems(problems + errors)

        def failed(message: str, _details: str) -> None:
            self._report_unlabelled_problems([*problems, message])

        def ended() -> None:
            self._unlabelled_reading -= len(todo)
            self._show_unlabelled()

        handle = self.run_job(read, on_finished=done, on_failed=failed, on_ended=ended,
                              side=True)
        if handle is not None:
            self._unlabelled_reading += len(todo)
            self._show_unlabelled()
        return handle

    def _report_unlabelled_problems(self, problems: list[str]) -> None:
        if problems:
            dialogs.show_error(self, "Cannot add these unlabelled reviews", "\n\n".join(problems))

    def _show_epoch(self, summary: EpochSummary) -> None:
        self.epochs_seen.append(summary)
        self.curves.add_epoch(summary)
        if summary.is_best:
            self.curves.set_best_epoch(summary.epoch)
        self.status_message.emit(
            f"Epoch {summary.epoch}: validation accuracy {summary.val_accuracy:.1%}, loss "
            f"{summary.val_loss:.3f}{' (best so far)' if summary.is_best else ''}")

    def _on_status(self, message: str) -> None:
        self.progress_label.setText(message)
        self.status_message.emit(message)

    def _on_finished(self, outcome: TrainingOutcome) -> None:
        assert self.thread() is QThread.currentThread()
        self._active = False
        self.last_outcome = outcome
        result = outcome.result
        best = result.best_epoch
        accuracy = next((h.val_accuracy for h in result.history if h.epoch == best), None)
        best_text = f"epoch {best}" + (f", validation accuracy {accuracy:.1%}"
                                       if accuracy is not None else "")
        if result.stop_reason == "cancelled":
            text = f"Cancelled — kept the best model (epoch {best})."
        elif result.stop_reason == "early_stopping":
            text = f"Stopped early after {len(result.history)} epochs; best {best_text}."
        elif result.stop_reason == "diverged":
            text = f"Stopped: the loss diverged; kept {best_text}."
        else:
            self.progress.setValue(1000)
            text = f"Finished in {format_duration(result.seconds)}; best {best_text}."
        self.progress_label.setText(text)
        self.status_message.emit(text)
        log.info("training ended (%s), best epoch %d", result.stop_reason, best)
        self._update_controls()
        self.training_finished.emit(outcome)
        self.run_ended.emit()
        if result.stop_reason == "diverged" and result.message:
            dialogs.show_error(self, "Training stopped", result.message)

    def _on_failed(self, message: str, details: str) -> None:
        assert self.thread() is QThread.currentThread()
        self._active = False
        if self._control is not None and self._control.cancelled:
            # cancelled before training began (while tokenizing): nothing to keep
            self.progress_label.setText("Cancelled before the first batch; no model kept.")
            self.status_message.emit("Training cancelled.")
            self._update_controls()
            self.run_ended.emit()
            return
        self.progress_label.setText("Training failed: " + message)
        self.status_message.emit("Training failed.")
        self._update_controls()
        self.run_ended.emit()
        dialogs.show_error(self, "Training failed", message, details)

    def _update_controls(self) -> None:
        running = self.running
        paused = running and self._handle is not None and self._handle.paused
        cancelling = running and self._control is not None and self._control.cancelled
        has_data = self._table is not None and self._scheme is not None
        self.train_action.setEnabled(has_data and not running)
        self.pause_action.setEnabled(running and not paused and not cancelling)
        self.resume_action.setEnabled(paused and not cancelling)
        self.cancel_action.setEnabled(running and not cancelling)
        for button, action in ((self.train_button, self.train_action),
                               (self.pause_button, self.pause_action),
                               (self.resume_button, self.resume_action),
                               (self.cancel_button, self.cancel_action)):
            button.setEnabled(action.isEnabled())
        self.pause_button.setVisible(not paused)
        self.resume_button.setVisible(paused)
        self.form.setEnabled(not running)
        self.pretrain_epochs.setEnabled(self.pretrain.currentData() == "lm"
                                        or self.pretrain.currentData() == "vectors")
        self.patience.setEnabled(self.early_stopping.isChecked() and not running)
        self._show_unlabelled()

    def run_actions(self) -> list[QAction]:
        """The run controls, for the main window's Training menu."""
        return [self.train_action, self.pause_action, self.resume_action, self.cancel_action]

    def load_preview(self, args: list[str]) -> None:
        """``python -m gui.panels.train``: the sample reviews and the Fast preset, ready."""
        from core.text.labels import make_scheme
        from gui.panels.samples import sample_table

        table = sample_table()
        self.set_data(table, make_scheme("auto", table.labels or []))
        self.set_config(preset("Fast").replace(epochs=3))


def _same_file_key(path: str) -> str:
    """One spelling per file, so the same file added twice (or the loaded one) is caught."""
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def _spin(low: int, high: int, step: int = 1, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setGroupSeparatorShown(True)
    if suffix:
        box.setSuffix(suffix)
    box.setKeyboardTracking(False)
    return box


def _double(low: float, high: float, step: float, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setKeyboardTracking(False)
    return box


def _form(box: QGroupBox) -> QFormLayout:
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return form


def _changed_signal(widget: QWidget) -> Any:
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    return widget.valueChanged  # spin boxes


if __name__ == "__main__":
    preview(TrainPanel)
