"""Batch analysis: formats round-trip, rows line up, bad rows are logged, cancel is clean."""

from __future__ import annotations

import csv
import json
import multiprocessing
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from core.analyze.analysis import BatchOptions, analyze, plan_inputs, side_paths
from core.analyze.summary import class_polarity
from core.bundle import ModelBundle
from core.cli import run_cli
from core.config import TrainConfig
from core.errors import ReviewDataError
from core.explain import fast_token_attributions
from core.model.classifier import RecurrentClassifier
from core.predict.batch_predictor import (
    BatchPredictor,
    batched_integrated_gradients,
    quantize_int8,
    resolve_precision,
    top_words,
)
from core.predict.predictor import Predictor
from core.text.labels import LabelScheme
from core.text.vocabulary import Vocabulary
from core.training.pipeline import run_training
from tests.core.conftest import synthetic_table

ONE = BatchOptions(threads=1)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny LSTM trained for one epoch on synthetic reviews, saved like `train --out`."""
    torch.set_num_threads(1)
    config = TrainConfig(cell="lstm", embedding_dim=8, hidden_size=8, epochs=1, min_count=1,
                         vocab_size=200, device="cpu", threads=1)
    outcome = run_training(synthetic_table(300, seed=1), config)
    return outcome.bundle.save(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def bundle(model_path):
    return ModelBundle.load(model_path)


def write_reviews(path, count=60, seed=3, empty_rows=()):
    """A CSV of synthetic reviews with ids that are not row numbers."""
    table = synthetic_table(count, seed=seed)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["review_id", "text", "label"])
        for i, (text, label) in enumerate(zip(table.texts, table.labels)):
            writer.writerow([f"r{1000 - i}", "" if i in empty_rows else text, label])
    return table


def read_output(path):
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_each_format_round_trips_with_ids_and_probabilities(tmp_path, bundle, suffix):
    table = write_reviews(tmp_path / "in.csv")
    out = tmp_path / f"out{suffix}"
    result = analyze([tmp_path / "in.csv"], bundle, out, ONE)
    rows = read_output(out)
    assert result.reviews == len(rows) == len(table)
    assert [r["id"] for r in rows] == [f"r{1000 - i}" for i in range(len(table))]
    assert [r["text"] for r in rows] == table.texts
    assert [int(r["row"]) for r in rows] == list(range(1, len(table) + 1))
    expected = Predictor(bundle).probabilities(table.texts)
    for row, probabilities in zip(rows, expected):
        got = [float(row[f"prob_{name}"]) for name in bundle.classes]
        assert got == pytest.approx(probabilities.tolist(), abs=2e-5)
        assert row["predicted"] == bundle.classes[int(np.argmax(probabilities))]
    assert not side_paths(out).partial.exists()
    assert not side_paths(out).errors.exists()


def test_top_words_come_from_the_review_and_respect_k(tmp_path, bundle):
    table = write_reviews(tmp_path / "in.csv", count=30)
    out = tmp_path / "out.jsonl"
    analyze([tmp_path / "in.csv"], bundle, out, BatchOptions(threads=1, top_k=2))
    for row, text in zip(read_output(out), table.texts):
        words = set(text.lower().split())
        assert len(row["top_toward"]) <= 2 and len(row["top_against"]) <= 2
        assert set(row["top_toward"]) <= words and set(row["top_against"]) <= words
        assert not set(row["top_toward"]) & set(row["top_against"])
        assert row["top_toward"] or row["top_against"]


def test_a_bad_row_is_reported_and_skipped(tmp_path, bundle):
    table = write_reviews(tmp_path / "in.csv", count=20, empty_rows={4})
    out = tmp_path / "out.csv"
    result = analyze([tmp_path / "in.csv"], bundle, out, ONE)
    rows = read_output(out)
    assert len(rows) == 19 and result.skipped == 1
    assert "r996" not in [r["id"] for r in rows]
    assert [r["text"] for r in rows] == table.texts[:4] + table.texts[5:]
    with open(side_paths(out).errors, newline="", encoding="utf-8") as stream:
        errors = list(csv.DictReader(stream))
    assert len(errors) == 1
    assert errors[0]["source"].endswith("in.csv") and errors[0]["row"] == "5"
    assert "empty text" in errors[0]["reason"]
    assert result.summary["rows_skipped"] == 1


def test_a_broken_file_in_a_folder_is_reported_and_the_others_are_read(tmp_path, bundle):
    folder = tmp_path / "reviews"
    folder.mkdir()
    write_reviews(folder / "a.csv", count=10, seed=1)
    (folder / "b.parquet").write_bytes(b"PAR1 this is not parquet at all")
    write_reviews(folder / "c.csv", count=7, seed=2)
    out = tmp_path / "results.csv"  # inside the folder it is refused (test_output_safety)
    result = analyze([folder], bundle, out, ONE)
    assert result.reviews == 17
    sources = {r["source"].rsplit("/", 1)[-1] for r in read_output(out)}
    assert sources == {"a.csv", "c.csv"}
    errors = side_paths(out).errors.read_text(encoding="utf-8")
    assert "b.parquet" in errors
    assert set(result.summary["files"]) == {str(folder / "a.csv"), str(folder / "b.parquet"),
                                            str(folder / "c.csv")}


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_cancel_leaves_a_readable_partial_output_marked_partial(tmp_path, bundle, suffix):
    write_reviews(tmp_path / "in.csv", count=50)
    out = tmp_path / f"out{suffix}"
    seen = []
    options = BatchOptions(threads=1, chunk_size=20)
    result = analyze([tmp_path / "in.csv"], bundle, out, options,
                     on_progress=seen.append, cancel=lambda: len(seen) >= 1)
    rows = read_output(out)
    assert result.partial and len(rows) == result.reviews == 20
    assert [r["id"] for r in rows] == [f"r{1000 - i}" for i in range(20)]
    summary = json.loads(side_paths(out).summary.read_text(encoding="utf-8"))
    assert summary["partial"] is True and summary["cancelled"] is True
    assert summary["rows_read"] == 20
    assert side_paths(out).partial.exists()


def test_summary_counts_equal_the_predictions(tmp_path, bundle):
    write_reviews(tmp_path / "a.csv", count=40, seed=5)
    write_reviews(tmp_path / "b.csv", count=25, seed=6)
    out = tmp_path / "out.parquet"
    result = analyze([tmp_path / "a.csv", tmp_path / "b.csv"], bundle, out,
                     BatchOptions(threads=1, chunk_size=16))
    rows = read_output(out)
    summary = json.loads(side_paths(out).summary.read_text(encoding="utf-8"))
    assert summary == result.summary
    for name in bundle.classes:
        count = sum(r["predicted"] == name for r in rows)
        assert summary["classes"][name]["count"] == count
    assert summary["rows_read"] == len(rows) == 65 and summary["partial"] is False
    assert {k: v["reviews"] for k, v in summary["files"].items()} == {
        str(tmp_path / "a.csv"): 40, str(tmp_path / "b.csv"): 25}
    confident = [e["confidence"] for e in summary["most_confident"]]
    assert confident == sorted(confident, reverse=True)
    assert confident[0] == pytest.approx(max(r["confidence"] for r in rows), abs=1e-5)
    margins = [e["margin"] for e in summary["most_uncertain"]]
    assert margins == sorted(margins) and len(margins) == 5
    words = summary["words"]
    positive = {e["word"]: e for e in words["pushed_positive"]}
    negative = {e["word"]: e for e in words["pushed_negative"]}
    assert positive or negative
    assert not set(positive) & set(negative)
    for entry in [*positive.values(), *negative.values()]:
        assert 0 < entry["net"] <= entry["reviews"]
    nets = [e["net"] for e in words["pushed_positive"]]
    assert nets == sorted(nets, reverse=True)
    assert summary["labelled"]["reviews"] == 65  # the label column is scored


def test_nothing_readable_raises_and_leaves_no_output(tmp_path, bundle):
    (tmp_path / "empty.csv").write_text("text\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    with pytest.raises(ReviewDataError, match="no review could be read"):
        analyze([tmp_path / "empty.csv", tmp_path / "missing.csv"], bundle, out, ONE)
    assert not out.exists() and not side_paths(out).partial.exists()
    assert "missing.csv" in side_paths(out).errors.read_text(encoding="utf-8")


def test_the_output_folder_is_created_and_stale_side_files_go(tmp_path, bundle):
    write_reviews(tmp_path / "in.csv", count=6)
    out = tmp_path / "new" / "deeper" / "out.csv"
    out.parent.mkdir(parents=True)
    side_paths(out).errors.write_text("source,row,reason\nold,1,stale\n", encoding="utf-8")
    analyze([tmp_path / "in.csv"], bundle, out, ONE)
    assert len(read_output(out)) == 6 and not side_paths(out).errors.exists()
    out2 = tmp_path / "other" / "out.jsonl"
    analyze([tmp_path / "in.csv"], bundle, out2, ONE)
    assert len(read_output(out2)) == 6


def test_the_output_cannot_be_an_input(tmp_path, bundle):
    write_reviews(tmp_path / "in.csv", count=5)
    with pytest.raises(ReviewDataError, match="also the output"):
        plan_inputs([tmp_path / "in.csv"], [tmp_path / "in.csv"])


def test_an_unknown_output_extension_is_refused(tmp_path, bundle):
    with pytest.raises(ReviewDataError, match=r"\.csv, \.jsonl or \.parquet"):
        analyze([tmp_path / "in.csv"], bundle, tmp_path / "out.xlsx", ONE)


def test_one_pass_attributions_match_the_explain_module(bundle):
    predictor = BatchPredictor(bundle.model, explain="fast", batch_size=8)
    texts = synthetic_table(12, seed=9).texts
    sequences = Predictor(bundle).encode(texts)
    output = predictor.run(sequences)
    for sequence, scores, probabilities in zip(sequences, output.scores, output.probabilities):
        expected = fast_token_attributions(bundle.model, sequence[None, :],
                                           np.array([len(sequence)]),
                                           int(probabilities.argmax()))[0]
        assert scores == pytest.approx(expected, abs=1e-5)


def test_batched_integrated_gradients_are_complete(bundle):
    sequences = Predictor(bundle).encode(synthetic_table(6, seed=4).texts)
    predictor = BatchPredictor(bundle.model, explain="none")
    probabilities = predictor.run(sequences).probabilities
    from core.model.batch_input import pad_batch

    ids, lens = pad_batch(sequences)
    targets = torch.as_tensor(probabilities.argmax(1))
    scores = batched_integrated_gradients(bundle.model, ids, lens, targets, steps=32)
    baseline = predictor.run([np.zeros_like(s) for s in sequences]).probabilities
    change = probabilities[np.arange(6), targets] - baseline[np.arange(6), targets]
    assert scores.sum(1) == pytest.approx(change, abs=2e-3)
    assert np.all(scores[np.arange(ids.size(1))[None, :] >= lens[:, None].numpy()] == 0)


def test_int8_predictions_agree_with_fp32(bundle):
    sequences = Predictor(bundle).encode(synthetic_table(80, seed=7).texts)
    fp32 = BatchPredictor(bundle.model, "fp32", explain="none").run(sequences).probabilities
    int8 = BatchPredictor(bundle.model, "int8", explain="none")
    assert int8.precision == "int8"
    quantized = int8.run(sequences).probabilities
    assert np.abs(quantized - fp32).max() < 0.05
    assert next(bundle.model.parameters()).dtype == torch.float32  # the bundle is untouched


def test_int8_quantizes_gru_and_linear_and_keeps_the_lstm_on_onednn():
    gru = RecurrentClassifier(50, 2, cell="gru", embedding_dim=8, hidden_size=8)
    quantized = quantize_int8(gru)
    assert "quantized" in type(quantized.forward_layers[0]).__module__
    assert "quantized" in type(quantized.classifier).__module__
    lstm = RecurrentClassifier(50, 2, cell="lstm", embedding_dim=8, hidden_size=8)
    assert type(quantize_int8(lstm, lstm=False).forward_layers[0]) is torch.nn.LSTM
    assert "quantized" in type(quantize_int8(lstm, lstm=True).forward_layers[0]).__module__
    assert type(gru.forward_layers[0]) is torch.nn.GRU  # the original is left alone


def test_precision_requests_that_cannot_run_fall_back_with_a_note():
    precision, note = resolve_precision("int8", "fast")
    assert precision == "fp32" and "gradients" in note
    assert resolve_precision("int8", "none") == ("int8", "")
    precision, note = resolve_precision("bf16", "none")
    assert precision in ("bf16", "fp32") and (precision == "bf16") == (note == "")


def test_top_words_rank_strongest_occurrences_and_leave_out_unknown_words():
    vocab = Vocabulary(["<pad>", "<unk>", "good", "bad", "plot", "fine", "the"])
    sequences = [np.array([6, 4, 6, 1, 3, 2, 6, 4]), np.array([5, 3])]
    scores = [np.array([0.2, 0.25, 0.2, 5.0, -0.4, 0.3, 0.2, -0.3]), np.array([-0.1, 0.0])]
    words = top_words(sequences, scores, 2, vocab)
    assert words.toward == [["good", "the"], []]  # "the" x3 sums to 0.6 but never beats 0.3
    assert words.against == [["bad", "plot"], ["fine"]]  # plot: its -0.3 beats its +0.25
    assert top_words(sequences, scores, 1, vocab).toward == [["good"], []]


def test_class_polarity_follows_the_scheme():
    binary = LabelScheme("categorical", ["neg", "pos"])
    assert class_polarity(binary).tolist() == [-1, 1]
    five = LabelScheme("five", ["1", "2", "3", "4", "5"],
                       [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)])
    assert class_polarity(five).tolist() == [-1, -1, 0, 1, 1]


def test_cli_analyze_writes_output_and_fails_when_nothing_is_read(tmp_path, model_path, capsys):
    write_reviews(tmp_path / "in.csv", count=12)
    out = tmp_path / "out.jsonl"
    code = run_cli(["analyze", str(tmp_path / "in.csv"), "--model", str(model_path.parent),
                    "--out", str(out), "--no-text", "--explain", "none", "--threads", "1"])
    assert code == 0
    rows = read_output(out)
    assert len(rows) == 12 and "text" not in rows[0] and "top_toward" not in rows[0]
    assert "12 reviews" in capsys.readouterr().out
    code = run_cli(["analyze", str(tmp_path / "nope.csv"), "--model", str(model_path),
                    "--out", str(tmp_path / "x.csv")])
    assert code == 2
    assert "no review could be read" in capsys.readouterr().err


def test_integrated_gradients_on_request_give_top_words(tmp_path, bundle):
    write_reviews(tmp_path / "in.csv", count=8)
    out = tmp_path / "out.jsonl"
    result = analyze([tmp_path / "in.csv"], bundle, out,
                     BatchOptions(threads=1, explain="ig", ig_steps=8, top_k=3))
    rows = read_output(out)
    assert result.summary["explain"] == "ig" and len(rows) == 8
    assert all(len(r["top_toward"]) + len(r["top_against"]) > 0 for r in rows)


def test_progress_moves_batch_by_batch_and_ends_complete(tmp_path, bundle):
    write_reviews(tmp_path / "a.csv", count=30, seed=1)
    write_reviews(tmp_path / "b.csv", count=30, seed=2)
    events = []
    analyze([tmp_path / "a.csv", tmp_path / "b.csv"], bundle, tmp_path / "out.csv",
            BatchOptions(threads=1, chunk_size=20, batch_size=8), on_progress=events.append)
    fractions = [e.fraction for e in events]
    assert len(events) > 8  # per batch, not per chunk
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [e.reviews for e in events] == sorted(e.reviews for e in events)
    assert events[-1].reviews == 60 and events[-1].eta == 0.0


def test_a_helper_process_gives_the_same_output(tmp_path, bundle):
    write_reviews(tmp_path / "a.csv", count=40, seed=8, empty_rows={3})
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 broken")
    inputs = [tmp_path / "a.csv", tmp_path / "bad.parquet"]
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    one = analyze(inputs, bundle, here, BatchOptions(threads=1, chunk_size=16,
                                                     parallel_read=False))
    two = analyze(inputs, bundle, there, BatchOptions(threads=2, chunk_size=16,
                                                      parallel_read=True))
    assert here.read_bytes() == there.read_bytes()
    assert side_paths(here).errors.read_bytes() == side_paths(there).errors.read_bytes()
    assert two.summary["parallel_read"] is True and one.summary["parallel_read"] is False
    assert two.summary["classes"] == one.summary["classes"]
    assert multiprocessing.active_children() == []
    assert two.summary["threads"] == 2
    assert torch.get_num_threads() == 1  # the caller's setting is given back


def test_cancel_stops_the_helper_process_and_leaves_a_partial_file(tmp_path, bundle):
    write_reviews(tmp_path / "in.csv", count=200)
    out = tmp_path / "out.parquet"
    seen = []
    result = analyze([tmp_path / "in.csv"], bundle, out,
                     BatchOptions(threads=1, chunk_size=20, parallel_read=True),
                     on_progress=seen.append, cancel=lambda: len(seen) >= 2)
    assert result.partial and 0 < len(read_output(out)) < 200
    assert multiprocessing.active_children() == []


def test_the_helper_encodes_like_training_without_torch():
    from core.text.encoder import truncate

    ids = np.arange(2, 30)
    assert truncate(ids, 8, "head").tolist() == list(range(2, 10))
    assert truncate(ids, 8, "tail").tolist() == list(range(22, 30))
    assert truncate(ids, 8, "head_tail").tolist() == [2, 3, *range(24, 30)]
    assert truncate(ids, 40, "head_tail").tolist() == ids.tolist()
    code = "import sys, core.analyze.reading; print('torch' in sys.modules)"
    probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parents[2], check=True)
    assert probe.stdout.strip() == "False"


def test_reader_process_choice_and_heap_pinning(monkeypatch):
    from core.analyze import reading as batch_pipeline
    from core.analyze.analysis import limit_heap_growth

    assert batch_pipeline.should_run_in_parallel(True, 0) is True
    assert batch_pipeline.should_run_in_parallel(False, 10**12) is False
    monkeypatch.setattr(batch_pipeline.os, "sched_getaffinity", lambda _: set(range(8)))
    assert batch_pipeline.should_run_in_parallel(None, 10**9) is True
    assert batch_pipeline.should_run_in_parallel(None, 1000) is False
    monkeypatch.setattr(batch_pipeline.os, "sched_getaffinity", lambda _: {0, 1})
    assert batch_pipeline.should_run_in_parallel(None, 10**9) is False
    if platform.libc_ver()[0] == "glibc":
        assert limit_heap_growth() is True


@pytest.mark.parametrize("explain", ["none", "fast", "ig"])
def test_side_by_side_batches_give_the_same_results_in_order(tiny_model_for_workers, explain):
    model, sequences = tiny_model_for_workers
    one = BatchPredictor(model, explain=explain, batch_size=4, workers=1)
    two = BatchPredictor(model, explain=explain, batch_size=4, workers=2)
    assert two.workers == 2 and one.workers == 1
    seen: list[int] = []
    first, second = one.run(sequences), two.run(sequences, on_batch=seen.append)
    assert sum(seen) == len(sequences) == second.completed
    assert np.allclose(first.probabilities, second.probabilities, atol=1e-6)
    if explain != "none":
        for a, b in zip(first.scores, second.scores):
            assert a.shape == b.shape and np.allclose(a, b, atol=1e-5)
    assert torch.get_num_threads() == 1  # the caller's thread count is given back


def test_side_by_side_batches_stop_on_cancel(tiny_model_for_workers):
    model, sequences = tiny_model_for_workers
    calls = iter(range(100))
    output = BatchPredictor(model, explain="none", batch_size=4, workers=2).run(
        sequences, cancel=lambda: next(calls) >= 3)
    assert 0 < output.completed < len(sequences)


@pytest.fixture
def tiny_model_for_workers():
    torch.manual_seed(0)
    model = RecurrentClassifier(50, 2, cell="gru", embedding_dim=8, hidden_size=8)
    rng = np.random.default_rng(0)
    sequences = [rng.integers(2, 50, size=int(n)) for n in rng.integers(1, 30, size=37)]
    return model.eval(), sequences
