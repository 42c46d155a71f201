"""Phrase scores from contextual decomposition: which groups of words act as one unit.

Every candidate span of up to ``MAX_WORDS`` consecutive words is scored by CD (its share of
the log-odds of the target class), and so is every single word inside one. A span's
*interaction* is its score minus the sum of its words' scores: how much the words mean
together beyond what they mean apart ("not" + "bad" read alone are both negative; "not bad"
together is positive, a large positive interaction).

Which spans are shown (the phrase layer): the spans whose interaction is largest, kept only
if no shorter span inside them already carries most of it (so "not bad" is preferred to "was
not bad at"), and never overlapping a span picked before. This is the flat form of ACD's
agglomeration (Singh, Murdoch & Yu 2019): ACD grows a tree by merging the neighbours whose
joined CD score stands out; here every span of up to four words is scored directly, which for
short texts costs one batched decomposition and needs no tie-breaking rules.

Long reviews: scoring every span costs one recurrent pass per span, so beyond
``ALL_SPANS_WORDS`` words only the spans around ``SEED_WORDS`` seed words are scored (the
strongest words of another explanation, e.g. integrated gradients, or CD's own word scores).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.explain.decomposition import decompose, span_masks, toward
from core.model.classifier import RecurrentClassifier
from core.text.function_words import is_content_word

MAX_WORDS = 4
ALL_SPANS_WORDS = 40  # reviews up to this many read words get every span scored
SEED_WORDS = 8  # ... longer ones only the spans around this many strongest words
MAX_SHOWN = 6  # phrases in the phrase layer
# A longer span is shown instead of a shorter one inside it only if its interaction is
# larger by this factor: the extra words must add something.
LONGER_BY = 1.25
# Interactions smaller than this share of the strongest word score are not worth a bracket.
MIN_INTERACTION_SHARE = 0.2
# The plain-words sentence names one turned word only if it outweighs the next word pushing
# the same way by this factor.
HEAD_MARGIN = 2.0


@dataclass
class PhraseScore:
    """Words ``start``..``end - 1`` (indices into the review's words) as one unit.

    ``score``: CD share of the target's log-odds; ``interaction``: score minus the sum of
    the single words' scores (0 for a single word).
    """

    start: int
    end: int
    score: float
    interaction: float

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: "PhraseScore") -> bool:
        return self.start < other.end and other.start < self.end


@dataclass
class PhraseAnalysis:
    """CD scores of words and phrases of one review toward one class (log-odds units)."""

    target: int
    word_scores: np.ndarray  # [n_words] CD score of each word alone (NaN: not read/scored)
    spans: list[PhraseScore]  # every multi-word span scored
    shown: list[PhraseScore] = field(default_factory=list)  # the phrase layer, strongest first
    logit_gap: float = 0.0  # |sum of beta + gamma - the model's log-odds|, for the record

    def strongest(self, toward_target: bool, limit: int = 3) -> list[PhraseScore]:
        """Shown phrases pushing toward (or against) the target, strongest first."""
        picked = [p for p in self.shown if (p.score > 0) == toward_target and p.score != 0]
        return sorted(picked, key=lambda p: -abs(p.score))[:limit]

    def units(self) -> list[PhraseScore]:
        """The review as the phrase layer reads it: shown phrases plus the words outside
        them (as one-word units), in text order."""
        covered = {w for p in self.shown for w in range(p.start, p.end)}
        singles = [PhraseScore(w, w + 1, float(s), 0.0) for w, s in enumerate(self.word_scores)
                   if w not in covered and np.isfinite(s)]
        return sorted(self.shown + singles, key=lambda p: p.start)


def candidate_spans(read: np.ndarray, max_words: int = MAX_WORDS,
                    seeds: Sequence[int] | None = None) -> list[tuple[int, int]]:
    """(start, end) word spans of 2..max_words consecutive read words; with ``seeds``,
    only those containing a seed word."""
    spans = []
    count = len(read)
    seed_set = None if seeds is None else set(int(s) for s in seeds)
    for start in range(count):
        if not read[start]:
            continue
        for end in range(start + 2, min(count, start + max_words) + 1):
            if not read[end - 1]:
                break
            if seed_set is None or seed_set.intersection(range(start, end)):
                spans.append((start, end))
    return spans


def analyse_phrases(model: RecurrentClassifier, ids: np.ndarray,
                    positions: Sequence[np.ndarray], target: int,
                    seed_scores: np.ndarray | None = None, max_words: int = MAX_WORDS,
                    max_shown: int = MAX_SHOWN) -> PhraseAnalysis:
    """Score words and spans of one review by CD and pick the phrase layer.

    ``positions[w]``: input positions of word w (empty when not read). ``seed_scores``: word
    scores from another method to pick seeds by on long reviews (default: CD's own, which
    costs a pass per word); there only the words near the seeds get a score of their own.
    """
    read = np.array([len(p) > 0 for p in positions])
    words = np.flatnonzero(read)
    seeds = None
    if len(words) > ALL_SPANS_WORDS and seed_scores is not None:
        # Long review: only the spans around the strongest words of the other method, and
        # only the words of those spans scored alone (each span costs a recurrent pass).
        basis = np.abs(np.asarray(seed_scores, dtype=float))
        basis = np.where(read & np.isfinite(basis), basis, -1.0)
        seeds = np.argsort(-basis, kind="stable")[:SEED_WORDS]
        near = {w for a, b in candidate_spans(read, max_words, seeds) for w in range(a, b)}
        words = np.array(sorted(near | set(int(s) for s in seeds)), dtype=np.int64)
    single = [(int(w), int(w) + 1) for w in words]
    # The spans are known up front unless a long review must first pick seeds by CD's own
    # word scores; then words and spans are decomposed in one batch, sharing the real run.
    known = len(words) <= ALL_SPANS_WORDS or seeds is not None
    spans = candidate_spans(read, max_words, seeds) if known else []
    rel, irr = (decompose(model, ids, span_masks(len(ids), positions, single + spans))
                if single else (np.zeros((0, 1)),) * 2)
    span_rel = rel[len(single):]
    rel, irr = rel[:len(single)], irr[:len(single)]
    word_scores = np.full(len(positions), np.nan)
    word_scores[words] = toward(rel, target) if len(single) else []
    if not known:
        basis = np.where(read & np.isfinite(word_scores), np.abs(word_scores), -1.0)
        seeds = np.argsort(-basis, kind="stable")[:SEED_WORDS]
        spans = candidate_spans(read, max_words, seeds)
        span_rel = (decompose(model, ids, span_masks(len(ids), positions, spans))[0]
                    if spans else span_rel)
    phrase_list: list[PhraseScore] = []
    if spans:
        scores = toward(span_rel, target)
        for (start, end), score in zip(spans, scores):
            inner = float(np.nansum(word_scores[start:end]))
            phrase_list.append(PhraseScore(start, end, float(score), float(score) - inner))
    gap = 0.0
    if len(single):
        gap = float(np.abs(toward(rel[:1] + irr[:1], target)
                           - toward(_logits(model, ids), target)).max())
    analysis = PhraseAnalysis(target=target, word_scores=word_scores, spans=phrase_list,
                              logit_gap=gap)
    analysis.shown = pick_phrases(phrase_list, word_scores, max_shown)
    return analysis


def _logits(model: RecurrentClassifier, ids: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        device = next(model.parameters()).device
        token_ids = torch.as_tensor(ids, dtype=torch.long, device=device).unsqueeze(0)
        return model(token_ids, torch.tensor([len(ids)], device=device)).double().cpu().numpy()


def pick_phrases(spans: Sequence[PhraseScore], word_scores: np.ndarray,
                 limit: int = MAX_SHOWN) -> list[PhraseScore]:
    """The phrase layer: largest interactions first, minimal spans, no overlaps."""
    finite = np.abs(word_scores[np.isfinite(word_scores)])
    floor = MIN_INTERACTION_SHARE * (float(finite.max()) if len(finite) else 0.0)
    by_span = {(p.start, p.end): p for p in spans}

    def inner_best(p: PhraseScore) -> float:
        return max((abs(q.interaction) for (a, b), q in by_span.items()
                    if p.start <= a and b <= p.end and (a, b) != (p.start, p.end)),
                   default=0.0)

    candidates = [p for p in spans if abs(p.interaction) > floor
                  and abs(p.interaction) > LONGER_BY * inner_best(p)]
    candidates.sort(key=lambda p: (-abs(p.interaction), p.length))
    shown: list[PhraseScore] = []
    for phrase in candidates:
        if len(shown) >= limit:
            break
        if not any(phrase.overlaps(other) for other in shown):
            shown.append(phrase)
    return shown


def flip_sentence(analysis: PhraseAnalysis, words: Sequence[str], classes: Sequence[str]
                  ) -> str | None:
    """Plain words for the strongest phrase whose words together mean something else than
    the strongest of them alone, e.g. "'not' turns 'bad' from negative to positive".

    The head is the phrase's word with the largest score of its own; the rest are the words
    that change it. When no shown phrase turns its head around, the strongest one that
    weakens its head is described ("'not' weakens 'bad' (still negative)"); None when no
    shown phrase does either. Function words ("to", "the") are never the head.
    """
    target = analysis.target
    ordered = sorted(analysis.shown, key=lambda p: -abs(p.interaction))
    # Only content words are named as turned ("'no attention' turns 'to'" says nothing).
    scores = np.array(analysis.word_scores, dtype=float)
    minor = [i for i, word in enumerate(words[:len(scores)]) if not is_content_word(word)]
    scores[minor] = np.nan
    for phrase in ordered:
        head = _head(scores, phrase)
        if head is None:
            continue
        inner = scores[phrase.start:phrase.end]
        head_score = float(scores[head])
        if head_score != 0 and phrase.score != 0 and (head_score > 0) == (phrase.score > 0):
            # The strongest word agrees with the phrase ("not" itself reads positive in "not
            # bad"): name a word the phrase turns around if the interaction alone outweighs it.
            turned = _turned_word(scores, phrase)
            if turned is not None:
                return _acting_on(words, phrase, turned, "turn",
                                  f"from {_side(float(scores[turned]), target, classes)} to "
                                  f"{_side(phrase.score, target, classes)}")
            continue
        if head_score == 0 or phrase.score == 0:
            continue
        rivals = sorted((abs(float(v)) for i, v in enumerate(inner)
                         if phrase.start + i != head and np.isfinite(v) and v * head_score > 0),
                        reverse=True)
        if rivals and rivals[0] * HEAD_MARGIN > abs(head_score):  # no single word turned
            return (f"{_quoted(words[phrase.start:phrase.end])} together points to "
                    f"{_side(phrase.score, target, classes)}, though its words alone point to "
                    f"{_side(head_score, target, classes)}")
        return _acting_on(words, phrase, head, "turn",
                          f"from {_side(head_score, target, classes)} to "
                          f"{_side(phrase.score, target, classes)}")
    for phrase in ordered:
        head = _head(scores, phrase)
        if head is None:
            continue
        head_score = float(scores[head])
        if head_score * phrase.interaction < 0 and abs(phrase.score) < abs(head_score):
            return _acting_on(words, phrase, head, "weaken",
                              f"(still {_side(phrase.score, target, classes)})")
    return None


def _acting_on(words: Sequence[str], phrase: PhraseScore, word: int, verb: str,
               outcome: str) -> str:
    """What the phrase's other words do to ``word``: they are the subject ("'not' turns 'bad'
    from negative to positive") when they sit on one side of it; when they sit on both ("service
    maid paid no" around "paid") quoting them together would read as words the review never
    holds together, so the phrase is quoted whole and its words around ``word`` named."""
    if phrase.start < word < phrase.end - 1:
        return (f"in {_quoted(words[phrase.start:phrase.end])}, the words around "
                f"'{words[word]}' {verb} it {outcome}")
    others = [words[i] for i in range(phrase.start, phrase.end) if i != word]
    return f"{_quoted(others)} {verb}s '{words[word]}' {outcome}"


def _head(word_scores: np.ndarray, phrase: PhraseScore) -> int | None:
    """The phrase's word with the strongest score of its own; None when none was scored."""
    inner = word_scores[phrase.start:phrase.end]
    if not np.isfinite(inner).any():
        return None
    return phrase.start + int(np.nanargmax(np.abs(inner)))


def _turned_word(word_scores: np.ndarray, phrase: PhraseScore) -> int | None:
    """The phrase's strongest word pointing against the phrase, if the interaction points
    with the phrase and outweighs that word's own score; else None."""
    if phrase.interaction * phrase.score <= 0:
        return None
    inner = word_scores[phrase.start:phrase.end]
    against = [(abs(float(v)), phrase.start + i) for i, v in enumerate(inner)
               if np.isfinite(v) and v * phrase.score < 0]
    if not against:
        return None
    size, word = max(against)
    return word if abs(phrase.interaction) > size else None


def _quoted(words: Sequence[str]) -> str:
    return "'" + " ".join(words) + "'"


def _side(score: float, target: int, classes: Sequence[str]) -> str:
    """The class a push points to: the target, or with two classes the other one."""
    if score > 0:
        return classes[target]
    if len(classes) == 2:
        return classes[1 - target]
    return f"away from {classes[target]}"
