"""Batched prediction over encoded reviews, longest-first buckets, results in input order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from core.model.batch_input import pad_batch
from core.model.classifier import RecurrentClassifier
from core.model.fast_recurrent import fast_forward
from core.predict.side_by_side import run_batches, side_by_side_workers


def predict_logits(model: RecurrentClassifier, sequences: Sequence[np.ndarray],
                   device: torch.device | None = None, batch_size: int = 256,
                   cancel: Callable[[], bool] | None = None, workers: int = 0) -> np.ndarray:
    """[N, C] float32 logits; the model is put in eval mode.

    Reviews are sorted by length so each batch pads to nearly its own length; on the CPU
    the recurrent layers step through real tokens only (``core.model.fast_recurrent``) and
    ``workers`` batches (default: one per torch thread) run side by side.
    """
    model.eval()
    device = device or next(model.parameters()).device
    count = len(sequences)
    num_classes = model.classifier.out_features
    out = np.zeros((count, num_classes), dtype=np.float32)
    if count == 0:
        return out
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=count)
    order = np.argsort(-lengths, kind="stable")
    forward = fast_forward(model, device, tokens=int(lengths.sum()))

    def work(index: np.ndarray) -> np.ndarray:
        ids, lens = pad_batch([sequences[i] for i in index])
        with torch.inference_mode():
            return forward(ids.to(device), lens.to(device)).float().cpu().numpy()

    def store(index: np.ndarray, logits: np.ndarray) -> None:
        out[index] = logits

    batches = (order[start:start + batch_size] for start in range(0, count, batch_size))
    run_batches(batches, work, store, side_by_side_workers(device, workers), cancel)
    return out


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
