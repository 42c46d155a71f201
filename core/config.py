"""One dataclass holds every knob of a run; the GUI form, the CLI and the bundle all use it."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from core.errors import ReviewDataError

CELLS = ("rnn", "lstm", "gru")
POOLINGS = ("last", "mean", "max", "max_mean", "attention")
TRUNCATIONS = ("head", "tail", "head_tail")
TOKENIZERS = ("words", "treebank", "tweet")
WORD_PRIOR_MODES = ("auto", "on", "off")  # auto: see core/training/word_prior.py
# What is learnt from unlabelled text before the labelled training (core/training/pretraining.py):
# nothing, word vectors only (gensim), or the recurrent encoder as a language model.
PRETRAIN_KINDS = ("off", "vectors", "lm")
# Perturbations of the word embeddings (core/training/adversarial.py); auto: adversarial
# training on small training sets only (core/training/unlabelled.py, docs/decisions.md).
ADVERSARIAL_KINDS = ("auto", "off", "at", "vat")
# Training texts paired with their negation flipped (core/training/negation_pairs.py); auto:
# on for two classes; wide: on, with the other negators too ("never", "hardly", "no" + noun);
# wide_add: the "not" pair kept and the wide one beside it; determiner: "a" / "some" -> "no"
# as well ("is a disaster" -> "is no disaster"), one edit a text.
NEGATION_PAIR_MODES = ("auto", "on", "off", "wide", "wide_add", "determiner")


@dataclass
class TrainConfig:
    """Everything that describes a training run; a run is reproduced from this alone.

    Defaults are the ones measured to work well on movie and product reviews (see
    ``bench/accuracy.py``); the presets in :data:`PRESETS` trade accuracy for speed.
    """

    # architecture
    cell: str = "lstm"
    layers: int = 1
    bidirectional: bool = True
    embedding_dim: int = 128
    hidden_size: int = 128
    pooling: str = "attention"
    dropout: float = 0.4
    word_prior: str = "auto"
    # text handling
    max_length: int = 400
    truncation: str = "head_tail"
    vocab_size: int = 30000
    min_count: int = 2
    lowercase: bool = True
    tokenizer: str = "words"
    # training
    epochs: int = 8
    batch_size: int = 64
    learning_rate: float = 2e-3
    lr_decay: float = 1.0  # the learning rate is multiplied by this after every epoch
    ema_decay: float = 0.995  # > 0: validate and keep a moving average of the weights
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    validation_share: float = 0.1
    test_share: float = 0.1
    early_stopping: bool = True
    patience: int = 2
    seed: int = 13
    # learning from unlabelled reviews and regularization (docs/decisions.md says how the
    # defaults were chosen)
    pretrain: str = "off"
    pretrain_epochs: int = 2
    adversarial: str = "auto"
    adversarial_epsilon: float = 5.0
    negation_pairs: str = "auto"
    # machine
    device: str = "auto"
    threads: int = 0

    def validate(self) -> "TrainConfig":
        """Raise ReviewDataError naming the first setting that cannot work."""
        checks: list[tuple[bool, str]] = [
            (self.cell in CELLS, f"cell must be one of {', '.join(CELLS)}, not '{self.cell}'"),
            (self.pooling in POOLINGS, f"pooling must be one of {', '.join(POOLINGS)}"),
            (self.truncation in TRUNCATIONS, f"truncation must be one of {', '.join(TRUNCATIONS)}"),
            (self.tokenizer in TOKENIZERS, f"tokenizer must be one of {', '.join(TOKENIZERS)}"),
            (self.word_prior in WORD_PRIOR_MODES,
             f"word prior must be one of {', '.join(WORD_PRIOR_MODES)}"),
            (self.pretrain in PRETRAIN_KINDS,
             f"pretraining must be one of {', '.join(PRETRAIN_KINDS)}"),
            (self.adversarial in ADVERSARIAL_KINDS,
             f"adversarial training must be one of {', '.join(ADVERSARIAL_KINDS)}"),
            (1 <= self.pretrain_epochs <= 100, "pretraining epochs must be between 1 and 100"),
            (self.negation_pairs in NEGATION_PAIR_MODES,
             f"negation pairs must be one of {', '.join(NEGATION_PAIR_MODES)}"),
            (0 < self.adversarial_epsilon <= 100,
             "adversarial epsilon must be above 0 and at most 100"),
            (1 <= self.layers <= 8, "layers must be between 1 and 8"),
            (1 <= self.embedding_dim <= 2048, "embedding size must be between 1 and 2048"),
            (1 <= self.hidden_size <= 4096, "hidden size must be between 1 and 4096"),
            (0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)"),
            (self.max_length >= 1, "max length must be at least 1 token"),
            (self.vocab_size >= 10, "vocabulary size must be at least 10"),
            (self.min_count >= 1, "minimum count must be at least 1"),
            (self.epochs >= 1, "epochs must be at least 1"),
            (self.batch_size >= 1, "batch size must be at least 1"),
            # Upper bounds: larger values overflow float32 inside the optimizer.
            (0 < self.learning_rate <= 10, "learning rate must be above 0 and at most 10"),
            (0 <= self.weight_decay <= 10, "weight decay must be between 0 and 10"),
            (0 < self.lr_decay <= 1, "learning-rate decay must be above 0 and at most 1"),
            (0 <= self.ema_decay < 1,
             "weight-average decay must be from 0 (off) up to, not including, 1"),
            (0 <= self.grad_clip < math.inf,
             "gradient clipping must be a number from 0 (off) upwards"),
            (0.0 < self.validation_share < 0.9, "validation share must be between 0 and 0.9"),
            (0.0 <= self.test_share < 0.9, "test share must be between 0 and 0.9"),
            (self.patience >= 1, "patience must be at least 1 epoch"),
            (self.device in ("auto", "cpu", "cuda"), "device must be auto, cpu or cuda"),
            (self.threads >= 0, "threads must not be negative (0 means automatic)"),
        ]
        for ok, message in checks:
            if not ok:
                raise ReviewDataError(f"Invalid setting: {message}.")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, strict: bool = True) -> "TrainConfig":
        """Build from saved JSON; unknown keys are refused when strict (a bundle must fit)."""
        if not isinstance(data, dict):
            raise ReviewDataError("The configuration must be a JSON object.")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown and strict:
            raise ReviewDataError(f"Unknown configuration keys: {', '.join(unknown)}.")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                continue
            default = getattr(cls(), name)
            if name == "word_prior" and isinstance(value, bool):  # saved as on/off before 'auto'
                value = "on" if value else "off"
            values[name] = _coerce(name, value, type(default))
        return cls(**values).validate()

    @classmethod
    def from_saved(cls, data: dict[str, Any]) -> "TrainConfig":
        """Like from_dict for a saved model: settings it predates take their old behaviour."""
        if not isinstance(data, dict):
            raise ReviewDataError("The configuration must be a JSON object.")
        return cls.from_dict({**_ADDED_LATER, **data})

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


def _coerce(name: str, value: Any, kind: type) -> Any:
    """Accept JSON numbers for floats, refuse values of the wrong type with a clear message."""
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif kind is str and isinstance(value, str):
        return value
    raise ReviewDataError(f"Setting '{name}' must be of type {kind.__name__}, not {value!r}.")


# Settings added after models were first saved, with the value that reproduces those models.
_ADDED_LATER: dict[str, Any] = {"word_prior": "off", "lr_decay": 1.0, "ema_decay": 0.0,
                                "pretrain": "off", "adversarial": "off",
                                "negation_pairs": "off"}

PRESETS: dict[str, dict[str, Any]] = {
    "Fast": dict(
        cell="gru", layers=1, bidirectional=False, embedding_dim=64, hidden_size=64,
        max_length=200, vocab_size=15000, epochs=4, batch_size=64,
    ),
    "Balanced": dict(),
    "Accurate": dict(
        cell="lstm", layers=2, bidirectional=True, embedding_dim=200, hidden_size=192,
        max_length=500, vocab_size=50000, epochs=12, patience=3,
    ),
}


def preset(name: str) -> TrainConfig:
    """A fresh config for one of :data:`PRESETS` ("Balanced" is the defaults)."""
    if name not in PRESETS:
        raise ReviewDataError(f"Unknown preset '{name}'; choose {', '.join(PRESETS)}.")
    return TrainConfig(**PRESETS[name])


DATA_KNOBS = frozenset(
    {"max_length", "truncation", "vocab_size", "min_count", "lowercase", "tokenizer",
     "validation_share", "test_share", "seed"}
)
MODEL_KNOBS = frozenset(f.name for f in dataclasses.fields(TrainConfig)) - DATA_KNOBS
__all__ = ["TrainConfig", "PRESETS", "preset", "CELLS", "POOLINGS", "WORD_PRIOR_MODES",
           "PRETRAIN_KINDS", "ADVERSARIAL_KINDS", "NEGATION_PAIR_MODES", "DATA_KNOBS",
           "MODEL_KNOBS"]
