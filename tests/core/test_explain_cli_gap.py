"""The CLI says so when integrated gradients leave more than 1% of the change unexplained."""

from __future__ import annotations

from types import SimpleNamespace

from core.cli.explain import summary_lines


def explanation(gap: float) -> SimpleNamespace:
    return SimpleNamespace(comprehensiveness=None, sufficiency=None,
                           relative_completeness_gap=gap, baseline_probability=0.2,
                           target_name="positive", probabilities=[0.1, 0.9], target_class=1,
                           steps=50, path_pieces=1, seconds=0.2)


def test_a_large_completeness_gap_is_flagged():
    lines = summary_lines(explanation(0.28))
    assert any(line.startswith("Warning:") and "28.0%" in line for line in lines)


def test_a_small_completeness_gap_is_not_flagged():
    assert not any(line.startswith("Warning:") for line in summary_lines(explanation(0.004)))
