"""One streaming record source per file format, all yielding rows aligned with their columns.

Every source reads lazily (CSV and JSON Lines line by line, a JSON array item by item,
Parquet batch by batch) so a file of millions of reviews never has to fit in memory; only a
JSON document that wraps its reviews in an object is loaded whole. One line, field or item
is capped (``core.io.limits``), so a file without line breaks cannot grow without bound.
Everything that can go wrong while reading ends as a ``ReviewDataError`` naming the file
and the line; a fault part-way keeps every complete record before it (``records`` yields
them all, then raises the fault, which ``fault`` also keeps).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import re
import sys
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from core.errors import ReviewDataError
from core.io.encoding import (
    SAMPLE_BYTES,
    decode_sample,
    describe_binary,
    detect_encoding,
    errors_for,
)
from core.io.limits import REVIEW_ENV, ReadLimits, describe_mb

# A review can be a whole book; the csv default of 128 KiB per field is far too small. The
# limit is set per source from ReadLimits; 2**31 - 1 fits a C long everywhere (sys.maxsize
# overflows it on Windows).
_CSV_FIELD_CAP = min(sys.maxsize, 2**31 - 1)

MAX_JSON_BYTES = 1 << 30
HEAD_RECORDS = 200
PARQUET_BATCH = 4096
DELIMITERS = ",;\t|"
# csv.Sniffer's regexes take super-linear time on quote-heavy text, so it only ever sees the
# first 2 KB of a file.
SNIFF_CHARS = 2048
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"

_FORMAT_BY_SUFFIX = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".parquet": "parquet", ".txt": "text",
}
_GZIP_ABLE = (".csv", ".tsv", ".tab", ".json", ".jsonl", ".ndjson", ".txt")

SUPPORTED_SUFFIXES: tuple[str, ...] = (
    *_FORMAT_BY_SUFFIX, *(suffix + ".gz" for suffix in _GZIP_ABLE)
)


def suffixes_by_format() -> dict[str, tuple[str, ...]]:
    """Each format's suffixes, the gzipped ones after the plain ones (for file dialogs)."""
    groups: dict[str, list[str]] = {}
    for suffix, name in _FORMAT_BY_SUFFIX.items():
        groups.setdefault(name, []).append(suffix)
    return {name: (*plain, *(s + ".gz" for s in plain if s in _GZIP_ABLE))
            for name, plain in groups.items()}


# ---------------------------------------------------------------- values to strings

_INTEGRAL_FLOAT = re.compile(r"[+-]?\d+\.0*")


def cell_text(value: Any) -> str:
    """A cell as the user would write it: 4.0 -> '4', None/NaN -> '', nested -> JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def clean_label(value: Any) -> str:
    """A label, id or split value: stripped, and '4.0' read as '4' so star ratings match."""
    text = cell_text(value).strip()
    if _INTEGRAL_FLOAT.fullmatch(text):
        text = text.split(".", 1)[0]
    return text


def clean_header(names: Sequence[Any]) -> list[str]:
    """Column names that are unique and non-empty, so every column can be picked by name."""
    out: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(names):
        name = cell_text(raw).lstrip("\ufeff").strip() or f"column_{index + 1}"
        unique, k = name, 2
        while unique in seen:
            unique, k = f"{name}_{k}", k + 1
        seen.add(unique)
        out.append(unique)
    return out


# ---------------------------------------------------------------- errors


def as_review_error(exc: BaseException, path: str, line: int | None = None) -> ReviewDataError:
    """Turn whatever a reader raised into the one error type the GUI and CLI show."""
    if isinstance(exc, ReviewDataError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return ReviewDataError("file not found: check the path", path=path)
    if isinstance(exc, PermissionError):
        return ReviewDataError("permission denied: the file cannot be read", path=path)
    if isinstance(exc, IsADirectoryError):
        return ReviewDataError("this is a folder, not a file", path=path)
    if isinstance(exc, (gzip.BadGzipFile, EOFError, zlib.error)):
        return ReviewDataError(
            f"the gzip data is damaged or cut short ({exc}): compress or download it again",
            path=path, line=line)
    if isinstance(exc, csv.Error) and "field larger than field limit" in str(exc):
        return ReviewDataError(_too_long("a field on this line"), path=path, line=line)
    if isinstance(exc, csv.Error):
        return ReviewDataError(
            f"malformed CSV ({exc}): check the quotes and delimiters around this line",
            path=path, line=line)
    if isinstance(exc, RecursionError):
        return ReviewDataError(
            "the JSON is nested too deeply to read: store one flat object per review",
            path=path, line=line)
    if isinstance(exc, MemoryError):
        return ReviewDataError(
            "not enough memory to read this file: split it or use JSON Lines / CSV",
            path=path, line=line)
    if isinstance(exc, OSError):
        return ReviewDataError(f"could not read the file: {exc.strerror or exc}",
                               path=path, line=line)
    return ReviewDataError(f"could not read the file ({type(exc).__name__}: {exc})",
                           path=path, line=line)


def _too_long(what: str) -> str:
    limit = describe_mb(ReadLimits.current().review_chars)
    return (f"{what} is longer than one review may be ({limit}): the file may be damaged or "
            f"not line-based. Raise the limit with {REVIEW_ENV}=<MB> if it is real")


# ---------------------------------------------------------------- format detection


def inner_suffix(path: Path) -> str:
    """The suffix that names the format: '.csv' for both 'a.csv' and 'a.csv.gz'."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def detect_format(path: str | Path) -> str:
    """Name the format of ``path``: by suffix, by magic bytes, else by a look at the text.

    Returns one of 'csv', 'tsv', 'json', 'jsonl', 'parquet', 'text', 'folder'.
    A '.csv' that turns out to use tabs is still 'csv' here; the preview says 'tsv'.
    """
    p = Path(path)
    try:
        if p.is_dir():
            return "folder"
        with open(p, "rb") as raw:
            magic = raw.read(4)
        if magic == _PARQUET_MAGIC:
            return "parquet"
        known = _FORMAT_BY_SUFFIX.get(inner_suffix(p))
        if known == "json" and _is_json_lines(p):
            return "jsonl"  # Yelp and McAuley exports: JSON Lines named .json
        return known or _sniff_format(p)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a user-facing error
        raise as_review_error(exc, str(p)) from exc


def _is_json_lines(path: Path) -> bool:
    """True when a .json file's first line is a whole object and another object follows."""
    sample, complete, _ = read_sample(path)
    text = decode_sample(sample, detect_encoding(sample, complete), complete)
    text = text.lstrip("\ufeff \t\r\n")
    if not text.startswith("{") or "\n" not in text:
        return False
    first, rest = text.split("\n", 1)
    return _is_object(first) and rest.lstrip(" \t\r\n").startswith("{")


def _sniff_format(path: Path) -> str:
    """Guess the format of a file with an unknown suffix (like rt-polarity.pos)."""
    sample, complete, _ = read_sample(path)
    encoding = detect_encoding(sample, complete)
    text = decode_sample(sample, encoding, complete).lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        first = text.split("\n", 1)[0]
        try:
            return "jsonl" if isinstance(json.loads(first), dict) else "json"
        except (ValueError, RecursionError):
            return "json"
    delimiter = consistent_delimiter(text)
    if delimiter is None:
        return "text"
    return "tsv" if delimiter == "\t" else "csv"


def consistent_delimiter(text: str, lines: int = 20) -> str | None:
    """A delimiter that splits every one of the first lines into the same number (> 1) of
    fields; plain prose with commas fails this, a real table passes it."""
    complete = text.rsplit("\n", 1)[0] if "\n" in text else text
    for delimiter in "\t,;|":
        try:
            rows = [r for r in islice(csv.reader(io.StringIO(complete), delimiter=delimiter),
                                      lines) if r]
        except csv.Error:
            continue
        widths = {len(r) for r in rows}
        if len(rows) >= 2 and len(widths) == 1 and widths.pop() > 1:
            return delimiter
    return None


def sniff_delimiter(sample_text: str, default: str) -> str:
    """The delimiter of a table whose first line is its header.

    A header rarely holds more than one of the candidates, so it decides alone; only when
    it is ambiguous does csv.Sniffer weigh the sample, and the suffix breaks the tie.
    """
    header = next((line for line in sample_text.splitlines() if line.strip()), "")
    if len(header) == 5 and header.lower().startswith("sep="):
        return header[4]  # Excel's "sep=;" first line names the delimiter
    present = [d for d in DELIMITERS if d in header]
    if len(present) == 1:
        return present[0]
    if not present:
        return default
    head = sample_text[:SNIFF_CHARS]
    cut = head.rsplit("\n", 1)[0] if "\n" in head else head
    try:
        sniffed = csv.Sniffer().sniff(cut, delimiters="".join(present)).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed in present:
        return sniffed
    if default in present:
        return default
    return max(present, key=header.count)


# ---------------------------------------------------------------- decoded text streams


def read_sample(path: Path) -> tuple[bytes, bool, bool]:
    """The first bytes of a file (decompressed if gzip): (sample, is_whole_file, gzipped)."""
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream = io.BufferedReader(_CutTolerantGzip(raw)) if compressed else raw
        data = stream.read(SAMPLE_BYTES + 1)
    return data[:SAMPLE_BYTES], len(data) <= SAMPLE_BYTES, compressed


class _CutTolerantGzip(io.RawIOBase):
    """Gzip data that ends at the cut when a download stopped part-way, instead of losing
    the last decompressed block with an EOFError; ``cut`` then says so."""

    def __init__(self, raw: Any) -> None:
        self._gzip = gzip.GzipFile(fileobj=raw)
        self.cut = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.cut:
            return 0
        try:
            data = self._gzip.read1(len(buffer))
        except EOFError:
            self.cut = True
            return 0
        buffer[:len(data)] = data
        return len(data)


class TextStream:
    """A decoded text stream over a plain or gzip file that knows how far it has read."""

    def __init__(self, path: Path, newline: str | None) -> None:
        sample, complete, compressed = read_sample(path)
        self.compressed = compressed
        self.encoding = detect_encoding(sample, complete)
        what = describe_binary(sample, self.encoding)
        if what:
            raise ReviewDataError(
                f"this looks like {what}, not a review table. Open a CSV, TSV, JSON, JSON Lines, "
                "Parquet or text file", path=str(path))
        self.sample_text = decode_sample(sample, self.encoding, complete)
        self.size = max(1, os.path.getsize(path))
        self.path = str(path)
        self.limit = ReadLimits.current().review_chars
        self._raw = open(path, "rb")  # noqa: SIM115 - lives as long as the source
        self._gzip = _CutTolerantGzip(self._raw) if compressed else None
        binary = io.BufferedReader(self._gzip) if self._gzip is not None else self._raw
        self.text = io.TextIOWrapper(binary, encoding=self.encoding,
                                     errors=errors_for(self.encoding), newline=newline)

    def check_cut(self, line: int | None) -> None:
        """At the end of the text: raise if the gzip data stopped before its end marker."""
        if self._gzip is not None and self._gzip.cut:
            raise ReviewDataError(
                "the gzip data is cut short here (an unfinished download or copy?): every "
                "complete review before this point was read; compress or download the file "
                "again for the rest", path=self.path, line=line)

    def lines(self) -> Iterator[str]:
        """Lines with NUL characters dropped: they are never text, and old csv rejects them.

        A line longer than one review may be stops the read (named, with its line) instead
        of growing in memory: a file with no line breaks is read in bounded pieces.
        """
        readline, limit = self.text.readline, self.limit
        number = 0
        while True:
            line = readline(limit + 1)
            if not line:
                self.check_cut(number + 1)
                return
            number += 1
            if not line.endswith(("\n", "\r")) and self._gzip is not None and self._gzip.cut:
                self.check_cut(number)  # a line cut by the end of the data is not a review
            if len(line) > limit:
                raise ReviewDataError(_too_long("this line"), path=self.path, line=number)
            if "\x00" in line:
                line = line.replace("\x00", "")
            yield line

    def read(self, chars: int) -> str:
        """Up to ``chars`` more characters of text (for parsers that are not line-based)."""
        return self.text.read(chars)

    def ended_cut(self) -> bool:
        """True when the text ended because the gzip data was cut short."""
        return self._gzip is not None and self._gzip.cut

    def fraction(self) -> float:
        """Share of the file (compressed bytes for gzip) read so far."""
        try:
            return min(1.0, self._raw.tell() / self.size)
        except (OSError, ValueError):
            return 1.0

    def close(self) -> None:
        self.text.close()
        self._raw.close()


# ---------------------------------------------------------------- record sources


class LooksLikeJsonLines(Exception):
    """A .json file that holds one object per line: read it as JSON Lines instead."""


class RawRecord(NamedTuple):
    """One record: 1-based row number, physical line (if any), cell values, and either the
    file it came from (folders) or a reason it cannot be used."""

    row: int
    line: int | None
    values: Any
    source: str | None = None
    problem: str | None = None


class RecordSource:
    """Base of all sources: a header (``columns``) and a stream of aligned records.

    ``head(n)`` buffers the first records (for previews and column guesses) and
    ``records(wanted)`` replays them before going on, so a file is opened only once.
    """

    format = ""
    encoding: str | None = None
    delimiter: str | None = None
    total_rows: int | None = None  # known without reading everything (JSON, Parquet, folder)
    compressed = False

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.location = self.path  # the file being read right now (a folder's member)
        self.columns: list[str] = []
        self.line: int | None = None
        self.exhausted = False
        self.fault: ReviewDataError | None = None  # what stopped the read part-way
        self._head: list[RawRecord] = []
        self._raw: Iterator[RawRecord] | None = None

    def __enter__(self) -> RecordSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the file handle."""

    def fraction(self) -> float:
        """Share of the input read so far, for progress bars."""
        return 1.0 if self.exhausted else 0.0

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Convert anything raised while reading into a ReviewDataError at the current line."""
        try:
            yield
        except (ReviewDataError, LooksLikeJsonLines):
            raise
        except Exception as exc:  # noqa: BLE001 - the contract is one exception type
            raise as_review_error(exc, self.location, self.line) from exc

    def head(self, n: int) -> list[RawRecord]:
        """The first ``n`` records with every column, read once and kept.

        A fault after at least one record is kept in ``fault`` (the records before it are
        data); a fault before any record is raised at once.
        """
        try:
            with self.errors():
                raw = self._raw_records()
                while len(self._head) < n and not self.exhausted:
                    record = next(raw, None)
                    if record is None:
                        self.exhausted = True
                    else:
                        self._head.append(record)
        except ReviewDataError as fault:
            if not self._head:
                raise
            self.fault, self.exhausted = fault, True
        return self._head[:n]

    def records(self, wanted: Sequence[int]) -> Iterator[RawRecord]:
        """Every record, values cut down to the ``wanted`` column indices, in that order.

        When the file breaks part-way, every complete record before the fault is yielded
        first, then the fault is raised (and kept in ``fault``).
        """
        for record in self._head:
            yield record._replace(values=[record.values[i] for i in wanted])
        if not self.exhausted:
            try:
                with self.errors():
                    yield from self._rest(wanted)
            except ReviewDataError as fault:
                self.fault = fault
            self.exhausted = True
        if self.fault is not None:
            raise self.fault

    def _raw_records(self) -> Iterator[RawRecord]:
        if self._raw is None:
            self._raw = self._iter_raw()
        return self._raw

    def _rest(self, wanted: Sequence[int]) -> Iterator[RawRecord]:
        for record in self._raw_records():
            yield record._replace(values=[record.values[i] for i in wanted])

    def _iter_raw(self) -> Iterator[RawRecord]:
        raise NotImplementedError


class _TextSource(RecordSource):
    """A source reading a decoded text stream; closes it and reports bytes read."""

    def __init__(self, path: Path, newline: str | None) -> None:
        super().__init__(path)
        try:
            self._stream = TextStream(path, newline)
        except Exception as exc:  # noqa: BLE001
            raise as_review_error(exc, self.path) from exc
        self.encoding = self._stream.encoding
        self.compressed = self._stream.compressed

    def fraction(self) -> float:
        return 1.0 if self.exhausted else self._stream.fraction()

    def close(self) -> None:
        self._stream.close()


class DelimitedSource(_TextSource):
    """CSV/TSV or any delimiter, streamed with the csv module; the first row is the header."""

    def __init__(self, path: Path, suffix_format: str) -> None:
        super().__init__(path, newline="")
        csv.field_size_limit(min(_CSV_FIELD_CAP, self._stream.limit))
        default = "\t" if suffix_format == "tsv" else ","
        self.delimiter = sniff_delimiter(self._stream.sample_text, default)
        self.format = "tsv" if self.delimiter == "\t" else "csv"
        self._at_eof = False
        self._reader = csv.reader(self._lines(), delimiter=self.delimiter)
        with self.errors():
            self.columns = self._read_header()

    def _lines(self) -> Iterator[str]:
        yield from self._stream.lines()
        self._at_eof = True

    def _read_header(self) -> list[str]:
        for fields in self._reader:
            self.line = self._reader.line_num
            if self.line == 1 and self.delimiter.join(fields).lower() == f"sep={self.delimiter}":
                continue
            if any(field.strip() for field in fields):
                return clean_header(fields)
        return []

    def _iter_raw(self) -> Iterator[RawRecord]:
        width = len(self.columns)
        row = 0
        end = self._reader.line_num
        for fields in self._reader:
            start, end = end + 1, self._reader.line_num
            self.line = start
            if self._at_eof:
                # csv only reads past the last line from inside an open quoted field.
                raise ReviewDataError(
                    f"a quoted field that starts on line {start} is never closed, so the rest "
                    "of the file was read as one field. Close the quote, or write a quote "
                    'inside a quoted field as two quotes ("")', path=self.path, line=start)
            if not fields:
                continue  # a blank line is not a row
            row += 1
            yield self._record(row, start, fields, width)

    def _record(self, row: int, line: int, fields: list[str], width: int) -> RawRecord:
        problem = None
        if width == 1 and len(fields) > 1:
            fields = [self.delimiter.join(fields)]  # one column: the delimiter is just text
        if len(fields) > width:
            if any(field.strip() for field in fields[width:]):
                shown = "tab" if self.delimiter == "\t" else f"'{self.delimiter}'"
                problem = (f"line {line} has {len(fields)} fields but the header has {width}: "
                           f"put text that contains {shown} in double quotes")
            fields = fields[:width]
        elif len(fields) < width:
            fields = fields + [""] * (width - len(fields))
        return RawRecord(row, line, fields, None, problem)


class TextLinesSource(_TextSource):
    """Plain text, one review per line, no labels: the column is called 'text'."""

    format = "text"

    def __init__(self, path: Path) -> None:
        super().__init__(path, newline=None)
        self.columns = ["text"]

    def _iter_raw(self) -> Iterator[RawRecord]:
        for number, line in enumerate(self._stream.lines(), 1):
            self.line = number
            yield RawRecord(number, number, [line[:-1] if line.endswith("\n") else line])


# Every row is aligned to every column, so objects that each bring new keys would make
# reading quadratic; a review table never needs this many fields.
MAX_JSON_COLUMNS = 1000


def _keys_in_order(items: Sequence[Any]) -> list[str]:
    keys: dict[str, None] = {}
    for item in items:
        if isinstance(item, dict):
            keys.update(dict.fromkeys(item))
        elif isinstance(item, str):
            keys["text"] = None
        if len(keys) >= MAX_JSON_COLUMNS:
            break
    return clean_header(list(keys)[:MAX_JSON_COLUMNS])


def _as_object(value: Any, where: str) -> tuple[dict, str | None]:
    """A JSON value as a review object; a bare string is a review text."""
    if isinstance(value, dict):
        return value, None
    if isinstance(value, str):
        return {"text": value}, None
    kind = {list: "list", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")
    return {}, f"{where} is a JSON {kind}, not an object"


def _take_head(source: RecordSource, objects: Iterator[RawRecord]) -> list[RawRecord]:
    """The first records of a source whose columns come from its first objects; a fault among
    them keeps the ones before it (and is raised at once when there are none)."""
    first: list[RawRecord] = []
    try:
        with source.errors():
            for record in objects:
                first.append(record)
                if len(first) >= HEAD_RECORDS:
                    break
    except ReviewDataError as fault:
        if not first:
            raise
        source.fault, source.exhausted = fault, True
    return first


class _ObjectSource(_TextSource):
    """A source whose records are JSON objects (``self._objects``), read out by column name."""

    _objects: Iterator[RawRecord]

    def _align(self, record: RawRecord) -> RawRecord:
        obj = record.values
        return record._replace(values=[obj.get(name) for name in self.columns])

    def _iter_raw(self) -> Iterator[RawRecord]:
        for record in self._objects:
            yield self._align(record)


class JsonLinesSource(_ObjectSource):
    """JSON Lines: one object per line, streamed; columns come from the first objects."""

    format = "jsonl"

    def __init__(self, path: Path) -> None:
        super().__init__(path, newline=None)
        self._objects = self._iter_objects()
        first = _take_head(self, self._objects)
        self.columns = _keys_in_order([record.values for record in first])
        self._head = [self._align(record) for record in first]
        self.exhausted = self.exhausted or len(first) < HEAD_RECORDS

    def _iter_objects(self) -> Iterator[RawRecord]:
        row = 0
        for number, line in enumerate(self._stream.lines(), 1):
            self.line = number
            text = line.strip()
            if not text:
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                hint = " If the whole file is one JSON array, name it .json." if number == 1 else ""
                raise ReviewDataError(
                    f"this line is not valid JSON ({_json_msg(exc)} at column {exc.colno}). "
                    f"JSON Lines needs one complete object per line.{hint}", path=self.path,
                    line=number) from exc
            row += 1
            obj, problem = _as_object(value, f"line {number}")
            yield RawRecord(row, number, obj, None, problem)


_SPACE_CHARS = " \t\r\n\ufeff"
_NOT_SPACE = re.compile(f"[^{_SPACE_CHARS}]")
_READ_CHARS = 1 << 16


class JsonArrayItems:
    """The items of a top-level JSON array, parsed one at a time from a text stream.

    The buffer holds the item being parsed and one read ahead, so memory is bounded by the
    largest item (itself capped by the review limit), not by the file. Yields (row, line,
    value); a cut or malformed item raises a ReviewDataError with its line after every
    complete item before it.
    """

    def __init__(self, stream: TextStream, path: str) -> None:
        self.stream, self.path = stream, path
        self.buf, self.pos, self.eof = "", 0, False
        self._line, self._counted = 1, 0  # line number at offset _counted of buf
        self._column0 = 0  # column of buf[0] within its line (the buffer drops parsed text)
        self._decoder = json.JSONDecoder()

    def line_at(self, offset: int) -> int:
        if offset >= self._counted:
            self._line += self.buf.count("\n", self._counted, offset)
            self._counted = offset
        return self._line

    def _fill(self, chars: int) -> bool:
        """Drop what is parsed, read more; False at the end of the file."""
        if self.eof:
            return False
        if self.pos:
            self.line_at(self.pos)
            newline = self.buf.rfind("\n", 0, self.pos)
            self._column0 = self.pos - newline - 1 if newline >= 0 else self._column0 + self.pos
            self.buf, self._counted, self.pos = self.buf[self.pos:], 0, 0
        chunk = self.stream.read(max(_READ_CHARS, chars))
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _next_char(self) -> str:
        """The next character that is not white space ('' at the end), not consumed."""
        if self.pos < len(self.buf) and self.buf[self.pos] not in _SPACE_CHARS:
            return self.buf[self.pos]  # the common case: no white space between tokens
        while True:
            found = _NOT_SPACE.search(self.buf, self.pos)
            if found:
                self.pos = found.start()
                return self.buf[self.pos]
            self.pos = len(self.buf)
            if not self._fill(0):
                return ""

    def _fault(self, message: str, offset: int | None = None) -> ReviewDataError:
        return ReviewDataError(message, path=self.path,
                               line=self.line_at(self.pos if offset is None else offset))

    def _column(self, exc: json.JSONDecodeError) -> int:
        on_first_line = self.buf.rfind("\n", 0, exc.pos) < 0
        return exc.colno + self._column0 if on_first_line else exc.colno

    def _decode(self, row: int) -> Any:
        want = _READ_CHARS
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buf, self.pos)
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return value
            except json.JSONDecodeError as exc:
                if self.eof:
                    cut = exc.pos >= len(self.buf) - 1
                    raise self._fault(
                        f"item {row} of the list is cut short: the file ends inside it "
                        "(every item before it was read)" if cut else
                        f"not valid JSON in item {row} ({_json_msg(exc)} at column "
                        f"{self._column(exc)}): fix the file there", exc.pos) from None
            if len(self.buf) - self.pos > self.stream.limit:
                raise self._fault(_too_long(f"item {row} of the list"))
            self._fill(want)
            want *= 2

    def __iter__(self) -> Iterator[tuple[int, int, Any]]:
        if self._next_char() != "[":
            raise self._fault("expected a JSON list of reviews")
        self.pos += 1
        row = 0
        char = self._next_char()
        if char == "]":
            return
        decode = self._decoder.raw_decode
        while True:
            if not char:
                raise self._fault(f"the list of reviews ends after item {row} without its "
                                  "closing ']': the file was cut short (every item before "
                                  "was read)")
            row += 1
            line = self.line_at(self.pos)
            try:  # fast path: the item lies whole in the buffer
                value, end = decode(self.buf, self.pos)
                whole = end < len(self.buf)
            except json.JSONDecodeError:
                whole = False
            if whole:
                self.pos = end
            else:
                value = self._decode(row)
            yield row, line, value
            char = self._next_char()
            if char == ",":
                self.pos += 1
                char = self._next_char()
            elif char == "]":
                return
            elif char:
                raise self._fault(f"expected ',' or ']' after item {row} of the list")


class JsonSource(_ObjectSource):
    """A JSON array of objects, read item by item; or an object holding one
    (``{"reviews": [...]}``, pandas' column layout), which must be loaded whole: files over
    1 GB of that kind are refused with a pointer to JSON Lines.
    """

    format = "json"

    def __init__(self, path: Path) -> None:
        super().__init__(path, newline="")
        self._done = 0
        self._items: list[Any] | None = None
        if self._stream.sample_text.lstrip("\ufeff \t\r\n").startswith("["):
            self._objects = self._iter_array()
            first = _take_head(self, self._objects)
            self.columns = _keys_in_order([record.values for record in first])
            self._head = [self._align(record) for record in first]
            self.exhausted = self.exhausted or len(first) < HEAD_RECORDS
            return
        with self.errors():
            text = self._stream.read(MAX_JSON_BYTES + 1).lstrip("\ufeff")
            self._stream.check_cut(None)
            if len(text) > MAX_JSON_BYTES:
                raise ReviewDataError(
                    "this JSON file wraps its reviews in an object and is over 1 GB, too "
                    "large to load at once: save it as JSON Lines (.jsonl, one object per "
                    "line) or as one top-level list, which are read as a stream",
                    path=self.path)
            items = self._parse(text) if text.strip() else []
            del text
        self._items = items
        self.total_rows = len(items)
        self.columns = _keys_in_order(items[:HEAD_RECORDS])  # as JSON Lines: the first objects
        self._objects = self._iter_items(items)

    def _iter_array(self) -> Iterator[RawRecord]:
        for row, line, value in JsonArrayItems(self._stream, self.path):
            self.line = line
            obj, problem = _as_object(value, f"item {row}")
            yield RawRecord(row, line, obj, None, problem)

    def _iter_items(self, items: list[Any]) -> Iterator[RawRecord]:
        for row, item in enumerate(items, 1):
            self._done = row
            obj, problem = _as_object(item, f"item {row}")
            yield RawRecord(row, None, obj, None, problem)

    def _parse(self, text: str) -> list[Any]:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            first = text.lstrip().split("\n", 1)[0]
            if exc.msg == "Extra data" and exc.lineno > 1 and _is_object(first):
                raise LooksLikeJsonLines from exc
            raise ReviewDataError(
                f"not valid JSON ({_json_msg(exc)} at column {exc.colno}): fix the file there, or "
                "save one review object per line as JSON Lines (.jsonl)",
                path=self.path, line=exc.lineno) from exc
        items = find_records(document)
        if items is None:
            raise ReviewDataError(
                'no list of reviews found: expected [{"text": ..., "label": ...}, ...] or an '
                'object holding one such list, like {"reviews": [...]}', path=self.path)
        return items

    def fraction(self) -> float:
        if self._items is None:
            return super().fraction()
        return self._done / self.total_rows if self.total_rows else 1.0


def _json_msg(exc: json.JSONDecodeError) -> str:
    """json's message without a dangling 'at' ("Invalid control character at")."""
    return exc.msg.removesuffix(" at")


def _is_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


def find_records(document: Any, depth: int = 0) -> list[Any] | None:
    """The list of reviews in a JSON document: the document itself if it is a list, else
    the longest list of objects (or strings) found inside it, a few levels deep."""
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return None
    columnar = _columnar_records(document)
    if columnar is not None:
        return columnar
    best: list[Any] | None = None
    for value in document.values():
        found = None
        if isinstance(value, list) and value and all(
                isinstance(item, (dict, str)) for item in value[:20]):
            found = value
        elif isinstance(value, dict) and depth < 3:
            found = find_records(value, depth + 1)
        if found is not None and (best is None or len(found) > len(best)):
            best = found
    if best is None and depth == 0 and document and not any(
            isinstance(v, (dict, list)) for v in document.values()):
        return [document]  # a single review object
    return best


def _columnar_records(document: dict) -> list[dict] | None:
    """Rows of a column-oriented object, as pandas writes it: {"text": [...], "label": [...]}
    or {"text": {"0": ...}, "label": {"0": ...}}; None if the object is not one."""
    columns = list(document.values())
    if len(columns) < 2:
        return None
    if all(isinstance(c, list) for c in columns):
        if len({len(c) for c in columns}) != 1 or not all(
                not isinstance(v, (dict, list)) for c in columns for v in c[:20]):
            return None
        cells = columns
    elif all(isinstance(c, dict) for c in columns):
        keys = list(columns[0])
        if not keys or any(list(c) != keys for c in columns):
            return None
        cells = [[c[k] for k in keys] for c in columns]
    else:
        return None
    names = list(document)
    return [dict(zip(names, row)) for row in zip(*cells)]


class ParquetSource(RecordSource):
    """Parquet, read in record batches; after the preview only the needed columns are read."""

    format = "parquet"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
            raise ReviewDataError("reading Parquet needs pyarrow: pip install pyarrow",
                                  path=self.path) from exc
        try:
            self._file = pq.ParquetFile(path)
            names = list(self._file.schema_arrow.names)
            self.total_rows = self._file.metadata.num_rows
        except (FileNotFoundError, PermissionError) as exc:
            raise as_review_error(exc, self.path) from exc
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds
            raise ReviewDataError(
                f"not a readable Parquet file ({exc}): export it again, or save it as CSV",
                path=self.path) from exc
        self.columns = clean_header(names)
        self._projectable = self.columns == names
        self._done = 0

    def fraction(self) -> float:
        return self._done / self.total_rows if self.total_rows else 1.0

    def close(self) -> None:
        self._file.close()

    def _iter_raw(self) -> Iterator[RawRecord]:
        row = 0
        for batch in self._file.iter_batches(batch_size=PARQUET_BATCH):
            columns = [column.to_pylist() for column in batch.columns]
            for values in zip(*columns):
                row += 1
                self._done = row
                yield RawRecord(row, None, list(values))

    def _rest(self, wanted: Sequence[int]) -> Iterator[RawRecord]:
        if not self._projectable:
            yield from super()._rest(wanted)
            return
        names = [self.columns[i] for i in wanted]
        skip = len(self._head)  # already given from the preview buffer
        row = 0
        unique = list(dict.fromkeys(names))
        for batch in self._file.iter_batches(batch_size=PARQUET_BATCH, columns=unique):
            if row + batch.num_rows <= skip:
                row += batch.num_rows
                continue
            batch = batch.slice(max(0, skip - row))
            row = max(row, skip)
            # by name: one column may be wanted twice (the same column as text and id)
            by_name = {name: batch.column(name).to_pylist() for name in unique}
            for values in zip(*(by_name[name] for name in names)):
                row += 1
                self._done = row
                yield RawRecord(row, None, list(values))
