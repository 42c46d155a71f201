"""Reading review files: formats, encodings, folders, guesses, errors and streaming."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ReviewDataError
from core.io.encoding import SAMPLE_BYTES
from core.io.readers import (
    SUPPORTED_SUFFIXES,
    ReadCancelled,
    detect_format,
    iter_review_chunks,
    preview_file,
    read_reviews,
)

ROWS = [("A fine film, warm and funny.", "pos"), ("Dull; far too long.", "neg"),
        ("Loved every minute.", "pos"), ("Not worth the ticket.", "neg")]


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def table_text(rows, header=("text", "label"), delimiter=",", end="\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=end)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# ---------------------------------------------------------------- formats


def test_csv_reads_texts_labels_rows_and_guesses(tmp_path):
    path = write(tmp_path / "r.csv", table_text(ROWS))
    table = read_reviews(path)
    assert table.texts == [t for t, _ in ROWS]
    assert table.labels == [lab for _, lab in ROWS]
    assert table.rows == [1, 2, 3, 4]
    assert table.sources == [str(path)] * 4
    assert (table.text_column, table.label_column) == ("text", "label")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected(tmp_path, delimiter):
    path = write(tmp_path / "r.csv", table_text(ROWS, delimiter=delimiter))
    preview = preview_file(path)
    assert preview.delimiter == delimiter
    assert preview.format == ("tsv" if delimiter == "\t" else "csv")
    assert read_reviews(path).texts[1] == "Dull; far too long."


def test_tsv(tmp_path):
    path = write(tmp_path / "r.tsv", "sentence\tlabel\ngood stuff , really \t1\nbad \t0\n")
    table = read_reviews(path)
    assert table.texts == ["good stuff , really ", "bad "] and table.labels == ["1", "0"]
    assert detect_format(path) == "tsv"


def test_json_array_and_object_holding_one(tmp_path):
    items = [{"review": t, "stars": float(i + 1)} for i, (t, _) in enumerate(ROWS)]
    plain = write(tmp_path / "a.json", json.dumps(items))
    wrapped = write(tmp_path / "b.json", json.dumps({"meta": {"n": 4}, "reviews": items}))
    for path in (plain, wrapped):
        table = read_reviews(path)
        assert table.texts == [t for t, _ in ROWS]
        assert table.labels == ["1", "2", "3", "4"]  # 1.0 -> "1"
        assert table.label_column == "stars"


@pytest.mark.parametrize("orient", ["list", "columns"])
def test_column_oriented_json(tmp_path, orient):
    columns = {"text": [t for t, _ in ROWS], "label": [lab for _, lab in ROWS]}
    if orient == "columns":  # pandas' default: {"text": {"0": ...}, ...}
        columns = {k: {str(i): v for i, v in enumerate(vs)} for k, vs in columns.items()}
    table = read_reviews(write(tmp_path / "r.json", json.dumps(columns)))
    assert table.texts == [t for t, _ in ROWS] and table.labels == [lab for _, lab in ROWS]


def test_one_column_csv_keeps_unquoted_commas_and_excel_sep_line(tmp_path):
    one = read_reviews(write(tmp_path / "a.csv", "review\nfine, really fine\nbad\n"))
    assert one.texts == ["fine, really fine", "bad"] and not one.skipped
    excel = write(tmp_path / "b.csv", "sep=;\n" + table_text(ROWS, delimiter=";"))
    assert preview_file(excel).delimiter == ";"
    assert read_reviews(excel).texts == [t for t, _ in ROWS]


def test_json_lines_and_json_named_file_holding_lines(tmp_path):
    lines = "".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in ROWS)
    for name in ("r.jsonl", "r.json"):
        table = read_reviews(write(tmp_path / name, lines + "\n"))
        assert table.texts == [t for t, _ in ROWS] and table.labels[0] == "pos"
    assert preview_file(tmp_path / "r.json").format == "jsonl"


def test_plain_text_one_review_per_line(tmp_path):
    path = write(tmp_path / "r.txt", "first review \n\nsecond, with a comma\n")
    table = read_reviews(path)
    assert table.texts == ["first review ", "second, with a comma"]
    assert table.labels is None and table.rows == [1, 3]
    assert [s.row for s in table.skipped] == [2]


def test_unknown_suffix_is_sniffed(tmp_path):
    prose = write(tmp_path / "r.pos", "a film , a bit long , fine .\nbad , bad film .\nok\n")
    table_file = write(tmp_path / "r.dat", table_text(ROWS, delimiter=";"))
    assert detect_format(prose) == "text"
    assert detect_format(table_file) == "csv"
    assert read_reviews(table_file).labels == [lab for _, lab in ROWS]


def test_parquet_round_trip_in_batches(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    n = 450  # more rows than the preview buffer, over several row groups
    data = {"id": [f"r{i}" for i in range(n)],
            "body": [f"review number {i} " * 3 for i in range(n)],
            "rating": [float(i % 5 + 1) for i in range(n)], "extra": list(range(n))}
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table(data), path, row_group_size=100)
    preview = preview_file(path, n=5)
    guessed = (preview.text_column, preview.label_column, preview.id_column)
    assert guessed == ("body", "rating", "id")
    assert preview.total_rows_hint == n and len(preview.rows) == 5
    table = read_reviews(path)
    assert table.texts == data["body"] and table.ids == data["id"]
    assert table.labels[:3] == ["1", "2", "3"] and table.rows[-1] == n


@pytest.mark.parametrize("suffix", [".csv.gz", ".jsonl.gz", ".txt.gz", ".json.gz"])
def test_gzip_variants(tmp_path, suffix):
    content = {
        ".csv.gz": table_text(ROWS),
        ".jsonl.gz": "".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in ROWS),
        ".txt.gz": "".join(t + "\n" for t, _ in ROWS),
        ".json.gz": json.dumps([{"text": t, "label": lab} for t, lab in ROWS]),
    }[suffix]
    path = write(tmp_path / f"r{suffix}", gzip.compress(content.encode()))
    assert read_reviews(path).texts == [t for t, _ in ROWS]


def test_a_cut_gzip_keeps_every_complete_review_and_names_the_cut(tmp_path):
    rows = [(f"review number {i} " + "word " * (i % 13), "pos") for i in range(3000)]
    data = gzip.compress(table_text(rows).encode())
    path = write(tmp_path / "r.csv.gz", data[: len(data) // 2])
    table = read_reviews(path)
    expected = [t for t, _ in rows]
    assert 0 < len(table) < len(rows) and table.texts == expected[: len(table)]
    assert "cut short" in table.fault and table.skipped[-1].row == len(table) + 2


def test_damaged_gzip_is_a_clear_error(tmp_path):
    data = bytearray(gzip.compress(table_text(ROWS * 200).encode()))
    data[20:40] = bytes(20)  # damaged inside the first block: nothing can be read
    path = write(tmp_path / "r.csv.gz", bytes(data))
    with pytest.raises(ReviewDataError, match="gzip data is damaged"):
        read_reviews(path)


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"),
    ("utf-16-le", "utf-16-le"), ("cp1252", "cp1252")])
def test_encodings(tmp_path, encoding, expected):
    rows = [("Café crème, naïve — “great”", "pos"), ("Pas terrible… déçu", "neg")] * 3
    path = write(tmp_path / "r.csv", table_text(rows), encoding=encoding)
    preview = preview_file(path)
    assert preview.encoding == expected
    assert preview.columns == ["text", "label"]  # no BOM left on the first header name
    assert read_reviews(path).texts == [t for t, _ in rows]


def test_sample_cut_inside_a_character_is_still_utf8(tmp_path):
    header = "text,label\n"
    filler = "x" * (SAMPLE_BYTES - len(header) - 1)  # 'é' straddles the sample's end
    path = write(tmp_path / "r.csv", f"{header}{filler}é,pos\n")
    assert preview_file(path).encoding == "utf-8"
    assert read_reviews(path).texts[0].endswith("xé")


def test_stray_cp1252_byte_after_the_sample_does_not_crash(tmp_path):
    head = table_text([("plain ascii review", "pos")] * 4000).encode()
    assert len(head) > SAMPLE_BYTES
    path = write(tmp_path / "r.csv", head + "caf\xe9 ok,neg\n".encode("cp1252"))
    assert read_reviews(path).texts[-1] == "café ok"


def test_nul_bytes_are_dropped(tmp_path):
    path = write(tmp_path / "r.csv", b"text,label\ngo\x00od,pos\nbad,neg\n")
    assert read_reviews(path).texts == ["good", "bad"]


# ---------------------------------------------------------------- folders


def make_imdb_folder(root: Path) -> None:
    for split in ("train", "test"):
        for label in ("pos", "neg"):
            for name in ("10_9", "2_8", "1_3"):
                write(root / split / label / f"{name}.txt", f"{split} {label} {name}\n")
    write(root / "train" / "urls_pos.txt", "http://example.org\n")
    write(root / "README", "not a review")


def test_folder_layout_with_split(tmp_path):
    make_imdb_folder(tmp_path / "aclImdb")
    table = read_reviews(tmp_path / "aclImdb")
    assert len(table) == 12
    assert table.ids[:3] == ["1_3", "2_8", "10_9"]  # natural order
    assert table.texts[0] == "test neg 1_3" and table.labels[0] == "neg"
    assert set(table.splits) == {"train", "test"} and set(table.labels) == {"pos", "neg"}
    assert table.sources[0].endswith("1_3.txt") and table.rows[:2] == [1, 2]
    assert [Path(s.source).name for s in table.skipped] == ["urls_pos.txt"]
    preview = preview_file(tmp_path / "aclImdb")
    assert preview.format == "folder" and preview.total_rows_hint == 12
    assert (preview.label_column, preview.split_column, preview.id_column) == (
        "label", "split", "id")


def test_folder_without_split_and_flat_folder(tmp_path):
    for label in ("neg", "pos"):
        write(tmp_path / "labelled" / label / "a.txt", f"a {label} review")
    write(tmp_path / "flat" / "one.txt", "first")
    write(tmp_path / "flat" / "two.txt", "second")
    labelled = read_reviews(tmp_path / "labelled")
    assert labelled.labels == ["neg", "pos"] and labelled.splits is None
    flat = read_reviews(tmp_path / "flat")
    assert flat.texts == ["first", "second"] and flat.labels is None


def test_folder_of_tables_only_explains_itself(tmp_path):
    write(tmp_path / "f" / "a.csv", table_text(ROWS))
    with pytest.raises(ReviewDataError, match="no .txt reviews.*a.csv"):
        read_reviews(tmp_path / "f")


# ---------------------------------------------------------------- guesses and overrides


def test_guesses_label_scale_split_and_id(tmp_path):
    rows = [(str(i), f"review text number {i} that is long enough", str(i % 5 + 1),
             "train" if i % 3 else "test", "x") for i in range(40)]
    header = ("review_id", "comments", "score_value", "split", "lang")
    preview = preview_file(write(tmp_path / "r.csv", table_text(rows, header)))
    assert preview.text_column == "comments"
    assert preview.label_column == "score_value"  # numbers 1-5, no label-like name
    assert preview.split_column == "split" and preview.id_column == "review_id"
    assert preview.total_rows_hint == 40 and preview.rows[0][0] == "0"


def test_no_label_guessed_for_texts_only(tmp_path):
    rows = [(f"text {i} " * 5, f"user{i}") for i in range(30)]
    assert preview_file(write(tmp_path / "r.csv", table_text(rows, ("text", "author")))
                        ).label_column is None


def test_overrides_match_case_insensitively_and_empty_means_none(tmp_path):
    path = write(tmp_path / "r.csv", table_text([(t, lab, "x") for t, lab in ROWS],
                                                ("Review", "Sentiment", "note")))
    table = read_reviews(path, text_column="review", label_column="")
    assert table.labels is None and table.text_column == "Review"
    table = read_reviews(path, text_column="NOTE", label_column="sentiment")
    assert table.texts == ["x"] * 4 and table.label_column == "Sentiment"


def test_missing_column_names_file_column_and_choices(tmp_path):
    path = write(tmp_path / "r.csv", table_text(ROWS))
    with pytest.raises(ReviewDataError) as info:
        read_reviews(path, label_column="stars")
    message = str(info.value)
    assert str(path) in message and "'stars'" in message and "'text', 'label'" in message
    assert info.value.column == "stars"


# ---------------------------------------------------------------- bad rows and bad files


def test_empty_text_and_missing_label_rows_are_skipped_and_counted(tmp_path):
    rows = [("good", "pos"), ("   ", "neg"), ("no label here", ""), ("bad", "neg")]
    table = read_reviews(write(tmp_path / "r.csv", table_text(rows)))
    assert table.texts == ["good", "bad"] and table.rows == [1, 4]
    assert [(s.row, s.reason.split(" ")[0]) for s in table.skipped] == [(2, "empty"), (3, "no")]
    assert "line 3" in table.skipped[0].reason


def test_row_with_extra_fields_is_skipped_with_its_line(tmp_path):
    path = write(tmp_path / "r.csv", "text,label\ngood,pos\nbad, sad,neg\nok,pos,\n")
    table = read_reviews(path)
    assert table.texts == ["good", "ok"]
    assert "line 3 has 3 fields" in table.skipped[0].reason


def _stopped_at(table, line: int, words: str) -> None:
    """The read kept what came before a fault, and says where and why it stopped."""
    assert table.fault is not None and words in table.fault and f"line {line}" in table.fault
    assert table.skipped[-1].row == line and words in table.skipped[-1].reason


def test_unclosed_quote_names_its_line(tmp_path):
    path = write(tmp_path / "r.csv", 'text,label\ngood,pos\n"broken,neg\nfine,pos\n')
    table = read_reviews(path)
    assert table.texts == ["good"]
    _stopped_at(table, 3, "never closed")
    with pytest.raises(ReviewDataError, match="never closed") as info:
        read_reviews(write(tmp_path / "s.csv", 'text,label\n"broken,neg\nfine,pos\n'))
    assert info.value.line == 2 and str(tmp_path / "s.csv") in str(info.value)


def test_malformed_json_names_line_and_column(tmp_path):
    path = write(tmp_path / "r.json", '[\n {"text": "a", "label": "pos"},\n {"text": }\n]')
    table = read_reviews(path)
    assert table.texts == ["a"]
    _stopped_at(table, 3, "not valid JSON")
    assert "column 11" in table.fault


def test_malformed_json_line_names_its_line(tmp_path):
    path = write(tmp_path / "r.jsonl", '{"text": "a", "label": "pos"}\n\n{"text": "b",\n')
    table = read_reviews(path)
    assert table.texts == ["a"]
    _stopped_at(table, 3, "not valid JSON")


def test_deeply_nested_json_is_a_data_error(tmp_path):
    path = write(tmp_path / "r.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ReviewDataError, match="nested too deeply"):
        read_reviews(path)


@pytest.mark.parametrize("content,message", [
    (b"", "the file is empty"), (b"text,label\n", "the file has a header .* but no rows"),
    (b"text,label\n ,pos\n", "all 1 rows were skipped")])
def test_no_reviews(tmp_path, content, message):
    with pytest.raises(ReviewDataError, match=f"no reviews: {message}"):
        read_reviews(write(tmp_path / "r.csv", content))


def test_binary_file_renamed_csv(tmp_path):
    path = write(tmp_path / "r.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(ReviewDataError, match="PNG image"):
        preview_file(path)
    other = write(tmp_path / "s.csv", bytes(range(256)) * 40)
    with pytest.raises(ReviewDataError, match="binary"):
        read_reviews(other)


def test_missing_file(tmp_path):
    with pytest.raises(ReviewDataError, match="file not found"):
        read_reviews(tmp_path / "nope.csv")


def test_huge_field(tmp_path):
    text = "word " * 100_000  # beyond the csv module's default field limit
    assert read_reviews(write(tmp_path / "r.csv", table_text([(text, "pos")]))).texts == [text]


# ---------------------------------------------------------------- progress, cancel, limits


def test_progress_cancel_and_max_rows(tmp_path):
    path = write(tmp_path / "r.csv", table_text(ROWS * 1000))
    seen: list[float] = []
    assert len(read_reviews(path, progress=seen.append)) == 4000
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3
    with pytest.raises(ReadCancelled, match="cancelled"):
        read_reviews(path, cancel=lambda: True)
    assert len(read_reviews(path, max_rows=10)) == 10


# ---------------------------------------------------------------- streaming


def test_iter_review_chunks_over_files_and_folder(tmp_path):
    big = write(tmp_path / "a.csv", table_text([(f"a{i}", "pos") for i in range(25)]
                                                + [("  ", "neg")]))
    lines = write(tmp_path / "b.jsonl", "".join(json.dumps({"text": f"b{i}"}) + "\n"
                                                for i in range(7)))
    folder = tmp_path / "dir"
    write(folder / "c.tsv", "text\tlabel\nc0\t1\n")
    write(folder / "pos" / "d.txt", "d0")
    chunks = list(iter_review_chunks([big, lines, folder], chunk_size=10))
    assert max(len(c.texts) + len(c.skipped) for c in chunks) <= 10
    texts = [t for c in chunks for t in c.texts]
    assert texts == [f"a{i}" for i in range(25)] + [f"b{i}" for i in range(7)] + ["c0", "d0"]
    rows = [(Path(s).name, r) for c in chunks for s, r in zip(c.sources, c.rows)]
    assert rows[24] == ("a.csv", 25) and rows[25] == ("b.jsonl", 1) and rows[-1] == ("d.txt", 1)
    assert [s.row for c in chunks for s in c.skipped] == [26]
    assert chunks[-1].labels == ["pos"] and chunks[0].labels[0] == "pos"
    with pytest.raises(ReadCancelled):
        list(iter_review_chunks([big], chunk_size=5, cancel=lambda: True))
    with pytest.raises(ReviewDataError, match="no review files"):
        list(iter_review_chunks([]))


def test_supported_suffixes():
    assert {".csv", ".tsv", ".jsonl", ".parquet", ".txt", ".csv.gz"} <= set(SUPPORTED_SUFFIXES)


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\r\t",
                              blacklist_characters="\ufeff"), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_TEXT.filter(str.strip), min_size=1, max_size=5))
def test_csv_round_trip_keeps_any_text(tmp_path, texts):
    # "\r\n" ends make the writer quote a lone "\r" as a spreadsheet would
    path = write(tmp_path / "r.csv", table_text([(t, "pos") for t in texts], end="\r\n"))
    assert read_reviews(path, text_column="text", label_column="label").texts == texts
