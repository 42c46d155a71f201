"""The Batch tab, driven as a user would: add reviews, pick a model and an output, run."""

from __future__ import annotations

import csv
import json

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

import resources
from core.analyze.analysis import side_paths
from core.bundle import ModelBundle
from core.config import TrainConfig
from core.io.readers import read_reviews
from core.training.pipeline import run_training
from gui.panels import batch as batch_module
from gui.panels.batch import BatchPanel

TIMEOUT = 60000


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    config = TrainConfig(cell="gru", bidirectional=False, embedding_dim=8, hidden_size=8,
                         epochs=1, max_length=40, vocab_size=400, min_count=1, threads=1,
                         device="cpu")
    bundle = run_training(read_reviews(resources.SAMPLE_REVIEWS), config).bundle
    return bundle.save(tmp_path_factory.mktemp("model") / "sample.ramodel")


@pytest.fixture
def panel(qtbot) -> BatchPanel:
    widget = BatchPanel()
    qtbot.addWidget(widget)
    return widget


def run(qtbot, panel: BatchPanel):
    """Start and wait for the end. Not with waitSignal(handle.thread.finished): a run that
    fails at once can end its thread before the wait connects, and the wait then times out."""
    handle = panel.start()
    assert handle is not None
    qtbot.waitUntil(lambda: not handle.running and not panel.running, timeout=TIMEOUT)
    return handle


def ready(panel: BatchPanel, model_file, out) -> None:
    assert panel.load_model(model_file)
    panel.add_inputs([resources.SAMPLE_REVIEWS])
    panel.set_output(out)


def test_analyze_needs_reviews_a_model_and_an_output(panel, model_file, tmp_path):
    assert not panel.run_button.isEnabled()
    assert "Add review" in panel.missing()
    panel.add_inputs([resources.SAMPLE_REVIEWS])
    assert "model" in panel.missing()
    assert panel.output_path is not None  # a first input suggests an output beside it
    assert panel.output_path.name == "sample_reviews_analysis.csv"
    panel.load_model(model_file)
    assert "sample.ramodel" in panel.model_label.text()
    panel.set_output(tmp_path / "out.xlsx")
    assert ".csv, .jsonl or .parquet" in panel.missing()
    assert not panel.run_button.isEnabled()
    panel.set_output(tmp_path / "out.csv")
    assert panel.run_button.isEnabled()


def test_format_choice_and_output_extension_follow_each_other(panel, tmp_path):
    panel.set_output(tmp_path / "results.csv")
    panel.format_combo.setCurrentIndex(panel.format_combo.findData(".parquet"))
    panel.format_combo.activated.emit(panel.format_combo.currentIndex())
    assert panel.output_path == tmp_path / "results.parquet"
    panel.set_output(tmp_path / "results.jsonl")
    assert panel.format_combo.currentData() == ".jsonl"


def test_a_run_writes_the_file_and_shows_rows_and_charts(qtbot, panel, model_file, tmp_path):
    out = tmp_path / "out.parquet"
    ready(panel, model_file, out)
    with qtbot.waitSignal(panel.analysis_finished, timeout=TIMEOUT) as finished:
        run(qtbot, panel)
    result = finished.args[0]
    assert out.exists() and result.reviews == 1200 and not result.partial
    assert panel.rows_model.rowCount() == 100
    header = [panel.rows_model.headerData(i, Qt.Orientation.Horizontal)
              for i in range(panel.rows_model.columnCount())]
    assert header[:5] == ["source", "row", "id", "text", "predicted"]
    assert panel.rows_model.data(panel.rows_model.index(0, 0)) == "sample_reviews.csv"
    bars = [item for item in panel.class_chart.getPlotItem().items
            if type(item).__name__ == "BarGraphItem"]
    assert len(bars) == 1 and panel.class_chart.getPlotItem().getAxis("left").isVisible()
    heights = list(bars[0].opts["height"])
    assert sum(heights) == 1200
    assert "Done" in panel.summary_label.text() and "1,200 reviews" in panel.summary_label.text()
    assert panel.uncertain_model.rowCount() == panel.confident_model.rowCount() == 5
    assert panel.files_model.row_values(0)[:2] == ["sample_reviews.csv", "1,200"]
    assert panel.progress.value() == 1000
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_stop_leaves_a_partial_output(qtbot, panel, model_file, tmp_path):
    source = tmp_path / "many.csv"
    texts = read_reviews(resources.SAMPLE_REVIEWS).texts
    with open(source, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text"])
        writer.writerows([t] for t in texts * 8)
    panel.load_model(model_file)
    panel.add_inputs([source])
    out = tmp_path / "out.csv"
    panel.set_output(out)
    handle = panel.start()
    assert panel.cancel_button.isEnabled()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: not handle.running, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: panel.result is not None, timeout=TIMEOUT)
    assert panel.result.partial
    assert side_paths(out).partial.exists()
    summary = json.loads(side_paths(out).summary.read_text(encoding="utf-8"))
    assert summary["partial"] is True
    assert out.read_text(encoding="utf-8").startswith("source,row,id,text")
    assert "Partial output" in panel.summary_label.text()


def test_a_failed_run_shows_the_engine_message(qtbot, panel, model_file, tmp_path, dialog_log):
    empty = tmp_path / "empty.csv"
    empty.write_text("text\n", encoding="utf-8")
    panel.load_model(model_file)
    panel.add_inputs([empty])
    panel.set_output(tmp_path / "out.csv")
    run(qtbot, panel)
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=TIMEOUT)
    assert "no review could be read" in dialog_log.errors[0][1]
    assert panel.result is None


def test_replacing_an_existing_output_asks_first(qtbot, panel, model_file, tmp_path,
                                                 dialog_log):
    out = tmp_path / "out.csv"
    out.write_text("keep me", encoding="utf-8")
    ready(panel, model_file, out)
    dialog_log.answer = False
    assert panel.start() is None
    assert out.read_text(encoding="utf-8") == "keep me" and dialog_log.questions


def test_dropping_files_adds_inputs_and_a_model(qtbot, panel, model_file, tmp_path):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(resources.SAMPLE_REVIEWS)),
                  QUrl.fromLocalFile(str(model_file)), QUrl.fromLocalFile(str(tmp_path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(event)
    assert panel.inputs == [str(resources.SAMPLE_REVIEWS), str(tmp_path)]
    assert panel.bundle is not None and panel.model_path == str(model_file)


def test_buttons_add_files_and_folders_and_remove_them(panel, tmp_path, monkeypatch,
                                                       dialog_log):
    monkeypatch.setattr(batch_module, "choose_open_files",
                        lambda *args: [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    panel.add_files_button.click()
    dialog_log.folder = str(tmp_path)
    panel.add_folder_button.click()
    panel.add_files_button.click()  # the same files again are not listed twice
    assert panel.inputs == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), str(tmp_path)]
    panel.input_list.item(1).setSelected(True)
    panel.remove_button.click()
    assert panel.inputs == [str(tmp_path / "a.csv"), str(tmp_path)]


def test_set_bundle_from_the_main_window_and_open_the_output_folder(panel, model_file,
                                                                    tmp_path, monkeypatch):
    panel.set_bundle(ModelBundle.load(model_file), None)
    assert "trained in this window" in panel.model_label.text()
    opened = []
    monkeypatch.setattr(batch_module, "open_folder", lambda path: opened.append(path) or True)
    panel.set_output(tmp_path / "results.csv")
    panel.open_folder_button.click()
    assert opened == [tmp_path]


def test_a_bad_model_file_is_refused_with_a_message(panel, tmp_path, dialog_log):
    broken = tmp_path / "broken.ramodel"
    broken.write_bytes(b"not a model")
    dialog_log.open_path = str(broken)
    panel.load_model_button.click()
    assert panel.bundle is None and dialog_log.errors
    assert "broken.ramodel" in dialog_log.errors[0][1]


def test_a_failed_run_leaves_no_full_bar_and_no_analysing_status(qtbot, panel, model_file,
                                                                tmp_path, dialog_log):
    """Issue 16, item 7: 'Failed' beside a 100% bar, the status bar still on 'Analysing...'."""
    empty = tmp_path / "empty.csv"
    empty.write_text("text\n", encoding="utf-8")
    panel.load_model(model_file)
    panel.add_inputs([empty])
    panel.set_output(tmp_path / "out.csv")
    messages: list[str] = []
    panel.status_message.connect(messages.append)
    run(qtbot, panel)
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=TIMEOUT)
    assert panel.progress.value() == 0 and panel.progress_label.text() == "Failed"
    assert messages[-1].startswith("Batch analysis failed")


def test_word_charts_show_content_words_with_a_switch_for_all(qtbot, panel):
    """Issue 16, item 10: the word charts were mostly '.', 'and', 'i'."""
    words = {"pushed_positive": [{"word": "great", "reviews": 9, "net": 8}],
             "pushed_negative": [{"word": "refund", "reviews": 5, "net": 4}],
             "pushed_positive_all": [{"word": ".", "reviews": 90, "net": 50},
                                     {"word": "great", "reviews": 9, "net": 8}],
             "pushed_negative_all": [{"word": "refund", "reviews": 5, "net": 4}]}
    panel.show_summary({"rows_read": 10, "rows_skipped": 0, "seconds": 1.0,
                        "reviews_per_second": 10.0, "precision": "fp32",
                        "classes": {"negative": {"count": 4, "share": 0.4},
                                    "positive": {"count": 6, "share": 0.6}},
                        "files": {}, "words": words, "most_confident": [],
                        "most_uncertain": []})

    def shown_words() -> list[str]:
        ticks = panel.positive_chart.getPlotItem().getAxis("left")._tickLevels
        return [name for _, name in ticks[0]]

    assert shown_words() == ["great"]
    panel.all_words_check.setChecked(True)
    assert shown_words() == [".", "great"]
