"""Batched prediction over encoded reviews, longest-first buckets, results in input order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from core.batching import pad_batch
from core.model import RecurrentClassifier


def predict_logits(model: RecurrentClassifier, sequences: Sequence[np.ndarray],
                   device: torch.device | None = None, batch_size: int = 256,
                   cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """[N, C] float32 logits; the model is put in eval mode."""
    model.eval()
    device = device or next(model.parameters()).device
    count = len(sequences)
    num_classes = model.classifier.out_features
    out = np.zeros((count, num_classes), dtype=np.float32)
    if count == 0:
        return out
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=count)
    order = np.argsort(-lengths, kind="stable")
    with torch.inference_mode():
        for start in range(0, count, batch_size):
            if cancel is not None and cancel():
                break
            index = order[start:start + batch_size]
            ids, lens = pad_batch([sequences[i] for i in index])
            logits = model(ids.to(device), lens.to(device))
            out[index] = logits.float().cpu().numpy()
    return out


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
