"""``analyze --engine ray``: the same output as the single-process run, on a local Ray instance.

Runs where Ray is installed (the ``cluster`` extra, which CI installs). One local instance with
two CPUs serves the module and is shut down at its end, with its processes.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import torch

from core.analyze.analysis import BatchOptions, analyze, side_paths
from core.cli import run_cli
from core.config import TrainConfig
from core.errors import ReviewDataError
from core.training.pipeline import run_training
from tests.core.conftest import synthetic_table

ray = pytest.importorskip("ray")

REVIEWS = 300


@pytest.fixture(scope="module")
def cluster():
    """A local Ray instance (2 CPUs, no dashboard); afterwards no Ray process is left."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    leftover = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    gone, alive = psutil.wait_procs(leftover, timeout=15)
    assert alive == [], f"Ray processes left running: {[p.name() for p in alive]}"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    torch.set_num_threads(1)
    config = TrainConfig(cell="gru", embedding_dim=8, hidden_size=8, epochs=1, min_count=1,
                         vocab_size=200, device="cpu", threads=1)
    outcome = run_training(synthetic_table(300, seed=1), config)
    return outcome.bundle.save(tmp_path_factory.mktemp("model"))


def write_inputs(folder: Path) -> list[Path]:
    """A CSV with an empty review and ids, a second CSV, and a broken Parquet file."""
    paths = []
    for name, count, seed in (("a.csv", REVIEWS - 60, 3), ("b.csv", 60, 4)):
        table = synthetic_table(count, seed=seed)
        with open(folder / name, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["review_id", "text", "label"])
            for i, (text, label) in enumerate(zip(table.texts, table.labels)):
                writer.writerow([f"{name}-{i}", "" if i == 7 else text, label])
        paths.append(folder / name)
    (folder / "bad.parquet").write_bytes(b"PAR1 broken")
    return paths + [folder / "bad.parquet"]


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_ray_gives_the_single_process_output_row_for_row(tmp_path, model_path, cluster,
                                                         capsys):
    inputs = [str(p) for p in write_inputs(tmp_path)]
    common = ["--model", str(model_path), "--top-k", "3", "--chunk-size", "32",
              "--quantize", "fp32", "--threads", "1"]  # bf16 would round per batch shape
    local, remote = tmp_path / "local.csv", tmp_path / "ray.csv"
    assert run_cli(["analyze", *inputs, "--out", str(local), *common]) == 0
    assert run_cli(["analyze", *inputs, "--out", str(remote), "--engine", "ray", *common]) == 0
    assert "done: " in capsys.readouterr().out
    ours, theirs = read_rows(local), read_rows(remote)
    assert len(ours) == len(theirs) == REVIEWS - 2  # one empty review per file
    probability = [c for c in ours[0] if c.startswith("p_") or c == "confidence"]
    for mine, other in zip(ours, theirs):
        for column, value in mine.items():
            if column in probability:
                assert abs(float(value) - float(other[column])) <= 1e-6, column
            else:
                assert value == other[column], column
    assert side_paths(local).errors.read_bytes() == side_paths(remote).errors.read_bytes()
    import json

    one = json.loads(side_paths(local).summary.read_text(encoding="utf-8"))
    two = json.loads(side_paths(remote).summary.read_text(encoding="utf-8"))
    assert two["engine"] == "ray" and one["engine"] == "local"
    for key in ("rows_read", "rows_skipped", "classes", "files", "words", "labelled",
                "error_count"):
        assert one.get(key) == two.get(key), key
    assert ray.is_initialized()  # a running instance is joined, not shut down


def test_cancel_leaves_a_partial_output_from_ray(tmp_path, model_path, cluster):
    from core.bundle import ModelBundle

    inputs = write_inputs(tmp_path)
    out = tmp_path / "out.csv"
    seen = []
    result = analyze(inputs, ModelBundle.load(model_path), out,
                     BatchOptions(threads=1, chunk_size=16, engine="ray"),
                     on_progress=seen.append, cancel=lambda: len(seen) >= 2)
    assert result.partial and result.summary["cancelled"]
    assert 0 < len(read_rows(out)) < REVIEWS - 2
    assert side_paths(out).partial.exists()


def test_without_ray_the_engine_says_how_to_install_it(tmp_path, model_path, monkeypatch):
    from core.bundle import ModelBundle

    inputs = write_inputs(tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(ReviewDataError, match=r'pip install -e "\.\[cluster\]"'):
        analyze(inputs, ModelBundle.load(model_path), tmp_path / "out.csv",
                BatchOptions(engine="ray"))
    with pytest.raises(ReviewDataError, match="only used by the Ray engine"):
        analyze(inputs, ModelBundle.load(model_path), tmp_path / "out.csv",
                BatchOptions(ray_address="localhost:6379"))


def test_the_app_does_not_import_ray_unless_the_engine_is_chosen():
    code = ("import sys, main, core.cli.analyze, core.analyze.analysis, "
            "core.analyze.ray_engine, gui.panels.batch; "
            "sys.exit(1 if 'ray' in sys.modules else 0)")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, timeout=120,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
