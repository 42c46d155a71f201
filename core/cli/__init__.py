"""The command line: ``python main.py <command> ...``; each command lives in its own module.

A module in :data:`COMMAND_MODULES` exposes ``register(subparsers)``, which adds its parser
and sets ``handler`` (a function taking the parsed args and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

from core.errors import ReviewDataError

COMMAND_MODULES = [
    "core.cli.train",
    "core.cli.pretrain",
    "core.cli.explain",
    "core.cli.compare",
    "core.cli.analyze",
]


class OneLineErrorParser(argparse.ArgumentParser):
    """A usage error in one line that says where the options are, not the usage block
    first (40 lines for ``train`` without ``--out``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (options: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="review-analyzer",
        description="Train, explain and apply recurrent sentiment models on review files. "
                    "Run without a command to open the window.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def run_cli(argv: list[str]) -> int:
    """Parse and run one command; user errors print one line and exit 2, never a traceback."""
    for stream in (sys.stdout, sys.stderr):
        # a file name that is not UTF-8 prints as \xNN instead of failing the command
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except ReviewDataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - last resort: one line, details on request
        if os.environ.get("REVIEW_ANALYZER_DEBUG"):
            raise
        print(f"error: unexpected {type(error).__name__}: {error} "
              "(set REVIEW_ANALYZER_DEBUG=1 for details)", file=sys.stderr)
        return 1
