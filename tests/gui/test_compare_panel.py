"""Compare panel: runs in the background, fills curves and table, keeps a model, cancels."""

from __future__ import annotations

import random

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from core.bundle import ModelBundle
from core.compare.runner import read_table_csv
from core.config import TrainConfig
from core.io.table import ReviewTable
from core.text.labels import make_scheme
from gui import dialogs
from gui.panels.compare import ComparePanel

BASE = TrainConfig(embedding_dim=8, hidden_size=8, epochs=2, batch_size=32, max_length=12,
                   min_count=1, threads=1, seed=2, bidirectional=False)
WORDS = {"4": ["great", "lovely", "superb"], "5": ["excellent", "perfect", "wonderful"],
         "1": ["awful", "rude", "broken"], "2": ["dirty", "noisy", "boring"]}


def reviews(count: int = 200, seed: int = 1) -> ReviewTable:
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(count):
        stars = rng.choice(["1", "2", "4", "5"])
        words = rng.choices(WORDS[stars], k=2) + rng.choices(["the", "room", "was", "a"], k=3)
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(stars)
    return ReviewTable(texts=texts, labels=labels, rows=list(range(1, count + 1)),
                       path="reviews.csv", label_column="stars")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture
def panel(qtbot) -> ComparePanel:
    widget = ComparePanel()
    qtbot.addWidget(widget)
    table = reviews()
    widget.set_table(table, make_scheme("binary", table.labels))
    widget.set_base_config(BASE)
    yield widget
    widget.stop_and_wait()


def run_to_end(qtbot, panel: ComparePanel) -> None:
    with qtbot.waitSignal(panel.comparison_finished, timeout=60000):
        panel.run_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)


def test_a_run_fills_curves_and_table_and_keeps_a_model(qtbot, panel: ComparePanel) -> None:
    panel.cell_checks["lstm"].setChecked(False)
    run_to_end(qtbot, panel)
    result = panel.result()
    assert [r.name for r in result.runs] == ["TF-IDF + LogReg", "VADER", "RNN", "GRU"]
    assert panel.curves.runs() == ["RNN", "GRU"]
    assert [e.epoch for e in panel.curves.epochs_of("GRU")] == [1, 2]
    assert set(panel.curves.baselines()) == {"TF-IDF + LogReg", "VADER"}
    # one row per run, the best test accuracy in bold
    assert panel.table.rowCount() == 4
    assert panel.table.best_cells()["Test accuracy"] == result.best()["accuracy"]
    # every accuracy comes with its 95% interval (issue 16, item 2)
    headers = [panel.table.horizontalHeaderItem(i).text()
               for i in range(panel.table.columnCount())]
    assert "95% interval" in headers
    assert "95% interval" in panel.progress_label.text()
    # the colour swatch of a run matches its curve
    assert panel.curves.color_of("RNN") != panel.curves.color_of("GRU")
    panel.table.select_run("GRU")
    assert panel.use_button.isEnabled()
    with qtbot.waitSignal(panel.model_chosen) as chosen:
        panel.use_button.click()
    assert isinstance(chosen.args[0], ModelBundle)
    assert chosen.args[0] is result.run("GRU").bundle
    panel.table.select_run("VADER")
    assert not panel.use_button.isEnabled()


def test_cancel_stops_the_comparison_and_keeps_finished_runs(qtbot,
                                                             panel: ComparePanel) -> None:
    panel.set_base_config(BASE.replace(epochs=400, early_stopping=False))
    panel.tfidf_check.setChecked(False)
    panel.vader_check.setChecked(False)
    panel.run_button.click()
    assert not panel.run_button.isEnabled() and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: len(panel.curves.epochs_of("RNN")) >= 1, timeout=30000)
    with qtbot.waitSignal(panel.comparison_finished, timeout=30000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)
    result = panel.result()
    assert result.cancelled
    assert [(r.name, r.status) for r in result.runs] == [("RNN", "cancelled")]
    assert result.run("RNN").bundle is not None
    assert panel.curves.runs() == ["RNN"]
    assert "Cancelled" in panel.progress_label.text()
    assert panel.run_button.isEnabled()


def test_variants_from_the_form_are_added_once(panel: ComparePanel) -> None:
    two_layers = BASE.replace(cell="lstm", layers=2)
    assert panel.add_variant("LSTM · 2 layers", two_layers) == "LSTM · 2 layers"
    assert panel.add_variant("again", two_layers) == ""
    assert [v.name for v in panel.variants()] == ["RNN", "LSTM", "GRU", "LSTM · 2 layers"]
    panel.variant_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    panel.cell_checks["rnn"].setChecked(False)
    assert [v.name for v in panel.variants()] == ["LSTM", "GRU"]
    # the default cells take every other setting from the base
    assert all(v.config.hidden_size == BASE.hidden_size for v in panel.variants())


def test_add_variant_button_takes_the_base_config(panel: ComparePanel) -> None:
    panel.set_base_config(BASE.replace(cell="gru", bidirectional=True, layers=2))
    panel.add_variant_button.click()
    assert panel.variant_list.count() == 1
    assert panel.variant_list.item(0).text() == "BiGRU 2×8"


def test_vader_is_offered_for_two_classes_only(panel: ComparePanel) -> None:
    assert panel.vader_check.isEnabled()
    table = reviews(seed=3)
    panel.set_table(table, make_scheme("five", table.labels))
    assert not panel.vader_check.isEnabled()
    assert panel.baselines() == ["tfidf"]


def test_nothing_ticked_means_no_run(panel: ComparePanel) -> None:
    for check in (*panel.cell_checks.values(), panel.tfidf_check, panel.vader_check):
        check.setChecked(False)
    assert not panel.run_button.isEnabled()
    assert panel.start_comparison() is None


def test_export_writes_the_table(qtbot, panel: ComparePanel, tmp_path, monkeypatch) -> None:
    for cell in ("rnn", "lstm"):
        panel.cell_checks[cell].setChecked(False)
    panel.vader_check.setChecked(False)
    run_to_end(qtbot, panel)
    target = tmp_path / "table.csv"
    monkeypatch.setattr(dialogs, "choose_save_file", lambda *a: str(target))
    panel.export_csv_button.click()
    assert [r["model"] for r in read_table_csv(target)] == ["TF-IDF + LogReg", "GRU"]
    markdown = tmp_path / "table.md"
    monkeypatch.setattr(dialogs, "choose_save_file", lambda *a: str(markdown))
    panel.export_md_button.click()
    assert markdown.read_text().startswith("| Model | Test accuracy |")
    assert isinstance(panel.curves.color_of("GRU"), QColor)
