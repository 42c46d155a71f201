"""Folders of reviews: one .txt file per review, labelled by the folder it sits in.

This is the aclImdb layout (``root/train/pos/123_9.txt``) that many sentiment data sets
copy: the parent folder is the label, a train/test/dev grandparent is the split, and
the file name is the id. A folder that also holds table files (CSV, JSON Lines, ...)
can be streamed file by file for batch analysis.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ReviewDataError
from core.io.encoding import decode_bytes
from core.io.formats import SUPPORTED_SUFFIXES, RawRecord, RecordSource
from core.io.limits import REVIEW_ENV, ReadLimits, describe_mb

SPLIT_FOLDERS = frozenset({"train", "test", "dev", "val", "valid", "validation"})
UNLABELLED_FOLDERS = frozenset({"unsup", "unlabeled", "unlabelled"})
TABLE_SUFFIXES = tuple(s for s in SUPPORTED_SUFFIXES if not s.startswith(".txt"))


def natural_key(path: Path) -> tuple:
    """Sort '2_3.txt' before '10_1.txt' so the order is both deterministic and natural."""
    key = []
    for part in path.parts:
        for chunk in re.split(r"(\d+)", part):
            if chunk:
                key.append((0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk.lower()))
        key.append((2, 0, ""))  # part separator: 'a/b' sorts before 'a0'
    return tuple(key)


def _visible_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file():
            yield path


def find_table_files(root: Path) -> list[Path]:
    """Table files (CSV, TSV, JSON, JSON Lines, Parquet, gzipped or not) under ``root``."""
    found = [p for p in _visible_files(root) if p.name.lower().endswith(TABLE_SUFFIXES)]
    return sorted(found, key=lambda p: natural_key(p.relative_to(root)))


@dataclass
class TxtLayout:
    """The .txt reviews of a folder and what their places say about them."""

    root: Path
    files: list[Path] = field(default_factory=list)
    labels: list[str] | None = None
    splits: list[str] | None = None
    others: list[Path] = field(default_factory=list)  # .txt files outside the layout


def scan_txt_layout(root: Path) -> TxtLayout:
    """Find review files: all .txt files at the deepest level (shallower ones, like
    aclImdb's urls_pos.txt, are outside the layout and reported, not read as reviews)."""
    found = [p for p in _visible_files(root) if p.name.lower().endswith(".txt")]
    found.sort(key=lambda p: natural_key(p.relative_to(root)))
    layout = TxtLayout(root)
    if not found:
        return layout
    depth = max(len(p.relative_to(root).parts) for p in found)
    layout.files = [p for p in found if len(p.relative_to(root).parts) == depth]
    layout.others = [p for p in found if len(p.relative_to(root).parts) != depth]
    if depth == 1:
        splits = [root.name] * len(layout.files)
        layout.splits = splits if root.name.lower() in SPLIT_FOLDERS else None
        return layout
    parents = [p.parent.name for p in layout.files]
    grandparents = [p.parent.parent.name if depth > 2 else root.name for p in layout.files]
    if all(name.lower() in SPLIT_FOLDERS for name in parents):
        layout.splits = parents  # root/train/*.txt, root/test/*.txt: splits, no labels
        return layout
    layout.labels = ["" if name.lower() in UNLABELLED_FOLDERS else name for name in parents]
    if any(name.lower() in SPLIT_FOLDERS for name in grandparents):
        layout.splits = [n if n.lower() in SPLIT_FOLDERS else "" for n in grandparents]
    return layout


class FolderSource(RecordSource):
    """A folder of .txt reviews as a table with columns text, label, split, id."""

    format = "folder"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.layout = scan_txt_layout(root)
        if not self.layout.files:
            raise ReviewDataError(self._empty_message(root), path=self.path)
        self.columns = ["text"]
        self.columns += ["label"] if self.layout.labels is not None else []
        self.columns += ["split"] if self.layout.splits is not None else []
        self.columns += ["id"]
        self.total_rows = len(self.layout.files)
        self.encoding = "utf-8"
        self._done = 0

    @staticmethod
    def _empty_message(root: Path) -> str:
        tables = find_table_files(root)
        message = ("this folder holds no .txt reviews. Expected one review per .txt file, in "
                   "sub-folders named after the label (pos/, neg/), optionally inside train/ "
                   "and test/")
        if tables:
            names = ", ".join(p.name for p in tables[:3])
            message += (f". It holds {len(tables)} table file(s) ({names}...): open one of "
                        "them, or analyse the whole folder in batch")
        return message

    def fraction(self) -> float:
        return self._done / self.total_rows if self.total_rows else 1.0

    def _too_long(self, index: int, path: Path, limit: int) -> RawRecord:
        self._done = index + 1
        return RawRecord(index + 1, None, [None] * len(self.columns), str(path),
                         f"not read: this file is longer than one review may be "
                         f"({describe_mb(limit)}); raise {REVIEW_ENV} if it is real")

    def _iter_raw(self) -> Iterator[RawRecord]:
        layout = self.layout
        limit = ReadLimits.current().review_chars
        for index, path in enumerate(layout.files):
            self.location = str(path)
            if path.stat().st_size > 4 * limit:  # more characters than a review may have
                yield self._too_long(index, path, limit)
                continue
            text, encoding = decode_bytes(path.read_bytes())
            if len(text) > limit:
                yield self._too_long(index, path, limit)
                continue
            if index == 0:
                self.encoding = encoding
            values = [text.rstrip("\r\n")]
            values += [layout.labels[index]] if layout.labels is not None else []
            values += [layout.splits[index]] if layout.splits is not None else []
            values.append(path.stem)
            self._done = index + 1
            yield RawRecord(index + 1, None, values, str(path))
        self.location = self.path
        empty = [None] * len(self.columns)
        for k, path in enumerate(layout.others, len(layout.files) + 1):
            yield RawRecord(k, None, empty, str(path),
                            "not read: outside the <label>/<review>.txt layout of this folder")
