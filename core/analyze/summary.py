"""What a whole corpus looks like to the model: class shares, per-file counts, the words that
pushed reviews each way most often, and the most and least certain reviews.

It is filled chunk by chunk and holds only counters (bounded by the vocabulary) and a few
example reviews, so its memory does not grow with the number of reviews.
"""

from __future__ import annotations

import heapq
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.text.function_words import is_content_word
from core.text.labels import LabelScheme

EXAMPLES = 5
TOP_WORDS = 30
SNIPPET = 240


def class_polarity(scheme: LabelScheme) -> np.ndarray:
    """+1 for classes that read as positive, -1 negative, 0 neutral or unknown.

    Two classes: the scheme's positive class against the other. Ordered ratings (three,
    five): below the middle is negative, above positive. Other categories count only when
    their names say positive or negative.
    """
    count = scheme.num_classes
    polarity = np.zeros(count, dtype=np.int64)
    if count == 2:
        positive = scheme.positive_index()
        polarity[:] = -1
        polarity[positive] = 1
    elif scheme.ordinal:
        middle = (count - 1) / 2
        polarity = np.sign(np.arange(count) - middle).astype(np.int64)
    else:
        positive, negative = scheme.positive_index(), scheme.negative_index()
        names = [name.lower() for name in scheme.classes]
        if names[positive] in {"pos", "positive", "good", "like"}:
            polarity[positive] = 1
        if names[negative] in {"neg", "negative", "bad", "dislike"} and negative != positive:
            polarity[negative] = -1
    return polarity


def snippet(text: str, limit: int = SNIPPET) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


@dataclass(order=True)
class _Example:
    key: float
    order: int
    data: dict[str, Any] = field(compare=False)


class _Extremes:
    """The ``n`` items with the largest key, in bounded memory (a min-heap)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.heap: list[_Example] = []

    def threshold(self) -> float:
        return self.heap[0].key if len(self.heap) >= self.n else -np.inf

    def offer(self, key: float, order: int, data: dict[str, Any]) -> None:
        item = _Example(key, -order, data)  # earlier reviews win ties
        if len(self.heap) < self.n:
            heapq.heappush(self.heap, item)
        elif item > self.heap[0]:
            heapq.heapreplace(self.heap, item)

    def best_first(self) -> list[dict[str, Any]]:
        return [item.data for item in sorted(self.heap, reverse=True)]


class CorpusSummary:
    """Accumulates predictions chunk by chunk; ``to_dict()`` gives the JSON document."""

    def __init__(self, classes: Sequence[str], scheme: LabelScheme | None = None,
                 examples: int = EXAMPLES, top: int = TOP_WORDS) -> None:
        self.classes = list(classes)
        self.polarity = (class_polarity(scheme) if scheme is not None
                         else np.zeros(len(self.classes), dtype=np.int64))
        self.top = top
        self.counts = np.zeros(len(self.classes), dtype=np.int64)
        self.probability_sums = np.zeros(len(self.classes), dtype=np.float64)
        self.files: dict[str, dict[str, Any]] = {}
        self.skipped = 0
        self.pushed = {"positive": Counter(), "negative": Counter()}
        self.toward_class: list[Counter[str]] = [Counter() for _ in self.classes]
        self.against_class: list[Counter[str]] = [Counter() for _ in self.classes]
        self.confident = _Extremes(examples)
        self.uncertain = _Extremes(examples)
        self.seen = 0

    @property
    def rows(self) -> int:
        return int(self.counts.sum())

    def _file(self, name: str) -> dict[str, Any]:
        entry = self.files.get(name)
        if entry is None:
            entry = {"reviews": 0, "skipped": 0, "counts": [0] * len(self.classes)}
            self.files[name] = entry
        return entry

    def add_skipped(self, file: str, count: int = 1) -> None:
        self.skipped += count
        self._file(file)["skipped"] += count

    def add_file_error(self, file: str) -> None:
        self._file(file).setdefault("errors", 0)
        self._file(file)["errors"] += 1

    def add(self, file: str, probabilities: np.ndarray, texts: Sequence[str],
            sources: Sequence[str], rows: Sequence[int], ids: Sequence[str] | None,
            toward: Sequence[Sequence[str]] | None = None,
            against: Sequence[Sequence[str]] | None = None) -> None:
        """One chunk of predictions from input ``file`` (a file or folder as given)."""
        if len(probabilities) == 0:
            return
        predicted = probabilities.argmax(1)
        chunk_counts = np.bincount(predicted, minlength=len(self.classes))
        self.counts += chunk_counts
        self.probability_sums += probabilities.sum(0)
        entry = self._file(file)
        entry["reviews"] += len(predicted)
        entry["counts"] = [a + int(b) for a, b in zip(entry["counts"], chunk_counts)]
        if toward is not None and against is not None:
            self._add_words(predicted, toward, against)
        self._add_examples(probabilities, predicted, texts, sources, rows, ids)
        self.seen += len(predicted)

    def _add_words(self, predicted: np.ndarray, toward: Sequence[Sequence[str]],
                   against: Sequence[Sequence[str]]) -> None:
        positive, negative = self.pushed["positive"], self.pushed["negative"]
        for index, words_for, words_against in zip(predicted.tolist(), toward, against):
            self.toward_class[index].update(words_for)
            self.against_class[index].update(words_against)
            sign = self.polarity[index]
            if sign > 0:
                positive.update(words_for)
                negative.update(words_against)
            elif sign < 0:
                negative.update(words_for)
                positive.update(words_against)

    def _add_examples(self, probabilities: np.ndarray, predicted: np.ndarray,
                      texts: Sequence[str], sources: Sequence[str], rows: Sequence[int],
                      ids: Sequence[str] | None) -> None:
        ordered = np.sort(probabilities, axis=1)
        confidence = ordered[:, -1]
        margin = confidence - ordered[:, -2] if probabilities.shape[1] > 1 else confidence
        # Only rows that could enter either list are turned into dictionaries.
        candidates = set(np.argsort(-confidence, kind="stable")[: self.confident.n].tolist())
        candidates |= set(np.argsort(margin, kind="stable")[: self.uncertain.n].tolist())
        for i in sorted(candidates):
            data = {
                "source": sources[i], "row": int(rows[i]),
                "id": ids[i] if ids is not None else None,
                "predicted": self.classes[int(predicted[i])],
                "confidence": round(float(confidence[i]), 6),
                "margin": round(float(margin[i]), 6),
                "probabilities": {name: round(float(p), 6)
                                  for name, p in zip(self.classes, probabilities[i])},
                "text": snippet(texts[i]),
            }
            self.confident.offer(float(confidence[i]), self.seen + i, data)
            self.uncertain.offer(-float(margin[i]), self.seen + i, data)

    def _share(self, counts: Sequence[int]) -> dict[str, dict[str, float]]:
        total = max(1, int(sum(counts)))
        return {name: {"count": int(c), "share": round(int(c) / total, 6)}
                for name, c in zip(self.classes, counts)}

    def to_dict(self, **run: Any) -> dict[str, Any]:
        """The summary document; ``run`` adds run facts (seconds, partial, paths, ...)."""
        rows = self.rows
        top = self.top
        document: dict[str, Any] = dict(run)
        document.update({
            "rows_read": rows,
            "rows_skipped": self.skipped,
            "classes": self._share(self.counts),
            "mean_probabilities": {name: round(float(s) / max(1, rows), 6)
                                   for name, s in zip(self.classes, self.probability_sums)},
            "files": {name: {"reviews": entry["reviews"], "skipped": entry["skipped"],
                             **({"errors": entry["errors"]} if "errors" in entry else {}),
                             "classes": self._share(entry["counts"])}
                      for name, entry in self.files.items()},
            "words": {
                # content words by default (no punctuation or "the"/"and"; negations stay);
                # the *_all lists keep every token, for the panel's "all words" switch
                "pushed_positive": _net(self.pushed["positive"], self.pushed["negative"], top,
                                        is_content_word),
                "pushed_negative": _net(self.pushed["negative"], self.pushed["positive"], top,
                                        is_content_word),
                "pushed_positive_all": _net(self.pushed["positive"], self.pushed["negative"],
                                            top),
                "pushed_negative_all": _net(self.pushed["negative"], self.pushed["positive"],
                                            top),
                "toward_class": {name: _common(counter, top)
                                 for name, counter in zip(self.classes, self.toward_class)},
                "against_class": {name: _common(counter, top)
                                  for name, counter in zip(self.classes, self.against_class)},
            },
            "most_confident": self.confident.best_first(),
            "most_uncertain": self.uncertain.best_first(),
        })
        return document


def _net(this: Counter[str], other: Counter[str], top: int,
         keep: Callable[[str], bool] | None = None) -> list[dict[str, Any]]:
    """Words that pushed this way in more reviews than the other way, most consistent first.

    Ranking by the plain count would crown "the" and "." (they are in almost every review and
    push either way); the net count (reviews pushed this way minus the other way) keeps the
    words whose direction is consistent, such as "great" or "refund".
    """
    rows = [(word, count, count - other.get(word, 0)) for word, count in this.items()
            if count > other.get(word, 0) and (keep is None or keep(word))]
    rows.sort(key=lambda item: (-item[2], -item[1], item[0]))
    return [{"word": word, "reviews": count, "net": net} for word, count, net in rows[:top]]


def _common(counter: Counter[str], top: int) -> list[list[Any]]:
    """[[word, count], ...], most frequent first (lists, as JSON gives them back)."""
    return [[word, count] for word, count in counter.most_common(top)]


def save_summary(document: dict[str, Any], path: str | Path) -> Path:
    """Write the JSON atomically, so a reader never sees half a summary."""
    target = Path(path)
    temp = target.with_name(f".{target.name}.tmp")
    try:
        # backslashreplace: a file name that is not UTF-8 must not fail the run
        temp.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8",
                        errors="backslashreplace")
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


def load_summary(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
