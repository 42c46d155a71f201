"""Issue 16, items 12-13 in the window: shortcuts listed, distinct mnemonics, one spelling,
tooltips in words, no jump when the model banner appears."""

from __future__ import annotations

import re

import pytest

from gui.main_window import MainWindow
from gui.panels.train import TOOLTIPS


@pytest.fixture
def window(qtbot, app_settings) -> MainWindow:
    widget = MainWindow(app_settings)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    return widget


def test_help_lists_ctrl_enter(window):
    assert "Ctrl+Enter" in window.shortcuts_text()


def test_menu_mnemonics_are_distinct(window):
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        keys = [m.group(1).lower() for action in menu.actions()
                if (m := re.search(r"&(\w)", action.text()))]
        assert len(keys) == len(set(keys)), (menu_action.text(), keys)


def test_the_model_banner_keeps_its_room_while_hidden(window):
    assert window.model_banner.sizePolicy().retainSizeWhenHidden()


def test_the_weight_average_tooltip_has_no_formula():
    tip = TOOLTIPS["ema_decay"]
    assert "/(" not in tip and "9/" not in tip and "average" in tip


def test_the_faithfulness_note_opens_with_one_plain_sentence():
    """Issue 16, item 12: the plain verdict first, the figures after it."""
    from types import SimpleNamespace

    from gui.panels.explain import faithfulness_note

    words = [SimpleNamespace(word=w) for w in ("awful", "room", "the")]
    e = SimpleNamespace(comprehensiveness=0.6, sufficiency=0.1, random_comprehensiveness=0.05,
                        target_class=0, faithfulness_class=None, predicted_class=0,
                        classes=["negative", "positive"], top_k=1, top_words=[0],
                        words=words)
    first, _, details = faithfulness_note(e).partition("\n")
    assert first.startswith("Faithfulness check:") and "60%" in first and "5%" in first
    assert "really drive the result" in first and "P(" not in first
    assert details.startswith("Details:")


def test_the_training_menu_offers_evaluate_on_a_file(window):
    """Issue 16, item 6: the window can score a model on a labelled file."""
    menu = next(a.menu() for a in window.menuBar().actions() if "Training" in a.text())
    texts = [action.text().replace("&", "") for action in menu.actions()]
    assert "Evaluate on a labelled file…" in texts
    results = window.panel("Results")
    assert not results.evaluate_action.isEnabled()  # no model yet
