"""The in-memory result of reading review files: texts, raw labels and where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SkippedRow:
    """A row that was not read, kept so the user can see why (never silently dropped)."""

    source: str
    row: int
    reason: str
    split: str = ""  # the row's split value, when the file has a split column


@dataclass
class ReviewTable:
    """Reviews read from one file or folder, aligned lists of equal length.

    ``rows`` are 1-based record numbers in the source (data rows for tables, lines for
    text files, file index for folders) so errors and outputs point back to the input.
    """

    texts: list[str]
    labels: list[str] | None = None
    rows: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    splits: list[str] | None = None
    ids: list[str] | None = None
    skipped: list[SkippedRow] = field(default_factory=list)
    path: str = ""
    text_column: str = "text"
    label_column: str | None = None
    fault: str | None = None  # why reading stopped before the end (the reviews before stay)
    read_fraction: float | None = None  # share of the input read when this chunk was cut

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def file_name(self) -> str:
        """The source's file name, for messages and records (never its folder)."""
        return Path(self.path).name if self.path else "(reviews in memory)"

    def subset(self, indices: list[int]) -> "ReviewTable":
        """Rows picked by index, keeping every aligned list aligned."""

        def pick(values: list | None) -> list | None:
            return None if values is None else [values[i] for i in indices]

        return ReviewTable(
            texts=[self.texts[i] for i in indices],
            labels=pick(self.labels),
            rows=pick(self.rows) or [],
            sources=pick(self.sources) or [],
            splits=pick(self.splits),
            ids=pick(self.ids),
            skipped=list(self.skipped),
            path=self.path,
            text_column=self.text_column,
            label_column=self.label_column,
            fault=self.fault,
            read_fraction=self.read_fraction,
        )
