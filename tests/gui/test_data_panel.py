"""The Data tab, driven as a user would: open, pick columns and schemes, read the balance."""

from __future__ import annotations

from pathlib import Path

import pytest

import resources
from gui.panels.data import DataPanel

TIMEOUT = 30000


@pytest.fixture
def panel(qtbot) -> DataPanel:
    widget = DataPanel()
    qtbot.addWidget(widget)
    return widget


def open_file(qtbot, panel: DataPanel, path) -> list:
    """Open through the same method the file dialog calls; returns table_ready's args."""
    with qtbot.waitSignal(panel.table_ready, timeout=TIMEOUT) as blocker:
        panel.open_path(path)
    return blocker.args


def write_csv(folder: Path, rows: list[str], header: str = "text,label") -> Path:
    path = folder / "reviews.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_opening_the_sample_guesses_columns_and_a_binary_scheme(qtbot, panel):
    table, scheme = open_file(qtbot, panel, resources.SAMPLE_REVIEWS)
    assert len(table) == 1200
    assert (panel.text_combo.currentText(), panel.label_combo.currentText()) == ("text", "stars")
    assert scheme.classes == ["negative", "positive"]


def test_the_file_dialog_path_opens_the_file(qtbot, panel, dialog_log):
    dialog_log.open_path = str(resources.SAMPLE_REVIEWS)
    with qtbot.waitSignal(panel.table_ready, timeout=TIMEOUT):
        panel.open_button.click()
    assert panel.preview_model.rowCount() == 200


def test_the_preview_marks_the_chosen_columns(qtbot, panel):
    open_file(qtbot, panel, resources.SAMPLE_REVIEWS)
    headers = [panel.preview_model.headerData(i, _horizontal())
               for i in range(panel.preview_model.columnCount())]
    assert "stars  [label]" in headers and "text  [text]" in headers


def test_binary_scheme_leaves_three_stars_out(qtbot, panel):
    open_file(qtbot, panel, resources.SAMPLE_REVIEWS)
    counts, left_out = panel.class_counts()
    assert left_out == 240 and sum(counts) == 960
    assert "240 left out" in panel.counts_label.text()


def test_five_class_scheme_draws_five_bars(qtbot, panel):
    open_file(qtbot, panel, resources.SAMPLE_REVIEWS)
    with qtbot.waitSignal(panel.table_ready) as blocker:
        panel.set_scheme_kind("five")
    assert blocker.args[1].num_classes == 5
    assert len(panel.bar_counts) == 5 and sum(panel.bar_counts) == 1200


def test_moving_a_cut_point_moves_reviews_between_classes(qtbot, panel):
    open_file(qtbot, panel, resources.SAMPLE_REVIEWS)
    negative_before = panel.class_counts()[0][0]
    panel.negative_cut.setValue(3.0)
    assert panel.class_counts()[0][0] > negative_before
    assert panel.class_counts()[1] == 0


def test_choosing_no_label_column_rereads_and_withdraws_the_table(qtbot, panel):
    open_file(qtbot, panel, resources.SAMPLE_REVIEWS)
    with qtbot.waitSignal(panel.table_cleared, timeout=TIMEOUT):
        handle = panel.set_columns(label="")
        qtbot.waitUntil(lambda: not handle.running, timeout=TIMEOUT)
    assert panel.table.labels is None and panel.scheme is None


def test_choosing_another_label_column_rereads_the_file(qtbot, panel):
    open_file(qtbot, panel, resources.SAMPLE_REVIEWS)
    with qtbot.waitSignal(panel.table_ready, timeout=TIMEOUT) as blocker:
        panel.set_columns(label="domain")
    assert blocker.args[0].label_column == "domain"
    assert blocker.args[1].kind == "categorical"


def test_word_labels_disable_the_rating_schemes(qtbot, panel, tmp_path):
    path = write_csv(tmp_path, [f"review {i} was {'good' if i % 2 else 'bad'},"
                                f"{'pos' if i % 2 else 'neg'}" for i in range(40)])
    _, scheme = open_file(qtbot, panel, path)
    assert scheme.classes == ["neg", "pos"]
    assert not panel.scheme_combo.model().item(1).isEnabled()


def test_a_tiny_class_gets_a_warning(qtbot, panel, tmp_path):
    rows = [f"fine review {i},pos" for i in range(60)] + ["bad one,neg", "worse one,neg"]
    path = write_csv(tmp_path, rows)
    open_file(qtbot, panel, path)
    assert "'neg' has only 2 reviews" in panel.warning_label.text()


def test_skipped_rows_are_counted_and_listed(qtbot, panel, tmp_path):
    path = write_csv(tmp_path, [f"text {i},pos" for i in range(10)]
                     + [",neg"] + [f"more {i},neg" for i in range(10)])
    table, _ = open_file(qtbot, panel, path)
    assert len(table.skipped) == 1 and "1 row skipped" in panel.counts_label.text()
    panel.skipped_button.click()
    assert panel.skipped_dialog.isVisible()


def test_an_empty_file_shows_the_engines_message(qtbot, panel, tmp_path, dialog_log):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    handle = panel.open_path(path)
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=TIMEOUT)
    assert "empty.csv" in dialog_log.errors[0][1]
    qtbot.waitUntil(lambda: not handle.running)


def test_explain_this_review_sends_the_rows_text(qtbot, panel):
    open_file(qtbot, panel, resources.SAMPLE_REVIEWS)
    panel.preview_view.selectRow(3)
    with qtbot.waitSignal(panel.explain_requested) as blocker:
        panel.explain_button.click()
    assert blocker.args[0] == panel.preview.rows[3][3]


def _horizontal():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def test_a_file_cut_short_keeps_the_reviews_before_and_says_where(qtbot, panel, dialog_log,
                                                                   tmp_path):
    path = tmp_path / "cut.jsonl"
    good = [f'{{"text": "review {i} was fine", "label": "{"pos" if i % 2 else "neg"}"}}'
            for i in range(6)]
    path.write_text("\n".join(good) + '\n{"text": "cut off her', encoding="utf-8")
    table, _scheme = open_file(qtbot, panel, path)
    qtbot.waitUntil(lambda: not panel.reading, timeout=TIMEOUT)
    assert len(table) == 6
    title, message = dialog_log.errors[-1]
    assert "not read to the end" in title
    assert str(path) in message and "line 7" in message and "6 complete reviews" in message
