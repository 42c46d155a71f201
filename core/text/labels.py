"""Label schemes: how raw labels in a file (words or star ratings) become class ids.

A scheme is plain data saved with the model, so a bundle maps labels exactly as in training.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import ReviewDataError

KINDS = ("categorical", "binary", "three", "five")
_POSITIVE_NAMES = {"pos", "positive", "1", "good", "yes", "true", "like", "recommended"}
_NEGATIVE_NAMES = {"neg", "negative", "0", "bad", "no", "false", "dislike", "not recommended"}


def parse_number(raw: str) -> float | None:
    """A rating such as "4", "4.0" or "4/5" as a number, else None."""
    text = str(raw).strip()
    if "/" in text:
        text = text.split("/", 1)[0].strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass
class LabelScheme:
    """Maps raw labels to class ids.

    ``categorical``: each distinct raw label is a class (``classes`` lists them).
    ``binary`` / ``three`` / ``five``: raw labels are numeric ratings; class ``i`` takes the
    values in the inclusive range ``bins[i]``; values in no bin are left out of training
    (e.g. 3 stars in a 1-2 vs 4-5 binary split) and counted.
    """

    kind: str
    classes: list[str]
    bins: list[tuple[float, float]] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def ordinal(self) -> bool:
        """Whether class ids are ordered (so mean absolute error means something)."""
        return self.kind in ("three", "five")

    def encode(self, raw: str | None) -> int | None:
        """Class id of one raw label, or None when it falls outside every class."""
        if raw is None:
            return None
        if self.kind == "categorical":
            text = str(raw).strip()
            try:
                return self.classes.index(text)
            except ValueError:
                return None
        value = parse_number(raw)
        if value is None:
            return None
        for index, (low, high) in enumerate(self.bins):
            if low <= value <= high:
                return index
        return None

    def encode_all(self, raws: Sequence[str | None]) -> list[int | None]:
        return [self.encode(raw) for raw in raws]

    def positive_index(self) -> int:
        """The class that reads as 'positive' (for colours): a named one, else the last."""
        for index, name in enumerate(self.classes):
            if name.lower() in _POSITIVE_NAMES:
                return index
        return self.num_classes - 1

    def negative_index(self) -> int:
        for index, name in enumerate(self.classes):
            if name.lower() in _NEGATIVE_NAMES:
                return index
        return 0

    def describe(self) -> str:
        if self.kind == "categorical":
            return "as is: " + ", ".join(self.classes)
        parts = []
        for name, (low, high) in zip(self.classes, self.bins):
            if math.isinf(low):
                parts.append(f"{name} <= {_fmt(high)}")
            elif math.isinf(high):
                parts.append(f"{name} >= {_fmt(low)}")
            else:  # bounds nudged by a hair are exclusive: 2.000000001 means "above 2"
                low_at, high_at = round(low, 6), round(high, 6)
                above = f"> {_fmt(low_at)}" if low_at < low else f">= {_fmt(low)}"
                below = f"< {_fmt(high_at)}" if high_at > high else f"<= {_fmt(high)}"
                parts.append(f"{name} {above} and {below}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "classes": list(self.classes),
                "bins": [[_to_json(low), _to_json(high)] for low, high in self.bins]}

    @classmethod
    def from_dict(cls, data: Any) -> "LabelScheme":
        try:
            kind = data["kind"]
            classes = [str(c) for c in data["classes"]]
            bins = [(_from_json(low, -math.inf), _from_json(high, math.inf))
                    for low, high in data.get("bins", [])]
        except (KeyError, TypeError, ValueError) as error:
            raise ReviewDataError(f"The label scheme is malformed ({error}).") from None
        return cls(kind=kind, classes=classes, bins=bins).validated()

    def validated(self) -> "LabelScheme":
        if self.kind not in KINDS:
            raise ReviewDataError(f"Unknown label scheme '{self.kind}'.")
        if len(self.classes) < 2:
            raise ReviewDataError("A label scheme needs at least two classes.")
        if len(set(self.classes)) != len(self.classes):
            raise ReviewDataError("Class names in a label scheme must be different.")
        if self.kind != "categorical":
            if len(self.bins) != len(self.classes):
                raise ReviewDataError("Each class of a rating scheme needs one range.")
            for (low, high), name in zip(self.bins, self.classes):
                if low > high:
                    raise ReviewDataError(f"Class '{name}': range {low}-{high} is empty.")
            ordered = sorted(self.bins)
            for (_, high), (low, _) in zip(ordered, ordered[1:]):
                if low <= high:
                    raise ReviewDataError("Rating ranges must not overlap; check the cut points.")
        return self


def _to_json(value: float) -> float | None:
    """Infinite bounds as null: strict JSON has no Infinity."""
    return None if math.isinf(value) else value


def _from_json(value: Any, missing: float) -> float:
    return missing if value is None else float(value)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def rating_range(raws: Iterable[str | None]) -> tuple[float, float] | None:
    """(min, max) if every non-empty label is a number, else None."""
    values = [parse_number(r) for r in raws if r is not None and str(r).strip()]
    if not values or any(v is None for v in values):
        return None
    return min(values), max(values)  # type: ignore[type-var]


def looks_like_stars(raws: Sequence[str | None]) -> bool:
    """Numeric labels on a 1-5 or 1-10 (or 0-10) scale with more than two values."""
    bounds = rating_range(raws)
    if bounds is None:
        return False
    low, high = bounds
    distinct = {parse_number(r) for r in raws if r is not None and str(r).strip()}
    return low >= 0 and high <= 10 and high >= 4 and len(distinct) > 2


def star_scale(raws: Sequence[str | None]) -> int:
    """5 or 10: the top of the rating scale the labels use."""
    bounds = rating_range(raws)
    return 10 if bounds and bounds[1] > 5 else 5


def binary_scheme(negative_max: float, positive_min: float) -> LabelScheme:
    """Ratings <= negative_max are negative, >= positive_min positive, between left out."""
    return LabelScheme("binary", ["negative", "positive"],
                       [(-math.inf, negative_max), (positive_min, math.inf)]).validated()


def three_class_scheme(negative_max: float, positive_min: float) -> LabelScheme:
    """Ratings <= negative_max negative, >= positive_min positive, the rest neutral."""
    if positive_min <= negative_max:
        raise ReviewDataError("The positive cut point must be above the negative one.")
    eps = 1e-9
    return LabelScheme("three", ["negative", "neutral", "positive"],
                       [(-math.inf, negative_max), (negative_max + eps, positive_min - eps),
                        (positive_min, math.inf)]).validated()


def five_class_scheme(scale: int = 5, cuts: Sequence[float] | None = None) -> LabelScheme:
    """Five star classes; on a 1-10 scale two points make one star unless cuts are given.

    ``cuts`` are the four upper bounds of classes 1-4 (e.g. [1, 2, 3, 4] on 1-5 stars).
    """
    if cuts is None:
        cuts = [1.5, 2.5, 3.5, 4.5] if scale == 5 else [2.5, 4.5, 6.5, 8.5]
    cuts = list(cuts)
    if len(cuts) != 4 or sorted(cuts) != cuts:
        raise ReviewDataError("Five classes need four increasing cut points.")
    eps = 1e-9
    lows = [-math.inf] + [c + eps for c in cuts]
    highs = cuts + [math.inf]
    names = ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"]
    return LabelScheme("five", names, list(zip(lows, highs))).validated()


def default_cut_points(scale: int) -> tuple[float, float]:
    """Negative max and positive min: 2 / 4 on 1-5 stars, 4 / 7 on 1-10 (as IMDB)."""
    return (2.0, 4.0) if scale == 5 else (4.0, 7.0)


def categorical_scheme(raws: Sequence[str | None]) -> LabelScheme:
    """Every distinct label is a class, in a stable natural order (numbers numerically)."""
    distinct = {str(r).strip() for r in raws if r is not None and str(r).strip()}
    if len(distinct) < 2:
        found = ", ".join(sorted(distinct)) or "none"
        raise ReviewDataError(
            f"Training needs at least two classes; the label column has {found}. "
            "Pick another label column or file."
        )

    def key(name: str) -> tuple[int, float, str]:
        number = parse_number(name)
        return (0, number, name) if number is not None else (1, 0.0, name)

    return LabelScheme("categorical", sorted(distinct, key=key)).validated()


def make_scheme(kind: str, raws: Sequence[str | None],
                cut_points: Sequence[float] | None = None) -> LabelScheme:
    """The scheme a user picked by name, with cut points defaulted from the rating scale."""
    if kind == "auto":
        kind = "binary" if looks_like_stars(raws) else "categorical"
    if kind == "categorical":
        return categorical_scheme(raws)
    if rating_range(raws) is None:
        raise ReviewDataError(
            f"The '{kind}' scheme needs numeric ratings, but some labels are not numbers. "
            "Use 'as is' (categorical) instead."
        )
    scale = star_scale(raws)
    if kind == "five":
        return five_class_scheme(scale, cut_points)
    negative_max, positive_min = cut_points or default_cut_points(scale)
    if kind == "binary":
        return binary_scheme(negative_max, positive_min)
    if kind == "three":
        return three_class_scheme(negative_max, positive_min)
    raise ReviewDataError(f"Unknown label scheme '{kind}'; use {', '.join(KINDS)} or auto.")


def class_counts(scheme: LabelScheme, raws: Sequence[str | None]) -> tuple[list[int], int]:
    """Reviews per class and how many labels fall in no class."""
    counts = Counter(scheme.encode_all(raws))
    left_out = counts.pop(None, 0)
    return [counts.get(i, 0) for i in range(scheme.num_classes)], left_out
