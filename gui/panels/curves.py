"""Training curves: loss and accuracy, per batch (smoothed over a faint raw trace) and per epoch.

Batches and epochs share one x axis in epochs (batch 50 of 200 in epoch 3 sits at x = 2.25),
so the per-epoch markers land at the end of the batches they summarise. Points are kept in
numpy arrays and drawn with ``setData`` on existing curves at most five times a second, so a
run of tens of thousands of batches never floods the event loop; above 5,000 points the
display is downsampled (the raw trace keeps its peaks) while exports keep every point.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QThread, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.training.events import BatchProgress, EpochSummary
from gui import dialogs
from gui.panels.base import Panel, preview
from gui.widgets.axes import integer_axis, percent_axis
from gui.widgets.colors import BEST, TRAIN, TRAIN_BATCH, VALIDATION, is_dark, role_color, with_alpha
from gui.widgets.elided_label import ElidedLabel
from gui.widgets.empty_state import empty_message, show_data, show_empty

DISPLAY_LIMIT = 5000  # most points drawn per curve; more are pooled for display only
REDRAW_INTERVAL_MS = 200  # about 5 redraws a second while data arrives
DEFAULT_SMOOTHING = 0.9

_BATCH_COLUMNS = ("x", "loss", "accuracy", "epoch", "batch", "batches", "step")
_EPOCH_FIELDS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                 "val_macro_f1", "seconds", "tokens_per_second", "is_best", "partial")
CSV_COLUMNS = ("kind", "epoch", "batch", "batches", "step", "x_epoch", "train_loss",
               "train_accuracy", "train_loss_smoothed", "train_accuracy_smoothed", "val_loss",
               "val_accuracy", "val_macro_f1", "is_best", "partial", "seconds",
               "tokens_per_second")


class _Rows:
    """A float64 table that grows by doubling, so appending batches is amortised O(1)."""

    def __init__(self, columns: int, capacity: int = 1024) -> None:
        self._data = np.empty((capacity, columns), dtype=np.float64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def extend(self, rows: np.ndarray) -> None:
        needed = self._size + len(rows)
        if needed > len(self._data):
            capacity = max(needed, 2 * len(self._data))
            grown = np.empty((capacity, self._data.shape[1]), dtype=np.float64)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size:needed] = rows
        self._size = needed

    def view(self) -> np.ndarray:
        return self._data[: self._size]

    def clear(self) -> None:
        self._size = 0


def exponential_smoothing(values: np.ndarray, weight: float, state: tuple[float, int] = (0.0, 0),
                          ) -> tuple[np.ndarray, tuple[float, int]]:
    """Debiased exponential moving average (as TensorBoard draws it), resumable from ``state``.

    The debiasing stops the first points from being dragged towards zero. Returns the smoothed
    values and the state to continue from with the next chunk.
    """
    running, count = state
    out = np.empty(len(values), dtype=np.float64)
    if weight <= 0:
        out[:] = values
        return out, (float(values[-1]) if len(values) else running, count + len(values))
    for index, value in enumerate(values.tolist()):
        count += 1
        running = weight * running + (1.0 - weight) * value
        out[index] = running / (1.0 - weight ** count)
    return out, (running, count)


def epoch_aware_weight(weight: float, batches_per_epoch: float) -> float:
    """The smoothing weight, capped so the average spans at most a quarter of an epoch.

    With few batches an epoch (the sample: about a dozen), a 0.9 average remembers most of
    the previous epoch and trails the per-epoch points by a wide margin (issue 16, item 5).
    """
    if batches_per_epoch <= 0:
        return weight
    return min(weight, max(0.0, 1.0 - 4.0 / batches_per_epoch))


def downsample(x: np.ndarray, y: np.ndarray, limit: int = DISPLAY_LIMIT,
               peaks: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` points for display: bin means, or each bin's min and max (``peaks``).

    Keeping the extremes lets a faint raw trace show its true spread however far zoomed out.
    """
    n = len(x)
    if n <= limit:
        return x, y
    bins = limit // 2 if peaks else limit
    factor = math.ceil(n / bins)
    usable = (n // factor) * factor
    xs = x[:usable].reshape(-1, factor)
    ys = y[:usable].reshape(-1, factor)
    if peaks:
        centre = xs.mean(axis=1)
        low_first = ys.argmin(axis=1) < ys.argmax(axis=1)
        first = np.where(low_first, ys.min(axis=1), ys.max(axis=1))
        second = np.where(low_first, ys.max(axis=1), ys.min(axis=1))
        out_x = np.repeat(centre, 2)
        out_y = np.empty(2 * len(centre))
        out_y[0::2], out_y[1::2] = first, second
    else:
        out_x, out_y = xs.mean(axis=1), ys.mean(axis=1)
    if usable < n:  # the last, partial bin keeps the live end of the trace exact
        out_x = np.append(out_x, x[-1])
        out_y = np.append(out_y, y[-1])
    return out_x, out_y


def _float_or_nan(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def summary_from_dict(data: dict[str, Any]) -> EpochSummary:
    """An EpochSummary from a saved bundle's history entry; missing figures become NaN."""
    return EpochSummary(
        epoch=int(data.get("epoch", 0)),
        train_loss=_float_or_nan(data.get("train_loss")),
        train_accuracy=_float_or_nan(data.get("train_accuracy")),
        val_loss=_float_or_nan(data.get("val_loss")),
        val_accuracy=_float_or_nan(data.get("val_accuracy")),
        val_macro_f1=_float_or_nan(data.get("val_macro_f1")),
        seconds=_float_or_nan(data.get("seconds")),
        tokens_per_second=_float_or_nan(data.get("tokens_per_second")),
        is_best=bool(data.get("is_best", False)),
        partial=bool(data.get("partial", False)),
    )


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)


class CurvesPanel(Panel):
    """Live loss and accuracy curves of one training run, with PNG and CSV export."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._batches = _Rows(len(_BATCH_COLUMNS))
        self._smoothed = _Rows(2)  # loss, accuracy
        self._smooth_state: list[tuple[float, int]] = [(0.0, 0), (0.0, 0)]
        self._epochs: list[EpochSummary] = []
        self._best_epoch: int | None = None
        self._pretraining: list[tuple[float, float]] = []  # (epoch position, LM loss)
        self._dirty = False
        self._last_folder = str(Path.home())

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self.flush)

        self._build_controls()
        self._build_plots()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._controls)
        layout.addWidget(self.graphics, 1)
        self._apply_palette()
        self._update_empty()
        self._update_summary()

    # ------------------------------------------------------------------ construction
    def _build_controls(self) -> None:
        self.per_batch_check = QCheckBox("Per batch")
        self.per_batch_check.setChecked(True)
        self.per_batch_check.setToolTip("Show the loss and accuracy of every training batch: "
                                        "a smoothed line over the faint raw values.")
        self.per_epoch_check = QCheckBox("Per epoch")
        self.per_epoch_check.setChecked(True)
        self.per_epoch_check.setToolTip("Show one point per epoch: training figures and the "
                                        "validation figures that choose the best model.")
        self.smoothing_spin = QDoubleSpinBox()
        self.smoothing_spin.setRange(0.0, 0.99)
        self.smoothing_spin.setSingleStep(0.05)
        self.smoothing_spin.setDecimals(2)
        self.smoothing_spin.setValue(DEFAULT_SMOOTHING)
        self.smoothing_spin.setToolTip("Weight of the moving average over batches: 0 draws the "
                                       "raw values, 0.99 a very smooth trend. The average "
                                       "never spans more than a quarter of an epoch, so it "
                                       "keeps up with the per-epoch points.")
        smoothing_label = QLabel("Smoothing")
        smoothing_label.setBuddy(self.smoothing_spin)
        self.summary_label = ElidedLabel()
        self.export_png_button = QPushButton("Export PNG…")
        self.export_png_button.setToolTip("Save both plots as an image.")
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_csv_button.setToolTip("Save the epoch history and every batch as a table.")

        self.per_batch_check.toggled.connect(self._update_visibility)
        self.per_epoch_check.toggled.connect(self._update_visibility)
        self.smoothing_spin.valueChanged.connect(self._resmooth)
        self.export_png_button.clicked.connect(self._export_png_clicked)
        self.export_csv_button.clicked.connect(self._export_csv_clicked)

        controls = QHBoxLayout()
        controls.addWidget(self.per_batch_check)
        controls.addWidget(self.per_epoch_check)
        controls.addSpacing(12)
        controls.addWidget(smoothing_label)
        controls.addWidget(self.smoothing_spin)
        controls.addStretch(1)
        controls.addWidget(self.export_png_button)
        controls.addWidget(self.export_csv_button)
        rows = QVBoxLayout()  # the summary on a line of its own: beside the buttons it was cut
        rows.setSpacing(2)
        rows.addLayout(controls)
        rows.addWidget(self.summary_label)
        self._controls = rows

    def _build_plots(self) -> None:
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumSize(360, 240)
        self.loss_plot = self.graphics.addPlot(
            row=0, col=0, axisItems={"bottom": integer_axis("bottom")})
        self.accuracy_plot = self.graphics.addPlot(
            row=0, col=1, axisItems={"bottom": integer_axis("bottom"),
                                     "left": percent_axis("left")})
        self.accuracy_plot.setXLink(self.loss_plot)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.best_lines: list[pg.InfiniteLine] = []
        specs = ((self.loss_plot, "loss", "Loss", "cross-entropy loss"),
                 (self.accuracy_plot, "accuracy", "Accuracy", "accuracy (%)"))
        for plot, key, title, y_label in specs:
            plot.setTitle(title)
            plot.setLabel("bottom", "epoch")
            plot.setLabel("left", y_label)
            plot.showGrid(x=False, y=True, alpha=0.15)  # a full grid tripled the repaint cost
            plot.setLimits(xMin=-0.05)
            plot.getAxis("left").setWidth(56)
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            raw = plot.plot(name=None)
            smoothed = plot.plot()
            train = plot.plot(symbol="o", symbolSize=7)
            validation = plot.plot(symbol="s", symbolSize=7)
            for item in (raw, smoothed):
                item.setZValue(0)
            train.setZValue(2)
            validation.setZValue(3)
            self.curves[f"{key}/batch_raw"] = raw
            self.curves[f"{key}/batch_smoothed"] = smoothed
            self.curves[f"{key}/train_epoch"] = train
            self.curves[f"{key}/val_epoch"] = validation
            # The label sits at the top, where the curves rarely are (loss falls from the
            # top-left, accuracy rises to the top-right: its label goes low instead), on a
            # backdrop so a curve passing behind it does not garble it.
            line = pg.InfiniteLine(angle=90, movable=False, label="best: epoch {value:.0f}",
                                   labelOpts={"position": 0.93 if key == "loss" else 0.07,
                                              "anchors": [(0, 0.5), (0, 0.5)]})
            line.setZValue(1)
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self.best_lines.append(line)
        for plot in (self.loss_plot, self.accuracy_plot):  # linked ranges update one by one
            plot.sigXRangeChanged.connect(self._place_best_labels)
        self.accuracy_plot.setYRange(0.0, 1.0, padding=0.02)
        self.accuracy_plot.enableAutoRange(axis="y", enable=False)
        # Pretraining's language-model loss (nats a word) has its own scale and epochs, so
        # it gets its own plot, shown only while a run pretrains or has pretrained.
        self.pretrain_plot = self.graphics.addPlot(
            row=2, col=0, colspan=2, axisItems={"bottom": integer_axis("bottom")})
        self.pretrain_plot.setTitle("Pretraining: language-model loss")
        self.pretrain_plot.setLabel("bottom", "pretraining epoch")
        self.pretrain_plot.setLabel("left", "loss a word")
        self.pretrain_plot.getAxis("left").setWidth(56)
        self.pretrain_curve = self.pretrain_plot.plot()
        self.pretrain_plot.setVisible(False)
        # One legend for both plots, in its own row under them: it never covers a curve,
        # however narrow the panel is embedded.
        self.legend = pg.LegendItem(colCount=4, labelTextSize="9pt", frame=False)
        self.graphics.addItem(self.legend, row=1, col=0, colspan=2)
        self._best_sample = pg.PlotDataItem()  # stands for the best-epoch lines in the legend
        self._rebuild_legend()

    def _rebuild_legend(self) -> None:
        """The legend lists only what is visible, so the toggles never leave stale entries."""
        self.legend.clear()
        if self.per_batch_check.isChecked():
            self.legend.addItem(self.curves["loss/batch_smoothed"],
                                "train, per batch (smoothed; raw faint)")
        if self.per_epoch_check.isChecked():
            self.legend.addItem(self.curves["loss/train_epoch"], "train, per epoch")
            self.legend.addItem(self.curves["loss/val_epoch"], "validation, per epoch")
        if self._best_epoch is not None:
            self.legend.addItem(self._best_sample, "best epoch (model kept)")

    # ------------------------------------------------------------------ palette
    def _apply_palette(self) -> None:
        """Background and ink from the Qt palette; curve hues from Okabe-Ito."""
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        ink = palette.color(QPalette.ColorRole.Text)
        self.graphics.setBackground(background)
        # The batch trace is the busier, lower-contrast layer: lighter than the per-epoch line
        # on a light background, darker on a dark one, so the epoch markers stand out.
        if is_dark(palette):
            train, batch = QColor(TRAIN_BATCH), QColor(TRAIN)
        else:
            train, batch = QColor(TRAIN), QColor(TRAIN_BATCH)
        validation = role_color(VALIDATION, palette)
        best = role_color(BEST, palette)
        for plot in (self.loss_plot, self.accuracy_plot, self.pretrain_plot):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(ink))
                axis.setTextPen(pg.mkPen(ink))
            plot.titleLabel.setText(plot.titleLabel.text, color=ink.name(), size="11pt",
                                    bold=True)
        for key in ("loss", "accuracy"):
            self.curves[f"{key}/batch_raw"].setPen(pg.mkPen(with_alpha(batch, 0.22), width=1))
            self.curves[f"{key}/batch_smoothed"].setPen(pg.mkPen(batch, width=2))
            train_curve = self.curves[f"{key}/train_epoch"]
            train_curve.setPen(pg.mkPen(train, width=2))
            train_curve.setSymbolBrush(train)
            train_curve.setSymbolPen(pg.mkPen(background, width=1))
            val_curve = self.curves[f"{key}/val_epoch"]
            val_curve.setPen(pg.mkPen(validation, width=2, style=Qt.PenStyle.DashLine))
            val_curve.setSymbolBrush(validation)
            val_curve.setSymbolPen(pg.mkPen(background, width=1))
        self.pretrain_curve.setPen(pg.mkPen(batch, width=2))
        for line in self.best_lines:
            line.setPen(pg.mkPen(best, width=2, style=Qt.PenStyle.DotLine))
            line.label.setColor(best)
            line.label.fill = pg.mkBrush(with_alpha(background, 0.85))
            line.label.update()
            line.label.fill = pg.mkBrush(with_alpha(background, 0.85))
            line.label.update()
        self._best_sample.setPen(pg.mkPen(best, width=2, style=Qt.PenStyle.DotLine))
        self.legend.setLabelTextColor(ink)
        self._rebuild_legend()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    # ------------------------------------------------------------------ public API
    def reset(self) -> None:
        """Forget the run shown (call before a new training run starts)."""
        self._check_thread()
        self._batches.clear()
        self._smoothed.clear()
        self._smooth_state = [(0.0, 0), (0.0, 0)]
        self._epochs = []
        self._best_epoch = None
        self._pretraining = []
        self.pretrain_curve.setData([], [])
        self.pretrain_plot.setVisible(False)
        for line in self.best_lines:
            line.setVisible(False)
        self._rebuild_legend()
        self._dirty = True
        self.flush()

    def add_batches(self, events: Iterable[BatchProgress]) -> None:
        """Append batch events (a worker's throttled list); other event types are skipped."""
        self._check_thread()
        batch_events = [e for e in events if isinstance(e, BatchProgress)]
        if not batch_events:
            return
        rows = np.array([((e.epoch - 1) + e.batch / max(e.batches, 1), e.loss, e.accuracy,
                          e.epoch, e.batch, e.batches, e.step) for e in batch_events],
                        dtype=np.float64)
        self._batches.extend(rows)
        weight = epoch_aware_weight(self.smoothing_spin.value(), float(rows[-1, 5]))
        smoothed = np.empty((len(rows), 2), dtype=np.float64)
        for column, source in enumerate((1, 2)):
            smoothed[:, column], self._smooth_state[column] = exponential_smoothing(
                rows[:, source], weight, self._smooth_state[column])
        self._smoothed.extend(smoothed)
        self._enable_export(True)
        self._schedule()

    def add_pretraining(self, events: Iterable[Any]) -> None:
        """Append pretraining batches (objects with epoch, batch, batches and loss)."""
        self._check_thread()
        points = [((e.epoch - 1) + e.batch / max(e.batches, 1), float(e.loss)) for e in events]
        if not points:
            return
        self._pretraining.extend(points)
        x, y = zip(*self._pretraining)
        self.pretrain_curve.setData(np.array(x), np.array(y))
        self.pretrain_plot.setVisible(True)

    def pretraining_points(self) -> int:
        return len(self._pretraining)

    def add_epoch(self, summary: EpochSummary) -> None:
        """Append one epoch's figures; a summary flagged ``is_best`` moves the best marker."""
        self._check_thread()
        self._epochs = [e for e in self._epochs if e.epoch != summary.epoch] + [summary]
        self._epochs.sort(key=lambda e: e.epoch)
        if summary.is_best:
            self.set_best_epoch(summary.epoch)
        self._enable_export(True)
        self._schedule()

    def add_events(self, events: Iterable[Any]) -> None:
        """Route a mixed list of BatchProgress and EpochSummary events (a worker's batch)."""
        pending: list[BatchProgress] = []
        for event in events:
            if isinstance(event, BatchProgress):
                pending.append(event)
            elif isinstance(event, EpochSummary):
                self.add_batches(pending)
                pending = []
                self.add_epoch(event)
        self.add_batches(pending)

    def set_best_epoch(self, epoch: int | None) -> None:
        """Mark the epoch whose weights were kept (None or < 1 hides the marker)."""
        self._check_thread()
        self._best_epoch = int(epoch) if epoch is not None and epoch >= 1 else None
        for line in self.best_lines:
            if self._best_epoch is None:
                line.setVisible(False)
            else:
                # Visible first: pyqtgraph rewrites the label only for a visible line, so a
                # hidden one kept "best: epoch 0" after a model was loaded (issue 16, item 4).
                line.setVisible(True)
                line.setValue(self._best_epoch)
                line.label.valueChanged()
        self._place_best_labels()
        self._rebuild_legend()
        self._update_summary()

    def _place_best_labels(self) -> None:
        """Write "best: epoch N" on the roomier side of its line, so it is never cut off."""
        for plot, line in zip((self.loss_plot, self.accuracy_plot), self.best_lines):
            (x_min, x_max), _ = plot.viewRange()
            right_half = line.value() > (x_min + x_max) / 2
            anchor = (1.0, 0.5) if right_half else (0.0, 0.5)
            if line.label.anchors[0] != anchor:
                line.label.anchors = [anchor, anchor]
                line.label.updatePosition()

    def load_history(self, history: Sequence[dict[str, Any]]) -> None:
        """Show a saved model's epoch history (bundle.history); there is no batch trace."""
        self.reset()
        summaries = [summary_from_dict(entry) for entry in history]
        for summary in summaries:
            self._epochs = [e for e in self._epochs if e.epoch != summary.epoch] + [summary]
        self._epochs.sort(key=lambda e: e.epoch)
        flagged = [s.epoch for s in summaries if s.is_best]
        self.set_best_epoch(flagged[-1] if flagged else None)
        self._dirty = True
        self.flush()

    def load_preview(self, args: list[str]) -> None:
        """``python -m gui.panels.curves``: the curves of a small run on the sample reviews."""
        from gui.panels.samples import sample_outcome

        def epoch_done(summary: EpochSummary) -> None:
            self.add_epoch(summary)
            if summary.is_best:
                self.set_best_epoch(summary.epoch)

        sample_outcome(epochs=8, on_batch=lambda batch: self.add_batches([batch]),
                       on_epoch=epoch_done)
        self.flush()

    def best_epoch(self) -> int | None:
        return self._best_epoch

    def batch_count(self) -> int:
        return len(self._batches)

    def epoch_count(self) -> int:
        return len(self._epochs)

    def history(self) -> list[EpochSummary]:
        return list(self._epochs)

    def flush(self) -> None:
        """Redraw now if anything arrived since the last redraw (the timer calls this)."""
        self._redraw_timer.stop()
        if not self._dirty:
            return
        self._dirty = False
        self._redraw()

    def export_png(self, path: str | Path) -> Path:
        """Save both plots as a PNG, as shown on screen; raises OSError on failure."""
        self.flush()
        target = Path(path)
        if target.suffix.lower() != ".png":
            target = target.with_suffix(".png")
        # A grab is exactly what the user sees and needs no screen or OpenGL. (Rendering the
        # scene larger would not help: legends and markers ignore the scale and come out tiny.)
        pixmap = self.graphics.grab()
        if pixmap.isNull() or not pixmap.save(str(target), "PNG"):
            raise OSError(f"Could not write the image {target}. Check that the folder exists "
                          "and is writable.")
        return target

    def export_csv(self, path: str | Path) -> Path:
        """Save the epoch history then every batch, one row each, in one CSV file.

        The ``kind`` column says which is which (``epoch`` or ``batch``), so a spreadsheet
        filter or ``pandas.read_csv(...).query("kind == 'epoch'")`` splits them back.
        """
        self.flush()
        target = Path(path)
        rows: list[dict[str, Any]] = []
        for summary in self._epochs:
            record = {name: getattr(summary, name) for name in _EPOCH_FIELDS}
            record.update(kind="epoch", x_epoch=self._epoch_x(summary))
            rows.append(record)
        batches = self._batches.view()
        smoothed = self._smoothed.view()
        for values, smooth in zip(batches.tolist(), smoothed.tolist()):
            x, loss, accuracy, epoch, batch, total, step = values
            rows.append({"kind": "batch", "epoch": int(epoch), "batch": int(batch),
                         "batches": int(total), "step": int(step), "x_epoch": x,
                         "train_loss": loss, "train_accuracy": accuracy,
                         "train_loss_smoothed": smooth[0],
                         "train_accuracy_smoothed": smooth[1]})
        try:
            with open(target, "w", newline="", encoding="utf-8") as stream:
                writer = csv.writer(stream)
                writer.writerow(CSV_COLUMNS)
                for record in rows:
                    writer.writerow([_csv_value(record.get(c)) for c in CSV_COLUMNS])
        except OSError as error:
            raise OSError(f"Could not write {target}: {error.strerror or error}. Check that "
                          "the folder exists and is writable.") from None
        return target

    def choose_export_path(self, kind: str) -> str | None:
        """Ask where to save (``kind`` is "png" or "csv"); tests replace this method."""
        if kind == "png":
            title, name, filters = "Export curves as PNG", "curves.png", "PNG image (*.png)"
        else:
            title, name, filters = ("Export history as CSV", "history.csv",
                                    "CSV table (*.csv)")
        start = dialogs.start_file(str(Path(self._last_folder) / name))
        path, _ = QFileDialog.getSaveFileName(self, title, start, filters)
        return path or None

    # ------------------------------------------------------------------ internals
    def _check_thread(self) -> None:
        assert self.thread() is QThread.currentThread(), "CurvesPanel used off the GUI thread"

    def _schedule(self) -> None:
        self._dirty = True
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _resmooth(self) -> None:
        """Recompute the smoothed trace from the raw batches after the weight changes."""
        batches = self._batches.view()
        self._smoothed.clear()
        self._smooth_state = [(0.0, 0), (0.0, 0)]
        if len(batches):
            weight = epoch_aware_weight(self.smoothing_spin.value(), float(batches[-1, 5]))
            smoothed = np.empty((len(batches), 2), dtype=np.float64)
            for column, source in enumerate((1, 2)):
                smoothed[:, column], self._smooth_state[column] = exponential_smoothing(
                    batches[:, source], weight)
            self._smoothed.extend(smoothed)
        self._dirty = True
        self.flush()

    def _epoch_x(self, summary: EpochSummary) -> float:
        """Where an epoch's point goes: its end, or its last batch if it was cut short."""
        if summary.partial:
            batches = self._batches.view()
            in_epoch = batches[batches[:, 3] == summary.epoch, 0]
            if len(in_epoch):
                return float(in_epoch.max())
        return float(summary.epoch)

    def _update_visibility(self) -> None:
        show_batches = self.per_batch_check.isChecked()
        show_epochs = self.per_epoch_check.isChecked()
        for name, curve in self.curves.items():
            curve.setVisible(show_batches if "/batch" in name else show_epochs)
        self._rebuild_legend()

    def _enable_export(self, enabled: bool) -> None:
        self.export_png_button.setEnabled(enabled)
        self.export_csv_button.setEnabled(enabled)

    def _update_empty(self) -> None:
        """No run yet: a line of what to do in each plot instead of empty 0-1 axes, and no
        export to click."""
        has_data = bool(len(self._batches) or self._epochs)
        self._enable_export(has_data)
        if has_data:
            if empty_message(self.loss_plot):
                for plot in (self.loss_plot, self.accuracy_plot):
                    show_data(plot)
                    plot.enableAutoRange(axis="x")
                self.loss_plot.enableAutoRange(axis="y")
                self.accuracy_plot.setYRange(0.0, 1.0, padding=0.02)
            return
        if not empty_message(self.loss_plot):
            show_empty(self.loss_plot, "Open reviews and press Train: the loss of every "
                       "batch and epoch is drawn here as the model learns.", self)
            show_empty(self.accuracy_plot, "…and its accuracy here, with the epoch whose "
                       "weights are kept marked.", self)

    def _redraw(self) -> None:
        self._update_empty()
        batches = self._batches.view()
        smoothed = self._smoothed.view()
        x = batches[:, 0]
        for column, key in ((1, "loss"), (2, "accuracy")):
            raw_x, raw_y = downsample(x, batches[:, column], peaks=True)
            self.curves[f"{key}/batch_raw"].setData(raw_x, raw_y)
            smooth_x, smooth_y = downsample(x, smoothed[:, column - 1])
            self.curves[f"{key}/batch_smoothed"].setData(smooth_x, smooth_y)
        epochs = np.array([self._epoch_x(e) for e in self._epochs], dtype=np.float64)

        def series(name: str) -> np.ndarray:
            return np.array([getattr(e, name) for e in self._epochs], dtype=np.float64)

        for key, train_name, val_name in (("loss", "train_loss", "val_loss"),
                                          ("accuracy", "train_accuracy", "val_accuracy")):
            for curve_name, field_name in ((f"{key}/train_epoch", train_name),
                                           (f"{key}/val_epoch", val_name)):
                values = series(field_name)
                keep = np.isfinite(values)
                self.curves[curve_name].setData(epochs[keep], values[keep])
        self._place_best_labels()
        self._update_summary()

    def _update_summary(self) -> None:
        """One line under the toolbar that says what the best epoch achieved."""
        if not self._epochs and not len(self._batches):
            self.summary_label.setText("No training run yet.")
            return
        parts = []
        best = next((e for e in self._epochs if e.epoch == self._best_epoch), None)
        if best is not None:
            parts.append(f"Best epoch {best.epoch}: validation accuracy "
                         f"{best.val_accuracy:.1%}, loss {best.val_loss:.3f}")
        elif self._epochs:
            last = self._epochs[-1]
            parts.append(f"Epoch {last.epoch}: validation accuracy {last.val_accuracy:.1%}")
        if len(self._batches):
            parts.append(f"{len(self._batches):,} batches")
        self.summary_label.setText(" · ".join(parts))

    def _export_png_clicked(self) -> None:
        self._export("png", self.export_png)

    def _export_csv_clicked(self) -> None:
        self._export("csv", self.export_csv)

    def _export(self, kind: str, write) -> None:
        path = self.choose_export_path(kind)
        if not path:
            return
        try:
            target = write(path)
        except OSError as error:
            QMessageBox.warning(self, "Export failed", str(error))
            return
        self._last_folder = str(Path(target).parent)
        self.status_message.emit(f"Saved {target}")


if __name__ == "__main__":
    preview(CurvesPanel)
