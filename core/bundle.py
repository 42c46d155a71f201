"""A trained model in one file: weights as safetensors, everything else as JSON in its header.

One file means a save is one atomic rename, and nothing in it is ever executed: safetensors
holds raw tensors only and JSON holds data only (no pickle anywhere).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError, safe_open

from core.config import TrainConfig
from core.errors import BundleError, ReviewDataError
from core.io.output_paths import check_outputs
from core.text.labels import LabelScheme
from core.text.tokenizer import TokenizerSettings
from core.text.vocabulary import Vocabulary
from core.training.pretrain_record import PretrainRecord

if TYPE_CHECKING:  # torch loads when a model is saved or loaded, not when the app starts
    import torch

    from core.model.classifier import RecurrentClassifier

FORMAT = "review-analyzer-model"
FORMAT_VERSION = 1
SUFFIX = ".ramodel"
DEFAULT_NAME = "model" + SUFFIX
_JSON_KEYS = ("format", "config", "labels", "tokenizer", "vocab", "metrics", "history", "info")


@dataclass
class ModelBundle:
    """Everything needed to predict exactly as at the end of training."""

    config: TrainConfig
    scheme: LabelScheme
    tokenizer: TokenizerSettings
    vocab: Vocabulary
    model: RecurrentClassifier
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return self.scheme.classes

    @property
    def pretraining(self) -> PretrainRecord | None:
        """What the model was started from (texts' file names and counts, settings), if any."""
        record = self.info.get("pretraining")
        try:
            return PretrainRecord.from_dict(record) if record else None
        except (ReviewDataError, TypeError):
            return None

    def save(self, path: str | Path) -> Path:
        """Write atomically: a crash mid-save leaves any earlier file at ``path`` untouched."""
        target = resolve_model_path(Path(path), for_writing=True)
        source = self.info.get("source")
        check_outputs([target], [source] if isinstance(source, str) and source else [], "model")
        target.parent.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in
                   self.model.state_dict().items()}
        metadata = {
            "format": json.dumps({"name": FORMAT, "version": FORMAT_VERSION}),
            "config": json.dumps(self.config.to_dict()),
            "labels": json.dumps(self.scheme.to_dict()),
            "tokenizer": json.dumps(self.tokenizer.to_dict()),
            "vocab": json.dumps(self.vocab.to_dict()),
            "metrics": json.dumps(self.metrics),
            "history": json.dumps(self.history),
            "info": json.dumps(self.info),
        }
        return write_safetensors(tensors, metadata, target)

    @classmethod
    def load(cls, path: str | Path) -> "ModelBundle":
        """Read and check a model file; anything that does not fit raises BundleError."""
        import torch

        from core.model.classifier import RecurrentClassifier

        source = resolve_model_path(Path(path))
        try:
            with safe_open(str(source), framework="pt", device="cpu") as handle:
                metadata = handle.metadata() or {}
                keys = list(handle.keys())  # noqa: SIM118 (safe_open has no __iter__)
                tensors = {key: handle.get_tensor(key) for key in keys}
        except (SafetensorError, OSError, ValueError, RuntimeError) as error:
            if isinstance(error, OSError) and not isinstance(error, SafetensorError):
                raise BundleError(f"Cannot read the model file ({error.strerror or error}).",
                                  path=str(source)) from None
            raise BundleError("This is not a Review Analyzer model file, or it is damaged. "
                              "Load a .ramodel file saved by Review Analyzer.",
                              path=str(source)) from None
        parsed = _parse_metadata(metadata, source)
        try:
            config = TrainConfig.from_saved(parsed["config"])
            scheme = LabelScheme.from_dict(parsed["labels"])
            tokenizer = TokenizerSettings.from_dict(parsed["tokenizer"])
            vocab = Vocabulary.from_dict(parsed["vocab"])
        except ReviewDataError as error:
            raise BundleError(error.message, path=str(source)) from None
        # Check shapes on a weightless skeleton first: a config from the file must not make
        # us allocate a model far larger than the weights the file really holds.
        with torch.device("meta"):
            skeleton = RecurrentClassifier.from_config(config, len(vocab), scheme.num_classes)
        _check_tensors(skeleton, tensors, source, len(vocab), scheme.num_classes)
        model = RecurrentClassifier.from_config(config, len(vocab), scheme.num_classes)
        model.load_state_dict(tensors, strict=True)
        model.eval()
        history = parsed["history"] if isinstance(parsed["history"], list) else []
        metrics = parsed["metrics"] if isinstance(parsed["metrics"], dict) else {}
        info = parsed["info"] if isinstance(parsed["info"], dict) else {}
        return cls(config, scheme, tokenizer, vocab, model, metrics, history, info)


def write_safetensors(tensors: dict[str, Any], metadata: dict[str, str], target: Path) -> Path:
    """Write a safetensors file atomically and durably, readable as the user's umask allows.

    A crash mid-save leaves any earlier file at ``target`` untouched; model bundles and
    pretraining checkpoints both go through here so neither is left private (mkstemp's 0600)
    or half-written.
    """
    from safetensors.torch import save_file

    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    os.close(handle)
    try:
        save_file(tensors, temp_name, metadata=metadata)
        os.chmod(temp_name, 0o666 & ~_umask())
        with open(temp_name, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    """The process's file-creation mask (read by setting it, then put back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def resolve_model_path(path: Path, for_writing: bool = False) -> Path:
    """A model file, or a folder holding ``model.ramodel`` (as ``train --out DIR`` makes)."""
    if path.is_dir() or (for_writing and not path.suffix):
        return path / DEFAULT_NAME
    if not for_writing and not path.exists():
        raise BundleError("No model file here. Train a model first or pick a .ramodel file.",
                          path=str(path))
    return path


def _parse_metadata(metadata: dict[str, str], source: Path) -> dict[str, Any]:
    missing = [key for key in _JSON_KEYS if key not in metadata]
    if missing:
        raise BundleError(f"The model file lacks {', '.join(missing)}; it was not saved by "
                          "Review Analyzer or is damaged.", path=str(source))
    parsed: dict[str, Any] = {}
    for key in _JSON_KEYS:
        try:
            parsed[key] = json.loads(metadata[key])
        except (json.JSONDecodeError, RecursionError):
            raise BundleError(f"The '{key}' section is not valid JSON.", path=str(source)) from None
    fmt = parsed["format"]
    if not isinstance(fmt, dict) or fmt.get("name") != FORMAT:
        raise BundleError("Not a Review Analyzer model file.", path=str(source))
    if fmt.get("version") != FORMAT_VERSION:
        raise BundleError(f"Model format version {fmt.get('version')} is not supported "
                          f"(this version reads {FORMAT_VERSION}).", path=str(source))
    return parsed


def _check_tensors(model: RecurrentClassifier, tensors: dict[str, torch.Tensor], source: Path,
                   vocab_size: int, num_classes: int) -> None:
    import torch

    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing:
        raise BundleError(f"The weights lack {', '.join(missing[:5])}; the file does not match "
                          "its configuration.", path=str(source))
    if extra:
        raise BundleError(f"The weights hold unexpected tensors {', '.join(extra[:5])}; the file "
                          "does not match its configuration.", path=str(source))
    embedding = tensors["embedding.weight"]
    if embedding.dim() == 2 and embedding.shape[0] != vocab_size:
        raise BundleError(f"The vocabulary has {vocab_size} entries but the embedding has "
                          f"{embedding.shape[0]} rows.", path=str(source))
    classifier = tensors["classifier.weight"]
    classifier_rows = classifier.shape[0] if classifier.dim() == 2 else num_classes
    if classifier_rows != num_classes:
        raise BundleError(f"The label scheme has {num_classes} classes but the classifier "
                          f"outputs {classifier_rows}.", path=str(source))
    for name, reference in expected.items():
        tensor = tensors[name]
        if tuple(tensor.shape) != tuple(reference.shape):
            raise BundleError(f"Tensor '{name}' has shape {tuple(tensor.shape)}, expected "
                              f"{tuple(reference.shape)}.", path=str(source))
        if tensor.dtype != reference.dtype:
            raise BundleError(f"Tensor '{name}' is {tensor.dtype}, expected {reference.dtype}.",
                              path=str(source))
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise BundleError(f"Tensor '{name}' holds NaN or infinite values.", path=str(source))
