"""The name filters of the file dialogs, built from the engine's lists of formats.

The engine says which suffixes it reads and writes; only the words a user sees in a file
dialog ("JSON Lines", "Review files") live here, so a format added to the engine shows up in
every dialog without an edit in the window.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.analyze.writers import OUTPUT_FORMATS
from core.bundle import SUFFIX as MODEL_SUFFIX
from core.io.formats import SUPPORTED_SUFFIXES, suffixes_by_format

FORMAT_NAMES = {"csv": "CSV", "tsv": "TSV", "json": "JSON", "jsonl": "JSON Lines",
                "parquet": "Parquet", "text": "Text, one review per line"}
ALL_FILES = "All files (*)"


def format_name(key: str) -> str:
    """What a user calls the engine's format ``key`` (the key itself, upper-cased, if new)."""
    return FORMAT_NAMES.get(key, key.upper())


def name_filter(name: str, suffixes: Iterable[str]) -> str:
    """One entry of a dialog filter: ``CSV (*.csv *.csv.gz)``."""
    return f"{name} ({' '.join('*' + suffix for suffix in suffixes)})"


def output_formats() -> dict[str, str]:
    """Each format the engine writes, by name, with the suffix a new file gets."""
    first: dict[str, str] = {}
    for suffix, key in OUTPUT_FORMATS.items():
        first.setdefault(key, suffix)
    return {format_name(key): suffix for key, suffix in first.items()}


def output_suffix(path_suffix: str) -> str:
    """The suffix the format picker shows for a typed one ('.ndjson' -> '.jsonl'); '' if the
    engine does not write that format."""
    key = OUTPUT_FORMATS.get(path_suffix.lower())
    return "" if key is None else output_formats()[format_name(key)]


REVIEWS_FILTER: str = ";;".join([
    name_filter("Review files", SUPPORTED_SUFFIXES),
    *(name_filter(format_name(key), suffixes) for key, suffixes in suffixes_by_format().items()),
    ALL_FILES,
])
OUTPUT_FILTER: str = ";;".join(
    name_filter(format_name(key), [s for s, k in OUTPUT_FORMATS.items() if k == key])
    for key in dict.fromkeys(OUTPUT_FORMATS.values()))
MODEL_FILTER: str = name_filter("Review Analyzer model", [MODEL_SUFFIX])
OPEN_MODEL_FILTER: str = f"{MODEL_FILTER};;{ALL_FILES}"
