import pytest
import torch

from core.config import TrainConfig
from core.model.classifier import RecurrentClassifier, reverse_within_length


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "mean", "max", "max_mean", "attention"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_never_changes_a_prediction(cell, pooling, bidirectional):
    torch.manual_seed(0)
    model = RecurrentClassifier(40, 3, cell=cell, embedding_dim=8, hidden_size=6, layers=2,
                                bidirectional=bidirectional, dropout=0.0, pooling=pooling).eval()
    lengths = torch.tensor([7, 4, 1])
    ids = torch.randint(2, 40, (3, 7))
    for row, length in enumerate(lengths.tolist()):
        ids[row, length:] = 0
    batched = model(ids, lengths)
    alone = torch.cat([model(ids[i:i + 1, :n], lengths[i:i + 1])
                       for i, n in enumerate(lengths.tolist())])
    assert torch.allclose(batched, alone, atol=1e-5)


def test_reverse_within_length_is_its_own_inverse():
    x = torch.arange(12, dtype=torch.float32).view(2, 6, 1)
    lengths = torch.tensor([6, 3])
    flipped = reverse_within_length(x, lengths)
    assert flipped[1, :, 0].tolist() == [8, 7, 6, 9, 10, 11]
    assert torch.equal(reverse_within_length(flipped, lengths), x)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_parameter_count_matches_cell_size(cell):
    config = TrainConfig(cell=cell, embedding_dim=10, hidden_size=4, layers=1,
                         bidirectional=False, pooling="max")
    model = RecurrentClassifier.from_config(config, vocab_size=50, num_classes=2)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    recurrent = gates * (4 * 10 + 4 * 4 + 2 * 4)
    assert model.parameter_count() == 50 * 10 + recurrent + 4 * 2 + 2
