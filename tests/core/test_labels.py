import math

import pytest

from core.errors import ReviewDataError
from core.text.labels import LabelScheme, class_counts, looks_like_stars, make_scheme


def test_categorical_keeps_labels_in_natural_order():
    scheme = make_scheme("categorical", ["pos", "neg", "pos", "neutral"])
    assert scheme.classes == ["neg", "neutral", "pos"]
    assert scheme.encode("pos") == 2
    assert scheme.encode("other") is None


def test_numeric_categorical_sorts_numerically():
    scheme = make_scheme("categorical", ["10", "2", "1"])
    assert scheme.classes == ["1", "2", "10"]


def test_binary_five_star_defaults_leave_three_out():
    scheme = make_scheme("binary", ["1", "2", "3", "4", "5"])
    assert [scheme.encode(s) for s in ["1", "2", "3", "4", "5"]] == [0, 0, None, 1, 1]


def test_binary_imdb_scale_uses_four_and_seven():
    scheme = make_scheme("binary", [str(r) for r in [1, 2, 3, 4, 7, 8, 9, 10]])
    assert scheme.encode("4") == 0 and scheme.encode("7") == 1
    assert scheme.encode("5") is None and scheme.encode("6") is None


def test_three_class_with_edited_cut_points():
    scheme = make_scheme("three", ["1", "2", "3", "4", "5"], cut_points=[1, 5])
    assert [scheme.encode(s) for s in ["1", "2", "3", "4", "5"]] == [0, 1, 1, 1, 2]
    assert scheme.ordinal


def test_five_class_on_five_stars_and_ten_point_scale():
    five = make_scheme("five", ["1", "2", "3", "4", "5"])
    assert [five.encode(s) for s in ["1", "2", "3", "4", "5"]] == [0, 1, 2, 3, 4]
    ten = make_scheme("five", [str(r) for r in range(1, 11)])
    assert [ten.encode(str(r)) for r in range(1, 11)] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_auto_picks_binary_for_stars_and_categorical_for_words():
    assert make_scheme("auto", ["1", "3", "5", "4"]).kind == "binary"
    assert make_scheme("auto", ["pos", "neg"]).kind == "categorical"


def test_rating_scheme_refuses_words():
    with pytest.raises(ReviewDataError, match="numeric"):
        make_scheme("binary", ["pos", "neg"])


def test_single_class_is_refused_with_the_value_named():
    with pytest.raises(ReviewDataError, match="pos"):
        make_scheme("categorical", ["pos", "pos"])


def test_scheme_round_trips_through_strict_json():
    import json

    scheme = make_scheme("three", ["1", "2", "3", "4", "5"])
    text = json.dumps(scheme.to_dict(), allow_nan=False)
    again = LabelScheme.from_dict(json.loads(text))
    assert again == scheme
    assert math.isinf(again.bins[0][0])


def test_overlapping_ranges_are_refused():
    with pytest.raises(ReviewDataError, match="overlap"):
        LabelScheme("binary", ["a", "b"], [(0, 3), (2, 5)]).validated()


def test_class_counts_and_star_detection():
    raws = ["1", "2", "3", "5", "5"]
    counts, left_out = class_counts(make_scheme("binary", raws), raws)
    assert counts == [2, 2] and left_out == 1
    assert looks_like_stars(raws)
    assert not looks_like_stars(["0", "1", "1"])


def test_positive_index_finds_named_class():
    assert make_scheme("categorical", ["pos", "neg"]).positive_index() == 1
    assert make_scheme("categorical", ["positive", "negative"]).positive_index() == 1
