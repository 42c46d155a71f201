"""Comparison runner: one split for every run, repeatable, cancellable, exportable."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from core.compare.runner import (
    CompareCallbacks,
    ComparisonResult,
    RunEvent,
    Variant,
    default_variants,
    read_table_csv,
    run_comparison,
    slug,
    variant_name,
)
from core.config import TrainConfig
from core.errors import ReviewDataError
from core.io.table import ReviewTable
from core.text.labels import make_scheme
from core.training.dataset import prepare_data
from core.training.pipeline import evaluate_bundle
from core.training.trainer import TrainControl

POSITIVE = ["great", "lovely", "excellent", "friendly", "clean", "superb", "comfortable"]
NEGATIVE = ["awful", "dirty", "rude", "terrible", "broken", "noisy", "boring"]
FILLER = ["the", "room", "staff", "film", "was", "and", "very", "our", "stay", "plot"]


def synthetic_table(count: int = 400, seed: int = 0, stars: bool = False) -> ReviewTable:
    """Easy reviews: two sentiment words decide the label (stars 1-2 / 4-5 when ``stars``)."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(count):
        positive = rng.random() < 0.5
        words = rng.choices(POSITIVE if positive else NEGATIVE, k=2) + rng.choices(FILLER, k=4)
        rng.shuffle(words)
        texts.append(" ".join(words))
        if stars:
            labels.append(str(rng.choice([4, 5]) if positive else rng.choice([1, 2])))
        else:
            labels.append("pos" if positive else "neg")
    return ReviewTable(texts=texts, labels=labels, rows=list(range(1, count + 1)),
                       sources=["synthetic"] * count, path="synthetic.csv")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)

BASE = TrainConfig(embedding_dim=8, hidden_size=8, epochs=2, batch_size=32, max_length=12,
                   min_count=1, threads=1, seed=5, bidirectional=False)


@pytest.fixture(scope="module")
def small() -> ReviewTable:
    return synthetic_table(240, seed=4)


@pytest.fixture(scope="module")
def compared(small: ReviewTable) -> ComparisonResult:
    return run_comparison(small, BASE, baselines=("tfidf", "vader"))


def test_default_runs_are_rnn_lstm_gru_and_baselines(compared: ComparisonResult) -> None:
    assert [r.name for r in compared.runs] == ["TF-IDF + LogReg", "VADER", "RNN", "LSTM", "GRU"]
    cells = [r.config.cell for r in compared.runs if r.config is not None]
    assert cells == ["rnn", "lstm", "gru"]
    assert not compared.cancelled


def test_every_run_is_scored_on_the_same_test_and_validation_rows(
        small: ReviewTable, compared: ComparisonResult) -> None:
    data = prepare_data(small, BASE)
    assert np.array_equal(compared.test_rows, data.test.rows)
    assert np.array_equal(compared.validation_rows, data.validation.rows)
    test_table = small.subset([int(r) for r in compared.test_rows])
    validation_table = small.subset([int(r) for r in compared.validation_rows])
    for run in compared.runs:
        assert run.test_metrics["count"] == len(compared.test_rows)
        assert len(run.test_predictions) == len(compared.test_rows)
        if run.bundle is not None:
            # re-scoring the kept model on those rows gives the figures in the table
            again = evaluate_bundle(run.bundle, test_table)
            assert again["accuracy"] == pytest.approx(run.test_metrics["accuracy"])
            on_validation = evaluate_bundle(run.bundle, validation_table)
            assert on_validation["accuracy"] == pytest.approx(
                run.validation_metrics["accuracy"])
            assert run.bundle.info["train_reviews"] == len(compared.train_rows)


def test_variant_data_settings_follow_the_base(small: ReviewTable) -> None:
    odd = BASE.replace(cell="gru", seed=99, max_length=5, validation_share=0.3)
    messages: list[str] = []
    result = run_comparison(small, BASE, [Variant("odd", odd)], baselines=(),
                            callbacks=CompareCallbacks(on_status=messages.append))
    config = result.run("odd").config
    assert (config.seed, config.max_length, config.validation_share) == (
        BASE.seed, BASE.max_length, BASE.validation_share)
    assert any("same split" in m for m in messages)


def test_the_same_seed_gives_the_same_figures(small: ReviewTable) -> None:
    variants = default_variants(BASE, ["rnn", "gru"])
    first = run_comparison(small, BASE, variants, baselines=("tfidf",))
    second = run_comparison(small, BASE, variants, baselines=("tfidf",))
    timing = {"seconds", "tokens_per_second"}
    for a, b in zip(first.table_rows(), second.table_rows()):
        assert {k: v for k, v in a.items() if k not in timing} == \
            {k: v for k, v in b.items() if k not in timing}
    for a, b in zip(first.runs, second.runs):
        assert np.array_equal(a.test_predictions, b.test_predictions)
        assert [h.val_loss for h in a.history] == [h.val_loss for h in b.history]


def test_cancel_stops_everything_and_keeps_finished_runs(small: ReviewTable) -> None:
    control = TrainControl()
    epochs: list[RunEvent] = []

    def on_epoch(event: RunEvent) -> None:
        epochs.append(event)
        if event.run == "LSTM" and event.payload.epoch == 1:
            control.cancel()

    result = run_comparison(small, BASE, baselines=("tfidf",), control=control,
                            callbacks=CompareCallbacks(on_epoch=on_epoch))
    assert result.cancelled
    assert [r.name for r in result.runs] == ["TF-IDF + LogReg", "RNN", "LSTM"]
    assert [r.status for r in result.runs] == ["completed", "completed", "cancelled"]
    cancelled = result.run("LSTM")
    assert cancelled.bundle is not None and cancelled.bundle.info["stop_reason"] == "cancelled"
    assert len(cancelled.history) == 1 and cancelled.test_metrics["count"] > 0
    assert not any(e.run == "GRU" for e in epochs)
    assert all("LSTM" not in names for names in result.best().values())
    assert "cancelled" in result.to_markdown()


def test_events_are_tagged_and_progress_grows(small: ReviewTable) -> None:
    batches: list[RunEvent] = []
    runs: list[RunEvent] = []
    run_comparison(small, BASE, default_variants(BASE, ["rnn", "gru"]), baselines=("tfidf",),
                   callbacks=CompareCallbacks(on_batch=batches.append, on_run=runs.append))
    assert {e.run for e in batches} == {"RNN", "GRU"}
    assert all(e.runs == 3 for e in batches + runs)
    fractions = [e.fraction for e in batches]
    assert fractions == sorted(fractions) and fractions[0] > 0 and fractions[-1] == 1.0
    finished = [e for e in runs if e.payload is not None]
    assert [e.run for e in finished] == ["TF-IDF + LogReg", "RNN", "GRU"]


def test_table_round_trips_through_csv(compared: ComparisonResult, tmp_path) -> None:
    path = compared.to_csv(tmp_path / "table.csv")
    assert read_table_csv(path) == compared.table_rows()


def test_markdown_bolds_the_best_value_per_column(compared: ComparisonResult) -> None:
    best = compared.best()
    lines = compared.to_markdown().splitlines()
    assert lines[0].startswith("| Model | Test accuracy | 95% interval | Macro-F1 |")
    assert "MAE" not in lines[0]  # two unordered classes
    for name in best["accuracy"]:
        row = next(line for line in lines if line.startswith(f"| {name} |"))
        assert row.split("|")[2].strip().startswith("**")
    losers = {r.name for r in compared.runs} - best["accuracy"]
    for name in losers:
        row = next(line for line in lines if line.startswith(f"| {name} |"))
        assert "**" not in row.split("|")[2]
    text = compared.to_text()
    assert "* best in column" in text
    assert "Settings" in lines[0]
    assert "Settings" not in compared.to_markdown(settings=False).splitlines()[0]


def test_star_ratings_add_mae_and_leave_vader_out() -> None:
    table = synthetic_table(240, seed=6, stars=True)
    scheme = make_scheme("three", table.labels)
    result = run_comparison(table, BASE, default_variants(BASE, ["gru"]), scheme,
                            baselines=("tfidf", "vader"))
    assert [r.name for r in result.runs] == ["TF-IDF + LogReg", "GRU"]
    assert "mae" in [c.key for c in result.columns()]
    assert all(row["mae"] is not None for row in result.table_rows())
    assert "| MAE |" in result.to_markdown()


def test_models_are_saved_one_file_per_run(compared: ComparisonResult, tmp_path) -> None:
    saved = compared.save_models(tmp_path)
    assert set(saved) == {"RNN", "LSTM", "GRU"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gru.ramodel", "lstm.ramodel",
                                                         "rnn.ramodel"]


def test_names_and_errors() -> None:
    assert variant_name(TrainConfig(cell="lstm", layers=2)) == "BiLSTM 2×128"
    assert variant_name(TrainConfig(cell="gru", bidirectional=False, hidden_size=64)) == "GRU 1×64"
    assert slug("BiLSTM 2×128") == "bilstm-2-128"
    with pytest.raises(ReviewDataError, match="Unknown baseline"):
        run_comparison(synthetic_table(60), BASE, [], baselines=("bert",))
    with pytest.raises(ReviewDataError, match="test reviews"):
        run_comparison(synthetic_table(60), BASE.replace(test_share=0.0), [])


def test_command_line_writes_table_and_models(tmp_path, capsys) -> None:
    pytest.importorskip("core.io.readers")
    from core.cli import run_cli

    source = tmp_path / "reviews.csv"
    table = synthetic_table(160, seed=8)
    source.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in
                                                 zip(table.texts, table.labels)))
    out = tmp_path / "out"
    code = run_cli(["compare", str(source), "--cells", "rnn,gru", "--baselines",
                    "--embedding-dim", "8", "--hidden", "8", "--epochs", "1",
                    "--min-count", "1", "--threads", "1", "--out", str(out)])
    assert code == 0
    rows = read_table_csv(out / "comparison.csv")
    assert [r["model"] for r in rows] == ["TF-IDF + LogReg", "VADER", "RNN", "GRU"]
    assert (out / "comparison.md").read_text().startswith("| Model |")
    assert sorted(p.name for p in out.glob("*.ramodel")) == ["gru.ramodel", "rnn.ramodel"]
    printed = capsys.readouterr().out
    assert "* best in column" in printed and "RNN" in printed


def test_command_line_refuses_unknown_cells(tmp_path, capsys) -> None:
    from core.cli import run_cli

    code = run_cli(["compare", "x.csv", "--cells", "rnn,transformer", "--out", str(tmp_path)])
    assert code == 2
    assert "transformer" in capsys.readouterr().err
