"""One call from a review table to a saved-ready ModelBundle: prepare, train, test once."""

from __future__ import annotations

import datetime as _dt
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core import app_version
from core.bundle import ModelBundle
from core.config import TrainConfig
from core.errors import ReviewDataError
from core.io.table import ReviewTable
from core.metrics import compute_metrics
from core.predict.inference import predict_logits, softmax
from core.predict.predictor import Predictor
from core.text.labels import LabelScheme
from core.training.checkpoint import PretrainedCheckpoint
from core.training.dataset import PreparedData, prepare_data
from core.training.held_out import rows_to_score, training_fingerprint, training_share
from core.training.pretraining import PretrainCallbacks
from core.training.trainer import TrainCallbacks, TrainControl, Trainer, TrainResult, evaluate_split
from core.training.unlabelled import prepare_unlabelled


@dataclass
class TrainingOutcome:
    bundle: ModelBundle
    result: TrainResult
    data: PreparedData
    test_predictions: np.ndarray  # predicted class id per test review (aligned with data.test)
    test_probabilities: np.ndarray


def train_model(data: PreparedData, config: TrainConfig,
                callbacks: TrainCallbacks | None = None,
                control: TrainControl | None = None,
                unlabelled: Sequence[ReviewTable] = (),
                init: PretrainedCheckpoint | None = None,
                pretrain_callbacks: PretrainCallbacks | None = None) -> TrainingOutcome:
    """Pretrain if the config asks (or start from ``init``), train on prepared data (shared by
    comparisons) and score the test rows once.

    ``unlabelled``: tables of extra reviews for pretraining and virtual adversarial training.
    The bundle records what the model was started from.
    """
    control = control or TrainControl()
    if pretrain_callbacks is None:
        pretrain_callbacks = PretrainCallbacks(on_status=callbacks.on_status if callbacks
                                               else None)
    prepared = prepare_unlabelled(data, config, unlabelled, init, pretrain_callbacks, control)
    data, config = prepared.data, prepared.config or config
    trainer = Trainer(config, callbacks, control, prepared.callbacks)
    result = trainer.fit(data)
    model = result.model
    device = next(model.parameters()).device
    classes = data.scheme.classes
    _, val_metrics = evaluate_split(model, data.validation, classes, device, data.scheme.ordinal)
    metrics: dict[str, Any] = {"validation": val_metrics}
    probabilities = np.zeros((0, len(classes)), dtype=np.float32)
    predictions = np.zeros(0, dtype=np.int64)
    if len(data.test):
        probabilities = softmax(predict_logits(model, data.test.ids, device))
        predictions = probabilities.argmax(1)
        metrics["test"] = compute_metrics(data.test.labels, predictions, classes,
                                          data.scheme.ordinal)
    model.to("cpu")
    info = {
        "app_version": app_version(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "source": data.table.path,
        "text_column": data.table.text_column,
        "label_column": data.table.label_column,
        "train_reviews": len(data.train),
        "validation_reviews": len(data.validation),
        "test_reviews": len(data.test),
        "test_source": data.test_source,
        "parameters": model.parameter_count(),
        "best_epoch": result.best_epoch,
        "stop_reason": result.stop_reason,
        "seconds": round(result.seconds, 2),
        "tokens_per_second": round(result.tokens_per_second, 1),
        "device": result.device,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "training_fingerprint": training_fingerprint(  # see evaluate_bundle
            data.table.texts[int(row)] for row in
            np.concatenate([data.train.rows, data.validation.rows])),
    }
    if prepared.record is not None:
        info["pretraining"] = prepared.record.to_dict()
    bundle = ModelBundle(result.config or config, data.scheme, data.tokenizer.settings,
                         data.vocab, model, metrics, [h.to_dict() for h in result.history], info)
    return TrainingOutcome(bundle, result, data, predictions, probabilities)


def run_training(table: ReviewTable, config: TrainConfig, scheme: LabelScheme | None = None,
                 callbacks: TrainCallbacks | None = None,
                 control: TrainControl | None = None,
                 unlabelled: Sequence[ReviewTable] = (),
                 init: PretrainedCheckpoint | None = None,
                 pretrain_callbacks: PretrainCallbacks | None = None) -> TrainingOutcome:
    """Prepare the table with the config's data settings, pretrain if asked, then train.

    ``unlabelled``: tables of extra reviews for pretraining; ``init``: a checkpoint to start
    from instead of pretraining again.
    """
    control = control or TrainControl()
    callbacks = callbacks or TrainCallbacks()
    if callbacks.on_status:
        callbacks.on_status(f"Tokenizing {len(table):,} reviews...")
    data = prepare_data(table, config, scheme, cancel=lambda: control.cancelled)
    return train_model(data, config, callbacks, control, unlabelled, init, pretrain_callbacks)


def evaluate_bundle(bundle: ModelBundle, table: ReviewTable,
                    all_rows: bool = False) -> dict[str, Any]:
    """Score a saved model on a labelled table, mapping labels with the model's own scheme.

    A file with a split column is scored on its test rows only (``all_rows``: every row), as
    training picks them. Besides the figures: ``scored`` says which rows were scored and
    ``training_share`` estimates how many of them the model learnt from (None when the bundle
    predates the fingerprint).
    """
    if table.labels is None:
        raise ReviewDataError("The file has no label column to evaluate against.",
                              path=table.path)
    chosen = rows_to_score(table, all_rows)
    class_ids = bundle.scheme.encode_all([table.labels[i] for i in chosen.indices])
    keep = [(row, c) for row, c in zip(chosen.indices, class_ids) if c is not None]
    if not keep:
        raise ReviewDataError(f"No label among {chosen.description} matches the model's "
                              f"classes ({bundle.scheme.describe()}).", path=table.path)
    predictor = Predictor(bundle)
    texts = [table.texts[row] for row, _ in keep]
    sequences = predictor.encode(texts)
    predicted = predict_logits(predictor.model, sequences, predictor.device).argmax(1)
    metrics = compute_metrics([c for _, c in keep], predicted, bundle.classes,
                              bundle.scheme.ordinal)
    metrics["left_out"] = len(chosen.indices) - len(keep)
    metrics["scored"] = chosen.description
    metrics["file_rows"] = len(table)
    metrics["training_share"] = training_share(bundle.info.get("training_fingerprint"), texts)
    return metrics
