"""Review Analyzer entry point: no arguments opens the window, a subcommand runs the CLI."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see core/__init__.py; before torch loads


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("gui", "--gui"):
        from gui.app import run_app

        return run_app(args[1:] if args else [])
    from core.cli import run_cli

    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
