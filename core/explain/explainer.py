"""One review in, one Explanation out: per-word scores, trajectory and faithfulness figures.

The Explainer needs only a ModelBundle and a text (never the trainer): it tokenizes, encodes and
truncates exactly as training did, explains the model input, and maps every score back onto the
words of the original text.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.bundle import ModelBundle
from core.errors import ReviewDataError
from core.explain.attribution import class_probabilities, gradient_x_input, occlusion
from core.explain.faithfulness import Faithfulness, faithfulness
from core.explain.integrated import integrated_gradients, relative_gap
from core.explain.phrases import PhraseAnalysis, analyse_phrases, flip_sentence
from core.explain.trajectory import MAX_POINTS, trajectory
from core.explain.words import Alignment, align
from core.text.tokenizer import Tokenizer

METHODS: dict[str, str] = {
    "ig": "Integrated gradients",
    "occlusion": "Occlusion",
    "grad_input": "Gradient \u00d7 input",
}
"""Method key -> name shown to users."""

UNITS: dict[str, str] = {
    "ig": "probability points",
    "occlusion": "probability points",
    "grad_input": "log-odds (relative)",
}


@dataclass
class WordScore:
    """One word of the original text; ``score`` is None when the model did not read it."""

    word: str
    start: int
    end: int
    score: float | None
    read: bool

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.word, "start": self.start, "end": self.end,
                "score": self.score, "read": self.read}


@dataclass
class Phrase:
    """Consecutive words scored as one unit by contextual decomposition (log-odds units).

    ``interaction``: the phrase's score minus the sum of its words' own scores, i.e. what the
    words do together ("not" + "bad" alone: negative; "not bad": positive).
    """

    words: list[str]
    start: int  # character span in the original text
    end: int
    word_start: int  # word indices word_start .. word_end - 1
    word_end: int
    score: float
    interaction: float

    def to_dict(self) -> dict[str, Any]:
        return {"words": list(self.words), "start": self.start, "end": self.end,
                "word_start": self.word_start, "word_end": self.word_end,
                "score": self.score, "interaction": self.interaction}


@dataclass
class Explanation:
    """Why the model gave this review its probabilities, word by word.

    Scores are contributions toward ``target_class``: positive raises its probability, negative
    lowers it (pushes toward the other classes). For ``ig`` and ``occlusion`` they are in
    probability points; ``ig`` scores add up to P(target) - P(target | all <pad>) up to
    ``completeness_gap``.
    """

    text: str
    classes: list[str]
    words: list[WordScore]
    target_class: int
    predicted_class: int
    probabilities: np.ndarray  # [C]
    method: str
    trajectory: np.ndarray  # [n_words, C], NaN where not computed
    completeness_gap: float | None = None
    baseline_probability: float | None = None
    steps: int | None = None  # IG gradient evaluations spent
    path_pieces: int | None = None  # 1: plain rule; more: the path was cut where f jumps
    comprehensiveness: float | None = None
    sufficiency: float | None = None
    random_comprehensiveness: float | None = None
    top_k: int = 0
    top_words: list[int] = field(default_factory=list)
    faithfulness_class: int | None = None  # the class the faithfulness figures are about
    phrases: list[Phrase] = field(default_factory=list)  # the phrase layer, text order
    phrase_word_scores: np.ndarray | None = None  # [n_words] CD score of each word alone
    flip: str | None = None  # plain words on what a phrase turned around, if anything
    tokens_read: int = 0
    tokens_total: int = 0
    seconds: float = 0.0

    @property
    def target_name(self) -> str:
        return self.classes[self.target_class]

    @property
    def predicted_name(self) -> str:
        return self.classes[self.predicted_class]

    @property
    def scores(self) -> np.ndarray:
        """[n_words] float scores, NaN for words not read."""
        return np.array([np.nan if w.score is None else w.score for w in self.words])

    @property
    def truncated(self) -> bool:
        return self.tokens_read < self.tokens_total

    @property
    def relative_completeness_gap(self) -> float | None:
        """The gap as a share of |f(x) - f(baseline)| (None for methods without one); a change
        under one point of probability counts as one point (see MIN_JUDGED_CHANGE)."""
        if self.completeness_gap is None or self.baseline_probability is None:
            return None
        change = float(self.probabilities[self.target_class]) - self.baseline_probability
        return relative_gap(self.completeness_gap, change)

    def ranked(self, toward: bool = True, limit: int | None = None) -> list[int]:
        """Word indices by score: strongest toward the target first (or against, if False)."""
        scored = [i for i, w in enumerate(self.words) if w.score is not None]
        scored.sort(key=lambda i: -self.words[i].score if toward else self.words[i].score)
        picked = [i for i in scored if (self.words[i].score > 0) == toward
                  and self.words[i].score != 0]
        return picked[:limit] if limit is not None else picked

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (NaN becomes null)."""
        return {
            "text": self.text,
            "classes": list(self.classes),
            "method": self.method,
            "target_class": self.target_name,
            "predicted_class": self.predicted_name,
            "probabilities": {c: float(p) for c, p in zip(self.classes, self.probabilities)},
            "words": [w.to_dict() for w in self.words],
            "trajectory": [[_finite(v) for v in row] for row in self.trajectory],
            "completeness_gap": self.completeness_gap,
            "relative_completeness_gap": self.relative_completeness_gap,
            "baseline_probability": self.baseline_probability,
            "steps": self.steps,
            "path_pieces": self.path_pieces,
            "faithfulness": {
                "class": (None if self.faithfulness_class is None
                          else self.classes[self.faithfulness_class]),
                "top_fraction": 0.1, "top_k": self.top_k,
                "top_words": [self.words[i].word for i in self.top_words],
                "comprehensiveness": self.comprehensiveness,
                "sufficiency": self.sufficiency,
                "random_comprehensiveness": self.random_comprehensiveness,
            },
            "phrases": [p.to_dict() for p in self.phrases],
            "phrase_units": "log-odds",
            "flip": self.flip,
            "tokens_read": self.tokens_read,
            "tokens_total": self.tokens_total,
            "seconds": self.seconds,
        }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


class Explainer:
    """Explains reviews for one bundle; cheap to create, safe to reuse for many texts."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.bundle = bundle
        self.model = bundle.model
        self.tokenizer = Tokenizer(bundle.tokenizer)

    @property
    def classes(self) -> list[str]:
        return self.bundle.classes

    def class_index(self, target: int | str | None, predicted: int) -> int:
        """A class given by index or name (None: the predicted one)."""
        if target is None:
            return predicted
        if isinstance(target, str):
            if target in self.classes:  # a name wins over a number ("1" may be a class)
                return self.classes.index(target)
            if not target.strip().lstrip("-").isdigit():
                raise ReviewDataError(f"The model has no class '{target}'; its classes are "
                                      f"{', '.join(self.classes)}.")
        index = int(target)
        if not 0 <= index < len(self.classes):
            raise ReviewDataError(f"Class number {index} is out of range: the model has "
                                  f"{len(self.classes)} classes (0-{len(self.classes) - 1}).")
        return index

    def align(self, text: str) -> Alignment:
        config = self.bundle.config
        return align(text, self.tokenizer, self.bundle.vocab, config.max_length,
                     config.truncation)

    def explain(self, text: str, method: str = "ig", target: int | str | None = None,
                steps: int = 50, with_trajectory: bool = True, with_faithfulness: bool = True,
                max_trajectory_points: int = MAX_POINTS,
                with_phrases: bool = True) -> Explanation:
        """Explain ``text`` toward ``target`` (default: the predicted class)."""
        if method not in METHODS:
            raise ReviewDataError(f"Unknown explanation method '{method}'; choose one of "
                                  f"{', '.join(METHODS)}.")
        if steps < 1:
            raise ReviewDataError("Integrated gradients needs at least 1 step.")
        started = time.perf_counter()
        alignment = self.align(text)
        ids = alignment.ids
        ends = alignment.prefix_ends()
        path = (trajectory(self.model, ids, ends, max_trajectory_points)
                if with_trajectory else np.full((alignment.word_count, len(self.classes)),
                                                np.nan))
        # The trajectory's last prefix is the whole review: its row is the prediction.
        whole = np.flatnonzero((ends == len(ids)) & np.isfinite(path).all(axis=1))
        probabilities = (path[whole[-1]].copy() if len(whole)
                         else class_probabilities(self.model, [ids])[0])
        predicted = int(probabilities.argmax())
        target_index = self.class_index(target, predicted)
        positions = alignment.positions()
        extra: dict[str, Any] = {}
        if method == "ig":
            result = integrated_gradients(self.model, ids, target_index, steps)
            scores = alignment.word_scores(result.scores)
            extra = {"completeness_gap": result.completeness_gap,
                     "baseline_probability": result.baseline_probability,
                     "steps": result.steps, "path_pieces": result.pieces}
        elif method == "occlusion":
            scores, _ = occlusion(self.model, ids, positions, target_index)
        else:
            scores = alignment.word_scores(gradient_x_input(self.model, ids, target_index))
        faithful: Faithfulness | None = None
        if with_faithfulness:
            # ERASER judges the words behind the *decision*. With two classes every method's
            # push toward one class is exactly minus its push toward the other, so explaining
            # "positive" for a review predicted negative still measures the prediction.
            about, signed = target_index, scores
            if target_index != predicted and len(self.classes) == 2:
                about, signed = predicted, -scores
            faithful = faithfulness(self.model, ids, positions, signed, about)
            if faithful is not None:
                extra.update(comprehensiveness=faithful.comprehensiveness,
                             sufficiency=faithful.sufficiency,
                             random_comprehensiveness=faithful.random_comprehensiveness,
                             top_k=faithful.top_k, top_words=faithful.top_words,
                             faithfulness_class=about)
        if with_phrases:
            analysis = analyse_phrases(self.model, ids, positions, target_index,
                                       seed_scores=scores)
            extra.update(self.phrase_fields(alignment, analysis))
        read = alignment.read
        words = [WordScore(alignment.text[start:end], start, end,
                           float(score) if ok else None, bool(ok))
                 for (start, end), score, ok in zip(alignment.spans, scores, read)]
        return Explanation(
            text=text, classes=list(self.classes), words=words, target_class=target_index,
            predicted_class=predicted, probabilities=probabilities, method=method,
            trajectory=path, tokens_read=len(ids), tokens_total=alignment.total_tokens,
            seconds=time.perf_counter() - started, **extra)


    def phrase_fields(self, alignment: Alignment, analysis: PhraseAnalysis) -> dict[str, Any]:
        """The Explanation fields a phrase analysis fills in."""
        words = alignment.words
        phrases = [Phrase(words=words[p.start:p.end], start=alignment.spans[p.start][0],
                          end=alignment.spans[p.end - 1][1], word_start=p.start,
                          word_end=p.end, score=p.score, interaction=p.interaction)
                   for p in sorted(analysis.shown, key=lambda p: p.start)]
        return {"phrases": phrases, "phrase_word_scores": analysis.word_scores,
                "flip": flip_sentence(analysis, words, self.classes)}


def explain(bundle: ModelBundle, text: str, method: str = "ig",
            target: int | str | None = None, **options: Any) -> Explanation:
    """One-off explanation; keep an :class:`Explainer` to explain many texts."""
    return Explainer(bundle).explain(text, method, target, **options)
