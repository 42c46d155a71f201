"""How much a read may hold in memory, so a huge or hostile file ends in a clear message.

Two limits, both raisable by the user:

- one review (a line, a CSV field, a JSON item): ``REVIEW_ANALYZER_MAX_REVIEW_MB``;
- the review text a whole-file read keeps for training or evaluation:
  ``REVIEW_ANALYZER_READ_LIMIT_MB`` or ``--read-limit-mb`` (default: a quarter of the
  machine's memory). Streaming analysis holds one chunk at a time and needs no such limit.

A compressed file is measured by what it expands to, so a gzip bomb stops at the limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MB = 1 << 20
DEFAULT_REVIEW_MB = 256
MIN_READ_LIMIT_MB = 1024
REVIEW_ENV = "REVIEW_ANALYZER_MAX_REVIEW_MB"
READ_ENV = "REVIEW_ANALYZER_READ_LIMIT_MB"


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def _env_mb(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        mb = float(value)
    except ValueError:
        return None
    return max(1, int(mb * MB)) if mb > 0 else None


def default_read_limit() -> int:
    """A quarter of physical memory (at least 1 GB): text, its tokens and the model fit."""
    memory = _memory_bytes()
    return max(MIN_READ_LIMIT_MB * MB, memory // 4) if memory else 4096 * MB


@dataclass(frozen=True)
class ReadLimits:
    """Characters one review may have, and characters of review text a whole read keeps."""

    review_chars: int
    held_chars: int

    @classmethod
    def current(cls, held_mb: float | None = None) -> ReadLimits:
        """The limits from the environment; ``held_mb`` (a command-line flag) wins."""
        held = int(held_mb * MB) if held_mb else _env_mb(READ_ENV) or default_read_limit()
        return cls(_env_mb(REVIEW_ENV) or DEFAULT_REVIEW_MB * MB, held)


def describe_mb(chars: int) -> str:
    return f"{chars / MB:,.0f} MB" if chars >= MB else f"{chars / MB:.2f} MB"
