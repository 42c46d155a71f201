"""Streaming writers for batch results: CSV, JSON Lines or Parquet, chosen by the extension.

Each chunk of predictions is written (and flushed) as soon as it is ready, so memory never
holds more than one chunk and a cancelled run leaves a file that is valid up to the last
chunk: CSV and JSON Lines end on a complete line, Parquet gets its footer from ``close()``
(one row group per chunk).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from core.errors import ReviewDataError

OUTPUT_FORMATS: dict[str, str] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                                  ".parquet": "parquet"}
LIST_SEPARATOR = " "
"""Top words in a CSV cell are joined by a space (tokens never hold whitespace)."""

ERROR_COLUMNS = ("source", "row", "reason")
WRITE_ERRORS = "backslashreplace"
"""A file name that is not UTF-8 (or a lone surrogate from a JSON escape) is written as
``\\udcff`` rather than failing the run."""


def printable(text: str) -> str:
    """Text that encodes as UTF-8: lone surrogates (non-UTF-8 file names) become escapes."""
    return text.encode("utf-8", WRITE_ERRORS).decode("utf-8")


def output_format(path: str | Path) -> str:
    """'csv', 'jsonl' or 'parquet' from the output's extension, else a ReviewDataError."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ReviewDataError("the output must end in .csv, .jsonl or .parquet (the extension "
                              "picks the format)", path=str(path))
    return OUTPUT_FORMATS[suffix]


@dataclass(frozen=True)
class Column:
    """One output column; ``kind`` is 'str', 'int', 'float' or 'words' (a list of strings)."""

    name: str
    kind: str


def probability_column(class_name: str) -> str:
    return f"prob_{class_name}"


def result_columns(classes: Sequence[str], include_text: bool, explain: bool) -> list[Column]:
    """The columns of a result file, in order; fixed before the first row is written."""
    columns = [Column("source", "str"), Column("row", "int"), Column("id", "str")]
    if include_text:
        columns.append(Column("text", "str"))
    columns += [Column("predicted", "str"), Column("confidence", "float")]
    columns += [Column(probability_column(name), "float") for name in classes]
    if explain:
        columns += [Column("top_toward", "words"), Column("top_against", "words")]
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ReviewDataError("two output columns would have the same name; rename the "
                              "model's classes so that prob_<class> columns differ")
    return columns


class ResultWriter:
    """Base: ``write(columns_dict)`` appends rows given as aligned lists; ``close()`` ends."""

    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self.path = path
        self.columns = list(columns)
        self.rows_written = 0

    def write(self, data: dict[str, Sequence[Any]]) -> None:
        count = len(data[self.columns[0].name])
        if count:
            self._write(data, count)
            self.rows_written += count

    def _write(self, data: dict[str, Sequence[Any]], count: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _csv_cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "words":
        return LIST_SEPARATOR.join(value)
    if kind == "float":
        return f"{value:.6g}" if math.isfinite(value) else ""
    return value


class CsvResultWriter(ResultWriter):
    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        super().__init__(path, columns)
        self._stream: TextIO = open(path, "w", newline="", encoding="utf-8",  # noqa: SIM115
                                      errors=WRITE_ERRORS)
        self._writer = csv.writer(self._stream)
        self._writer.writerow([c.name for c in self.columns])
        self._stream.flush()

    def _write(self, data: dict[str, Sequence[Any]], count: int) -> None:
        lists = [(data[c.name], c.kind) for c in self.columns]
        self._writer.writerows([_csv_cell(values[i], kind) for values, kind in lists]
                               for i in range(count))
        self._stream.flush()

    def close(self) -> None:
        if not self._stream.closed:
            self._stream.close()


def _json_value(value: Any, kind: str) -> Any:
    if kind == "float" and value is not None:
        return round(float(value), 6) if math.isfinite(value) else None
    if kind == "words" and value is not None:
        return list(value)
    return value


class JsonLinesResultWriter(ResultWriter):
    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        super().__init__(path, columns)
        self._stream: TextIO = open(path, "w", encoding="utf-8", newline="\n",  # noqa: SIM115
                                      errors=WRITE_ERRORS)

    def _write(self, data: dict[str, Sequence[Any]], count: int) -> None:
        lists = [(c.name, data[c.name], c.kind) for c in self.columns]
        lines = (json.dumps({name: _json_value(values[i], kind) for name, values, kind in lists},
                            ensure_ascii=False) for i in range(count))
        self._stream.write("\n".join(lines) + "\n")
        self._stream.flush()

    def close(self) -> None:
        if not self._stream.closed:
            self._stream.close()


class ParquetResultWriter(ResultWriter):
    """One row group per chunk; ``close()`` writes the footer (also after a cancel)."""

    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        super().__init__(path, columns)
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        types = {"str": pa.string(), "int": pa.int64(), "float": pa.float32(),
                 "words": pa.list_(pa.string())}
        self.schema = pa.schema([pa.field(c.name, types[c.kind]) for c in self.columns])
        # through an open file: pyarrow cannot take a path whose name is not UTF-8
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._writer: Any = pq.ParquetWriter(self._file, self.schema, compression="zstd")

    def _write(self, data: dict[str, Sequence[Any]], count: int) -> None:
        arrays = [self._array(data[c.name], field.type)
                  for c, field in zip(self.columns, self.schema)]
        self._writer.write_table(self._pa.Table.from_arrays(arrays, schema=self.schema))

    def _array(self, values: Sequence[Any], kind: Any) -> Any:
        try:
            return self._pa.array(values, type=kind)
        except (UnicodeEncodeError, self._pa.ArrowException):
            if kind == self._pa.string():
                values = [None if v is None else printable(v) for v in values]
            elif kind == self._pa.list_(self._pa.string()):
                values = [None if v is None else [printable(w) for w in v] for v in values]
            return self._pa.array(values, type=kind)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if not self._file.closed:
            self._file.close()


def open_result_writer(path: str | Path, columns: Sequence[Column]) -> ResultWriter:
    """The writer for the output's extension; creates the folder; errors name the file."""
    target = Path(path)
    fmt = output_format(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            return CsvResultWriter(target, columns)
        if fmt == "jsonl":
            return JsonLinesResultWriter(target, columns)
        return ParquetResultWriter(target, columns)
    except OSError as error:
        raise ReviewDataError(f"cannot write the output ({error.strerror or error}); pick "
                              "another file or folder", path=str(target)) from None


class ErrorLog:
    """``<out>.errors.csv``: one line per row or file that could not be analysed.

    Opened on the first error only, so a clean run leaves no empty side file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.first: tuple[str, str, str] | None = None
        self._stream: TextIO | None = None
        self._writer: Any = None

    def add(self, source: str, row: int | None, reason: str) -> None:
        if self._stream is None:
            self._stream = open(self.path, "w", newline="", encoding="utf-8",  # noqa: SIM115
                                errors=WRITE_ERRORS)
            self._writer = csv.writer(self._stream)
            self._writer.writerow(ERROR_COLUMNS)
        cells = (source, "" if row is None else str(row), reason)
        self._writer.writerow(cells)
        self.count += 1
        if self.first is None:
            self.first = cells

    def flush(self) -> None:
        if self._stream is not None:
            self._stream.flush()

    def close(self) -> None:
        if self._stream is not None and not self._stream.closed:
            self._stream.close()


def read_result_preview(path: str | Path, limit: int = 200) -> tuple[list[str], list[list[str]]]:
    """The header and first ``limit`` rows of a result file, as strings, for a table view."""
    target = Path(path)
    fmt = output_format(target)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with open(target, "rb") as raw:  # a file object: the name need not be UTF-8
            handle = pq.ParquetFile(raw)
            names = handle.schema_arrow.names
            rows: list[list[str]] = []
            for batch in handle.iter_batches(batch_size=limit):
                for record in batch.to_pylist():
                    rows.append([_preview_text(record[n]) for n in names])
                break
        return names, rows[:limit]
    with open(target, encoding="utf-8", newline="") as stream:
        if fmt == "csv":
            reader = csv.reader(stream)
            header = next(reader, [])
            return header, [row for _, row in zip(range(limit), reader)]
        names, rows = [], []
        for _, line in zip(range(limit), stream):
            record = json.loads(line)
            if not names:
                names = list(record)
            rows.append([_preview_text(record.get(n)) for n in names])
        return names, rows


def rows_as_text(columns: Sequence[Column], data: dict[str, Sequence[Any]],
                 limit: int) -> list[list[str]]:
    """The first ``limit`` rows of a chunk as display strings (for a preview table)."""
    count = min(limit, len(data[columns[0].name]))
    return [[_preview_text(data[c.name][i]) for c in columns] for i in range(count)]


def _preview_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
