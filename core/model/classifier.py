"""RecurrentClassifier: embedding -> RNN / LSTM / GRU layers -> pooling over time -> classes.

Padded batches run through the recurrent layers *unpacked*: oneDNN runs the LSTM much faster
that way on the CPU than on a PackedSequence (README has the figure). Results still equal the
packed computation: forward directions read padding only after each review ends (and pooling
masks it), and backward directions read each review reversed within its own length.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional

from core.config import TrainConfig
from core.model.tanh_rnn import run_layer

_CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def reverse_within_length(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence's first ``length`` steps in place of [B, T, D]; padding stays put.

    Applying it twice gives back the input, so it also maps outputs back to reading order.
    """
    steps = torch.arange(x.size(1), device=x.device).unsqueeze(0)
    flipped = lengths.unsqueeze(1) - 1 - steps
    index = torch.where(flipped >= 0, flipped, steps.expand_as(flipped))
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


def length_mask(lengths: Tensor, steps: int) -> Tensor:
    """[B, T] True where a position holds a real token."""
    return torch.arange(steps, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def masked_max(outputs: Tensor, mask: Tensor) -> Tensor:
    """[B, H] maximum over the real positions of [B, T, H]."""
    return outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(1).values


def masked_mean(outputs: Tensor, mask: Tensor, lengths: Tensor) -> Tensor:
    """[B, H] mean over the real positions of [B, T, H]."""
    return (outputs * mask.unsqueeze(-1)).sum(1) / lengths.unsqueeze(1).to(outputs.dtype)


class WordEmbedding(nn.Embedding):
    """Learned word vectors, optionally followed by fixed per-class word priors.

    The prior (see core/word_prior.py) is a buffer, not a parameter: it is saved with the
    weights but never trained. Explanations attribute through this module's whole output, so
    a word's prior counts toward its score; the padding row is zero in both parts.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, padding_idx: int,
                 prior_dim: int = 0) -> None:
        super().__init__(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.prior_dim = prior_dim
        if prior_dim:
            self.register_buffer("prior", torch.zeros(vocab_size, prior_dim))

    @property
    def output_dim(self) -> int:
        return self.embedding_dim + self.prior_dim

    def set_prior(self, prior: Tensor) -> None:
        if not self.prior_dim or tuple(prior.shape) != tuple(self.prior.shape):
            raise ValueError("the prior does not fit this embedding")
        with torch.no_grad():
            self.prior.copy_(prior)
            if self.padding_idx is not None:
                self.prior[self.padding_idx] = 0.0  # padding must stay invisible

    def forward(self, token_ids: Tensor) -> Tensor:
        learned = super().forward(token_ids)
        if not self.prior_dim:
            return learned
        return torch.cat([learned, functional.embedding(token_ids, self.prior)], dim=-1)


class RecurrentClassifier(nn.Module):
    """A sentiment classifier over token ids; ``forward(ids, lengths)`` returns logits."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        cell: str = "gru",
        embedding_dim: int = 128,
        hidden_size: int = 128,
        layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.3,
        pooling: str = "max",
        pad_index: int = 0,
        prior_dim: int = 0,
    ) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"unknown cell {cell!r}")
        self.cell = cell
        self.pooling = pooling
        self.bidirectional = bidirectional
        self.hidden_size = hidden_size
        self.embedding = WordEmbedding(vocab_size, embedding_dim, pad_index, prior_dim)
        rnn_class = _CELLS[cell]
        self.forward_layers = nn.ModuleList()
        self.backward_layers = nn.ModuleList()
        size_in = self.embedding.output_dim
        for _ in range(layers):
            self.forward_layers.append(rnn_class(size_in, hidden_size, batch_first=True))
            if bidirectional:
                self.backward_layers.append(rnn_class(size_in, hidden_size, batch_first=True))
            size_in = hidden_size * (2 if bidirectional else 1)
        self.output_size = size_in
        self.dropout = nn.Dropout(dropout)
        self.attention = nn.Linear(size_in, 1) if pooling == "attention" else None
        pooled_size = size_in * (2 if pooling == "max_mean" else 1)
        self.classifier = nn.Linear(pooled_size, num_classes)

    @classmethod
    def from_config(cls, config: TrainConfig, vocab_size: int,
                    num_classes: int) -> "RecurrentClassifier":
        """The model a config describes; word_prior 'auto' counts as off here (the Trainer
        settles it from the data first, and bundles save the settled value)."""
        return cls(vocab_size, num_classes, cell=config.cell,
                   embedding_dim=config.embedding_dim, hidden_size=config.hidden_size,
                   layers=config.layers, bidirectional=config.bidirectional,
                   dropout=config.dropout, pooling=config.pooling,
                   prior_dim=num_classes if config.word_prior == "on" else 0)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def encode(self, embedded: Tensor, lengths: Tensor) -> Tensor:
        """Recurrent outputs [B, T, H*dirs] in reading order for embedded input [B, T, E]."""
        x = self.dropout(embedded)
        for index, forward_rnn in enumerate(self.forward_layers):
            if index:
                x = self.dropout(x)
            out = run_layer(forward_rnn, x)
            if self.bidirectional:
                backward = run_layer(self.backward_layers[index],
                                     reverse_within_length(x, lengths))
                out = torch.cat([out, reverse_within_length(backward, lengths)], dim=-1)
            x = out
        return x

    def pool(self, outputs: Tensor, lengths: Tensor) -> Tensor:
        """One vector per review from the outputs at its real positions only."""
        mask = length_mask(lengths, outputs.size(1))
        if self.pooling == "last":
            last = outputs[torch.arange(outputs.size(0), device=outputs.device), lengths - 1]
            if not self.bidirectional:
                return last
            half = self.hidden_size
            return torch.cat([last[:, :half], outputs[:, 0, half:]], dim=-1)
        if self.pooling == "mean":
            return masked_mean(outputs, mask, lengths)
        if self.pooling == "max":
            return masked_max(outputs, mask)
        if self.pooling == "max_mean":  # strongest signal and overall tone, side by side
            return torch.cat([masked_max(outputs, mask), masked_mean(outputs, mask, lengths)],
                             dim=-1)
        assert self.attention is not None
        scores = self.attention(torch.tanh(outputs)).squeeze(-1)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
        return (weights.unsqueeze(-1) * outputs).sum(1)

    def forward_embedded(self, embedded: Tensor, lengths: Tensor) -> Tensor:
        """Logits from embeddings: the entry point for gradient-based explanations."""
        pooled = self.pool(self.encode(embedded, lengths), lengths)
        return self.classifier(self.dropout(pooled))

    def forward(self, token_ids: Tensor, lengths: Tensor) -> Tensor:
        return self.forward_embedded(self.embedding(token_ids), lengths)
