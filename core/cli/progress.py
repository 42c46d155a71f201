"""A one-line text progress bar on stderr for long commands (no extra dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws at most ``rate`` times a second; prints plain lines when not on a terminal."""

    def __init__(self, stream: TextIO | None = None, width: int = 28, rate: float = 8.0) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.interval = 1.0 / rate
        self.last = 0.0
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, fraction: float, text: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (self.interval if self.tty else 5.0):
            return
        self.last = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(round(self.width * fraction))
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"[{bar}] {fraction * 100:5.1f}% {text}"
        if self.tty:
            self.stream.write("\r" + line[:160].ljust(100))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
