import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.bundle import ModelBundle
from core.config import TrainConfig
from core.errors import BundleError
from core.predict.predictor import Predictor
from core.training.pipeline import run_training

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["great clean room", "rude staff and dirty", "the film was boring", "lovely stay"]


@pytest.fixture(scope="module")
def outcome():
    from tests.core.conftest import synthetic_table

    config = TrainConfig(embedding_dim=8, hidden_size=8, epochs=2, vocab_size=100, min_count=1)
    return run_training(synthetic_table(200), config)


def test_round_trip_predicts_identically_in_a_fresh_process(outcome, tmp_path):
    path = outcome.bundle.save(tmp_path / "model")
    before = Predictor(outcome.bundle).probabilities(TEXTS).tolist()
    code = ("import json, sys\n"
            "from core.bundle import ModelBundle\n"
            "from core.predict.predictor import Predictor\n"
            "texts = json.loads(sys.argv[2])\n"
            "print(json.dumps(Predictor(ModelBundle.load(sys.argv[1])).probabilities(texts)"
            ".tolist()))\n")
    result = subprocess.run([sys.executable, "-c", code, str(path), json.dumps(TEXTS)],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == before


def test_saved_bundle_keeps_every_part(outcome, tmp_path):
    loaded = ModelBundle.load(outcome.bundle.save(tmp_path / "m.ramodel"))
    assert loaded.config == outcome.bundle.config
    assert loaded.scheme == outcome.bundle.scheme
    assert loaded.vocab.itos == outcome.bundle.vocab.itos
    assert loaded.tokenizer == outcome.bundle.tokenizer
    assert loaded.metrics == outcome.bundle.metrics
    assert loaded.history == outcome.bundle.history
    assert loaded.info["parameters"] == outcome.bundle.model.parameter_count()


def test_a_folder_path_holds_model_ramodel(outcome, tmp_path):
    path = outcome.bundle.save(tmp_path / "out")
    assert path == tmp_path / "out" / "model.ramodel"
    assert ModelBundle.load(tmp_path / "out").classes == outcome.bundle.classes


def test_missing_and_foreign_files_are_refused(tmp_path):
    with pytest.raises(BundleError, match="No model file"):
        ModelBundle.load(tmp_path / "nothing.ramodel")
    junk = tmp_path / "junk.ramodel"
    junk.write_bytes(b"\x80\x04not a model at all")
    with pytest.raises(BundleError, match="junk.ramodel"):
        ModelBundle.load(junk)
