"""The trainer's callbacks: each training feature around the bare loop is one small class here.

``Trainer.fit`` (core/training/trainer.py) only runs batches, validates and reports; it calls
every callback's hooks at fixed points, in the manner of fastai's callbacks. A callback reads
and changes the run through the ``FitState`` it is handed, and ends the run with
``state.stop(reason)``. A new training feature is a new callback, listed in
``default_callbacks`` when the config asks for it (or handed to ``Trainer(extra_callbacks=)``),
never a branch in the loop.

The hooks, in the order the loop calls them::

    before_fit
    for each epoch:
        before_epoch
        for each batch:
            before_batch       state.index: the reviews of this batch
            after_loss         state.loss may be replaced (an extra loss term is added here)
            after_backward     gradients are in place; the optimizer has not stepped
            after_step
            after_batch        state.loss_value, state.correct: this batch's figures
        before_validate        state.partial: the epoch was cut short by a stop
        after_validate         state.val_loss, state.val_metrics
        after_epoch            state.summary: this epoch's EpochSummary, already in history
    after_fit

Any hook may call ``state.stop(reason, message)``. The loop looks after before_batch and
after_loss (the batch then takes no optimizer step), after after_batch, and after after_epoch;
a stop inside the batches still validates the epoch (``state.partial``), then the run ends.
``state.skip_epoch()`` (from before_validate or after_validate) gives the epoch no figures and
ends the run.

Callbacks run in ascending ``order``, then in list order. The standard ones: BestCheckpoint
-10 (first, so the others see an epoch as kept or skipped), most 0, the trainer's
ProgressReport 10, EarlyStopping 20, DivergenceGuard 50 (judges the loss with every added
term), GradientClip 80 (clips every added gradient).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from core.config import TrainConfig
from core.errors import TrainingError
from core.training.weight_average import WeightAverage

if TYPE_CHECKING:
    from core.model.classifier import RecurrentClassifier
    from core.training.dataset import PreparedData
    from core.training.trainer import EpochSummary


@dataclass
class FitState:
    """Everything one call of ``Trainer.fit`` shares with its callbacks."""

    config: TrainConfig  # as trained: word_prior 'auto' already settled to on or off
    data: PreparedData
    model: RecurrentClassifier
    optimizer: torch.optim.Optimizer
    device: torch.device
    evaluate: Callable[[], tuple[float, dict]]  # (loss, metrics) of the model on validation
    status: Callable[[str], None]  # a line for the user (the status bar, the console)
    epoch: int = 0
    batches_per_epoch: int = 0
    batch: int = 0  # 1-based within the epoch
    step: int = 0  # optimizer steps taken so far
    index: np.ndarray | None = None  # the batch's rows in data.train
    ids: torch.Tensor | None = None
    lengths: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    loss: torch.Tensor | None = None
    loss_value: float = 0.0
    correct: int = 0
    partial: bool = False
    val_loss: float = math.nan
    val_metrics: dict = field(default_factory=dict)
    summary: EpochSummary | None = None
    history: list[EpochSummary] = field(default_factory=list)
    best_epoch: int = 0  # the kept model's epoch; 0 while none is kept
    stop_reason: str = "completed"  # completed | early_stopping | cancelled | diverged
    message: str = ""
    epoch_skipped: bool = False
    # the loop's running totals, for the progress figures
    batch_losses: list[tuple[int, float, float]] = field(default_factory=list)
    tokens: int = 0  # training tokens so far
    train_seconds: float = 0.0  # time inside training steps (no validation, no pauses)
    started: float = field(default_factory=time.perf_counter)
    paused_seconds: float = 0.0

    def elapsed(self) -> float:
        """Seconds since the run started, pauses left out."""
        return time.perf_counter() - self.started - self.paused_seconds

    @property
    def stopped(self) -> bool:
        return self.stop_reason != "completed"

    def stop(self, reason: str, message: str = "") -> None:
        """End the run at the loop's next stopping point; the first reason given stands."""
        if not self.stopped:
            self.stop_reason = reason
            self.message = message

    def skip_epoch(self) -> None:
        """Give this epoch no figures (no summary, no history entry) and end the run."""
        self.epoch_skipped = True


class Callback:
    """One training feature, run at the loop's hooks; every hook does nothing by default."""

    order: int = 0

    def before_fit(self, state: FitState) -> None: ...
    def before_epoch(self, state: FitState) -> None: ...
    def before_batch(self, state: FitState) -> None: ...
    def after_loss(self, state: FitState) -> None: ...
    def after_backward(self, state: FitState) -> None: ...
    def after_step(self, state: FitState) -> None: ...
    def after_batch(self, state: FitState) -> None: ...
    def before_validate(self, state: FitState) -> None: ...
    def after_validate(self, state: FitState) -> None: ...
    def after_epoch(self, state: FitState) -> None: ...
    def after_fit(self, state: FitState) -> None: ...


class LearningRateDecay(Callback):
    """Step decay: each epoch runs at ``lr_decay`` times the last, finer steps near a minimum."""

    def before_epoch(self, state: FitState) -> None:
        rate = state.config.learning_rate * state.config.lr_decay ** (state.epoch - 1)
        for group in state.optimizer.param_groups:
            group["lr"] = rate


class GradientClip(Callback):
    """Caps the gradients' total norm at ``grad_clip`` (0: off) so one bad batch cannot blow up.

    Late in order, so it clips whatever gradient other callbacks added.
    """

    order = 80

    def after_backward(self, state: FitState) -> None:
        if state.config.grad_clip > 0:
            nn.utils.clip_grad_norm_(state.model.parameters(), state.config.grad_clip)


class WeightAveraging(Callback):
    """Validates (and so keeps) a moving average of the weights; training itself is untouched.

    The average is swapped in only around validation. After a divergence it is not used: it
    may hold the diverging steps.
    """

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.average: WeightAverage | None = None
        self.swapped = False

    def before_fit(self, state: FitState) -> None:
        self.average = WeightAverage(state.model, self.decay)
        self.swapped = False

    def after_step(self, state: FitState) -> None:
        self.average.update()

    def before_validate(self, state: FitState) -> None:
        self.swapped = not state.epoch_skipped and state.stop_reason != "diverged"
        if self.swapped:
            self.average.swap()

    def after_epoch(self, state: FitState) -> None:
        if self.swapped:
            self.average.swap()  # training goes on from the trained weights
            self.swapped = False


class BestCheckpoint(Callback):
    """Keeps a copy of the best validated weights and puts them back in the model at the end.

    Best is the highest validation accuracy, ties going to the lower validation loss. An epoch
    cut short (a cancel, a divergence) is validated only while no model is kept yet, so a
    cancelled run always leaves a model with known figures. Runs first, so that the other
    callbacks see the epoch as kept (``state.best_epoch``) or skipped.
    """

    order = -10

    def __init__(self) -> None:
        self.best: dict[str, torch.Tensor] | None = None
        self.key: tuple[float, float] | None = None

    def before_fit(self, state: FitState) -> None:
        self.best, self.key = None, None

    def before_validate(self, state: FitState) -> None:
        if state.partial and self.best is not None:
            state.skip_epoch()

    def after_epoch(self, state: FitState) -> None:
        val_loss = state.val_loss
        key = (state.val_metrics["accuracy"], -val_loss if math.isfinite(val_loss) else -1e9)
        if self.key is None or key > self.key:
            self.key = key
            self.best = {k: v.detach().to("cpu", copy=True)
                         for k, v in state.model.state_dict().items()}
            state.best_epoch = state.epoch
            state.summary.is_best = True

    def after_fit(self, state: FitState) -> None:
        if self.best is not None:
            state.model.load_state_dict(self.best)


class EarlyStopping(Callback):
    """Stops once ``patience`` epochs have passed without a better kept model."""

    order = 20

    def __init__(self, patience: int) -> None:
        self.patience = patience

    def after_epoch(self, state: FitState) -> None:
        if not state.stopped and state.epoch - state.best_epoch >= self.patience:
            state.stop("early_stopping")
            state.status(f"Early stopping: no better validation accuracy for {self.patience} "
                         f"epochs; keeping epoch {state.best_epoch}.")


NO_MODEL = (" No model with finite outputs was reached, so nothing was kept. Lower the "
            "learning rate.")


def snapshot(model: nn.Module,
             into: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor]:
    """A CPU copy of the weights, reusing ``into``'s buffers so each step allocates nothing."""
    state = model.state_dict()
    if into is None:
        return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}
    for key, value in state.items():
        into[key].copy_(value.detach())
    return into


def usable(model: nn.Module, val_loss: float) -> bool:
    """Finite validation loss and finite weights: the least a kept model must have."""
    return math.isfinite(val_loss) and all(
        bool(torch.isfinite(v).all()) for v in model.state_dict().values()
        if v.is_floating_point())


class DivergenceGuard(Callback):
    """A loss or weights that stop being finite end the run; no such model is ever kept.

    Until a model is kept it holds the weights behind the latest finite loss, so a divergence
    in the first epoch still leaves a usable model; with nothing finite at all it raises a
    TrainingError. Late in order, so it judges the loss with every added term.
    """

    order = 50

    def __init__(self) -> None:
        self.last_good: dict[str, torch.Tensor] | None = None
        self.restored = False

    def before_fit(self, state: FitState) -> None:
        self.last_good, self.restored = None, False

    def after_loss(self, state: FitState) -> None:
        if not torch.isfinite(state.loss):
            state.stop("diverged", f"The loss became {float(state.loss.detach())} at epoch "
                                   f"{state.epoch}, batch {state.batch}; training stopped.")
        elif state.best_epoch == 0:
            self.last_good = snapshot(state.model, self.last_good)

    def before_validate(self, state: FitState) -> None:
        if state.stop_reason == "diverged" and state.best_epoch == 0:
            self._restore(state)

    def after_validate(self, state: FitState) -> None:
        if usable(state.model, state.val_loss):
            return
        if state.stop_reason != "diverged":
            state.stop_reason = "diverged"  # overrides a cancel: this is what the user must know
            state.message = (f"The weights or validation loss ({state.val_loss}) stopped being "
                             f"finite after epoch {state.epoch}; training stopped.")
        if state.best_epoch:
            state.skip_epoch()
            return
        if self.restored:
            raise TrainingError(state.message + NO_MODEL)
        self._restore(state)
        state.val_loss, state.val_metrics = state.evaluate()
        if not usable(state.model, state.val_loss):
            raise TrainingError(state.message + NO_MODEL)

    def after_epoch(self, state: FitState) -> None:
        if state.best_epoch:
            self.last_good = None

    def after_fit(self, state: FitState) -> None:
        if state.stop_reason == "diverged":
            partly = any(h.partial for h in state.history if h.epoch == state.best_epoch)
            state.message += (f" The last model with finite outputs was kept (epoch "
                              f"{state.best_epoch}{', partly trained' if partly else ''}). "
                              f"Lower the learning rate.")

    def _restore(self, state: FitState) -> None:
        if self.last_good is None:
            raise TrainingError(state.message + NO_MODEL)
        state.model.load_state_dict(self.last_good)
        self.restored = True


def default_callbacks(config: TrainConfig) -> list[Callback]:
    """The callbacks a config asks for, beside the progress report the trainer adds."""
    callbacks: list[Callback] = [LearningRateDecay(), GradientClip(), BestCheckpoint(),
                                 DivergenceGuard()]
    if config.ema_decay > 0:
        callbacks.append(WeightAveraging(config.ema_decay))
    if config.early_stopping:
        callbacks.append(EarlyStopping(config.patience))
    return callbacks


def run_hook(callbacks: Sequence[Callback], name: str, state: FitState) -> None:
    for callback in callbacks:
        getattr(callback, name)(state)


def in_order(callbacks: Sequence[Callback]) -> list[Callback]:
    return sorted(callbacks, key=lambda callback: callback.order)
