"""Contextual decomposition: exact for every cell, direction, depth and pooling; phrase scores."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from core.explain import Explainer, analyse_phrases, decompose
from core.explain.decomposition import span_masks, toward
from core.explain.phrases import (
    PhraseAnalysis,
    PhraseScore,
    candidate_spans,
    flip_sentence,
    pick_phrases,
)
from core.model.classifier import RecurrentClassifier
from tests.core.test_explain import negation_table, tiny_bundle

CASES = list(itertools.product(["lstm", "gru", "rnn"], [False, True], [1, 2],
                               ["last", "mean", "max", "max_mean", "attention"]))


def random_model(cell: str, bidirectional: bool, layers: int, pooling: str, prior: bool,
                 seed: int = 0) -> RecurrentClassifier:
    torch.manual_seed(seed)
    model = RecurrentClassifier(40, 3, cell=cell, embedding_dim=7, hidden_size=5, layers=layers,
                                bidirectional=bidirectional, pooling=pooling,
                                prior_dim=3 if prior else 0)
    with torch.no_grad():  # larger weights than the default init: saturated gates get tested
        for parameter in model.parameters():
            parameter.mul_(2.0)
    if prior:
        model.embedding.set_prior(torch.randn(40, 3))
    return model.eval()


def logits_of(model: RecurrentClassifier, ids: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.as_tensor(ids)[None], torch.tensor([len(ids)])).double().numpy()[0]


@pytest.mark.parametrize("cell,bidirectional,layers,pooling", CASES)
def test_relevant_and_irrelevant_parts_add_up_to_the_logits(cell, bidirectional, layers,
                                                            pooling):
    model = random_model(cell, bidirectional, layers, pooling, prior=(layers == 2))
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 40, size=11)
    masks = rng.random((6, 11)) < 0.35
    masks[0] = False  # nothing
    masks[1] = True  # everything
    masks[2] = False
    masks[2, 4:7] = True  # a contiguous span in the middle
    beta, gamma = decompose(model, ids, masks)
    logits = logits_of(model, ids)
    assert np.abs(beta + gamma - logits).max() < 1e-4
    assert np.abs(beta[0]).max() < 1e-6  # an empty span contributes nothing
    murdoch_beta, murdoch_gamma = decompose(model, ids, masks, bias_in_span=True)
    assert np.abs(murdoch_beta + murdoch_gamma - logits).max() < 1e-4
    assert np.abs(murdoch_beta[1] - beta[1]).max() > 1e-4  # the biases moved to beta
    # Different spans get different shares: the decomposition is not a constant split.
    assert np.abs(beta[2] - beta[3]).max() > 1e-3


@pytest.mark.parametrize("cell,bidirectional,layers,pooling",
                         [c for c in CASES if c[3] in ("last", "mean", "attention")])
def test_beta_pooled_in_the_loop_equals_beta_pooled_from_its_states(cell, bidirectional,
                                                                    layers, pooling,
                                                                    monkeypatch):
    """The last layer pools beta as its step loop goes; pooling the stored states in reading
    order (the path max pooling takes) gives the same shares."""
    import core.explain.decomposition as decomposition

    model = random_model(cell, bidirectional, layers, pooling, prior=False)
    rng = np.random.default_rng(2)
    ids = rng.integers(1, 40, size=13)
    masks = rng.random((7, 13)) < 0.3
    masks[3] = False
    masks[3, 5:8] = True
    pooled, pooled_gamma = decompose(model, ids, masks)
    monkeypatch.setattr(decomposition, "_step_weights", lambda *args: None)
    stored, stored_gamma = decompose(model, ids, masks)
    assert np.abs(stored).max() > 1e-3
    assert np.abs(pooled - stored).max() < 1e-5
    assert np.abs(pooled_gamma - stored_gamma).max() < 1e-5


def test_spans_are_decomposed_alike_alone_and_in_a_batch():
    model = random_model("lstm", True, 1, "attention", prior=False)
    ids = np.arange(1, 30)
    masks = span_masks(len(ids), [np.array([i]) for i in range(len(ids))],
                       [(i, i + 2) for i in range(0, 27)])
    together, _ = decompose(model, ids, masks)
    alone = np.concatenate([decompose(model, ids, m[None])[0] for m in masks[::7]])
    assert np.allclose(together[::7], alone, atol=1e-5)


def test_a_model_in_training_mode_is_refused():
    model = random_model("gru", False, 1, "max", prior=False).train()
    with pytest.raises(ValueError):
        decompose(model, np.array([1, 2, 3]), np.array([[True, False, False]]))


def test_toward_is_the_log_odds_share_for_two_classes():
    logits = np.array([[0.5, 2.0], [1.0, -1.0]])
    assert np.allclose(toward(logits, 1), [1.5, -2.0])
    assert np.allclose(toward(logits, 0), [-1.5, 2.0])


def test_candidate_spans_skip_unread_words_and_follow_seeds():
    read = np.array([True, True, False, True, True, True])
    spans = candidate_spans(read, max_words=3)
    assert (0, 2) in spans and (3, 6) in spans
    assert not any(a <= 2 < b for a, b in spans)
    seeded = candidate_spans(read, max_words=3, seeds=[5])
    assert seeded and all(a <= 5 < b for a, b in seeded)


def test_pick_prefers_the_minimal_span_and_never_overlaps():
    words = np.array([0.1, -1.0, -2.0, 0.1, 0.5])
    spans = [PhraseScore(1, 3, 1.0, 4.0), PhraseScore(0, 3, 1.2, 4.1),
             PhraseScore(1, 4, 1.0, 3.9), PhraseScore(3, 5, 1.6, 1.0)]
    shown = pick_phrases(spans, words)
    assert [(p.start, p.end) for p in shown] == [(1, 3), (3, 5)]


def test_flip_sentence_names_the_turned_word_and_both_classes():
    analysis = PhraseAnalysis(1, np.array([0.1, -0.3, -1.8, 0.0]), [],
                              [PhraseScore(1, 3, 0.9, 3.0)])
    words = ["food", "not", "bad", "all"]
    assert flip_sentence(analysis, words, ["negative", "positive"]) == \
        "'not' turns 'bad' from negative to positive"
    weakened = PhraseAnalysis(1, np.array([0.1, -0.3, -1.8, 0.0]), [],
                              [PhraseScore(1, 3, -0.5, 1.6)])
    assert flip_sentence(weakened, words, ["negative", "positive"]) == \
        "'not' weakens 'bad' (still negative)"
    assert flip_sentence(PhraseAnalysis(1, np.zeros(4), [], []), words, ["n", "p"]) is None
    # "not" itself reads positive; the interaction outweighs 'bad' and turns it around.
    led = PhraseAnalysis(1, np.array([0.0, 2.4, -0.4, 0.0]), [], [PhraseScore(1, 3, 6.5, 4.5)])
    assert flip_sentence(led, words, ["negative", "positive"]) == \
        "'not' turns 'bad' from negative to positive"
    # ... but not when the word against it is stronger than the interaction
    weak = PhraseAnalysis(1, np.array([0.0, 2.4, -0.9, 0.0]), [], [PhraseScore(1, 3, 2.0, 0.5)])
    assert flip_sentence(weak, words, ["negative", "positive"]) is None
    # Two words pushing the same way about as hard: no single one was turned.
    even = PhraseAnalysis(1, np.array([0.1, 0.2, -0.4, -0.6]), [], [PhraseScore(1, 4, 1.5, 2.3)])
    assert flip_sentence(even, ["the", "not", "bad", "slow"], ["negative", "positive"]) == \
        "'not bad slow' together points to positive, though its words alone point to negative"
    # Words on both sides of the turned one are not quoted as if they were one phrase.
    around = PhraseAnalysis(0, np.array([0.5, -0.5, 1.3, 0.6]), [],
                            [PhraseScore(0, 4, -0.5, -2.2)])
    words = ["service", "maid", "paid", "no"]
    assert flip_sentence(around, words, ["neg", "pos"]) == \
        "in 'service maid paid no', the words around 'paid' turn it from neg to pos"
    around.shown = [PhraseScore(0, 4, 0.4, -0.9)]  # the same words only weaken it
    assert flip_sentence(around, words, ["neg", "pos"]) == \
        "in 'service maid paid no', the words around 'paid' weaken it (still neg)"
    # A function word is never named as the turned word, however strong its own score.
    minor = PhraseAnalysis(1, np.array([0.0, -1.4, -0.7, 1.5]), [], [PhraseScore(1, 4, -2.3, -1.7)])
    assert flip_sentence(minor, ["paid", "no", "attention", "to"], ["0", "1"]) is None


@pytest.fixture(scope="module")
def negation_explainer() -> Explainer:
    torch.set_num_threads(1)
    return Explainer(tiny_bundle(negation_table(), steps=80, cell="lstm", bidirectional=True,
                                 pooling="attention"))


def test_a_negated_adjective_is_one_phrase_that_turns_it(negation_explainer):
    """'good' alone pushes positive; 'not good' as a unit pushes negative, and the words'
    own scores do not add up to the phrase's (the interaction)."""
    bundle = negation_explainer.bundle
    alignment = negation_explainer.align("the room was not good")
    positive = bundle.classes.index("pos")
    analysis = analyse_phrases(bundle.model, alignment.ids, alignment.positions(), positive)
    assert analysis.word_scores[4] > 0  # "good" alone
    phrase = {(p.start, p.end): p for p in analysis.spans}[(3, 5)]
    assert phrase.score < 0
    inner = analysis.word_scores[3] + analysis.word_scores[4]
    assert abs(phrase.interaction - (phrase.score - inner)) < 1e-9
    assert abs(phrase.interaction) > 0.1
    assert analysis.shown and all(abs(p.interaction) > 0 for p in analysis.shown)
    assert analysis.logit_gap < 1e-4


def test_explanation_lists_phrases_with_character_spans(negation_explainer):
    text = "The staff  was NOT good"
    explanation = negation_explainer.explain(text, target="pos")
    data = json.loads(json.dumps(explanation.to_dict()))
    assert data["phrases"], "the negated adjective should form a phrase"
    for phrase in data["phrases"]:
        assert text[phrase["start"]:phrase["end"]].split() == phrase["words"]
        assert set(phrase) >= {"words", "start", "end", "score", "interaction"}
    assert data["phrase_units"] == "log-odds"
    starts = [p["word_start"] for p in data["phrases"]]
    assert starts == sorted(starts)
    assert all(a["word_end"] <= b["word_start"]
               for a, b in zip(data["phrases"], data["phrases"][1:]))


def test_new_models_split_negation_clitics_and_old_ones_keep_their_tokens():
    """SST-2 spells "does n't": a model trained there only knows "n't" as a token, so new
    models split "didn't" the same way; bundles saved before keep reading it whole."""
    from core.config import TrainConfig
    from core.text.tokenizer import Tokenizer, TokenizerSettings
    from core.training.dataset import tokenizer_settings

    settings = tokenizer_settings(TrainConfig())
    text = "I didn't hate it, it's fine. Does n't matter"
    assert Tokenizer(settings).tokenize(text) == [
        "i", "did", "n't", "hate", "it", ",", "it", "'s", "fine", ".", "does", "n't", "matter"]
    pieces = Tokenizer(settings).tokenize_with_spans(text)
    assert all(text[s:e].lower() == t for t, s, e in pieces)
    saved = {k: v for k, v in settings.to_dict().items() if k != "split_clitics"}
    old = Tokenizer(TokenizerSettings.from_dict(saved))
    assert "didn't" in old.tokenize(text)
    assert TokenizerSettings.from_dict(settings.to_dict()) == settings


def test_explain_command_json_has_phrases_and_text_lists_them(negation_explainer, tmp_path,
                                                              capsys):
    from core.cli import run_cli

    path = negation_explainer.bundle.save(tmp_path / "model")
    text = "the view was not clean"
    assert run_cli(["explain", str(path), text, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["phrases"]
    for phrase in data["phrases"]:
        assert text[phrase["start"]:phrase["end"]].split() == phrase["words"]
        assert isinstance(phrase["score"], float) and isinstance(phrase["interaction"], float)
    assert run_cli(["explain", str(path), text]) == 0
    printed = capsys.readouterr().out
    assert "Phrases (contextual decomposition" in printed
    assert repr(" ".join(data["phrases"][0]["words"])) in printed
