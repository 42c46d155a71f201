"""Property-based fuzzing of the readers: whatever file a user opens, the result is data or
one ReviewDataError that names the file (and the line when the fault has one); never another
exception and never a hang.

The case builders below are shared with ``bench/fuzz.py``, which runs ten thousand and more
of them; here each category runs a few dozen times so the suite stays fast.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import json
import random
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ReviewDataError
from core.io.readers import FilePreview, iter_review_chunks, preview_file, read_reviews
from core.io.table import ReviewTable

CASE_SECONDS = 20  # far above any honest read of these small files: only a hang reaches it

# ------------------------------------------------------------------------ checking one file


class CaseTimeout(BaseException):
    """A reader ran past CASE_SECONDS (BaseException: readers may not swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (main thread only; a no-op elsewhere)."""
    try:
        previous = signal.signal(signal.SIGALRM, _raise_timeout)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _raise_timeout(signum, frame) -> None:
    raise CaseTimeout()


class ReaderFault(AssertionError):
    """A broken promise: ``kind`` is 'crash', 'hang', 'unnamed file', 'no line' or 'bad data'."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


# Messages for faults that sit at one place in a line-based file: these must carry the line.
_LINE_FAULTS = ("not valid JSON", "malformed CSV", "quoted field", "is never closed")


def _check_error(error: ReviewDataError, path: Path, call: str) -> None:
    text = str(error)
    named = str(path) in text or (error.path is not None and str(error.path).startswith(
        str(path)))
    if not named or not error.message.strip():
        raise ReaderFault("unnamed file", f"{call}: {text!r}")
    if any(fault in text for fault in _LINE_FAULTS) and error.line is None:
        raise ReaderFault("no line", f"{call}: {text!r}")


def _check_table(table: ReviewTable, call: str) -> None:
    count = len(table.texts)
    aligned = [table.rows, table.sources] + [x for x in (table.labels, table.splits, table.ids)
                                             if x is not None]
    if any(len(values) != count for values in aligned):
        raise ReaderFault("bad data", f"{call}: lists of unequal length")
    if not all(isinstance(t, str) for t in table.texts):
        raise ReaderFault("bad data", f"{call}: a text that is not a string")
    for values in (table.labels, table.splits, table.ids):
        if values is not None and not all(isinstance(v, str) for v in values):
            raise ReaderFault("bad data", f"{call}: a label, split or id that is not a string")


def _check_preview(preview: FilePreview) -> None:
    if not preview.columns or preview.text_column not in preview.columns:
        raise ReaderFault("bad data", f"preview: text column {preview.text_column!r} not in "
                                      f"{preview.columns!r}")
    if any(len(row) != len(preview.columns) for row in preview.rows):
        raise ReaderFault("bad data", "preview: a row of another width than the header")
    if not all(isinstance(cell, str) for row in preview.rows for cell in row):
        raise ReaderFault("bad data", "preview: a cell that is not a string")


# The entry points under test, looked up at call time (a test swaps in broken ones).
READERS: dict[str, Callable] = {"preview_file": preview_file, "read_reviews": read_reviews,
                                "iter_review_chunks": iter_review_chunks}


def _calls(path: Path) -> list[tuple[str, Callable[[], object]]]:
    def chunks() -> list[ReviewTable]:
        return list(READERS["iter_review_chunks"]([path], chunk_size=7))

    return [("preview_file", lambda: READERS["preview_file"](path, 20)),
            ("read_reviews", lambda: READERS["read_reviews"](path)),
            ("iter_review_chunks", chunks)]


def check_file(path: Path, seconds: float = CASE_SECONDS) -> str:
    """Run every reader entry point on ``path``; 'data' or 'error' when each kept its promise.

    Raises ReaderFault otherwise.
    """
    outcomes = []
    for call, run in _calls(path):
        try:
            with time_limit(seconds):
                result = run()
        except ReviewDataError as error:
            _check_error(error, path, call)
            outcomes.append("error")
            continue
        except CaseTimeout:
            raise ReaderFault("hang", f"{call} ran over {seconds} s") from None
        except RecursionError as error:
            raise ReaderFault("crash", f"{call}: RecursionError {error}") from error
        except Exception as error:  # noqa: BLE001 - exactly what the fuzzing hunts
            raise ReaderFault("crash", f"{call}: {type(error).__name__}: {error}") from error
        if isinstance(result, FilePreview):
            _check_preview(result)
        elif isinstance(result, ReviewTable):
            _check_table(result, call)
        else:
            for chunk in result:
                _check_table(chunk, call)
        outcomes.append("data")
    return "data" if outcomes[1] == "data" else "error"


# ------------------------------------------------------------------------ building cases


@dataclass
class Case:
    """One generated input: a file (``content``) or a folder (``members``)."""

    category: str
    name: str
    content: bytes = b""
    members: dict[str, bytes] = field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        target = folder / self.name
        if self.members:
            target.mkdir(parents=True, exist_ok=True)
            for relative, data in self.members.items():
                member = target / relative
                member.parent.mkdir(parents=True, exist_ok=True)
                member.write_bytes(data)
        else:
            target.write_bytes(self.content)
        return target


HEADERS = [("text", "label"), ("review", "stars"), ("id", "sentence", "sentiment", "split"),
           ("Review Text", "Rating", "Product"), ("content",), ("text", "label", "text")]
WORDS = ["good", "bad", "film", "hotel", "not", "great", "awful", "café", "naïve", "Ω", "😀",
         "a,b", 'say "hi"', "semi;colon", "pipe|d", "tab\there", "line\nbreak", "", " ",
         "日本語", "\u200b", "\ufeff", "\r", "\\", "{", "}", "[", "]", "'"]
LABELS = ["pos", "neg", "1", "5", "3.0", "", " ", "positive", "NaN", "-1", "10/10", "null"]
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "utf-16-le", "utf-16-be",
             "utf-32", "cp1251", "shift_jis", "gb18030", "koi8-r", "mac_roman"]
SUFFIXES = [".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".parquet", ".txt", ".csv.gz",
            ".jsonl.gz", ".json.gz", ".txt.gz", ".tab", ".dat", ".pos", ""]
MAGICS = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"PK\x03\x04", b"%PDF-1.4", b"PAR1",
          b"\x1f\x8b\x08\x00", b"\x7fELF", b"SQLite format 3\x00", b"\xd0\xcf\x11\xe0", b""]


def review_text(rng: random.Random, longest: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, longest)))


def make_rows(rng: random.Random, columns: int, count: int | None = None,
              labels: list[str] | None = None) -> list[list[str]]:
    count = rng.randint(0, 25) if count is None else count
    rows = []
    for _ in range(count):
        row = [review_text(rng) for _ in range(columns)]
        if columns > 1:
            row[1] = rng.choice(labels or LABELS)
        rows.append(row)
    return rows


def csv_text(header: tuple[str, ...], rows: list[list[str]], delimiter: str = ",",
             quoting: int = csv.QUOTE_MINIMAL, end: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=end,
                        escapechar="\\" if quoting == csv.QUOTE_NONE else None)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def encode(text: str, rng: random.Random, encoding: str | None = None) -> bytes:
    encoding = encoding or rng.choice(ENCODINGS[:3])
    return text.encode(encoding, errors="replace")


def records(rng: random.Random, rows: list[list[str]], header: tuple[str, ...]) -> list[dict]:
    out = []
    for row in rows:
        record: dict = dict(zip(header, row))
        if rng.random() < 0.2 and len(header) > 1:
            record[header[1]] = rng.choice([None, 4, 4.0, True, [1, 2], {"x": 1}, float("nan")])
        if rng.random() < 0.1:
            record.pop(header[0], None)
        out.append(record)
    return out


def json_bytes(rng: random.Random, items: list, layout: str | None = None) -> bytes:
    layout = layout or rng.choice(["array", "wrapped", "columnar", "single", "strings"])
    if layout == "wrapped":
        document: object = {"meta": {"n": len(items)}, rng.choice(["reviews", "data"]): items}
    elif layout == "columnar" and items and all(isinstance(i, dict) for i in items):
        keys = list(dict.fromkeys(k for i in items for k in i))
        document = {k: [i.get(k) for i in items] for k in keys}
    elif layout == "single" and items:
        document = items[0]
    elif layout == "strings":
        document = [i.get("text", "") if isinstance(i, dict) else i for i in items]
    else:
        document = items
    return json.dumps(document, ensure_ascii=rng.random() < 0.5,
                      indent=rng.choice([None, 2])).encode("utf-8")


def jsonl_bytes(rng: random.Random, items: list) -> bytes:
    return "".join(json.dumps(item) + rng.choice(["\n", "\r\n", "\n\n"])
                   for item in items).encode("utf-8")


def parquet_bytes(rng: random.Random, header: tuple[str, ...], rows: list[list[str]],
                  odd_types: bool = False) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = list(dict.fromkeys(header))
    columns = {name: [row[i] if i < len(row) else None for row in rows]
               for i, name in enumerate(names)}
    if odd_types:
        n = len(rows)
        choice = rng.choice(["list", "struct", "binary", "null", "float", "dict", "date"])
        if choice == "list":
            columns["extra"] = [[1, 2]] * n
        elif choice == "struct":
            columns["extra"] = [{"a": 1, "b": "x"}] * n
        elif choice == "binary":
            columns[names[0]] = [bytes(rng.randrange(256) for _ in range(5)) for _ in range(n)]
        elif choice == "null":
            columns[names[-1]] = [None] * n
        elif choice == "float":
            columns[names[-1]] = [rng.choice([1.0, 4.5, float("nan"), None]) for _ in range(n)]
        elif choice == "date":
            import datetime

            columns["when"] = [datetime.date(2020, 1, 1)] * n
        table = pa.table(columns)
        if choice == "dict":
            table = table.set_column(0, names[0], table.column(0).dictionary_encode())
    else:
        table = pa.table(columns)
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=rng.choice([1, 3, 1000]))
    return sink.getvalue()


def valid_table_file(rng: random.Random, labels: list[str] | None = None,
                     count: int | None = None) -> tuple[str, bytes]:
    """(suffix, content) of a well-formed review file of any format."""
    header = rng.choice(HEADERS)
    rows = make_rows(rng, len(header), count, labels)
    kind = rng.choice(["csv", "tsv", "json", "jsonl", "parquet", "txt"])
    if kind == "csv":
        delimiter = rng.choice([",", ";", "|"])
        quoting = rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])
        return ".csv", encode(csv_text(header, rows, delimiter, quoting,
                                       rng.choice(["\n", "\r\n"])), rng)
    if kind == "tsv":
        return ".tsv", encode(csv_text(header, rows, "\t"), rng)
    if kind == "json":
        return ".json", json_bytes(rng, records(rng, rows, header))
    if kind == "jsonl":
        return ".jsonl", jsonl_bytes(rng, records(rng, rows, header))
    if kind == "parquet":
        return ".parquet", parquet_bytes(rng, header, rows)
    return ".txt", encode("\n".join(review_text(rng) for _ in range(len(rows))), rng)


def cut(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randint(0, max(len(data) - 1, 0))]


def mutate(data: bytes, rng: random.Random, times: int | None = None) -> bytes:
    """Random byte-level damage: flips, inserts, deletes and duplicated slices."""
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8) if times is None else times):
        action = rng.choice(["flip", "insert", "delete", "dup", "quote"])
        at = rng.randint(0, len(buffer))
        if action == "flip" and buffer:
            at = min(at, len(buffer) - 1)
            buffer[at] = rng.randrange(256)
        elif action == "insert":
            buffer[at:at] = rng.choice([b"\x00", b"\xff\xfe", b"\x80", b'"', b"\n", b"{",
                                        b"\xed\xa0\x80", b"\xc3", b",,,", b"\r"])
        elif action == "delete":
            del buffer[at: at + rng.randint(1, 16)]
        elif action == "dup":
            buffer[at:at] = buffer[max(0, at - 32): at]
        else:
            buffer[at:at] = b'"'
    return bytes(buffer)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


# --- one builder per category: each returns a Case -----------------------------------------


def case_truncated_csv(rng: random.Random) -> Case:
    header = rng.choice(HEADERS)
    text = csv_text(header, make_rows(rng, len(header)), rng.choice([",", "\t", ";"]),
                    rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    return Case("truncated_csv", rng.choice(["t.csv", "t.tsv"]), cut(encode(text, rng), rng))


def case_malformed_csv(rng: random.Random) -> Case:
    header = rng.choice(HEADERS)
    lines = csv_text(header, make_rows(rng, len(header))).splitlines(keepends=True)
    for _ in range(rng.randint(1, 5)):
        if not lines:
            break
        at = rng.randrange(len(lines))
        lines[at] = rng.choice([
            '"' + lines[at], lines[at].replace('"', "", 1), lines[at].rstrip("\n") + ',x,y\n',
            lines[at].split(",")[0] + "\n", 'a "quoted" middle,"x""\n', '"""\n', ',' * 50 + "\n",
            "\n", lines[at] * 3, '"unclosed,pos\n'])
    data = encode("".join(lines), rng)
    if rng.random() < 0.5:
        data = mutate(data, rng)
    return Case("malformed_csv", rng.choice(["m.csv", "m.tsv", "m.tab"]), data)


def case_wrong_delimiter(rng: random.Random) -> Case:
    header = rng.choice(HEADERS)
    rows = make_rows(rng, len(header))
    delimiters = [",", ";", "\t", "|", " ", ":", "\x1f"]
    if rng.random() < 0.5:
        text = csv_text(header, rows, rng.choice(delimiters))
    else:  # every line picks its own delimiter
        text = "".join(csv_text(tuple(r), [], rng.choice(delimiters))
                       for r in [list(header)] + rows)
    if rng.random() < 0.3:
        text = f"sep={rng.choice(delimiters)}\n" + text
    return Case("wrong_delimiter", rng.choice(["w.csv", "w.tsv", "w.txt", "w.dat"]),
                encode(text, rng))


def case_truncated_json(rng: random.Random) -> Case:
    header = rng.choice(HEADERS)
    data = json_bytes(rng, records(rng, make_rows(rng, len(header)), header))
    return Case("truncated_json", "t.json", cut(data, rng))


def case_malformed_json(rng: random.Random) -> Case:
    header = rng.choice(HEADERS)
    data = json_bytes(rng, records(rng, make_rows(rng, len(header)), header))
    choice = rng.random()
    if choice < 0.5:
        data = mutate(data, rng)
    elif choice < 0.8:
        data = rng.choice([b"42", b'"just a string"', b"null", b"true", b"{}", b"[]",
                           b"[1, 2, 3]", b"[[1], [2]]", b'{"a": 1, "b": {"c": 2}}',
                           b"NaN", b"[NaN, Infinity]", b'{"text": "x", "text": "y"}',
                           b'[{"text": "a"}, 5, null, [1], "b"]', b'{"reviews": "none"}',
                           b'{"x": [], "y": []}', b'{"text": {"0": "a"}, "label": [1]}',
                           b'{"text": ["a", "b"], "label": [1]}', b"[" + b"{}," * 30 + b"{}]"])
    else:  # JSON Lines behind a .json name, possibly damaged
        data = jsonl_bytes(rng, records(rng, make_rows(rng, len(header)), header))
        data = mutate(data, rng) if rng.random() < 0.5 else data
    if rng.random() < 0.2:
        return Case("malformed_json", "m.json.gz", gz(data))
    return Case("malformed_json", "m.json", data)


def case_malformed_jsonl(rng: random.Random) -> Case:
    header = rng.choice(HEADERS)
    lines = jsonl_bytes(rng, records(rng, make_rows(rng, len(header)), header)).split(b"\n")
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(lines))
        lines[at] = rng.choice([b"[1, 2]", b"42", b"null", b'"a string"', b"{broken",
                                b'{"text": "a"} trailing', b"", b"   ", lines[at][:5],
                                b'{"text": "\\ud800"}', b"\x00\x00", b"{}"])
    data = b"\n".join(lines)
    if rng.random() < 0.3:
        data = cut(data, rng)
    return Case("malformed_jsonl", rng.choice(["m.jsonl", "m.ndjson"]), data)


def case_parquet(rng: random.Random) -> Case:
    header = rng.choice(HEADERS)
    rows = make_rows(rng, len(header), rng.randint(0, 12))
    data = parquet_bytes(rng, header, rows, odd_types=rng.random() < 0.5)
    choice = rng.random()
    if choice < 0.35:
        data = cut(data, rng)
    elif choice < 0.7:
        data = mutate(data, rng, times=rng.randint(1, 3))
    elif choice < 0.8:
        data = b"PAR1" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
    return Case("parquet", rng.choice(["p.parquet", "p.parquet", "p.csv", "p.bin"]), data)


def case_mixed_encodings(rng: random.Random) -> Case:
    lines = [csv_text(("text", "label"), [])]
    for row in make_rows(rng, 2):
        lines.append(csv_text(tuple(row), []))
    parts = []
    for index, line in enumerate(lines):
        encoding = rng.choice(ENCODINGS)
        chunk = line.encode(encoding, errors="replace")
        if encoding.endswith("sig") or encoding in ("utf-16", "utf-32"):
            chunk = chunk if index == 0 or rng.random() < 0.3 else chunk[len(codecs.BOM):]
        parts.append(chunk)
    data = b"".join(parts)
    if rng.random() < 0.5:
        data = mutate(data, rng)
    if rng.random() < 0.2:
        data = data[:-1]  # an odd byte count breaks UTF-16
    suffix = rng.choice([".csv", ".tsv", ".txt", ".jsonl", ".json", ""])
    return Case("mixed_encodings", "e" + suffix, data)


def case_binary(rng: random.Random) -> Case:
    size = rng.choice([1, 7, 64, 1000, 70_000])
    data = rng.choice(MAGICS) + bytes(rng.randrange(256) for _ in range(size))
    return Case("binary", "b" + rng.choice(SUFFIXES), data)


def case_empty(rng: random.Random) -> Case:
    data = rng.choice([b"", b" ", b"\n", b"\r\n\r\n", b"\t\n", codecs.BOM_UTF8,
                       codecs.BOM_UTF16_LE, codecs.BOM_UTF8 + b"\n", b"\x00", b"\x00" * 10,
                       gz(b""), gz(b"\n")])
    return Case("empty", "e" + rng.choice(SUFFIXES), data)


def case_header_only(rng: random.Random) -> Case:
    header = rng.choice(HEADERS)
    choice = rng.choice(["csv", "tsv", "json", "jsonl", "parquet"])
    if choice in ("csv", "tsv"):
        data = encode(csv_text(header, [], "," if choice == "csv" else "\t",
                               end=rng.choice(["\n", "", "\r\n"])), rng)
        data += rng.choice([b"", b"\n\n\n", b",,\n,,\n"])
    elif choice == "json":
        data = rng.choice([b"[]", b"{}", b'{"reviews": []}', b"[{}]", b"[{}, {}]",
                           b'{"text": [], "label": []}'])
    elif choice == "jsonl":
        data = rng.choice([b"{}\n", b"\n\n", b"{}\n{}\n"])
    else:
        data = parquet_bytes(rng, header, [])
    return Case("header_only", "h." + choice, data)


def case_one_class(rng: random.Random) -> Case:
    suffix, data = valid_table_file(rng, labels=[rng.choice(["pos", "5", "1"])])
    return Case("one_class", "o" + suffix, data)


def case_labels_missing(rng: random.Random) -> Case:
    suffix, data = valid_table_file(rng, labels=[rng.choice(["", " ", "NaN", "null"])])
    return Case("labels_missing", "l" + suffix, data)


def case_huge_lines(rng: random.Random, scale: int = 1) -> Case:
    size = rng.randint(50_000, 400_000) * scale
    word = rng.choice(["good ", "x", "é", "a,b ", '""', "\t"])
    text = (word * (size // len(word) + 1))[:size]
    choice = rng.choice(["csv", "jsonl", "json", "txt", "quoted"])
    if choice == "csv":
        data = encode(csv_text(("text", "label"), [[text, "pos"], ["short", "neg"]]), rng)
    elif choice == "jsonl":
        data = jsonl_bytes(rng, [{"text": text, "label": "pos"}, {"text": "b", "label": "neg"}])
    elif choice == "json":
        data = json_bytes(rng, [{"text": text, "label": "pos"}], "array")
    elif choice == "txt":
        data = encode(text + "\nshort\n", rng)
    else:  # a quoted field over thousands of lines, never closed
        data = b'text,label\n"' + b"line\n" * (size // 5)
        choice = "csv"
    return Case("huge_lines", "u." + choice, data)


def case_nul_bytes(rng: random.Random) -> Case:
    suffix, data = valid_table_file(rng)
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 30)):
        at = rng.randint(0, len(buffer))
        buffer[at:at] = b"\x00" * rng.randint(1, 4)
    return Case("nul_bytes", "n" + suffix, bytes(buffer))


def case_deep_json(rng: random.Random) -> Case:
    depth = rng.choice([10, 500, 990, 1_100, 5_000, 100_000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    nested = opener * depth + "1" + closer * depth
    if rng.random() < 0.3:
        nested = opener * depth  # never closed
    choice = rng.choice(["document", "field", "jsonl"])
    if choice == "document":
        return Case("deep_json", "d.json", nested.encode())
    record = '{"text": "fine", "label": "pos", "extra": ' + nested + "}"
    if choice == "field":
        return Case("deep_json", "d.json", ("[" + record + "]").encode())
    return Case("deep_json", "d.jsonl", (record + "\n" + record + "\n").encode())


def case_gzip(rng: random.Random) -> Case:
    suffix, data = valid_table_file(rng)
    if suffix == ".parquet":
        suffix = ".csv"
    choice = rng.choice(["truncated", "damaged", "plain", "double", "garbage"])
    if choice == "truncated":
        data = cut(gz(data), rng)
    elif choice == "damaged":
        data = mutate(gz(data), rng, times=rng.randint(1, 3))
    elif choice == "double":
        data = gz(gz(data))
    elif choice == "garbage":
        data = gz(bytes(rng.randrange(256) for _ in range(rng.randint(0, 3000))))
    return Case("gzip", "g" + suffix + ".gz", data)


def case_unknown_suffix(rng: random.Random) -> Case:
    suffix, data = valid_table_file(rng)
    if rng.random() < 0.5:
        data = mutate(data, rng)
    return Case("unknown_suffix", "x" + rng.choice([".pos", ".neg", ".dat", "", ".CSV", ".Json",
                                                     ".txt.bak"]), data)


def case_quote_storm(rng: random.Random) -> Case:
    """Quotes and delimiters in long alternation under an ambiguous header: the input that
    sends csv.Sniffer's regexes into super-linear time."""
    header = rng.choice(["text,label;x|y", "a;b,c", "review|stars;id,x", "t\tl,x"])
    unit = rng.choice([',"', ',"x', "',", ' "', '"a",', ';"', "|'", '""', '\t"'])
    body = unit * (rng.randint(100, 65_000) // len(unit))
    return Case("quote_storm", "q" + rng.choice([".csv", ".tsv", ".txt", ".dat"]),
                (header + "\n" + body + rng.choice(["", "\n"])).encode())


def case_wide(rng: random.Random) -> Case:
    """Objects that each bring new keys, or very wide rows: column counts in the thousands."""
    count = rng.randint(1, 600)
    unique = rng.random() < 0.5
    items = [{"text": f"good film {i}", **({f"id_{i}": i} if unique else
                                           {f"k{j}": "x" for j in range(rng.randint(1, 40))})}
             for i in range(count)]
    choice = rng.choice(["json", "jsonl", "csv"])
    if choice == "json":
        return Case("wide", "w.json", json.dumps(items).encode())
    if choice == "jsonl":
        return Case("wide", "w.jsonl", jsonl_bytes(rng, items))
    width = rng.randint(100, 2000)
    header = tuple(["text"] + [f"c{i}" for i in range(width)])
    rows = [["good film"] + ["1"] * width for _ in range(rng.randint(0, 20))]
    return Case("wide", "w.csv", csv_text(header, rows).encode())


def case_folder(rng: random.Random) -> Case:
    members: dict[str, bytes] = {}
    for index in range(rng.randint(1, 6)):
        where = rng.choice(["", "pos/", "neg/", "train/pos/", "test/neg/", "unsup/", ".hidden/",
                            "a/b/c/"])
        data = rng.choice([b"", b"\x00\x01\x02" * 20, b"fine film", "café".encode("cp1252"),
                           "ok".encode("utf-16"), b"\xff\xfe\xfd", b"line\n" * 3])
        name = rng.choice([f"{index}_7.txt", f"r{index}.TXT", f"{index}.csv", f"{index}.jsonl",
                           f".{index}.txt", f"{index}.md"])
        if name.endswith(".csv") or name.endswith(".jsonl"):
            data = mutate(data, rng) if rng.random() < 0.5 else data
        members[where + name] = data
    return Case("folder", "folder", members=members)


CATEGORIES: dict[str, Callable[[random.Random], Case]] = {
    "truncated_csv": case_truncated_csv,
    "malformed_csv": case_malformed_csv,
    "wrong_delimiter": case_wrong_delimiter,
    "truncated_json": case_truncated_json,
    "malformed_json": case_malformed_json,
    "malformed_jsonl": case_malformed_jsonl,
    "parquet": case_parquet,
    "mixed_encodings": case_mixed_encodings,
    "binary": case_binary,
    "empty": case_empty,
    "header_only": case_header_only,
    "one_class": case_one_class,
    "labels_missing": case_labels_missing,
    "huge_lines": case_huge_lines,
    "nul_bytes": case_nul_bytes,
    "deep_json": case_deep_json,
    "gzip": case_gzip,
    "unknown_suffix": case_unknown_suffix,
    "folder": case_folder,
    "quote_storm": case_quote_storm,
    "wide": case_wide,
}


def run_case(case: Case, folder: Path, seconds: float = CASE_SECONDS) -> str:
    """Write ``case`` under ``folder`` and check it; returns 'data' or 'error'."""
    path = case.write(folder)
    try:
        return check_file(path, seconds)
    finally:
        if path.is_dir():
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


# ------------------------------------------------------------------------ the bounded suite

FAST = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_category_ends_in_data_or_a_named_error(tmp_path, category):
    builder = CATEGORIES[category]

    @FAST
    @given(rng=st.randoms(use_true_random=False))
    def check(rng: random.Random) -> None:
        run_case(builder(rng), tmp_path)

    check()


@FAST
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_bytes_under_any_name(tmp_path, data, suffix):
    run_case(Case("bytes", "f" + suffix, data), tmp_path)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["text", "label", "review", "stars", "id", "x", ""])
                      | st.text(max_size=5), children, max_size=4),
    max_leaves=25)


@FAST
@given(document=_json_values, suffix=st.sampled_from([".json", ".jsonl", ".json.gz"]))
def test_any_json_document(tmp_path, document, suffix):
    text = json.dumps(document, allow_nan=True)
    if suffix == ".jsonl" and isinstance(document, list):
        text = "\n".join(json.dumps(item, allow_nan=True) for item in document)
    data = text.encode("utf-8")
    run_case(Case("json", "j" + suffix, gz(data) if suffix.endswith(".gz") else data), tmp_path)


_cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)


@FAST
@given(header=st.lists(_cells, min_size=1, max_size=4),
       rows=st.lists(st.lists(_cells, max_size=5), max_size=8),
       delimiter=st.sampled_from([",", ";", "\t", "|"]),
       encoding=st.sampled_from(["utf-8", "utf-16", "cp1252", "utf-8-sig"]),
       cut_at=st.none() | st.integers(0, 2000))
def test_any_table_of_any_text(tmp_path, header, rows, delimiter, encoding, cut_at):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode(encoding, errors="replace")
    if cut_at is not None:
        data = data[:cut_at]
    run_case(Case("table", "t.csv", data), tmp_path)


# ------------------------------------------------------------------------ the checker is honest


def test_the_checker_catches_a_crash_a_hang_and_an_unnamed_file(tmp_path, monkeypatch):
    """The fuzzing can fail: a reader that breaks each promise is reported as such."""
    path = tmp_path / "r.csv"
    path.write_text("text,label\ngood,pos\n", encoding="utf-8")
    assert check_file(path) == "data"

    def crash(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setitem(READERS, "preview_file", crash)
    with pytest.raises(ReaderFault, match="crash"):
        check_file(path)

    def hang(*args, **kwargs):
        while True:
            pass

    monkeypatch.setitem(READERS, "preview_file", hang)
    with pytest.raises(ReaderFault, match="hang"):
        check_file(path, seconds=0.2)

    def unnamed(*args, **kwargs):
        raise ReviewDataError("something went wrong")

    monkeypatch.setitem(READERS, "preview_file", unnamed)
    with pytest.raises(ReaderFault, match="unnamed file"):
        check_file(path)


def test_delimiter_sniffing_stays_fast_on_a_quote_storm(tmp_path):
    """Regression: 60 KB of ',\"' under a header with two delimiters took over a minute."""
    path = tmp_path / "storm.csv"
    path.write_text("text,label;x|y\n" + ',"' * 30_000, encoding="utf-8")
    check_file(path, seconds=5)


def test_json_objects_that_each_bring_a_new_key_read_in_linear_time(tmp_path):
    """Regression: every row was aligned to the union of all keys (8,000 items took 35 s)."""
    path = tmp_path / "unique_keys.json"
    path.write_text(json.dumps([{"text": f"good film {i}", f"id_{i}": i} for i in range(20_000)]),
                    encoding="utf-8")
    with time_limit(30):
        table = read_reviews(path, label_column="")
    assert len(table) == 20_000


def test_named_errors_carry_their_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "a", "label": "pos"}\n{"text": oops}\n')
    with pytest.raises(ReviewDataError) as caught:
        read_reviews(path)
    assert caught.value.line == 2 and str(path) in str(caught.value)
    assert check_file(path) == "error"
