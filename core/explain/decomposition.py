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

Only beta is computed per span: every rule splits an exact total, so gamma is the real run
(one ordinary pass of the model) minus beta, taken so wherever a rule needs it (gamma's
pre-activations, the LSTM cell). A batch of spans costs one batched matrix product per step
and layer, both directions stacked, and each span is computed only from the first step that
reads it in each direction (before that its beta is zero).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from core.model.classifier import RecurrentClassifier
from core.model.tanh_rnn import run_layer

_BATCH_FLOATS = 8_000_000  # beta states per batch of spans (x T x H x directions)


def _activate(pre: Tensor, cell: str, hidden: int) -> Tensor:
    """The gate nonlinearities of ``cell`` on pre-activations [..., G] (a new tensor)."""
    if cell == "lstm":  # i, f, g, o: tanh on g
        out = torch.sigmoid(pre)
        out[..., 2 * hidden:3 * hidden] = torch.tanh(pre[..., 2 * hidden:3 * hidden])
        return out
    if cell == "gru":  # r, z: sigmoid (n is activated separately)
        return torch.sigmoid(pre)
    return torch.tanh(pre)


class _RealLayer:
    """One layer's real run, its directions stacked on axis D, each in its own reading order,
    and everything the CD step loop needs that depends only on it, for all steps at once."""

    def __init__(self, modules: list[nn.RNNBase], cell: str, inputs: Tensor) -> None:
        """``inputs`` [D, T, in]: the layer's real input, each direction in reading order."""
        hidden = modules[0].hidden_size
        self.cell, self.hidden = cell, hidden
        self.outputs = torch.stack([run_layer(m, x.unsqueeze(0))[0]
                                    for m, x in zip(modules, inputs)], dim=1)  # [T, D, H]
        self.w_ih_t = torch.stack([m.weight_ih_l0.t() for m in modules])  # [D, in, G]
        self.w_hh_t = torch.stack([m.weight_hh_l0.t() for m in modules])  # [D, H, G]
        b_ih = torch.stack([m.bias_ih_l0 for m in modules]).unsqueeze(1)  # [D, 1, G]
        b_hh = torch.stack([m.bias_hh_l0 for m in modules]).unsqueeze(1)
        projected = torch.einsum("dti,dig->tdg", inputs, self.w_ih_t)  # [T, D, G]
        self.projected = projected.unsqueeze(2)  # [T, D, 1, G]
        previous = torch.cat([self.outputs.new_zeros(1, *self.outputs.shape[1:]),
                              self.outputs[:-1]])
        hidden_full = torch.einsum("tdh,dhg->tdg", previous, self.w_hh_t)
        if cell == "gru":
            rz, new = slice(0, 2 * hidden), slice(2 * hidden, 3 * hidden)
            self.bias_rz = b_ih[..., rz] + b_hh[..., rz]  # [D, 1, 2H]
            self.full_rz = projected[..., rz] + hidden_full[..., rz] + self.bias_rz[:, 0]
            act_rz_bias = torch.sigmoid(self.bias_rz)
            self.half_rz = 0.5 * (torch.sigmoid(self.full_rz) - act_rz_bias[:, 0])
            self.b_hn = b_hh[..., new]
            hn_full = hidden_full[..., new] + self.b_hn[:, 0]
            self.n_full = (projected[..., new] + b_ih[:, 0, new]
                           + torch.sigmoid(self.full_rz[..., :hidden]) * hn_full)
            self.r_bias, self.z_bias = act_rz_bias[..., :hidden], act_rz_bias[..., hidden:]
            self.n_bias_pre = b_ih[..., new] + self.r_bias * self.b_hn
            n_bias = torch.tanh(self.n_bias_pre)
            self.half_n = 0.5 * (torch.tanh(self.n_full) - n_bias[:, 0])
            self.keep_bias = 1.0 - self.z_bias
            self.both_bias = self.keep_bias * n_bias
            self.n_bias = n_bias
            # per-step tensors get a batch axis of one: [T, D, 1, X]
            self.full_rz, self.half_rz = self.full_rz.unsqueeze(2), self.half_rz.unsqueeze(2)
            self.n_full, self.half_n = self.n_full.unsqueeze(2), self.half_n.unsqueeze(2)
            return
        self.bias = b_ih + b_hh  # [D, 1, G]
        self.full = projected + hidden_full + self.bias[:, 0]  # [T, D, G]
        activated = _activate(self.full, cell, hidden)
        self.act_bias = _activate(self.bias, cell, hidden)
        self.half = 0.5 * (activated - self.act_bias[:, 0]).unsqueeze(2)  # [T, D, 1, G]
        if cell == "lstm":
            i, f, g = (activated[..., k * hidden:(k + 1) * hidden] for k in range(3))
            cells = torch.empty_like(self.outputs)
            cell_state = self.outputs.new_zeros(self.outputs.shape[1:])
            for t in range(len(cells)):  # element-wise only: the products are known
                cell_state = torch.addcmul(i[t] * g[t], f[t], cell_state, out=cells[t])
            self.cells = cells.unsqueeze(2)
            self.half_outputs = 0.5 * self.outputs.unsqueeze(2)
            self.half_out_gate = 0.5 * activated[..., 3 * hidden:].unsqueeze(2)
            self.i_bias = self.act_bias[..., :hidden]
            self.f_bias = self.act_bias[..., hidden:2 * hidden]
            self.g_bias = self.act_bias[..., 2 * hidden:3 * hidden]
            self.both_bias = self.i_bias * self.g_bias
            self.out_gate = 2.0 * self.half_out_gate
            # The g rows doubled: tanh(z) = 2 sigmoid(2z) - 1, and torch's CPU sigmoid is
            # several times faster than its tanh, so one sigmoid serves all three gates the
            # step loop splits. The step loop then works on doubled g pre-activations (exact:
            # powers of two). The output gate acts on the whole state (its real value), so
            # the loop computes only the i, f, g columns: a quarter less work per step.
            scale = torch.ones(3 * hidden)
            scale[2 * hidden:] = 2.0
            gates = slice(0, 3 * hidden)
            self.w_ih_t = (self.w_ih_t[..., gates] * scale).contiguous()
            self.w_hh_t = (self.w_hh_t[..., gates] * scale).contiguous()
            self.projected = self.projected[..., gates] * scale
            self.bias = self.bias[..., gates] * scale
            self.full = self.full[..., gates] * scale
            self.half = self.half[..., gates].contiguous()
            # beta's share of each gate plus the gate's bias value: the loop's factors
            self.half_and_bias = self.half + self.act_bias[..., gates]
            self.coef = 0.5 * scale  # beta's share: half the difference of the activations
        self.full = self.full.unsqueeze(2)  # [T, D, 1, G]


def _run_layer(real: _RealLayer, rel_in: Tensor | None, inside: Tensor | None,
               spans: Tensor | None = None, pool: Tensor | None = None) -> Tensor:
    """beta [B, T, D*H] (reading order) of one layer from beta of its input ``rel_in``
    [T, D, B, in] (each direction in its reading order); ``inside`` [T, D, B] 1.0 where a
    step reads a word of the span and its bias x bias terms go to beta (None: they all go to
    gamma). First layer: ``rel_in`` None and ``spans`` [T, D, B] the 0/1 span masks, as its
    input is the real one masked, so its products are the real ones masked.

    gamma is never carried: every rule splits an exact total, so gamma is the real run minus
    beta, and where a rule needs it (the pre-activations, the LSTM cell) it is taken so.

    ``pool`` [T, D, 1, 1]: the weight of each direction's step in a pooling that is linear in
    the states (attention with the real run's weights, mean, last): beta is then pooled as
    the loop goes, [B, D*H], and its states are never stored or put back in reading order.
    """
    if rel_in is not None:
        live = (rel_in != 0).any(-1)
    else:
        assert spans is not None
        live = spans != 0
    steps, directions, batch = live.shape
    hidden = real.hidden
    dtype = real.outputs.dtype
    # beta's states: every step's, or with ``pool`` only two steps' (the step's and the
    # previous one's) and the pooled sum
    rel_out = live.new_zeros(2 if pool is not None else steps, directions, batch, hidden,
                             dtype=dtype)
    pooled = live.new_zeros(directions, batch, hidden, dtype=dtype) if pool is not None else None
    # beta is zero before the first step that reads a span's words (in each direction's own
    # reading order). Rows sorted by that step, the rows under way at step t are a prefix of
    # each direction's order, and only they are computed.
    if inside is not None:
        live |= inside != 0
    begins = torch.where(live.any(0), live.to(torch.int8).argmax(0), steps)  # [D, B]
    order = torch.argsort(begins, dim=1, stable=True)
    begins = begins.gather(1, order)
    clock = torch.arange(steps)
    counts = torch.stack([torch.searchsorted(begins[d].contiguous(), clock, right=True)
                          for d in range(directions)]).amax(0).tolist()
    if not counts[-1]:
        return _pooled(pooled, order) if pooled is not None else _reading(rel_out, order)

    def by_order(x: Tensor) -> Tensor:  # rows of [T, D, B, ...] in each direction's order
        index = order.view(1, directions, batch, *([1] * (x.dim() - 3)))
        return x.gather(2, index.expand_as(x))

    inside = by_order(inside) if inside is not None else None
    first = next(t for t, n in enumerate(counts) if n)
    whole = None
    if rel_in is not None:
        whole = torch.einsum("dtbi,dig->tdbg", by_order(rel_in)[first:].permute(1, 0, 2, 3)
                             .contiguous(), real.w_ih_t)
    else:
        spans = by_order(spans)

    def projected(t: int, n: int) -> Tensor:
        """beta's input products at step t for the first n rows: [D, n, G]."""
        if whole is not None:
            return whole[t - first, :, :n]
        assert spans is not None
        return spans[t, :, :n].unsqueeze(-1) * real.projected[t]

    def state(t: int, n: int) -> Tensor:
        """Where beta's state of step t goes (its first n rows: the others stay zero)."""
        return rel_out[t % 2 if pooled is not None else t, :, :n]

    def kept(t: int, n: int) -> Tensor:
        """Step t's state written: add it to the pool; the whole state for the next step."""
        if pooled is not None:
            assert pool is not None
            pooled[:, :n].addcmul_(pool[t], rel_out[t % 2, :, :n])
            return rel_out[t % 2]
        return rel_out[t]

    h_rel = rel_out.new_zeros(directions, batch, hidden)
    cell = real.cell
    if cell == "lstm":
        # beta and gamma of the cell, this step's and the previous one's (rows not under
        # way stay zero in both)
        c_pairs = rel_out.new_zeros(2, 2, directions, batch, hidden)
        # inside - 1: -1 where the bias x bias term goes to gamma
        outside = inside - 1.0 if inside is not None else None
        for t in range(first, steps):
            n = counts[t]
            rel = torch.baddbmm(projected(t, n), h_rel[:, :n], real.w_hh_t)  # g doubled
            part = torch.add(rel, real.bias).sigmoid_()
            part.sub_(torch.sub(real.full[t], rel).sigmoid_())
            # beta's share of each gate plus the gate's bias value (i + i_b, f + f_b, g + g_b)
            part = torch.addcmul(real.half_and_bias[t], part, real.coef)
            i_and, f_and, g_and = (part[..., k * hidden:(k + 1) * hidden] for k in range(3))
            pair, before = c_pairs[t % 2, :, :, :n], c_pairs[(t + 1) % 2, 0, :, :n]
            # beta of i g: i g_b + i_b g + i g = (i + i_b)(g + g_b) - i_b g_b, the bias x bias
            # term given back to gamma unless the step reads the span (bias_in_span)
            c_rel = torch.mul(i_and, g_and, out=pair[0]).addcmul_(f_and, before)
            if outside is not None:
                c_rel.addcmul_(real.both_bias, outside[t, :, :n].unsqueeze(-1))
            else:
                c_rel.sub_(real.both_bias)
            torch.sub(real.cells[t], c_rel, out=pair[1])
            squashed = torch.mul(pair, 2.0).sigmoid_()  # (tanh + 1) / 2
            torch.addcmul(real.half_outputs[t], real.out_gate[t], squashed[0] - squashed[1],
                          out=state(t, n))
            h_rel = kept(t, n)
    elif cell == "gru":
        rz, new = slice(0, 2 * hidden), slice(2 * hidden, 3 * hidden)
        for t in range(first, steps):
            n = counts[t]
            h_now = h_rel[:, :n]
            from_hidden = torch.bmm(h_now, real.w_hh_t)
            inputs = projected(t, n)
            rel_rz = inputs[..., rz] + from_hidden[..., rz]
            diff = torch.sigmoid(rel_rz + real.bias_rz).sub_(
                torch.sigmoid(real.full_rz[t] - rel_rz))
            rz_rel = torch.add(real.half_rz[t], diff, alpha=0.5)
            r_rel, z_rel = rz_rel[..., :hidden], rz_rel[..., hidden:]
            hn_rel = from_hidden[..., new]
            n_rel_pre = inputs[..., new] + r_rel * (hn_rel + real.b_hn) + real.r_bias * hn_rel
            diff = torch.tanh(n_rel_pre + real.n_bias_pre).sub_(
                torch.tanh(real.n_full[t] - n_rel_pre))
            n_rel = torch.add(real.half_n[t], diff, alpha=0.5)
            update = (n_rel + real.n_bias).mul_(z_rel).neg_()
            update.addcmul_(real.keep_bias, n_rel).addcmul_(z_rel + real.z_bias, h_now)
            if inside is not None:
                update.addcmul_(real.both_bias, inside[t, :, :n].unsqueeze(-1))
            state(t, n).copy_(update)
            h_rel = kept(t, n)
    else:
        for t in range(first, steps):
            n = counts[t]
            rel = torch.baddbmm(projected(t, n), h_rel[:, :n], real.w_hh_t)
            part = torch.tanh(rel + real.bias).sub_(torch.tanh(real.full[t] - rel))
            h_new = torch.add(real.half[t], part, alpha=0.5)
            if inside is not None:
                h_new.addcmul_(real.act_bias, inside[t, :, :n].unsqueeze(-1))
            state(t, n).copy_(h_new)
            h_rel = kept(t, n)
    return _pooled(pooled, order) if pooled is not None else _reading(rel_out, order)


def _pooled(pooled: Tensor, order: Tensor) -> Tensor:
    """Pooled beta [D, B, H], rows in each direction's ``order``, as [B, D*H] in the input's
    row order."""
    back = torch.argsort(order, dim=1)
    return torch.cat([pooled[d].index_select(0, back[d]) for d in range(pooled.size(0))],
                     dim=-1)


def _reading(rel: Tensor, order: Tensor) -> Tensor:
    """beta [T, D, B, H], rows in each direction's ``order``, as [B, T, D*H] in the input's
    row order and reading order."""
    back = torch.argsort(order, dim=1)
    parts = [rel[:, d].index_select(1, back[d]) for d in range(rel.size(1))]
    if len(parts) > 1:
        parts[1] = parts[1].flip(0)
    return torch.cat(parts, dim=-1).transpose(0, 1)


@torch.no_grad()
def decompose(model: RecurrentClassifier, ids: np.ndarray, masks: np.ndarray,
              bias_in_span: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(beta, gamma) logits [B, C] of one review for B spans; beta + gamma = the logits.

    ``ids`` [T] is the model input (unpadded), ``masks`` [B, T] True at the positions of each
    span (any set of positions works, contiguous or not); ``bias_in_span``: Murdoch's
    convention for bias x bias terms (module docstring). The model must be in eval mode
    (dropout off), as explanations always run it.
    """
    if model.training:
        raise ValueError("contextual decomposition describes the model in eval mode")
    masks = np.atleast_2d(np.asarray(masks, dtype=bool))
    if masks.shape[1] != len(ids):
        raise ValueError("each mask must have one entry per input position")
    classes = model.classifier.out_features
    rel_all, irr_all = np.zeros((len(masks), classes)), np.zeros((len(masks), classes))
    # Spans that sit close together share a batch: beta is zero before a batch's first span
    # word in either direction, and those steps are skipped.
    where = np.where(masks.any(1), masks.argmax(1), masks.shape[1])
    order = np.argsort(where, kind="stable")
    real: dict[int, _RealLayer] = {}  # the real run, shared by the batches
    directions = 2 if model.bidirectional else 1
    # one batch where memory allows: every batch pays the whole step loop's fixed cost
    size = max(16, _BATCH_FLOATS // (len(ids) * model.hidden_size * directions))
    for start in range(0, len(order), size):
        rows = order[start:start + size]
        rel_all[rows], irr_all[rows] = _decompose_batch(model, ids, masks[rows], real,
                                                        bias_in_span)
    return rel_all, irr_all


def _directions(x: Tensor, directions: int) -> Tensor:
    """[..., T, F] in reading order -> [D, ..., T, F]: reading order, then reversed."""
    return torch.stack([x, x.flip(-2)][:directions])


def _decompose_batch(model: RecurrentClassifier, ids: np.ndarray, masks: np.ndarray,
                     real: dict[int, _RealLayer],
                     bias_in_span: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """beta and gamma logits for a batch of spans; ``real`` caches each layer's real run."""
    device = next(model.parameters()).device
    token_ids = torch.as_tensor(np.asarray(ids), dtype=torch.long, device=device)
    directions = 2 if model.bidirectional else 1
    inside = torch.as_tensor(masks, dtype=torch.float32, device=device)  # [B, T]
    embedded = model.embedding(token_ids.unsqueeze(0))[0]  # [T, E]
    x_full = embedded
    x_rel = None  # [B, T, in] in reading order; the first layer's is the input masked
    reads = _directions(inside.unsqueeze(-1), directions)[..., 0].permute(2, 0, 1)  # [T, D, B]
    last = len(model.forward_layers) - 1
    pooled_rel = pooled_irr = None
    for index, forward_layer in enumerate(model.forward_layers):
        if index not in real:
            modules = [forward_layer] + ([model.backward_layers[index]]
                                         if model.bidirectional else [])
            real[index] = _RealLayer(modules, model.cell, _directions(x_full, directions))
        layer = real[index]
        rel_in = (None if x_rel is None
                  else _directions(x_rel, directions).permute(2, 0, 1, 3))  # [T, D, B, in]
        full = [layer.outputs[:, 0]] + ([layer.outputs[:, 1].flip(0)] if directions == 2
                                        else [])
        x_full = torch.cat(full, dim=-1)  # [T, D*H]
        pool = _step_weights(model, x_full) if index == last else None
        # Deeper layers have no bias of their own in their input: the previous layer's
        # beta and gamma already add up to its outputs, so the real products are consistent.
        x_rel = _run_layer(layer, rel_in, reads if bias_in_span else None,
                           reads if index == 0 else None, pool)
        if pool is not None:  # x_rel is beta pooled; gamma's is the real pool minus it
            pooled_rel = x_rel
            real_pool = model.pool(x_full.unsqueeze(0), torch.tensor([x_full.size(0)]))
            pooled_irr = real_pool - pooled_rel
    assert x_rel is not None
    if pooled_rel is None:
        pooled_rel, pooled_irr = _pool(model, x_rel, x_full - x_rel, x_full)
    weight, bias = model.classifier.weight, model.classifier.bias
    rel_logits = pooled_rel @ weight.t()
    irr_logits = pooled_irr @ weight.t() + bias
    return rel_logits.double().cpu().numpy(), irr_logits.double().cpu().numpy()


def _step_weights(model: RecurrentClassifier, full: Tensor) -> Tensor | None:
    """[T, D, 1, 1] the weight of each direction's step (direction 1 reads backwards) in the
    model's pooling of the last layer's outputs ``full`` [T, D*H], where that pooling is a
    weighted sum with weights that do not depend on beta (attention: the real run's); None
    for max pooling."""
    steps = full.size(0)
    if model.pooling == "attention":  # weights by reading position: direction 1 flipped
        weights = _attention_weights(model, full)
        by_step = [weights] + ([weights.flip(0)] if model.bidirectional else [])
    elif model.pooling == "mean":
        by_step = [full.new_full((steps,), 1.0 / steps)] * (2 if model.bidirectional else 1)
    elif model.pooling == "last":  # each direction's last step (position 0 for direction 1)
        last = full.new_zeros(steps)
        last[-1] = 1.0
        by_step = [last] * (2 if model.bidirectional else 1)
    else:
        return None
    return torch.stack(by_step, dim=1).view(steps, -1, 1, 1)


def _pool(model: RecurrentClassifier, rel: Tensor, irr: Tensor, full: Tensor
          ) -> tuple[Tensor, Tensor]:
    """The model's pooling applied to beta and gamma [B, T, H] of one review of T tokens.
    Decompositions take it for max pooling only (the others pool as the loop runs,
    _step_weights); its other branches are the tests' reference for that in-loop pooling."""
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
    weights = _attention_weights(model, full).view(1, -1, 1)
    return (weights * rel).sum(1), (weights * irr).sum(1)


def _attention_weights(model: RecurrentClassifier, full: Tensor) -> Tensor:
    """[T] the attention pooling's weights over one review's real outputs ``full`` [T, H]
    (every step is a real word, so no mask): taken from the whole outputs, like an output
    gate, they are the same for beta and gamma."""
    assert model.attention is not None
    return torch.softmax(model.attention(torch.tanh(full)).squeeze(-1), dim=0)


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
