"""The Compare panel: which architecture suits these reviews, and does it beat a simple baseline?

Pick RNN / LSTM / GRU (settings otherwise equal to the Train form's), add variants from the
form, tick the baselines, and run. Every run trains on the same split in one background
job; validation curves of all runs share one plot, the results fill one table, and any
run's model can be kept as the current model.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.compare.baselines import TFIDF_NAME, VADER_NAME, vader_applies
from core.compare.runner import (
    CompareCallbacks,
    ComparisonResult,
    RunEvent,
    RunResult,
    Variant,
    cell_label,
    default_variants,
    describe_model,
    model_key,
    run_comparison,
    variant_name,
)
from core.config import CELLS, TrainConfig
from core.io.table import ReviewTable
from core.metrics import format_accuracy, format_duration
from core.text.labels import LabelScheme
from core.training.events import BatchProgress, EpochSummary
from gui import dialogs
from gui.panels.base import Panel, preview
from gui.widgets.comparison_curves import ComparisonCurves
from gui.widgets.comparison_table import ComparisonTable
from gui.workers import JobContext, JobHandle

log = logging.getLogger(__name__)

_CELL_HINTS = {
    "rnn": "Plain (Elman) recurrent network: the simplest cell; gradients fade over long "
           "reviews.",
    "lstm": "Long short-term memory: gated memory cell made to keep information over long "
            "texts.",
    "gru": "Gated recurrent unit: a lighter gated cell, often as accurate as the LSTM.",
}


class ComparePanel(Panel):
    """Runs a comparison in the background and shows its curves and table."""

    model_chosen = Signal(object)  # ModelBundle of the run the user keeps
    comparison_finished = Signal(object)  # ComparisonResult (also when cancelled)

    PREVIEW_SIZE = (1280, 760)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table: ReviewTable | None = None
        self._scheme: LabelScheme | None = None
        self._base = TrainConfig()
        self._runs: list[RunResult] = []
        self._result: ComparisonResult | None = None
        self._run_scheme: LabelScheme | None = None
        self._last_folder = str(Path.home())
        self._build()
        self._update_base_label()
        self._update_data_label()
        self._update_controls()

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        models = QGroupBox("Models")
        models_layout = QVBoxLayout(models)
        cells_row = QHBoxLayout()
        self.cell_checks: dict[str, QCheckBox] = {}
        for cell in CELLS:
            check = QCheckBox(cell_label(cell))
            check.setChecked(True)
            check.setToolTip(_CELL_HINTS.get(cell, ""))
            check.toggled.connect(self._update_controls)
            self.cell_checks[cell] = check
            cells_row.addWidget(check)
        cells_row.addStretch(1)
        models_layout.addLayout(cells_row)
        self.base_label = QLabel()
        self.base_label.setWordWrap(True)
        self.base_label.setTextFormat(Qt.TextFormat.PlainText)
        self.base_label.setStyleSheet("color: palette(placeholder-text);")
        models_layout.addWidget(self.base_label)
        models_layout.addWidget(QLabel("Extra variants:"))
        self.variant_list = QListWidget()
        self.variant_list.setToolTip("Variants added from the Train form; untick to leave one "
                                     "out of the next run.")
        self.variant_list.setMinimumHeight(56)
        self.variant_list.setMaximumHeight(120)
        self.variant_list.itemChanged.connect(self._update_controls)
        self.variant_list.currentRowChanged.connect(self._update_controls)
        models_layout.addWidget(self.variant_list)
        variant_buttons = QHBoxLayout()
        self.add_variant_button = QPushButton("Add variant from form")
        self.add_variant_button.setToolTip("Add the model settings now on the Train tab "
                                           "(e.g. bidirectional, more layers) as one more run.")
        self.add_variant_button.clicked.connect(self._add_base_as_variant)
        self.remove_variant_button = QPushButton("Remove")
        self.remove_variant_button.clicked.connect(self._remove_selected_variant)
        variant_buttons.addWidget(self.add_variant_button, 1)
        variant_buttons.addWidget(self.remove_variant_button)
        models_layout.addLayout(variant_buttons)

        baselines = QGroupBox("Baselines")
        baselines_layout = QVBoxLayout(baselines)
        self.tfidf_check = QCheckBox("TF-IDF + logistic regression")
        self.tfidf_check.setChecked(True)
        self.tfidf_check.setToolTip("Word uni- and bigram TF-IDF with logistic regression, "
                                    "fit on the same training reviews (scikit-learn).")
        self.vader_check = QCheckBox("VADER sentiment lexicon")
        self.vader_check.setChecked(True)
        self.vader_check.setToolTip("A rule-based lexicon with no training; two classes only.")
        for check in (self.tfidf_check, self.vader_check):
            check.toggled.connect(self._update_controls)
            baselines_layout.addWidget(check)

        self.fairness_note = QLabel(
            "Every run trains on the same training reviews with the same vocabulary and seed, "
            "chooses its best epoch on the same validation reviews and is scored on the same "
            "test reviews; the baselines read those reviews' original texts.")
        self.fairness_note.setWordWrap(True)
        self.fairness_note.setStyleSheet("color: palette(placeholder-text);")
        self.data_label = QLabel()
        self.data_label.setWordWrap(True)
        self.data_label.setTextFormat(Qt.TextFormat.PlainText)

        self.run_button = QPushButton("Run comparison")
        self.run_button.setProperty("primary", True)
        self.run_button.clicked.connect(self.start_comparison)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the whole comparison; finished runs and the "
                                      "current run's best model so far are kept.")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(10)
        self.progress_label = QLabel("Ready.")
        self.progress_label.setWordWrap(True)
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        self.progress_label.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)
        self.progress_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(models)
        left_layout.addWidget(baselines)
        left_layout.addWidget(self.data_label)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.progress_label)
        left_layout.addStretch(1)
        left_layout.addWidget(self.fairness_note)
        left.setMinimumWidth(280)
        left.setMaximumWidth(380)

        self.curves = ComparisonCurves()
        self.table = ComparisonTable()
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.table.run_selected.connect(self._update_controls)
        self.table.doubleClicked.connect(lambda _index: self.use_selected_model())
        self.table_note = QLabel("Bold on green: best in its column (finished runs only). "
                                 "Every run is scored on the same test reviews.")
        self.table_note.setWordWrap(True)
        self.table_note.setTextFormat(Qt.TextFormat.PlainText)
        self.use_button = QPushButton("Use this model")
        self.use_button.setToolTip("Make the selected run's model the current model (for "
                                   "Results, Explain, Batch and Save).")
        self.use_button.clicked.connect(self.use_selected_model)
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_csv_button.clicked.connect(self._export_csv_clicked)
        self.export_md_button = QPushButton("Export Markdown…")
        self.export_md_button.clicked.connect(self._export_markdown_clicked)
        table_buttons = QHBoxLayout()
        table_buttons.addWidget(self.table_note, 1)
        table_buttons.addWidget(self.use_button)
        table_buttons.addWidget(self.export_csv_button)
        table_buttons.addWidget(self.export_md_button)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table, 1)
        table_layout.addLayout(table_buttons)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.curves)
        right.addWidget(table_box)
        right.setStretchFactor(0, 5)
        right.setStretchFactor(1, 4)
        right.setChildrenCollapsible(False)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

    # ------------------------------------------------------------------ public API
    def set_table(self, table: ReviewTable | None, scheme: LabelScheme | None) -> None:
        """The reviews and label scheme the next comparison runs on."""
        assert self.thread() is QThread.currentThread()
        self._table, self._scheme = table, scheme
        if not self.running:
            self._clear_results()
        self._update_data_label()
        self._update_controls()

    def set_base_config(self, config: TrainConfig) -> None:
        """The Train form's settings: shared by every run (each default varies the cell only)."""
        assert self.thread() is QThread.currentThread()
        self._base = config
        self._update_base_label()
        self._update_controls()

    def load_preview(self, args: list[str]) -> None:
        """``python -m gui.panels.compare``: the sample reviews and a short Fast preset."""
        from core.config import preset
        from core.text.labels import make_scheme
        from gui.panels.samples import sample_table

        table = sample_table()
        self.set_table(table, make_scheme("auto", table.labels or []))
        self.set_base_config(preset("Fast").replace(epochs=6, max_length=120))

    def add_variant(self, name: str, config: TrainConfig) -> str:
        """Add one more run to the list (ticked); returns its name, "" if it was a duplicate."""
        assert self.thread() is QThread.currentThread()
        key = model_key(config)
        for index in range(self.variant_list.count()):
            if model_key(self.variant_list.item(index).data(Qt.ItemDataRole.UserRole)) == key:
                self.status_message.emit(f"'{self.variant_list.item(index).text()}' already "
                                         "has these settings.")
                return ""
        names = {self.variant_list.item(i).text() for i in range(self.variant_list.count())}
        names |= {cell_label(c) for c in CELLS}
        unique, count = name, 2
        while unique in names:
            unique, count = f"{name} #{count}", count + 1
        item = QListWidgetItem(unique)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        item.setData(Qt.ItemDataRole.UserRole, config)
        item.setToolTip(describe_model(config))
        self.variant_list.addItem(item)
        self._update_controls()
        return unique

    def variants(self) -> list[Variant]:
        """The recurrent runs the next comparison trains: ticked cells, then ticked variants."""
        cells = [cell for cell, check in self.cell_checks.items() if check.isChecked()]
        chosen = default_variants(self._base, cells)
        for index in range(self.variant_list.count()):
            item = self.variant_list.item(index)
            if item.checkState() == Qt.CheckState.Checked:
                chosen.append(Variant(item.text(), item.data(Qt.ItemDataRole.UserRole)))
        return chosen

    def baselines(self) -> list[str]:
        keys = []
        if self.tfidf_check.isChecked():
            keys.append("tfidf")
        if self.vader_check.isChecked() and self.vader_check.isEnabled():
            keys.append("vader")
        return keys

    def result(self) -> ComparisonResult | None:
        """The last finished (or cancelled) comparison."""
        return self._result

    def start_comparison(self) -> JobHandle | None:
        assert self.thread() is QThread.currentThread()
        if self.running or self._table is None or self._scheme is None:
            return None
        variants, baselines = self.variants(), self.baselines()
        if not variants and not baselines:
            return None
        table, scheme, base = self._table, self._scheme, self._base
        self._clear_results()
        self._run_scheme = scheme
        self.progress.setValue(0)
        self.progress_label.setText("Preparing the reviews (once for every run)...")

        def job(ctx: JobContext) -> ComparisonResult:
            callbacks = CompareCallbacks(on_batch=ctx.emit, on_epoch=ctx.emit_now,
                                         on_run=ctx.emit_now, on_status=ctx.status)
            return run_comparison(table, base, variants, scheme, baselines, callbacks,
                                  ctx.control)

        handle = self.run_job(job, on_progress=self._on_progress,
                              on_finished=self._on_finished, on_failed=self._on_failed,
                              on_status=self._on_status, on_ended=self._update_controls)
        if handle is None:
            return None
        names = ", ".join([v.name for v in variants] +
                          [TFIDF_NAME if b == "tfidf" else VADER_NAME for b in baselines])
        self.status_message.emit(f"Comparison started: {names}.")
        log.info("comparison started: %s", names)
        self._update_controls()
        return handle

    def cancel(self) -> None:
        if self.running:
            self._handle.cancel()  # type: ignore[union-attr]
            self.progress_label.setText("Cancelling: the current run stops after this batch; "
                                        "finished runs are kept.")
            self.status_message.emit("Cancelling the comparison...")
            self._update_controls()

    def use_selected_model(self) -> None:
        run = self._selected_run()
        if run is None or run.bundle is None:
            return
        self.model_chosen.emit(run.bundle)
        note = " (cancelled run: best model before the cancel)" if run.cancelled else ""
        self.status_message.emit(f"Using the {run.name} model from the comparison{note}.")

    # ------------------------------------------------------------------ worker events
    def _on_progress(self, events: list) -> None:
        assert self.thread() is QThread.currentThread()
        last_batch: RunEvent | None = None
        for event in events:
            if not isinstance(event, RunEvent):
                continue
            payload = event.payload
            if isinstance(payload, BatchProgress):
                last_batch = event
            elif isinstance(payload, EpochSummary):
                self.curves.add_epoch(event.run, payload)
                self.progress.setValue(int(round(event.fraction * 1000)))
            elif payload is None:
                if event.kind == "recurrent":
                    self.curves.add_run(event.run)
                self.progress.setValue(int(round(event.fraction * 1000)))
                self.progress_label.setText(f"Run {event.index + 1} of {event.runs}: "
                                            f"{event.run}...")
            elif isinstance(payload, RunResult):
                self._run_finished(payload)
                self.progress.setValue(int(round(event.fraction * 1000)))
        if last_batch is not None:
            batch: BatchProgress = last_batch.payload
            self.progress.setValue(int(round(last_batch.fraction * 1000)))
            cancelling = self._handle is not None and self._handle.job.context.cancelled
            self.progress_label.setText(
                f"{'Cancelling. ' if cancelling else ''}Run {last_batch.index + 1} of "
                f"{last_batch.runs}: {last_batch.run} · epoch {batch.epoch}/{batch.epochs} · "
                f"batch {batch.batch}/{batch.batches}\n{batch.tokens_per_second:,.0f} tokens/s "
                f"· run ETA {format_duration(batch.eta)}")

    def _run_finished(self, run: RunResult) -> None:
        self._runs = [r for r in self._runs if r.name != run.name] + [run]
        if run.kind == "baseline" and run.validation_metrics:
            self.curves.add_baseline(run.name, run.validation_metrics["accuracy"])
        if run.cancelled:
            self.curves.mark_cancelled(run.name)
        if self._run_scheme is not None:
            self.table.show_result(ComparisonResult.of_runs(self._runs, self._run_scheme),
                                   self._colors())
        figure = run.test_metrics.get("accuracy")
        self.status_message.emit(f"{run.name}: {run.status.replace('_', ' ')}"
                                 + (f", test accuracy {figure:.1%}" if figure is not None
                                    else ""))

    def _on_finished(self, result: ComparisonResult) -> None:
        assert self.thread() is QThread.currentThread()
        self._result = result
        self._runs = list(result.runs)
        self.table.show_result(result, self._colors())
        self.table_note.setText("Bold on green: best in its column (finished runs only). "
                                + result.footnote())
        usable = [r for r in result.runs if r.usable and "accuracy" in r.test_metrics]
        if result.cancelled:
            text = (f"Cancelled: {len(result.runs)} run(s) kept"
                    + ("; the interrupted run keeps its best model so far."
                       if any(r.cancelled for r in result.runs) else "."))
        else:
            self.progress.setValue(1000)
            text = f"Finished {len(result.runs)} runs on the same split."
        if usable:
            winner = max(usable, key=lambda r: r.test_metrics["accuracy"])
            text += (f" Best test accuracy: {winner.name}, "
                     f"{format_accuracy(winner.test_metrics)}; runs whose intervals overlap "
                     "may not really differ.")
        models = [r for r in usable if r.bundle is not None]
        if models:  # preselect the best model that can be kept
            self.table.select_run(max(models, key=lambda r: r.test_metrics["accuracy"]).name)
        self.progress_label.setText(text)
        self.status_message.emit(text)
        failed = [r for r in result.runs if r.status == "failed"]
        self._update_controls()
        self.comparison_finished.emit(result)
        if failed:
            dialogs.show_error(self, "Some runs failed",
                               "\n".join(f"{r.name}: {r.message}" for r in failed))

    def _on_failed(self, message: str, details: str) -> None:
        assert self.thread() is QThread.currentThread()
        if self._handle is not None and self._handle.job.context.cancelled:
            self.progress_label.setText("Cancelled before the first run; nothing to show.")
            self.status_message.emit("Comparison cancelled.")
            self._update_controls()
            return
        self.progress_label.setText("The comparison failed: " + message)
        self.status_message.emit("Comparison failed.")
        self._update_controls()
        dialogs.show_error(self, "Comparison failed", message, details)

    def _on_status(self, message: str) -> None:
        self.progress_label.setText(message)
        self.status_message.emit(message)

    # ------------------------------------------------------------------ helpers
    def _colors(self) -> dict[str, QColor]:
        return {name: self.curves.color_of(name) for name in self.curves.runs()}

    def _selected_run(self) -> RunResult | None:
        name = self.table.selected_run()
        return next((r for r in self._runs if r.name == name), None)

    def _clear_results(self) -> None:
        self._runs = []
        self._result = None
        self.curves.reset()
        self.table.show_result(None)
        self.table_note.setText("Bold on green: best in its column (finished runs only). "
                                "Every run is scored on the same test reviews.")
        self.progress.setValue(0)

    def _add_base_as_variant(self) -> None:
        name = variant_name(self._base)
        added = self.add_variant(name, self._base)
        if added:
            self.status_message.emit(f"Added variant {added}.")

    def _remove_selected_variant(self) -> None:
        row = self.variant_list.currentRow()
        if row >= 0:
            self.variant_list.takeItem(row)
        self._update_controls()

    def _update_base_label(self) -> None:
        base = self._base
        self.base_label.setText(
            f"Shared by every run (from the Train tab): "
            f"{'bidirectional' if base.bidirectional else 'one direction'}, "
            f"{base.layers} layer{'s' if base.layers != 1 else ''} × {base.hidden_size}, "
            f"embedding {base.embedding_dim}, {base.pooling} pooling, up to {base.epochs} "
            f"epochs, seed {base.seed}.")

    def _update_data_label(self) -> None:
        if self._table is None or self._scheme is None:
            self.data_label.setText("Open a labelled review file on the Data tab first.")
            return
        self.data_label.setText(f"{len(self._table):,} reviews · {self._scheme.num_classes} "
                                f"classes ({self._scheme.describe()})")
        two = vader_applies(self._scheme.num_classes)
        self.vader_check.setEnabled(two)
        self.vader_check.setToolTip("A rule-based lexicon with no training; two classes only."
                                    + ("" if two else " (These labels have "
                                       f"{self._scheme.num_classes} classes.)"))

    def _update_controls(self, *_args: object) -> None:
        running = self.running
        cancelling = running and self._handle is not None and self._handle.job.context.cancelled
        has_data = self._table is not None and self._scheme is not None
        anything = bool(self.variants() or self.baselines())
        self.run_button.setEnabled(has_data and anything and not running)
        self.run_button.setToolTip("" if anything else "Tick at least one model or baseline.")
        self.cancel_button.setEnabled(running and not cancelling)
        for widget in (*self.cell_checks.values(), self.tfidf_check, self.variant_list,
                       self.add_variant_button):
            widget.setEnabled(not running)
        if self._scheme is not None:
            self.vader_check.setEnabled(not running and vader_applies(self._scheme.num_classes))
        else:
            self.vader_check.setEnabled(not running)
        self.remove_variant_button.setEnabled(not running and self.variant_list.currentRow() >= 0)
        selected = self._selected_run()
        self.use_button.setEnabled(selected is not None and selected.bundle is not None)
        has_rows = bool(self._runs) and not running
        self.export_csv_button.setEnabled(has_rows)
        self.export_md_button.setEnabled(has_rows)

    def _current_result(self) -> ComparisonResult | None:
        if self._result is not None:
            return self._result
        if self._runs and self._run_scheme is not None:
            return ComparisonResult.of_runs(self._runs, self._run_scheme)
        return None

    def _export_csv_clicked(self) -> None:
        result = self._current_result()
        if result is None:
            return
        path = dialogs.choose_save_file(self, "Export comparison table",
                                        str(Path(self._last_folder) / "comparison.csv"),
                                        "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def _export_markdown_clicked(self) -> None:
        result = self._current_result()
        if result is None:
            return
        path = dialogs.choose_save_file(self, "Export comparison table",
                                        str(Path(self._last_folder) / "comparison.md"),
                                        "Markdown (*.md)")
        if path:
            self.export_markdown(path)

    def export_csv(self, path: str | Path) -> Path | None:
        result = self._current_result()
        if result is None:
            return None
        try:
            target = result.to_csv(path)
        except OSError as error:
            dialogs.show_error(self, "Cannot export", f"{path}: {error}")
            return None
        self._last_folder = str(target.parent)
        self.status_message.emit(f"Saved the comparison table to {target}")
        return target

    def export_markdown(self, path: str | Path) -> Path | None:
        result = self._current_result()
        if result is None:
            return None
        target = Path(path)
        try:
            target.write_text(result.to_markdown(), encoding="utf-8")
        except OSError as error:
            dialogs.show_error(self, "Cannot export", f"{path}: {error}")
            return None
        self._last_folder = str(target.parent)
        self.status_message.emit(f"Saved the comparison table to {target}")
        return target


if __name__ == "__main__":
    preview(ComparePanel)
