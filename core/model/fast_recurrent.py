"""Inference-only recurrent layers for the CPU that step through real tokens only.

torch's CPU kernels run every row of a padded batch to its longest review. For prediction
(no gradients) this module runs the same arithmetic step by step on a batch sorted longest
first: at step t only the rows still inside their review are computed; the first layer's
input gates are looked up per word from a table (deeper layers get theirs from one matrix
product per block of steps); every gate goes through one in-place sigmoid (tanh as
2*sigmoid(2z)-1). The results equal the nn.LSTM / nn.GRU / nn.RNN outputs to float rounding
(tests check 1e-5); speed is measured by ``bench/throughput.py`` and ``bench/batch.py``.

Used by ``core.predict.inference.predict_logits`` and batch analysis without gradients; training
and explanations keep torch's modules, whose backward pass they need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from core.model.classifier import RecurrentClassifier, reverse_within_length

GATE_BLOCK_BYTES = 8 * 1024 * 1024  # input gates computed for this many bytes of steps at once
# The first layer's input gates depend only on the word, so they can be looked up from a
# per-word table instead of multiplied out per token; tables above this size are not built.
TABLE_LIMIT_BYTES = 256 * 1024 * 1024


@dataclass
class _Direction:
    """One recurrent layer in one direction, weights laid out for the step loop."""

    cell: str
    hidden: int
    input_weight: Tensor  # [in, gates*H]
    input_bias: Tensor  # [gates*H]: the biases that can be added before the recurrence
    hidden_weight: Tensor  # [H, gates*H]
    hidden_new_bias: Tensor | None  # GRU only: 2 b_hn, which the reset gate multiplies


def _prepare(module: nn.RNNBase, cell: str) -> _Direction:
    """Weights transposed for ``x @ W``, biases merged, and tanh pre-activations doubled.

    tanh(z) = 2 * sigmoid(2z) - 1, and torch's CPU sigmoid is several times faster than
    its tanh (README has the figures), so the rows that feed a tanh are scaled by 2 (exact in
    floating point) and every gate goes through one sigmoid.
    """
    hidden = module.hidden_size
    w_ih, w_hh = module.weight_ih_l0.detach(), module.weight_hh_l0.detach()
    b_ih, b_hh = module.bias_ih_l0.detach(), module.bias_hh_l0.detach()
    new_bias = None
    scale = torch.ones(w_ih.size(0))
    if cell == "lstm":  # torch's gate order i, f, g, o -> i, f, o, g: the tanh gate last
        order = torch.cat([torch.arange(0, 2 * hidden), torch.arange(3 * hidden, 4 * hidden),
                           torch.arange(2 * hidden, 3 * hidden)])
        w_ih, w_hh, bias = w_ih[order], w_hh[order], (b_ih + b_hh)[order]
        scale[3 * hidden:] = 2.0
    elif cell == "gru":
        bias = b_ih.clone()
        bias[: 2 * hidden] += b_hh[: 2 * hidden]
        new_bias = 2.0 * b_hh[2 * hidden:]
        scale[2 * hidden:] = 2.0
    else:
        bias = b_ih + b_hh
        scale[:] = 2.0
    column = scale.unsqueeze(0)
    hidden_weight = w_hh.t() * column
    if cell == "lstm":  # the step loop keeps -h as its state (see _lstm_step)
        hidden_weight = -hidden_weight
    return _Direction(cell, hidden, (w_ih.t() * column).contiguous(),
                      (bias * scale).contiguous(), hidden_weight.contiguous(), new_bias)


def table_bytes(model: RecurrentClassifier) -> int:
    """Size of the first layer's per-word gate tables (float32, every direction)."""
    first = model.forward_layers[0]
    gates = first.weight_ih_l0.size(0)
    directions = 2 if model.bidirectional else 1
    return 4 * model.embedding.num_embeddings * gates * directions


def supports(model: RecurrentClassifier) -> bool:
    """Plain float32 single-layer modules on the CPU, as RecurrentClassifier builds them."""
    modules = list(model.forward_layers) + list(model.backward_layers)
    return all(
        type(m) in (nn.LSTM, nn.GRU, nn.RNN)
        and m.num_layers == 1 and not m.bidirectional and m.bias and m.batch_first
        and getattr(m, "proj_size", 0) == 0 and getattr(m, "nonlinearity", "tanh") == "tanh"
        and m.weight_hh_l0.dtype == torch.float32 and m.weight_hh_l0.device.type == "cpu"
        for m in modules)


class FastRecurrentEncoder:
    """``logits(ids, lengths)`` equal to ``model(ids, lengths)`` in eval mode, faster on CPU.

    Holds copies of the weights taken when built: build a new one after the model changes.
    ``word_table``: look the first layer's input gates up per word (one product per
    vocabulary word when built, none per token after); worth it once a call covers more
    tokens than the vocabulary has words.
    """

    def __init__(self, model: RecurrentClassifier, word_table: bool = True) -> None:
        if not supports(model):
            raise ValueError("the fast recurrent path needs float32 CPU layers")
        self.model = model
        self.layers = [
            [_prepare(m, model.cell)]
            + ([_prepare(model.backward_layers[i], model.cell)] if model.bidirectional else [])
            for i, m in enumerate(model.forward_layers)]
        self.tables: list[Tensor | None] = [None, None]
        if word_table and table_bytes(model) <= TABLE_LIMIT_BYTES:
            with torch.inference_mode():
                words = model.embedding(torch.arange(model.embedding.num_embeddings))
                self.tables = [torch.addmm(d.input_bias, words, d.input_weight)
                               for d in self.layers[0]]

    def logits(self, ids: Tensor, lengths: Tensor) -> Tensor:
        model = self.model
        lengths = lengths.to(torch.int64)
        order = None
        if len(lengths) > 1 and bool((lengths[1:] > lengths[:-1]).any()):
            order = torch.argsort(lengths, descending=True, stable=True)
            ids, lengths = ids[order], lengths[order]
        outputs = self.encode(ids, lengths)
        logits = model.classifier(model.pool(outputs, lengths))
        if order is None:
            return logits
        return logits[torch.argsort(order)]

    def encode(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """[B, T, H*dirs] outputs for token ids [B, T] (zero past each review's end).

        Rows must be sorted longest first, as ``logits`` arranges.
        """
        steps = ids.size(1)
        counts = torch.bincount(lengths.clamp(max=steps), minlength=steps + 1)
        # active[t]: rows still reading at step t (rows are sorted, so always a prefix)
        active = (len(lengths) - torch.cumsum(counts, 0)[:-1]).tolist()
        x = ids.unsqueeze(-1) if self.tables[0] is not None else self.model.embedding(ids)
        for layer, directions in enumerate(self.layers):
            tables = self.tables if layer == 0 else [None, None]
            forward = _run(directions[0], x.transpose(0, 1), active, tables[0])
            if len(directions) == 1:
                x = forward.transpose(0, 1)
                continue
            reversed_in = reverse_within_length(x, lengths).transpose(0, 1)
            backward = _run(directions[1], reversed_in, active, tables[1]).transpose(0, 1)
            x = torch.cat([forward.transpose(0, 1), reverse_within_length(backward, lengths)],
                          dim=-1)
        return x


def _run(weights: _Direction, inputs: Tensor, active: list[int],
         table: Tensor | None = None) -> Tensor:
    """Outputs [T, B, H] of one direction over time-major ``inputs`` [T, B, in], or over
    token ids [T, B, 1] whose input gates ``table`` holds per word."""
    steps, batch, _ = inputs.shape
    hidden = weights.hidden
    width = weights.input_weight.size(1)
    out = torch.zeros(steps, batch, hidden)
    if steps == 0 or batch == 0:
        return out
    cell = torch.zeros(batch, hidden)
    state = torch.zeros(batch, hidden)
    step_fn = _STEPS[weights.cell]
    block = max(1, GATE_BLOCK_BYTES // (4 * width * max(1, active[0])))
    for start in range(0, steps, block):
        rows = active[start]
        if rows == 0:
            break
        stop = min(steps, start + block)
        chunk = inputs[start:stop, :rows].reshape(-1, inputs.size(2))
        if table is not None:
            gates = table.index_select(0, chunk.reshape(-1))
        else:
            gates = torch.addmm(weights.input_bias, chunk, weights.input_weight)
        gates = gates.view(stop - start, rows, width)
        for t in range(start, stop):
            live = active[t]
            if live == 0:
                break
            step_fn(weights, gates[t - start, :live], state[:live], cell[:live], out[t, :live])
            state = out[t]
    if weights.cell == "lstm":
        out.neg_()  # the LSTM step wrote -h
    return out


def _tanh_from_sigmoid_(values: Tensor) -> Tensor:
    """In place: sigmoid(2z) -> tanh(z)."""
    return values.mul_(2.0).sub_(1.0)


def _lstm_step(w: _Direction, gates: Tensor, h: Tensor, c: Tensor, out: Tensor) -> None:
    """One LSTM step in five element-wise passes instead of nine.

    ``c`` holds 2c, so tanh(c) = 2 sigmoid(2c) - 1 needs no scaling; the new cell is
    f*2c + 4*i*s_g - 2*i with s_g = sigmoid(2 z_g) (= 2*i*tanh(z_g) + f*2c). The output
    o*tanh(c) = 2*o*s - o is written negated, o - 2*o*s, in one ``addcmul``; ``h`` is that
    negated state and ``hidden_weight`` is negated to match, and ``_run`` flips the outputs
    back once at the end. All scalings are powers of two: exact.
    """
    size = w.hidden
    gates.addmm_(h, w.hidden_weight).sigmoid_()
    in_gate = gates[:, :size]
    c.mul_(gates[:, size: 2 * size]).addcmul_(in_gate, gates[:, 3 * size:], value=4.0)
    c.sub_(in_gate, alpha=2.0)
    out_gate = gates[:, 2 * size: 3 * size]
    torch.addcmul(out_gate, out_gate, torch.sigmoid(c), value=-2.0, out=out)


def _gru_step(w: _Direction, gates: Tensor, h: Tensor, c: Tensor, out: Tensor) -> None:
    size = w.hidden
    assert w.hidden_new_bias is not None
    from_hidden = torch.mm(h, w.hidden_weight)
    reset_update = gates[:, : 2 * size].add_(from_hidden[:, : 2 * size]).sigmoid_()
    candidate = _tanh_from_sigmoid_(gates[:, 2 * size:].addcmul_(
        reset_update[:, :size], from_hidden[:, 2 * size:].add_(w.hidden_new_bias)).sigmoid_())
    torch.sub(h, candidate, out=out)
    out.mul_(reset_update[:, size:]).add_(candidate)


def _rnn_step(w: _Direction, gates: Tensor, h: Tensor, c: Tensor, out: Tensor) -> None:
    torch.sigmoid(gates.addmm_(h, w.hidden_weight), out=out)
    _tanh_from_sigmoid_(out)


_STEPS: dict[str, Callable[[_Direction, Tensor, Tensor, Tensor, Tensor], None]] = {
    "lstm": _lstm_step, "gru": _gru_step, "rnn": _rnn_step}


def fast_forward(model: nn.Module, device: torch.device,
                 tokens: int | None = None) -> Callable[[Tensor, Tensor], Tensor]:
    """The quickest exact ``(ids, lengths) -> logits`` for prediction on ``device``.

    The step loop on the CPU for a float32 RecurrentClassifier in eval mode; the model itself
    elsewhere (cuDNN on a GPU, quantized or training-mode models). ``tokens``: how many the
    caller will predict (None: many), which decides whether a word table pays for itself.
    """
    if (device.type == "cpu" and isinstance(model, RecurrentClassifier)
            and not model.training and supports(model)):
        many = tokens is None or tokens >= model.embedding.num_embeddings
        return FastRecurrentEncoder(model, word_table=many).logits
    return model
