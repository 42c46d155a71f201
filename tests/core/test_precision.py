"""Which arithmetic batch prediction uses: native bf16 detection, the device, auto's check."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

import core.model.device as device_module
import core.predict.batch_predictor as batch_module
from core.analyze.analysis import BatchOptions, analyze
from core.config import TrainConfig
from core.model.device import batch_device, cpu_flags, good_precisions, native_bf16
from core.predict.batch_predictor import BatchPredictor, resolve_precision
from core.predict.predictor import Predictor
from core.training.pipeline import run_training
from tests.core.conftest import synthetic_table

CPU = torch.device("cpu")
needs_native_bf16 = pytest.mark.skipif(not native_bf16(),
                                       reason="the CPU has no native bf16 (AVX-512 BF16/AMX)")


@pytest.fixture(scope="module")
def small_models():
    """A small LSTM and GRU trained on synthetic reviews, with 600 other reviews encoded."""
    torch.set_num_threads(1)
    models = {}
    for cell in ("lstm", "gru"):
        config = TrainConfig(cell=cell, embedding_dim=16, hidden_size=16, epochs=1,
                             min_count=1, vocab_size=200, device="cpu", threads=1)
        models[cell] = run_training(synthetic_table(400, seed=1), config).bundle
    texts = synthetic_table(600, seed=5).texts
    return models, texts


def test_cpu_flags_are_read_from_cpuinfo():
    text = "processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile\nbugs\t\t: x\n"
    assert {"avx512_bf16", "avx512f", "amx_tile"} <= cpu_flags(text)
    assert cpu_flags("processor: 0\n") == set()


def test_emulated_bf16_is_not_native(monkeypatch):
    device_module.native_bf16.cache_clear()
    monkeypatch.setattr(device_module, "cpu_flags", lambda: {"avx512f", "avx512bw"})
    try:
        assert not native_bf16()  # AVX-512 without BF16: oneDNN emulates it
        assert good_precisions(CPU) == ("fp32", "int8")
        assert resolve_precision("auto", "none", "lstm", CPU) == ("fp32", "")
        precision, note = resolve_precision("bf16", "none", "lstm", CPU)
        assert precision == "fp32" and "AVX-512 BF16 or AMX" in note
    finally:
        device_module.native_bf16.cache_clear()


def test_native_bf16_is_offered_and_auto_uses_it_for_plain_prediction(monkeypatch):
    monkeypatch.setattr(batch_module, "good_precisions",
                        lambda device: ("fp32", "int8", "bf16"))
    assert resolve_precision("auto", "none", "gru", CPU) == ("bf16", "")
    assert resolve_precision("auto", "fast", "gru", CPU) == ("fp32", "")  # attributions: fp32
    assert resolve_precision("bf16", "fast", "gru", CPU) == ("bf16", "")


def test_gpu_choice_and_what_runs_well_there(monkeypatch):
    assert batch_device("auto", cuda_available=False).type == "cpu"
    assert batch_device("auto", cuda_available=True).type == "cuda"
    assert batch_device("cpu", cuda_available=True).type == "cpu"
    assert batch_device("cuda", cuda_available=False).type == "cpu"
    with pytest.raises(ValueError):
        batch_device("tpu")
    gpu = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert good_precisions(gpu) == ("fp32", "bf16")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert good_precisions(gpu) == ("fp32",)
    precision, note = resolve_precision("int8", "none", "lstm", gpu)
    assert precision == "fp32" and "CPU only" in note


@needs_native_bf16
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_bf16_keeps_the_class_and_the_probabilities(small_models, cell):
    models, texts = small_models
    bundle = models[cell]
    sequences = Predictor(bundle).encode(texts)
    exact = BatchPredictor(bundle.model, "fp32", explain="none").run(sequences).probabilities
    fast = BatchPredictor(bundle.model, "bf16", explain="none")
    assert fast.precision == "bf16"
    half = fast.run(sequences).probabilities
    agree = float((exact.argmax(1) == half.argmax(1)).mean())
    change = float(np.abs(exact - half).max())
    assert agree >= 0.999 and change <= 0.01, (agree, change)
    assert change > 0  # it really ran in bf16


@needs_native_bf16
def test_auto_checks_bf16_on_the_first_reviews_and_falls_back(small_models, monkeypatch,
                                                              tmp_path):
    models, texts = small_models
    bundle = models["lstm"]
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows([["text"]] + [[t] for t in texts[:300]])
    result = analyze([tmp_path / "in.csv"], bundle, tmp_path / "small.csv",
                     BatchOptions(explain="none", threads=1))
    assert result.precision == "fp32" and "bf16_check" not in result.summary  # too small
    monkeypatch.setattr(batch_module, "BF16_MIN_REVIEWS", 0)
    monkeypatch.setattr(batch_module, "BF16_MIN_SPEEDUP", 0.0)  # accuracy alone decides
    result = analyze([tmp_path / "in.csv"], bundle, tmp_path / "a.csv",
                     BatchOptions(explain="none", threads=1))
    check = result.summary["bf16_check"]
    assert result.precision == "bf16" and check["reviews"] == 300 and check["speedup"] > 0
    assert 0 < check["largest_change"] <= 0.01 and result.notes == []
    monkeypatch.setattr(batch_module, "BF16_TOLERANCE", check["largest_change"] / 2)
    result = analyze([tmp_path / "in.csv"], bundle, tmp_path / "b.csv",
                     BatchOptions(explain="none", threads=1))
    assert result.precision == "fp32" and "changed a probability" in result.notes[0]
    monkeypatch.setattr(batch_module, "BF16_TOLERANCE", 0.01)
    monkeypatch.setattr(batch_module, "BF16_MIN_SPEEDUP", 1e9)  # bf16 is never that fast
    result = analyze([tmp_path / "in.csv"], bundle, tmp_path / "c.csv",
                     BatchOptions(explain="none", threads=1))
    assert result.precision == "fp32" and "not faster" in result.notes[0]
