"""Contextual decomposition (CD): how much of the model's logits comes from one span of words.

Murdoch, Liu & Yu (ICLR 2018) split every hidden and cell state of an LSTM into a *relevant*
part beta (what the chosen span contributes) and an *irrelevant* part gamma (everything else:
other words, biases), carried step by step so that beta + gamma always equals the real state.
At the end the classifier is linear, so beta gives the span's own share of each logit and
beta + gamma is the logit itself. Unlike per-word gradients, the span is scored as one unit:
"not bad" gets a score of its own, and the score of "not bad" minus the scores of "not" and
"bad" alone is the *interaction* inside it (Singh, Murdoch & Yu, ICLR 2019, hierarchical CD).

Rules, per step (all exact: the parts add up to the real value):
- a linear map takes beta and gamma separately; biases form a third part;
- an activation of (beta + gamma + bias) is split by the average of the two orders in which
  beta and gamma can be added (the two-player Shapley value), the bias alone keeping
  act(bias);
- a product of two split factors gives beta the terms of beta and bias factors only, gamma
  every term holding a gamma factor, and the bias x bias term to gamma: no word put it there.
  (Murdoch's code gives it to beta at the steps that read the span; with that convention a
  sentence-final "." alone got +4 log-odds from the SST-2 model, the state its biases build
  at the first step of the backward direction. ``bias_in_span=True`` restores it.);
- the LSTM output gate and the attention weights act on the whole state (as in Murdoch's CD);
  max pooling takes each unit at the step where the real output is largest.
The GRU and tanh RNN follow the same rules (cf. Jumelet, Zuidema & Hupkes 2019 on CD for
GRUs). Bidirectional layers read the span mirrored; deeper layers take the previous layer's
beta and gamma as their two inputs.

Only the beta products are computed per span: gamma's pre-activations are the real ones
(from one ordinary pass of the model) minus beta's, so a batch of spans costs one matrix
product per step and layer direction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from core.model.classifier import RecurrentClassifier, length_mask
from core.model.tanh_rnn import run_layer

_SPAN_BATCH = 48  # spans decomposed together (nearby ones: see decompose)

def _prepare_direction(module: nn.RNNBase, inputs_full: Tensor) -> tuple[Tensor, Tensor]:
    """Real outputs [T, H] of one direction and its real input products W_ih x [T, G]."""
    outputs = run_layer(module, inputs_full.unsqueeze(0))[0]
    projected = inputs_full @ module.weight_ih_l0.t()
    return outputs, projected


def _activate(pre: Tensor, cell: str, hidden: int) -> Tensor:
    """The gate nonlinearities of ``cell`` on pre-activations [..., G] (a new tensor)."""
    if cell == "lstm":  # i, f, g, o: tanh on g
        out = torch.sigmoid(pre)
        out[..., 2 * hidden:3 * hidden] = torch.tanh(pre[..., 2 * hidden:3 * hidden])
        return out
    if cell == "gru":  # r, z: sigmoid (n is activated separately)
        return torch.sigmoid(pre)
    return torch.tanh(pre)


def _run_direction(module: nn.RNNBase, cell: str, rel_in: Tensor, projected_full: Tensor,
                   outputs_full: Tensor, inside: Tensor) -> tuple[Tensor, Tensor]:
    """beta and gamma [B, T, H] of one direction over rel_in [B, T, in] (reading order).

    ``projected_full`` [T, G] is W_ih x of the real input, ``outputs_full`` [T, H] the real
    outputs, ``inside`` [B, T] 1.0 where the step reads a word of the span and the step's
    bias x bias terms go to beta (all zero: they go to gamma). Everything that
    depends only on the real run is computed for all steps at once; the step loop does the
    per-span work (one product and a few element-wise passes).
    """
    batch, steps, _ = rel_in.shape
    hidden = module.hidden_size
    w_hh_t = module.weight_hh_l0.t()
    b_ih, b_hh = module.bias_ih_l0, module.bias_hh_l0
    previous_full = torch.cat([outputs_full.new_zeros(1, hidden), outputs_full[:-1]])
    hidden_full = previous_full @ w_hh_t  # [T, G]: W_hh h_{t-1} of the real run
    rel_out = rel_in.new_zeros(batch, steps, hidden)
    irr_out = outputs_full.unsqueeze(0).repeat(batch, 1, 1)
    # Before the first step that reads any span, beta is zero and gamma the real state.
    reading = (rel_in != 0).flatten(2).any(2).any(0).nonzero()
    if not len(reading):
        return rel_out, irr_out
    first = int(reading[0])
    projected_rel = rel_in[:, first:] @ module.weight_ih_l0.t()  # [B, T', G]
    h_rel = rel_in.new_zeros(batch, hidden)
    c_rel = rel_in.new_zeros(batch, hidden)
    h_irr = (outputs_full[first - 1] if first else rel_in.new_zeros(hidden)).expand(batch, -1)
    c_irr = _real_cell(module, outputs_full, projected_full, hidden_full, first)
    c_irr = c_irr.expand(batch, -1).clone() if c_irr is not None else None
    if cell == "gru":
        rz, new = slice(0, 2 * hidden), slice(2 * hidden, 3 * hidden)
        bias_rz = b_ih[rz] + b_hh[rz]
        full_rz = projected_full[:, rz] + hidden_full[:, rz] + bias_rz  # [T, 2H]
        act_rz_bias = torch.sigmoid(bias_rz)
        half_rz = 0.5 * (torch.sigmoid(full_rz) - act_rz_bias)
        hn_full = hidden_full[:, new] + b_hh[new]  # [T, H]
        n_full = projected_full[:, new] + b_ih[new] + torch.sigmoid(full_rz[:, :hidden]) * hn_full
        n_total = torch.tanh(n_full)
        r_bias, z_bias = act_rz_bias[:hidden], act_rz_bias[hidden:]
        z_total = torch.sigmoid(full_rz[:, hidden:])
        n_bias_pre = b_ih[new] + r_bias * b_hh[new]
        n_bias = torch.tanh(n_bias_pre)
        half_n = 0.5 * (n_total - n_bias)
        keep_bias = 1.0 - z_bias
        both_bias = keep_bias * n_bias
    else:
        bias = b_ih + b_hh
        full = projected_full + hidden_full + bias  # [T, G]
        act_bias = _activate(bias, cell, hidden)
        half = 0.5 * (_activate(full, cell, hidden) - act_bias)
        if cell == "lstm":
            i_bias, f_bias = act_bias[:hidden], act_bias[hidden:2 * hidden]
            g_bias = act_bias[2 * hidden:3 * hidden]
            both_bias = i_bias * g_bias
            g_total = torch.tanh(full[:, 2 * hidden:3 * hidden])
            f_total = torch.sigmoid(full[:, hidden:2 * hidden])
            out_gate = torch.sigmoid(full[:, 3 * hidden:])
    for t in range(first, steps):
        from_hidden = h_rel @ w_hh_t
        inside_t = inside[:, t:t + 1]
        if cell == "gru":
            rel_rz = projected_rel[:, t - first, rz] + from_hidden[:, rz]
            diff = torch.sigmoid(rel_rz + bias_rz) - torch.sigmoid(full_rz[t] - rel_rz)
            rz_rel = half_rz[t] + 0.5 * diff
            rz_irr = half_rz[t] - 0.5 * diff
            r_rel, z_rel, z_irr = rz_rel[:, :hidden], rz_rel[:, hidden:], rz_irr[:, hidden:]
            hn_rel = from_hidden[:, new]
            n_rel_pre = (projected_rel[:, t - first, new] + r_rel * (hn_rel + b_hh[new])
                         + r_bias * hn_rel)
            diff = torch.tanh(n_rel_pre + n_bias_pre) - torch.tanh(n_full[t] - n_rel_pre)
            n_rel, n_irr = half_n[t] + 0.5 * diff, half_n[t] - 0.5 * diff
            to_rel = both_bias * inside_t
            h_rel, h_irr = (
                -z_rel * (n_rel + n_bias) + keep_bias * n_rel + to_rel
                + (z_rel + z_bias) * h_rel,
                -z_irr * n_total[t] + (keep_bias - z_rel) * n_irr + (both_bias - to_rel)
                + z_total[t] * h_irr + z_irr * h_rel)
        else:
            rel = projected_rel[:, t - first] + from_hidden
            diff = _activate(rel + bias, cell, hidden) - _activate(full[t] - rel, cell, hidden)
            part_rel, part_irr = half[t] + 0.5 * diff, half[t] - 0.5 * diff
            if cell == "rnn":
                to_rel = act_bias * inside_t
                h_rel, h_irr = part_rel + to_rel, part_irr + (act_bias - to_rel)
            else:
                assert c_irr is not None
                i_rel, i_irr = part_rel[:, :hidden], part_irr[:, :hidden]
                f_rel, f_irr = part_rel[:, hidden:2 * hidden], part_irr[:, hidden:2 * hidden]
                g_part = slice(2 * hidden, 3 * hidden)
                g_rel, g_irr = part_rel[:, g_part], part_irr[:, g_part]
                to_rel = both_bias * inside_t
                new_rel = i_rel * (g_rel + g_bias) + i_bias * g_rel + to_rel \
                    + (f_rel + f_bias) * c_rel
                c_irr = i_irr * g_total[t] + (i_rel + i_bias) * g_irr + (both_bias - to_rel) \
                    + f_total[t] * c_irr + f_irr * c_rel
                c_rel = new_rel
                tanh_all = torch.tanh(c_rel + c_irr)
                diff = torch.tanh(c_rel) - torch.tanh(c_irr)
                h_rel = out_gate[t] * 0.5 * (tanh_all + diff)
                h_irr = out_gate[t] * 0.5 * (tanh_all - diff)
        rel_out[:, t] = h_rel
        irr_out[:, t] = h_irr
    return rel_out, irr_out


def _real_cell(module: nn.RNNBase, outputs_full: Tensor, projected_full: Tensor,
               hidden_full: Tensor, steps: int) -> Tensor | None:
    """The LSTM's real cell state after ``steps`` steps (None for cells without one)."""
    if not isinstance(module, nn.LSTM):
        return None
    hidden = module.hidden_size
    cell = outputs_full.new_zeros(hidden)
    if not steps:
        return cell
    gates = projected_full[:steps] + hidden_full[:steps] + module.bias_ih_l0 + module.bias_hh_l0
    i = torch.sigmoid(gates[:, :hidden])
    f = torch.sigmoid(gates[:, hidden:2 * hidden])
    g = torch.tanh(gates[:, 2 * hidden:3 * hidden])
    for t in range(steps):  # element-wise only: the hidden products are already known
        cell = f[t] * cell + i[t] * g[t]
    return cell


def _mirror(x: Tensor) -> Tensor:
    """Reading order <-> the backward direction's order (one unpadded review: a flip)."""
    return x.flip(1)


@torch.no_grad()
def decompose(model: RecurrentClassifier, ids: np.ndarray, masks: np.ndarray,
              bias_in_span: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(beta, gamma) logits [B, C] of one review for B spans; beta + gamma = the logits.

    ``ids`` [T] is the model input (unpadded), ``masks`` [B, T] True at the positions of each
    span (any set of positions works, contiguous or not); ``bias_in_span``: Murdoch's
    convention for bias x bias terms (module docstring). The model must be in eval mode
    (dropout off), as explanations always run it.
    """
    masks = np.atleast_2d(np.asarray(masks, dtype=bool))
    classes = model.classifier.out_features
    rel_all, irr_all = np.zeros((len(masks), classes)), np.zeros((len(masks), classes))
    # Spans that sit close together share a batch: beta is zero before a batch's first span
    # word (forward) and after its last (backward), and those steps are skipped.
    where = np.where(masks.any(1), masks.argmax(1), masks.shape[1])
    order = np.argsort(where, kind="stable")
    real: dict[tuple[int, bool], tuple[Tensor, Tensor]] = {}  # the real run, shared
    for start in range(0, len(order), _SPAN_BATCH):
        rows = order[start:start + _SPAN_BATCH]
        rel_all[rows], irr_all[rows] = _decompose_batch(model, ids, masks[rows], real,
                                                        bias_in_span)
    return rel_all, irr_all


def _decompose_batch(model: RecurrentClassifier, ids: np.ndarray, masks: np.ndarray,
                     real: dict[tuple[int, bool], tuple[Tensor, Tensor]],
                     bias_in_span: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """beta and gamma logits for a batch of spans; ``real`` caches each layer direction's
    real outputs and input products across batches."""
    if model.training:
        raise ValueError("contextual decomposition describes the model in eval mode")
    device = next(model.parameters()).device
    token_ids = torch.as_tensor(np.asarray(ids), dtype=torch.long, device=device)
    steps = token_ids.size(0)
    if masks.shape[1] != steps:
        raise ValueError("each mask must have one entry per input position")
    inside = torch.as_tensor(masks, dtype=torch.float32, device=device)
    embedded = model.embedding(token_ids.unsqueeze(0))[0]  # [T, E]
    x_full = embedded
    x_rel = inside.unsqueeze(-1) * embedded  # [B, T, E]
    for index, forward_layer in enumerate(model.forward_layers):
        modules = [(forward_layer, False)]
        if model.bidirectional:
            modules.append((model.backward_layers[index], True))
        rel_outs, irr_outs, full_outs = [], [], []
        for module, backward in modules:
            full_in = x_full.flip(0) if backward else x_full
            rel_in = _mirror(x_rel) if backward else x_rel
            reads = _mirror(inside) if backward else inside
            if not bias_in_span:
                reads = torch.zeros_like(reads)
            if (index, backward) not in real:
                real[index, backward] = _prepare_direction(module, full_in)
            outputs, projected = real[index, backward]
            # Deeper layers have no bias of their own in their input: the previous layer's
            # beta and gamma already add up to its outputs, so projected_full is consistent.
            rel, irr = _run_direction(module, model.cell, rel_in, projected, outputs, reads)
            if backward:
                rel, irr, outputs = _mirror(rel), _mirror(irr), outputs.flip(0)
            rel_outs.append(rel)
            irr_outs.append(irr)
            full_outs.append(outputs)
        x_rel = torch.cat(rel_outs, dim=-1)
        x_irr = torch.cat(irr_outs, dim=-1)
        x_full = torch.cat(full_outs, dim=-1)
    pooled_rel, pooled_irr = _pool(model, x_rel, x_irr, x_full)
    weight, bias = model.classifier.weight, model.classifier.bias
    rel_logits = pooled_rel @ weight.t()
    irr_logits = pooled_irr @ weight.t() + bias
    return rel_logits.double().cpu().numpy(), irr_logits.double().cpu().numpy()


def _pool(model: RecurrentClassifier, rel: Tensor, irr: Tensor, full: Tensor
          ) -> tuple[Tensor, Tensor]:
    """The model's pooling applied to beta and gamma [B, T, H] of one review of T tokens."""
    steps = full.size(0)
    pooling = model.pooling
    if pooling == "last":
        if not model.bidirectional:
            return rel[:, -1], irr[:, -1]
        half = model.hidden_size
        return (torch.cat([rel[:, -1, :half], rel[:, 0, half:]], dim=-1),
                torch.cat([irr[:, -1, :half], irr[:, 0, half:]], dim=-1))
    if pooling == "mean":
        return rel.mean(1), irr.mean(1)
    if pooling in ("max", "max_mean"):
        where = full.argmax(0)  # [H]: the step each unit's maximum comes from
        units = torch.arange(full.size(1), device=full.device)
        max_rel, max_irr = rel[:, where, units], irr[:, where, units]
        if pooling == "max":
            return max_rel, max_irr
        return (torch.cat([max_rel, rel.mean(1)], dim=-1),
                torch.cat([max_irr, irr.mean(1)], dim=-1))
    assert model.attention is not None
    lengths = torch.tensor([steps], device=full.device)
    scores = model.attention(torch.tanh(full.unsqueeze(0))).squeeze(-1)
    weights = torch.softmax(scores.masked_fill(~length_mask(lengths, steps), float("-inf")),
                            dim=1)[0]  # [T], from the whole outputs, like an output gate
    return (weights.view(1, -1, 1) * rel).sum(1), (weights.view(1, -1, 1) * irr).sum(1)


def toward(logits: np.ndarray, target: int) -> np.ndarray:
    """[B] a span's push toward ``target`` in log-odds units: its share of the target logit
    minus the mean share of the other logits (for two classes: the log-odds share)."""
    logits = np.atleast_2d(logits)
    others = np.delete(logits, target, axis=1)
    return logits[:, target] - (others.mean(axis=1) if others.shape[1] else 0.0)


def span_masks(length: int, groups: Sequence[np.ndarray],
               spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """[len(spans), length] masks: span (a, b) covers the positions of groups a..b-1."""
    masks = np.zeros((len(spans), length), dtype=bool)
    for row, (a, b) in enumerate(spans):
        for group in groups[a:b]:
            masks[row, group] = True
    return masks
