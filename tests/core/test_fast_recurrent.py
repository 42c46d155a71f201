"""The fast inference path must give the model's own logits for every architecture."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.config import POOLINGS
from core.model.batch_input import pad_batch
from core.model.classifier import RecurrentClassifier
from core.model.fast_recurrent import FastRecurrentEncoder, fast_forward, supports, table_bytes
from core.predict.batch_predictor import BatchPredictor
from core.predict.inference import predict_logits


def _batch(lengths: list[int], vocab: int = 50, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    return pad_batch([rng.integers(1, vocab, n) for n in lengths])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("word_table", [True, False])
def test_fast_path_matches_the_model(cell: str, bidirectional: bool, layers: int,
                                     word_table: bool) -> None:
    torch.manual_seed(3)
    model = RecurrentClassifier(50, 3, cell=cell, embedding_dim=12, hidden_size=10,
                                layers=layers, bidirectional=bidirectional, dropout=0.5,
                                pooling="attention").eval()
    # unsorted lengths, ties, a one-token review and one at the full width
    ids, lens = _batch([5, 17, 1, 17, 9, 30, 2])
    with torch.inference_mode():
        expected = model(ids, lens)
        got = FastRecurrentEncoder(model, word_table=word_table).logits(ids, lens)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_fast_path_matches_every_pooling(pooling: str) -> None:
    torch.manual_seed(4)
    model = RecurrentClassifier(50, 2, cell="lstm", embedding_dim=8, hidden_size=6,
                                bidirectional=True, pooling=pooling, prior_dim=2).eval()
    model.embedding.set_prior(torch.randn(50, 2))
    ids, lens = _batch([12, 3, 8, 8, 1], seed=1)
    with torch.inference_mode():
        torch.testing.assert_close(FastRecurrentEncoder(model).logits(ids, lens),
                                   model(ids, lens), atol=1e-5, rtol=1e-5)


def test_long_reviews_cross_gate_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Input gates are computed a block of steps at a time; block edges must not show."""
    monkeypatch.setattr("core.model.fast_recurrent.GATE_BLOCK_BYTES", 1)
    torch.manual_seed(5)
    model = RecurrentClassifier(50, 2, cell="gru", embedding_dim=8, hidden_size=6).eval()
    ids, lens = _batch([40, 33, 7], seed=2)
    with torch.inference_mode():
        for word_table in (True, False):
            torch.testing.assert_close(FastRecurrentEncoder(model, word_table).logits(ids, lens),
                                       model(ids, lens), atol=1e-5, rtol=1e-5)


def test_only_float32_cpu_models_are_taken() -> None:
    model = RecurrentClassifier(50, 2, cell="gru", embedding_dim=8, hidden_size=6)
    assert supports(model)
    model.double()
    assert not supports(model)
    with pytest.raises(ValueError):
        FastRecurrentEncoder(model)


def _model(cell: str = "lstm") -> RecurrentClassifier:
    torch.manual_seed(6)
    return RecurrentClassifier(60, 3, cell=cell, embedding_dim=8, hidden_size=6).eval()


@pytest.mark.parametrize("workers", [1, 2])
def test_predict_logits_keeps_input_order(workers: int) -> None:
    model = _model()
    rng = np.random.default_rng(7)
    sequences = [rng.integers(1, 60, n) for n in rng.integers(1, 40, 50)]
    got = predict_logits(model, sequences, batch_size=8, workers=workers)
    with torch.inference_mode():
        expected = np.concatenate([model(*pad_batch([s])).numpy() for s in sequences])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_predict_logits_stops_when_cancelled() -> None:
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    sequences = [np.arange(1, 6)] * 40
    got = predict_logits(_model(), sequences, batch_size=4, workers=1, cancel=cancel)
    assert (np.abs(got).sum(1) > 0).sum() == 8  # two batches of four, then the rest left at 0


def test_word_table_only_when_it_pays_and_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model("gru")
    assert table_bytes(model) == 4 * 60 * 18 * 2  # float32, 60 words, 3 gates x 6, 2 directions
    assert FastRecurrentEncoder(model).tables[0] is not None
    assert FastRecurrentEncoder(model, word_table=False).tables[0] is None
    monkeypatch.setattr("core.model.fast_recurrent.TABLE_LIMIT_BYTES", 100)
    assert FastRecurrentEncoder(model).tables[0] is None


def test_fast_forward_leaves_training_models_to_torch() -> None:
    model = _model()
    cpu = torch.device("cpu")
    assert fast_forward(model, cpu) is not model
    model.train()
    assert fast_forward(model, cpu) is model


def test_batch_predictor_steps_only_when_no_gradient_pass_gives_the_classes() -> None:
    """explain='none' runs the step loop, explain='fast' the model's own gradient pass; both
    must give the same probabilities."""
    model = _model("gru")
    rng = np.random.default_rng(8)
    sequences = [rng.integers(1, 60, n) for n in rng.integers(1, 30, 40)]
    stepping = BatchPredictor(model, explain="none", batch_size=8)
    gradients = BatchPredictor(model, explain="fast", batch_size=8)
    assert stepping.forward is not model and gradients.forward is model
    np.testing.assert_allclose(stepping.run(sequences).probabilities,
                               gradients.run(sequences).probabilities, atol=1e-5)
