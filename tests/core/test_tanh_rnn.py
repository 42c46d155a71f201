import pytest
import torch
from torch import nn

from core.config import TrainConfig
from core.model.classifier import RecurrentClassifier
from core.model.tanh_rnn import handles, run_layer


def _grads(module, x, upstream, use_run_layer):
    module.zero_grad(set_to_none=True)
    x = x.detach().clone().requires_grad_(True)
    out = run_layer(module, x) if use_run_layer else module(x)[0]
    out.backward(upstream)
    return out.detach(), [x.grad] + [p.grad for p in module.parameters()]


@pytest.mark.parametrize("steps", [1, 2, 37])
def test_outputs_and_gradients_equal_torch_rnn(steps):
    torch.manual_seed(0)
    module = nn.RNN(12, 9, batch_first=True)
    x = torch.randn(5, steps, 12)
    upstream = torch.randn(5, steps, 9)
    assert handles(module, x)
    ours, our_grads = _grads(module, x, upstream, True)
    theirs, their_grads = _grads(module, x, upstream, False)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    for mine, reference in zip(our_grads, their_grads):
        torch.testing.assert_close(mine, reference, rtol=1e-4, atol=1e-5)


def test_other_layers_and_no_grad_fall_back_to_torch():
    x = torch.randn(2, 3, 4)
    assert not handles(nn.GRU(4, 4, batch_first=True), x)
    assert not handles(nn.RNN(4, 4, batch_first=True, nonlinearity="relu"), x)
    assert not handles(nn.RNN(4, 4, batch_first=True).double(), x.double())
    with torch.no_grad():
        assert not handles(nn.RNN(4, 4, batch_first=True), x)


def test_bidirectional_rnn_classifier_gradients_match_torch_modules(monkeypatch):
    torch.manual_seed(1)
    config = TrainConfig(cell="rnn", layers=2, bidirectional=True, embedding_dim=8,
                         hidden_size=6, pooling="attention", dropout=0.0)
    model = RecurrentClassifier.from_config(config, 50, 3)
    ids = torch.randint(1, 50, (4, 11))
    lengths = torch.tensor([11, 7, 4, 1])
    for row, length in enumerate(lengths.tolist()):
        ids[row, length:] = 0

    def loss_and_grads():
        model.zero_grad(set_to_none=True)
        loss = model(ids, lengths).logsumexp(1).sum()
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in model.parameters()]

    ours = loss_and_grads()
    monkeypatch.setattr("core.model.tanh_rnn.handles", lambda module, x: False)
    theirs = loss_and_grads()
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    for mine, reference in zip(ours[1], theirs[1]):
        torch.testing.assert_close(mine, reference, rtol=1e-4, atol=1e-5)
