"""A reusable pretraining checkpoint: the encoder's start, its vocabulary, and what made it.

Why a file of its own: pretraining takes longer than fine-tuning and does not depend on the
labels, so one checkpoint serves many later runs on the same texts (``pretrain`` then
``train --init``). Like model bundles it is one safetensors file with JSON in its header:
nothing in it is executed, and it records where its texts came from (file names, row counts,
settings), never the texts themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from core.bundle import write_safetensors
from core.config import TrainConfig
from core.errors import BundleError, ReviewDataError
from core.model.classifier import RecurrentClassifier
from core.text.tokenizer import TokenizerSettings
from core.text.vocabulary import Vocabulary
from core.training.pretrain_record import PretrainRecord

FORMAT = "review-analyzer-pretrained"
FORMAT_VERSION = 1
SUFFIX = ".rapretrain"
# The settings a checkpoint's weights depend on; a classifier started from it must match.
SHAPE_SETTINGS = ("cell", "layers", "bidirectional", "embedding_dim", "hidden_size")
TEXT_SETTINGS = ("tokenizer", "lowercase", "max_length", "truncation", "vocab_size",
                 "min_count")
# Which rows of a labelled file were training rows (the others were never read).
SPLIT_SETTINGS = ("seed", "test_share", "validation_share")


@dataclass
class PretrainedCheckpoint:
    """Embedding (and recurrent layers for a language model), keyed by classifier names."""

    tensors: dict[str, torch.Tensor]
    vocab: Vocabulary
    tokenizer: TokenizerSettings
    record: PretrainRecord

    def save(self, path: str | Path) -> Path:
        """Write atomically, as model bundles are."""
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(SUFFIX)
        target.parent.mkdir(parents=True, exist_ok=True)
        metadata = {
            "format": json.dumps({"name": FORMAT, "version": FORMAT_VERSION}),
            "vocab": json.dumps(self.vocab.to_dict()),
            "tokenizer": json.dumps(self.tokenizer.to_dict()),
            "record": json.dumps(self.record.to_dict()),
        }
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in self.tensors.items()}
        return write_safetensors(tensors, metadata, target)

    @classmethod
    def load(cls, path: str | Path) -> "PretrainedCheckpoint":
        source = Path(path)
        if not source.is_file():
            raise BundleError("No pretraining checkpoint here; run 'pretrain' first or pick a "
                              f"{SUFFIX} file.", path=str(source))
        try:
            with safe_open(str(source), framework="pt", device="cpu") as handle:
                metadata = handle.metadata() or {}
                tensors = {key: handle.get_tensor(key) for key in list(handle.keys())}  # noqa: SIM118
            fmt = json.loads(metadata.get("format", "{}"))
            if fmt.get("name") != FORMAT or fmt.get("version") != FORMAT_VERSION:
                raise BundleError("Not a Review Analyzer pretraining checkpoint.",
                                  path=str(source))
            vocab = Vocabulary.from_dict(json.loads(metadata["vocab"]))
            tokenizer = TokenizerSettings.from_dict(json.loads(metadata["tokenizer"]))
            record = PretrainRecord.from_dict(json.loads(metadata["record"]))
        except (SafetensorError, OSError, ValueError, KeyError, RuntimeError,
                ReviewDataError) as error:
            if isinstance(error, BundleError):
                raise
            raise BundleError(f"This is not a readable pretraining checkpoint ({error}).",
                              path=str(source)) from None
        embedding = tensors.get("embedding.weight")
        if embedding is None or embedding.dim() != 2 or embedding.shape[0] != len(vocab):
            raise BundleError("The checkpoint's embedding does not match its vocabulary.",
                              path=str(source))
        if not all(bool(torch.isfinite(t).all()) for t in tensors.values()
                   if t.is_floating_point()):
            raise BundleError("The checkpoint holds NaN or infinite values.", path=str(source))
        return cls(tensors, vocab, tokenizer, record)

    def check_fits(self, config: TrainConfig) -> None:
        """Raise ReviewDataError naming each setting the classifier would need changed."""
        wanted = self.record.settings
        names = SHAPE_SETTINGS if self.record.kind == "lm" else ("embedding_dim",)
        names = names + ("tokenizer", "lowercase")
        different = [f"{name} {wanted[name]!r} (this run: {getattr(config, name)!r})"
                     for name in names if name in wanted and wanted[name] != getattr(config, name)]
        if different:
            raise ReviewDataError("The pretraining checkpoint was made with other settings: "
                                  + "; ".join(different) + ". Use the same settings or pretrain "
                                  "again.")


def encoder_tensors(model: RecurrentClassifier, layers: int) -> dict[str, torch.Tensor]:
    """The embedding and the first ``layers`` recurrent layers of each direction."""
    keep: dict[str, torch.Tensor] = {"embedding.weight": model.embedding.weight.detach().clone()}
    for group in ("forward_layers", "backward_layers"):
        for index, layer in enumerate(getattr(model, group)[:layers]):
            for name, value in layer.state_dict().items():
                keep[f"{group}.{index}.{name}"] = value.detach().clone()
    return keep


def merged_vocabulary(pretrained: Vocabulary, training: Vocabulary) -> Vocabulary:
    """The checkpoint's words first (their rows are pretrained), then training words it lacks."""
    extra = [(w, c) for w, c in zip(training.itos[2:], training.counts[2:])
             if w not in pretrained.stoi]
    return Vocabulary(pretrained.itos + [w for w, _ in extra],
                      pretrained.counts + [c for _, c in extra])


def apply_checkpoint(model: RecurrentClassifier, checkpoint: PretrainedCheckpoint,
                     vocab: Vocabulary) -> int:
    """Copy the pretrained rows (matched by word) and layers into ``model``; rows copied."""
    source = checkpoint.tensors["embedding.weight"]
    target = model.embedding.weight
    if source.shape[1] != target.shape[1]:
        raise ReviewDataError(f"The checkpoint's word vectors have {source.shape[1]} dimensions; "
                              f"the model's embedding has {target.shape[1]}.")
    pairs = [(i, checkpoint.vocab.stoi[w]) for i, w in enumerate(vocab.itos)
             if i >= 1 and w in checkpoint.vocab.stoi]
    with torch.no_grad():
        if pairs:
            rows = torch.tensor([p[0] for p in pairs])
            from_rows = torch.tensor([p[1] for p in pairs])
            target[rows] = source[from_rows].to(target.dtype)
        state = model.state_dict()
        for name, value in checkpoint.tensors.items():
            if name == "embedding.weight":
                continue
            target_value = state.get(name)
            if target_value is not None and name.endswith("0.weight_ih_l0") \
                    and target_value.shape[0] == value.shape[0] \
                    and target_value.shape[1] == value.shape[1] + model.embedding.prior_dim:
                # the word prior's columns are new: they keep their fresh start
                target_value[:, : value.shape[1]].copy_(value)
                continue
            if target_value is None or tuple(target_value.shape) != tuple(value.shape):
                raise ReviewDataError(f"The checkpoint's layer '{name}' does not fit this model; "
                                      "use the settings it was pretrained with.")
            target_value.copy_(value)
    return len(pairs)
