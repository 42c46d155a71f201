"""Learning from unlabelled reviews: language model, word vectors, checkpoints, no test leak."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.bundle import ModelBundle
from core.config import TrainConfig
from core.errors import BundleError, ReviewDataError
from core.io.table import ReviewTable
from core.training.checkpoint import PretrainedCheckpoint
from core.training.dataset import prepare_data
from core.training.pipeline import run_training, train_model
from core.training.pretrain_record import PretrainRecord
from core.training.pretraining import PretrainCallbacks
from core.training.trainer import TrainControl
from core.training.unlabelled import build_checkpoint, gather_texts
from tests.core.conftest import synthetic_table

SMALL = dict(embedding_dim=16, hidden_size=16, epochs=2, batch_size=32, pretrain_epochs=1,
             vocab_size=200, min_count=1)


def small(**changes) -> TrainConfig:
    return TrainConfig(**{**SMALL, **changes})


def unlabelled_table(count: int = 60) -> ReviewTable:
    table = synthetic_table(count, seed=5)
    return ReviewTable(texts=table.texts, path="extra.csv")


def test_language_model_pretraining_lowers_its_loss_and_starts_the_classifier(table):
    config = small(pretrain="lm", pretrain_epochs=3)
    outcome = run_training(table, config, unlabelled=[unlabelled_table()])
    record = outcome.bundle.pretraining
    assert record is not None and record.kind == "lm" and record.completed
    assert len(record.losses) == 3 and record.losses[-1] < record.losses[0]
    assert {s["role"] for s in record.sources} == {"training rows", "unlabelled file"}
    assert record.layers_pretrained == 1
    assert outcome.bundle.metrics["test"]["accuracy"] > 0.5


def test_word_vectors_cover_the_vocabulary(table):
    data = prepare_data(table, small())
    checkpoint = build_checkpoint(gather_texts(data), small(), kind="vectors")
    assert checkpoint.record.words_learnt > 0.9
    weights = checkpoint.tensors["embedding.weight"]
    assert weights.shape == (len(checkpoint.vocab), 16)
    assert torch.all(weights[0] == 0)


def test_checkpoint_starts_a_later_run_with_its_weights(table, tmp_path):
    config = small(pretrain="lm")
    data = prepare_data(table, config)
    checkpoint = build_checkpoint(gather_texts(data), config)
    path = checkpoint.save(tmp_path / "start")
    loaded = PretrainedCheckpoint.load(path)
    assert loaded.record == checkpoint.record
    assert loaded.vocab.itos == checkpoint.vocab.itos
    layer = "forward_layers.0.weight_hh_l0"
    assert torch.equal(loaded.tensors[layer], checkpoint.tensors[layer])
    # one epoch at a tiny learning rate: the trained layer stays close to the pretrained one
    outcome = run_training(table, small(epochs=1, learning_rate=1e-6, ema_decay=0.0),
                           init=loaded)
    trained = outcome.bundle.model.state_dict()[layer]
    assert torch.allclose(trained, loaded.tensors[layer], atol=1e-4)
    assert outcome.bundle.pretraining == loaded.record


def test_checkpoint_file_follows_the_users_umask(table, tmp_path):
    import os
    import stat

    checkpoint = build_checkpoint(gather_texts(prepare_data(table, small())), small(),
                                  kind="vectors")
    previous = os.umask(0o022)
    try:
        path = checkpoint.save(tmp_path / "shared")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert list(tmp_path.glob("*.tmp")) == []


def test_checkpoint_with_other_sizes_is_refused(table, tmp_path):
    config = small(pretrain="lm")
    checkpoint = build_checkpoint(gather_texts(prepare_data(table, config)), config)
    with pytest.raises(ReviewDataError, match="hidden_size"):
        run_training(table, small(hidden_size=24), init=checkpoint)


def test_not_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "junk.rapretrain"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(BundleError):
        PretrainedCheckpoint.load(path)


def test_cancel_during_pretraining_leaves_a_usable_state(table):
    control = TrainControl()
    seen = []

    def on_batch(event) -> None:
        seen.append(event.step)
        control.cancel()

    config = small(pretrain="lm", pretrain_epochs=5)
    data = prepare_data(table, config)
    checkpoint = build_checkpoint(gather_texts(data), config,
                                  callbacks=PretrainCallbacks(on_batch=on_batch), control=control)
    assert seen == [1]
    assert not checkpoint.record.completed and checkpoint.record.epochs <= 1
    assert all(bool(torch.isfinite(t).all()) for t in checkpoint.tensors.values())
    outcome = run_training(table, small(epochs=1), init=checkpoint)  # still starts a model
    assert outcome.bundle.pretraining.completed is False


def test_bundle_pretraining_record_round_trips(table, tmp_path):
    outcome = run_training(table, small(pretrain="vectors", pretrain_epochs=2))
    path = outcome.bundle.save(tmp_path / "model.ramodel")
    loaded = ModelBundle.load(path)
    assert loaded.pretraining == outcome.bundle.pretraining
    record = loaded.pretraining
    assert record.kind == "vectors" and record.texts == len(outcome.data.train)
    assert record.sources == [{"name": "synthetic.csv", "role": "training rows",
                               "rows": len(outcome.data.train)}]
    assert PretrainRecord.from_dict(record.to_dict()) == record


def test_plain_run_records_no_pretraining(table):
    assert run_training(table, small()).bundle.pretraining is None


def test_no_test_or_validation_text_reaches_pretraining_or_the_vocabulary():
    table = synthetic_table(300, seed=3)
    data = prepare_data(table, small(test_share=0.2))
    held_out = np.concatenate([data.test.rows, data.validation.rows])
    # a word that only the held-out rows hold, one per row, and one for unlabelled rows
    for row in held_out:
        table.texts[row] = table.texts[row] + f" heldout{row}"
    spare = ReviewTable(texts=["unseen words here"] * 3, path="extra.csv")
    captured: list[list[str]] = []
    import core.training.unlabelled as unlabelled

    original = unlabelled.build_checkpoint

    def spy(texts, *args, **kwargs):
        captured.extend(texts.token_lists)
        return original(texts, *args, **kwargs)

    unlabelled.build_checkpoint = spy
    try:
        outcome = run_training(table, small(test_share=0.2, pretrain="vectors"),
                               unlabelled=[spare])
    finally:
        unlabelled.build_checkpoint = original
    read = {token for tokens in captured for token in tokens}
    assert "unseen" in read  # the spy did see the pretraining texts
    assert not any(token.startswith("heldout") for token in read)
    assert not any(word.startswith("heldout") for word in outcome.bundle.vocab.itos)
    assert len(captured) == len(outcome.data.train) + 3


def test_prepared_data_shared_by_a_comparison_pretrains_per_config(table):
    data = prepare_data(table, small())
    words = list(data.vocab.itos)
    outcome = train_model(data, small(pretrain="vectors"))
    assert outcome.bundle.pretraining is not None
    assert outcome.bundle.pretraining.texts == len(data.train)
    assert data.vocab.itos == words  # the shared data is left as it was
    assert train_model(data, small()).bundle.pretraining is None


def test_a_files_unlabelled_test_rows_never_reach_pretraining(tmp_path):
    """Rows with no label in a test split are texts to analyse, not material to learn from:
    the reader that gathers a file's unlabelled rows and the count the window shows both
    leave them out."""
    from core.io.readers import read_reviews
    from core.training.dataset import no_label_row_count
    from core.training.unlabelled import read_unlabelled_rows

    path = tmp_path / "reviews.csv"
    path.write_text("text,label,split\n"
                    "great film,pos,train\nawful film,neg,train\n"
                    "spare training text,,train\nfuture test text,,test\n"
                    "dev text,,dev\nno split text,,\n", encoding="utf-8")
    spare = read_unlabelled_rows(path, "text", "label")
    assert spare.texts == ["spare training text", "no split text"]
    assert spare.rows == [3, 6]
    everything = read_unlabelled_rows(path, "text", "label", split_column="")
    assert "future test text" in everything.texts  # no split column: nothing is a test row
    table = read_reviews(path, "text", "label", "split")
    assert len(table.skipped) == 4
    assert no_label_row_count(table, outside_test=True) == 2
    assert no_label_row_count(table) == 4
