"""Evaluation figures: accuracy, macro-F1, per-class scores, confusion matrix, star errors."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

Z_95 = 1.959963984540054  # two-sided 95% quantile of the standard normal


def wilson_interval(correct: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """95% interval for a proportion seen as ``correct`` out of ``total`` (Wilson score).

    Unlike the normal approximation it stays inside [0, 1] and does not shrink to nothing at
    100% on a few reviews: 38 out of 38 gives 90.8-100%, which is what a tiny test set can say.
    """
    if total <= 0:
        return 0.0, 1.0
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_interval(metrics: Mapping[str, Any]) -> tuple[float, float]:
    """The saved interval, or one rebuilt from accuracy and count (bundles saved before it)."""
    saved = metrics.get("accuracy_interval")
    if isinstance(saved, (list, tuple)) and len(saved) == 2:
        return float(saved[0]), float(saved[1])
    total = int(metrics.get("count", 0) or 0)
    return wilson_interval(round(float(metrics.get("accuracy", 0.0)) * total), total)


def format_accuracy(metrics: Mapping[str, Any], digits: int = 1) -> str:
    """'94.8% (95% interval 88.4-97.8%, 96 reviews)': never a bare figure from a small set."""
    low, high = accuracy_interval(metrics)
    count = int(metrics.get("count", 0) or 0)
    noun = "review" if count == 1 else "reviews"
    return (f"{float(metrics.get('accuracy', 0.0)):.{digits}%} (95% interval "
            f"{low * 100:.{digits}f}-{high:.{digits}%}, {count:,} {noun})")


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """[true, predicted] counts."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


def compute_metrics(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[str],
                    ordinal: bool = False) -> dict[str, Any]:
    """All figures as plain JSON-ready data (saved in bundles and shown in the Results panel)."""
    y_true_a = np.asarray(y_true, dtype=np.int64)
    y_pred_a = np.asarray(y_pred, dtype=np.int64)
    matrix = confusion_matrix(y_true_a, y_pred_a, len(classes))
    total = int(matrix.sum())
    correct = int(np.trace(matrix))
    per_class = []
    f1_values = []
    for index, name in enumerate(classes):
        tp = int(matrix[index, index])
        predicted = int(matrix[:, index].sum())
        actual = int(matrix[index, :].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append({"class": name, "precision": precision, "recall": recall,
                          "f1": f1, "support": actual})
        if actual:
            f1_values.append(f1)
    result: dict[str, Any] = {
        "count": total,
        "accuracy": correct / total if total else 0.0,
        "accuracy_interval": list(wilson_interval(correct, total)),
        "macro_f1": float(np.mean(f1_values)) if f1_values else 0.0,
        "per_class": per_class,
        "confusion": matrix.tolist(),
        "classes": list(classes),
    }
    if ordinal and total:
        errors = np.abs(y_true_a - y_pred_a)
        result["mae"] = float(errors.mean())
        result["within_one"] = float((errors <= 1).mean())
    return result


def format_metrics(metrics: dict[str, Any]) -> str:
    """A short plain-text report for the command line."""
    low, high = accuracy_interval(metrics)
    lines = [f"reviews   {metrics['count']}",
             f"accuracy  {metrics['accuracy']:.4f}  (95% interval {low:.4f}-{high:.4f})",
             f"macro-F1  {metrics['macro_f1']:.4f}"]
    if "mae" in metrics:
        lines.append(f"MAE       {metrics['mae']:.3f} (classes)")
        lines.append(f"within 1  {metrics['within_one']:.4f}")
    lines.append("")
    lines.append(f"{'class':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for row in metrics["per_class"]:
        lines.append(f"{row['class'][:15]:<16}{row['precision']:>10.3f}{row['recall']:>10.3f}"
                     f"{row['f1']:>10.3f}{row['support']:>9}")
    classes = metrics["classes"]
    lines.append("")
    lines.append("confusion (rows = true, columns = predicted)")
    width = max(8, max(len(c) for c in classes) + 2)
    lines.append(" " * width + "".join(f"{c[:width - 2]:>{width}}" for c in classes))
    for name, row in zip(classes, metrics["confusion"]):
        lines.append(f"{name[:width - 2]:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


def format_duration(seconds: float) -> str:
    """Seconds as mm:ss or h:mm:ss for progress lines and summaries; unknown as --:--."""
    if seconds != seconds or seconds == float("inf"):
        return "--:--"
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
