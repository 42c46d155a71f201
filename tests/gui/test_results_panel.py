"""The results panel as a user sees it: figures, per-class rows, heat-map counts, the error list."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from core.bundle import ModelBundle
from core.config import TrainConfig
from core.metrics import compute_metrics
from core.model.classifier import RecurrentClassifier
from core.text.labels import LabelScheme
from core.text.tokenizer import TokenizerSettings
from core.text.vocabulary import Vocabulary
from gui.panels.results import TEXT_ROLE, MisclassifiedModel, ResultsPanel

torch.set_num_threads(1)

CLASSES = ["negative", "neutral", "positive"]
LONG = "This review goes on and on. " * 20 + "The end."
TEXTS = ["Awful.", "Fine I guess.", "Loved it.", LONG, "Meh.", "Great value.", "Broken.",
         "Superb!"]
Y_TRUE = [0, 1, 2, 2, 1, 2, 0, 2]
Y_PRED = [0, 2, 2, 0, 0, 2, 1, 2]  # errors at positions 1, 3, 4, 6
PROBS = np.array([[0.8, 0.1, 0.1], [0.1, 0.3, 0.6], [0.1, 0.1, 0.8], [0.9, 0.05, 0.05],
                  [0.55, 0.4, 0.05], [0.1, 0.1, 0.8], [0.3, 0.65, 0.05], [0.0, 0.1, 0.9]])


def make_bundle(kind: str = "three", metrics: dict | None = None) -> ModelBundle:
    """A real (untrained) bundle: the panel reads classes, the scheme and info from it."""
    config = TrainConfig(embedding_dim=8, hidden_size=8, bidirectional=False)
    bins = [(-np.inf, 2.0), (3.0, 3.0), (4.0, np.inf)] if kind == "three" else []
    scheme = LabelScheme(kind, list(CLASSES), bins).validated()
    vocab = Vocabulary(["<pad>", "<unk>", "good"])
    model = RecurrentClassifier.from_config(config, len(vocab), len(CLASSES))
    return ModelBundle(config, scheme, TokenizerSettings(), vocab, model, metrics or {}, [],
                       {"test_source": "held out 10%"})


@pytest.fixture
def panel(qtbot):
    widget = ResultsPanel()
    qtbot.addWidget(widget)
    widget.resize(1100, 750)
    widget.show()
    return widget


@pytest.fixture
def shown(panel):
    panel.show_outcome(make_bundle(), TEXTS, Y_TRUE, Y_PRED, PROBS)
    return panel


def test_summary_names_the_set_and_shows_the_figures(shown):
    expected = compute_metrics(Y_TRUE, Y_PRED, CLASSES, ordinal=True)
    assert shown.heading_label.text() == "Test set · 8 reviews"
    assert "held out 10%" in shown.note_label.text()
    assert shown.accuracy_card.value() == f"{expected['accuracy']:.1%}" == "50.0%"
    assert shown.macro_f1_card.value() == f"{expected['macro_f1']:.3f}"
    assert shown.mae_card.isVisible() and shown.mae_card.value() == f"{expected['mae']:.2f}"
    assert shown.within_one_card.value() == f"{expected['within_one']:.1%}"
    assert shown.count_card.value() == "8"


def test_per_class_table_has_one_row_per_class(shown):
    table = shown.class_table
    assert table.rowCount() == len(CLASSES)
    assert [table.item(r, 0).text() for r in range(3)] == CLASSES
    per_class = compute_metrics(Y_TRUE, Y_PRED, CLASSES)["per_class"]
    assert table.item(2, 1).text() == f"{per_class[2]['precision']:.3f}"
    assert table.item(2, 2).text() == f"{per_class[2]['recall']:.3f}"
    assert [table.item(r, 4).text() for r in range(3)] == ["2", "2", "4"]


def test_heat_map_counts_equal_the_confusion_matrix(shown):
    confusion = np.array(compute_metrics(Y_TRUE, Y_PRED, CLASSES)["confusion"])
    assert np.array_equal(shown.heatmap.counts(), confusion)
    assert shown.heatmap.classes() == CLASSES
    assert [[shown.heatmap.cell_text(i, j) for j in range(3)] for i in range(3)] == \
        [[str(v) for v in row] for row in confusion]
    assert shown.heatmap.cell_caption(2, 2) == "75%"  # 3 of 4 positives found
    assert "predicted neutral: 1 review" in shown.heatmap.tooltip_text(0, 1)


def test_heat_map_paints_correct_cells_blue_and_errors_orange(shown):
    image = shown.heatmap.grab().toImage()

    def painted(i: int, j: int):
        rect = shown.heatmap.cell_rect(i, j)
        return image.pixelColor(rect.left() + 3, rect.top() + 3)

    assert painted(2, 2).rgb() == shown.heatmap.cell_color(2, 2).rgb()
    assert painted(2, 2).blue() > painted(2, 2).red()  # correct: blue
    assert painted(2, 0).red() > painted(2, 0).blue()  # error: orange
    assert painted(0, 2).rgb() == shown.heatmap.palette().base().color().rgb()  # empty cell


def test_misclassified_list_holds_exactly_the_errors(shown):
    errors = sum(t != p for t, p in zip(Y_TRUE, Y_PRED))
    assert shown.misclassified_count() == errors == 4
    assert shown.errors_view.model().rowCount() == 4
    assert shown.errors_count_label.text() == "4 misclassified"
    assert "positive read as negative" in shown.mistakes_label.text()


def test_list_starts_with_the_most_confident_mistake_and_sorts(shown):
    view = shown.errors_view
    proxy = view.model()
    assert proxy.index(0, MisclassifiedModel.CONFIDENCE).data() == "90%"
    assert proxy.index(0, MisclassifiedModel.REVIEW).data(TEXT_ROLE) == LONG
    view.sortByColumn(MisclassifiedModel.CONFIDENCE, Qt.SortOrder.AscendingOrder)
    assert proxy.index(0, MisclassifiedModel.CONFIDENCE).data() == "55%"


def test_long_reviews_are_elided_in_the_list_only(shown):
    proxy = shown.errors_view.model()
    shown_text = proxy.index(0, MisclassifiedModel.REVIEW).data()
    assert shown_text.endswith("…") and len(shown_text) < len(LONG)


def test_double_click_emits_the_full_text_and_opens_the_review(shown, qtbot):
    view = shown.errors_view
    index = view.model().index(0, MisclassifiedModel.REVIEW)
    centre = view.visualRect(index).center()
    with qtbot.waitSignal(shown.review_activated) as signal:
        # What a mouse sends: a click, then the double-click event (Qt needs the press first).
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert signal.args == [LONG]
    assert shown.review_dialog.isVisible()
    assert shown.review_dialog.text_view.toPlainText() == LONG
    assert "True: positive" in shown.review_dialog.verdict_label.text()
    assert "Predicted: negative (90% sure)" in shown.review_dialog.verdict_label.text()


def test_enter_on_the_current_row_opens_it_too(shown, qtbot):
    view = shown.errors_view
    view.setFocus()
    view.setCurrentIndex(view.model().index(1, 0))
    expected = view.model().index(1, 0).data(TEXT_ROLE)
    with qtbot.waitSignal(shown.review_activated) as signal:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert signal.args == [expected]


def test_class_filters_narrow_the_list(shown):
    shown.true_filter.setCurrentIndex(shown.true_filter.findText("neutral"))
    assert shown.visible_misclassified() == 2
    shown.predicted_filter.setCurrentIndex(shown.predicted_filter.findText("positive"))
    assert shown.visible_misclassified() == 1
    proxy = shown.errors_view.model()
    assert proxy.index(0, MisclassifiedModel.REVIEW).data() == "Fine I guess."
    assert shown.errors_count_label.text() == "1 of 4 shown"
    shown.set_class_filter()
    assert shown.visible_misclassified() == 4


def test_word_filter_finds_reviews_containing_text(shown, qtbot):
    qtbot.keyClicks(shown.words_filter, "BROKEN")
    assert shown.visible_misclassified() == 1


def test_clicking_a_heat_map_cell_lists_its_reviews(shown, qtbot):
    rect = shown.heatmap.cell_rect(2, 0)
    qtbot.mouseClick(shown.heatmap, Qt.MouseButton.LeftButton, pos=rect.center())
    assert shown.true_filter.currentText() == "positive"
    assert shown.predicted_filter.currentText() == "negative"
    assert shown.visible_misclassified() == 1


def test_categorical_scheme_hides_the_ordinal_figures(panel):
    panel.show_outcome(make_bundle("categorical"), TEXTS, Y_TRUE, Y_PRED, PROBS)
    assert not panel.mae_card.isVisible() and not panel.within_one_card.isVisible()


def test_validation_figures_are_labelled_as_such(panel):
    panel.show_outcome(make_bundle(), TEXTS, Y_TRUE, Y_PRED, PROBS, split="validation")
    assert panel.heading_label.text().startswith("Validation set")
    assert "no separate test set" in panel.note_label.text()


def test_loaded_model_shows_saved_figures_without_a_review_list(panel):
    saved = compute_metrics([0, 1, 2, 2], [0, 1, 1, 2], CLASSES, ordinal=True)
    panel.show_metrics_only(make_bundle(metrics={"validation": saved}))
    assert panel.heading_label.text() == "Validation set · 4 reviews"
    assert panel.accuracy_card.value() == "75.0%"
    assert panel.misclassified_count() == 0
    assert panel.errors_stack.currentWidget() is panel.errors_empty_note
    assert "Evaluate on a labelled file" in panel.errors_empty_note.text()
    assert panel.evaluate_button.isEnabled()
    assert "<a " not in panel.mistakes_label.text()  # nothing to filter, so no links


def test_clear_empties_everything(shown):
    shown.clear()
    assert shown.class_table.rowCount() == 0
    assert shown.heatmap.counts().size == 0
    assert shown.misclassified_count() == 0
    assert shown.heading_label.text() == "No results yet"


def test_misaligned_inputs_are_refused(panel):
    with pytest.raises(ValueError, match="aligned"):
        panel.show_outcome(make_bundle(), TEXTS, Y_TRUE[:-1], Y_PRED, PROBS)


def test_a_real_training_outcome_fills_the_panel(panel):
    """The path the main window takes: run_training's outcome, test rows mapped to texts."""
    from core.text.labels import make_scheme
    from core.training.pipeline import run_training
    from gui.panels.samples import sample_table

    table = sample_table().subset(list(range(160)))
    config = TrainConfig(embedding_dim=8, hidden_size=8, bidirectional=False, epochs=1,
                         batch_size=32, min_count=1, test_share=0.25, max_length=40,
                         threads=1)
    outcome = run_training(table, config, make_scheme("binary", table.labels))
    panel.show_training_outcome(outcome)
    labels = outcome.data.test.labels
    assert panel.count_card.value() == str(len(labels))
    assert panel.heatmap.counts().sum() == len(labels)
    assert panel.misclassified_count() == int((outcome.test_predictions != labels).sum())
    assert panel.metrics()["accuracy"] == pytest.approx(outcome.bundle.metrics["test"]["accuracy"])


def test_accuracy_shows_its_95_percent_interval(shown):
    assert shown.accuracy_card.caption() == "accuracy · 95%: 21.5-78.5%"  # 4 of 8 right


def test_evaluate_is_disabled_until_there_is_a_model(panel):
    assert not panel.evaluate_button.isEnabled() and not panel.evaluate_action.isEnabled()
    assert "Train or load a model first" in panel.evaluate_button.toolTip()
    panel.set_bundle(make_bundle())
    assert panel.evaluate_button.isEnabled() and panel.evaluate_action.isEnabled()


def test_evaluating_a_file_scores_its_test_rows_and_lists_the_errors(qtbot, panel, tmp_path,
                                                                    dialog_log):
    """Issue 16, item 6: a loaded model can be scored on a labelled file from the window."""
    path = tmp_path / "labelled.csv"
    rows = ["text,stars,split"] + [f"review number {i} is good,{1 + i % 5},"
                                   f"{'test' if i >= 30 else 'train'}" for i in range(50)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    panel.show_metrics_only(make_bundle(metrics={"test": compute_metrics([0], [0], CLASSES)}))
    dialog_log.open_path = str(path)
    panel.evaluate_button.click()
    qtbot.waitUntil(lambda: panel.heading_label.text().startswith("Evaluated file"),
                    timeout=30000)
    labelled = [1 + i % 5 for i in range(30, 50)]
    assert panel.heading_label.text() == f"Evaluated file · {len(labelled)} reviews"
    assert "scored the 20 rows marked 'test' in the split column, of 50" in \
        panel.note_label.text()
    assert panel.heatmap.counts().sum() == len(labelled)
    assert panel.misclassified_count() == len(labelled) - int(np.trace(panel.heatmap.counts()))
    assert not dialog_log.errors


def test_evaluating_an_unlabelled_file_says_so(qtbot, panel, tmp_path, dialog_log):
    path = tmp_path / "plain.csv"
    path.write_text("text\nno label here\nnor here\n", encoding="utf-8")
    panel.set_bundle(make_bundle())
    panel.evaluate_path(str(path))
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=30000)
    assert "no label column" in dialog_log.errors[0][1]
    qtbot.waitUntil(lambda: panel.evaluate_button.isEnabled(), timeout=30000)
