"""Several model settings on one split, one after another, and one table of their results.

A comparison is only fair when nothing but the model differs, so the data are prepared
once (one split, one vocabulary, one seed) and every run trains on that same
:class:`PreparedData`; each variant's data settings are taken from the base config.
The baselines read the original texts of the very same rows.

Runs share one set of callbacks (each event tagged with its run) and one
:class:`TrainControl`: a cancel stops the whole comparison, keeps the finished runs and
keeps the interrupted run's best model so far, marked as cancelled.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.bundle import SUFFIX, ModelBundle
from core.compare.baselines import (
    TFIDF_NAME,
    VADER_NAME,
    BaselineCancelled,
    BaselineResult,
    tfidf_logistic,
    vader,
    vader_applies,
)
from core.config import DATA_KNOBS, MODEL_KNOBS, TrainConfig
from core.errors import ReviewDataError, TrainingError
from core.io.table import ReviewTable
from core.metrics import accuracy_interval
from core.text.labels import LabelScheme
from core.training.dataset import PreparedData, prepare_data
from core.training.events import BatchProgress, EpochSummary, TrainCallbacks, TrainControl

DEFAULT_CELLS = ("rnn", "lstm", "gru")
BASELINES = {"tfidf": TFIDF_NAME, "vader": VADER_NAME}
"""Baseline keys (as the CLI and the API take them) and their display names."""
BASELINE_WEIGHT = 0.05
"""Share of one recurrent run that a baseline counts for in the overall progress."""


# ----------------------------------------------------------------------------- variants


@dataclass(frozen=True)
class Variant:
    """One recurrent model to train: a display name and its full settings."""

    name: str
    config: TrainConfig


def cell_label(cell: str) -> str:
    return cell.upper()


def default_variants(base: TrainConfig, cells: Iterable[str] = DEFAULT_CELLS) -> list[Variant]:
    """RNN, LSTM and GRU with every other setting equal to ``base``."""
    return [Variant(cell_label(cell), base.replace(cell=cell).validate()) for cell in cells]


def variant_name(config: TrainConfig) -> str:
    """A short name for an added variant: cell (``Bi`` when bidirectional), layers x hidden,
    e.g. ``BiLSTM 2×128``; the full settings are in :func:`describe_model`."""
    return (f"{'Bi' if config.bidirectional else ''}{cell_label(config.cell)} "
            f"{config.layers}×{config.hidden_size}")


def describe_model(config: TrainConfig) -> str:
    """The model settings of a run in a few words (the table's Settings column)."""
    direction = "bidirectional" if config.bidirectional else "one direction"
    layers = f"{config.layers} layer{'s' if config.layers != 1 else ''}"
    return (f"{direction}, {layers} x {config.hidden_size}, emb {config.embedding_dim}, "
            f"{config.pooling} pooling, dropout {config.dropout:g}, lr {config.learning_rate:g}, "
            f"up to {config.epochs} epoch{'s' if config.epochs != 1 else ''}")


def model_key(config: TrainConfig) -> tuple:
    """What makes two variants the same run (their model and training settings)."""
    return tuple(getattr(config, knob) for knob in sorted(MODEL_KNOBS))


def align_to_base(config: TrainConfig, base: TrainConfig) -> tuple[TrainConfig, list[str]]:
    """``config`` with the base's data settings (the shared split), and the knobs changed."""
    changed = sorted(k for k in DATA_KNOBS if getattr(config, k) != getattr(base, k))
    return config.replace(**{k: getattr(base, k) for k in DATA_KNOBS}), changed


def unique_names(variants: Sequence[Variant]) -> list[Variant]:
    """Append #2, #3 ... to repeated names, so every row and saved file is told apart."""
    seen: dict[str, int] = {}
    result = []
    reserved = set(BASELINES.values())
    for variant in variants:
        name = variant.name.strip() or variant_name(variant.config)
        count = seen.get(name, 1 if name in reserved else 0) + 1
        seen[name] = count
        result.append(Variant(name if count == 1 else f"{name} #{count}", variant.config))
    return result


# ----------------------------------------------------------------------------- events


@dataclass
class RunEvent:
    """An event of one run, tagged: which run, where it stands, and the trainer's event.

    ``payload`` is a :class:`BatchProgress` (on_batch), an :class:`EpochSummary`
    (on_epoch), ``None`` when a run starts and its :class:`RunResult` when it ends (on_run).
    """

    run: str
    index: int
    runs: int
    kind: str  # "recurrent" | "baseline"
    payload: Any
    fraction: float  # of the whole comparison, 0..1


@dataclass
class CompareCallbacks:
    on_batch: Callable[[RunEvent], None] | None = None
    on_epoch: Callable[[RunEvent], None] | None = None
    on_run: Callable[[RunEvent], None] | None = None
    on_status: Callable[[str], None] | None = None


# ----------------------------------------------------------------------------- results


@dataclass
class RunResult:
    """One row of the comparison: a recurrent run (with its model) or a baseline."""

    name: str
    kind: str  # "recurrent" | "baseline"
    details: str
    status: str  # completed | early_stopping | cancelled | diverged | failed
    test_metrics: dict[str, Any] = field(default_factory=dict)
    validation_metrics: dict[str, Any] | None = None
    seconds: float | None = None
    tokens_per_second: float | None = None
    parameters: int | None = None
    best_epoch: int | None = None
    history: list[EpochSummary] = field(default_factory=list)
    test_predictions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    config: TrainConfig | None = None
    bundle: ModelBundle | None = None
    message: str = ""

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def usable(self) -> bool:
        """Finished with figures that compare fairly (not cancelled part-way, not failed)."""
        return self.status not in ("cancelled", "failed") and bool(self.test_metrics)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    better: str | None = None  # "max" | "min" | None (no best)
    numeric: bool = True


COLUMNS = (
    Column("model", "Model", numeric=False),
    Column("accuracy", "Test accuracy", "max"),
    Column("accuracy_interval", "95% interval", numeric=False),  # from the test size
    Column("macro_f1", "Macro-F1", "max"),
    Column("mae", "MAE", "min"),
    Column("seconds", "Training time (s)", "min"),
    Column("tokens_per_second", "Tokens/s", "max"),
    Column("parameters", "Parameters", "min"),
    Column("best_epoch", "Best epoch"),
    Column("status", "Status", numeric=False),
    Column("details", "Settings", numeric=False),
)
_STATUS_WORDS = {"completed": "completed", "early_stopping": "early stop",
                 "cancelled": "cancelled", "diverged": "diverged", "failed": "failed"}


def format_value(key: str, value: Any) -> str:
    """A cell as people read it: percentages, thousands separators, seconds."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if key == "accuracy":
        return f"{value * 100:.2f}%"
    if key == "macro_f1":
        return f"{value:.4f}"
    if key == "mae":
        return f"{value:.3f}"
    if key == "seconds":
        return f"{value:,.1f}"
    if key in ("tokens_per_second", "parameters"):
        return f"{value:,.0f}"
    if key == "status":
        return _STATUS_WORDS.get(str(value), str(value))
    return str(value)


def _interval_text(metrics: dict[str, Any]) -> str | None:
    """'88.4-97.8%': where a run's test accuracy could lie, given how few reviews were tested."""
    if metrics.get("accuracy") is None or not metrics.get("count"):
        return None
    low, high = accuracy_interval(metrics)
    return f"{low * 100:.1f}-{high * 100:.1f}%"


@dataclass
class ComparisonResult:
    """Every run of one comparison on one split, in the order they ran."""

    runs: list[RunResult]
    scheme: LabelScheme
    train_rows: np.ndarray
    validation_rows: np.ndarray
    test_rows: np.ndarray
    test_source: str
    description: str
    cancelled: bool = False

    @classmethod
    def of_runs(cls, runs: Sequence[RunResult], scheme: LabelScheme) -> "ComparisonResult":
        """A table of the runs finished so far, shown while a comparison is still going."""
        empty = np.zeros(0, dtype=np.int64)
        return cls(list(runs), scheme, empty, empty, empty, "", "")

    def run(self, name: str) -> RunResult:
        for run in self.runs:
            if run.name == name:
                return run
        raise KeyError(name)

    def columns(self) -> list[Column]:
        """The table's columns; MAE only for ordered (star rating) schemes."""
        return [c for c in COLUMNS if c.key != "mae" or self.scheme.ordinal]

    def table_rows(self) -> list[dict[str, Any]]:
        """One dict per run with raw values (fractions, seconds, counts) by column key."""
        rows = []
        for run in self.runs:
            metrics = run.test_metrics
            rows.append({
                "model": run.name,
                "accuracy": metrics.get("accuracy"),
                "accuracy_interval": _interval_text(metrics),
                "macro_f1": metrics.get("macro_f1"),
                "mae": metrics.get("mae"),
                "seconds": None if run.seconds is None else round(run.seconds, 3),
                "tokens_per_second": (None if run.tokens_per_second is None
                                      else round(run.tokens_per_second, 1)),
                "parameters": run.parameters,
                "best_epoch": run.best_epoch,
                "status": run.status,
                "details": run.details,
            })
        keys = [c.key for c in self.columns()]
        return [{k: row[k] for k in keys} for row in rows]

    def best(self) -> dict[str, set[str]]:
        """Per column with a 'better' direction, the runs holding the best value (ties all).

        Cancelled and failed runs take no part: their figures are not final.
        """
        rows = self.table_rows()
        usable = {run.name for run in self.runs if run.usable}
        result: dict[str, set[str]] = {}
        for column in self.columns():
            if column.better is None:
                continue
            values = [(row["model"], row[column.key]) for row in rows
                      if row["model"] in usable and row[column.key] is not None]
            if not values:
                result[column.key] = set()
                continue
            pick = max if column.better == "max" else min
            target = pick(v for _, v in values)
            result[column.key] = {name for name, v in values if math.isclose(v, target,
                                                                             rel_tol=1e-12)}
        return result

    # ------------------------------------------------------------------ export

    def to_csv(self, path: str | Path) -> Path:
        """Raw values (full precision) with a header of column keys; read back with
        :func:`read_table_csv`."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        columns = self.columns()
        with open(target, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow([c.key for c in columns])
            for row in self.table_rows():
                writer.writerow(["" if row[c.key] is None else row[c.key] for c in columns])
        return target

    def to_markdown(self, settings: bool = True) -> str:
        """A GitHub table, the best value per column in bold (``settings``: that column too)."""
        columns = [c for c in self.columns() if settings or c.key != "details"]
        best = self.best()
        lines = ["| " + " | ".join(c.title for c in columns) + " |",
                 "|" + "|".join("---:" if c.numeric else "---" for c in columns) + "|"]
        for row in self.table_rows():
            cells = []
            for column in columns:
                text = format_value(column.key, row[column.key]).replace("|", "\\|")
                if row["model"] in best.get(column.key, ()):
                    text = f"**{text}**"
                cells.append(text)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        lines.append(self.footnote())
        return "\n".join(lines) + "\n"

    def to_text(self, settings: bool = False) -> str:
        """Aligned plain text for the terminal; ``*`` marks the best value per column."""
        columns = [c for c in self.columns() if settings or c.key != "details"]
        best = self.best()
        body = []
        for row in self.table_rows():
            cells = []
            for column in columns:
                text = format_value(column.key, row[column.key])
                if column.better:
                    text += "*" if row["model"] in best.get(column.key, ()) else " "
                cells.append(text)
            body.append(cells)
        titles = [c.title + (" " if c.better else "") for c in columns]
        widths = [max(len(t), *(len(r[i]) for r in body)) if body else len(t)
                  for i, t in enumerate(titles)]

        def line(cells: list[str]) -> str:
            return "  ".join(cell.rjust(w) if col.numeric else cell.ljust(w)
                             for cell, w, col in zip(cells, widths, columns)).rstrip()

        out = [line(titles), line(["-" * w for w in widths])]
        out += [line(cells) for cells in body]
        out.append("* best in column. " + self.footnote())
        return "\n".join(out)

    def footnote(self) -> str:
        text = (f"Test: {len(self.test_rows):,} reviews ({self.test_source}); "
                f"train {len(self.train_rows):,}, validation {len(self.validation_rows):,}; "
                f"classes: {self.scheme.describe()}.")
        if self.cancelled:
            text += " The comparison was cancelled; unfinished runs are marked."
        return text

    def save_models(self, folder: str | Path) -> dict[str, Path]:
        """Each recurrent run's model as ``<folder>/<run-name>.ramodel``."""
        folder = Path(folder)
        saved: dict[str, Path] = {}
        used: set[str] = set()
        for run in self.runs:
            if run.bundle is None:
                continue
            stem = slug(run.name)
            while stem in used:
                stem += "-"
            used.add(stem)
            saved[run.name] = run.bundle.save(folder / f"{stem}{SUFFIX}")
        return saved


def slug(name: str) -> str:
    """A file-name-safe form of a run name (``BiLSTM 2×128`` -> ``bilstm-2-128``)."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return text or "run"


def read_table_csv(path: str | Path) -> list[dict[str, Any]]:
    """Rows written by :meth:`ComparisonResult.to_csv`, with numbers as numbers again."""
    numeric = {c.key for c in COLUMNS if c.numeric}
    integers = {"parameters", "best_epoch"}
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
    except OSError as error:
        raise ReviewDataError(f"Cannot read the comparison table ({error}).",
                              path=str(path)) from None
    result = []
    for line, row in enumerate(rows, 2):
        parsed: dict[str, Any] = {}
        for key, text in row.items():
            if key in numeric:
                try:
                    parsed[key] = None if text == "" else (int(text) if key in integers
                                                           else float(text))
                except ValueError:
                    raise ReviewDataError(f"'{text}' is not a number.", path=str(path),
                                          line=line, column=key) from None
            else:
                parsed[key] = text
        result.append(parsed)
    return result


# ----------------------------------------------------------------------------- running


def run_comparison(table: ReviewTable, base: TrainConfig,
                   variants: Sequence[Variant] | None = None,
                   scheme: LabelScheme | None = None,
                   baselines: Iterable[str] = ("tfidf", "vader"),
                   callbacks: CompareCallbacks | None = None,
                   control: TrainControl | None = None) -> ComparisonResult:
    """Prepare ``table`` once with the base's data settings, then run every variant on it."""
    control = control or TrainControl()
    callbacks = callbacks or CompareCallbacks()
    if callbacks.on_status:
        callbacks.on_status(f"Tokenizing {len(table):,} reviews once for every run...")
    data = prepare_data(table, base, scheme, cancel=lambda: control.cancelled)
    return compare_prepared(data, base, variants, baselines, callbacks, control)


def compare_prepared(data: PreparedData, base: TrainConfig,
                     variants: Sequence[Variant] | None = None,
                     baselines: Iterable[str] = ("tfidf", "vader"),
                     callbacks: CompareCallbacks | None = None,
                     control: TrainControl | None = None) -> ComparisonResult:
    """Baselines first (a quick bar to beat), then each variant on the same prepared data."""
    control = control or TrainControl()
    callbacks = callbacks or CompareCallbacks()
    status = callbacks.on_status or (lambda _message: None)
    if not len(data.test):
        raise TrainingError("A comparison needs test reviews to score every run on: set a "
                            "test share above 0 or use a file with a 'test' split.",
                            path=data.table.path)
    variants = unique_names(default_variants(base) if variants is None else list(variants))
    aligned = []
    for variant in variants:
        config, changed = align_to_base(variant.config, base)
        if changed:
            status(f"{variant.name}: using the comparison's data settings "
                   f"({', '.join(changed)}) so every run sees the same split.")
        aligned.append(Variant(variant.name, config.validate()))
    keys = []
    for key in baselines:
        if key not in BASELINES:
            raise ReviewDataError(f"Unknown baseline '{key}'; choose from "
                                  f"{', '.join(BASELINES)}.")
        if key == "vader" and not vader_applies(data.scheme.num_classes):
            status("VADER left out: it only separates two classes.")
            continue
        if key not in keys:
            keys.append(key)
    if not aligned and not keys:
        raise ReviewDataError("Nothing to compare: pick at least one model or baseline.")

    total_weight = len(aligned) + BASELINE_WEIGHT * len(keys)
    runs_count = len(keys) + len(aligned)
    runs: list[RunResult] = []
    done_weight = 0.0

    def fraction(within: float, weight: float) -> float:
        return min(1.0, (done_weight + weight * within) / max(total_weight, 1e-9))

    def announce(name: str, kind: str, payload: Any, within: float, weight: float) -> None:
        if callbacks.on_run:
            callbacks.on_run(RunEvent(name, len(runs), runs_count, kind, payload,
                                      fraction(within, weight)))

    for key in keys:
        if control.cancelled:
            break
        name = BASELINES[key]
        status(f"Baseline {len(runs) + 1}/{runs_count}: {name}...")
        announce(name, "baseline", None, 0.0, BASELINE_WEIGHT)
        try:
            baseline = (tfidf_logistic if key == "tfidf" else vader)(
                data, cancel=lambda: control.cancelled)
        except BaselineCancelled:
            break
        result = _baseline_row(baseline)
        announce(name, "baseline", result, 1.0, BASELINE_WEIGHT)
        runs.append(result)
        done_weight += BASELINE_WEIGHT

    for variant in aligned:
        if control.cancelled:
            break
        index = len(runs)
        status(f"Run {index + 1}/{runs_count}: {variant.name} "
               f"({describe_model(variant.config)})")
        announce(variant.name, "recurrent", None, 0.0, 1.0)

        def on_batch(event: BatchProgress, name: str = variant.name, index: int = index) -> None:
            if callbacks.on_batch:
                callbacks.on_batch(RunEvent(name, index, runs_count, "recurrent", event,
                                            fraction(event.fraction, 1.0)))

        def on_epoch(event: EpochSummary, name: str = variant.name, index: int = index,
                     epochs: int = variant.config.epochs) -> None:
            if callbacks.on_epoch:
                callbacks.on_epoch(RunEvent(name, index, runs_count, "recurrent", event,
                                            fraction(event.epoch / epochs, 1.0)))

        def on_status(message: str, name: str = variant.name) -> None:
            status(f"{name}: {message}")

        try:
            from core.training.pipeline import train_model  # torch: only when a run starts

            outcome = train_model(data, variant.config,
                                  TrainCallbacks(on_batch, on_epoch, on_status), control)
        except TrainingError as error:
            result = RunResult(variant.name, "recurrent", describe_model(variant.config),
                               "failed", config=variant.config, message=error.message)
        else:
            result = _recurrent_row(variant, outcome)
        done_weight += 1.0
        announce(variant.name, "recurrent", result, 1.0, 0.0)
        runs.append(result)

    cancelled = control.cancelled
    status("Comparison cancelled; finished runs are kept." if cancelled
           else f"Comparison finished: {len(runs)} runs on the same split.")
    return ComparisonResult(runs, data.scheme, data.train.rows.copy(),
                            data.validation.rows.copy(), data.test.rows.copy(),
                            data.test_source, data.describe(), cancelled)


def _baseline_row(baseline: BaselineResult) -> RunResult:
    return RunResult(baseline.name, "baseline", baseline.details, "completed",
                     baseline.test_metrics, baseline.validation_metrics, baseline.seconds,
                     None, baseline.parameters, None, [], baseline.test_predictions)


def _recurrent_row(variant: Variant, outcome: Any) -> RunResult:
    bundle: ModelBundle = outcome.bundle
    result = outcome.result
    bundle.info["comparison_run"] = variant.name
    if result.stop_reason == "cancelled":
        bundle.info["note"] = ("Cancelled during a comparison: the best model reached "
                               "before the cancel.")
    return RunResult(
        variant.name, "recurrent", describe_model(variant.config), result.stop_reason,
        bundle.metrics.get("test", {}), bundle.metrics.get("validation"), result.seconds,
        result.tokens_per_second, bundle.info.get("parameters"), result.best_epoch,
        list(result.history), outcome.test_predictions, variant.config, bundle,
        result.message)
