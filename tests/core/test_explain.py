"""Per-word explanations: completeness, alignment with the shown words, negation, faithfulness."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from core.bundle import ModelBundle
from core.config import TrainConfig
from core.errors import ReviewDataError
from core.explain import (
    Explainer,
    class_probabilities,
    fast_token_attributions,
    integrated_gradients,
    top_count,
    word_spans,
)
from core.io.table import ReviewTable
from core.model.batch_input import pad_batch
from core.model.classifier import RecurrentClassifier
from core.predict.predictor import Predictor
from core.text.labels import make_scheme
from core.training.dataset import prepare_data, tokenizer_settings

SUBJECTS = ["the room", "the staff", "the food", "the film", "the service", "the bed",
            "our stay", "the view", "the plot", "the price", "the hotel", "the pool"]
POSITIVE = ["good", "great", "nice", "clean", "friendly", "lovely", "comfortable", "excellent"]
NEGATIVE = ["bad", "awful", "dirty", "rude", "terrible", "noisy", "boring", "broken"]
NEGATORS = ["not", "no", "never"]


def negation_table(count: int = 480, seed: int = 0) -> ReviewTable:
    """'the room was good' is pos, 'the room was not good' neg: a negator flips praise."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(count):
        praise = rng.random() < 2 / 3  # a quarter of praise negated: classes come out even
        negated = praise and rng.random() < 0.25
        adjective = rng.choice(POSITIVE if praise else NEGATIVE)
        negator = f"{rng.choice(NEGATORS)} " if negated else ""
        texts.append(f"{rng.choice(SUBJECTS)} {rng.choice(['was', 'is'])} {negator}{adjective}")
        labels.append("pos" if praise and not negated else "neg")
    return ReviewTable(texts=texts, labels=labels, rows=list(range(1, count + 1)),
                       sources=["synthetic"] * count, path="negation.csv")


def tiny_bundle(table: ReviewTable, steps: int = 60, seed: int = 0, **settings) -> ModelBundle:
    """A small model fitted full-batch with Adam: far quicker than the trainer, same bundle."""
    config = TrainConfig(embedding_dim=16, hidden_size=16, dropout=0.0, min_count=1,
                         test_share=0.0, seed=seed).replace(**settings)
    data = prepare_data(table, config, make_scheme("categorical", table.labels))
    torch.manual_seed(seed)
    model = RecurrentClassifier.from_config(config, len(data.vocab), data.scheme.num_classes)
    ids, lengths = pad_batch(data.train.ids)
    labels = torch.from_numpy(data.train.labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(ids, lengths), labels).backward()
        optimizer.step()
    model.eval()
    return ModelBundle(config, data.scheme, tokenizer_settings(config), data.vocab, model)


@pytest.fixture(scope="module")
def negation_bundle() -> ModelBundle:
    torch.set_num_threads(1)
    return tiny_bundle(negation_table(), cell="gru", bidirectional=True)


@pytest.fixture(scope="module")
def explainer(negation_bundle) -> Explainer:
    return Explainer(negation_bundle)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_ig_completeness_gap_is_under_one_percent(cell, bidirectional):
    bundle = tiny_bundle(negation_table(240, seed=1), steps=30, cell=cell,
                         bidirectional=bidirectional)
    explainer = Explainer(bundle)
    checked = 0
    for text in ["the staff was not friendly", "the pool is lovely", "our stay was dirty",
                 "the view was great", "the bed is not clean", "the price was rude"]:
        explanation = explainer.explain(text, "ig", with_trajectory=False,
                                        with_faithfulness=False)
        change = (explanation.probabilities[explanation.target_class]
                  - explanation.baseline_probability)
        if abs(change) < 0.05:
            continue  # a blank review already reads like this one: a gap of 1% means nothing
        checked += 1
        assert explanation.completeness_gap < 0.01 * abs(change), (text, explanation.steps)
        # The shown words carry the whole change: nothing was left on hidden positions.
        assert abs(np.nansum(explanation.scores) - change) < 0.01 * abs(change)
    assert checked >= 2


def test_negation_word_gets_the_strongest_push_toward_negative(explainer):
    for text, negator in [("the room was not good", "not"), ("the food is no good", "no"),
                          ("the staff was never friendly", "never")]:
        for method in ("ig", "occlusion"):
            explanation = explainer.explain(text, method, target="neg")
            assert explanation.predicted_name == "neg"
            strongest = explanation.words[int(np.nanargmax(explanation.scores))]
            assert strongest.word == negator, (method, text, explanation.scores)


def test_scores_align_with_the_words_the_user_sees(explainer):
    text = "The  room,was   NOT good!!<br /><br />staff:rude (really)"
    explanation = explainer.explain(text, "ig")
    shown = ["The", "room,was", "NOT", "good!!", "staff:rude", "(really)"]
    assert [w.word for w in explanation.words] == shown
    for word in explanation.words:
        assert text[word.start:word.end] == word.word
        assert word.read and word.score is not None and np.isfinite(word.score)
    assert explanation.trajectory.shape == (len(shown), 2)
    assert all("<pad>" not in w.word for w in explanation.words)


def test_word_spans_treat_html_breaks_as_spaces():
    assert word_spans("a<br/>b <p>c") == [(0, 1), (6, 7), (11, 12)]
    assert word_spans("a<br/>b", strip_html=False) == [(0, 7)]


def test_words_cut_by_truncation_are_marked_not_read(negation_bundle):
    bundle = ModelBundle(negation_bundle.config.replace(max_length=8, truncation="head_tail"),
                         negation_bundle.scheme, negation_bundle.tokenizer,
                         negation_bundle.vocab, negation_bundle.model)
    words = [f"w{i}" for i in range(20)]
    explanation = Explainer(bundle).explain(" ".join(words), "occlusion")
    read = [w.read for w in explanation.words]
    assert len(explanation.words) == 20
    assert read == [True] * 2 + [False] * 12 + [True] * 6  # head 8 // 4, tail the rest
    assert all(w.score is None for w in explanation.words if not w.read)
    assert np.isnan(explanation.trajectory[~np.array(read)]).all()
    assert np.isfinite(explanation.trajectory[np.array(read)]).all()
    assert (explanation.tokens_read, explanation.tokens_total) == (8, 20)


def test_binary_target_switch_mirrors_ig_scores(explainer):
    text = "the view was not lovely"
    toward_pos = explainer.explain(text, "ig", target="pos", with_trajectory=False)
    toward_neg = explainer.explain(text, "ig", target="neg", with_trajectory=False)
    # P(neg) = 1 - P(pos), so every word's push toward one is its push away from the other.
    np.testing.assert_allclose(toward_pos.scores, -toward_neg.scores, atol=1e-5)
    assert toward_pos.target_name == "pos" and toward_neg.target_name == "neg"
    assert toward_pos.predicted_class == toward_neg.predicted_class
    # Faithfulness is about the decision, whichever class the colours explain.
    assert toward_pos.faithfulness_class == toward_neg.faithfulness_class == 0
    assert toward_pos.top_words == toward_neg.top_words
    assert toward_pos.comprehensiveness == pytest.approx(toward_neg.comprehensiveness)


def test_occlusion_is_the_probability_drop_when_a_word_becomes_unknown(negation_bundle):
    explanation = Explainer(negation_bundle).explain("the bed was great", "occlusion",
                                                     target="pos")
    predictor = Predictor(negation_bundle)
    full = predictor.probabilities(["the bed was great"])[0, 1]
    without = predictor.probabilities(["the bed was zzzunseen"])[0, 1]
    assert explanation.words[3].score == pytest.approx(full - without, abs=1e-5)


def test_trajectory_rows_are_predictions_on_prefixes(negation_bundle, explainer):
    text = "the plot was not boring, the hotel is clean"
    explanation = explainer.explain(text, "occlusion")
    prefixes = [text[:w.end] for w in explanation.words]
    expected = Predictor(negation_bundle).probabilities(prefixes)
    np.testing.assert_allclose(explanation.trajectory, expected, atol=1e-5)
    np.testing.assert_allclose(explanation.trajectory[-1], explanation.probabilities, atol=1e-6)


def test_long_trajectories_are_thinned_to_the_cap(explainer):
    text = " ".join(["the room was good"] * 30)
    explanation = explainer.explain(text, "occlusion", max_trajectory_points=25)
    computed = np.isfinite(explanation.trajectory[:, 0])
    assert computed.sum() == 25 and computed[-1] and computed[0]


def test_faithfulness_figures_follow_their_definitions(negation_bundle, explainer):
    text = "the room was not good and the staff was never friendly or clean"
    explanation = explainer.explain(text, "ig", target="neg")
    assert explanation.top_k == top_count(len(explanation.words)) == 1
    top = explanation.words[explanation.top_words[0]]
    assert top.word in NEGATORS
    predictor = Predictor(negation_bundle)
    removed = text[:top.start] + "zzzunseen" + text[top.end:]
    p_full, p_removed = predictor.probabilities([text, removed])[:, 0]
    assert explanation.comprehensiveness == pytest.approx(p_full - p_removed, abs=1e-5)
    assert explanation.comprehensiveness > explanation.random_comprehensiveness
    assert explanation.sufficiency is not None


def test_fast_attributions_ignore_padding_and_match_single_reviews(negation_bundle):
    model = negation_bundle.model
    explainer = Explainer(negation_bundle)
    texts = ["the room was not good", "the pool is lovely", "our stay was very very dirty"]
    sequences = [explainer.align(t).ids for t in texts]
    ids, lengths = pad_batch(sequences)
    batch = fast_token_attributions(model, ids, lengths, target=[0, 1, 0])
    assert batch.shape == tuple(ids.shape)
    for row, sequence in enumerate(sequences):
        alone = fast_token_attributions(model, sequence[None, :], [len(sequence)],
                                        [0, 1, 0][row])
        np.testing.assert_allclose(batch[row, :len(sequence)], alone[0], atol=1e-5)
        assert not batch[row, len(sequence):].any()
    assert batch[0, 3] > 0  # "not" pushes toward neg, by gradient x input too


def test_ig_runs_on_a_three_class_model():
    rng = random.Random(3)
    texts, labels = [], []
    for _ in range(240):
        kind = rng.choice(["bad", "fine", "great"])
        texts.append(f"{rng.choice(SUBJECTS)} was {kind}")
        labels.append(kind)
    bundle = tiny_bundle(ReviewTable(texts=texts, labels=labels, rows=list(range(240))),
                         cell="lstm", pooling="attention")
    explanation = Explainer(bundle).explain("the food was fine", "ig", target="fine")
    assert explanation.trajectory.shape == (4, 3)
    assert explanation.probabilities.sum() == pytest.approx(1.0)
    assert explanation.relative_completeness_gap < 0.01
    assert explanation.words[int(np.nanargmax(explanation.scores))].word == "fine"


def test_integrated_gradients_reports_the_steps_it_needed(negation_bundle, explainer):
    ids = explainer.align("the room was not good").ids
    fixed = integrated_gradients(negation_bundle.model, ids, 0, steps=4, tolerance=None)
    refined = integrated_gradients(negation_bundle.model, ids, 0, steps=4, tolerance=1e-4)
    assert fixed.steps == 4 and refined.steps >= fixed.steps
    assert refined.completeness_gap <= fixed.completeness_gap + 1e-9


def test_model_stays_in_eval_mode(negation_bundle, explainer):
    explainer.explain("the room was good", "ig")
    assert not negation_bundle.model.training


def test_to_dict_is_plain_json(explainer):
    data = json.loads(json.dumps(explainer.explain("the film is great", "ig").to_dict()))
    assert [w["word"] for w in data["words"]] == ["the", "film", "is", "great"]
    assert set(data["probabilities"]) == {"neg", "pos"}
    assert data["faithfulness"]["top_k"] == 1


@pytest.mark.parametrize("target", ["maybe", 5, "7"])
def test_unknown_target_class_is_a_user_error(explainer, target):
    with pytest.raises(ReviewDataError, match="class"):
        explainer.explain("the room was good", target=target)


def test_empty_review_is_a_user_error(explainer):
    with pytest.raises(ReviewDataError, match="nothing to explain"):
        explainer.explain("   \n ")


def test_class_probabilities_keep_input_order(negation_bundle):
    sequences = [np.array([2, 3]), np.array([2, 3, 4, 5, 6]), np.array([7])]
    together = class_probabilities(negation_bundle.model, sequences)
    alone = np.vstack([class_probabilities(negation_bundle.model, [s]) for s in sequences])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_explain_command_prints_words_and_json(negation_bundle, tmp_path, capsys):
    from core.cli import run_cli

    path = negation_bundle.save(tmp_path / "model")
    assert run_cli(["explain", str(path.parent), "the room was not good", "--target",
                    "neg"]) == 0
    printed = capsys.readouterr().out
    assert "not" in printed and "neg" in printed
    assert run_cli(["explain", str(path), "the room was good", "--method", "occlusion",
                    "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "occlusion" and len(data["words"]) == 4
    assert run_cli(["explain", str(path), "the room", "--target", "maybe"]) == 2


def test_ig_matches_captum_on_the_models_own_layer_and_leaves_it_unhooked(negation_bundle,
                                                                         explainer):
    from captum.attr import LayerIntegratedGradients

    model = negation_bundle.model
    ids = explainer.align("the hotel was not clean").ids
    ours = integrated_gradients(model, ids, 1, steps=20, tolerance=None)
    inputs = torch.from_numpy(ids)[None]
    lig = LayerIntegratedGradients(lambda x, n: torch.softmax(model(x, n), 1), model.embedding)
    reference = lig.attribute(inputs, torch.zeros_like(inputs), target=1, n_steps=20,
                              additional_forward_args=(torch.tensor([len(ids)]),))
    np.testing.assert_allclose(ours.scores, reference.sum(-1)[0].detach().numpy(), atol=1e-6)
    assert not model.embedding._forward_hooks and not model.embedding._forward_pre_hooks


def sharp_model() -> tuple[RecurrentClassifier, np.ndarray]:
    """A tanh RNN with weights scaled up and a 30-word review: f jumps along the IG path."""
    torch.manual_seed(2)
    model = RecurrentClassifier(50, 2, cell="rnn", embedding_dim=16, hidden_size=16,
                                bidirectional=False, dropout=0.0, pooling="max").eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(3)
    return model, np.random.default_rng(2).integers(2, 50, 30)


def test_adaptive_rule_restores_completeness_where_fifty_points_miss():
    # A sharp recurrent model: f jumps within a sliver of the path, as trained models do on
    # long reviews; the plain 50-point rule then misses completeness by far.
    model, ids = sharp_model()
    plain = integrated_gradients(model, ids, 1, tolerance=None)
    adaptive = integrated_gradients(model, ids, 1)
    assert plain.relative_gap > 0.05 and plain.steps == 50 and plain.pieces == 1
    assert adaptive.relative_gap < 0.01 and adaptive.pieces > 1
    assert abs(adaptive.scores.sum() - (adaptive.probability - adaptive.baseline_probability)) \
        == pytest.approx(adaptive.completeness_gap)


def test_a_tiny_miss_on_a_tiny_change_is_not_reported_as_a_huge_relative_gap():
    from core.explain.integrated import MIN_JUDGED_CHANGE, relative_gap
    assert relative_gap(1e-6, 1e-7) == pytest.approx(1e-6 / MIN_JUDGED_CHANGE)
    assert relative_gap(0.002, -0.2) == pytest.approx(0.01)  # real changes are judged as is
    assert relative_gap(0.0, 0.0) == 0.0


def test_refinement_that_makes_the_gap_swing_keeps_the_best_rule(monkeypatch):
    from core.explain import integrated

    model, ids = sharp_model()
    refine = integrated._refine
    gaps = []

    def swinging(*args, **kwargs):  # every round after the first spoils one piece
        starts, ends, lows, highs, contributions = refine(*args, **kwargs)
        if gaps:
            contributions = contributions.copy()
            contributions[0, 0] += 0.5
        gaps.append(abs(contributions.sum() - (args[2][-1] - args[2][0])))
        return starts, ends, lows, highs, contributions

    monkeypatch.setattr(integrated, "_refine", swinging)
    result = integrated_gradients(model, ids, 1, tolerance=1e-9, max_nodes=300)
    assert len(gaps) >= 2 and result.completeness_gap == pytest.approx(min(gaps), rel=1e-6)
    assert abs(result.scores.sum() - (result.probability - result.baseline_probability)) \
        == pytest.approx(result.completeness_gap)
