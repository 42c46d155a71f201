"""What a training run reports and how it is steered: plain data, no torch.

The window uses these before torch is loaded (it starts without it, issue 16 item 15); the
trainer re-exports them, so ``from core.training.trainer import TrainControl`` still works.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


class TrainControl:
    """Pause, resume and cancel, shared between the thread that trains and the one that asks.

    The trainer checks it between batches, so a request takes effect within one batch.
    """

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()  # a paused run must wake up to stop

    def pause(self) -> None:
        if not self._cancelled.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_if_paused(self) -> float:
        """Block while paused; returns the seconds spent waiting (left out of speed figures)."""
        if self._running.is_set():
            return 0.0
        start = time.perf_counter()
        self._running.wait()
        return time.perf_counter() - start


@dataclass
class BatchProgress:
    epoch: int
    epochs: int
    batch: int
    batches: int
    step: int
    loss: float
    accuracy: float
    tokens_per_second: float
    elapsed: float
    eta: float
    fraction: float


@dataclass
class EpochSummary:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    val_macro_f1: float
    seconds: float
    tokens_per_second: float
    is_best: bool = False
    partial: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainCallbacks:
    on_batch: Callable[[BatchProgress], None] | None = None
    on_epoch: Callable[[EpochSummary], None] | None = None
    on_status: Callable[[str], None] | None = None


__all__ = ["BatchProgress", "EpochSummary", "TrainCallbacks", "TrainControl"]
