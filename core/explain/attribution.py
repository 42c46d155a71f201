"""Attribution methods: how much each input position moved the model toward one class.

Integrated gradients (core.explain.integrated) and occlusion explain the *probability* of the
target class, so their scores read as probability points (+0.12 = this word raised P(class) by
about 12 points) and the two methods can be compared directly. Gradient x input, the fast one
for whole batches, uses the target's log-odds instead: its gradient does not vanish when the
model is very sure, which keeps its word ranking useful on confident predictions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from core.model.batch_input import pad_batch
from core.model.classifier import RecurrentClassifier
from core.model.fast_recurrent import fast_forward
from core.text.vocabulary import UNK_INDEX


def model_device(model: RecurrentClassifier) -> torch.device:
    return next(model.parameters()).device


@contextlib.contextmanager
def backward_ready(model: RecurrentClassifier) -> Iterator[None]:
    """Eval mode with gradients on; on CUDA with cuDNN off for just this block.

    cuDNN's RNN kernels refuse a backward pass in eval mode, and dropout must stay off for an
    explanation to describe the model that predicts, so cuDNN is the one to give way.
    """
    was_training = model.training
    model.eval()
    cudnn_off = (torch.backends.cudnn.flags(enabled=False)
                 if model_device(model).type == "cuda" else contextlib.nullcontext())
    try:
        with cudnn_off, torch.enable_grad():
            yield
    finally:
        model.train(was_training)


@torch.no_grad()
def class_probabilities(model: RecurrentClassifier, sequences: Sequence[np.ndarray],
                        batch_size: int = 128) -> np.ndarray:
    """[N, C] softmax probabilities for unpadded id arrays, in input order."""
    model.eval()
    device = model_device(model)
    out = np.zeros((len(sequences), model.classifier.out_features), dtype=np.float64)
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    order = np.argsort(-lengths, kind="stable")
    # The inference step loop on the CPU (same outputs): trajectories and faithfulness run
    # hundreds of prefixes and variants, which the padded kernels would run to full length.
    forward = fast_forward(model, device, tokens=int(lengths.sum()))
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        ids, lens = pad_batch([sequences[i] for i in index])
        logits = forward(ids.to(device), lens.to(device)).double()
        out[index] = torch.softmax(logits, dim=1).cpu().numpy()
    return out


def replaced(ids: np.ndarray, positions: np.ndarray, token: int = UNK_INDEX) -> np.ndarray:
    """A copy of ``ids`` with ``positions`` set to ``token`` (same length, so nothing shifts)."""
    copy = ids.copy()
    copy[positions] = token
    return copy


def occlusion(model: RecurrentClassifier, ids: np.ndarray, groups: Sequence[np.ndarray],
              target: int, batch_size: int = 128) -> tuple[np.ndarray, float]:
    """P(target | review) minus P(target | review with one group turned into ``<unk>``).

    A group is a word's positions, so "good," loses both its tokens at once; all the
    occluded copies go through the model as batches. Returns (scores per group, P(target)).
    """
    present = [index for index, positions in enumerate(groups) if len(positions)]
    variants = [ids] + [replaced(ids, groups[index]) for index in present]
    probabilities = class_probabilities(model, variants, batch_size)[:, target]
    scores = np.full(len(groups), np.nan)
    scores[present] = probabilities[0] - probabilities[1:]
    return scores, float(probabilities[0])


def target_log_odds(logits: Tensor, target: Tensor) -> Tensor:
    """log P(target) - log P(not target): z_t - logsumexp of the other logits, per row."""
    chosen = logits.gather(1, target.unsqueeze(1)).squeeze(1)
    others = logits.scatter(1, target.unsqueeze(1), float("-inf"))
    return chosen - torch.logsumexp(others, dim=1)


def fast_token_attributions(model: RecurrentClassifier, ids_batch: Tensor | np.ndarray,
                            lengths: Tensor | np.ndarray,
                            target: int | Sequence[int] | np.ndarray | Tensor) -> np.ndarray:
    """Gradient x input for a padded batch in one forward and one backward pass: [B, T].

    The score of a position is the embedding times the gradient of the target's log-odds; it
    is 0 on padding. Rows are independent (the model never mixes reviews), so one backward of
    the summed log-odds gives every row its own gradient. ``target`` is one class for all rows
    or one per row. Meant for batch analysis (top words of many reviews), not for exact sums.
    """
    device = model_device(model)
    ids = torch.as_tensor(ids_batch, dtype=torch.long).to(device)
    lens = torch.as_tensor(lengths, dtype=torch.long).to(device)
    if ids.dim() != 2 or lens.shape != (ids.size(0),):
        raise ValueError("ids_batch must be [B, T] and lengths [B]")
    targets = torch.as_tensor(target, dtype=torch.long).to(device)
    if targets.dim() == 0:
        targets = targets.expand(ids.size(0))
    with backward_ready(model):
        embedded = model.embedding(ids).detach().requires_grad_(True)
        logits = model.forward_embedded(embedded, lens)
        (gradient,) = torch.autograd.grad(target_log_odds(logits, targets).sum(), embedded)
    scores = (gradient * embedded.detach()).sum(-1)
    mask = torch.arange(ids.size(1), device=device).unsqueeze(0) < lens.unsqueeze(1)
    return scores.masked_fill(~mask, 0.0).float().cpu().numpy()


def gradient_x_input(model: RecurrentClassifier, ids: np.ndarray, target: int) -> np.ndarray:
    """Gradient x input for one unpadded review: [T]."""
    return fast_token_attributions(model, ids[None, :], np.array([len(ids)]), target)[0]
