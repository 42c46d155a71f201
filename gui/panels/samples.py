"""The bundled sample reviews, and a small model trained on them, for the panel previews.

The model trains on one thread, in the GUI thread, before the previewed panel is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.io.table import ReviewTable
    from core.training.pipeline import TrainingOutcome
    from core.training.trainer import BatchProgress, EpochSummary


def sample_table() -> ReviewTable:
    """The sample reviews, with their star ratings as labels."""
    import resources
    from core.io.readers import read_reviews

    return read_reviews(resources.SAMPLE_REVIEWS, text_column="text", label_column="stars")


def sample_outcome(scheme_kind: str = "binary", epochs: int = 8,
                   on_batch: Callable[[BatchProgress], None] | None = None,
                   on_epoch: Callable[[EpochSummary], None] | None = None) -> TrainingOutcome:
    """A small bidirectional GRU trained on the sample reviews (``scheme_kind``: binary,
    three, five, ...), with its test predictions; each epoch is printed."""
    from core.config import TrainConfig
    from core.text.labels import make_scheme
    from core.training.pipeline import run_training
    from core.training.trainer import TrainCallbacks

    table = sample_table()
    config = TrainConfig(cell="gru", bidirectional=True, embedding_dim=32, hidden_size=32,
                         epochs=epochs, batch_size=16, learning_rate=5e-3, min_count=1,
                         test_share=0.2, early_stopping=False, max_length=120, threads=1)
    print(f"Training a small model on the sample reviews ({epochs} epochs)...", flush=True)

    def epoch_done(summary: EpochSummary) -> None:
        print(f"  epoch {summary.epoch}/{epochs}: validation accuracy "
              f"{summary.val_accuracy:.1%}", flush=True)
        if on_epoch is not None:
            on_epoch(summary)

    callbacks = TrainCallbacks(on_batch=on_batch, on_epoch=epoch_done)
    return run_training(table, config, make_scheme(scheme_kind, table.labels), callbacks)
