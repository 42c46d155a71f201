"""The training loop: seeded, length-bucketed batches, pause and cancel; the rest is callbacks.

Two kinds of callback meet here. ``TrainCallbacks`` are the plain functions the GUI wraps into
Qt signals and the CLI into a progress bar (this module never sees either); ``ProgressReport``
feeds them. The training features around the bare loop (learning-rate decay, gradient
clipping, weight averaging, the divergence guard, best-checkpoint keeping, early stopping) are
``core.training.callbacks.Callback`` classes, which that module documents.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from core.config import TrainConfig
from core.errors import TrainingError
from core.metrics import compute_metrics
from core.model.batch_input import pad_batch
from core.model.classifier import RecurrentClassifier
from core.model.device import configure_threads, describe_device, pick_device
from core.predict.inference import predict_logits
from core.training.batching import bucket_batches
from core.training.callbacks import Callback, FitState, default_callbacks, in_order, run_hook
from core.training.dataset import EncodedSplit, PreparedData
from core.training.events import BatchProgress, EpochSummary, TrainCallbacks, TrainControl
from core.training.negation_pairs import (
    PAIR_EDITS,
    wants_negation_pairs,
    with_negation_pairs,
)
from core.training.word_prior import (
    SHORT_REVIEW_TOKENS,
    SMALL_SET_REVIEWS,
    log_count_ratios,
    wants_prior,
)


@dataclass
class TrainResult:
    model: RecurrentClassifier
    history: list[EpochSummary]
    batch_losses: list[tuple[int, float, float]] = field(default_factory=list)
    best_epoch: int = 0
    stop_reason: str = "completed"  # completed | early_stopping | cancelled | diverged
    seconds: float = 0.0
    tokens_per_second: float = 0.0
    device: str = "cpu"
    message: str = ""
    config: TrainConfig | None = None  # as trained: word_prior 'auto' settled to on or off


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def evaluate_split(model: RecurrentClassifier, split: EncodedSplit, classes: list[str],
                   device: torch.device, ordinal: bool = False,
                   batch_size: int = 256) -> tuple[float, dict]:
    """(mean cross-entropy, metrics) on one encoded split."""
    if len(split) == 0:
        return float("nan"), compute_metrics([], [], classes, ordinal)
    logits = torch.from_numpy(predict_logits(model, split.ids, device, batch_size))
    labels = torch.from_numpy(split.labels)
    loss = float(nn.functional.cross_entropy(logits, labels))
    metrics = compute_metrics(split.labels, logits.argmax(1).numpy(), classes, ordinal)
    return loss, metrics


class ProgressReport(Callback):
    """Hands each batch's and each epoch's figures to the plain functions of TrainCallbacks."""

    order = 10  # after the best checkpoint marks the epoch, before early stopping says why

    def __init__(self, callbacks: TrainCallbacks) -> None:
        self.callbacks = callbacks

    def after_batch(self, state: FitState) -> None:
        if self.callbacks.on_batch:
            epochs = state.config.epochs
            elapsed = state.elapsed()
            fraction = state.step / (state.batches_per_epoch * epochs)
            self.callbacks.on_batch(BatchProgress(
                state.epoch, epochs, state.batch, state.batches_per_epoch, state.step,
                state.loss_value, state.correct / len(state.index),
                state.tokens / max(state.train_seconds, 1e-9), elapsed,
                elapsed / fraction * (1 - fraction), fraction))

    def after_epoch(self, state: FitState) -> None:
        if self.callbacks.on_epoch:
            self.callbacks.on_epoch(state.summary)


@dataclass
class _EpochTally:
    """One epoch's training figures, summed over its batches."""

    started: float = field(default_factory=time.perf_counter)
    tokens: int = 0
    loss: float = 0.0
    correct: int = 0
    seen: int = 0


class Trainer:
    """Trains one RecurrentClassifier on prepared data, as described by one TrainConfig.

    ``extra_callbacks`` run beside the ones the config asks for (``default_callbacks``);
    a subclass may override ``compute_loss`` to change what each batch is trained on.
    """

    def __init__(self, config: TrainConfig, callbacks: TrainCallbacks | None = None,
                 control: TrainControl | None = None,
                 extra_callbacks: Sequence[Callback] = ()) -> None:
        self.config = config.validate()
        self.callbacks = callbacks or TrainCallbacks()
        self.control = control or TrainControl()
        self.extra_callbacks = list(extra_callbacks)

    def _status(self, message: str) -> None:
        if self.callbacks.on_status:
            self.callbacks.on_status(message)

    def compute_loss(self, state: FitState) -> torch.Tensor:
        """The batch's training loss; sets ``state.logits`` (used for the batch accuracy)."""
        state.logits = state.model(state.ids, state.lengths)
        return nn.functional.cross_entropy(state.logits, state.labels)

    def fit(self, data: PreparedData) -> TrainResult:
        state = self._start(data)
        callbacks = in_order([*default_callbacks(state.config), ProgressReport(self.callbacks),
                              *self.extra_callbacks])
        config = state.config
        rng = np.random.default_rng(config.seed)
        run_hook(callbacks, "before_fit", state)
        for epoch in range(1, config.epochs + 1):
            state.epoch = epoch
            state.model.train()
            tally = _EpochTally()
            run_hook(callbacks, "before_epoch", state)
            batches = bucket_batches(state.data.train.lengths, config.batch_size, rng)
            for state.batch, state.index in enumerate(batches, 1):
                state.paused_seconds += self.control.wait_if_paused()
                if self.control.cancelled:
                    state.stop("cancelled")
                    break
                if not self._train_batch(state, callbacks, tally):
                    break
            state.partial = state.stopped
            run_hook(callbacks, "before_validate", state)
            if state.epoch_skipped:
                break
            state.val_loss, state.val_metrics = state.evaluate()
            run_hook(callbacks, "after_validate", state)
            if state.epoch_skipped:
                break
            seconds = time.perf_counter() - tally.started
            state.summary = EpochSummary(
                epoch, tally.loss / max(tally.seen, 1), tally.correct / max(tally.seen, 1),
                state.val_loss, state.val_metrics["accuracy"], state.val_metrics["macro_f1"],
                seconds, tally.tokens / max(seconds, 1e-9), partial=state.partial)
            state.history.append(state.summary)
            run_hook(callbacks, "after_epoch", state)
            if state.stopped:
                break
        run_hook(callbacks, "after_fit", state)
        state.model.eval()
        return TrainResult(
            model=state.model, history=state.history, batch_losses=state.batch_losses,
            best_epoch=state.best_epoch, stop_reason=state.stop_reason,
            seconds=state.elapsed(), tokens_per_second=state.tokens / max(state.train_seconds,
                                                                          1e-9),
            device=describe_device(state.device), message=state.message, config=config)

    def _train_batch(self, state: FitState, callbacks: list[Callback],
                     tally: _EpochTally) -> bool:
        """One optimizer step on ``state.index``; False when a callback stopped the run."""
        step_start = time.perf_counter()
        ids, lengths = pad_batch([state.data.train.ids[i] for i in state.index])
        labels = torch.from_numpy(state.data.train.labels)[state.index]
        state.ids, state.lengths = ids.to(state.device), lengths.to(state.device)
        state.labels = labels.to(state.device)
        run_hook(callbacks, "before_batch", state)
        if state.stopped:
            return False
        state.loss = self.compute_loss(state)
        run_hook(callbacks, "after_loss", state)
        if state.stopped:
            return False
        state.optimizer.zero_grad(set_to_none=True)
        state.loss.backward()
        run_hook(callbacks, "after_backward", state)
        state.optimizer.step()
        run_hook(callbacks, "after_step", state)
        state.step += 1
        size = len(state.index)
        batch_tokens = int(state.lengths.sum())
        state.loss_value = float(state.loss.detach())
        state.correct = int((state.logits.argmax(1) == state.labels).sum())
        state.train_seconds += time.perf_counter() - step_start
        state.tokens += batch_tokens
        tally.tokens += batch_tokens
        tally.loss += state.loss_value * size
        tally.correct += state.correct
        tally.seen += size
        state.batch_losses.append((state.step, state.loss_value, state.correct / size))
        run_hook(callbacks, "after_batch", state)
        return not state.stopped

    def _start(self, data: PreparedData) -> FitState:
        """Check the data, seed, settle the config, and build the model and its optimizer."""
        config = self.config
        if len(data.train) == 0:
            raise TrainingError("There are no training reviews.")
        if len(data.validation) == 0:
            raise TrainingError("There are no validation reviews: use more reviews or a larger "
                                "validation share.")
        device = pick_device(config.device)
        if device.type == "cpu":
            configure_threads(config.threads)
        seed_everything(config.seed)
        # 'auto' is settled here, from the training reviews, and the result keeps the settled
        # config so that a saved model rebuilds the same layers.
        pairs = wants_negation_pairs(config.negation_pairs, data.scheme.num_classes)
        config = config.replace(
            word_prior="on" if wants_prior(config.word_prior, data.train.lengths) else "off",
            negation_pairs=(config.negation_pairs if config.negation_pairs in PAIR_EDITS
                            else "on") if pairs else "off")
        if pairs:
            train, added = with_negation_pairs(data.train, data.vocab,
                                               edit=config.negation_pairs)
            data = dataclasses.replace(data, train=train)
            self._status(f"Negation pairs: {added:,} texts added to the training reviews "
                         "(a text with its negation flipped takes the other label).")
        model = RecurrentClassifier.from_config(config, len(data.vocab), data.scheme.num_classes)
        if config.word_prior == "on":  # counts the pairs too, as chosen on selection splits
            prior = log_count_ratios(data.train.ids, data.train.labels, len(data.vocab),
                                     data.scheme.num_classes)
            model.embedding.set_prior(torch.from_numpy(prior))
        model.to(device)
        # The fused kernel updates all parameters in one pass instead of one per tensor (same
        # update rule), which matters most for a large embedding on the CPU.
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate,
                                     weight_decay=config.weight_decay,
                                     fused=device.type in ("cpu", "cuda"))
        if self.config.word_prior == "auto" and config.word_prior == "on":
            self._status(f"Word prior on (auto): the median training review is at most "
                         f"{SHORT_REVIEW_TOKENS} tokens, or there are at most "
                         f"{SMALL_SET_REVIEWS:,} training reviews.")
        self._status(f"Training {model.parameter_count():,} parameters on "
                     f"{describe_device(device)}; {data.describe()}")
        return FitState(
            config=config, data=data, model=model, optimizer=optimizer, device=device,
            evaluate=lambda: evaluate_split(model, data.validation, data.scheme.classes,
                                            device, data.scheme.ordinal),
            status=self._status,
            batches_per_epoch=math.ceil(len(data.train) / config.batch_size))
