"""Reading a whole review file for a command: progress while it reads, the memory limit the
user can raise, and an account of every row left out (counts per reason, the full list in a
file, and a warning when the file broke part-way)."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from core.cli.progress import ProgressBar
from core.io.limits import READ_ENV
from core.io.output_paths import display_path
from core.io.readers import read_reviews
from core.io.table import ReviewTable

SKIPPED_NAME = "skipped_rows.csv"
_SHOWN_REASONS = 5
_LINE = re.compile(r"\s*\(line \d+\)|\bline \d+\b")


def add_read_limit_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--read-limit-mb", type=float, default=None, metavar="MB",
                        help="most review text to hold in memory while reading (default: a "
                             f"quarter of this machine's memory, or {READ_ENV})")


def read_table(path: str, args: argparse.Namespace, max_rows: int | None = None,
               split_column: str | None = None) -> ReviewTable:
    """``read_reviews`` with a progress bar on stderr (compressed files by bytes read)."""
    bar = ProgressBar()
    name = Path(path).name
    try:
        return read_reviews(path, text_column=args.text_col, label_column=args.label_col,
                            split_column=split_column, max_rows=max_rows,
                            progress=lambda share: bar.update(share, f"reading {name}"),
                            read_limit_mb=getattr(args, "read_limit_mb", None))
    finally:
        bar.close()


def reason_kind(reason: str) -> str:
    """A skipped row's reason without its line number, so equal reasons count together."""
    return _LINE.sub("", reason).replace("  ", " ").strip()


def report_read(table: ReviewTable, path: str, folder: Path | None = None,
                stream: TextIO | None = None) -> Path | None:
    """Say what was read and what was left out; the full list goes to ``folder`` (returned)."""
    out = stream or sys.stdout
    skipped = table.skipped
    print(f"Read {len(table):,} reviews from {display_path(path)} (text: "
          f"'{table.text_column}', label: '{table.label_column}'; {len(skipped):,} "
          f"{'row' if len(skipped) == 1 else 'rows'} skipped)", file=out)
    written = None
    if skipped:
        kinds = Counter(reason_kind(row.reason) for row in skipped)
        for kind, count in kinds.most_common(_SHOWN_REASONS):
            print(f"  {count:,} skipped: {kind}", file=out)
        if len(kinds) > _SHOWN_REASONS:
            print(f"  ... and {len(kinds) - _SHOWN_REASONS} other reasons", file=out)
        if folder is not None:
            written = write_skipped(table, folder / SKIPPED_NAME)
            print(f"  every skipped row, with its reason: {display_path(written)}", file=out)
    if table.fault:
        print(f"warning: {display_path(path)}: {table.fault.rstrip('.')}. The {len(table):,} "
              "complete reviews before that point were read; fix the file to use the rest.",
              file=sys.stderr)
    return written


def write_skipped(table: ReviewTable, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as stream:
        writer = csv.writer(stream)
        writer.writerow(["source", "row", "reason"])
        writer.writerows((row.source, row.row, row.reason) for row in table.skipped)
    return path
