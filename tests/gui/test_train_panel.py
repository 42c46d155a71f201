"""The Train tab: the form, the parameter count, and real (tiny) runs in a worker thread."""

from __future__ import annotations

import pytest

import resources
from core.config import preset
from core.io.readers import read_reviews
from core.text.labels import make_scheme
from gui.panels.train import TrainPanel

TIMEOUT = 60000


@pytest.fixture(scope="module")
def sample():
    table = read_reviews(resources.SAMPLE_REVIEWS)
    return table, make_scheme("binary", table.labels)


@pytest.fixture
def panel(qtbot, sample, tiny_config) -> TrainPanel:
    widget = TrainPanel()
    qtbot.addWidget(widget)
    widget.set_data(*sample)
    widget.set_config(tiny_config)
    return widget


def train(qtbot, panel: TrainPanel):
    """Click Train and wait for the run to end and its thread to finish."""
    with qtbot.waitSignal(panel.training_finished, timeout=TIMEOUT) as blocker:
        panel.train_button.click()
    qtbot.waitUntil(lambda: panel.handle.thread.isFinished(), timeout=TIMEOUT)
    return blocker.args[0]


def test_the_form_shows_and_returns_the_config(panel, tiny_config):
    assert panel.config() == tiny_config


def test_a_preset_fills_the_form(panel):
    panel.preset_combo.setCurrentText("Accurate")
    panel.preset_combo.activated.emit(panel.preset_combo.currentIndex())
    assert panel.cell.currentText() == "LSTM" and panel.layers.value() == 2
    assert panel.config().hidden_size == preset("Accurate").hidden_size


def test_editing_a_knob_switches_the_preset_to_custom(panel):
    panel.set_config(preset("Fast"))
    panel.hidden_size.setValue(100)
    assert panel.preset_combo.currentText() == "Custom"


def test_the_parameter_count_follows_the_sizes(qtbot, panel):
    with qtbot.waitSignal(panel.parameter_count_changed, timeout=TIMEOUT) as small:
        panel.hidden_size.setValue(8)
    with qtbot.waitSignal(panel.parameter_count_changed, timeout=TIMEOUT) as large:
        panel.hidden_size.setValue(64)
    assert large.args[0] > small.args[0]
    assert f"{large.args[0]:,}" in panel.parameter_label.text()


def test_train_is_disabled_without_data(qtbot):
    widget = TrainPanel()
    qtbot.addWidget(widget)
    assert not widget.train_button.isEnabled()


def test_a_run_reports_progress_and_feeds_the_curves(qtbot, panel):
    outcome = train(qtbot, panel)
    assert outcome.result.stop_reason == "completed"
    assert panel.batches_seen > 0 and len(panel.epochs_seen) == 2
    if hasattr(panel.curves, "batch_count"):
        assert panel.curves.batch_count() > 0 and panel.curves.epoch_count() == 2
    assert panel.progress.value() == 1000 and "Finished" in panel.progress_label.text()


def test_the_form_is_locked_while_training(qtbot, panel):
    panel.set_config(panel.config().replace(epochs=50))
    panel.train_button.click()
    assert not panel.form.isEnabled() and panel.cancel_button.isEnabled()
    with qtbot.waitSignal(panel.run_ended, timeout=TIMEOUT):
        panel.cancel_button.click()
    assert panel.form.isEnabled()


def test_cancel_keeps_the_best_model(qtbot, panel):
    panel.set_config(panel.config().replace(epochs=50))
    with qtbot.waitSignal(panel.training_finished, timeout=TIMEOUT) as blocker:
        panel.train_button.click()
        qtbot.waitUntil(lambda: len(panel.epochs_seen) >= 1, timeout=TIMEOUT)
        panel.cancel_button.click()
    outcome = blocker.args[0]
    assert outcome.result.stop_reason == "cancelled" and outcome.bundle is not None
    assert panel.progress_label.text().startswith("Cancelled — kept the best model (epoch")


def test_pause_and_resume(qtbot, panel):
    panel.set_config(panel.config().replace(epochs=50))
    panel.train_button.click()
    qtbot.waitUntil(lambda: panel.batches_seen > 0, timeout=TIMEOUT)
    panel.pause_button.click()
    assert panel.handle.paused and not panel.resume_button.isHidden()
    panel.resume_button.click()
    assert not panel.handle.paused
    with qtbot.waitSignal(panel.run_ended, timeout=TIMEOUT):
        panel.cancel_button.click()


def test_cancel_while_preparing_ends_without_a_dialog(qtbot, panel, dialog_log):
    with qtbot.waitSignal(panel.run_ended, timeout=TIMEOUT):
        panel.train_button.click()
        panel.cancel_button.click()
    assert not dialog_log.errors and "Cancel" in panel.progress_label.text()


def test_an_invalid_setting_shows_the_engines_message(qtbot, panel, dialog_log):
    panel.set_config(panel.config().replace(test_share=0.95))  # not on the form
    panel.train_button.click()
    assert panel.handle is None
    assert "test share" in dialog_log.errors[0][1]


def test_with_data_the_parameter_count_uses_the_vocabulary_found(qtbot, panel, sample):
    """Issue 16, item 3: not the 30,000-word cap, the words the loaded reviews hold."""
    from core.model.classifier import RecurrentClassifier
    from core.text.tokenizer import Tokenizer
    from core.text.vocabulary import Vocabulary
    from core.training.dataset import tokenizer_settings

    with qtbot.waitSignal(panel.parameter_count_changed, timeout=TIMEOUT) as counted:
        panel.hidden_size.setValue(16)
    config = panel.config()
    tokenizer = Tokenizer(tokenizer_settings(config))
    vocab = Vocabulary.build((tokenizer.tokenize(t) for t in sample[0].texts),
                             config.vocab_size, config.min_count)
    expected = RecurrentClassifier.from_config(config, len(vocab), 2).parameter_count()
    assert counted.args[0] == expected
    assert panel.parameter_label.text().startswith("about ")


def test_without_data_the_count_is_labelled_an_upper_bound(qtbot):
    widget = TrainPanel()
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.parameter_count_changed, timeout=TIMEOUT) as counted:
        widget.hidden_size.setValue(16)
    assert widget.parameter_label.text().startswith("at most ")
    assert "upper bound" in widget.parameter_label.toolTip()
    assert counted.args[0] > 0
