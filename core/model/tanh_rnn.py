"""The vanilla (tanh) RNN layer for training on the CPU, with its own backward pass.

Why: torch runs ``nn.RNN`` on the CPU as a chain of small autograd nodes per time step
(oneDNN's fused kernels serve only the LSTM), so a training step pays the autograd engine's
overhead on every token position. Here the forward pass is one input product for all steps
plus ``addmm`` + ``tanh`` per step, and the backward pass one ``addmm`` + ``mul`` per step, with
every weight gradient taken afterwards as one large product. Same arithmetic as ``nn.RNN``
(tests compare outputs and gradients); ``bench/throughput.py`` measures the speed.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable


class _TanhRecurrence(torch.autograd.Function):
    """h_t = tanh(x_t W_ih^T + b_ih + b_hh + h_{t-1} W_hh^T), h_0 = 0; outputs time-major."""

    @staticmethod
    def forward(ctx, x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor,  # noqa: D102
                b_hh: Tensor) -> Tensor:
        batch, steps, _ = x.shape
        hidden = w_hh.size(0)
        projected = torch.addmm(b_ih + b_hh, x.reshape(batch * steps, -1), w_ih.t())
        pre = projected.view(batch, steps, hidden).transpose(0, 1).contiguous()
        states = torch.empty(steps, batch, hidden, dtype=x.dtype)
        # In place and through unbound views: addmm with out= would first copy its input
        # into the output, and indexing per step costs more than the small products.
        pre_at, states_at = pre.unbind(0), states.unbind(0)
        w_hh_t = w_hh.t()
        for t in range(steps):
            if t:
                pre_at[t].addmm_(states_at[t - 1], w_hh_t)
            torch.tanh(pre_at[t], out=states_at[t])
        ctx.save_for_backward(x, w_ih, w_hh, states)
        return states

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_states: Tensor):  # noqa: D102
        x, w_ih, w_hh, states = ctx.saved_tensors
        steps, batch, hidden = states.shape
        # A private copy, so the gradient flowing back through later steps can be added in place.
        grad_states = grad_states.clone(memory_format=torch.contiguous_format)
        slope = torch.mul(states, states).neg_().add_(1.0)  # tanh' = 1 - h^2
        grad_pre = torch.empty_like(states)
        grad_at, slope_at, pre_at = grad_states.unbind(0), slope.unbind(0), grad_pre.unbind(0)
        for t in range(steps - 1, -1, -1):
            if t < steps - 1:
                grad_at[t].addmm_(pre_at[t + 1], w_hh)
            torch.mul(grad_at[t], slope_at[t], out=pre_at[t])
        need_x, need_w_ih, need_w_hh, need_b_ih, need_b_hh = ctx.needs_input_grad
        flat = grad_pre.transpose(0, 1).reshape(batch * steps, hidden)  # batch-major like x
        grad_x = grad_w_ih = grad_w_hh = grad_bias = None
        if need_x:
            grad_x = torch.mm(flat, w_ih).view_as(x)
        if need_w_ih:
            grad_w_ih = torch.mm(flat.t(), x.reshape(batch * steps, -1))
        if need_w_hh:
            grad_w_hh = torch.mm(grad_pre[1:].reshape(-1, hidden).t(),
                                 states[:-1].reshape(-1, hidden))
        if need_b_ih or need_b_hh:
            grad_bias = flat.sum(0)
        return (grad_x, grad_w_ih, grad_w_hh, grad_bias if need_b_ih else None,
                grad_bias if need_b_hh else None)


def handles(module: nn.Module, x: Tensor) -> bool:
    """Whether ``run_layer`` takes this layer: a one-layer, one-way tanh ``nn.RNN`` with
    biases, batch-first, float32 on the CPU, while gradients are being recorded."""
    return (type(module) is nn.RNN and torch.is_grad_enabled()
            and module.num_layers == 1 and not module.bidirectional and module.bias
            and module.batch_first and module.nonlinearity == "tanh"
            and x.device.type == "cpu" and x.dtype == torch.float32
            and module.weight_hh_l0.dtype == torch.float32)


def run_layer(module: nn.RNNBase, x: Tensor) -> Tensor:
    """Outputs [B, T, H] of one recurrent layer over batch-first ``x`` from a zero state."""
    if not handles(module, x):
        return module(x)[0]
    states = _TanhRecurrence.apply(x, module.weight_ih_l0, module.weight_hh_l0,
                                   module.bias_ih_l0, module.bias_hh_l0)
    return states.transpose(0, 1)
