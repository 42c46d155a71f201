"""The Batch tab refuses an output that would destroy an input before it asks anything or
starts a job (issue 19: the window uses the same check as the command line)."""

from __future__ import annotations

import hashlib

import pytest

from core.bundle import ModelBundle
from core.config import TrainConfig
from core.model.classifier import RecurrentClassifier
from core.text.labels import make_scheme
from core.text.tokenizer import TokenizerSettings
from core.text.vocabulary import Vocabulary
from gui.panels import batch as batch_module
from gui.panels.batch import BatchPanel


@pytest.fixture
def model_file(tmp_path):
    config = TrainConfig(embedding_dim=8, hidden_size=8, threads=1)
    vocab = Vocabulary.build([["good", "bad", "good", "bad"]], min_count=1)
    scheme = make_scheme("categorical", ["neg", "pos"])
    model = RecurrentClassifier.from_config(config, len(vocab), scheme.num_classes)
    bundle = ModelBundle(config, scheme, TokenizerSettings(), vocab, model.eval())
    return bundle.save(tmp_path / "m.ramodel")


@pytest.mark.parametrize("where", ["the input", "inside the input folder"])
def test_an_output_onto_an_input_is_refused_before_any_question(qtbot, tmp_path, model_file,
                                                                 monkeypatch, where):
    folder = tmp_path / "reviews"
    folder.mkdir()
    data = folder / "a.csv"
    data.write_text("text,label\ngood,pos\nbad,neg\n", encoding="utf-8")
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    errors, questions = [], []
    monkeypatch.setattr(batch_module.dialogs, "show_error",
                        lambda parent, title, message, *rest: errors.append(message))
    monkeypatch.setattr(batch_module.dialogs, "ask_yes_no",
                        lambda *args: questions.append(args) or True)
    panel = BatchPanel()
    qtbot.addWidget(panel)
    assert panel.load_model(model_file)
    panel.add_inputs([data] if where == "the input" else [folder])
    panel.set_output(data if where == "the input" else folder / "results.csv")
    assert panel.start() is None
    assert errors and "input" in errors[0] and not questions
    assert hashlib.sha256(data.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv"]
