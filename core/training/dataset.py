"""From a ReviewTable to encoded train / validation / test splits, the same for every model.

The test rows are fixed before anything is learnt (a 'test' split in the file, else a seeded
stratified share) and never used to choose anything; validation comes out of training rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.config import TrainConfig
from core.errors import ReviewDataError, TrainingError
from core.io.table import ReviewTable
from core.text.encoder import TextEncoder
from core.text.labels import LabelScheme, make_scheme
from core.text.tokenizer import Tokenizer, TokenizerSettings
from core.text.vocabulary import Vocabulary
from core.training.split import stratified_split

TRAIN_SPLITS = {"train", "training"}
TEST_SPLITS = ("test", "testing", "dev", "validation", "valid", "val", "holdout")


def is_test_split(value: object) -> bool:
    """Whether a split column's value marks a row held out for testing."""
    return str(value or "").strip().lower() in TEST_SPLITS


def no_label_row_count(table: ReviewTable, *, outside_test: bool = False) -> int:
    """Rows the reader skipped for having text but no label; with ``outside_test``, only
    those outside any test split: the rows pretraining may read (``read_unlabelled_rows``)."""
    return sum(1 for row in table.skipped if row.reason.startswith("no label")
               and not (outside_test and is_test_split(row.split)))


@dataclass
class EncodedSplit:
    """Token ids, class ids and the table row each review came from."""

    ids: list[np.ndarray]
    labels: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(s) for s in self.ids), dtype=np.int64, count=len(self.ids))

    def token_count(self) -> int:
        return int(self.lengths.sum())


@dataclass
class PreparedData:
    table: ReviewTable
    scheme: LabelScheme
    tokenizer: Tokenizer
    vocab: Vocabulary
    train: EncodedSplit
    validation: EncodedSplit
    test: EncodedSplit
    left_out: int
    test_source: str  # "file split 'test'" or "held out 10%"

    def describe(self) -> str:
        return (f"{len(self.train)} train / {len(self.validation)} validation / "
                f"{len(self.test)} test reviews ({self.test_source}); "
                f"vocabulary {len(self.vocab)}; {self.left_out} left out by the label scheme")


def tokenizer_settings(config: TrainConfig) -> TokenizerSettings:
    return TokenizerSettings(kind=config.tokenizer, lowercase=config.lowercase,
                             split_clitics=True)


def split_rows(table: ReviewTable, class_ids: np.ndarray, usable: np.ndarray,
               config: TrainConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(train, validation, test) table-row indices among the usable rows."""
    test_rows = np.array([], dtype=np.int64)
    train_pool = usable
    source = "no test set"
    if table.splits is not None:
        splits = np.array([str(s).strip().lower() for s in table.splits])
        for name in TEST_SPLITS:
            candidate = usable[splits[usable] == name]
            if len(candidate):
                test_rows = candidate
                source = f"file split '{name}'"
                break
        in_train = usable[np.isin(splits[usable], list(TRAIN_SPLITS))]
        if len(in_train):
            train_pool = in_train
        elif len(test_rows):
            train_pool = usable[~np.isin(usable, test_rows)]
    if not len(test_rows) and config.test_share > 0:
        kept, held = stratified_split(class_ids[train_pool], config.test_share, config.seed)
        test_rows, train_pool = train_pool[held], train_pool[kept]
        source = f"held out {config.test_share:.0%}"
    kept, held = stratified_split(class_ids[train_pool], config.validation_share, config.seed + 1)
    return train_pool[kept], train_pool[held], test_rows, source


def prepare_data(table: ReviewTable, config: TrainConfig, scheme: LabelScheme | None = None,
                 progress: Callable[[float], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> PreparedData:
    """Map labels, split, tokenize and build the vocabulary from the training rows only."""
    config.validate()
    if table.labels is None:
        raise ReviewDataError("These reviews have no label column, so a model cannot learn "
                              "from them. Pick a label column.", path=table.path)
    if scheme is None:
        try:
            scheme = make_scheme("auto", table.labels)
        except ReviewDataError as error:  # e.g. one class: say which file and column
            raise TrainingError(error.message, path=table.path,
                                column=table.label_column) from None
    encoded_labels = scheme.encode_all(table.labels)
    class_ids = np.array([-1 if c is None else c for c in encoded_labels], dtype=np.int64)
    usable = np.flatnonzero(class_ids >= 0)
    if len(usable) < 4:
        raise TrainingError(f"Only {len(usable)} reviews have a label in the scheme "
                            f"({scheme.describe()}); at least 4 are needed.", path=table.path)
    train_rows, val_rows, test_rows, source = split_rows(table, class_ids, usable, config)
    present = np.unique(class_ids[train_rows])
    if len(present) < 2:
        raise TrainingError("The training reviews hold a single class "
                            f"('{scheme.classes[int(present[0])]}'); a classifier needs two.",
                            path=table.path)
    tokenizer = Tokenizer(tokenizer_settings(config))
    tokens: dict[int, list[str]] = {}
    all_rows = np.concatenate([train_rows, val_rows, test_rows])
    for done, row in enumerate(all_rows):
        if cancel is not None and done % 2000 == 0 and cancel():
            raise TrainingError("Preparing the data was cancelled.")
        tokens[int(row)] = tokenizer.tokenize(table.texts[row])
        if progress is not None and done % 2000 == 0:
            progress(done / len(all_rows))
    vocab = Vocabulary.build((tokens[int(r)] for r in train_rows), config.vocab_size,
                             config.min_count)
    if len(vocab) <= 2:
        raise TrainingError(f"No word occurs {config.min_count} times or more in the training "
                            "reviews, so the vocabulary is empty. Lower the minimum count or "
                            "use more reviews.", path=table.path)

    encoder = TextEncoder(tokenizer, vocab, config.max_length, config.truncation)

    def encode(rows: np.ndarray) -> EncodedSplit:
        ids = [encoder.encode_tokens(tokens[int(r)]) for r in rows]
        return EncodedSplit(ids, class_ids[rows], rows)

    if progress is not None:
        progress(1.0)
    return PreparedData(table, scheme, tokenizer, vocab, encode(train_rows), encode(val_rows),
                        encode(test_rows), int(len(class_ids) - len(usable)), source)
