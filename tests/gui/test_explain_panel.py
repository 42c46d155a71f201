"""Explain panel: a review in, coloured words, bars, trajectory and notes out, off the UI thread."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QTextCursor

from core.bundle import ModelBundle
from core.config import TrainConfig
from core.explain import Explainer
from core.io.table import ReviewTable
from core.model.batch_input import pad_batch
from core.model.classifier import RecurrentClassifier
from core.text.labels import make_scheme
from core.training.dataset import prepare_data, tokenizer_settings
from gui.panels.explain import PREDICTED, ExplainPanel, class_colors, faithfulness_note
from gui.widgets.word_view import AWAY_COLOR, TOWARD_COLOR, score_color

NEGATED = "the room was not good"


def small_bundle(labels: tuple[str, ...] = ("neg", "pos"), max_length: int = 400) -> ModelBundle:
    """'X was good' pos, 'X was not good' / 'X was bad' neg (a third class: 'X was fine')."""
    torch.set_num_threads(1)
    rng = random.Random(0)
    texts, out = [], []
    for _ in range(300):
        kind = rng.choice(["good", "bad", "notgood", "fine"][: 3 + (len(labels) > 2)])
        subject = rng.choice(["the room", "the staff", "the food", "the view", "the bed"])
        adjective = {"good": rng.choice(["good", "great", "clean"]),
                     "notgood": f"not {rng.choice(['good', 'great', 'clean'])}",
                     "bad": rng.choice(["bad", "dirty", "rude"]), "fine": "fine"}[kind]
        texts.append(f"{subject} was {adjective}")
        out.append({"good": labels[-1], "fine": labels[1], "bad": labels[0],
                    "notgood": labels[0]}[kind])
    table = ReviewTable(texts=texts, labels=out, rows=list(range(len(texts))))
    config = TrainConfig(embedding_dim=12, hidden_size=12, dropout=0.0, min_count=1,
                         test_share=0.0, max_length=max_length)
    scheme = make_scheme("categorical", out)
    data = prepare_data(table, config, scheme)
    torch.manual_seed(0)
    model = RecurrentClassifier.from_config(config, len(data.vocab), scheme.num_classes)
    ids, lengths = pad_batch(data.train.ids)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(40):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(ids, lengths),
                                          torch.from_numpy(data.train.labels)).backward()
        optimizer.step()
    model.eval()
    return ModelBundle(config, scheme, tokenizer_settings(config), data.vocab, model)


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    return small_bundle()


@pytest.fixture
def panel(qtbot, bundle):
    widget = ExplainPanel()
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.set_bundle(bundle)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def explain_and_wait(qtbot, panel: ExplainPanel, text: str | None = None):
    with qtbot.waitSignal(panel.explained, timeout=30000) as blocker:
        if text is None:
            panel.explain()
        else:
            panel.explain_text(text)
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)
    return blocker.args[0]


def word_point(panel: ExplainPanel, index: int):
    view = panel.word_view
    cursor = QTextCursor(view.document())
    cursor.setPosition(view._starts[index] + 1)
    return view.cursorRect(cursor).center()


def test_explaining_colours_every_shown_word(qtbot, panel):
    explanation = explain_and_wait(qtbot, panel, NEGATED)
    assert panel.word_view.word_count() == 5 == len(explanation.words)
    assert "Predicted: <b>neg</b>" in panel.prediction_label.text()
    # Default: the predicted class, so orange reads "supports the verdict".
    assert panel.class_combo.currentData() == PREDICTED
    assert explanation.target_name == "neg" == explanation.predicted_name
    assert panel.legend.labels() == ("away from neg", "toward neg")
    strongest_toward = explanation.ranked(True, 1)[0]
    assert explanation.words[strongest_toward].word == "not"
    assert panel.bar_chart.labels()[0] == "not"  # the strongest push toward sits on top
    assert "Faithfulness" in panel.notes_label.text()


def test_phrase_layer_brackets_lists_and_explains_phrases(qtbot, panel):
    explanation = explain_and_wait(qtbot, panel, NEGATED)
    assert explanation.phrases, "the tiny model reads 'not good' as a unit"
    shown = panel.word_view.phrases()
    assert shown == [(p.word_start, p.word_end, p.score) for p in explanation.phrases]
    first = explanation.phrases[0]
    inside = first.word_start
    assert panel.word_view.phrase_at(inside) == 0
    assert "phrase \u201c" + " ".join(first.words) in panel.word_view.tooltip_for(inside)
    listed = panel.phrase_list.texts()
    assert any(" ".join(first.words) in row for row in listed)
    strongest = max(explanation.phrases, key=lambda p: p.score)
    if strongest.score > 0:  # toward the class first, like the word bars
        assert " ".join(strongest.words) in listed[0]
    if explanation.flip:
        assert f"Phrase: {explanation.flip}." in panel.notes_label.text()
    # The bracket is painted under the words: the pixels there take the phrase's colour.
    image = panel.word_view.viewport().grab().toImage()
    rect = panel.word_view.word_rect(inside)
    colour = (TOWARD_COLOR if first.score > 0 else AWAY_COLOR).darker(135)
    row = [QColor(image.pixel(x, rect.bottom() + 3)) for x in range(rect.left(), rect.right())]
    assert any(abs(c.red() - colour.red()) + abs(c.blue() - colour.blue()) < 40 for c in row)


def test_class_box_follows_the_prediction_until_the_user_picks(qtbot, panel):
    explanation = explain_and_wait(qtbot, panel, "the view was great")
    assert explanation.predicted_name == "pos" and explanation.target_name == "pos"
    explanation = explain_and_wait(qtbot, panel, NEGATED)
    assert explanation.target_name == "neg"
    with qtbot.waitSignal(panel.explained, timeout=30000) as blocker:
        panel.set_target("pos")
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)
    assert blocker.args[0].target_name == "pos"
    assert panel.legend.labels() == ("away from pos", "toward pos")


def test_work_runs_off_the_ui_thread(qtbot, panel, monkeypatch):
    threads = []
    original = Explainer.explain

    def recording(self, *args, **kwargs):
        threads.append(threading.current_thread())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Explainer, "explain", recording)
    explain_and_wait(qtbot, panel, NEGATED)
    assert threads and threads[0] is not threading.main_thread()


def test_ctrl_enter_explains_the_typed_text(qtbot, panel):
    panel.text_edit.setPlainText("the staff was rude")
    with qtbot.waitSignal(panel.explained, timeout=30000) as blocker:
        qtbot.keyClick(panel.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)
    assert [w.word for w in blocker.args[0].words] == ["the", "staff", "was", "rude"]


def test_hovering_a_word_gives_its_exact_score(qtbot, panel):
    explanation = explain_and_wait(qtbot, panel, NEGATED)
    point = word_point(panel, 3)
    assert panel.word_view.word_at(point) == 3
    tip = panel.word_view.tooltip_for(3)
    assert f"{explanation.words[3].score:+.4f}" in tip and "toward neg" in tip
    with qtbot.waitSignal(panel.word_view.word_hovered) as hovered:
        qtbot.mouseMove(panel.word_view.viewport(), point)
    assert hovered.args == [3]


def test_hovering_the_trajectory_highlights_the_word(qtbot, panel):
    explain_and_wait(qtbot, panel, NEGATED)
    plot = panel.trajectory_plot
    scene_point = plot.getPlotItem().vb.mapViewToScene(QPointF(4.1, 0.5))
    plot.scene().sigMouseMoved.emit(scene_point)
    assert panel.word_view.highlighted_word() == 3
    assert "word 4" in plot.describe(3) and "not" in plot.describe(3)
    plot.scene().sigMouseMoved.emit(QPointF(-50, -50))
    assert panel.word_view.highlighted_word() == -1


def test_method_and_class_switches_explain_again(qtbot, panel):
    explain_and_wait(qtbot, panel, NEGATED)
    with qtbot.waitSignal(panel.explained, timeout=30000) as blocker:
        panel.set_method("occlusion")
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)
    assert blocker.args[0].method == "occlusion"
    with qtbot.waitSignal(panel.explained, timeout=30000) as blocker:
        panel.set_target("neg")
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)
    explanation = blocker.args[0]
    assert explanation.target_name == "neg" and explanation.method == "occlusion"
    assert panel.legend.labels() == ("away from neg", "toward neg")
    assert "Occlusion" in panel.notes_label.text()


def test_a_request_during_a_run_replaces_the_queued_one(qtbot, panel):
    panel.explain_text("the bed was clean")
    panel.explain_text("the view was not great")
    qtbot.waitUntil(lambda: panel.explanation is not None and not panel.running,
                    timeout=30000)
    assert panel.explanation.text == "the view was not great"


def test_without_a_model_nothing_runs(qtbot):
    widget = ExplainPanel()
    qtbot.addWidget(widget)
    widget.text_edit.setPlainText("anything")
    assert not widget.explain_button.isEnabled()
    with qtbot.waitSignal(widget.status_message) as message:
        widget.explain()
    assert "model" in message.args[0]
    assert not widget.running


def test_words_beyond_the_length_limit_show_as_not_read(qtbot):
    widget = ExplainPanel()
    qtbot.addWidget(widget)
    widget.set_bundle(small_bundle(max_length=8))
    text = " ".join(["the room was good"] * 5)
    explanation = explain_and_wait(qtbot, widget, text)
    assert widget.word_view.word_count() == 20
    unread = [i for i, w in enumerate(explanation.words) if not w.read]
    assert len(unread) == 12 and "not read" in widget.word_view.tooltip_for(unread[0])
    assert "were not read" in widget.notes_label.text()
    assert widget.trajectory_plot.unread_runs() == [(3, 14)]  # shaded, the lines break there
    widget.shutdown()


def test_three_classes_explain_the_predicted_class_by_default(qtbot):
    widget = ExplainPanel()
    qtbot.addWidget(widget)
    widget.set_bundle(small_bundle(("bad", "fine", "good")))
    assert widget.class_combo.currentData() == PREDICTED
    explanation = explain_and_wait(qtbot, widget, "the food was fine")
    assert explanation.target_class == explanation.predicted_class
    assert len(widget.trajectory_plot.listDataItems()) == 3
    widget.shutdown()


def test_new_model_clears_the_old_explanation(qtbot, panel, bundle):
    explain_and_wait(qtbot, panel, NEGATED)
    panel.set_bundle(bundle)
    assert panel.explanation is None and panel.word_view.word_count() == 0


def test_a_result_from_the_previous_model_is_dropped(qtbot, panel, bundle):
    panel.explain_text(NEGATED)
    assert panel.running
    panel.set_bundle(bundle)  # same classes, but another model as far as the panel knows
    qtbot.waitUntil(lambda: not panel.running, timeout=30000)
    assert panel.explanation is None and panel.word_view.word_count() == 0


def test_colour_scale_runs_blue_white_orange():
    assert score_color(0.0, 1.0).name() == "#ffffff"
    assert score_color(1.0, 1.0) == TOWARD_COLOR and score_color(-2.0, 1.0) == AWAY_COLOR
    weak, strong = score_color(0.1, 1.0), score_color(0.5, 1.0)
    assert 255 > weak.blue() > strong.blue()
    dark = QColor("#202124")  # a dark theme: weak words stay dark instead of glowing white
    assert score_color(0.0, 1.0, dark) == dark and score_color(1.0, 1.0, dark) == TOWARD_COLOR
    assert score_color(0.05, 1.0, dark).lightness() < 128


def test_class_colours_match_the_word_colours(bundle, qtbot):
    widget = ExplainPanel()
    qtbot.addWidget(widget)
    colors = class_colors(bundle.scheme, widget.palette())
    negative, positive = colors[0], colors[1]
    assert positive.red() > positive.blue() and negative.blue() > negative.red()


def test_faithfulness_note_reads_as_plain_words(bundle):
    explanation = Explainer(bundle).explain("the room was not good and the bed was dirty",
                                            target="neg")
    note = faithfulness_note(explanation)
    assert "hiding the word that pushes hardest toward neg, the predicted class" in note
    assert "hiding 1 random word" in note
    assert np.isfinite(explanation.comprehensiveness)


def test_the_trajectory_counts_words_in_whole_numbers(qtbot):
    from gui.widgets.explain_plots import TrajectoryPlot

    plot = TrajectoryPlot()
    qtbot.addWidget(plot)
    values = np.array([[0.4, 0.6], [0.7, 0.3], [0.2, 0.8]])
    plot.set_trajectory(values, ["negative", "positive"], [QColor("blue"), QColor("red")],
                        ["not", "bad", "at"])
    axis = plot.getAxis("bottom")
    ticks = [v for _, level in axis.tickValues(0.5, 3.5, 400) for v in level]
    assert ticks and all(float(v).is_integer() for v in ticks)


def test_empty_explanation_charts_say_what_will_appear_instead_of_bare_axes(qtbot):
    import pyqtgraph as pg

    from gui.widgets.explain_plots import StrongestWordsChart, TrajectoryPlot

    for chart in (StrongestWordsChart(), TrajectoryPlot()):
        qtbot.addWidget(chart)
        notes = [item for item in chart.getPlotItem().items if isinstance(item, pg.TextItem)]
        assert notes and "will appear here" in notes[0].toPlainText()
        assert not chart.getAxis("bottom").style["showValues"]
