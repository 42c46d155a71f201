"""Guess which columns of a review table hold the text, the label, the split and the id.

A guess only fills the data panel's drop-downs so most files open with no clicks; the
user can always override it. It looks at names first and at the first rows second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.io.formats import clean_label

TEXT_NAMES = ("text", "review", "review_text", "reviewtext", "sentence", "content", "comment",
              "body", "message", "tweet", "document", "review_body")
LABEL_NAMES = ("label", "labels", "sentiment", "polarity", "class", "target", "rating",
               "stars", "star_rating", "star", "score", "overall", "y")
SPLIT_NAMES = ("split", "set", "fold", "subset", "partition")
SPLIT_VALUES = frozenset({"train", "training", "test", "testing", "dev", "val", "valid",
                          "validation", "eval", "evaluation", "holdout"})
ID_NAMES = ("id", "review_id", "reviewid", "doc_id", "docid", "uid", "uuid", "index", "idx")
MAX_LABEL_VALUES = 20
SHORT_TEXT = 20  # average characters below which a column is not clearly free text


@dataclass(frozen=True)
class ColumnGuess:
    """The column chosen for each role (None: the file has no such column)."""

    text: str
    label: str | None
    split: str | None
    id: str | None


def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _hint_rank(name: str, hints: Sequence[str]) -> int | None:
    norm = _norm(name)
    return hints.index(norm) if norm in hints else None


def guess_columns(columns: Sequence[str], rows: Sequence[Sequence[str]],
                  fixed: Mapping[str, str | None] | None = None) -> ColumnGuess:
    """Pick columns for text/label/split/id from names and sample ``rows`` (strings).

    Roles in ``fixed`` (keys 'text', 'label', 'split', 'id') are taken as given and their
    columns are not offered to the other roles.
    """
    fixed = dict(fixed or {})
    cells = {name: [row[i] if i < len(row) else "" for row in rows]
             for i, name in enumerate(columns)}
    used = {value for value in fixed.values() if value}

    def free() -> list[str]:
        return [name for name in columns if name not in used]

    def decide(role: str, pick) -> str | None:
        choice = fixed[role] if role in fixed else pick(free(), cells)
        if choice:
            used.add(choice)
        return choice

    id_col = decide("id", _guess_id)
    split = decide("split", _guess_split)
    text = decide("text", _guess_text) or (columns[0] if columns else "text")
    label = decide("label", _guess_label)
    return ColumnGuess(text=text, label=label, split=split, id=id_col)


def _guess_id(names: Sequence[str], cells: Mapping[str, list[str]]) -> str | None:
    ranked = sorted((r, n) for n in names if (r := _hint_rank(n, ID_NAMES)) is not None)
    for _, name in ranked:
        values = [v.strip() for v in cells[name]]
        if all(values) and len(set(values)) == len(values):
            return name
    return None


def _guess_split(names: Sequence[str], cells: Mapping[str, list[str]]) -> str | None:
    for name in names:
        if _hint_rank(name, SPLIT_NAMES) is None:
            continue
        values = {v.strip().lower() for v in cells[name]} - {""}
        if values and values <= SPLIT_VALUES:
            return name
    return None


def _average_length(values: Sequence[str]) -> float:
    return sum(len(v) for v in values) / len(values) if values else 0.0


def _guess_text(names: Sequence[str], cells: Mapping[str, list[str]]) -> str | None:
    """The longest free text on average; a text-like name wins if it is at least half as
    long, or if nothing in the sample is long enough to call free text."""
    if not names:
        return None
    lengths = {name: _average_length(cells[name]) for name in names}
    longest = max(names, key=lambda n: lengths[n])
    hinted = sorted((r, n) for n in names if (r := _hint_rank(n, TEXT_NAMES)) is not None)
    for _, name in hinted:
        if lengths[name] >= 0.5 * lengths[longest] or lengths[longest] < SHORT_TEXT:
            return name
    return longest


def _is_scale(values: set[str]) -> bool:
    """Star ratings: whole numbers from 0 to 10."""
    return all(v.lstrip("+-").isdigit() and 0 <= int(v) <= 10 for v in values)


def _guess_label(names: Sequence[str], cells: Mapping[str, list[str]]) -> str | None:
    """A labelled name with few values wins; else a 0-10 scale; else the fewest values."""
    best: tuple | None = None
    for position, name in enumerate(names):
        values = [clean_label(v) for v in cells[name]]
        values = [v for v in values if v]
        distinct = set(values)
        if not values or len(distinct) > MAX_LABEL_VALUES or _average_length(values) > 30:
            continue
        rank = _hint_rank(name, LABEL_NAMES)
        scale = _is_scale(distinct)
        few = len(distinct) * 2 <= len(values)
        if rank is None and (len(distinct) < 2 or not (scale or few)):
            continue
        key = (rank if rank is not None else len(LABEL_NAMES), not scale, len(distinct),
               position)
        if best is None or key < best[0]:
            best = (key, name)
    return best[1] if best else None
