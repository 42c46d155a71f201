"""The Batch tab's engine and arithmetic choices: only what this computer does well, Ray with
its address, and how to install Ray where it is missing."""

from __future__ import annotations

import importlib.util

import pytest

import core.predict.batch_predictor as predictor_module
import resources
from gui.panels import batch as batch_module
from gui.panels.batch import BatchPanel


@pytest.fixture
def panel(qtbot) -> BatchPanel:
    widget = BatchPanel()
    qtbot.addWidget(widget)
    return widget


def choices(panel: BatchPanel) -> list[str]:
    combo = panel.precision_combo
    return [combo.itemData(i) for i in range(combo.count())]


@pytest.mark.parametrize("good", [("fp32", "int8"), ("fp32", "int8", "bf16")])
def test_arithmetic_lists_what_the_engine_says_runs_well(qtbot, monkeypatch, good):
    monkeypatch.setattr(predictor_module, "good_precisions", lambda device=None: good)
    widget = BatchPanel()
    qtbot.addWidget(widget)
    widget.show()  # bf16 is asked of the engine once the tab is shown
    assert choices(widget)[0] == "auto" and widget.options().precision == "auto"
    assert ("bf16" in choices(widget)) == ("bf16" in good)


def test_ray_engine_with_an_address_goes_into_the_options(panel, monkeypatch, tmp_path):
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "ray" else None)
    assert panel.options().engine == "local" and not panel.ray_address_edit.isEnabled()
    panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("ray"))
    assert panel.ray_address_edit.isEnabled() and not panel.engine_hint.isVisibleTo(panel)
    panel.ray_address_edit.setText(" head.example:6379 ")
    options = panel.options()
    assert options.engine == "ray" and options.ray_address == "head.example:6379"
    panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("local"))
    assert panel.options().ray_address is None


def test_without_ray_the_choice_says_how_to_install_it(panel, monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ray" else real(name, *a))
    panel.add_inputs([resources.SAMPLE_REVIEWS])
    panel.set_output(tmp_path / "out.csv")
    panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("ray"))
    assert panel.engine_hint.isVisibleTo(panel)
    assert 'pip install -e ".[cluster]"' in panel.engine_hint.text()
    assert not panel.run_button.isEnabled()
    panel.bundle = object()  # a model is there: Ray is what is missing
    assert panel.missing() == batch_module.RAY_INSTALL_HINT
