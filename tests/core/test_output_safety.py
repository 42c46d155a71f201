"""No command destroys an input or loses finished work: issue 19 items 1-3, 6, 9 and 10.

Each test builds the careless command a user could type and checks that the inputs are
byte for byte unchanged (hashes) and the message says what to do, or that the work was
saved and the message says where.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import json
import os
from pathlib import Path

import pytest
import torch

import core.io.output_paths as output_paths
from core.analyze.analysis import BatchOptions, analyze, side_paths
from core.bundle import ModelBundle
from core.cli import run_cli
from core.config import TrainConfig
from core.errors import ReviewDataError
from core.io.output_paths import check_outputs, display_path, save_with_fallback
from core.training.pipeline import run_training
from tests.core.conftest import synthetic_table

TINY = ["--embedding-dim", "8", "--hidden-size", "8", "--epochs", "1", "--min-count", "1",
        "--threads", "1"]
ONE = BatchOptions(threads=1)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) and its hash."""
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*"))
            if p.is_file()}


def write_reviews(path: Path, count: int = 40, seed: int = 3) -> Path:
    table = synthetic_table(count, seed=seed)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        writer.writerows(zip(table.texts, table.labels))
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> ModelBundle:
    torch.set_num_threads(1)
    config = TrainConfig(cell="gru", embedding_dim=8, hidden_size=8, epochs=1, min_count=1,
                         vocab_size=200, device="cpu", threads=1)
    saved = run_training(synthetic_table(200, seed=1), config).bundle.save(
        tmp_path_factory.mktemp("model"))
    return ModelBundle.load(saved)


@pytest.fixture(scope="module")
def model_file(bundle, tmp_path_factory) -> Path:
    return bundle.save(tmp_path_factory.mktemp("saved") / "m.ramodel")


# ---------------------------------------------------------------- item 1: train onto its data


def test_train_refuses_to_write_the_model_over_its_training_data(tmp_path, capsys):
    data = write_reviews(tmp_path / "data.csv", 120)
    before = tree(tmp_path)
    assert run_cli(["train", str(data), *TINY, "--out", str(data)]) == 2
    err = capsys.readouterr()
    assert "one of the inputs" in err.err and "epoch" not in err.out  # refused before training
    assert tree(tmp_path) == before  # no metrics.json, no history.csv, data intact


def test_train_refuses_reports_inside_its_input_folder(tmp_path, capsys):
    folder = tmp_path / "reviews"
    for label in ("pos", "neg"):
        (folder / label).mkdir(parents=True)
        for i in range(3):
            (folder / label / f"{i}.txt").write_text(f"{label} review {i}", encoding="utf-8")
    before = tree(tmp_path)
    assert run_cli(["train", str(folder), *TINY, "--out", str(folder)]) == 2
    assert "inside the input folder" in capsys.readouterr().err
    assert tree(tmp_path) == before


def test_pretrain_refuses_to_write_its_checkpoint_over_its_texts(tmp_path, capsys):
    data = write_reviews(tmp_path / "data.csv", 60)
    before = tree(tmp_path)
    assert run_cli(["pretrain", str(data), "--what", "vectors", "--out", str(data)]) == 2
    assert "one of the inputs" in capsys.readouterr().err
    assert tree(tmp_path) == before


# ---------------------------------------------------------------- items 2, 3: analyze onto inputs


def test_analyze_refuses_an_output_inside_its_input_folder(tmp_path, bundle):
    folder = tmp_path / "in"
    folder.mkdir()
    write_reviews(folder / "a.csv", seed=1)
    write_reviews(folder / "b.csv", seed=2)
    before = tree(tmp_path)
    with pytest.raises(ReviewDataError, match="inside the input folder"):
        analyze([folder], bundle, folder / "b.csv", ONE)
    with pytest.raises(ReviewDataError, match="inside the input folder"):
        analyze([folder], bundle, folder / "results" / "new.jsonl", ONE)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("link", ["hard", "symbolic", "same path"])
def test_analyze_refuses_an_input_by_identity_not_by_name(tmp_path, bundle, link):
    data = write_reviews(tmp_path / "x.csv")
    other = tmp_path / "y.csv"
    if link == "hard":
        os.link(data, other)
    elif link == "symbolic":
        other.symlink_to(data)
    else:
        other = data
    before = tree(tmp_path)
    with pytest.raises(ReviewDataError, match="one of the inputs"):
        analyze([other], bundle, data, ONE)
    with pytest.raises(ReviewDataError, match="one of the inputs"):
        analyze([data], bundle, other, ONE)
    assert tree(tmp_path) == before


def test_an_output_through_a_linked_folder_is_still_inside_the_input(tmp_path, bundle):
    folder = tmp_path / "in"
    folder.mkdir()
    write_reviews(folder / "a.csv")
    (tmp_path / "alias").symlink_to(folder)
    before = tree(folder)
    with pytest.raises(ReviewDataError, match="inside the input folder"):
        analyze([folder], bundle, tmp_path / "alias" / "out.csv", ONE)
    assert tree(folder) == before


# ---------------------------------------------------------------- item 10: refused = untouched


def test_a_refused_analyze_writes_and_deletes_nothing(tmp_path, model_file, capsys):
    data = write_reviews(tmp_path / "in.csv")
    out = tmp_path / "out.csv"
    write_reviews(out)
    side_paths(out).summary.write_text('{"old": true}', encoding="utf-8")
    side_paths(out).errors.write_text("source,row,reason\n", encoding="utf-8")
    before = tree(tmp_path)
    code = run_cli(["analyze", str(data), str(out), "--model", str(model_file),
                    "--out", str(out)])
    assert code == 2 and "one of the inputs" in capsys.readouterr().err
    assert tree(tmp_path) == before


# ---------------------------------------------------------------- item 6 and 10: permissions


def _deny(monkeypatch, folder: Path, code: int = errno.EACCES) -> None:
    """Make the write check fail under ``folder`` as the system would (tests may run as root,
    for whom permission bits do not apply)."""
    real = output_paths.tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        if Path(kwargs.get("dir", "")).resolve().is_relative_to(folder.resolve()):
            raise (PermissionError if code == errno.EACCES else OSError)(
                code, os.strerror(code))
        return real(*args, **kwargs)

    monkeypatch.setattr(output_paths.tempfile, "mkstemp", mkstemp)


def test_an_unwritable_model_folder_is_refused_before_training(tmp_path, monkeypatch, capsys):
    data = write_reviews(tmp_path / "data.csv", 120)
    locked = tmp_path / "locked"
    locked.mkdir()
    _deny(monkeypatch, locked)
    assert run_cli(["train", str(data), *TINY, "--out", str(locked / "m")]) == 2
    captured = capsys.readouterr()
    assert "permission denied" in captured.err and "unexpected" not in captured.err
    assert "epoch" not in captured.out
    _deny(monkeypatch, locked, errno.EROFS)
    assert run_cli(["compare", str(data), *TINY, "--cells", "gru", "--out", str(locked)]) == 2
    assert "read-only" in capsys.readouterr().err


def test_analyze_names_a_permission_problem_clearly(tmp_path, monkeypatch, model_file, capsys):
    data = write_reviews(tmp_path / "in.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    _deny(monkeypatch, locked)
    code = run_cli(["analyze", str(data), "--model", str(model_file),
                    "--out", str(locked / "out.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "permission denied" in err and "unexpected" not in err
    assert list(locked.iterdir()) == []


def test_a_read_only_output_file_is_refused_before_anything_is_touched(tmp_path, bundle,
                                                                       monkeypatch):
    data = write_reviews(tmp_path / "in.csv")
    out = write_reviews(tmp_path / "out.csv", seed=9)
    side_paths(out).summary.write_text("{}", encoding="utf-8")
    before = tree(tmp_path)
    real = os.access
    monkeypatch.setattr(output_paths.os, "access",
                        lambda path, mode, **kw: False if Path(path) == out else real(path, mode))
    with pytest.raises(ReviewDataError, match="read-only"):
        analyze([data], bundle, out, ONE)
    assert tree(tmp_path) == before


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permission bits do not bind root")
def test_a_real_read_only_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ReviewDataError, match="permission denied"):
            check_outputs([locked / "out.csv"])
    finally:
        locked.chmod(0o700)


def test_a_late_failure_saves_the_model_elsewhere_and_says_where(tmp_path, monkeypatch,
                                                                  capsys):
    data = write_reviews(tmp_path / "data.csv", 120)
    out = tmp_path / "models" / "run.ramodel"
    rescue = tmp_path / "rescue"
    rescue.mkdir()
    monkeypatch.setattr(output_paths, "fallback_folder", lambda: rescue)
    real_save = ModelBundle.save

    def failing_save(self, path):
        if Path(path).parent == out.parent:  # the folder went away mid-run
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_save(self, path)

    monkeypatch.setattr(ModelBundle, "save", failing_save)
    assert run_cli(["train", str(data), *TINY, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert str(rescue / "run.ramodel") in err and "permission denied" in err
    assert ModelBundle.load(rescue / "run.ramodel").classes
    assert (rescue / "metrics.json").exists()


def test_a_comparison_that_cannot_be_saved_goes_to_the_rescue_folder(tmp_path, monkeypatch,
                                                                     capsys):
    data = write_reviews(tmp_path / "data.csv", 120)
    out = tmp_path / "cmp"
    rescue = tmp_path / "rescue"
    rescue.mkdir()
    monkeypatch.setattr(output_paths, "fallback_folder", lambda: rescue)
    real_save = ModelBundle.save

    def failing_save(self, path):
        if Path(path).parent == out:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_save(self, path)

    monkeypatch.setattr(ModelBundle, "save", failing_save)
    assert run_cli(["compare", str(data), *TINY, "--cells", "gru", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "disk is full" in captured.err and str(rescue / "cmp") in captured.err
    assert (rescue / "cmp" / "comparison.csv").exists()
    assert str(rescue / "cmp" / "comparison.csv") in captured.out


def test_save_with_fallback_reports_nothing_when_the_first_try_works(tmp_path):
    saved, note = save_with_fallback(lambda p: p.write_text("x") and p, tmp_path / "a.txt")
    assert saved == tmp_path / "a.txt" and note is None


# ---------------------------------------------------------------- item 9: non-UTF-8 names


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_file_name_that_is_not_utf8_is_analysed_and_leaves_no_debris(tmp_path, model_file,
                                                                       suffix, capsys):
    folder = os.fsencode(tmp_path)
    name = os.fsdecode(folder + b"/bad\xffname.csv")
    write_reviews(Path(name), count=30)
    out = Path(os.fsdecode(folder + b"/r\xfesult" + suffix.encode()))
    code = run_cli(["analyze", name, "--model", str(model_file), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(side_paths(out).summary.read_text(encoding="utf-8"))
    assert summary["rows_read"] == 30
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith((".partial", ".tmp"))]
    assert leftovers == []
    assert "\\xff" in display_path(name)
