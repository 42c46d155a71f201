"""Where the opinion turns: the class probabilities after reading each prefix of a review.

Each prefix is run as a review of its own, so a bidirectional model sees only the words read
so far (its backward direction cannot peek ahead). All prefixes go through the model in a few
length-sorted batches.

For a one-layer model on the CPU the forward direction is not run per prefix: its states on a
prefix are the first states of the whole review, so one pass over the review serves every
prefix, and only the backward direction runs per prefix (all prefixes in one batch whose rows
stop as their prefixes end). Attention pooling (the default) is then computed on those states
as they are, without building every prefix's outputs in reading order.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from core.explain.attribution import class_probabilities, model_device
from core.explain.recurrent_path import (
    _forward,
    _Inputs,
    _layer,
    _release,
    _Workspace,
    _workspace,
    supported,
)
from core.model.classifier import RecurrentClassifier
from core.model.tanh_rnn import run_layer

MAX_POINTS = 100  # prefixes cost O(length^2): a long review shows an even subset


def prefix_points(ends: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of the words to compute a prefix for: every read word, or an even subset.

    ``ends[w]`` is how many input positions are read once word w is (0 for words not read).
    A long review keeps at most ``max_points`` evenly spaced words, always including the last.
    """
    read = np.flatnonzero(ends > 0)
    if len(read) <= max_points:
        return read
    picks = np.unique(np.round(np.linspace(0, len(read) - 1, max_points)).astype(np.int64))
    return read[picks]


def trajectory(model: RecurrentClassifier, ids: np.ndarray, ends: np.ndarray,
               max_points: int = MAX_POINTS, batch_size: int = 64) -> np.ndarray:
    """[n_words, C] probabilities after each word; NaN rows for words skipped or not read."""
    num_classes = model.classifier.out_features
    result = np.full((len(ends), num_classes), np.nan)
    words = prefix_points(ends, max_points)
    if len(words):
        lengths = np.array([int(ends[w]) for w in words])
        shared = _one_layer(model, ids, lengths)
        result[words] = shared if shared is not None else class_probabilities(
            model, [ids[:n] for n in lengths], batch_size)
    return result


def _one_layer(model: RecurrentClassifier, ids: np.ndarray,
               lengths: np.ndarray) -> np.ndarray | None:
    """[P, C] probabilities of the prefixes ``ids[:n]`` for n in ``lengths`` with the
    forward direction shared; None where that does not apply (several layers, not the CPU,
    a layer the hand-written recurrences do not cover)."""
    if (len(model.forward_layers) != 1 or not supported(model)
            or model_device(model).type != "cpu" or model.training):
        return None
    with torch.no_grad():
        order = np.argsort(-lengths, kind="stable")
        ordered = torch.as_tensor(lengths[order], dtype=torch.long)
        longest = int(ordered[0])
        embedded = model.embedding(torch.as_tensor(ids[:longest], dtype=torch.long))  # [S, E]
        # one row: the module's own (C++) step loop beats a Python one
        states = run_layer(model.forward_layers[0], embedded.unsqueeze(0))[0]  # [S, H]
        outputs = states.unsqueeze(0).expand(len(order), -1, -1)  # [P, S, H]
        if model.bidirectional:
            backward = _layer([model.backward_layers[0]], model.cell)
            table = embedded @ backward.w_ih_t[0] + backward.bias[0]  # [S, G]
            # step s of prefix k reads word n_k - 1 - s; rows stop as their prefixes end
            steps = torch.arange(longest).unsqueeze(1)
            reads = (ordered.unsqueeze(0) - 1 - steps).clamp(min=0)  # [S, P]
            running = [int(n) for n in (ordered.unsqueeze(0) > steps).sum(1)]
            # the process's reused buffers: no fresh pages for the states of every prefix
            workspace = _workspace()
            try:
                back, _ = _forward(backward, _Inputs(table=table, index=reads), save=False,
                                   running=running, workspace=workspace)  # [S, 1, P, H]
                if model.pooling == "attention":
                    logits = _attention(model, states, back[:, 0], reads, ordered, workspace)
                else:
                    back = back[:, 0].gather(
                        0, reads.unsqueeze(-1).expand(-1, -1, back.size(-1)))
                    outputs = torch.cat([outputs, back.transpose(0, 1)], dim=-1)
                    logits = model.classifier(model.pool(outputs, ordered))
            finally:
                _release(workspace)
        else:
            logits = model.classifier(model.pool(outputs, ordered))
        probabilities = torch.softmax(logits.double(), dim=1).numpy()
    result = np.empty_like(probabilities)
    result[order] = probabilities
    return result


def _attention(model: RecurrentClassifier, forward: Tensor, back: Tensor, reads: Tensor,
               lengths: Tensor, workspace: _Workspace) -> Tensor:
    """[P, C] logits of attention pooling over each prefix from the shared forward states
    [S, H] and the backward states [S, P, H] in step order (step s of prefix k read position
    ``reads[s, k]``), without building every prefix's [S, 2H] outputs in reading order."""
    assert model.attention is not None
    size = model.hidden_size
    weight = model.attention.weight[0]
    steps = torch.arange(back.size(0)).unsqueeze(1)
    live = steps < lengths.unsqueeze(0)  # [S, P]
    squashed = torch.tanh(back, out=workspace.get("prefix_tanh", *back.shape))
    scores = (torch.tanh(forward) @ weight[:size])[reads] + squashed @ weight[size:]
    scores = (scores + model.attention.bias).masked_fill(~live, float("-inf"))
    weights = torch.softmax(scores, dim=0)  # [S, P]
    pooled_back = torch.einsum("sp,sph->ph", weights, back)
    # the forward half pairs step s of prefix k with the position it read
    by_position = torch.zeros_like(weights).scatter_add_(0, reads, weights)
    pooled_forward = by_position.t() @ forward
    return model.classifier(torch.cat([pooled_forward, pooled_back], dim=-1))
