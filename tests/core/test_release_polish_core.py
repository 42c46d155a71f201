"""Issue 16, item 13 on the command line and in model files: one-line errors, plain words,
the user's file permissions."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.bundle import ModelBundle
from core.errors import BundleError
from tests.core.conftest import synthetic_table

ROOT = Path(__file__).resolve().parents[2]


def run_main(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_train_without_out_prints_one_line_not_the_usage() -> None:
    result = run_main("train", "resources/sample_reviews.csv")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0] and "--help" in lines[0]


def test_a_damaged_model_file_is_named_as_such(tmp_path) -> None:
    junk = tmp_path / "junk.ramodel"
    junk.write_bytes(os.urandom(3000))
    with pytest.raises(BundleError) as caught:
        ModelBundle.load(junk)
    message = str(caught.value)
    assert "not a Review Analyzer model file, or it is damaged" in message
    assert "header" not in message.lower() and "deserializ" not in message.lower()


def test_model_files_follow_the_users_umask(tmp_path) -> None:
    from core.config import TrainConfig
    from core.training.pipeline import run_training

    config = TrainConfig(embedding_dim=4, hidden_size=4, bidirectional=False, epochs=1,
                         min_count=1, max_length=20, threads=1, device="cpu")
    bundle = run_training(synthetic_table(60), config).bundle
    previous = os.umask(0o022)
    try:
        path = bundle.save(tmp_path / "m.ramodel")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_analyze_names_an_empty_file_once(tmp_path) -> None:
    from core.config import TrainConfig
    from core.training.pipeline import run_training

    config = TrainConfig(embedding_dim=4, hidden_size=4, bidirectional=False, epochs=1,
                         min_count=1, max_length=20, threads=1, device="cpu")
    model = run_training(synthetic_table(60), config).bundle.save(tmp_path / "m.ramodel")
    empty = tmp_path / "empty.csv"
    empty.write_text("text\n", encoding="utf-8")
    result = run_main("analyze", str(empty), "--model", str(model), "--out",
                      str(tmp_path / "out.csv"))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.count(str(empty)) == 1, last
