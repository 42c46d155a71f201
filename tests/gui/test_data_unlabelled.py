"""Unlabelled reviews in the Data tab: counted, added and cleared there, one list with Train."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from gui.main_window import MainWindow

TIMEOUT = 60000


@pytest.fixture
def window(qtbot, app_settings, tiny_config) -> MainWindow:
    app_settings.set_last_config(tiny_config)  # pretraining off, adversarial off
    widget = MainWindow(app_settings)
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    """Six labelled rows and two with text but no label."""
    path = tmp_path / "reviews.csv"
    path.write_text("text,label\ngood film,pos\nbad film,neg\nno label here,\nfine,pos\n"
                    "also unlabelled,\ndull,neg\ngreat,pos\nawful,neg\n", encoding="utf-8")
    return path


@pytest.fixture
def extra(tmp_path: Path) -> Path:
    path = tmp_path / "more.csv"
    path.write_text("review\na quiet room\nrude staff\nfine breakfast\n", encoding="utf-8")
    return path


def open_file(qtbot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.data_panel.table_ready, timeout=TIMEOUT):
        window.open_reviews(str(path))


def add_from_data_tab(qtbot, window: MainWindow, monkeypatch, *paths: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *args, **kwargs: ([str(p) for p in paths], ""))
    window.data_panel.add_unlabelled_button.click()
    qtbot.waitUntil(lambda: window.train_panel.unlabelled_state().reading == 0,
                    timeout=TIMEOUT)


def data_text(window: MainWindow) -> str:
    return window.data_panel.unlabelled_label.text()


def test_the_loaded_files_rows_without_a_label_are_counted(qtbot, window, reviews):
    open_file(qtbot, window, reviews)
    assert "<b>2</b> unlabelled reviews: 2 rows of this file without a label" in data_text(
        window)
    assert not window.data_panel.clear_unlabelled_button.isEnabled()  # nothing added yet


def test_a_file_added_in_the_data_tab_shows_in_both_tabs(qtbot, window, reviews, extra,
                                                         monkeypatch):
    open_file(qtbot, window, reviews)
    add_from_data_tab(qtbot, window, monkeypatch, extra)
    assert [t.path for t in window.train_panel.unlabelled] == [str(extra)]
    assert "<b>5</b> unlabelled reviews" in data_text(window)
    assert "3 in 1 added file (more.csv)" in data_text(window)
    assert "3 reviews added (more.csv)" in window.train_panel.unlabelled_label.text()
    assert window.data_panel.clear_unlabelled_button.isEnabled()

    add_from_data_tab(qtbot, window, monkeypatch, extra)  # the same file again: once only
    assert len(window.train_panel.unlabelled) == 1


def test_clear_in_the_data_tab_empties_both(qtbot, window, reviews, extra, monkeypatch):
    open_file(qtbot, window, reviews)
    add_from_data_tab(qtbot, window, monkeypatch, extra)
    window.data_panel.clear_unlabelled_button.click()
    assert window.train_panel.unlabelled == []
    assert "more.csv" not in data_text(window)
    assert "<b>2</b> unlabelled reviews" in data_text(window)
    assert "added" not in window.train_panel.unlabelled_label.text()
    assert not window.data_panel.clear_unlabelled_button.isEnabled()


def test_a_file_added_in_the_train_tab_shows_in_the_data_tab(qtbot, window, extra,
                                                             monkeypatch):
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *args, **kwargs: ([str(extra)], ""))
    window.train_panel.add_unlabelled_button.click()
    qtbot.waitUntil(lambda: "more.csv" in data_text(window), timeout=TIMEOUT)
    window.train_panel.clear_unlabelled_button.click()
    assert "more.csv" not in data_text(window)


def test_will_be_used_follows_the_pretraining_setting(qtbot, window, reviews):
    open_file(qtbot, window, reviews)
    assert "Not used with the current settings" in data_text(window)
    train = window.train_panel
    train.pretrain.setCurrentIndex(train.pretrain.findData("lm"))
    assert "Will be used by pretraining (language model)" in data_text(window)
    assert "Not used" not in data_text(window)
    train.pretrain.setCurrentIndex(train.pretrain.findData("off"))
    train.adversarial.setCurrentIndex(train.adversarial.findData("vat"))
    assert "Will be used by virtual adversarial training" in data_text(window)
    train.adversarial.setCurrentIndex(train.adversarial.findData("off"))
    assert "Not used with the current settings" in data_text(window)
    assert "Not used with these settings" in train.unlabelled_label.text()


def test_a_file_that_cannot_be_read_is_named_and_the_others_are_added(
        qtbot, window, extra, tmp_path, monkeypatch, dialog_log):
    empty = tmp_path / "empty.csv"
    empty.write_text("text\n", encoding="utf-8")
    add_from_data_tab(qtbot, window, monkeypatch, empty, extra)
    assert [Path(t.path).name for t in window.train_panel.unlabelled] == ["more.csv"]
    assert len(dialog_log.errors) == 1
    title, message = dialog_log.errors[0]
    assert "unlabelled" in title and "empty.csv" in message and "no rows" in message


def test_the_open_file_cannot_be_added_as_unlabelled(qtbot, window, reviews, monkeypatch,
                                                     dialog_log):
    open_file(qtbot, window, reviews)
    add_from_data_tab(qtbot, window, monkeypatch, reviews)
    assert window.train_panel.unlabelled == []
    assert dialog_log.errors and "file open in the Data tab" in dialog_log.errors[0][1]


def test_long_and_many_file_names_are_shortened_for_the_narrow_boxes():
    from gui.panels.data import unlabelled_summary
    from gui.panels.train import UnlabelledState

    long_name = "customer_reviews_exported_from_the_shop_2024_all.csv"
    state = UnlabelledState(files=((long_name, 10), ("b.csv", 2), ("c.csv", 3), ("d.csv", 4)),
                            used_by=("pretraining (word vectors)",))
    text = unlabelled_summary(0, state)
    assert "<b>19</b> unlabelled reviews" in text and "in 4 added files" in text
    assert long_name not in text and "customer_revie…op_2024_all.csv" in text
    assert "and 1 more" in text
    assert long_name in state.tooltip()  # the full names stay in reach


def test_the_data_tabs_buttons_wait_while_a_run_is_on(qtbot, window):
    with qtbot.waitSignal(window.data_panel.table_ready, timeout=TIMEOUT):
        window.sample_action.trigger()
    assert window.data_panel.add_unlabelled_button.isEnabled()
    with qtbot.waitSignal(window.train_panel.run_ended, timeout=TIMEOUT):
        window.train_panel.train_action.trigger()
        assert not window.data_panel.add_unlabelled_button.isEnabled()
    qtbot.waitUntil(lambda: window.train_panel.handle.thread.isFinished(), timeout=TIMEOUT)
    assert window.data_panel.add_unlabelled_button.isEnabled()
