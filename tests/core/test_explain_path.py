"""The hand-written recurrences behind integrated gradients agree with autograd."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from core.explain import integrated, recurrent_path
from core.explain.integrated import integrated_gradients
from core.explain.recurrent_path import RecurrentPath, supported
from tests.core.test_explain_phrases import random_model as sharp_model

CASES = list(itertools.product(["lstm", "gru", "rnn"], [False, True], [1, 2],
                               ["last", "mean", "max", "max_mean", "attention"]))


@pytest.mark.parametrize("cell,bidirectional,layers,pooling", CASES)
def test_values_and_integrand_match_autograd(cell, bidirectional, layers, pooling, monkeypatch):
    model = sharp_model(cell, bidirectional, layers, pooling, prior=(layers == 2))
    ids = torch.as_tensor(np.random.default_rng(1).integers(1, 40, size=11))
    inputs = model.embedding(ids[None])[0].detach()
    baseline = 0.1 * torch.randn(inputs.shape)  # not zero: the baseline part must count too
    alphas = np.array([0.0, 0.3, 0.77, 1.0])
    path = RecurrentPath(model, inputs, baseline)
    probabilities = path.probabilities(alphas)
    values, integrand = path.gradients(alphas, 1)

    a = torch.as_tensor(alphas, dtype=torch.float32).view(-1, 1, 1)
    points = (baseline + a * (inputs - baseline)).requires_grad_(True)
    reference = torch.softmax(model.forward_embedded(points, torch.full((4,), 11)), dim=1)
    (gradient,) = torch.autograd.grad(reference[:, 1].sum(), points)
    expected = (gradient * (inputs - baseline)).sum(-1).double().numpy()

    np.testing.assert_allclose(probabilities, reference.detach().numpy(), atol=2e-6)
    monkeypatch.setattr(recurrent_path, "_NATIVE_POINTS", 0)  # small batches: own loops too
    np.testing.assert_allclose(path.probabilities(alphas), reference.detach().numpy(),
                               atol=2e-6)
    np.testing.assert_allclose(values, reference[:, 1].detach().numpy(), atol=2e-6)
    np.testing.assert_allclose(integrand, expected, atol=2e-6)
    assert not any(p.grad is not None for p in model.parameters())


def test_batches_larger_than_one_chunk_give_the_same_rows(monkeypatch):
    model = sharp_model("lstm", True, 1, "attention", prior=False)
    inputs = model.embedding(torch.arange(1, 9)[None])[0].detach()
    path = RecurrentPath(model, inputs, torch.zeros_like(inputs))
    alphas = np.linspace(0.0, 1.0, 7)
    whole = path.gradients(alphas, 0)[1]
    path.chunk = 3
    np.testing.assert_allclose(path.gradients(alphas, 0)[1], whole, atol=1e-6)


def test_models_it_cannot_run_take_autograd_and_agree(monkeypatch):
    model = sharp_model("gru", True, 1, "max", prior=False)
    assert supported(model)
    ids = np.random.default_rng(3).integers(1, 40, size=15)
    fast = integrated_gradients(model, ids, 2, steps=20, tolerance=None)
    monkeypatch.setattr(integrated, "supported", lambda model: False)
    plain = integrated_gradients(model, ids, 2, steps=20, tolerance=None)
    np.testing.assert_allclose(fast.scores, plain.scores, atol=1e-6)
    assert fast.completeness_gap == pytest.approx(plain.completeness_gap, abs=1e-6)
    assert not supported(model.double())


@pytest.mark.parametrize("cell,bidirectional,pooling",
                         list(itertools.product(["lstm", "gru", "rnn"], [False, True],
                                                ["last", "mean", "max", "max_mean",
                                                 "attention"])))
def test_prefixes_sharing_the_forward_pass_match_prefixes_run_alone(cell, bidirectional,
                                                                    pooling):
    from core.explain.attribution import class_probabilities
    from core.explain.trajectory import trajectory

    model = sharp_model(cell, bidirectional, 1, pooling, prior=True)
    ids = np.random.default_rng(4).integers(1, 40, size=17)
    ends = np.array([3, 0, 17, 1, 9, 9, 12])  # word 1 was not read
    shared = trajectory(model, ids, ends)
    alone = class_probabilities(model, [ids[:n] for n in ends[ends > 0]])
    np.testing.assert_allclose(shared[ends > 0], alone, atol=1e-5)
    assert np.isnan(shared[1]).all()


def test_reused_buffers_give_the_same_rows_across_lengths_and_batches():
    model = sharp_model("lstm", True, 1, "attention", prior=False)
    rng = np.random.default_rng(5)
    long_ids, short_ids = rng.integers(1, 40, size=13), rng.integers(1, 40, size=6)
    alphas = np.linspace(0.0, 1.0, 5)

    def rows(ids: np.ndarray, points: np.ndarray) -> np.ndarray:
        inputs = model.embedding(torch.as_tensor(ids)[None])[0].detach()
        return RecurrentPath(model, inputs, torch.zeros_like(inputs)).gradients(points, 1)[1]

    first = rows(long_ids, alphas)
    short = rows(short_ids, alphas[:2])  # a smaller pass in the same buffers
    np.testing.assert_allclose(rows(long_ids, alphas), first, atol=1e-7)
    np.testing.assert_allclose(rows(short_ids, alphas[:2]), short, atol=1e-7)
    np.testing.assert_allclose(rows(long_ids, alphas[3:]), first[3:], atol=1e-6)


def test_buffers_outlive_the_thread_that_used_them_and_are_never_shared():
    import threading

    model = sharp_model("lstm", True, 1, "attention", prior=False)
    inputs = model.embedding(torch.arange(1, 9)[None])[0].detach()
    path = RecurrentPath(model, inputs, torch.zeros_like(inputs))
    worker = threading.Thread(target=path.gradients, args=(np.linspace(0, 1, 4), 1))
    worker.start()
    worker.join()
    kept = recurrent_path._idle[-1]
    assert kept.buffers  # the next explanation's thread starts from these buffers
    first, second = recurrent_path._workspace(), recurrent_path._workspace()
    assert first is kept and second is not first  # a pass in flight keeps its own
    recurrent_path._release(second)
    recurrent_path._release(first)
