"""The main window end to end: open, train, see results, save and reload, close safely."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

import resources
from core import app_version
from core.io.readers import read_reviews
from core.training.pipeline import run_training
from gui.main_window import PANELS, MainWindow, PanelEntry, WiringError, check_wiring
from gui.panels.batch import BatchPanel
from gui.panels.results import ResultsPanel

TIMEOUT = 60000


@pytest.fixture
def window(qtbot, app_settings, tiny_config) -> MainWindow:
    app_settings.set_last_config(tiny_config)
    widget = MainWindow(app_settings)
    qtbot.addWidget(widget)
    return widget


def open_sample(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.data_panel.table_ready, timeout=TIMEOUT):
        window.sample_action.trigger()


def train(qtbot, window: MainWindow):
    with qtbot.waitSignal(window.train_panel.training_finished, timeout=TIMEOUT) as blocker:
        window.train_panel.train_action.trigger()
    qtbot.waitUntil(lambda: window.train_panel.handle.thread.isFinished(), timeout=TIMEOUT)
    return blocker.args[0]


def test_the_last_config_is_restored_into_the_form(window, tiny_config):
    assert window.train_panel.config() == tiny_config


def test_open_reviews_goes_through_the_file_dialog(qtbot, window, dialog_log):
    dialog_log.open_path = str(resources.SAMPLE_REVIEWS)
    with qtbot.waitSignal(window.data_panel.table_ready, timeout=TIMEOUT):
        window.open_action.trigger()
    assert window.tabs.currentWidget() is window.data_panel
    assert window.settings.recent_files() == [str(resources.SAMPLE_REVIEWS)]


def test_an_opened_file_appears_in_recent_files(qtbot, window):
    open_sample(qtbot, window)
    titles = [a.text() for a in window.recent_menu.actions()]
    assert any("sample_reviews.csv" in t for t in titles)


def test_column_choices_are_remembered_for_the_file(qtbot, window):
    open_sample(qtbot, window)
    with qtbot.waitSignal(window.data_panel.table_ready, timeout=TIMEOUT):
        window.data_panel.set_columns(label="domain")
    remembered = window.settings.column_choices(str(resources.SAMPLE_REVIEWS))
    assert remembered["label"] == "domain"


def test_ctrl_number_switches_tabs(window):
    window.tab_actions[1].trigger()
    assert window.tabs.currentWidget() is window.train_panel


def test_save_is_disabled_until_a_model_exists(window):
    assert not window.save_action.isEnabled()


def test_training_enables_save_and_shows_the_model(qtbot, window):
    open_sample(qtbot, window)
    train(qtbot, window)
    assert window.save_action.isEnabled() and window.bundle is not None
    assert "classes: negative, positive" in window.model_banner.text()


def test_a_model_saves_and_loads_back(qtbot, window, dialog_log, tmp_path):
    open_sample(qtbot, window)
    train(qtbot, window)
    dialog_log.save_path = str(tmp_path / "mine")
    saved = window.save_model()
    assert saved == tmp_path / "mine.ramodel" and saved.is_file()
    original = window.bundle
    dialog_log.open_path = str(saved)
    window.load_action.trigger()
    assert window.bundle is not original
    assert window.bundle.vocab.to_dict() == original.vocab.to_dict()
    assert "mine.ramodel" in window.model_banner.text()


def test_a_damaged_model_file_shows_the_engines_message(window, dialog_log, tmp_path):
    bad = tmp_path / "bad.ramodel"
    bad.write_bytes(b"not a model")
    assert window.load_model(str(bad)) is None
    assert "bad.ramodel" in dialog_log.errors[0][1]


def test_dropping_a_file_opens_it(qtbot, window):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(resources.SAMPLE_REVIEWS))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.data_panel.table_ready, timeout=TIMEOUT):
        window.dropEvent(event)
    assert window.data_panel.table is not None


def test_closing_during_training_asks_then_stops_the_thread(qtbot, window, dialog_log):
    open_sample(qtbot, window)
    window.train_panel.set_config(window.train_panel.config().replace(epochs=200))
    handle = window.train_panel.start_training()
    qtbot.waitUntil(lambda: window.train_panel.batches_seen > 0, timeout=TIMEOUT)
    assert window.close()
    assert dialog_log.questions == ["Stop training and quit?"]
    assert handle.thread.isFinished()


def test_answering_no_keeps_the_window_and_the_run(qtbot, window, dialog_log):
    open_sample(qtbot, window)
    window.train_panel.set_config(window.train_panel.config().replace(epochs=200))
    window.show()
    handle = window.train_panel.start_training()
    dialog_log.answer = False
    assert not window.close()
    assert window.isVisible() and not handle.thread.isFinished()
    with qtbot.waitSignal(window.train_panel.run_ended, timeout=TIMEOUT):
        window.train_panel.cancel()


def test_closing_saves_the_window_and_the_config(qtbot, window, app_settings):
    window.train_panel.hidden_size.setValue(24)
    window.close()
    assert app_settings.window_geometry() is not None
    assert app_settings.last_config().hidden_size == 24


def test_help_lists_the_keyboard_shortcuts(window):
    text = window.shortcuts_text()
    for keys in ("Ctrl+O", "Ctrl+S", "Ctrl+T", "Ctrl+1", "Ctrl+Q"):
        assert keys in text


def test_a_recent_file_that_vanished_is_removed(window, dialog_log, tmp_path: Path):
    gone = str(tmp_path / "gone.csv")
    window.settings.add_recent_file(gone)
    window._open_recent(gone)
    assert gone not in window.settings.recent_files() and dialog_log.errors


def test_explain_this_review_opens_the_explain_tab(qtbot, window):
    if window.panel("Explain") is None:
        pytest.skip("the Explain panel is not in this tree")
    open_sample(qtbot, window)
    train(qtbot, window)
    window.data_panel.explain_row(0)
    assert window.tabs.currentWidget() is window.panel("Explain")


def test_the_window_fits_1280_by_800_after_a_run(qtbot, window):
    open_sample(qtbot, window)
    train(qtbot, window)
    if hasattr(window.train_panel.curves, "flush"):
        window.train_panel.curves.flush()  # draw the final summary line now
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 800


def test_reopening_a_file_uses_the_remembered_columns(qtbot, window):
    window.settings.set_column_choices(str(resources.SAMPLE_REVIEWS), "text", "domain", None)
    with qtbot.waitSignal(window.data_panel.table_ready, timeout=TIMEOUT) as blocker:
        window.open_reviews(str(resources.SAMPLE_REVIEWS))
    assert blocker.args[0].label_column == "domain"
    assert window.data_panel.label_combo.currentText() == "domain"


# --- registering panels -----------------------------------------------------------------------


def test_a_method_the_panel_lacks_raises_before_anything_is_built(app_settings):
    slip = PanelEntry("Results 2", ResultsPanel, "model", listens={"model_loaded": "show_metric"})
    with pytest.raises(WiringError, match="ResultsPanel.show_metric"):
        MainWindow(app_settings, panels=(*PANELS, slip))


def test_a_signal_nobody_has_raises(app_settings):
    slip = dataclasses.replace(PANELS[-1], listens={"model_chaged": "set_bundle"})
    with pytest.raises(WiringError, match="MainWindow.model_chaged"):
        MainWindow(app_settings, panels=(*PANELS[:-1], slip))
    slip = dataclasses.replace(PANELS[4], tells={"model_chose": "set_bundle"})
    with pytest.raises(WiringError, match="ComparePanel.model_chose"):
        check_wiring((*PANELS[:4], slip))


def test_two_tabs_with_one_name_or_no_data_tab_raise():
    with pytest.raises(WiringError, match="two tabs"):
        check_wiring((*PANELS, PANELS[2]))
    with pytest.raises(WiringError, match="Data tab"):
        check_wiring(PANELS[1:])


def test_one_entry_adds_a_tab_that_hears_the_window(qtbot, app_settings, tiny_config):
    extra = PanelEntry("Batch 2", BatchPanel, "batch", listens={"model_changed": "set_bundle"},
                       needs_model=True)
    window = MainWindow(app_settings, panels=(*PANELS, extra))
    qtbot.addWidget(window)
    index = window.tabs.indexOf(window.panel("Batch 2"))
    assert window.tabs.tabText(index) == "Batch 2" and not window.tabs.isTabEnabled(index)
    assert window.tab_actions[index].text() == "Batch 2 tab"
    bundle = run_training(read_reviews(resources.SAMPLE_REVIEWS), tiny_config).bundle
    window.set_bundle(bundle)
    assert window.panel("Batch 2").bundle is bundle and window.tabs.isTabEnabled(index)


def test_the_about_box_shows_the_version_written_in_pyproject(window):
    pyproject = (Path(resources.__file__).resolve().parents[1] / "pyproject.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE).group(1)
    assert app_version() == version and version in window.show_about().text()
