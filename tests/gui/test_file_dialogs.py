"""File dialog filters are built from the engine's lists of formats it reads and writes."""

from __future__ import annotations

from core.analyze.writers import OUTPUT_FORMATS
from core.io.formats import SUPPORTED_SUFFIXES
from gui.file_dialogs import OUTPUT_FILTER, REVIEWS_FILTER, output_formats, output_suffix


def test_the_reviews_filter_lists_every_readable_suffix():
    assert REVIEWS_FILTER.startswith("Review files (*.csv ")
    assert REVIEWS_FILTER.endswith(";;All files (*)") and "*.jsonl.gz" in REVIEWS_FILTER
    first = REVIEWS_FILTER.split(";;")[0]
    assert all(f"*{suffix}" in first.split("(")[1] for suffix in SUPPORTED_SUFFIXES)


def test_the_output_filter_and_picker_follow_the_writers_list():
    assert OUTPUT_FILTER == "CSV (*.csv);;JSON Lines (*.jsonl *.ndjson);;Parquet (*.parquet)"
    assert output_formats() == {"CSV": ".csv", "JSON Lines": ".jsonl", "Parquet": ".parquet"}
    assert {output_suffix(s) for s in OUTPUT_FORMATS} == set(output_formats().values())
    assert output_suffix(".NDJSON") == ".jsonl" and output_suffix(".xlsx") == ""
