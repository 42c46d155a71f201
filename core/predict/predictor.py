"""Predicting with a saved model: text in, class and probabilities out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.bundle import ModelBundle
from core.model.device import pick_device
from core.predict.inference import predict_logits, softmax
from core.text.encoder import TextEncoder
from core.text.tokenizer import Tokenizer


@dataclass
class Prediction:
    label: str
    index: int
    probabilities: dict[str, float]


class Predictor:
    """Tokenizes as in training and runs the model in length-sorted batches."""

    def __init__(self, bundle: ModelBundle, device: str | torch.device = "cpu",
                 batch_size: int = 256) -> None:
        self.bundle = bundle
        self.device = pick_device(device) if isinstance(device, str) else device
        self.model = bundle.model.to(self.device).eval()
        self.tokenizer = Tokenizer(bundle.tokenizer)
        self.encoder = TextEncoder(self.tokenizer, bundle.vocab, bundle.config.max_length,
                                   bundle.config.truncation)
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self.encoder.encode_all(texts)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        logits = predict_logits(self.model, self.encode(texts), self.device, self.batch_size)
        return softmax(logits)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        classes = self.bundle.classes
        result = []
        for row in self.probabilities(texts):
            index = int(row.argmax())
            result.append(Prediction(classes[index], index,
                                     {name: float(p) for name, p in zip(classes, row)}))
        return result
