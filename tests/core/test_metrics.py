"""Accuracy comes with a 95% interval that reflects how many reviews were scored."""

from __future__ import annotations

import pytest

from core.metrics import (
    accuracy_interval,
    compute_metrics,
    format_accuracy,
    format_metrics,
    wilson_interval,
)


def test_wilson_interval_matches_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 -> 0.2553-0.3662.
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)


def test_a_perfect_score_on_few_reviews_keeps_a_wide_interval() -> None:
    low, high = wilson_interval(38, 38)
    assert high == pytest.approx(1.0) and 0.90 < low < 0.92
    assert wilson_interval(380, 380)[0] > 0.989  # ten times the reviews: far narrower


def test_the_interval_narrows_with_more_reviews() -> None:
    small = wilson_interval(9, 10)
    large = wilson_interval(900, 1000)
    assert small[1] - small[0] > 3 * (large[1] - large[0])
    assert small[0] < 0.9 < small[1] and large[0] < 0.9 < large[1]


def test_no_reviews_gives_the_whole_range() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_metrics_carry_the_interval_and_the_report_prints_it() -> None:
    metrics = compute_metrics([0, 1, 1, 0], [0, 1, 0, 0], ["negative", "positive"])
    low, high = metrics["accuracy_interval"]
    assert low < metrics["accuracy"] < high
    assert f"95% interval {low:.4f}-{high:.4f}" in format_metrics(metrics)


def test_metrics_saved_before_the_interval_get_one_from_accuracy_and_count() -> None:
    old = {"accuracy": 0.75, "count": 4}
    assert accuracy_interval(old) == pytest.approx(wilson_interval(3, 4))


def test_format_accuracy_names_the_interval_and_the_review_count() -> None:
    text = format_accuracy({"accuracy": 91 / 96, "count": 96})
    assert text == "94.8% (95% interval 88.4-97.8%, 96 reviews)"
