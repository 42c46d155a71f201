"""`evaluate` scores test rows only and says when it is scoring the model's training reviews."""

from __future__ import annotations

import csv
import json

import pytest

from core.bundle import ModelBundle
from core.cli import run_cli
from core.io.readers import read_reviews
from core.io.table import ReviewTable
from core.training.held_out import rows_to_score, training_fingerprint, training_share
from tests.core.conftest import synthetic_table

TINY = ["--embedding-dim", "8", "--hidden-size", "8", "--epochs", "2", "--min-count", "1"]


@pytest.fixture
def split_csv(tmp_path):
    """300 reviews: the first 200 marked train, the last 100 test."""
    table = synthetic_table(300, stars=True)
    path = tmp_path / "split.csv"
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["review", "stars", "split"])
        for index, (text, stars) in enumerate(zip(table.texts, table.labels)):
            writer.writerow([f"{text} (review {index})", stars, "train" if index < 200 else "test"])
    return path


def test_a_split_column_limits_scoring_to_its_test_rows() -> None:
    table = ReviewTable(texts=list("abcde"), labels=list("12345"),
                        splits=["train", "Test", "train", "test", "dev"])
    chosen = rows_to_score(table)
    assert chosen.indices == [1, 3] and "'test'" in chosen.description
    assert rows_to_score(table, all_rows=True).indices == [0, 1, 2, 3, 4]
    assert rows_to_score(ReviewTable(texts=list("ab"))).indices == [0, 1]


def test_the_training_share_is_estimated_from_the_sketch_alone() -> None:
    trained = [f"review number {i}" for i in range(20_000)]
    fingerprint = training_fingerprint(trained, size=1024)
    assert fingerprint["count"] == 20_000 and len(fingerprint["hashes"]) == 1024
    assert json.loads(json.dumps(fingerprint)) == fingerprint
    unseen = [f"another review {i}" for i in range(20_000)]
    assert training_share(fingerprint, trained[:10_000]) == 1.0
    assert training_share(fingerprint, unseen) == 0.0
    half = training_share(fingerprint, trained[:10_000] + unseen[:10_000])
    assert 0.4 < half < 0.6
    assert training_share(fingerprint, ["Review  NUMBER 3"]) in (None, 1.0)  # case, spaces
    assert training_share(None, trained) is None  # bundles saved before the fingerprint


def test_evaluate_scores_the_test_rows_and_keeps_quiet_about_them(split_csv, tmp_path, capsys):
    out = tmp_path / "model"
    assert run_cli(["train", str(split_csv), *TINY, "--out", str(out)]) == 0
    capsys.readouterr()
    assert run_cli(["evaluate", str(out), str(split_csv)]) == 0
    captured = capsys.readouterr()
    assert "Scored the 100 rows marked 'test' in the split column, of 300." in captured.out
    assert "reviews   100" in captured.out and "95% interval" in captured.out
    assert "warning" not in captured.err


def test_evaluate_warns_when_it_scores_training_reviews(split_csv, tmp_path, capsys):
    out = tmp_path / "model"
    assert run_cli(["train", str(split_csv), *TINY, "--out", str(out)]) == 0
    capsys.readouterr()
    assert run_cli(["evaluate", str(out), str(split_csv), "--all-rows", "--json"]) == 0
    captured = capsys.readouterr()
    metrics = json.loads(captured.out)
    assert metrics["count"] == 300 and metrics["training_share"] > 0.5
    assert "warning: about" in captured.err and "trained on" in captured.err


def test_a_bundle_without_a_fingerprint_still_evaluates(split_csv, tmp_path, capsys):
    out = tmp_path / "model"
    assert run_cli(["train", str(split_csv), *TINY, "--out", str(out)]) == 0
    bundle = ModelBundle.load(out)
    del bundle.info["training_fingerprint"]
    old = bundle.save(tmp_path / "old.ramodel")
    capsys.readouterr()
    assert run_cli(["evaluate", str(old), str(split_csv), "--all-rows", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["training_share"] is None
    assert len(read_reviews(split_csv).texts) == 300
