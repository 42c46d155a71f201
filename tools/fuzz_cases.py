"""Generated bad inputs for the reader fuzzing, shared by ``tests/core/test_reader_fuzz.py``
(a few dozen per category, in CI) and ``bench/fuzz.py`` (as many as asked).

Core-free on purpose: this module only builds bytes and folders; ``tools.fuzz_check`` runs
the readers on them and judges the outcome.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


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


# --- truncated final records: every complete record before the cut must survive ----------

CUT_FORMATS = ("csv", "tsv", "jsonl", "json")


def cut_final_record(fmt: str, data: bytes) -> bytes:
    """``data`` (a well-formed file of ``fmt`` whose last record is a review) with its last
    record cut so that reading it is a fatal fault: an unclosed quote for CSV/TSV, half a
    line for JSON Lines, half an item and no closing bracket for a JSON array."""
    if fmt in ("csv", "tsv"):
        body = data.rstrip(b"\r\n")
        start = body.rfind(b"\n") + 1
        last = body[start:]
        return body[:start] + b'"' + last[: max(1, len(last) // 2)]
    if fmt == "jsonl":
        body = data.rstrip(b"\r\n")
        start = body.rfind(b"\n") + 1
        return body[: start + max(1, (len(body) - start) // 2)]
    if fmt == "json":
        start = data.rfind(b"{")
        end = data.rfind(b"}")
        return data[: start + max(1, (end - start) // 2)]
    raise ValueError(f"no fatal cut for {fmt}")


def case_truncated_final(rng: random.Random) -> tuple[Case, int]:
    """A file of any line format (gzipped or not) whose final record is cut; returns the case
    and how many complete reviews come before the cut."""
    fmt = rng.choice(CUT_FORMATS)
    count = rng.randint(1, 40)
    texts = [f"review {i} " + " ".join(rng.choice(WORDS[:9]) for _ in range(5))
             for i in range(count + 1)]
    items = [{"text": t, "label": rng.choice(["pos", "neg"])} for t in texts]
    if fmt in ("csv", "tsv"):
        data = csv_text(("text", "label"), [[i["text"], i["label"]] for i in items],
                        "," if fmt == "csv" else "\t").encode()
    elif fmt == "jsonl":
        data = "".join(json.dumps(i) + "\n" for i in items).encode()
    else:
        data = json.dumps(items, indent=rng.choice([None, 1])).encode()
    data = cut_final_record(fmt, data)
    name = "cut." + fmt
    if rng.random() < 0.3:
        data, name = gz(data), name + ".gz"
    return Case("truncated_final", name, data), count


# --- gzip bombs: small on disk, huge when expanded ------------------------------------------

BOMB_SHAPES = ("one_line", "many_rows", "json_array")
_BOMB_REVIEW = ("a long and careful review of the hotel: the room was clean, the staff "
                "friendly, breakfast fine, the street noisy at night; ") * 3


def _member(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def gzip_bomb(path: Path, shape: str, expanded_mb: int = 400) -> int:
    """Write a multi-member gzip file that expands to about ``expanded_mb`` MB; returns the
    expanded size in bytes. One 1 MB block is compressed once and its member repeated, so
    building even a large bomb takes milliseconds.

    ``one_line``: a single line with no line break; ``many_rows``: a CSV of ordinary reviews;
    ``json_array``: one JSON list of review objects.
    """
    block_size = 1 << 20
    if shape == "one_line":
        head, unit = b"", b"x" * 1024
    elif shape == "many_rows":
        head, unit = b"text,label\n", f'"{_BOMB_REVIEW}",pos\n'.encode()
    elif shape == "json_array":
        head = b"["
        unit = (json.dumps({"text": _BOMB_REVIEW, "label": "pos"}) + ",\n").encode()
    else:
        raise ValueError(f"unknown bomb shape {shape}")
    block = unit * (block_size // len(unit))
    member = _member(block)
    blocks = max(1, expanded_mb)
    with open(path, "wb") as out:
        if head:
            out.write(_member(head))
        for _ in range(blocks):
            out.write(member)
    return len(head) + blocks * len(block)
