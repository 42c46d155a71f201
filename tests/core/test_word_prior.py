"""The naive-Bayes word prior: its ratios, its place in the model, and its life in a bundle."""

import numpy as np
import pytest
import torch

from core.bundle import ModelBundle
from core.config import TrainConfig
from core.model.classifier import RecurrentClassifier
from core.predict.predictor import Predictor
from core.training import word_prior
from core.training.dataset import prepare_data
from core.training.pipeline import train_model
from core.training.word_prior import SMALL_SET_REVIEWS, log_count_ratios, wants_prior
from tests.core.conftest import synthetic_table


def test_ratios_lean_toward_the_class_a_word_occurs_in():
    # ids 2 (only in class 1), 3 (only in class 0), 4 (in both); 0/1 are pad and unk
    sequences = [np.array([2, 4, 2]), np.array([2, 4]), np.array([3, 4]), np.array([3, 4, 1])]
    labels = np.array([1, 1, 0, 0])
    ratios = log_count_ratios(sequences, labels, vocab_size=6, num_classes=2)
    assert ratios.shape == (6, 2) and ratios.dtype == np.float32
    assert ratios[2, 1] > 0 > ratios[2, 0]
    assert ratios[3, 0] > 0 > ratios[3, 1]
    assert abs(ratios[4, 1]) < abs(ratios[2, 1]) / 3  # in every review of both classes
    assert not ratios[:2].any()  # pad and unk carry no lean
    # a word counts once per review: repeating it inside one review changes nothing
    again = log_count_ratios([np.array([2, 4])] + sequences[1:], labels, 6, 2)
    assert np.allclose(again, ratios)


def test_three_classes_give_one_column_each():
    sequences = [np.array([2]), np.array([3]), np.array([4])]
    ratios = log_count_ratios(sequences, np.array([0, 1, 2]), vocab_size=5, num_classes=3)
    assert ratios.shape == (5, 3)
    assert [int(ratios[w].argmax()) for w in (2, 3, 4)] == [0, 1, 2]


def test_prior_widens_the_recurrent_input_and_keeps_padding_harmless():
    torch.manual_seed(0)
    model = RecurrentClassifier(30, 2, cell="gru", embedding_dim=6, hidden_size=5,
                                dropout=0.0, prior_dim=2).eval()
    model.embedding.set_prior(torch.randn(30, 2))
    assert model.embedding(torch.tensor([[3, 0]])).shape == (1, 2, 8)
    assert model.forward_layers[0].input_size == 8
    assert not model.embedding(torch.tensor([[0]])).any()  # the IG baseline stays zero
    ids, lengths = torch.tensor([[4, 5, 6], [7, 0, 0]]), torch.tensor([3, 1])
    batched = model(ids, lengths)
    alone = torch.cat([model(ids[:1], lengths[:1]), model(ids[1:, :1], lengths[1:])])
    assert torch.allclose(batched, alone, atol=1e-5)
    with pytest.raises(ValueError):
        model.embedding.set_prior(torch.zeros(30, 3))


def test_training_fills_the_prior_and_a_bundle_keeps_it(tmp_path):
    config = TrainConfig(cell="gru", embedding_dim=8, hidden_size=8, epochs=2, max_length=20,
                         word_prior="on", validation_share=0.2, test_share=0.2, seed=3)
    data = prepare_data(synthetic_table(200), config)
    outcome = train_model(data, config)
    prior = outcome.bundle.model.embedding.prior
    great = data.vocab.encode(["great"])[0]
    awful = data.vocab.encode(["awful"])[0]
    positive = data.scheme.classes.index("pos")
    assert prior[great, positive] > 0 > prior[awful, positive]

    path = outcome.bundle.save(tmp_path / "prior.ramodel")
    loaded = ModelBundle.load(path)
    assert loaded.config.word_prior == "on"
    assert torch.equal(loaded.model.embedding.prior, prior)
    texts = ["great clean room", "awful rude staff"]
    assert np.allclose(Predictor(loaded).probabilities(texts),
                       Predictor(outcome.bundle).probabilities(texts))


def test_models_saved_before_the_option_load_without_a_prior():
    saved = TrainConfig(word_prior="on", lr_decay=0.5).to_dict()
    del saved["word_prior"], saved["lr_decay"]
    old = TrainConfig.from_saved(saved)
    assert old.word_prior == "off" and old.lr_decay == 1.0
    # a new run built from a partial dict still takes today's defaults
    assert TrainConfig.from_dict({"cell": "gru"}) == TrainConfig(cell="gru")


def test_models_saved_with_a_true_or_false_prior_still_load():
    saved = TrainConfig().to_dict()
    for flag, mode in ((True, "on"), (False, "off")):
        assert TrainConfig.from_saved({**saved, "word_prior": flag}).word_prior == mode


MANY = SMALL_SET_REVIEWS + 1


@pytest.mark.parametrize("mode, lengths, expected", [
    ("auto", [10, 20, 30] * MANY, True), ("auto", [10, 200, 300] * MANY, False),
    ("auto", [10, 200, 300], True), ("auto", [300] * SMALL_SET_REVIEWS, True),
    ("auto", [300] * MANY, False), ("auto", [], False),
    ("on", [500] * MANY, True), ("off", [5], False)])
def test_auto_turns_the_prior_on_for_short_reviews_or_small_sets(mode, lengths, expected):
    assert wants_prior(mode, np.array(lengths)) is expected


def test_auto_is_settled_by_training_and_saved_settled(tmp_path, monkeypatch):
    config = TrainConfig(cell="gru", embedding_dim=8, hidden_size=8, epochs=1, max_length=20,
                         validation_share=0.2, test_share=0.2, seed=3)
    assert config.word_prior == "auto"
    short = synthetic_table(200)  # a few words a review
    outcome = train_model(prepare_data(short, config), config)
    assert outcome.result.config.word_prior == "on"
    assert outcome.bundle.model.embedding.prior_dim == 2
    loaded = ModelBundle.load(outcome.bundle.save(tmp_path / "auto.ramodel"))
    assert loaded.config.word_prior == "on" and loaded.model.embedding.prior_dim == 2

    long = synthetic_table(200)
    long.texts = [" ".join([text] * 30) for text in long.texts]  # past SHORT_REVIEW_TOKENS
    monkeypatch.setattr(word_prior, "SMALL_SET_REVIEWS", 100)  # 200 reviews: not a small set
    outcome = train_model(prepare_data(long, config.replace(max_length=400)),
                          config.replace(max_length=400))
    assert outcome.bundle.config.word_prior == "off"
    assert outcome.bundle.model.embedding.prior_dim == 0
