"""Shared helpers for bench scripts: where the shared datasets are and how to load them."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from core.io.readers import read_reviews
from core.io.table import ReviewTable

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("REVIEW_DATASETS", ROOT.parent / "shared" / "datasets"))
IMDB = DATASETS / "imdb" / "imdb.csv.gz"
SST2 = DATASETS / "sst2" / "sst2.csv"
RT = DATASETS / "rt_polarity" / "rt_polarity.csv"


def load(path: Path, max_rows: int | None = None) -> ReviewTable:
    if not path.exists():
        raise SystemExit(f"{path} not found: set REVIEW_DATASETS to the shared datasets folder")
    return read_reviews(path, max_rows=max_rows)


def split_rows(table: ReviewTable, name: str) -> list[int]:
    assert table.splits is not None
    return [i for i, s in enumerate(table.splits) if s == name]


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads")
