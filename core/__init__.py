"""Review Analyzer engine: files, tokens, models, training, explanations. Never imports Qt."""

import os

# OpenMP threads that spin while waiting make torch many times slower as soon as another busy
# process shares the cores, and sleeping waits cost nothing measurable on an idle machine
# (README, training speed, has the figures). Only effective if set before torch loads, hence
# here and at the top of main.py.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def app_version() -> str:
    """The version in pyproject.toml, written there once: from the installed package's
    metadata, else (a source tree that was never installed) from the file itself."""
    from importlib import metadata

    try:
        return metadata.version("review-analyzer")
    except metadata.PackageNotFoundError:
        pass
    import re
    from pathlib import Path

    try:
        text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8")
    except OSError:
        return "unknown"
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    return found.group(1) if found else "unknown"
