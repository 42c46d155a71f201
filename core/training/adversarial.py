"""Adversarial and virtual adversarial training on the word embeddings, as one trainer callback.

Why: Miyato, Dai & Goodfellow (2017) regularize recurrent text classifiers by training them
also on the input pushed a small step (``epsilon``) along the direction that hurts most:
against the label's loss (adversarial training, ``at``) or against the model's own prediction
(virtual adversarial training, ``vat``), which needs no label and so also learns from
unlabelled reviews. They normalize the embeddings so the model cannot shrink the push by
growing its vectors; here the push is scaled by the batch's embedding size instead (the
same effect without changing the model), so ``epsilon`` means the same as in their paper:
an L2 step over a whole review, for embeddings of unit spread.

The extra passes call ``RecurrentClassifier.forward_embedded`` with the layers' own fast
paths (oneDNN's LSTM, the tanh RNN's own backward), never a slower per-step loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional

from core.model.batch_input import pad_batch
from core.model.classifier import length_mask
from core.training.callbacks import Callback, FitState

VAT_XI = 1e-6  # size of the random probe whose response estimates the worst direction


def _unit(direction: Tensor, mask: Tensor) -> Tensor:
    """Each review's direction scaled to L2 norm 1 over its real positions."""
    direction = direction * mask.unsqueeze(-1)
    # dividing by the largest entry first keeps the square sum finite for tiny gradients
    direction = direction / (direction.abs().amax(dim=(1, 2), keepdim=True) + 1e-12)
    norm = direction.pow(2).sum(dim=(1, 2), keepdim=True).sqrt()
    return direction / (norm + 1e-12)


def _kl(clean_logits: Tensor, logits: Tensor) -> Tensor:
    """KL(p_clean || p) averaged over the batch, with p_clean held fixed."""
    clean = functional.log_softmax(clean_logits.detach(), dim=-1)
    return functional.kl_div(functional.log_softmax(logits, dim=-1), clean, log_target=True,
                             reduction="batchmean")


class EmbeddingCapture:
    """Keeps the embedding layer's latest output, so the clean pass's gradient can be reused."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.output: Tensor | None = None
        self.handle = module.register_forward_hook(self._keep)

    def _keep(self, _module, _inputs, output: Tensor) -> None:
        self.output = output

    def remove(self) -> None:
        self.handle.remove()


class AdversarialTraining(Callback):
    """Adds the adversarial (``at``) or virtual adversarial (``vat``) loss to each batch.

    Runs before the divergence guard (order 50), so the guard judges the whole loss.
    ``unlabelled`` token-id sequences (in the run's vocabulary) add one batch each step to
    the virtual adversarial loss.
    """

    order = 10

    def __init__(self, kind: str, epsilon: float,
                 unlabelled: Sequence[np.ndarray] = (), seed: int = 0) -> None:
        if kind not in ("at", "vat"):
            raise ValueError(f"unknown adversarial kind {kind!r}")
        self.kind = kind
        self.epsilon = epsilon
        self.unlabelled = sorted(unlabelled, key=len)
        self.rng = np.random.default_rng(seed)
        self.capture: EmbeddingCapture | None = None

    def before_fit(self, state: FitState) -> None:
        self.capture = EmbeddingCapture(state.model.embedding)

    def after_fit(self, state: FitState) -> None:
        if self.capture is not None:
            self.capture.remove()
            self.capture = None

    def _scale(self, embedded: Tensor, mask: Tensor) -> float:
        """epsilon times the root-mean-square embedding entry at real positions."""
        real = embedded.detach()[mask]
        return self.epsilon * float(real.pow(2).mean().sqrt().clamp_min(1e-6))

    def after_loss(self, state: FitState) -> None:
        if state.stopped or self.capture is None or self.capture.output is None:
            return
        if not torch.isfinite(state.loss):
            return  # the divergence guard will stop the run
        model, lengths = state.model, state.lengths
        embedded = self.capture.output
        mask = length_mask(lengths, embedded.size(1))
        if self.kind == "at":
            grad, = torch.autograd.grad(state.loss, embedded, retain_graph=True)
            push = self._scale(embedded, mask) * _unit(grad, mask)
            logits = model.forward_embedded(embedded + push.detach(), lengths)
            state.loss = state.loss + functional.cross_entropy(logits, state.labels)
            return
        extra = self._virtual_loss(model, embedded, lengths, mask, state.logits)
        batch = self._unlabelled_batch(len(state.index))
        if batch is not None:
            ids, more_lengths = (t.to(state.device) for t in batch)
            more = model.embedding(ids)
            more_mask = length_mask(more_lengths, more.size(1))
            with torch.no_grad():
                clean = model.forward_embedded(more, more_lengths)
            extra = extra + self._virtual_loss(model, more, more_lengths, more_mask, clean)
        state.loss = state.loss + extra

    def _virtual_loss(self, model, embedded: Tensor, lengths: Tensor, mask: Tensor,
                      clean_logits: Tensor) -> Tensor:
        """KL between the prediction and the prediction after the worst push (one power step)."""
        probe = (VAT_XI * _unit(torch.randn_like(embedded), mask)).requires_grad_(True)
        logits = model.forward_embedded(embedded.detach() + probe, lengths)
        grad, = torch.autograd.grad(_kl(clean_logits, logits), probe)
        push = self._scale(embedded, mask) * _unit(grad, mask)
        return _kl(clean_logits, model.forward_embedded(embedded + push.detach(), lengths))

    def _unlabelled_batch(self, size: int) -> tuple[Tensor, Tensor] | None:
        """A run of unlabelled reviews of similar length (little padding), drawn at random."""
        if not self.unlabelled:
            return None
        size = min(size, len(self.unlabelled))
        start = int(self.rng.integers(0, len(self.unlabelled) - size + 1))
        return pad_batch(self.unlabelled[start:start + size])
