"""Read review files of any common shape into ``ReviewTable``s, or stream them in chunks.

The data panel previews a file and guesses its columns (``preview_file``), training reads
it whole (``read_reviews``) and batch analysis streams any number of files and folders
with bounded memory (``iter_review_chunks``). Formats, encodings and folder layouts live
in ``core.io.formats``, ``core.io.encoding`` and ``core.io.folders``; this module decides which
columns play which role and what to do with rows that cannot be used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from core.errors import ReviewDataError
from core.io.column_guess import ColumnGuess, guess_columns
from core.io.folders import FolderSource, find_table_files, scan_txt_layout
from core.io.formats import (
    HEAD_RECORDS,
    SUPPORTED_SUFFIXES,
    DelimitedSource,
    JsonLinesSource,
    JsonSource,
    LooksLikeJsonLines,
    ParquetSource,
    RecordSource,
    TextLinesSource,
    as_review_error,
    cell_text,
    clean_label,
    detect_format,
)
from core.io.limits import READ_ENV, ReadLimits, describe_mb
from core.io.table import ReviewTable, SkippedRow

__all__ = [
    "SUPPORTED_SUFFIXES", "FilePreview", "ReadCancelled",
    "detect_format", "iter_review_chunks", "preview_file", "read_reviews",
]

_TICK = 1024  # rows between progress reports and cancel checks
_COUNT_ALL_BYTES = 4 * 1024 * 1024  # previews count every row of files up to this size
CHUNK_CHARS = 64 * 1024 * 1024  # a chunk is cut early past this much text: long reviews


class ReadCancelled(ReviewDataError):
    """The user cancelled a read; nothing half-read is returned."""


@dataclass
class FilePreview:
    """The first rows of a file and the columns guessed for each role, for the data panel."""

    path: str
    format: str
    columns: list[str]
    rows: list[list[str]]
    encoding: str | None
    delimiter: str | None
    text_column: str
    label_column: str | None
    split_column: str | None
    id_column: str | None
    total_rows_hint: int | None


# ---------------------------------------------------------------- opening


@contextmanager
def _user_errors(path: str | Path) -> Iterator[None]:
    """The public functions raise ReviewDataError and nothing else."""
    try:
        yield
    except ReviewDataError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract is one exception type
        raise as_review_error(exc, str(path)) from exc


def open_source(path: str | Path) -> RecordSource:
    """The record source for a file or folder, chosen by ``detect_format``."""
    path = Path(path)
    fmt = detect_format(path)
    if fmt in ("csv", "tsv"):
        return DelimitedSource(path, fmt)
    if fmt == "jsonl":
        return JsonLinesSource(path)
    if fmt == "json":
        try:
            return JsonSource(path)
        except LooksLikeJsonLines:
            return JsonLinesSource(path)
    if fmt == "parquet":
        return ParquetSource(path)
    if fmt == "folder":
        return FolderSource(path)
    return TextLinesSource(path)


# ---------------------------------------------------------------- columns


def match_column(source: RecordSource, name: str) -> str:
    """The column the user named: exact match first, then ignoring case and spaces."""
    if name in source.columns:
        return name
    wanted = name.strip().casefold()
    for column in source.columns:
        if column.strip().casefold() == wanted:
            return column
    available = ", ".join(f"'{c}'" for c in source.columns) or "none"
    raise ReviewDataError(
        f"there is no column '{name}' (available columns: {available}); pick one of those",
        path=source.path, column=name)


def _fixed_guess(source: RecordSource) -> ColumnGuess | None:
    """A folder's columns mean what their names say; there is nothing to guess."""
    if not isinstance(source, FolderSource):
        return None
    has = set(source.columns)
    return ColumnGuess("text", "label" if "label" in has else None,
                       "split" if "split" in has else None, "id")


def plan_columns(source: RecordSource, text: str | None = None, label: str | None = None,
                 split: str | None = None, id_: str | None = None) -> ColumnGuess:
    """Resolve user-given columns and guess the rest (None: guess; '': no such column)."""
    given = {"text": text or None, "label": label, "split": split, "id": id_}
    fixed = {role: (match_column(source, name) if name else None)
             for role, name in given.items() if name is not None}
    if len(fixed) == 4:
        return ColumnGuess(**fixed)
    preset = _fixed_guess(source)
    if preset is not None:
        return replace(preset, **fixed)
    if not source.columns:
        raise _no_reviews(source, 0, [])
    rows = [[cell_text(v) for v in record.values] for record in source.head(HEAD_RECORDS)]
    return guess_columns(source.columns, rows, fixed)


# ---------------------------------------------------------------- rows


class _Review(NamedTuple):
    text: str
    label: str | None
    split: str | None
    id: str | None
    row: int
    source: str


def _where(line: int | None) -> str:
    return f" (line {line})" if line is not None else ""


def _reviews(source: RecordSource, plan: ColumnGuess,
             require_label: bool) -> Iterator[_Review | SkippedRow]:
    """Usable reviews and skipped rows, in file order."""
    roles = [plan.text, plan.label, plan.split, plan.id]
    wanted = [source.columns.index(name) for name in roles if name]
    slot = {}
    for role, name in zip(("label", "split", "id"), roles[1:]):
        if name:
            slot[role] = len(slot) + 1
    label_at, split_at, id_at = slot.get("label"), slot.get("split"), slot.get("id")
    for record in source.records(wanted):
        where = record.source or source.path
        if record.problem:
            yield SkippedRow(where, record.row, record.problem)
            continue
        values = record.values
        text = values[0] if type(values[0]) is str else cell_text(values[0])
        if not text.strip():
            yield SkippedRow(where, record.row,
                             f"empty text in column '{plan.text}'{_where(record.line)}")
            continue
        label = clean_label(values[label_at]) if label_at else None
        if label_at and not label and require_label:
            yield SkippedRow(where, record.row,
                             f"no label in column '{plan.label}'{_where(record.line)}",
                             clean_label(values[split_at]) or "" if split_at else "")
            continue
        yield _Review(text, label,
                      clean_label(values[split_at]) if split_at else None,
                      clean_label(values[id_at]) if id_at else None,
                      record.row, where)


def _new_table(source: RecordSource, plan: ColumnGuess) -> ReviewTable:
    return ReviewTable(
        texts=[], labels=[] if plan.label else None, rows=[], sources=[],
        splits=[] if plan.split else None, ids=[] if plan.id else None,
        path=source.path, text_column=plan.text, label_column=plan.label)


def _add(table: ReviewTable, review: _Review) -> None:
    table.texts.append(review.text)
    table.rows.append(review.row)
    table.sources.append(review.source)
    if table.labels is not None:
        table.labels.append(review.label or "")
    if table.splits is not None:
        table.splits.append(review.split or "")
    if table.ids is not None:
        table.ids.append(review.id or "")


def _no_reviews(source: RecordSource, rows_seen: int,
                skipped: Sequence[SkippedRow]) -> ReviewDataError:
    if not source.columns:
        reason = "the JSON holds no review objects" if source.format == "json" else (
            "the file is empty")
    elif source.format == "text" and not rows_seen:
        reason = "the file is empty"
    elif not rows_seen and not skipped:
        reason = f"the file has a header ({', '.join(source.columns)}) but no rows"
    else:
        reason = (f"all {len(skipped)} rows were skipped; the first because: "
                  f"{skipped[0].reason}")
    return ReviewDataError(f"no reviews: {reason}", path=source.path)


class _Ticker:
    """Reports progress and honours cancel every few rows, cheaply."""

    def __init__(self, source: RecordSource, progress: Callable[[float], None] | None,
                 cancel: Callable[[], bool] | None) -> None:
        self.source, self.progress, self.cancel = source, progress, cancel
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.count % _TICK == 0:
            self.check()

    def check(self) -> None:
        if self.cancel is not None and self.cancel():
            raise ReadCancelled("reading cancelled", path=self.source.path)
        if self.progress is not None:
            self.progress(min(self.source.fraction(), 1.0))


# ---------------------------------------------------------------- public API


def preview_file(path: str | Path, n: int = 200) -> FilePreview:
    """The first ``n`` rows (as strings) and guessed columns, without reading it all."""
    with _user_errors(path), open_source(path) as source:
        head = source.head(max(n, HEAD_RECORDS))
        if not source.columns:
            raise _no_reviews(source, 0, [])
        rows = [[cell_text(v) for v in record.values] for record in head]
        guess = _fixed_guess(source) or guess_columns(source.columns, rows)
        return FilePreview(
            path=str(path), format=source.format, columns=list(source.columns),
            rows=rows[:n], encoding=source.encoding, delimiter=source.delimiter,
            text_column=guess.text, label_column=guess.label, split_column=guess.split,
            id_column=guess.id, total_rows_hint=_total_rows(source, len(head)))


def _total_rows(source: RecordSource, seen: int) -> int | None:
    """Exact when known or cheap (small uncompressed files); None otherwise. A file that
    breaks part-way counts its complete rows (reading it says where it breaks)."""
    if source.total_rows is not None:
        return source.total_rows
    if source.exhausted:
        return seen
    if source.compressed or Path(source.path).stat().st_size > _COUNT_ALL_BYTES:
        return None
    count = 0
    try:
        for _ in source.records([0]):
            count += 1
    except ReviewDataError:
        pass
    return count


def read_reviews(path: str | Path, text_column: str | None = None,
                 label_column: str | None = None, split_column: str | None = None,
                 id_column: str | None = None,
                 progress: Callable[[float], None] | None = None,
                 cancel: Callable[[], bool] | None = None,
                 max_rows: int | None = None,
                 read_limit_mb: float | None = None) -> ReviewTable:
    """Read a whole file or folder of reviews for training or evaluation.

    Columns left as None are guessed; pass '' for label/split/id to say "none". Rows
    with no text (or no label, when there is a label column) are skipped and listed in
    ``table.skipped``. When the file breaks part-way (a cut last line, an unclosed quote),
    every complete review before the break is kept, the break is listed in
    ``table.skipped`` and described in ``table.fault``. The review text kept is capped
    (``core.io.limits``; ``read_limit_mb`` raises it) so a huge or compressed input ends
    in a clear message, not in exhausted memory. Raises ReviewDataError (ReadCancelled if
    ``cancel()`` said so).
    """
    held_limit = ReadLimits.current(read_limit_mb).held_chars
    with _user_errors(path), open_source(path) as source:
        plan = plan_columns(source, text_column, label_column, split_column, id_column)
        table = _new_table(source, plan)
        ticker = _Ticker(source, progress, cancel)
        held = 0
        try:
            for item in _reviews(source, plan, require_label=True):
                if isinstance(item, SkippedRow):
                    table.skipped.append(item)
                else:
                    _add(table, item)
                    held += len(item.text)
                    if held > held_limit:
                        raise _over_limit(source, len(table.texts), held_limit)
                    if max_rows is not None and len(table.texts) >= max_rows:
                        break
                ticker.tick()
        except ReadCancelled:
            raise
        except ReviewDataError as fault:
            if source.fault is not fault or not table.texts:
                raise
            _keep_fault(table, fault)
        if not table.texts:
            raise _no_reviews(source, ticker.count, table.skipped)
        if progress is not None:
            progress(1.0)
        return table


def _over_limit(source: RecordSource, reviews: int, limit: int) -> ReviewDataError:
    return ReviewDataError(
        f"the first {reviews:,} reviews already hold more than {describe_mb(limit)} of text, "
        "the limit for reading a whole file into memory. Read fewer rows (--max-rows), or "
        f"raise the limit with --read-limit-mb or {READ_ENV}=<MB> if this machine has the "
        "memory", path=source.location or source.path)


def _keep_fault(table: ReviewTable, fault: ReviewDataError) -> None:
    """Record a read that stopped part-way: the reviews before it stay, the fault is listed."""
    where = f"line {fault.line}: " if fault.line is not None else ""
    table.fault = f"reading stopped at {where}{fault.message}"
    table.skipped.append(SkippedRow(fault.path or table.path, fault.line or 0,
                                    f"reading stopped here: {fault.message}"))


def _expand_inputs(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; a folder becomes its table files plus its .txt layout, if any."""
    inputs: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            inputs.append(path)
            continue
        tables = find_table_files(path)
        has_txt = bool(scan_txt_layout(path).files)
        if not tables and not has_txt:
            raise ReviewDataError("no review files in this folder (looked for "
                                  f"{', '.join(SUPPORTED_SUFFIXES)})", path=str(path))
        inputs.extend(tables)
        if has_txt:
            inputs.append(path)
    return inputs


def iter_review_chunks(paths: Sequence[str | Path], chunk_size: int = 2000,
                       text_column: str | None = None, label_column: str | None = None,
                       id_column: str | None = None,
                       cancel: Callable[[], bool] | None = None,
                       split_column: str | None = "") -> Iterator[ReviewTable]:
    """Stream many files and folders as ReviewTables of at most ``chunk_size`` rows.

    Memory stays bounded whatever the input size: a chunk never spans two files, and
    holds at most ``chunk_size`` reviews and skipped rows together (a chunk may carry only
    skipped rows) and about ``CHUNK_CHARS`` of text (long reviews make shorter chunks).
    Columns are guessed per file when not given. Rows whose label is missing are kept with
    label '' (batch analysis predicts every review). The split column is not read unless
    asked for (``split_column=None`` guesses it, as training's reader does).
    """
    if chunk_size < 1:
        raise ReviewDataError(f"chunk size must be at least 1, not {chunk_size}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise ReviewDataError("no review files given: pick at least one file or folder")
    with _user_errors(paths[0]):
        inputs = _expand_inputs(paths)
    for path in inputs:
        with _user_errors(path), open_source(path) as source:
            yield from _chunks_of(source, chunk_size, text_column, label_column, id_column,
                                  cancel, split_column)


def _chunks_of(source: RecordSource, chunk_size: int, text_column: str | None,
               label_column: str | None, id_column: str | None,
               cancel: Callable[[], bool] | None,
               split_column: str | None = "") -> Iterator[ReviewTable]:
    if not source.columns or not source.head(1):
        empty = ReviewTable(texts=[], path=source.path)
        empty.skipped.append(SkippedRow(source.path, 0, str(_no_reviews(source, 0, []))))
        yield empty
        return
    plan = plan_columns(source, text_column, label_column, split_column, id_column)
    chunk = _new_table(source, plan)
    ticker = _Ticker(source, None, cancel)
    chars = 0
    try:
        for item in _reviews(source, plan, require_label=False):
            if isinstance(item, SkippedRow):
                chunk.skipped.append(item)
            else:
                _add(chunk, item)
                chars += len(item.text)
            if len(chunk.texts) + len(chunk.skipped) >= chunk_size or chars >= CHUNK_CHARS:
                ticker.check()
                chunk.read_fraction = source.fraction()
                yield chunk
                chunk, chars = _new_table(source, plan), 0
            ticker.tick()
    except ReadCancelled:
        raise
    except ReviewDataError:
        if chunk.texts or chunk.skipped:  # the complete reviews before the fault count
            chunk.read_fraction = source.fraction()
            yield chunk
        raise
    if chunk.texts or chunk.skipped:
        chunk.read_fraction = 1.0
        yield chunk
