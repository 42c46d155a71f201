"""Model files from elsewhere: nothing in them runs, and anything that does not fit is refused.

A bundle is one safetensors file whose header holds JSON sections; loading must never unpickle,
and every damaged or mismatched file must end in a BundleError that names the file and says
what is wrong (never a crash, a hang or a model that predicts garbage).
"""

from __future__ import annotations

import json
import pickle
import re
import struct
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from core.bundle import FORMAT, FORMAT_VERSION, ModelBundle
from core.config import TrainConfig
from core.errors import BundleError
from core.model.classifier import RecurrentClassifier
from core.predict.predictor import Predictor
from core.text.labels import make_scheme
from core.text.tokenizer import TokenizerSettings
from core.text.vocabulary import Vocabulary

REPO = Path(__file__).resolve().parents[2]
CONFIG = TrainConfig(embedding_dim=8, hidden_size=8, layers=1, bidirectional=True,
                     cell="gru", pooling="max", threads=1)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def make_bundle(config: TrainConfig = CONFIG) -> ModelBundle:
    """An untrained but complete bundle: enough to exercise the file format."""
    torch.manual_seed(0)
    vocab = Vocabulary.build([["good", "bad", "film", "good", "bad", "film"]], min_count=1)
    scheme = make_scheme("categorical", ["neg", "pos"])
    model = RecurrentClassifier.from_config(config, len(vocab), scheme.num_classes)
    return ModelBundle(config, scheme, TokenizerSettings(), vocab, model.eval(),
                       metrics={"validation": {"accuracy": 0.5}}, info={"note": "test"})


@pytest.fixture
def bundle() -> ModelBundle:
    return make_bundle()


def parts(bundle: ModelBundle, folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and header sections ``ModelBundle.save`` writes, to tamper with."""
    path = bundle.save(folder / "original.ramodel")
    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata())
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    path.unlink()
    return tensors, metadata


def write(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> Path:
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=metadata)
    return path


def refused(path: Path, pattern: str) -> BundleError:
    """Loading ``path`` raises BundleError naming the file, whose text matches ``pattern``."""
    with pytest.raises(BundleError) as caught:
        ModelBundle.load(path)
    text = str(caught.value)
    assert str(path) in text, text
    assert re.search(pattern, text, re.IGNORECASE), text
    return caught.value


def test_a_saved_bundle_loads_and_predicts_the_same(tmp_path, bundle):
    loaded = ModelBundle.load(bundle.save(tmp_path / "ok.ramodel"))
    texts = ["good film", "bad film", ""]
    assert torch.allclose(torch.from_numpy(Predictor(loaded).probabilities(texts)),
                          torch.from_numpy(Predictor(bundle).probabilities(texts)))
    assert loaded.info == {"note": "test"}


# --- tensors that do not fit -------------------------------------------------------------------


def test_wrong_shape_is_refused(tmp_path, bundle):
    tensors, metadata = parts(bundle, tmp_path)
    name = "forward_layers.0.weight_hh_l0"
    tensors[name] = torch.zeros(tensors[name].shape[0], tensors[name].shape[1] + 1)
    refused(write(tmp_path / "shape.ramodel", tensors, metadata), rf"{name}.*shape")


def test_missing_tensor_is_refused(tmp_path, bundle):
    tensors, metadata = parts(bundle, tmp_path)
    del tensors["classifier.bias"]
    refused(write(tmp_path / "missing.ramodel", tensors, metadata), "lack.*classifier.bias")


def test_extra_tensor_is_refused(tmp_path, bundle):
    tensors, metadata = parts(bundle, tmp_path)
    tensors["backdoor.weight"] = torch.zeros(3)
    refused(write(tmp_path / "extra.ramodel", tensors, metadata), "unexpected.*backdoor")


def test_wrong_dtype_is_refused(tmp_path, bundle):
    tensors, metadata = parts(bundle, tmp_path)
    tensors["classifier.weight"] = tensors["classifier.weight"].double()
    refused(write(tmp_path / "dtype.ramodel", tensors, metadata), "classifier.weight.*float64")


def test_nan_weights_are_refused(tmp_path, bundle):
    tensors, metadata = parts(bundle, tmp_path)
    tensors["classifier.weight"][0, 0] = float("nan")
    refused(write(tmp_path / "nan.ramodel", tensors, metadata), "NaN")


@pytest.mark.parametrize("name", ["embedding.weight", "classifier.weight"])
def test_a_scalar_where_a_matrix_belongs_is_refused(tmp_path, bundle, name):
    tensors, metadata = parts(bundle, tmp_path)
    tensors[name] = torch.tensor(1.0)
    refused(write(tmp_path / "scalar.ramodel", tensors, metadata), "shape|rows|entries")


def test_a_vocabulary_that_does_not_match_the_embedding_is_refused(tmp_path, bundle):
    tensors, metadata = parts(bundle, tmp_path)
    vocab = json.loads(metadata["vocab"])
    vocab["tokens"].append("extra")
    vocab["counts"].append(1)
    metadata["vocab"] = json.dumps(vocab)
    refused(write(tmp_path / "vocab.ramodel", tensors, metadata), "vocabulary.*embedding")


def test_a_label_scheme_that_does_not_match_the_classifier_is_refused(tmp_path, bundle):
    tensors, metadata = parts(bundle, tmp_path)
    metadata["labels"] = json.dumps({"kind": "categorical", "classes": ["a", "b", "c"]})
    refused(write(tmp_path / "labels.ramodel", tensors, metadata), "3 classes")


@pytest.mark.parametrize("change", [
    {"hidden_size": 16}, {"cell": "lstm"}, {"bidirectional": False}, {"layers": 2},
    {"pooling": "attention"}, {"pooling": "max_mean"}, {"embedding_dim": 4},
    {"word_prior": True},
])
def test_a_config_that_does_not_match_the_weights_is_refused(tmp_path, bundle, change):
    tensors, metadata = parts(bundle, tmp_path)
    config = json.loads(metadata["config"])
    config.update(change)
    metadata["config"] = json.dumps(config)
    refused(write(tmp_path / "config.ramodel", tensors, metadata),
            "shape|lack|unexpected|does not match")


def test_a_config_asking_for_a_giant_model_is_refused_without_building_it(tmp_path, bundle):
    """Shapes are checked before any allocation: this config would need about 13 GB."""
    tensors, metadata = parts(bundle, tmp_path)
    config = json.loads(metadata["config"])
    config.update(cell="lstm", layers=8, hidden_size=4096, embedding_dim=2048)
    metadata["config"] = json.dumps(config)
    refused(write(tmp_path / "giant.ramodel", tensors, metadata), "shape|lack|unexpected")


# --- header sections that do not fit ------------------------------------------------------------


@pytest.mark.parametrize("section,value,pattern", [
    ("config", "{not json", "'config'.*not valid JSON"),
    ("vocab", "[" * 100_000, "'vocab'.*not valid JSON"),
    ("config", json.dumps([1, 2]), "configuration must be a JSON object"),
    ("config", json.dumps({"cell": "transformer"}), "cell must be one of"),
    ("config", json.dumps({"hidden_size": "8"}), "must be of type int"),
    ("config", json.dumps({"surprise": 1}), "Unknown configuration keys"),
    ("labels", json.dumps("binary"), "label scheme"),
    ("labels", json.dumps({"kind": "categorical", "classes": 5}), "label scheme"),
    ("labels", json.dumps({"kind": "binary", "classes": ["a", "b"], "bins": [[1]]}),
     "label scheme"),
    ("labels", json.dumps({"kind": "categorical", "classes": ["a", "a"]}), "different"),
    ("tokenizer", json.dumps(["words"]), "Tokenizer settings"),
    ("tokenizer", json.dumps({"kind": "bpe", "lowercase": True, "strip_html": True}),
     "Unknown tokenizer"),
    ("vocab", json.dumps({"tokens": "abc"}), "vocabulary"),
    ("vocab", json.dumps({"tokens": ["<pad>", "<unk>", 3]}), "not text"),
    ("vocab", json.dumps({"tokens": ["x", "y"]}), "<pad> and <unk>"),
    ("vocab", json.dumps({"tokens": ["<pad>", "<unk>", "a", "a"]}), "repeated"),
    ("format", json.dumps({"name": FORMAT, "version": FORMAT_VERSION + 1}),
     "version 2 is not supported"),
    ("format", json.dumps({"name": "something-else", "version": 1}), "Not a Review Analyzer"),
    ("format", json.dumps(None), "Not a Review Analyzer"),
])
def test_malformed_header_sections_are_refused(tmp_path, bundle, section, value, pattern):
    tensors, metadata = parts(bundle, tmp_path)
    metadata[section] = value
    refused(write(tmp_path / "header.ramodel", tensors, metadata), pattern)


def test_missing_header_sections_are_refused(tmp_path, bundle):
    tensors, metadata = parts(bundle, tmp_path)
    del metadata["vocab"], metadata["labels"]
    refused(write(tmp_path / "sections.ramodel", tensors, metadata), "lacks.*labels.*vocab")


def test_a_plain_safetensors_file_without_our_header_is_refused(tmp_path, bundle):
    tensors, _ = parts(bundle, tmp_path)
    save_file(tensors, str(tmp_path / "plain.ramodel"))
    refused(tmp_path / "plain.ramodel", "lacks")


def test_non_object_metrics_history_and_info_are_ignored_not_fatal(tmp_path, bundle):
    tensors, metadata = parts(bundle, tmp_path)
    metadata.update(metrics="[1]", history='{"a": 1}', info="3")
    loaded = ModelBundle.load(write(tmp_path / "odd.ramodel", tensors, metadata))
    assert (loaded.metrics, loaded.history, loaded.info) == ({}, [], {})


# --- damaged files ---------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0, 1, 7, 8, 9, 100, 0.5, 0.99])
def test_truncated_files_are_refused(tmp_path, bundle, keep):
    data = bundle.save(tmp_path / "full.ramodel").read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep
    target = tmp_path / "cut.ramodel"
    target.write_bytes(data[:cut])
    refused(target, "not a Review Analyzer model file")


@pytest.mark.parametrize("content", [
    b"", b"\x00" * 64, b"\xff" * 64, b"text,label\ngood,pos\n", b"PK\x03\x04garbage",
    struct.pack("<Q", 2**63) + b"{}", struct.pack("<Q", 10) + b"not json!!",
    struct.pack("<Q", 2) + b"{}",
])
def test_garbage_files_are_refused(tmp_path, content):
    target = tmp_path / "garbage.ramodel"
    target.write_bytes(content)
    refused(target, "not a Review Analyzer model file|lacks")


def test_flipped_bytes_in_the_header_are_refused_or_load_consistently(tmp_path, bundle):
    data = bytearray(bundle.save(tmp_path / "full.ramodel").read_bytes())
    header_length = struct.unpack("<Q", bytes(data[:8]))[0]
    target = tmp_path / "flipped.ramodel"
    for offset in range(8, 8 + header_length, max(1, header_length // 60)):
        damaged = bytearray(data)
        damaged[offset] ^= 0x5A
        target.write_bytes(bytes(damaged))
        try:
            loaded = ModelBundle.load(target)
        except BundleError as error:
            assert str(target) in str(error)
            continue
        assert Predictor(loaded).probabilities(["good film"]).shape == (1, 2)


def test_a_missing_file_and_an_empty_folder_are_refused(tmp_path):
    refused(tmp_path / "nowhere.ramodel", "No model file")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BundleError, match="model.ramodel"):
        ModelBundle.load(empty)


# --- pickle payloads are never executed ---------------------------------------------------------


class Payload:
    """Unpickling this writes a marker file: proof that code from a file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def pickle_files(tmp_path: Path, marker: Path) -> list[Path]:
    """The shapes a booby-trapped model file could take."""
    raw = tmp_path / "raw_pickle.ramodel"
    raw.write_bytes(pickle.dumps(Payload(marker)))
    torch_file = tmp_path / "torch_save.ramodel"
    torch.save({"model": Payload(marker)}, torch_file)
    torch_folder = tmp_path / "folder"
    torch_folder.mkdir()
    torch.save(Payload(marker), torch_folder / "model.ramodel")
    legacy = tmp_path / "legacy.ramodel"
    torch.save(Payload(marker), legacy, _use_new_zipfile_serialization=False)
    # a pickle hidden after a plausible safetensors length prefix
    body = pickle.dumps(Payload(marker))
    prefixed = tmp_path / "prefixed.ramodel"
    prefixed.write_bytes(struct.pack("<Q", len(body)) + body)
    return [raw, torch_file, torch_folder, legacy, prefixed]


def test_pickle_payloads_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "marker.txt"
    # the payload really works when unpickled, so a loader that unpickled would be caught
    pickle.loads(pickle.dumps(Payload(tmp_path / "armed.txt")))
    assert (tmp_path / "armed.txt").exists()
    for path in pickle_files(tmp_path, marker):
        with pytest.raises(BundleError, match="not a Review Analyzer model file"):
            ModelBundle.load(path)
        assert not marker.exists(), f"loading {path.name} ran code from the file"


def test_a_pickle_inside_a_header_section_stays_data(tmp_path, bundle):
    marker = tmp_path / "marker.txt"
    tensors, metadata = parts(bundle, tmp_path)
    metadata["info"] = json.dumps({"payload": pickle.dumps(Payload(marker)).hex()})
    loaded = ModelBundle.load(write(tmp_path / "hidden.ramodel", tensors, metadata))
    assert isinstance(loaded.info["payload"], str)
    assert not marker.exists()


def test_no_code_path_unpickles():
    """No module that reads files may use pickle-based loaders."""
    forbidden = re.compile(r"\btorch\.load\b|\bpickle\.loads?\b|\bjoblib\b|allow_pickle\s*=\s*True"
                           r"|\bdill\b|\bcloudpickle\b|\bshelve\b")
    offenders = []
    for folder in ("core", "gui", "resources"):
        for source in (REPO / folder).rglob("*.py"):
            for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
                if forbidden.search(line) and not line.lstrip().startswith("#"):
                    offenders.append(f"{source.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, offenders
