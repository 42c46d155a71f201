"""f and its integrated-gradients integrand along the straight path of one review, fast on CPU.

Integrated gradients needs, at many points x(a) = baseline + a * delta of one review, the
target probability and the gradient dotted with delta at every position. Through torch's
modules that costs a full autograd pass per batch, weight gradients included, with the
first layer's input product recomputed for every point. Here, for the recurrent layers as
RecurrentClassifier builds them (float32, CPU):

- the first layer's input products are linear in a: W x(a) + b = (W baseline + b) + a W delta,
  so both parts are computed once per review and every point costs one multiply-add;
- the recurrences run as hand-written loops over time with both directions stacked in one
  batched product per step, and their backward pass computes only what the gradient with
  respect to the inputs needs (no weight gradients, step coefficients precomputed for all
  steps at once);
- the gradient never goes back to the embeddings: grad_x . delta = grad_pre . (W delta), the
  pre-activation gradient against the products computed once;
- the LSTM's forward pass keeps, per step, the products its backward step multiplies by, so
  a backward step is one matrix product and four elementwise operations;
- attention pooling (the default) and the classifier after one layer are differentiated by
  hand on the states as the loop leaves them; other poolings, the classifier and any deeper
  layers run through autograd (the model's own pooling code, so every pooling is covered);
- the large buffers are reused from one pass to the next (and kept by the process up to
  _KEEP_BYTES), instead of fresh memory the OS must fault in and zero for every pass.

Tests compare values and integrands with autograd through the model for every cell,
direction, depth and pooling.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from torch import Tensor, nn

from core.model.classifier import RecurrentClassifier

# Float32 numbers per evaluation point and position the backward pass keeps: bounds a batch.
_SAVED_PER_GATE = 4
_BATCH_BYTES = 256 * 1024 * 1024
# Buffers kept between passes (the next explanation reuses them instead of having the OS
# hand out and zero fresh pages); larger ones are freed when a pass is done with them.
_KEEP_BYTES = _BATCH_BYTES
_NATIVE_POINTS = 16  # forward-only batches up to this size run through torch's modules
_ONE = torch.ones(())
_MINUS_ONE = -torch.ones(())


class _Workspace:
    """Named float32 buffers reused from one pass to the next: a pass writes hundreds of
    megabytes of saved activations, and fresh memory for each costs page faults."""

    def __init__(self) -> None:
        self.buffers: dict[str, Tensor] = {}

    def get(self, name: str, *shape: int) -> Tensor:
        size = int(np.prod(shape))
        buffer = self.buffers.get(name)
        if buffer is None or buffer.numel() < size:
            self.buffers.pop(name, None)
            buffer = self.buffers[name] = torch.empty(size)
        return buffer[:size].view(shape)

    def trim(self, keep: int = _KEEP_BYTES) -> None:
        """Free the largest buffers until at most ``keep`` bytes remain."""
        for name in sorted(self.buffers, key=lambda name: -self.buffers[name].numel()):
            if 4 * sum(b.numel() for b in self.buffers.values()) <= keep:
                break
            del self.buffers[name]


_lock = threading.Lock()
_idle: list[_Workspace] = []  # returned by finished passes; any thread may take one


def _workspace() -> _Workspace:
    """A workspace no other pass is using: the app explains each review in a new thread,
    so the buffers are kept by the process, not by a thread."""
    with _lock:
        return _idle.pop() if _idle else _Workspace()


def _release(workspace: _Workspace) -> None:
    workspace.trim()
    with _lock:
        if not _idle:  # one is enough: passes run one at a time but for rare overlaps
            _idle.append(workspace)


def supported(model: RecurrentClassifier) -> bool:
    """Plain float32 single-layer modules on the CPU, as RecurrentClassifier builds them."""
    modules = list(model.forward_layers) + list(model.backward_layers)
    return isinstance(model, RecurrentClassifier) and all(
        type(m) in (nn.LSTM, nn.GRU, nn.RNN)
        and m.num_layers == 1 and not m.bidirectional and m.bias and m.batch_first
        and getattr(m, "proj_size", 0) == 0 and getattr(m, "nonlinearity", "tanh") == "tanh"
        and m.weight_hh_l0.dtype == torch.float32 and m.weight_hh_l0.device.type == "cpu"
        for m in modules)


@dataclass
class _Layer:
    """One layer, its directions stacked on a leading axis D; LSTM gates reordered o, i, f, g
    so that the three sigmoid gates come first and the step coefficients of i, f, g are one
    contiguous block."""

    cell: str
    hidden: int
    w_ih_t: Tensor  # [D, in, G]
    w_hh_t: Tensor  # [D, H, G]
    w_hh: Tensor  # [D, G, H]
    bias: Tensor  # [D, 1, G]: biases added with the input (GRU: b_ih only)
    b_hh: Tensor | None  # [D, 1, G]: GRU only, added to W_hh h (the reset gate scales b_hn)
    # LSTM: 1 for the sigmoid gates, 2 for g. The forward loops run on pre-activations scaled
    # so, as tanh(z) = 2 sigmoid(2z) - 1 lets one in-place sigmoid over the whole contiguous
    # gate block serve all four gates: torch's tanh on the g columns alone (a strided slice)
    # costs several times a sigmoid on every column with two threads. Powers of two: exact.
    scale: Tensor | None = None  # [G]
    w_hh_t_scaled: Tensor | None = None  # [D, H, G]: w_hh_t with the g columns doubled


def _layer(modules: list[nn.RNNBase], cell: str) -> _Layer:
    hidden = modules[0].hidden_size
    order = (torch.cat([torch.arange(3 * hidden, 4 * hidden), torch.arange(0, 3 * hidden)])
             if cell == "lstm" else None)

    def rows(t: Tensor) -> Tensor:
        t = t.detach()
        return t[order] if order is not None else t

    w_ih = torch.stack([rows(m.weight_ih_l0) for m in modules])  # [D, G, in]
    w_hh = torch.stack([rows(m.weight_hh_l0) for m in modules]).contiguous()  # [D, G, H]
    if cell == "gru":
        bias = torch.stack([m.bias_ih_l0.detach() for m in modules])
        b_hh = torch.stack([m.bias_hh_l0.detach() for m in modules]).unsqueeze(1)
    else:
        bias = torch.stack([rows(m.bias_ih_l0) + rows(m.bias_hh_l0) for m in modules])
        b_hh = None
    layer = _Layer(cell, hidden, w_ih.transpose(1, 2).contiguous(),
                   w_hh.transpose(1, 2).contiguous(), w_hh, bias.unsqueeze(1), b_hh)
    if cell == "lstm":
        layer.scale = torch.ones(4 * hidden)
        layer.scale[3 * hidden:] = 2.0
        layer.w_hh_t_scaled = layer.w_hh_t * layer.scale
    return layer


def _activate_lstm(gates: Tensor, g: Tensor) -> None:
    """The gates (o, i, f, g) from pre-activations with g's doubled, in place: sigmoid on
    every column, then g = 2 sigmoid(2z) - 1 = tanh(z)."""
    gates.sigmoid_()
    torch.add(_MINUS_ONE, g, alpha=2.0, out=g)


class _Inputs:
    """A layer's input pre-activations, handed out one step at a time: [T, D, K, G] given
    whole (deeper layers), ``start + a * along`` for the first layer on the IG path, or rows
    of a per-token ``table`` [N, G] picked by ``index`` [T, K] (one direction): the last two
    are never built whole, one step's slice stays in cache."""

    def __init__(self, whole: Tensor | None = None, start: Tensor | None = None,
                 along: Tensor | None = None, alphas: Tensor | None = None,
                 table: Tensor | None = None, index: Tensor | None = None) -> None:
        self.whole, self.alphas, self.table = whole, alphas, table
        self.start, self.along, self.index = start, along, index
        if whole is not None:
            self.steps, self.batch = whole.size(0), whole.size(2)
        elif index is not None:
            self.steps, self.batch = index.shape
        else:
            assert start is not None and alphas is not None
            self.steps, self.batch = start.size(0), alphas.size(1)

    @cached_property
    def _at(self) -> tuple[tuple[Tensor, ...], ...]:
        """Per-step views of whole, start, along and index, made at once (unbind) on the
        first fill instead of one indexing call per step; inputs that are only ``scaled``
        into new ones never make them."""
        return tuple(t.unbind(0) if t is not None else ()
                     for t in (self.whole, self.start, self.along, self.index))

    def scaled(self, scale: Tensor) -> "_Inputs":
        """The same pre-activations with each column multiplied by ``scale`` [G]."""
        if self.whole is not None:
            return _Inputs(whole=self.whole * scale)
        if self.table is not None:
            return _Inputs(table=self.table * scale, index=self.index)
        assert self.start is not None and self.along is not None
        return _Inputs(start=self.start * scale, along=self.along * scale, alphas=self.alphas)

    def fill(self, t: int, out: Tensor, rows: int) -> Tensor:
        """Step t's pre-activations of the first ``rows`` rows, written into ``out``."""
        whole_at, start_at, along_at, index_at = self._at
        if self.whole is not None:
            return out.copy_(whole_at[t][:, :rows])
        if self.table is not None:
            torch.index_select(self.table, 0, index_at[t][:rows], out=out[0])
            return out
        assert self.alphas is not None
        alphas = self.alphas if rows == self.batch else self.alphas[:, :rows]
        return torch.addcmul(start_at[t], alphas, along_at[t], out=out)


def _forward(layer: _Layer, inputs: _Inputs, save: bool, running: list[int] | None = None,
             workspace: _Workspace | None = None) -> tuple[Tensor, dict[str, Tensor]]:
    """States [T, D, K, H]; with ``save``, what ``_backward`` needs (the gate activations
    of every step; the LSTM's backward coefficients, _lstm_saved). ``running[t]``: how many
    rows are still reading at step t (rows sorted longest first; None: all); the states of
    the others stay zero."""
    if layer.cell == "lstm":
        if save:  # the IG path and deeper layers: every row reads every step
            assert running is None
            return _lstm_saved(layer, inputs, workspace or _Workspace())
        return _lstm_states(layer, inputs, workspace or _Workspace(), running)
    steps, batch = inputs.steps, inputs.batch
    directions, size, width = layer.w_hh_t.size(0), layer.hidden, layer.w_hh_t.size(2)
    if running is None and workspace is not None:
        states = workspace.get("states", steps, directions, batch, size)
    else:
        states = (layer.w_hh_t.new_empty if running is None else layer.w_hh_t.new_zeros)(
            steps, directions, batch, size)
    rows = running or [batch] * steps
    act = layer.w_hh_t.new_empty(steps if save else 1, directions, batch, width)
    h = states.new_zeros(directions, batch, size)
    saved: dict[str, Tensor] = {"act": act, "states": states}
    if layer.cell == "gru":
        assert layer.b_hh is not None
        from_hidden = states.new_empty(steps if save else 1, directions, batch, size)
        for t in range(steps):
            n = rows[t]
            if not n:
                break
            gates = inputs.fill(t, act[t if save else 0, :, :n], n)
            hh = torch.baddbmm(layer.b_hh, h[:, :n], layer.w_hh_t)
            rz = gates[..., :2 * size].add_(hh[..., :2 * size]).sigmoid_()
            hh_new = from_hidden[t if save else 0, :, :n].copy_(hh[..., 2 * size:])
            new = gates[..., 2 * size:].addcmul_(rz[..., :size], hh_new).tanh_()
            h = torch.sub(h[:, :n], new, out=states[t, :, :n]).mul_(rz[..., size:]).add_(new)
        saved["from_hidden"] = from_hidden
    else:
        for t in range(steps):
            n = rows[t]
            if not n:
                break
            gates = inputs.fill(t, act[t if save else 0, :, :n], n)
            if t:
                gates.baddbmm_(h[:, :n], layer.w_hh_t)
            states[t, :, :n] = gates.tanh_()
            h = states[t]
    return states, saved


def _lstm_states(layer: _Layer, inputs: _Inputs, workspace: _Workspace,
                 running: list[int] | None = None) -> tuple[Tensor, dict[str, Tensor]]:
    """The LSTM forward pass when only the states are wanted. ``running[t]``: how many rows
    still read at step t, never more than the step before (None: all rows every step); the
    others' states stay zero. The gate views are remade only when that count changes and the
    cell is updated in place (a finished row's cell is never read again), so a step is seven
    operations with no Python slicing."""
    steps, batch = inputs.steps, inputs.batch
    directions, size = layer.w_hh_t.size(0), layer.hidden
    states = workspace.get("states", steps, directions, batch, size)
    if running is not None:
        states.zero_()
    state_at = states.unbind(0)
    gates_all = workspace.get("gates", directions, batch, 4 * size)
    cells = workspace.get("cell", directions, batch, size)
    squashed_all = workspace.get("squashed", directions, batch, size)
    assert layer.scale is not None and layer.w_hh_t_scaled is not None
    inputs = inputs.scaled(layer.scale)
    rows = -1
    for t in range(steps):
        n = batch if running is None else running[t]
        if not n:
            break
        if n != rows:
            rows = n
            gates = gates_all[:, :n]
            out, i, f, g = (gates[..., k * size:(k + 1) * size] for k in range(4))
            c, squashed = cells[:, :n], squashed_all[:, :n]
        inputs.fill(t, gates, n)
        if t:
            gates.baddbmm_(state_at[t - 1][:, :n], layer.w_hh_t_scaled)
        _activate_lstm(gates, g)
        if t:
            c.mul_(f).addcmul_(i, g)
        else:
            torch.mul(i, g, out=c)
        torch.tanh(c, out=squashed)
        torch.mul(out, squashed, out=state_at[t][:, :n])
    return states, {"states": states}


def _lstm_saved(layer: _Layer, inputs: _Inputs, workspace: _Workspace
                ) -> tuple[Tensor, dict[str, Tensor]]:
    """The LSTM forward pass that keeps, per step, the coefficients its backward pass
    multiplies by (computed here while the step's values are in cache), so that the
    backward step is a matrix product and four elementwise operations.

    coef[t] [6, D, K, H]: a_o = tanh(c) o', b = o (1 - tanh(c)^2), f, a_i = g i',
    a_f = c_prev f', a_g = i (1 - g^2), with s' = s (1 - s) for the sigmoid gates: each a
    contiguous block, so the backward pass reads them from memory in sweeps, not strides.
    Every per-step view is made before the loop (``unbind``: one call for all steps).
    """
    steps, batch = inputs.steps, inputs.batch
    directions, size = layer.w_hh_t.size(0), layer.hidden
    states = workspace.get("states", steps, directions, batch, size)
    coef = workspace.get("coef", steps, 6, directions, batch, size)
    gates = workspace.get("gates", directions, batch, 4 * size)
    slopes = workspace.get("slopes", directions, batch, 3 * size)
    cells = workspace.get("cells", 2, directions, batch, size)
    both = workspace.get("both", directions, batch, size)  # i g
    squashed = workspace.get("squashed", directions, batch, size)
    sigmoids, g = gates[..., :3 * size], gates[..., 3 * size:]
    out, i, f = (gates[..., k * size:(k + 1) * size] for k in range(3))
    d_out, d_i, d_f = (slopes[..., k * size:(k + 1) * size] for k in range(3))
    k0, k1, k2, k3, k4, k5 = (coef[:, k].unbind(0) for k in range(6))
    state_at, cell_at = states.unbind(0), cells.unbind(0)
    assert layer.scale is not None and layer.w_hh_t_scaled is not None
    inputs = inputs.scaled(layer.scale)
    h = previous = None
    for t in range(steps):
        inputs.fill(t, gates, batch)
        if h is not None:
            gates.baddbmm_(h, layer.w_hh_t_scaled)
        _activate_lstm(gates, g)
        torch.mul(i, g, out=both)
        c = cell_at[t % 2]
        if previous is None:
            c.copy_(both)
            k4[t].zero_()
        else:
            torch.addcmul(both, f, previous, out=c)
        torch.tanh(c, out=squashed)
        h = torch.mul(out, squashed, out=state_at[t])
        torch.addcmul(sigmoids, sigmoids, sigmoids, value=-1.0, out=slopes)
        torch.mul(squashed, d_out, out=k0[t])
        torch.addcmul(out, h, squashed, value=-1.0, out=k1[t])
        k2[t].copy_(f)
        torch.mul(g, d_i, out=k3[t])
        if previous is not None:
            torch.mul(previous, d_f, out=k4[t])
        torch.addcmul(i, both, g, value=-1.0, out=k5[t])
        previous = c
    return states, {"coef": coef, "states": states}


def _lstm_backward(layer: _Layer, grad: Tensor, saved: dict[str, Tensor],
                   along: Tensor | None, workspace: _Workspace) -> Tensor:
    """_backward for the LSTM from the coefficients _lstm_saved kept; every per-step view
    is made before the loop."""
    steps, directions, batch, size = grad.shape
    coef = saved["coef"]
    keep = along is None
    d_pre = (grad.new_empty(steps, directions, batch, 4 * size) if keep
             else workspace.get("d_pre", 2, directions, batch, 4 * size))
    dots = workspace.get("dots", steps, directions, batch) if not keep else None
    products = workspace.get("products", directions, batch, 4 * size)
    d_c = workspace.get("d_c", directions, batch, size)
    d_h_buffer = workspace.get("d_h", directions, batch, size)
    pre_at = d_pre.unbind(0)
    parts = d_pre.view(-1, directions, batch, 4, size)
    out_part = parts[:, :, :, 0].unbind(0)
    other_parts = parts[:, :, :, 1:].permute(0, 3, 1, 2, 4).unbind(0)  # [3, D, K, H] each
    a_out, b, forget = (coef[:, k].unbind(0) for k in range(3))
    a_rest = coef[:, 3:].unbind(0)
    grad_at = grad.unbind(0)
    d_c_wide = d_c.unsqueeze(0)
    along_at = along.unbind(0) if along is not None else None
    dot_at = dots.unbind(0) if dots is not None else None
    carry = None
    for t in range(steps - 1, -1, -1):
        slot = t if keep else t % 2
        if carry is None:
            d_h = grad_at[t]
            torch.mul(d_h, b[t], out=d_c)
        else:
            d_h = torch.baddbmm(grad_at[t], carry, layer.w_hh, out=d_h_buffer)
            d_c.mul_(forget[t + 1]).addcmul_(d_h, b[t])
        torch.mul(d_h, a_out[t], out=out_part[slot])
        torch.mul(d_c_wide, a_rest[t], out=other_parts[slot])
        now = pre_at[slot]
        if dot_at is not None:
            assert along_at is not None
            torch.mul(now, along_at[t], out=products)
            torch.sum(products, -1, out=dot_at[t])
        carry = now
    return d_pre if dots is None else dots


def _backward(layer: _Layer, grad: Tensor, saved: dict[str, Tensor],
              along: Tensor | None = None, workspace: _Workspace | None = None) -> Tensor:
    """From the gradient ``grad`` [T, D, K, H] with respect to the states: the gradient
    [T, D, K, G] with respect to the input pre-activations, or with ``along`` [T, D, 1, G]
    only its dot product with ``along`` per step, [T, D, K] (the whole gradient is then
    never stored). Everything is computed per step, on tensors that stay in cache."""
    if "coef" in saved:
        return _lstm_backward(layer, grad, saved, along, workspace or _Workspace())
    steps, directions, batch, size = grad.shape
    width = layer.w_hh.size(1)
    act, states = saved["act"], saved["states"]
    keep = along is None
    d_pre = grad.new_empty(steps if keep else 2, directions, batch, width)
    dots = grad.new_empty(steps, directions, batch, 1) if along is not None else None
    carry = None  # what step t's gradient gets from step t + 1
    for t in range(steps - 1, -1, -1):
        now = d_pre[t if keep else t % 2]
        if carry is None:
            d_h = grad[t]
        elif layer.cell == "gru":
            d_h = carry.add_(grad[t])
        else:
            d_h = torch.baddbmm(grad[t], carry, layer.w_hh)
        if layer.cell == "rnn":
            h = states[t]
            torch.mul(d_h, 1.0 - h * h, out=now)
            carry = now
        else:  # GRU: h' = n + z (h - n), n = tanh(x_n + r (W_hn h + b_hn))
            gates = act[t]
            reset, update, new = (gates[..., k * size:(k + 1) * size] for k in range(3))
            d_new = torch.mul(d_h, 1.0 - update).mul_(1.0 - new * new)
            hh_new = saved["from_hidden"][t]
            torch.mul(d_new, hh_new, out=now[..., :size]).mul_(reset - reset * reset)
            before = states[t - 1] if t else torch.zeros_like(new)
            torch.mul(d_h, before - new, out=now[..., size:2 * size]).mul_(
                update - update * update)
            now[..., 2 * size:] = d_new
            if t:
                d_hidden = now.clone()
                d_hidden[..., 2 * size:].mul_(reset)
                carry = torch.baddbmm(d_h * update, d_hidden, layer.w_hh)
        if dots is not None:
            torch.bmm(now, along[t].transpose(1, 2), out=dots[t])
    return d_pre if dots is None else dots[..., 0]


class _Recurrence(torch.autograd.Function):
    """A deeper layer inside autograd: pre-activations [T, D, K, G] -> states [T, D, K, H]."""

    @staticmethod
    def forward(ctx, pre: Tensor, layer: _Layer) -> Tensor:  # noqa: D102
        states, saved = _forward(layer, _Inputs(whole=pre), save=True)
        ctx.layer, ctx.saved = layer, saved
        return states

    @staticmethod
    def backward(ctx, grad: Tensor):  # noqa: D102
        return _backward(ctx.layer, grad.contiguous(), ctx.saved), None


def _time_major(x: Tensor, directions: int) -> Tensor:
    """Batch-first input [K, T, in] as [T, D, K, in]: reading order, then reversed."""
    parts = [x, x.flip(1)][:directions]
    return torch.stack(parts, dim=0).permute(2, 0, 1, 3)


def _reading_order(states: Tensor) -> Tensor:
    """States [T, D, K, H] as the model's outputs [K, T, D*H] in reading order."""
    parts = [states[:, 0]]
    if states.size(1) > 1:
        parts.append(states[:, 1].flip(0))
    return torch.cat(parts, dim=-1).transpose(0, 1)


class _AttentionHead:
    """Attention pooling and the classifier on the first layer's states [T, D, K, H] as the
    step loop leaves them (direction 1 in reversed time), forward and gradient by hand:
    through autograd the same head needs the states in reading order and its backward
    costs several times its forward. Only for one-layer models with attention pooling,
    where every row reads all T positions."""

    def __init__(self, model: RecurrentClassifier, directions: int) -> None:
        assert model.attention is not None
        size = model.hidden_size
        self.directions = directions
        self.attention = model.attention.weight.detach().view(directions, size)
        self.attention_bias = float(model.attention.bias.detach())
        weight = model.classifier.weight.detach()  # [C, D*H]
        self.classifier = weight.view(-1, directions, size).permute(1, 2, 0).contiguous()
        self.classifier_rows = weight.view(-1, directions, size).permute(1, 0, 2).contiguous()
        self.classifier_bias = model.classifier.bias.detach()

    def _by_step(self, per_position: Tensor) -> Tensor:
        """[T, K] by reading position -> [T, D, K] by each direction's step."""
        if self.directions == 1:
            return per_position.unsqueeze(1)
        return torch.stack([per_position, per_position.flip(0)], dim=1)

    def _by_position(self, per_step: Tensor) -> Tensor:
        """[T, D, K] by step -> [T, K] summed over directions at each reading position."""
        if self.directions == 1:
            return per_step[:, 0]
        return per_step[:, 0] + per_step[:, 1].flip(0)

    def probabilities(self, states: Tensor, workspace: _Workspace
                      ) -> tuple[Tensor, dict[str, Tensor]]:
        steps, directions, batch, size = states.shape
        squashed = torch.tanh(states, out=workspace.get("head_tanh", *states.shape))
        parts = torch.matmul(squashed, self.attention.view(1, directions, size, 1))[..., 0]
        scores = self._by_position(parts) + self.attention_bias  # [T, K]
        weights = torch.softmax(scores, dim=0)
        by_step = self._by_step(weights)  # [T, D, K]
        pooled = torch.einsum("tdk,tdkh->dkh", by_step, states)  # [D, K, H]
        logits = torch.einsum("dkh,dhc->kc", pooled, self.classifier) + self.classifier_bias
        probabilities = torch.softmax(logits, dim=1)
        return probabilities, {"squashed": squashed, "weights": weights, "by_step": by_step,
                               "pooled": pooled}

    def gradient(self, states: Tensor, target: int, workspace: _Workspace
                 ) -> tuple[Tensor, Tensor]:
        """(P(target) [K], its gradient with respect to ``states`` [T, D, K, H])."""
        probabilities, kept = self.probabilities(states, workspace)
        chosen = probabilities[:, target]
        d_logits = -chosen.unsqueeze(1) * probabilities
        d_logits[:, target] += chosen
        d_pooled = torch.einsum("kc,dch->dkh", d_logits, self.classifier_rows)  # [D, K, H]
        # through the softmax over positions: d score_p = w_p (d_pooled . (x_p - pooled))
        reach = torch.einsum("tdkh,dkh->tdk", states, d_pooled)
        offset = (d_pooled * kept["pooled"]).sum((0, 2))  # [K]
        d_scores = kept["weights"] * (self._by_position(reach) - offset)  # [T, K]
        grad = workspace.get("head_grad", *states.shape)
        torch.mul(kept["by_step"].unsqueeze(-1), d_pooled, out=grad)
        squashed = kept["squashed"]
        # tanh' = 1 - tanh^2, scaled by d score and the attention vector
        slope = torch.addcmul(_ONE, squashed, squashed, value=-1.0, out=squashed)  # one pass
        slope.mul_(self._by_step(d_scores).unsqueeze(-1))
        grad.addcmul_(slope, self.attention.view(1, self.directions, 1, -1))
        return chosen, grad


class RecurrentPath:
    """The straight path from ``baseline`` [T, E] to ``inputs`` [T, E] through ``model``."""

    def __init__(self, model: RecurrentClassifier, inputs: Tensor, baseline: Tensor) -> None:
        if not supported(model):
            raise ValueError("the recurrent path needs float32 CPU layers")
        self.model = model
        self.length = inputs.size(0)
        directions = 2 if model.bidirectional else 1
        self.layers = [
            _layer([m] + ([model.backward_layers[i]] if model.bidirectional else []),
                   model.cell)
            for i, m in enumerate(model.forward_layers)]
        first = self.layers[0]
        delta = _time_major((inputs - baseline).detach().unsqueeze(0), directions)[:, :, 0]
        start = _time_major(baseline.detach().unsqueeze(0), directions)[:, :, 0]
        # [T, D, G]: the first layer's input products, at the baseline and along delta
        self.along = torch.einsum("tde,deg->tdg", delta, first.w_ih_t).unsqueeze(2)
        self.at_start = (torch.einsum("tde,deg->tdg", start, first.w_ih_t)
                         + first.bias[:, 0]).unsqueeze(2)
        self.lengths = torch.tensor([self.length])
        self.baseline, self.delta = baseline.detach(), (inputs - baseline).detach()
        # the LSTM keeps 6 coefficients and the state per hidden unit, the head 2 more
        per_position = (9 * first.hidden if model.cell == "lstm"
                        else _SAVED_PER_GATE * first.w_hh_t.size(2))
        saved_floats = per_position * directions * self.length
        self.chunk = max(1, _BATCH_BYTES // (4 * saved_floats))
        self.head = (_AttentionHead(model, directions)
                     if model.pooling == "attention" and len(self.layers) == 1 else None)

    def _first_inputs(self, alphas: np.ndarray) -> _Inputs:
        a = torch.as_tensor(alphas, dtype=torch.float32).view(1, -1, 1)
        return _Inputs(start=self.at_start, along=self.along, alphas=a)

    def _head(self, states: Tensor) -> Tensor:
        """Class probabilities [K, C] from the first layer's states [T, D, K, H]."""
        model = self.model
        x = _reading_order(states)
        for layer in self.layers[1:]:
            directions = layer.w_ih_t.size(0)
            pre = torch.einsum("tdki,dig->tdkg", _time_major(x, directions), layer.w_ih_t)
            x = _reading_order(_Recurrence.apply(pre + layer.bias, layer))
        lengths = self.lengths.expand(x.size(0))
        return torch.softmax(model.classifier(model.pool(x, lengths)), dim=1)

    @torch.no_grad()
    def probabilities(self, alphas: np.ndarray) -> np.ndarray:
        """[K, C] class probabilities at path points ``alphas``: forward passes only.

        A few points go through torch's own modules instead: their step loop runs in C++,
        while the loops here pay Python's cost per step whatever the batch."""
        if 0 < len(alphas) <= _NATIVE_POINTS:
            a = torch.as_tensor(alphas, dtype=torch.float32).view(-1, 1, 1)
            points = self.baseline + a * self.delta
            logits = self.model.forward_embedded(points, self.lengths.expand(len(alphas)))
            return torch.softmax(logits, dim=1).double().numpy()
        out = []
        workspace = _workspace()
        try:
            for i in range(0, len(alphas), self.chunk):
                states, _ = _forward(self.layers[0],
                                     self._first_inputs(alphas[i:i + self.chunk]),
                                     save=False, workspace=workspace)
                probabilities = (self.head.probabilities(states, workspace)[0]
                                 if self.head is not None else self._head(states))
                out.append(probabilities.double().numpy())
        finally:
            _release(workspace)
        return np.concatenate(out) if out else np.zeros((0, self.model.classifier.out_features))

    def gradients(self, alphas: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
        """(P(target) [K], integrand [K, T]): the gradient of P(target) at each point dotted
        with delta at each position."""
        values, rows = [], []
        first = self.layers[0]
        workspace = _workspace()
        try:
            for i in range(0, len(alphas), self.chunk):
                with torch.no_grad():
                    states, saved = _forward(first,
                                             self._first_inputs(alphas[i:i + self.chunk]),
                                             save=True, workspace=workspace)
                    if self.head is not None:
                        chosen, grad = self.head.gradient(states, target, workspace)
                if self.head is None:
                    leaf = states.detach().requires_grad_(True)
                    with torch.enable_grad():
                        chosen = self._head(leaf)[:, target]
                        (grad,) = torch.autograd.grad(chosen.sum(), leaf)
                    grad = grad.contiguous()
                with torch.no_grad():
                    dots = _backward(first, grad, saved, self.along, workspace)  # [T, D, K]
                    scores = dots[:, 0].t()
                    if dots.size(1) > 1:
                        scores = scores + dots[:, 1].flip(0).t()
                values.append(chosen.detach().double().numpy())
                rows.append(scores.double().numpy())
        finally:
            _release(workspace)
        if not rows:
            return np.zeros(0), np.zeros((0, self.length))
        return np.concatenate(values), np.concatenate(rows)
