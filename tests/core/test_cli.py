import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import run_cli
from tests.core.conftest import synthetic_table

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--embedding-dim", "8", "--hidden-size", "8", "--epochs", "2", "--min-count", "1"]


@pytest.fixture
def review_csv(tmp_path):
    table = synthetic_table(200, stars=True)
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["review", "stars"])
        writer.writerows(zip(table.texts, table.labels))
    return path


def test_train_evaluate_predict(review_csv, tmp_path, capsys):
    out = tmp_path / "model"
    assert run_cli(["train", str(review_csv), *TINY, "--out", str(out)]) == 0
    assert (out / "model.ramodel").exists()
    assert json.loads((out / "metrics.json").read_text())["test"]["count"] > 0
    assert (out / "history.csv").read_text().startswith("epoch,")
    capsys.readouterr()
    assert run_cli(["evaluate", str(out), str(review_csv), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["classes"] == ["negative", "positive"]
    assert run_cli(["predict", str(out), "great lovely room", "--json"]) == 0
    [prediction] = json.loads(capsys.readouterr().out)
    assert set(prediction["probabilities"]) == {"negative", "positive"}


def test_scheme_and_cut_points_reach_the_model(review_csv, tmp_path, capsys):
    out = tmp_path / "five"
    assert run_cli(["train", str(review_csv), *TINY, "--scheme", "five", "--out", str(out)]) == 0
    assert "5 stars" in capsys.readouterr().out


def test_user_errors_print_one_line_and_exit_non_zero(tmp_path):
    missing = tmp_path / "nope.csv"
    result = subprocess.run([sys.executable, "main.py", "train", str(missing), "--out",
                             str(tmp_path / "m")], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "nope.csv" in result.stderr


def test_bad_setting_is_named(review_csv, tmp_path, capsys):
    assert run_cli(["train", str(review_csv), "--dropout", "1.5", "--out",
                    str(tmp_path / "m")]) == 2
    assert "dropout" in capsys.readouterr().err


def test_every_command_has_help():
    for command in ["train", "evaluate", "predict"]:
        result = subprocess.run([sys.executable, "main.py", command, "--help"],
                                capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert result.returncode == 0 and "usage" in result.stdout
