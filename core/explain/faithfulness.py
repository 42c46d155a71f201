"""Is the explanation faithful? ERASER's comprehensiveness and sufficiency (DeYoung et al. 2020).

Take the top 10% of words by score toward the target class and
- *comprehensiveness*: P(target | review) - P(target | review without them): high means the
  model really leaned on those words;
- *sufficiency*: P(target | review) - P(target | only them): low means they alone carry the
  decision.
A word is removed by turning its tokens into ``<unk>`` (lengths unchanged, so nothing shifts).
Removing as many random words gives the bar to beat: an explanation is only worth its colours
if its top words matter more than any words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.explain.attribution import model_device, replaced
from core.model.classifier import RecurrentClassifier

TOP_FRACTION = 0.10
RANDOM_DRAWS = 10


@dataclass
class Faithfulness:
    top_k: int  # how many words were removed / kept
    top_words: list[int]  # their word indices, strongest first
    probability: float  # P(target | full review)
    comprehensiveness: float
    sufficiency: float
    random_comprehensiveness: float  # mean over random draws of k words


def top_count(read_words: int, fraction: float = TOP_FRACTION) -> int:
    """Words in the top ``fraction`` (at least one)."""
    return max(1, min(read_words, int(math.floor(fraction * read_words + 0.5))))


def faithfulness(model: RecurrentClassifier, ids: np.ndarray, positions: Sequence[np.ndarray],
                 scores: np.ndarray, target: int, fraction: float = TOP_FRACTION,
                 random_draws: int = RANDOM_DRAWS,
                 rng: np.random.Generator | None = None) -> Faithfulness | None:
    """Comprehensiveness, sufficiency and the random-removal baseline in one batched pass.

    ``positions[w]`` are word w's input positions, ``scores[w]`` its score toward ``target``
    (NaN for words the model did not read, which are never picked). None when nothing was read.
    """
    read = np.array([len(p) > 0 and np.isfinite(s) for p, s in zip(positions, scores)])
    candidates = np.flatnonzero(read)
    if not len(candidates):
        return None
    k = top_count(len(candidates), fraction)
    ranked = candidates[np.argsort(-scores[candidates], kind="stable")]
    top = ranked[:k]
    top_positions = np.concatenate([positions[w] for w in top])
    everything = np.arange(len(ids))
    variants = [ids, replaced(ids, top_positions),
                replaced(ids, np.setdiff1d(everything, top_positions))]
    rng = rng or np.random.default_rng(0)
    for _ in range(random_draws):
        chosen = rng.choice(candidates, size=k, replace=False)
        variants.append(replaced(ids, np.concatenate([positions[w] for w in chosen])))
    probabilities = _same_length(model, variants)[:, target]
    full = float(probabilities[0])
    random_drop = full - probabilities[3:]
    return Faithfulness(
        top_k=k, top_words=[int(w) for w in top], probability=full,
        comprehensiveness=full - float(probabilities[1]),
        sufficiency=full - float(probabilities[2]),
        random_comprehensiveness=float(random_drop.mean()) if len(random_drop) else float("nan"))


@torch.no_grad()
def _same_length(model: RecurrentClassifier, variants: list[np.ndarray]) -> np.ndarray:
    """[N, C] probabilities of variants that all have the review's length: one batch through
    the model's own modules, nothing padded (its C++ step loop beats the inference kernels'
    Python one on a dozen rows)."""
    model.eval()
    device = model_device(model)
    ids = torch.as_tensor(np.stack(variants), dtype=torch.long, device=device)
    lengths = torch.full((len(variants),), ids.size(1), dtype=torch.long, device=device)
    return torch.softmax(model(ids, lengths).double(), dim=1).cpu().numpy()
