"""The integrated-gradients implementation before issue 15, kept only so bench/explain.py can
time it beside the current one in the same run (captum pieces + the adaptive rule).

Integrated gradients on the embedding layer, with a completeness check that is enforced.

IG scores add up to f(review) - f(baseline) only if the path integral is computed accurately.
A recurrent model can flip its opinion within a tiny stretch of the path from the blank review
to the real one (on a 600-word IMDB review, P(positive) jumped from 0.03 to 0.79 within 5% of
the path, most of it within 0.1%): 50 Gauss-Legendre points then miss the jump and the scores
add up to 2% of the change instead of 100% (400 points are no better). So when the plain
50-point rule misses the tolerance, the path is cut into pieces: forward passes alone (cheap)
locate where f changes, the pieces where it changes a lot are cut finer, and each piece gets
its own few-point Gauss-Legendre rule. Every piece has a known exact total, f(end) - f(start),
so each piece's error is measured, and only the pieces that miss are refined further.

The pieces run through captum's IntegratedGradients as one batch (piece i is "input" end_i * x
with "baseline" start_i * x); the scores are the sum over pieces, an integral over the same
straight path, so they are still integrated gradients, just computed accurately.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from core.explain.attribution import backward_ready, model_device
from core.model.classifier import RecurrentClassifier
from core.text.vocabulary import PAD_INDEX

GAP_TOLERANCE = 0.01
MAX_NODES = 1200  # gradient evaluations an explanation may spend refining
NODE_BUDGET = 240_000  # ... and positions x evaluations: ~10 s of one CPU core at most
_BATCH_BUDGET = 24_000  # positions x evaluations per forward/backward batch (memory)
_SCAN_POINTS = 16  # first cut of the path into equal pieces
_PIECE_NODES = 2  # Gauss-Legendre points per piece (exact for cubics; pieces end up small)
_SPLIT = 4  # a piece whose f changes too much is cut into this many
_MAX_DEPTH = 10  # pre-cuts down to widths of 1/16/4**10, about 6e-8
_MIN_WIDTH = 1e-6  # pieces this narrow are not cut again (float32 path points blur)


# A review that moves the probability by less than this from a blank one has its gap judged
# against this instead: a 1e-6 miss on a 1e-7 change is not a "1,000% error" worth showing.
MIN_JUDGED_CHANGE = 0.01


def relative_gap(gap: float, change: float) -> float:
    """The completeness gap as a share of |f(x) - f(baseline)|, floored at MIN_JUDGED_CHANGE."""
    return gap / max(abs(change), MIN_JUDGED_CHANGE)


@dataclass
class IntegratedGradientsResult:
    """Per-position scores that add up to f(x) - f(baseline), with the measured gap."""

    scores: np.ndarray  # [T]
    probability: float  # f(x): P(target | review)
    baseline_probability: float  # f(baseline): P(target | all <pad>)
    completeness_gap: float  # |sum(scores) - (f(x) - f(baseline))|
    steps: int  # gradient evaluations spent (50 unless the plain rule missed)
    pieces: int = 1  # path pieces of the final rule

    @property
    def relative_gap(self) -> float:
        return relative_gap(self.completeness_gap, self.probability - self.baseline_probability)


class _Path:
    """f along the straight path from the ``<pad>`` baseline to the review, and IG pieces."""

    def __init__(self, model: RecurrentClassifier, ids: np.ndarray, target: int) -> None:
        from captum.attr import IntegratedGradients  # slow import (matplotlib): only when used

        self.model = model
        self.target = target
        device = model_device(model)
        token_ids = torch.as_tensor(ids, dtype=torch.long, device=device).unsqueeze(0)
        self.length = token_ids.size(1)
        self.lengths = torch.tensor([self.length], device=device)
        with torch.no_grad():
            self.inputs = model.embedding(token_ids)
            self.baseline = model.embedding(torch.full_like(token_ids, PAD_INDEX))
        self.captum = IntegratedGradients(self.probabilities)
        self.evaluations = 0

    def probabilities(self, embedded: Tensor, lengths: Tensor) -> Tensor:
        return torch.softmax(self.model.forward_embedded(embedded, lengths), dim=1)

    def point(self, alphas: np.ndarray) -> Tensor:
        a = torch.as_tensor(alphas, dtype=self.inputs.dtype,
                            device=self.inputs.device).view(-1, 1, 1)
        return self.baseline + a * (self.inputs - self.baseline)

    @torch.no_grad()
    def values(self, alphas: np.ndarray) -> np.ndarray:
        """f(target) at points of the path: forward passes only."""
        chunk = max(1, _BATCH_BUDGET // self.length)
        out = [self.probabilities(self.point(alphas[i:i + chunk]),
                                  self.lengths.repeat(len(alphas[i:i + chunk])))[:, self.target]
               for i in range(0, len(alphas), chunk)]
        return torch.cat(out).double().cpu().numpy()

    def pieces(self, starts: np.ndarray, ends: np.ndarray, nodes: int) -> np.ndarray:
        """[pieces, T] IG contribution of each piece [start, end] of the path."""
        group = max(1, _BATCH_BUDGET // (self.length * nodes))
        out = []
        for i in range(0, len(starts), group):
            lows, highs = starts[i:i + group], ends[i:i + group]
            attributions = self.captum.attribute(
                self.point(highs), baselines=self.point(lows), target=self.target,
                additional_forward_args=(self.lengths.repeat(len(lows)),), n_steps=nodes,
                internal_batch_size=max(len(lows), _BATCH_BUDGET // self.length))
            out.append(attributions.sum(dim=-1).detach().double().cpu().numpy())
        self.evaluations += nodes * len(starts)
        return np.concatenate(out)


def integrated_gradients(model: RecurrentClassifier, ids: np.ndarray, target: int,
                         steps: int = 50, tolerance: float | None = GAP_TOLERANCE,
                         max_nodes: int = MAX_NODES,
                         budget: int = NODE_BUDGET) -> IntegratedGradientsResult:
    """Integrated gradients toward ``target`` against an all-``<pad>`` baseline.

    The baseline has the review's own length and the length is a forward argument (not
    attributed), so the path runs from "a review of n blank words" to the review; ``<pad>`` has
    a zero embedding, the usual neutral point for text. f is the target's probability.

    First the plain rule: ``steps`` Gauss-Legendre points over the whole path, which is what
    captum's ``LayerIntegratedGradients(f, model.embedding)`` computes (a test checks they
    agree), run as ``IntegratedGradients`` on the embedding output so no hook touches the
    model shared with other threads. If its gap exceeds ``tolerance`` x |f(x) - f(baseline)|
    (that change counted as at least MIN_JUDGED_CHANGE), the adaptive rule in the module docstring
    takes over, within ``max_nodes`` evaluations and ``budget`` positions x evaluations; the gap
    it ends with is reported, never hidden. ``tolerance=None`` keeps the plain rule.
    """
    path = _Path(model, ids, target)
    with backward_ready(model):
        ends = path.values(np.array([1.0, 0.0]))
        probability, baseline_probability = float(ends[0]), float(ends[1])
        change = probability - baseline_probability
        scores = path.pieces(np.zeros(1), np.ones(1), steps)[0]
        gap = abs(scores.sum() - change)
        # The same yardstick as relative_gap, so "refined until within tolerance" and the
        # gap the panel reports agree, tiny changes included.
        allowed = (tolerance or 0.0) * max(abs(change), MIN_JUDGED_CHANGE)
        pieces = 1
        if tolerance is not None and gap > allowed:
            refined = _adaptive(path, change, allowed, max_nodes, budget)
            if refined is not None and refined[1] < gap:
                scores, gap, pieces = refined
    return IntegratedGradientsResult(scores=scores, probability=probability,
                                     baseline_probability=baseline_probability,
                                     completeness_gap=float(gap),
                                     steps=path.evaluations, pieces=pieces)


def _adaptive(path: _Path, change: float, allowed: float, max_nodes: int,
              budget: int) -> tuple[np.ndarray, float, int] | None:
    """Piecewise Gauss-Legendre IG with pieces cut where f moves; None if over budget."""
    limit = min(max_nodes, budget // max(1, path.length))
    edges = np.linspace(0.0, 1.0, _SCAN_POINTS + 1)
    values = path.values(edges)
    # Cut finer wherever f moves by more than a twentieth of the whole change (forward only).
    step = max(abs(change) / 20, allowed)
    for _ in range(_MAX_DEPTH):
        moving = np.flatnonzero(np.abs(np.diff(values)) > step)
        if not len(moving) or (len(edges) - 1 + len(moving) * (_SPLIT - 1)) * _PIECE_NODES \
                > limit:
            break
        edges, values = _split(path, edges, values, moving, _SPLIT)
    if (len(edges) - 1) * _PIECE_NODES > limit:
        return None
    contributions = path.pieces(edges[:-1], edges[1:], _PIECE_NODES)
    gap = abs(contributions.sum() - change)
    # Then refine the pieces whose own total misses f(end) - f(start), worst first.
    while gap > allowed:
        errors = np.abs(contributions.sum(axis=1) - np.diff(values))
        errors[np.diff(edges) < _MIN_WIDTH] = 0.0  # a jump no finer cut resolves
        worst = np.argsort(-errors)[:8]
        worst = worst[errors[worst] > 1e-9]
        cost = len(worst) * _SPLIT * _PIECE_NODES
        if not len(worst) or path.evaluations + cost > limit + 50:
            break
        edges, values, contributions = _refine(path, edges, values, contributions, worst)
        gap = abs(contributions.sum() - change)
    return contributions.sum(axis=0), float(gap), len(edges) - 1


def _split(path: _Path, edges: np.ndarray, values: np.ndarray, pieces: np.ndarray,
           parts: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut the given pieces into ``parts`` equal ones, scanning f at the new points."""
    new = np.concatenate([np.linspace(edges[i], edges[i + 1], parts + 1)[1:-1] for i in pieces])
    merged = np.concatenate([edges, new])
    order = np.argsort(merged, kind="stable")
    return merged[order], np.concatenate([values, path.values(new)])[order]


def _refine(path: _Path, edges: np.ndarray, values: np.ndarray, contributions: np.ndarray,
            pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the given pieces and recompute only their contributions."""
    new_edges, new_values = _split(path, edges, values, pieces, _SPLIT)
    old_starts = edges[:-1]
    kept = {float(old_starts[i]): contributions[i] for i in range(len(old_starts))
            if i not in set(pieces.tolist())}
    starts, ends = new_edges[:-1], new_edges[1:]
    fresh = np.array([i for i, start in enumerate(starts) if float(start) not in kept],
                     dtype=np.int64)
    computed = path.pieces(starts[fresh], ends[fresh], _PIECE_NODES)
    rows = np.empty((len(starts), contributions.shape[1]))
    rows[fresh] = computed
    for i, start in enumerate(starts):
        if float(start) in kept:
            rows[i] = kept[float(start)]
    return new_edges, new_values, rows
