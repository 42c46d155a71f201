"""Fast prediction for batch analysis: length-sorted batches, optional int8 / bf16, and word
attributions (gradient x input in the same pass, or batched integrated gradients).

Everything here works on encoded id arrays; reading, writing and summaries live elsewhere.

Precision choices (measured by ``bench/batch.py``):

- ``fp32``: the model as trained. Without gradients (explain none, and the predictions
  under ig) the recurrent layers run ``core.model.fast_recurrent``'s step loop with per-word input
  gates; with gradients (explain fast, ig's path) they run torch's modules.
- ``int8``: ``torch.ao.quantization.quantize_dynamic`` on the nn.GRU and nn.Linear layers
  (weights int8, activations quantized per step). nn.LSTM stays fp32 where oneDNN runs it:
  its fused fp32 kernel beat the dynamic int8 LSTM here (which runs step by step), so
  quantizing it would slow the model down; without oneDNN it is quantized too. nn.RNN has
  no dynamic quantized version, so an RNN model gets only its Linear layers quantized.
- ``bf16``: autocast to bfloat16 of torch's modules (oneDNN's bf16 LSTM/GRU on the CPU,
  cuDNN on a GPU). Only run where the hardware multiplies bf16 natively (AVX-512 BF16 or AMX,
  ``core.model.device.native_bf16``; a GPU with bf16); elsewhere the LSTM primitive refuses
  bf16 and the GRU is emulated and several times slower, so the request falls back to fp32
  with a note.
- ``auto`` (the default of batch analysis): bf16 for plain prediction (explain none) where it
  is native, else fp32. Before the first chunk is predicted, its first reviews run both ways,
  batched as the run will be (fp32 through the step loop); the run goes on in fp32, with a
  note, when a probability moves by more than ``BF16_TOLERANCE`` or when bf16 was not faster on
  them (torch's bf16 modules against the fp32 step loop: which wins depends on the model and
  the CPU, bench/batch.py).
  Explanations keep fp32 unless bf16 is asked for.

Gradients need a float model: with ``explain='fast'`` the one forward+backward pass runs in
fp32 (or bf16 autocast) and also gives the predictions; int8 then does not apply.
"""

from __future__ import annotations

import contextlib
import copy
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from core.explain.attribution import backward_ready, target_log_odds
from core.model.batch_input import pad_batch
from core.model.classifier import RecurrentClassifier
from core.model.device import good_precisions
from core.model.fast_recurrent import fast_forward
from core.predict.side_by_side import run_batches, side_by_side_workers
from core.text.vocabulary import PAD_INDEX, UNK_INDEX, Vocabulary

PRECISIONS = ("auto", "fp32", "int8", "bf16")
BF16_TOLERANCE = 0.01  # largest probability change bf16 may make (auto checks it per run)
BF16_CHECK_REVIEWS = 512
BF16_MIN_SPEEDUP = 1.0  # auto keeps bf16 only when it beat fp32 by this on the checked reviews
# a first chunk smaller than this is (nearly) the whole input: the check would cost more than
# bf16 could save, so auto stays in fp32
BF16_MIN_REVIEWS = 2048
CUDA_MIN_BATCH = 2048  # a GPU wants large batches; the token budget still bounds memory
CUDA_BUDGET_SCALE = 8
EXPLAIN_METHODS = ("fast", "ig", "none")
IG_STEPS = 16
# Memory per batch: the recurrent layers keep gate activations for every position, and a
# backward pass keeps all of them. _BYTES_PER_UNIT holds the measured bytes per hidden unit
# (x directions x layers) per token, rounded up (README, batch analysis memory); batches are
# cut to stay near the budget. The step loop of core.model.fast_recurrent keeps only each
# layer's outputs (and a fixed block of input gates), and at most one float copy of the
# embedding.
ACTIVATION_BUDGET = 256 * 1024 * 1024
_BYTES_PER_UNIT = {"none": 20, "fast": 70, "ig": 70, "step": 12}


def token_budget(model: RecurrentClassifier, explain: str,
                 budget: int = ACTIVATION_BUDGET) -> int:
    """Tokens (rows x padded length) per batch that keep activations near ``budget`` bytes.

    ``explain``: one of EXPLAIN_METHODS, or "step" for core.model.fast_recurrent's prediction.
    """
    units = model.hidden_size * (2 if model.bidirectional else 1) * len(model.forward_layers)
    embedded = (4 if explain == "step" else 16) * model.embedding.output_dim
    per_token = _BYTES_PER_UNIT[explain] * units + embedded
    return max(256, budget // per_token)


def bf16_supported(device: torch.device | None = None) -> bool:
    """Whether bf16 runs natively on ``device`` (default the CPU); else it is slow or refused."""
    return "bf16" in good_precisions(device or torch.device("cpu"))


def quantize_int8(model: RecurrentClassifier, lstm: bool | None = None) -> nn.Module:
    """A dynamically quantized copy (the bundle's own model stays fp32 for gradients).

    ``lstm``: quantize nn.LSTM layers too; by default only where oneDNN is not there to run
    them faster in fp32 (see the module notes).
    """
    if lstm is None:
        lstm = not torch.backends.mkldnn.is_available()
    layers: set[type[nn.Module]] = {nn.GRU, nn.Linear} | ({nn.LSTM} if lstm else set())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notices of torch.ao in torch 2.x
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), layers,
                                                      dtype=torch.qint8)


def resolve_precision(requested: str, explain: str, cell: str = "",
                      device: torch.device | None = None) -> tuple[str, str]:
    """The precision that will really run, and a note when it differs from the request."""
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}")
    device = device or torch.device("cpu")
    if requested == "auto":
        native = bf16_supported(device)
        return ("bf16" if native and explain == "none" else "fp32"), ""
    if requested == "bf16" and not bf16_supported(device):
        where = "a GPU with bf16" if device.type == "cuda" else "a CPU with AVX-512 BF16 or AMX"
        return "fp32", f"bf16 needs {where}; running in fp32"
    if requested == "int8" and device.type != "cpu":
        return "fp32", "int8 (dynamic quantization) runs on the CPU only; running in fp32"
    if requested == "int8" and explain != "none":
        return "fp32", ("int8 layers have no gradients, so word attributions run the fp32 "
                        "model (use --explain none for int8)")
    if requested == "int8" and cell == "lstm" and torch.backends.mkldnn.is_available():
        return "int8", ("int8 applies to the Linear layers; the LSTM stays fp32 on oneDNN, "
                        "which is faster than int8 for it on the CPU")
    return requested, ""


def _timed(function: Callable[[], object]) -> tuple[Any, float]:
    began = time.perf_counter()
    value = function()
    return value, time.perf_counter() - began


@dataclass
class BatchOutput:
    """Probabilities [N, C] in input order and, when explaining, per-token scores."""

    probabilities: np.ndarray
    scores: list[np.ndarray] | None
    completed: int  # rows done before a cancel (== N when not cancelled)


class BatchPredictor:
    """Runs a model over many encoded reviews in length-sorted batches.

    Sorting by length means a batch pads to nearly its own length, so almost no time goes on
    padding, and the whole batch goes through unpacked recurrent layers (oneDNN for LSTM).
    On the CPU batches run side by side (``core.predict.side_by_side``); gradients for explanations
    are taken with ``autograd.grad`` toward each batch's own inputs, so they share no state.
    """

    def __init__(self, model: RecurrentClassifier, precision: str = "fp32",
                 explain: str = "fast", batch_size: int = 512, ig_steps: int = IG_STEPS,
                 workers: int = 0) -> None:
        if explain not in EXPLAIN_METHODS:
            raise ValueError(f"explain must be one of {EXPLAIN_METHODS}")
        self.model = model.eval()
        self.explain = explain
        self.device = next(model.parameters()).device
        self.precision, self.note = resolve_precision(precision, explain, model.cell,
                                                      self.device)
        # auto's bf16 is checked against fp32 on the first reviews it sees (see the notes)
        self.check_bf16 = precision == "auto" and self.precision == "bf16"
        self.bf16_check: tuple[int, float] | None = None  # reviews compared, largest change
        self.bf16_speedup: float | None = None  # fp32 time / bf16 time on those reviews
        self.batch_size = max(1, int(batch_size))
        if self.device.type == "cuda":
            self.batch_size = max(self.batch_size, CUDA_MIN_BATCH)
        self.ig_steps = ig_steps
        # What predicts without gradients: int8's quantized copy; in fp32 the step loop, except
        # for explain='fast', which takes its predictions from the gradient pass (so it needs
        # no step loop, nor its word table's memory); else the model itself.
        self.forward: Callable[[Tensor, Tensor], Tensor] = self.model
        if self.precision == "int8":
            self.forward = quantize_int8(model)
        elif self.precision == "fp32" and explain != "fast":
            self.forward = fast_forward(model, self.device)
        stepping = (self.precision == "fp32" and explain == "none"
                    and self.forward is not self.model)
        self.token_budget = token_budget(model, "step" if stepping else explain)
        if self.device.type == "cuda":
            self.token_budget *= CUDA_BUDGET_SCALE
        self.workers = side_by_side_workers(self.device, workers)
        # batches in flight share the activation budget, so memory stays where it was
        self.token_budget = max(256, self.token_budget // self.workers)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _verify_bf16(self, sequences: Sequence[np.ndarray]) -> None:
        """auto: run the first reviews the way the whole run will, in bf16 and in fp32 (step
        loop); keep bf16 only when no probability moved by more than BF16_TOLERANCE and it
        was at least BF16_MIN_SPEEDUP times as fast."""
        self.check_bf16 = False
        sample = list(sequences[:BF16_CHECK_REVIEWS])
        half = (self.forward, self.token_budget)
        exact = fast_forward(self.model, self.device)
        full = (exact, max(256, token_budget(self.model, "step") // self.workers))
        if len(sequences) < BF16_MIN_REVIEWS or not sample:
            self.precision, self.forward, self.token_budget = "fp32", *full
            return
        timings, outputs = {}, {}
        for name, (forward, budget) in (("bf16", half), ("fp32", full)):
            self.precision, self.forward, self.token_budget = name, forward, budget
            self._run(sample[:16])  # first calls build kernels and tables: not timed
            outputs[name], timings[name] = _timed(lambda: self._run(sample).probabilities)
        change = float(np.abs(outputs["bf16"] - outputs["fp32"]).max())
        self.bf16_check = (len(sample), change)
        self.bf16_speedup = timings["fp32"] / max(timings["bf16"], 1e-9)
        reason = ""
        if change > BF16_TOLERANCE:
            reason = (f"bf16 changed a probability by {change:.3f} on the first {len(sample)} "
                      f"reviews (more than {BF16_TOLERANCE})")
        elif self.bf16_speedup < BF16_MIN_SPEEDUP:
            reason = (f"bf16 was not faster than fp32 on the first {len(sample)} reviews "
                      f"({self.bf16_speedup:.2f}x)")
        if reason:
            self.note = f"{reason}; running in fp32"
        else:
            self.precision, self.forward, self.token_budget = "bf16", *half

    def batches(self, sequences: Sequence[np.ndarray]) -> Iterator[np.ndarray]:
        """Longest first, at most ``batch_size`` rows and about the token budget each."""
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        order = np.argsort(-lengths, kind="stable")
        budget = self.token_budget
        start = 0
        while start < len(order):
            rows = min(self.batch_size, max(1, budget // max(1, int(lengths[order[start]]))))
            yield order[start:start + rows]
            start += rows

    def run(self, sequences: Sequence[np.ndarray],
            cancel: Callable[[], bool] | None = None,
            on_batch: Callable[[int], None] | None = None) -> BatchOutput:
        """Predict (and explain) every sequence; stops early when ``cancel()`` says so."""
        if self.check_bf16:
            self._verify_bf16(sequences)
        return self._run(sequences, cancel, on_batch)

    def _run(self, sequences: Sequence[np.ndarray], cancel: Callable[[], bool] | None = None,
             on_batch: Callable[[int], None] | None = None) -> BatchOutput:
        count = len(sequences)
        num_classes = self.model.classifier.out_features
        probabilities = np.zeros((count, num_classes), dtype=np.float32)
        scores: list[np.ndarray] | None = [] if self.explain != "none" else None
        if scores is not None:
            scores = [np.zeros(0, dtype=np.float32)] * count
        done = 0

        def store(index: np.ndarray, probs: np.ndarray,
                  batch_scores: list[np.ndarray] | None) -> None:
            nonlocal done
            probabilities[index] = probs
            if scores is not None and batch_scores is not None:
                for item, row_scores in zip(index, batch_scores):
                    scores[item] = row_scores
            done += len(index)
            if on_batch is not None:
                on_batch(len(index))

        run_batches(self.batches(sequences), lambda index: self._run_batch(sequences, index),
                    lambda index, result: store(index, *result), self.workers, cancel)
        return BatchOutput(probabilities, scores, done)

    def _run_batch(self, sequences: Sequence[np.ndarray],
                   index: np.ndarray) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Probabilities of one batch, and each row's token scores when explaining."""
        ids, lens = pad_batch([sequences[i] for i in index])
        ids, lens = ids.to(self.device), lens.to(self.device)
        batch_scores = None
        if self.explain == "fast":
            logits, batch_scores = self._forward_backward(ids, lens)
        else:
            logits = self._logits(ids, lens)
            if self.explain == "ig":
                batch_scores = batched_integrated_gradients(
                    self.model, ids, lens, logits.argmax(1), self.ig_steps, self.token_budget)
        probs = torch.softmax(logits.float(), dim=1).cpu().numpy()
        if batch_scores is None:
            return probs, None
        lengths = lens.cpu().numpy()
        return probs, [batch_scores[row, : lengths[row]] for row in range(len(index))]

    def _logits(self, ids: Tensor, lens: Tensor) -> Tensor:
        with torch.inference_mode(), self.autocast():
            return self.forward(ids, lens)

    def _forward_backward(self, ids: Tensor, lens: Tensor) -> tuple[Tensor, np.ndarray]:
        """Logits and gradient x input toward the predicted class, in one forward+backward.

        Same scores as ``core.explain.fast_token_attributions`` (log-odds of the target),
        without its separate forward pass to find the predicted class first.
        """
        with backward_ready(self.model), self.autocast():
            embedded = self.model.embedding(ids).detach().requires_grad_(True)
            logits = self.model.forward_embedded(embedded, lens)
            target = logits.detach().argmax(1)
            (gradient,) = torch.autograd.grad(target_log_odds(logits.float(), target).sum(),
                                              embedded)
        scores = (gradient.float() * embedded.detach().float()).sum(-1)
        return logits.detach(), scores.cpu().numpy()


def batched_integrated_gradients(model: RecurrentClassifier, ids: Tensor, lens: Tensor,
                                 targets: Tensor, steps: int = IG_STEPS,
                                 positions: int | None = None) -> np.ndarray:
    """Integrated gradients of P(target) for a padded batch at once: [B, T].

    The same quantity as ``core.explain.integrated_gradients`` (embedding layer, all-<pad>
    baseline, probability points), with a fixed number of Gauss-Legendre steps and every
    review of the batch on the path together, which is what makes it usable on a corpus.
    """
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas = torch.tensor((nodes + 1) / 2, dtype=torch.float32, device=ids.device)
    alpha_weights = torch.tensor(weights / 2, dtype=torch.float32, device=ids.device)
    batch, steps_t = ids.shape
    positions = positions or token_budget(model, "ig")
    per_pass = max(1, positions // max(1, batch * steps_t))  # path points per backward pass
    with backward_ready(model):
        embedded = model.embedding(ids).detach()
        baseline = model.embedding(torch.full_like(ids, PAD_INDEX)).detach()
        delta = embedded - baseline
        total = torch.zeros_like(embedded)
        for start in range(0, steps, per_pass):
            a = alphas[start:start + per_pass]
            k = len(a)
            path = (baseline.unsqueeze(0) + a.view(k, 1, 1, 1) * delta.unsqueeze(0))
            path = path.reshape(k * batch, steps_t, -1).requires_grad_(True)
            probs = torch.softmax(model.forward_embedded(path, lens.repeat(k)), dim=1)
            chosen = probs.gather(1, targets.repeat(k).unsqueeze(1)).sum()
            (gradient,) = torch.autograd.grad(chosen, path)
            w = alpha_weights[start:start + per_pass].view(k, 1, 1, 1)
            total += (gradient.view(k, batch, steps_t, -1) * w).sum(0)
    scores = (total * delta).sum(-1)
    mask = torch.arange(steps_t, device=ids.device).unsqueeze(0) < lens.unsqueeze(1)
    return scores.masked_fill(~mask, 0.0).cpu().numpy()


@dataclass
class TopWords:
    """Per review, up to k words toward and k against the predicted class (best first)."""

    toward: list[list[str]]
    against: list[list[str]]
    toward_ids: list[np.ndarray]
    against_ids: list[np.ndarray]


def top_words(sequences: Sequence[np.ndarray], scores: Sequence[np.ndarray], k: int,
              vocab: Vocabulary) -> TopWords:
    """Each review's k words with the strongest push toward, and against, its class.

    A word's push is its strongest single occurrence (largest absolute score, with its sign),
    not the sum: summing lets a word that occurs ten times with tiny effects ("the", ",")
    outrank the one "superb" that decided the review. Each word lands in one list only.
    ``<unk>`` and ``<pad>`` are left out: every unknown word shares one vector, so its score
    says nothing about the word itself.
    """
    count = len(sequences)
    toward: list[list[str]] = [[] for _ in range(count)]
    against: list[list[str]] = [[] for _ in range(count)]
    toward_ids = [np.zeros(0, dtype=np.int64)] * count
    against_ids = [np.zeros(0, dtype=np.int64)] * count
    if count == 0 or k <= 0:
        return TopWords(toward, against, toward_ids, against_ids)
    size = np.int64(len(vocab))
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=count)
    ids = np.concatenate(sequences).astype(np.int64)
    values = np.concatenate([np.asarray(s, dtype=np.float64) for s in scores])
    rows = np.repeat(np.arange(count, dtype=np.int64), lengths)
    keep = ids > UNK_INDEX
    keys = rows[keep] * size + ids[keep]
    kept_values = values[keep]
    by_strength = np.lexsort((-np.abs(kept_values), keys))  # per word, strongest first
    first = np.ones(len(by_strength), dtype=bool)
    first[1:] = keys[by_strength][1:] != keys[by_strength][:-1]
    strongest_at = by_strength[first]
    unique, strongest = keys[strongest_at], kept_values[strongest_at]
    word_rows, word_ids = unique // size, unique % size
    itos = vocab.itos
    for sign, names, chosen in ((1.0, toward, toward_ids), (-1.0, against, against_ids)):
        push = strongest * sign
        picked = np.flatnonzero(push > 0)
        order = picked[np.lexsort((-push[picked], word_rows[picked]))]
        starts = np.searchsorted(word_rows[order], np.arange(count + 1))
        for row in np.flatnonzero(np.diff(starts)):
            best = word_ids[order[starts[row]:min(starts[row] + k, starts[row + 1])]]
            chosen[row] = best
            names[row] = [itos[i] for i in best]
    return TopWords(toward, against, toward_ids, against_ids)
