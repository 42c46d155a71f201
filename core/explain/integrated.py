"""Integrated gradients on the embedding layer, with a completeness check that is enforced.

IG scores add up to f(review) - f(baseline) only if the path integral is computed accurately.
A recurrent model can flip its opinion within a tiny stretch of the path from the blank review
to the real one (on a 600-word IMDB review, P(positive) jumped from 0.03 to 0.79 within 5% of
the path, most of it within 0.1%): 50 Gauss-Legendre points spread over the whole path then
miss the jump and the scores add up to 2% of the change instead of 100%.

So the nodes go where f moves. Forward passes alone (a third of the cost of a gradient)
scan f along the path, finer wherever it moves; the path is then cut, at scan points, into
``steps / 2`` pieces that each hold an equal share of |df| (plus an even share of the
length), and each piece gets a two-point Gauss-Legendre rule. Every piece has a known exact
total, f(end) - f(start), so before any gradient is spent a smooth interpolant of the scan
predicts which pieces the rule would miss, and those are cut further; after, each piece's
error is measured and the pieces whose misses make up the gap are halved, round by round.
All nodes of a round run as one batched forward and backward pass (core.explain.
recurrent_path on the CPU: hand-written recurrences that skip the weight gradients).

The scores are a sum over pieces of the same straight-path integral, so they are still
integrated gradients, just computed accurately.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from core.explain.attribution import backward_ready, model_device
from core.explain.recurrent_path import RecurrentPath, supported
from core.model.classifier import RecurrentClassifier
from core.text.vocabulary import PAD_INDEX

GAP_TOLERANCE = 0.01
MAX_NODES = 1200  # gradient evaluations an explanation may spend refining
NODE_BUDGET = 240_000  # ... and positions x evaluations: ~10 s of one CPU core at most
_BATCH_BUDGET = 24_000  # positions x evaluations per forward/backward batch (memory)
_SCAN_POINTS = 32  # first cut of the path into equal pieces
_MAX_SCAN = 400  # path points the forward-only scan may look at
_PIECE_NODES = 2  # Gauss-Legendre points per piece (exact for cubics; pieces end up small)
_SPLIT = 16  # a scan cell whose f changes too much is cut into at most this many
_MAX_DEPTH = 8  # scan rounds: 16-fold zooms reach widths far below float32's reach
_ROUND_PIECES = 16  # pieces halved per refinement round at most
_PRESPLIT = 1.5  # the first batch may grow to this many times ``steps`` nodes
_SCAN_SHARES = 48  # the scan resolves f's travel into about this many steps
_MIN_WIDTH = 1e-6  # scan cells this narrow are not cut again (float32 path points blur)
_JUMP_WIDTH = 1e-5  # pieces this narrow that still miss are treated as one jump (_jump)


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


def gauss_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the ``nodes``-point Gauss-Legendre rule on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    return (x + 1.0) / 2.0, w / 2.0


class _Path:
    """f along the straight path from the ``<pad>`` baseline to the review, and IG pieces."""

    def __init__(self, model: RecurrentClassifier, ids: np.ndarray, target: int) -> None:
        self.model = model
        self.target = target
        device = model_device(model)
        token_ids = torch.as_tensor(ids, dtype=torch.long, device=device).unsqueeze(0)
        self.length = token_ids.size(1)
        self.lengths = torch.tensor([self.length], device=device)
        with torch.no_grad():
            self.inputs = model.embedding(token_ids)
            self.baseline = model.embedding(torch.full_like(token_ids, PAD_INDEX))
        self.evaluations = 0
        # The hand-written recurrences where they apply (CPU float32), autograd otherwise.
        self.fast = (RecurrentPath(model, self.inputs[0], self.baseline[0])
                     if device.type == "cpu" and supported(model) else None)

    def probabilities(self, embedded: Tensor) -> Tensor:
        lengths = self.lengths.expand(embedded.size(0))
        return torch.softmax(self.model.forward_embedded(embedded, lengths), dim=1)

    def point(self, alphas: np.ndarray) -> Tensor:
        a = torch.as_tensor(alphas, dtype=self.inputs.dtype,
                            device=self.inputs.device).view(-1, 1, 1)
        return self.baseline + a * (self.inputs - self.baseline)

    @torch.no_grad()
    def values(self, alphas: np.ndarray) -> np.ndarray:
        """f(target) at points of the path: forward passes only."""
        if self.fast is not None:
            return self.fast.probabilities(np.asarray(alphas, dtype=float))[:, self.target]
        chunk = max(1, _BATCH_BUDGET // self.length)
        out = [self.probabilities(self.point(alphas[i:i + chunk]))[:, self.target]
               for i in range(0, len(alphas), chunk)]
        return torch.cat(out).double().cpu().numpy()

    def gradients(self, alphas: np.ndarray) -> np.ndarray:
        """[K, T] gradient of f at each path point, dotted with (input - baseline) per
        position: one batched forward and backward pass per chunk of points."""
        if self.fast is not None:
            self.evaluations += len(alphas)
            return self.fast.gradients(np.asarray(alphas, dtype=float), self.target)[1]
        chunk = max(1, _BATCH_BUDGET // self.length)
        delta = self.inputs - self.baseline
        out = []
        for i in range(0, len(alphas), chunk):
            points = self.point(alphas[i:i + chunk]).requires_grad_(True)
            total = self.probabilities(points)[:, self.target].sum()
            (gradient,) = torch.autograd.grad(total, points)
            out.append((gradient * delta).sum(-1).detach().double().cpu().numpy())
        self.evaluations += len(alphas)
        return np.concatenate(out) if out else np.zeros((0, self.length))

    def pieces(self, starts: np.ndarray, ends: np.ndarray, nodes: int) -> np.ndarray:
        """[pieces, T] IG contribution of each piece [start, end] of the path."""
        x, w = gauss_legendre(nodes)
        widths = ends - starts
        alphas = (starts[:, None] + widths[:, None] * x[None, :]).ravel()
        grads = self.gradients(alphas).reshape(len(starts), nodes, self.length)
        return np.einsum("pnt,n,p->pt", grads, w, widths)


def integrated_gradients(model: RecurrentClassifier, ids: np.ndarray, target: int,
                         steps: int = 50, tolerance: float | None = GAP_TOLERANCE,
                         max_nodes: int = MAX_NODES,
                         budget: int = NODE_BUDGET) -> IntegratedGradientsResult:
    """Integrated gradients toward ``target`` against an all-``<pad>`` baseline.

    The baseline has the review's own length and the length is a forward argument (not
    attributed), so the path runs from "a review of n blank words" to the review; ``<pad>`` has
    a zero embedding, the usual neutral point for text. f is the target's probability.

    ``tolerance=None``: the plain rule, ``steps`` Gauss-Legendre points over the whole path,
    which is what captum's ``LayerIntegratedGradients(f, model.embedding)`` computes (a test
    checks they agree), with no hook on the model shared with other threads. Otherwise the
    same number of points placed where f moves (module docstring); pieces that still miss
    ``tolerance`` x |f(x) - f(baseline)| (that change counted as at least MIN_JUDGED_CHANGE)
    are refined within ``max_nodes`` evaluations and ``budget`` positions x evaluations. The
    gap it ends with is reported, never hidden.
    """
    path = _Path(model, ids, target)
    limit = min(max_nodes, budget // max(1, path.length))
    with backward_ready(model):
        if tolerance is None:
            ends = path.values(np.array([1.0, 0.0]))
            probability, baseline_probability = float(ends[0]), float(ends[1])
            scores = path.pieces(np.zeros(1), np.ones(1), steps)[0]
            gap, pieces = abs(scores.sum() - (probability - baseline_probability)), 1
        else:
            edges, values = _scan(path, tolerance)
            probability, baseline_probability = float(values[-1]), float(values[0])
            scores, gap, pieces = _placed(path, edges, values, tolerance, steps, limit)
    return IntegratedGradientsResult(scores=scores, probability=probability,
                                     baseline_probability=baseline_probability,
                                     completeness_gap=float(gap),
                                     steps=path.evaluations, pieces=pieces)


def _allowed(change: float, tolerance: float) -> float:
    """The gap allowed: the same yardstick as relative_gap, so "refined until within
    tolerance" and the gap the panel reports agree, tiny changes included."""
    return tolerance * max(abs(change), MIN_JUDGED_CHANGE)


def _scan(path: _Path, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """f on a grid of the path, ends included, finer wherever f moves: forward passes only.

    A cell whose f moves by more than a share of the whole way f travels is cut into as many
    parts as it holds such shares (2 to 16), so a jump is zoomed into 16-fold per round and a
    few rounds reach the width float32 path points can still tell apart.
    """
    edges = np.linspace(0.0, 1.0, _SCAN_POINTS + 1)
    values = path.values(edges)
    allowed = _allowed(values[-1] - values[0], tolerance)
    for _ in range(_MAX_DEPTH):
        moves, widths = np.abs(np.diff(values)), np.diff(edges)
        # a share of how far f travels (more than its net change where it goes up and down)
        step = max(moves.sum() / _SCAN_SHARES, allowed)
        moving = np.flatnonzero((moves > step) & (widths > _MIN_WIDTH))
        parts = np.clip(np.ceil(moves[moving] / step), 2, _SPLIT).astype(np.int64)
        room = _MAX_SCAN - len(edges)
        if not len(moving) or room <= 0:
            break
        if (parts - 1).sum() > room:  # the largest moves first, within the scan's budget
            order = np.argsort(-moves[moving], kind="stable")
            keep = order[np.cumsum(parts[order] - 1) <= room]
            moving, parts = moving[np.sort(keep)], parts[np.sort(keep)]
            if not len(moving):
                break
        new = np.concatenate([np.linspace(edges[i], edges[i + 1], k + 1)[1:-1]
                              for i, k in zip(moving, parts)])
        edges, values = _merged(edges, values, new, path.values(new))
    return edges, values


def _merged(edges: np.ndarray, values: np.ndarray, new: np.ndarray, new_values: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    merged = np.concatenate([edges, new])
    order = np.argsort(merged, kind="stable")
    return merged[order], np.concatenate([values, new_values])[order]


def _placed(path: _Path, edges: np.ndarray, values: np.ndarray, tolerance: float, steps: int,
            limit: int) -> tuple[np.ndarray, float, int]:
    """Pieces of equal |df| share, two Gauss-Legendre nodes each, then refinement.

    Cuts are scan points, so every piece's exact total f(end) - f(start) is known without
    another pass. Before any gradient is spent, the pieces a smooth interpolant of the scan
    predicts to be badly integrated are cut further at scan points; after, the pieces whose
    measured error makes up the gap are halved, round by round, until the gap is within
    tolerance or the budget is spent.
    """
    change = float(values[-1] - values[0])
    allowed = _allowed(change, tolerance)
    widths, moves = np.diff(edges), np.abs(np.diff(values))
    # Cells the scan could not resolve (f still jumps across a sliver of the path) are
    # pieces of their own, integrated by the jump rule; the rest gets the equal-share rule.
    steep = (moves > max(abs(change) / 20, allowed)) & (widths < _JUMP_WIDTH)
    count = max(1, (steps - int(steep.sum())) // _PIECE_NODES)
    cumulative = _cumulative_mass(edges, values, steep)
    wanted = np.interp(np.linspace(0.0, cumulative[-1], count + 1), cumulative,
                       np.arange(len(edges), dtype=float))
    steep_cells = np.flatnonzero(steep)
    cuts = np.unique(np.concatenate([np.round(wanted).astype(np.int64), [0, len(edges) - 1],
                                     steep_cells, steep_cells + 1]))
    jumps = steep[cuts[:-1]] & (cuts[1:] == cuts[:-1] + 1)
    cuts = _presplit(edges, values, cuts, jumps, allowed, int(steps * _PRESPLIT))
    jumps = steep[cuts[:-1]] & (cuts[1:] == cuts[:-1] + 1)
    starts, ends = edges[cuts[:-1]], edges[cuts[1:]]
    lows, highs = values[cuts[:-1]], values[cuts[1:]]
    contributions = _contributions(path, starts, ends, lows, highs, jumps)
    totals = highs - lows
    gap = contributions.sum() - change
    # On paths that jump many times a round of halving can make the gap swing instead of
    # shrink: the rule kept is the one with the smallest measured gap.
    best = (contributions.sum(axis=0), float(abs(gap)), len(starts))
    while abs(gap) > allowed:
        errors = contributions.sum(axis=1) - totals
        # the worst pieces, as many as it takes for the others' misses to add up to half the
        # allowed gap even if none of them cancel (relying on cancelling misses makes the gap
        # swing from one side to the other round after round)
        order = np.argsort(-np.abs(errors), kind="stable")
        rest = np.abs(errors[order])[::-1].cumsum()[::-1]  # misses of order[i:]
        within = np.flatnonzero(rest <= allowed / 2)
        take = int(within[0]) if len(within) else len(order)
        chosen = order[:min(take, _ROUND_PIECES)]
        chosen = chosen[np.abs(errors[chosen]) > 1e-12]
        narrow = chosen[(ends - starts)[chosen] < _JUMP_WIDTH]
        wide = np.setdiff1d(chosen, narrow)
        cost = len(wide) * 2 * _PIECE_NODES + len(narrow)
        if not len(chosen) or path.evaluations + cost > limit:
            break
        starts, ends, lows, highs, contributions = _refine(
            path, edges, values, starts, ends, lows, highs, contributions, wide, narrow)
        totals = highs - lows
        gap = contributions.sum() - change
        if abs(gap) < best[1]:
            best = (contributions.sum(axis=0), float(abs(gap)), len(starts))
    return best


def _presplit(edges: np.ndarray, values: np.ndarray, cuts: np.ndarray, jumps: np.ndarray,
              allowed: float, most: int) -> np.ndarray:
    """Cut pieces further, at scan points, where the scan predicts the two-point rule to miss.

    The prediction integrates the derivative of a shape-preserving cubic through the scan
    (Fritsch-Carlson) with the piece's nodes and compares it with the piece's known total: no
    model pass. Pieces are cut worst first while the predicted misses add up to more than half
    the allowed gap and the first batch stays within ``most`` nodes.
    """
    slopes = _monotone_slopes(edges, values)
    mass = _cumulative_mass(edges, values)
    x, w = gauss_legendre(_PIECE_NODES)
    cuts = cuts.copy()
    while _PIECE_NODES * (len(cuts) - 1) < most:
        a, b = edges[cuts[:-1]], edges[cuts[1:]]
        nodes = a[:, None] + (b - a)[:, None] * x[None, :]
        predicted = (_hermite_slope(edges, values, slopes, nodes) * w).sum(1) * (b - a)
        miss = np.abs(predicted - (values[cuts[1:]] - values[cuts[:-1]]))
        miss[jumps | (cuts[1:] - cuts[:-1] < 2)] = 0.0  # jumps; pieces with no scan point in
        if miss.sum() <= allowed / 2:
            break
        worst = int(np.argmax(miss))
        if miss[worst] == 0.0:
            break
        inside = np.arange(cuts[worst] + 1, cuts[worst + 1])
        middle = 0.5 * (mass[cuts[worst]] + mass[cuts[worst + 1]])  # at equal mass
        cuts = np.insert(cuts, worst + 1, inside[int(np.argmin(np.abs(mass[inside] - middle)))])
        jumps = np.insert(jumps, worst + 1, False)
    return cuts


def _monotone_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson slopes at the points of (x, y): the cubic through them keeps its shape."""
    secant = np.diff(y) / np.diff(x)
    slopes = np.empty_like(y)
    slopes[0], slopes[-1] = secant[0], secant[-1]
    if len(x) > 2:
        h = np.diff(x)
        w1, w2 = 2 * h[1:] + h[:-1], h[1:] + 2 * h[:-1]
        same = secant[:-1] * secant[1:] > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = (w1 + w2) / (w1 / secant[:-1] + w2 / secant[1:])
        slopes[1:-1] = np.where(same, mean, 0.0)
    return slopes


def _hermite_slope(x: np.ndarray, y: np.ndarray, slopes: np.ndarray, at: np.ndarray
                   ) -> np.ndarray:
    """Derivative of the cubic Hermite interpolant of (x, y, slopes) at points ``at``."""
    i = np.clip(np.searchsorted(x, at, side="right") - 1, 0, len(x) - 2)
    h = x[i + 1] - x[i]
    s = (at - x[i]) / h
    return ((y[i + 1] - y[i]) * (6 * s - 6 * s * s) / h
            + slopes[i] * (3 * s * s - 4 * s + 1) + slopes[i + 1] * (3 * s * s - 2 * s))


def _contributions(path: _Path, starts: np.ndarray, ends: np.ndarray, lows: np.ndarray,
                   highs: np.ndarray, jumps: np.ndarray) -> np.ndarray:
    """[pieces, T]: two Gauss-Legendre nodes per smooth piece and the jump rule for jumps,
    all gradients in one batch."""
    x, w = gauss_legendre(_PIECE_NODES)
    smooth, steep = np.flatnonzero(~jumps), np.flatnonzero(jumps)
    widths = ends - starts
    nodes = (starts[smooth, None] + widths[smooth, None] * x[None, :]).ravel()
    middles = _crossings(path, starts[steep], ends[steep], lows[steep], highs[steep])
    grads = path.gradients(np.concatenate([nodes, middles]))
    out = np.zeros((len(starts), path.length))
    count = len(smooth) * _PIECE_NODES
    if count:
        out[smooth] = np.einsum("pnt,n,p->pt",
                                grads[:count].reshape(len(smooth), _PIECE_NODES, -1),
                                w, widths[smooth])
    for row, piece in enumerate(steep):
        out[piece] = _jump(grads[count + row], float(highs[piece] - lows[piece]))
    return out


def _crossings(path: _Path, starts: np.ndarray, ends: np.ndarray, lows: np.ndarray,
               highs: np.ndarray) -> np.ndarray:
    """Where f crosses the middle of each jump: forward passes narrow every jump 8-fold per
    round, all jumps in one batch, until they are too narrow for float32 path points."""
    starts, ends, lows, highs = starts.copy(), ends.copy(), lows.copy(), highs.copy()
    for _ in range(3):
        wide = np.flatnonzero(ends - starts > _MIN_WIDTH)
        if not len(wide):
            break
        points = np.linspace(starts[wide], ends[wide], 9, axis=1)  # [jumps, 9]
        inner = path.values(points[:, 1:-1].ravel()).reshape(len(wide), 7)
        for row, jump in enumerate(wide):
            line = np.concatenate([[lows[jump]], inner[row], [highs[jump]]])
            middle = 0.5 * (lows[jump] + highs[jump])
            above = (line - middle) * np.sign(highs[jump] - lows[jump]) >= 0
            cell = max(0, int(np.argmax(above)) - 1)
            starts[jump], ends[jump] = points[row, cell], points[row, cell + 1]
            lows[jump], highs[jump] = line[cell], line[cell + 1]
    return 0.5 * (starts + ends)


def _jump(gradient: np.ndarray, change: float) -> np.ndarray:
    """[T] the contribution of a piece too narrow to integrate where f jumps by ``change``:
    that exact total split among positions like the gradient where f crosses the middle of
    the jump. If f follows a sigmoid along one direction across the piece (a saturated gate
    switching), that is the exact integral; the total is exact in any case."""
    total = float(gradient.sum())
    return gradient * (change / total) if total * change > 0 else \
        np.abs(gradient) * (change / max(float(np.abs(gradient).sum()), 1e-30))


def _refine(path: _Path, edges: np.ndarray, values: np.ndarray, starts: np.ndarray,
            ends: np.ndarray, lows: np.ndarray, highs: np.ndarray, contributions: np.ndarray,
            pieces: np.ndarray, narrow: np.ndarray) -> tuple[np.ndarray, ...]:
    """Cut ``pieces`` in two halves of equal mass (module docstring: f's move plus an even
    share of the length), at a scan point when one is close to that middle, else at the
    middle itself (where f is then computed); integrate the halves, and the ``narrow``
    pieces by the jump rule (its known total split by the gradient at its middle), with all
    gradients in one batch."""
    mass = _cumulative_mass(edges, values)
    middles = np.interp(0.5 * (np.interp(starts[pieces], edges, mass)
                               + np.interp(ends[pieces], edges, mass)), mass, edges)
    known = np.full(len(pieces), np.nan)
    for row, piece in enumerate(pieces):
        inside = np.flatnonzero((edges > starts[piece]) & (edges < ends[piece]))
        if not len(inside):
            continue
        low, high = np.interp([starts[piece], ends[piece]], edges, mass)
        pick = inside[int(np.argmin(np.abs(mass[inside] - 0.5 * (low + high))))]
        if abs(mass[pick] - 0.5 * (low + high)) <= 0.25 * (high - low):
            middles[row], known[row] = edges[pick], values[pick]
    missing = np.isnan(known)
    if missing.any():
        known[missing] = path.values(middles[missing])
    new_starts = np.concatenate([starts[narrow], starts[pieces], middles])
    new_ends = np.concatenate([ends[narrow], middles, ends[pieces]])
    new_lows = np.concatenate([lows[narrow], lows[pieces], known])
    new_highs = np.concatenate([highs[narrow], known, highs[pieces]])
    jumps = np.arange(len(new_starts)) < len(narrow)
    fresh = _contributions(path, new_starts, new_ends, new_lows, new_highs, jumps)
    keep = np.setdiff1d(np.arange(len(starts)), np.concatenate([pieces, narrow]))
    starts = np.concatenate([starts[keep], new_starts])
    order = np.argsort(starts, kind="stable")
    return (starts[order], np.concatenate([ends[keep], new_ends])[order],
            np.concatenate([lows[keep], new_lows])[order],
            np.concatenate([highs[keep], new_highs])[order],
            np.concatenate([contributions[keep], fresh])[order])


def _cumulative_mass(edges: np.ndarray, values: np.ndarray,
                     skip: np.ndarray | None = None) -> np.ndarray:
    """Cumulative mass at the scan points: |df| of every cell (``skip``: cells left out) plus
    as much again spread evenly over the length."""
    moves = np.abs(np.diff(values))
    if skip is not None:
        moves = np.where(skip, 0.0, moves)
    mass = moves + max(moves.sum(), 1e-12) * np.diff(edges)
    return np.concatenate([[0.0], np.cumsum(mass)])
