"""Which texts a pretraining may read, and from them a checkpoint the classifier starts from.

The texts are the training rows (never validation or test rows), the rows of the loaded file
that have text but no label (outside any test split), and any files the user adds as
unlabelled reviews. Validation rows stay out so that the figures used to choose settings are
measured on texts the pretraining never read, as the test rows are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from core.config import TrainConfig
from core.errors import TrainingError
from core.io.readers import iter_review_chunks
from core.io.table import ReviewTable
from core.model.classifier import RecurrentClassifier
from core.model.device import pick_device
from core.text.encoder import TextEncoder
from core.text.tokenizer import Tokenizer
from core.text.vocabulary import Vocabulary
from core.training.adversarial import AdversarialTraining
from core.training.callbacks import Callback, FitState
from core.training.checkpoint import (
    SHAPE_SETTINGS,
    SPLIT_SETTINGS,
    TEXT_SETTINGS,
    PretrainedCheckpoint,
    PretrainRecord,
    apply_checkpoint,
    encoder_tensors,
    merged_vocabulary,
)
from core.training.dataset import (
    EncodedSplit,
    PreparedData,
    is_test_split,
    tokenizer_settings,
)
from core.training.pretraining import (
    LanguageModelHeads,
    PretrainCallbacks,
    pretrain_language_model,
)
from core.training.trainer import TrainControl
from core.training.word_vectors import train_word_vectors


@dataclass
class PretrainingTexts:
    """Tokenized texts for pretraining and, per source, how many rows they came from."""

    token_lists: list[list[str]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, role: str, tokens: list[list[str]]) -> None:
        if tokens:
            self.token_lists.extend(tokens)
            self.sources.append({"name": name, "role": role, "rows": len(tokens)})

    @property
    def tokens(self) -> int:
        return sum(len(t) for t in self.token_lists)


def unlabelled_rows(table: ReviewTable) -> list[int]:
    """Rows with text and an empty label, outside any test split (texts to analyse later)."""
    if table.labels is None:
        return list(range(len(table)))
    splits = table.splits
    return [i for i, label in enumerate(table.labels)
            if not str(label or "").strip()
            and not (splits and is_test_split(splits[i]))]


def gather_texts(data: PreparedData, unlabelled: Sequence[ReviewTable] = ()) -> PretrainingTexts:
    """The training rows, the loaded file's unlabelled rows and the added files, tokenized."""
    tokenizer = data.tokenizer
    table = data.table
    texts = PretrainingTexts()
    held_out = set(data.test.rows.tolist()) | set(data.validation.rows.tolist())
    train_rows = [int(r) for r in data.train.rows]
    spare = [r for r in unlabelled_rows(table) if r not in held_out]
    if held_out.intersection(train_rows):  # cannot happen: the splits are disjoint
        raise TrainingError("Internal error: held-out rows among the training rows.")
    texts.add(table.file_name, "training rows", [tokenizer.tokenize(table.texts[r])
                                              for r in train_rows])
    texts.add(table.file_name, "unlabelled rows", [tokenizer.tokenize(table.texts[r])
                                                for r in spare])
    for extra in unlabelled:
        role = "unlabelled rows" if extra.path and extra.path == table.path else "unlabelled file"
        texts.add(extra.file_name, role, [tokenizer.tokenize(t) for t in extra.texts])
    return texts


def read_unlabelled_rows(path: str | Path, text_column: str | None = None,
                         label_column: str | None = None,
                         cancel: Callable[[], bool] | None = None,
                         split_column: str | None = None) -> ReviewTable:
    """The rows of a labelled file that have text but no label, as a table of texts only.

    The reader for training skips such rows (they cannot be learnt from with labels); this
    reads them again, in file order, for pretraining. A file with no label column gives
    every row. Rows in a test split stay out, like ``unlabelled_rows``: they are texts the
    user will analyse, never material to learn from (``split_column`` None: guessed as the
    training read guesses it; '' for none).
    """
    texts: list[str] = []
    rows: list[int] = []
    for chunk in iter_review_chunks([path], 5000, text_column, label_column, cancel=cancel,
                                    split_column=split_column):
        labels = chunk.labels if chunk.labels is not None else [""] * len(chunk)
        splits = chunk.splits if chunk.splits is not None else [""] * len(chunk)
        for text, label, row, split in zip(chunk.texts, labels, chunk.rows, splits):
            if not str(label or "").strip() and not is_test_split(split):
                texts.append(text)
                rows.append(row)
    return ReviewTable(texts=texts, rows=rows, sources=[str(path)] * len(texts),
                       path=str(path))


def build_checkpoint(texts: PretrainingTexts, config: TrainConfig, kind: str | None = None,
                     callbacks: PretrainCallbacks | None = None,
                     control: TrainControl | None = None) -> PretrainedCheckpoint:
    """Learn word vectors or a language model from ``texts`` with the run's settings."""
    kind = kind or config.pretrain
    if kind not in ("vectors", "lm"):
        raise TrainingError(f"Nothing to pretrain for pretraining '{kind}'.")
    callbacks = callbacks or PretrainCallbacks()
    control = control or TrainControl()
    if not texts.token_lists:
        raise TrainingError("There are no texts to pretrain on.")
    began = time.perf_counter()
    vocab = Vocabulary.build(texts.token_lists, config.vocab_size, config.min_count)
    if len(vocab) <= 2:
        raise TrainingError("No word occurs often enough in the pretraining texts; lower the "
                            "minimum count or add more reviews.")
    settings = {name: getattr(config, name)
                for name in SHAPE_SETTINGS + TEXT_SETTINGS + SPLIT_SETTINGS}
    record = PretrainRecord(kind=kind, sources=list(texts.sources),
                            texts=len(texts.token_lists), tokens=texts.tokens,
                            vocabulary=len(vocab), epochs=config.pretrain_epochs,
                            settings=settings)
    tokenizer = tokenizer_settings(config)
    if callbacks.on_status:
        callbacks.on_status(f"Pretraining ({'language model' if kind == 'lm' else 'word vectors'}"
                            f") on {record.texts:,} texts, {record.tokens:,} tokens.")
    if kind == "vectors":
        table, share = train_word_vectors(
            texts.token_lists, vocab, config.embedding_dim, epochs=config.pretrain_epochs,
            seed=config.seed, workers=max(1, torch.get_num_threads()),
            cancel=lambda: control.cancelled)
        record.words_learnt = round(share, 4)
        tensors = {"embedding.weight": torch.from_numpy(table)}
    else:
        torch.manual_seed(config.seed)
        model = RecurrentClassifier.from_config(config.replace(word_prior="off"), len(vocab), 2)
        heads = LanguageModelHeads(config.hidden_size, len(vocab), config.bidirectional)
        encoder = TextEncoder(Tokenizer(tokenizer), vocab, config.max_length, config.truncation)
        sequences = [encoder.encode_tokens(t) for t in texts.token_lists]
        result = pretrain_language_model(
            model, heads, sequences, epochs=config.pretrain_epochs,
            batch_size=config.batch_size, learning_rate=config.learning_rate,
            grad_clip=config.grad_clip, seed=config.seed, device=pick_device(config.device),
            callbacks=callbacks, control=control)
        model.to("cpu")
        record.losses = [round(v, 4) for v in result.epoch_losses]
        record.layers_pretrained = result.layers_pretrained
        record.completed = result.completed
        record.epochs = len(result.epoch_losses)
        tensors = encoder_tensors(model, result.layers_pretrained)
    record.seconds = round(time.perf_counter() - began, 2)
    return PretrainedCheckpoint(tensors, vocab, tokenizer, record)


def with_checkpoint_vocabulary(data: PreparedData, checkpoint: PretrainedCheckpoint,
                               config: TrainConfig) -> PreparedData:
    """The same splits encoded again with the checkpoint's words first, so they get its rows.

    Tokenized again from the texts: words the training rows lack but the unlabelled texts
    taught are in the new vocabulary, and mapping the old ids would leave them unknown.
    """
    vocab = merged_vocabulary(checkpoint.vocab, data.vocab)
    encoder = TextEncoder(data.tokenizer, vocab, config.max_length, config.truncation)

    def encode(split: EncodedSplit) -> EncodedSplit:
        ids = [encoder.encode(data.table.texts[int(r)]) for r in split.rows]
        return EncodedSplit(ids, split.labels, split.rows)

    return PreparedData(data.table, data.scheme, data.tokenizer, vocab, encode(data.train),
                        encode(data.validation), encode(data.test), data.left_out,
                        data.test_source)


class StartFromCheckpoint(Callback):
    """Puts the pretrained embedding rows and layers into the new model before training.

    Runs before every other callback's ``before_fit`` (weight averaging copies the weights
    there), and copies in place, so the optimizer already holds the right tensors.
    """

    order = -20

    def __init__(self, checkpoint: PretrainedCheckpoint) -> None:
        self.checkpoint = checkpoint
        self.rows = 0

    def before_fit(self, state: FitState) -> None:
        self.checkpoint.check_fits(state.config)
        self.rows = apply_checkpoint(state.model, self.checkpoint, state.data.vocab)
        state.status(f"Started from pretraining: {self.rows:,} of {len(state.data.vocab):,} "
                     f"words have pretrained vectors ({self.checkpoint.record.describe()}).")


@dataclass
class Preparation:
    """The data to train on, the callbacks the run needs and what was pretrained, if anything."""

    data: PreparedData
    callbacks: list[Callback] = field(default_factory=list)
    record: PretrainRecord | None = None
    checkpoint: PretrainedCheckpoint | None = None
    config: TrainConfig | None = None  # as it will train: adversarial 'auto' settled


# 'auto' adversarial training: on while the training rows hold at most this many tokens. It
# roughly triples the training time, so it is used where that stays a few minutes on two
# cores and where validation showed a gain (RT). On SST-2 it won on selection accuracy but
# lowered the negation probe on every split, so larger sets keep it off (docs/decisions.md).
AUTO_ADVERSARIAL_TOKENS = 250_000


def settle_adversarial(config: TrainConfig, data: PreparedData) -> TrainConfig:
    """The config with ``adversarial='auto'`` settled from the training rows' size."""
    if config.adversarial != "auto":
        return config
    small = data.train.token_count() <= AUTO_ADVERSARIAL_TOKENS
    return config.replace(adversarial="at" if small else "off")


def prepare_unlabelled(data: PreparedData, config: TrainConfig,
                       unlabelled: Sequence[ReviewTable] = (),
                       init: PretrainedCheckpoint | None = None,
                       callbacks: PretrainCallbacks | None = None,
                       control: TrainControl | None = None) -> Preparation:
    """Pretrain (or take ``init``), re-encode the data to its vocabulary, and list callbacks.

    With pretraining off, no ``init`` and no adversarial training this returns ``data``
    untouched and no callbacks, so such a run is exactly the plain one. ``config`` comes
    back with ``adversarial='auto'`` settled, so the saved model says what was done.
    """
    config = settle_adversarial(config, data)
    prepared = Preparation(data, config=config)
    checkpoint = init
    if checkpoint is None and config.pretrain != "off":
        checkpoint = build_checkpoint(gather_texts(data, unlabelled), config,
                                      callbacks=callbacks, control=control)
    if checkpoint is not None:
        checkpoint.check_fits(config)
        prepared.data = with_checkpoint_vocabulary(data, checkpoint, config)
        prepared.callbacks.append(StartFromCheckpoint(checkpoint))
        prepared.record = checkpoint.record
        prepared.checkpoint = checkpoint
    if config.adversarial in ("at", "vat"):
        sequences: list = []
        if config.adversarial == "vat":
            encoder = TextEncoder(data.tokenizer, prepared.data.vocab, config.max_length,
                                  config.truncation)
            spare = [data.table.texts[r] for r in unlabelled_rows(data.table)]
            for extra in unlabelled:
                spare.extend(extra.texts)
            sequences = [encoder.encode(text) for text in spare]
        prepared.callbacks.append(AdversarialTraining(config.adversarial,
                                                      config.adversarial_epsilon, sequences,
                                                      seed=config.seed))
    return prepared
