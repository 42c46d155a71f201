"""Pretraining the recurrent encoder as a language model on unlabelled reviews.

Why: Dai & Le (2015) and ULMFiT (Howard & Ruder 2018) start a text classifier from a
recurrent language model trained on the task's own unlabelled texts; the encoder then knows
how words combine before it sees one label. Each direction of the classifier's encoder learns
to predict the next word (the backward direction: the previous one) through torch's
``AdaptiveLogSoftmaxWithLoss``, whose cost grows with the frequent words only. The layers run
through ``core.model.tanh_rnn.run_layer`` on padded batches, the same fast path as training.

In a bidirectional model with several layers only the first layer of each direction can be
pretrained this way (deeper layers read both directions, so they would see the word to
predict); the record says how many layers were pretrained.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from core.model.batch_input import pad_batch
from core.model.classifier import RecurrentClassifier, length_mask, reverse_within_length
from core.model.tanh_rnn import run_layer
from core.training.batching import bucket_batches
from core.training.trainer import TrainControl


@dataclass
class PretrainProgress:
    """One batch of pretraining, for progress bars and the curves panel."""

    epoch: int
    epochs: int
    batch: int
    batches: int
    step: int
    loss: float  # mean negative log-likelihood per predicted word (both directions)
    tokens_per_second: float
    elapsed: float
    eta: float
    fraction: float

    @property
    def perplexity(self) -> float:
        return math.exp(min(self.loss, 50.0))


@dataclass
class PretrainCallbacks:
    on_batch: Callable[[PretrainProgress], None] | None = None
    on_epoch: Callable[[int, float], None] | None = None  # (epoch, mean loss)
    on_status: Callable[[str], None] | None = None


@dataclass
class LanguageModelResult:
    epoch_losses: list[float] = field(default_factory=list)
    layers_pretrained: int = 0
    tokens: int = 0
    seconds: float = 0.0
    tokens_per_second: float = 0.0
    completed: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def adaptive_cutoffs(vocab_size: int) -> list[int]:
    """Cluster boundaries for the adaptive softmax: the frequent words get the full head."""
    cutoffs = [c for c in (2000, 10000) if c < vocab_size - 1]
    return cutoffs or [max(1, (vocab_size - 1) // 2)]


class LanguageModelHeads(nn.Module):
    """Next-word (forward) and previous-word (backward) outputs over the vocabulary."""

    def __init__(self, hidden_size: int, vocab_size: int, bidirectional: bool) -> None:
        super().__init__()
        cutoffs = adaptive_cutoffs(vocab_size)
        self.forward_head = nn.AdaptiveLogSoftmaxWithLoss(hidden_size, vocab_size, cutoffs,
                                                          div_value=4.0)
        self.backward_head = (nn.AdaptiveLogSoftmaxWithLoss(hidden_size, vocab_size, cutoffs,
                                                            div_value=4.0)
                              if bidirectional else None)


def pretrainable_layers(model: RecurrentClassifier) -> int:
    """How many layers per direction can learn as a language model (see module docstring)."""
    return 1 if model.bidirectional else len(model.forward_layers)


def _direction_loss(model: RecurrentClassifier, head: nn.AdaptiveLogSoftmaxWithLoss,
                    layers: Sequence[nn.RNNBase], ids: Tensor, lengths: Tensor,
                    backward: bool) -> tuple[Tensor, int]:
    """Summed loss of predicting each next token in one reading direction, and its count."""
    if backward:
        ids = reverse_within_length(ids.unsqueeze(-1), lengths).squeeze(-1)
    x = model.dropout(model.embedding(ids))
    for index, layer in enumerate(layers):
        if index:
            x = model.dropout(x)
        x = run_layer(layer, x)
    x = model.dropout(x)
    # the output at step t predicts token t + 1 of the same review
    keep = length_mask(lengths - 1, ids.size(1) - 1)
    outputs = x[:, :-1][keep]
    targets = ids[:, 1:][keep]
    if targets.numel() == 0:
        return x.sum() * 0.0, 0
    result = head(outputs, targets)
    return result.loss * targets.numel(), int(targets.numel())


def pretrain_language_model(model: RecurrentClassifier, heads: LanguageModelHeads,
                            sequences: Sequence[np.ndarray], *, epochs: int, batch_size: int,
                            learning_rate: float, grad_clip: float, seed: int,
                            device: torch.device | None = None,
                            callbacks: PretrainCallbacks | None = None,
                            control: TrainControl | None = None) -> LanguageModelResult:
    """Train the embedding and the first recurrent layers to predict words; in place.

    A cancel stops after the current batch; the weights reached so far are consistent
    (every update is whole), so they can still start a classifier.
    """
    callbacks = callbacks or PretrainCallbacks()
    control = control or TrainControl()
    device = device or torch.device("cpu")
    usable = [s for s in sequences if len(s) >= 2]
    result = LanguageModelResult(layers_pretrained=pretrainable_layers(model))
    if not usable:
        return result
    model.to(device)
    heads.to(device)
    layers = list(model.forward_layers[: result.layers_pretrained])
    backward_layers = list(model.backward_layers[: result.layers_pretrained])
    parameters = (list(model.embedding.parameters()) + [p for m in layers + backward_layers
                                                        for p in m.parameters()]
                  + list(heads.parameters()))
    optimizer = torch.optim.Adam(parameters, lr=learning_rate,
                                 fused=device.type in ("cpu", "cuda"))
    rng = np.random.default_rng(seed)
    lengths = np.fromiter((len(s) for s in usable), dtype=np.int64, count=len(usable))
    batches_per_epoch = math.ceil(len(usable) / batch_size)
    total = batches_per_epoch * epochs
    step = 0
    started = time.perf_counter()
    paused = 0.0
    busy = 0.0
    model.train()
    heads.train()
    for epoch in range(1, epochs + 1):
        epoch_loss = 0.0
        epoch_count = 0
        for number, index in enumerate(bucket_batches(lengths, batch_size, rng), 1):
            paused += control.wait_if_paused()
            if control.cancelled:
                result.completed = False
                break
            began = time.perf_counter()
            ids, lens = pad_batch([usable[i] for i in index])
            ids, lens = ids.to(device), lens.to(device)
            loss, count = _direction_loss(model, heads.forward_head, layers, ids, lens, False)
            if heads.backward_head is not None:
                back_loss, back_count = _direction_loss(model, heads.backward_head,
                                                        backward_layers, ids, lens, True)
                loss, count = loss + back_loss, count + back_count
            if count == 0:
                continue
            mean = loss / count
            if not torch.isfinite(mean):
                result.completed = False
                if callbacks.on_status:
                    callbacks.on_status("The language-model loss stopped being finite; "
                                        "pretraining stopped. Lower the learning rate.")
                break
            optimizer.zero_grad(set_to_none=True)
            mean.backward()
            if grad_clip > 0:
                nn.utils.clip_grad_norm_(parameters, grad_clip)
            optimizer.step()
            step += 1
            busy += time.perf_counter() - began
            value = float(mean.detach())
            epoch_loss += value * count
            epoch_count += count
            result.tokens += int(lens.sum())
            if callbacks.on_batch:
                elapsed = time.perf_counter() - started - paused
                fraction = step / total
                callbacks.on_batch(PretrainProgress(
                    epoch, epochs, number, batches_per_epoch, step, value,
                    result.tokens / max(busy, 1e-9), elapsed,
                    elapsed / fraction * (1 - fraction), fraction))
        if epoch_count:
            result.epoch_losses.append(epoch_loss / epoch_count)
            if callbacks.on_epoch:
                callbacks.on_epoch(epoch, result.epoch_losses[-1])
        if not result.completed:
            break
    model.eval()
    result.seconds = time.perf_counter() - started - paused
    result.tokens_per_second = result.tokens / max(busy, 1e-9)
    return result
