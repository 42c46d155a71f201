"""A list of id arrays as the tensors the classifier reads: padded ids and true lengths."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from core.text.encoder import pad_ids


def pad_batch(sequences: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded [B, T] int64 ids and [B] lengths, as tensors."""
    ids, lengths = pad_ids(sequences)
    return torch.from_numpy(ids), torch.from_numpy(lengths)
