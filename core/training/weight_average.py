"""An exponential moving average of a model's weights, validated and kept instead of the raw ones.

Why: Adam's last steps leave the weights wherever the last few batches pushed them; an average
over the recent steps sits nearer the middle of that noise and generalises better (README,
Accuracy, gives the figures), for the cost of one extra pass over the weights per step.
"""

from __future__ import annotations

import torch
from torch import nn

# After n updates the decay is min(decay, (1 + n) / (WARMUP + n)): the newest weights count
# 9 / (n + 10), so the average spans about the last tenth of the steps so far and early
# epochs are not judged on barely trained weights. The cap binds only after ~(WARMUP - 1) /
# (1 - decay) steps, which short runs never reach (README says which of the benchmark runs do).
WARMUP = 10


class WeightAverage:
    """Keeps ``decay``-weighted running averages of every parameter of ``model``."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be in (0, 1), not {decay}")
        self.decay = decay
        # Detached views share the parameters' storage, so this list stays current as the
        # optimizer updates in place; built once rather than on every step.
        self.params = [p.detach() for p in model.parameters() if p.requires_grad]
        self.average = [p.clone() for p in self.params]
        self.updates = 0

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (WARMUP + self.updates))

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current weights in; call after every optimizer step."""
        self.updates += 1
        weight = 1.0 - self.current_decay()
        torch._foreach_lerp_(self.average, self.params, weight)

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange the model's weights and the averages; calling it twice restores both."""
        trained = [p.clone() for p in self.params]
        torch._foreach_copy_(self.params, self.average)
        torch._foreach_copy_(self.average, trained)
