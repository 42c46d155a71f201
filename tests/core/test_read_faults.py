"""A file that breaks part-way keeps every complete review before the break (issue 19 item 4),
a .json file of JSON Lines is read as a stream (item 5), and reading stays bounded (item 7).

The memory checks run the reader in a child process (``tools.fuzz_check.bomb_in_child``) under
an address-space ceiling and a time limit, so a regression ends as a failed test, not as an
exhausted CI machine.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import sys

import pytest
import torch

from core.analyze.analysis import BatchOptions, analyze, side_paths
from core.bundle import ModelBundle
from core.config import TrainConfig
from core.errors import ReviewDataError
from core.io.readers import detect_format, iter_review_chunks, preview_file, read_reviews
from core.training.pipeline import run_training
from tests.core.conftest import synthetic_table
from tools.fuzz_cases import BOMB_SHAPES, cut_final_record, gzip_bomb
from tools.fuzz_check import check_gzip_bomb

COUNT = 300


def rows(count: int = COUNT) -> list[tuple[str, str]]:
    table = synthetic_table(count, seed=5)
    return [(f"{i}: {text}", label) for i, (text, label) in enumerate(zip(table.texts,
                                                                            table.labels))]


def as_format(fmt: str, items: list[tuple[str, str]]) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows(items)
        return out.getvalue().encode()
    if fmt == "jsonl":
        return "".join(json.dumps({"text": t, "label": lab}) + "\n"
                       for t, lab in items).encode()
    if fmt == "json":
        return json.dumps([{"text": t, "label": lab} for t, lab in items], indent=1).encode()
    return "".join(t + "\n" for t, _ in items).encode()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> ModelBundle:
    torch.set_num_threads(1)
    config = TrainConfig(cell="gru", embedding_dim=8, hidden_size=8, epochs=1, min_count=1,
                         vocab_size=200, device="cpu", threads=1)
    saved = run_training(synthetic_table(200, seed=1), config).bundle.save(
        tmp_path_factory.mktemp("model"))
    return ModelBundle.load(saved)


# ---------------------------------------------------------------- item 4


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "csv.gz", "jsonl.gz", "json.gz"])
def test_every_complete_review_before_a_cut_final_record_is_kept(tmp_path, fmt):
    items = rows()
    data = cut_final_record(fmt.split(".")[0], as_format(fmt.split(".")[0], items))
    if fmt.endswith(".gz"):
        data = gzip.compress(data)
    path = tmp_path / f"reviews.{fmt}"
    path.write_bytes(data)
    expected = [t for t, _ in items[:-1]]
    table = read_reviews(path)
    assert table.texts == expected
    assert table.fault is not None and "line" in table.fault
    chunks, error = [], None
    try:
        for chunk in iter_review_chunks([path], chunk_size=4096):
            chunks.append(chunk)
    except ReviewDataError as caught:
        error = caught
    assert [t for c in chunks for t in c.texts] == expected
    assert error is not None and error.line is not None
    assert preview_file(path, 20).rows  # the preview still opens the file


def test_a_cut_gzip_stream_keeps_what_was_decompressed(tmp_path):
    data = gzip.compress(as_format("jsonl", rows(3000)))
    path = tmp_path / "reviews.jsonl.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    table = read_reviews(path)
    assert len(table) > 1000 and "cut short" in table.fault
    assert table.texts == [t for t, _ in rows(3000)][: len(table)]


@pytest.mark.parametrize("chunk_size", [4096, 7])
def test_analyze_writes_and_counts_every_review_before_the_fault(tmp_path, bundle, chunk_size):
    items = rows(1000)
    path = tmp_path / "reviews.jsonl"
    path.write_bytes(cut_final_record("jsonl", as_format("jsonl", items)))
    out = tmp_path / "out.csv"
    result = analyze([path], bundle, out, BatchOptions(threads=1, chunk_size=chunk_size))
    assert result.reviews == len(items) - 1
    with open(out, newline="", encoding="utf-8") as stream:
        assert len(list(csv.DictReader(stream))) == len(items) - 1
    errors = side_paths(out).errors.read_text(encoding="utf-8")
    assert f",{len(items)}," in errors and "not valid JSON" in errors
    assert any(f"line {len(items)}" in note for note in result.notes)


def test_a_small_file_with_a_bad_last_line_is_not_lost(tmp_path, bundle):
    path = tmp_path / "few.csv"
    path.write_text('text,label\ngreat room,pos\nawful staff,neg\n"cut here,pos\n',
                    encoding="utf-8")
    result = analyze([path], bundle, tmp_path / "out.jsonl", BatchOptions(threads=1))
    assert result.reviews == 2


# ---------------------------------------------------------------- item 5


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_json_lines_named_json_is_read_as_a_stream(tmp_path, suffix):
    data = as_format("jsonl", rows())
    path = tmp_path / f"yelp_academic_dataset_review{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    assert detect_format(path) == "jsonl"
    assert read_reviews(path).texts == [t for t, _ in rows()]


def test_a_json_array_is_streamed_item_by_item(tmp_path):
    """One item per read: the reader never holds the whole document (checked by the child
    process test below with a ceiling); here: rows, lines and the columns are right."""
    path = tmp_path / "r.json"
    path.write_bytes(as_format("json", rows()))
    table = read_reviews(path)
    assert table.texts == [t for t, _ in rows()] and table.rows[:3] == [1, 2, 3]


# ---------------------------------------------------------------- item 7


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and ru_maxrss in KB: Linux")
@pytest.mark.parametrize("shape", BOMB_SHAPES)
def test_a_gzip_bomb_stops_at_the_limit_in_bounded_memory(tmp_path, shape):
    """400 MB expanded, read with a 16 MB limit under a 1.5 GB address-space ceiling: refused
    with a message naming the limit, peak resident memory under 400 MB."""
    assert check_gzip_bomb(tmp_path, shape, expanded_mb=400, ceiling_mb=1500,
                           peak_mb=400) == "error"


def test_the_bomb_is_small_on_disk_and_large_expanded(tmp_path):
    path = tmp_path / "b.csv.gz"
    expanded = gzip_bomb(path, "many_rows", expanded_mb=50)
    assert path.stat().st_size * 100 < expanded
    with gzip.open(path, "rb") as stream:
        assert sum(len(block) for block in iter(lambda: stream.read(1 << 20), b"")) == expanded


def test_progress_through_a_gzip_file_follows_the_compressed_bytes(tmp_path):
    """The share read of a .gz input is its compressed bytes read (it was a guess from a
    typical compression ratio, off by two orders of magnitude on some files)."""
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyz"
    items = [(" ".join("".join(rng.choices(letters, k=7)) for _ in range(8)), "pos")
             for _ in range(20_000)]
    path = tmp_path / "r.csv.gz"
    path.write_bytes(gzip.compress(as_format("csv", items)))
    shares, seen = [], 0
    for chunk in iter_review_chunks([path], chunk_size=1000):
        seen += len(chunk)
        shares.append((seen / len(items), chunk.read_fraction))
    assert [s for _, s in shares] == sorted(s for _, s in shares) and shares[-1][1] == 1.0
    for done, share in shares[2:-2]:
        assert abs(share - done) < 0.15, shares


def test_a_huge_file_in_a_review_folder_is_skipped_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEW_ANALYZER_MAX_REVIEW_MB", "0.01")  # about 10,000 characters
    for label in ("pos", "neg"):
        (tmp_path / "reviews" / label).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "reviews" / label / f"{i}.txt").write_text(f"{label} {i} fine film")
    (tmp_path / "reviews" / "pos" / "9.txt").write_text("word " * 20_000)
    table = read_reviews(tmp_path / "reviews")
    assert len(table) == 6 and len(table.skipped) == 1
    assert "9.txt" in table.skipped[0].source and "longer than one review" in \
        table.skipped[0].reason


def test_chunks_of_long_reviews_are_cut_by_their_text_not_only_their_count(tmp_path,
                                                                           monkeypatch):
    import core.io.readers as readers

    monkeypatch.setattr(readers, "CHUNK_CHARS", 250_000)
    path = tmp_path / "long.jsonl"
    path.write_bytes(as_format("jsonl", [("word " * 20_000, "pos")] * 10))  # 100 KB each
    chunks = list(iter_review_chunks([path], chunk_size=1000))
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
