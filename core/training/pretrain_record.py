"""What a pretraining read and did, as plain data: saved in checkpoints and in model bundles.

Apart from the checkpoint code so that reading a bundle's record needs no torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.errors import ReviewDataError


@dataclass
class PretrainRecord:
    """What a pretraining saw and did; saved in checkpoints and in the bundles they start."""

    kind: str  # "vectors" or "lm"
    sources: list[dict[str, Any]] = field(default_factory=list)  # name, role, rows
    texts: int = 0
    tokens: int = 0
    vocabulary: int = 0
    epochs: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    losses: list[float] = field(default_factory=list)  # language-model loss per epoch
    layers_pretrained: int = 0
    words_learnt: float = 0.0  # share of the vocabulary with a learnt vector
    seconds: float = 0.0
    completed: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "PretrainRecord":
        if not isinstance(data, dict) or data.get("kind") not in ("vectors", "lm"):
            raise ReviewDataError("The pretraining record is missing or damaged.")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def describe(self) -> str:
        what = "language model" if self.kind == "lm" else "word vectors"
        state = "" if self.completed else " (stopped early)"
        names = ", ".join(f"{s.get('name')} ({s.get('rows', 0):,} rows)" for s in self.sources)
        return (f"{what}{state} on {self.texts:,} texts, {self.tokens:,} tokens, "
                f"{self.epochs} epochs; from {names}")
