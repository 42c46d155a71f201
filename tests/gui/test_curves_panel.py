"""The curves panel as a user sees it: points on the plots, the best-epoch marker, exports."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from core.training.trainer import BatchProgress, EpochSummary
from gui.panels.curves import DISPLAY_LIMIT, CurvesPanel, downsample, exponential_smoothing


def batches(epoch: int, count: int, start_step: int = 0, loss: float = 0.5) -> list:
    return [BatchProgress(epoch, 3, b, count, start_step + b, loss + 0.01 * b, 0.5 + 0.01 * b,
                          1000.0, 1.0, 1.0, 0.1) for b in range(1, count + 1)]


def epoch(number: int, val_accuracy: float, is_best: bool = False) -> EpochSummary:
    return EpochSummary(number, 0.6 - 0.1 * number, 0.6 + 0.05 * number, 0.5, val_accuracy,
                        val_accuracy - 0.02, 2.0, 900.0, is_best=is_best)


@pytest.fixture
def panel(qtbot):
    widget = CurvesPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    return widget


def points(panel: CurvesPanel, name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = panel.curves[name].getData()
    return (np.array([]), np.array([])) if x is None else (np.asarray(x), np.asarray(y))


def test_batches_appear_in_fractional_epochs_after_the_throttled_redraw(panel, qtbot):
    panel.add_batches(batches(1, 4) + batches(2, 4, start_step=4))
    assert len(points(panel, "loss/batch_raw")[0]) == 0  # not drawn synchronously
    qtbot.waitUntil(lambda: len(points(panel, "loss/batch_raw")[0]) == 8, timeout=2000)
    x, y = points(panel, "loss/batch_raw")
    assert x.tolist() == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    assert y[0] == pytest.approx(0.51)
    assert len(points(panel, "accuracy/batch_smoothed")[0]) == 8
    assert panel.batch_count() == 8


def test_epochs_are_drawn_at_whole_epochs_for_train_and_validation(panel):
    panel.add_epoch(epoch(1, 0.70))
    panel.add_epoch(epoch(2, 0.75))
    panel.flush()
    x, y = points(panel, "accuracy/val_epoch")
    assert x.tolist() == [1.0, 2.0]
    assert y.tolist() == pytest.approx([0.70, 0.75])
    assert points(panel, "loss/train_epoch")[1].tolist() == pytest.approx([0.5, 0.4])


def test_a_cancelled_epoch_is_drawn_where_its_batches_stopped(panel):
    panel.add_batches(batches(1, 4) + batches(2, 4, start_step=4)[:1])
    panel.add_epoch(epoch(1, 0.7, is_best=True))
    cut = epoch(2, 0.72)
    cut.partial = True
    panel.add_epoch(cut)
    panel.flush()
    assert points(panel, "loss/val_epoch")[0].tolist() == [1.0, 1.25]


def test_best_epoch_line_follows_the_best_flag_and_set_best_epoch(panel):
    assert not any(line.isVisible() for line in panel.best_lines)
    panel.add_epoch(epoch(1, 0.7, is_best=True))
    panel.add_epoch(epoch(2, 0.8, is_best=True))
    panel.add_epoch(epoch(3, 0.6))
    assert [line.value() for line in panel.best_lines] == [2, 2]
    assert all(line.isVisible() for line in panel.best_lines)
    assert "Best epoch 2" in panel.summary_label.text()
    assert "best epoch (model kept)" in [label.text for _, label in panel.legend.items]
    panel.set_best_epoch(3)
    assert panel.best_epoch() == 3 and panel.best_lines[1].value() == 3


def test_smoothing_is_debiased_and_resumable():
    values = np.array([1.0, 1.0, 1.0, 3.0])
    whole, _ = exponential_smoothing(values, 0.9)
    assert whole[0] == pytest.approx(1.0)  # no drag towards zero at the start
    head, state = exponential_smoothing(values[:2], 0.9)
    tail, _ = exponential_smoothing(values[2:], 0.9, state)
    assert np.concatenate([head, tail]) == pytest.approx(whole)
    assert 1.0 < whole[-1] < 3.0


def test_many_batches_are_downsampled_for_display_but_kept_for_export(panel, tmp_path):
    events = [BatchProgress(1 + s // 10000, 3, s % 10000 + 1, 10000, s + 1,
                            math.sin(s / 50.0), 0.5, 1.0, 1.0, 1.0, 0.1) for s in range(20000)]
    panel.add_batches(events)
    panel.flush()
    raw_x, raw_y = points(panel, "loss/batch_raw")
    assert len(raw_x) <= DISPLAY_LIMIT + 1
    assert raw_y.max() == pytest.approx(1.0, abs=1e-3)  # peaks survive the pooling
    assert len(points(panel, "loss/batch_smoothed")[0]) <= DISPLAY_LIMIT + 1
    path = panel.export_csv(tmp_path / "history.csv")
    with open(path, newline="") as stream:
        assert sum(1 for row in csv.DictReader(stream) if row["kind"] == "batch") == 20000


def test_downsample_leaves_short_series_alone():
    x = np.arange(10.0)
    assert downsample(x, x)[0] is x


def test_view_toggles_hide_curves_and_legend_entries(panel):
    panel.per_batch_check.setChecked(False)
    assert not panel.curves["loss/batch_smoothed"].isVisible()
    assert panel.curves["loss/val_epoch"].isVisible()
    labels = [label.text for _, label in panel.legend.items]
    assert labels == ["train, per epoch", "validation, per epoch"]
    panel.per_epoch_check.setChecked(False)
    panel.per_batch_check.setChecked(True)
    assert not panel.curves["accuracy/train_epoch"].isVisible()
    assert [label.text for _, label in panel.legend.items] == [
        "train, per batch (smoothed; raw faint)"]


def test_csv_export_holds_epochs_then_batches(panel, tmp_path):
    panel.add_batches(batches(1, 2))
    panel.add_epoch(epoch(1, 0.75, is_best=True))
    path = panel.export_csv(tmp_path / "curves.csv")
    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["kind"] for r in rows] == ["epoch", "batch", "batch"]
    assert rows[0]["val_accuracy"] == "0.75" and rows[0]["is_best"] == "true"
    assert rows[2]["x_epoch"] == "1" and rows[2]["train_loss"] == "0.52"
    assert rows[1]["val_accuracy"] == ""


def test_export_buttons_write_files_where_the_dialog_says(panel, tmp_path, monkeypatch, qtbot):
    panel.add_batches(batches(1, 5))
    panel.add_epoch(epoch(1, 0.7, is_best=True))
    targets = {"png": tmp_path / "plot.png", "csv": tmp_path / "plot.csv"}
    monkeypatch.setattr(panel, "choose_export_path", lambda kind: str(targets[kind]))
    with qtbot.waitSignal(panel.status_message) as signal:
        panel.export_png_button.click()
    assert targets["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert targets["png"].stat().st_size > 5000
    assert str(targets["png"]) in signal.args[0]
    panel.export_csv_button.click()
    assert targets["csv"].read_text().startswith("kind,epoch,")


def test_cancelled_dialog_writes_nothing(panel, tmp_path, monkeypatch):
    monkeypatch.setattr(panel, "choose_export_path", lambda kind: None)
    panel.export_csv_button.click()
    assert list(tmp_path.iterdir()) == []


def test_load_history_shows_a_saved_run_and_reset_clears(panel):
    history = [epoch(1, 0.7, True).to_dict(), epoch(2, 0.8, True).to_dict(),
               epoch(3, 0.79).to_dict()]
    panel.add_batches(batches(1, 3))
    panel.load_history(history)
    assert panel.batch_count() == 0
    assert points(panel, "loss/val_epoch")[0].tolist() == [1.0, 2.0, 3.0]
    assert panel.best_epoch() == 2
    panel.reset()
    assert panel.epoch_count() == 0 and len(points(panel, "loss/val_epoch")[0]) == 0
    assert not panel.best_lines[0].isVisible()
    assert panel.summary_label.text() == "No training run yet."


def test_add_events_routes_a_mixed_worker_batch(panel):
    panel.add_events(batches(1, 3) + [epoch(1, 0.7, True)] + batches(2, 2, start_step=3))
    assert panel.batch_count() == 5 and panel.epoch_count() == 1 and panel.best_epoch() == 1


def _history(epochs: int, best: int) -> list[dict]:
    return [dict(epoch=i, train_loss=1 / i, train_accuracy=0.5 + i / 40, val_loss=1 / i,
                 val_accuracy=0.5 + i / 40, val_macro_f1=0.5, seconds=1.0,
                 tokens_per_second=1.0, is_best=i <= best) for i in range(1, epochs + 1)]


def test_a_loaded_history_labels_the_best_epoch_where_the_line_is(qtbot):
    """Issue 16, item 4: the label read 'best: epoch 0' while the line sat at 8."""
    from gui.panels.curves import CurvesPanel

    panel = CurvesPanel()
    qtbot.addWidget(panel)
    panel.load_history(_history(9, best=8))
    for line in panel.best_lines:
        assert line.value() == 8 and line.label.toPlainText() == "best: epoch 8"


def test_smoothing_spans_at_most_a_quarter_epoch() -> None:
    from gui.panels.curves import epoch_aware_weight

    assert epoch_aware_weight(0.9, 12) == pytest.approx(1 - 4 / 12)
    assert epoch_aware_weight(0.9, 400) == 0.9
    assert epoch_aware_weight(0.9, 2) == 0.0


def test_count_axes_tick_whole_numbers_and_shares_read_as_percent(qtbot) -> None:
    from gui.widgets.axes import integer_axis, percent_axis

    for low, high in ((0, 2), (0.9, 8.2), (0, 1)):
        for _, values in integer_axis("bottom").tickValues(low, high, 400):
            assert all(float(v).is_integer() for v in values)
    assert percent_axis("left").tickStrings([0.0, 0.5, 1.0], 1, 0.5) == ["0", "50", "100"]
