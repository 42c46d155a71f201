import pytest
import torch
from torch import nn

from core.training.weight_average import WARMUP, WeightAverage


def test_average_follows_the_exponential_formula_with_warmup():
    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    average = WeightAverage(model, decay=0.5)
    expected = 0.0
    for n, value in enumerate([1.0, 2.0, 3.0, 4.0], 1):
        with torch.no_grad():
            model.weight.fill_(value)
        decay = min(0.5, (1 + n) / (WARMUP + n))
        expected = decay * expected + (1 - decay) * value
        average.update()
        assert average.average[0][0, 0].item() == pytest.approx(expected)


def test_swap_twice_restores_both_sets_of_weights():
    model = nn.Linear(3, 2)
    average = WeightAverage(model, decay=0.9)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    trained = [p.detach().clone() for p in model.parameters()]
    averaged = [a.clone() for a in average.average]
    average.swap()
    assert all(torch.equal(p, a) for p, a in zip(model.parameters(), averaged))
    average.swap()
    assert all(torch.equal(p, t) for p, t in zip(model.parameters(), trained))
    assert all(torch.equal(a, b) for a, b in zip(average.average, averaged))


def test_decay_outside_the_open_interval_is_refused():
    with pytest.raises(ValueError):
        WeightAverage(nn.Linear(1, 1), decay=1.0)
