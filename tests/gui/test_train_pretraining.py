"""The Train tab's unlabelled-reviews section: settings, added files, pretraining progress."""

from __future__ import annotations

import csv

import pytest

import resources
from core.config import NEGATION_PAIR_MODES
from core.io.readers import read_reviews
from core.io.table import ReviewTable
from core.text.labels import make_scheme
from gui.panels.train import TrainPanel

TIMEOUT = 60000


@pytest.fixture
def panel(qtbot, tiny_config) -> TrainPanel:
    table = read_reviews(resources.SAMPLE_REVIEWS)
    widget = TrainPanel()
    qtbot.addWidget(widget)
    widget.set_data(table, make_scheme("binary", table.labels))
    widget.set_config(tiny_config)
    return widget


def test_the_pretraining_settings_round_trip(panel, tiny_config):
    config = tiny_config.replace(pretrain="lm", pretrain_epochs=3, adversarial="vat")
    panel.set_config(config)
    assert panel.pretrain.currentText() == "Language model"
    assert panel.adversarial.currentText() == "Virtual adversarial"
    assert panel.config() == config


def test_the_negation_pairs_setting_round_trips_and_reaches_the_config(panel, tiny_config):
    for mode, shown in (("off", "Off"), ("on", "On"), ("auto", "Auto (two classes)")):
        panel.set_config(tiny_config.replace(negation_pairs=mode))
        assert panel.negation_pairs.currentText() == shown
        assert panel.config().negation_pairs == mode
    for mode in NEGATION_PAIR_MODES:  # every value a saved model can hold has a name
        panel.set_config(tiny_config.replace(negation_pairs=mode))
        assert panel.negation_pairs.currentText()
        assert panel.config().negation_pairs == mode
    panel.negation_pairs.setCurrentIndex(panel.negation_pairs.findData("off"))
    assert panel.config().negation_pairs == "off"


def test_added_unlabelled_reviews_are_counted(panel):
    extra = ReviewTable(texts=["a quiet room", "rude staff", "fine"], path="/tmp/more.csv")
    panel.set_unlabelled([extra])
    assert "3 reviews added (more.csv)" in panel.unlabelled_label.text()
    panel.clear_unlabelled_button.click()
    assert panel.unlabelled_label.text() == "No unlabelled reviews added."


def test_rows_without_a_label_are_counted_and_pretrained_on(qtbot, tiny_config, tmp_path):
    path = tmp_path / "reviews.csv"
    source = read_reviews(resources.SAMPLE_REVIEWS)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "stars"])
        for text, label in zip(source.texts[:300], source.labels[:300]):
            writer.writerow([text, label])
        for text in source.texts[300:340]:
            writer.writerow([text, ""])
    table = read_reviews(path)
    panel = TrainPanel()
    qtbot.addWidget(panel)
    panel.set_data(table, make_scheme("binary", table.labels))
    assert panel.unlabelled_label.text().startswith("40 rows of the loaded file have no label")
    panel.set_config(tiny_config.replace(pretrain="lm", pretrain_epochs=1, epochs=1))
    shown: list[str] = []
    original = panel._show_pretraining

    def spy(event) -> None:
        original(event)
        shown.append(panel.progress_label.text())

    panel._show_pretraining = spy
    with qtbot.waitSignal(panel.training_finished, timeout=TIMEOUT) as blocker:
        panel.train_button.click()
    qtbot.waitUntil(lambda: panel.handle.thread.isFinished(), timeout=TIMEOUT)
    record = blocker.args[0].bundle.pretraining
    assert record is not None and record.kind == "lm"
    assert {"role": "unlabelled rows", "name": "reviews.csv", "rows": 40} in record.sources
    assert shown and shown[-1].startswith("Pretraining epoch 1/1")
    assert panel.curves.pretraining_points() == len(shown)  # the LM loss is plotted
    assert panel.curves.pretrain_plot.isVisible()
    panel.curves.reset()
    assert panel.curves.pretraining_points() == 0 and not panel.curves.pretrain_plot.isVisible()


def test_cancel_during_pretraining_ends_the_run_and_frees_the_window(qtbot, panel,
                                                                     tiny_config):
    panel.set_config(tiny_config.replace(pretrain="lm", pretrain_epochs=50, epochs=1))
    original = panel._show_pretraining
    seen: list[int] = []

    def spy(event) -> None:
        original(event)
        seen.append(event.step)

    panel._show_pretraining = spy
    with qtbot.waitSignal(panel.run_ended, timeout=TIMEOUT):
        panel.train_button.click()
        qtbot.waitUntil(lambda: bool(seen), timeout=TIMEOUT)
        assert not panel.form.isEnabled()
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.handle.thread.isFinished(), timeout=TIMEOUT)
    assert panel.form.isEnabled() and panel.train_button.isEnabled()
    outcome = panel.last_outcome
    assert outcome is not None and outcome.result.stop_reason == "cancelled"
    assert outcome.bundle.pretraining.completed is False


def test_the_data_tab_counts_rows_without_a_label(qtbot, tmp_path):
    from gui.panels.data import DataPanel

    path = tmp_path / "reviews.csv"
    path.write_text("text,label\ngood film,pos\nbad film,neg\nno label here,\n"
                    "also unlabelled,\nfine,pos\n", encoding="utf-8")
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.set_table(read_reviews(path))
    assert "2 of them have text but no label" in panel.counts_label.text()
