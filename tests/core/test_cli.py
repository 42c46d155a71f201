import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.bundle import ModelBundle
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


def test_negation_pairs_is_a_flag_that_reaches_the_saved_model(review_csv, tmp_path, capsys):
    out = tmp_path / "pairs"
    assert run_cli(["train", str(review_csv), *TINY, "--negation-pairs", "on", "--out",
                    str(out)]) == 0
    assert ModelBundle.load(out / "model.ramodel").config.negation_pairs == "on"
    with pytest.raises(SystemExit) as refused:
        run_cli(["train", str(review_csv), "--negation-pairs", "maybe", "--out",
                 str(tmp_path / "m")])
    assert refused.value.code == 2
    assert "--negation-pairs" in capsys.readouterr().err


def test_every_command_has_help():
    for command in ["train", "evaluate", "predict"]:
        result = subprocess.run([sys.executable, "main.py", command, "--help"],
                                capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert result.returncode == 0 and "usage" in result.stdout


# ---------------------------------------------------------------- issue 19 item 10


def test_predict_refuses_an_empty_review_as_explain_does(review_csv, tmp_path, capsys,
                                                          monkeypatch):
    out = tmp_path / "model"
    assert run_cli(["train", str(review_csv), *TINY, "--out", str(out)]) == 0
    capsys.readouterr()
    assert run_cli(["predict", str(out), "  "]) == 2
    assert "empty" in capsys.readouterr().err
    long_review = "great lovely room " * 5000  # too long for the command line of some shells
    monkeypatch.setattr("sys.stdin", io.StringIO(long_review))
    assert run_cli(["predict", str(out), "-", "--json"]) == 0
    [prediction] = json.loads(capsys.readouterr().out)
    assert prediction["text"] == long_review


def test_train_says_why_rows_were_skipped_and_where_the_list_is(tmp_path, capsys):
    table = synthetic_table(120, stars=True)
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["review", "stars"])
        writer.writerows(zip(table.texts, table.labels))
        writer.writerows([["", "5"], ["", "1"], ["no stars here", ""]])
    out = tmp_path / "model"
    assert run_cli(["train", str(path), *TINY, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 skipped: empty text in column 'review'" in printed
    assert "1 skipped: no label in column 'stars'" in printed
    listed = (out / "skipped_rows.csv").read_text(encoding="utf-8").splitlines()
    assert len(listed) == 4 and str(out / "skipped_rows.csv") in printed


def test_a_file_cut_part_way_trains_on_what_came_before_and_warns(review_csv, tmp_path,
                                                                  capsys):
    data = review_csv.read_text(encoding="utf-8").rstrip("\n")
    cut = tmp_path / "cut.csv"
    cut.write_text(data[: data.rfind("\n") + 1] + '"unfinished,5', encoding="utf-8")
    assert run_cli(["train", str(cut), *TINY, "--out", str(tmp_path / "m")]) == 0
    captured = capsys.readouterr()
    assert "Read 199 reviews" in captured.out
    assert "never closed" in captured.err and "line 201" in captured.err


def test_the_read_limit_is_a_flag_and_its_message_says_how_to_raise_it(review_csv, tmp_path,
                                                                        capsys):
    code = run_cli(["train", str(review_csv), *TINY, "--read-limit-mb", "0.001", "--out",
                    str(tmp_path / "m")])
    captured = capsys.readouterr()
    assert code == 2 and "--read-limit-mb" in captured.err and "epoch" not in captured.out


def test_three_classes_describe_their_open_bounds():
    from core.text.labels import make_scheme

    described = make_scheme("three", ["1", "2", "3", "4", "5"]).describe()
    assert "neutral > 2 and < 4" in described and "2-4" not in described
