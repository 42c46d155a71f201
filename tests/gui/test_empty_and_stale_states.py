"""Issue 16, items 7 and 8: empty tabs say what to do next; a failed job leaves no stale state."""

from __future__ import annotations

import resources
from gui.panels.batch import BatchPanel
from gui.panels.curves import CurvesPanel
from gui.panels.data import DataPanel
from gui.widgets.comparison_curves import ComparisonCurves
from gui.widgets.empty_state import empty_message

TIMEOUT = 60000


def test_the_data_tab_starts_without_a_progress_box_or_a_live_stop_button(qtbot):
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.read_progress.isVisible() and not panel.cancel_read_button.isVisible()
    assert "Open a review file" in empty_message(panel.chart)


def test_a_failed_open_does_not_leave_opening_beside_the_old_table(qtbot, dialog_log, tmp_path):
    panel = DataPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.table_ready, timeout=TIMEOUT):
        panel.open_path(str(resources.SAMPLE_REVIEWS))
    shown = panel.path_label.text()
    assert "sample_reviews.csv" in shown and not empty_message(panel.chart)
    missing = tmp_path / "binary.csv"
    panel.open_path(str(missing))
    qtbot.waitUntil(lambda: bool(dialog_log.errors) and not panel.reading, timeout=TIMEOUT)
    assert panel.path_label.text() == shown
    assert panel.table is not None and len(panel.table) == 1200


def test_the_training_curves_say_what_to_do_until_a_run_arrives(qtbot):
    panel = CurvesPanel()
    qtbot.addWidget(panel)
    assert "press Train" in empty_message(panel.loss_plot)
    assert empty_message(panel.accuracy_plot)
    assert not panel.loss_plot.getAxis("bottom").isVisible()
    assert not panel.export_png_button.isEnabled() and not panel.export_csv_button.isEnabled()
    panel.load_history([dict(epoch=1, train_loss=0.5, train_accuracy=0.7, val_loss=0.6,
                             val_accuracy=0.65, val_macro_f1=0.6, seconds=1.0,
                             tokens_per_second=1.0, is_best=True)])
    assert not empty_message(panel.loss_plot) and not empty_message(panel.accuracy_plot)
    assert panel.export_csv_button.isEnabled()
    panel.reset()
    assert empty_message(panel.loss_plot)


def test_the_comparison_curves_say_what_to_do_until_a_run_arrives(qtbot):
    curves = ComparisonCurves()
    qtbot.addWidget(curves)
    assert "Compare" in empty_message(curves.accuracy_plot)
    message = empty_message(curves.accuracy_plot)
    item = curves.accuracy_plot.items[-1]
    (x_min, x_max), _ = curves.accuracy_plot.getViewBox().viewRange()
    assert item.toPlainText() == message and x_min < item.pos().x() < x_max  # not cut off
    curves.add_run("GRU")
    assert not empty_message(curves.accuracy_plot)
    curves.reset()
    assert empty_message(curves.accuracy_plot)


def test_batch_charts_say_what_will_appear(qtbot):
    panel = BatchPanel()
    qtbot.addWidget(panel)
    messages = [empty_message(chart) for chart in panel.charts]
    assert all(messages) and "Analyze" in messages[0]


def test_an_empty_comparison_table_says_what_will_fill_it(qtbot):
    from PySide6.QtGui import QColor

    from gui.widgets.comparison_table import ComparisonTable

    table = ComparisonTable()
    qtbot.addWidget(table)
    table.resize(600, 200)
    table.show()
    qtbot.waitExposed(table)
    image = table.viewport().grab().toImage()
    background = image.pixelColor(2, 2)
    middle = [image.pixelColor(x, y) for y in range(image.height() // 4, 3 * image.height() // 4)
              for x in range(0, image.width(), 2)]
    assert any(QColor(c) != background for c in middle)  # the placeholder line is drawn
    assert "95% interval" in table.EMPTY_TEXT
