"""Files the app ships with: icons, the stylesheet and a small sample review set.

Qt-free on purpose: ``core`` code and tests may use the sample data, and the GUI turns
the paths into ``QIcon`` objects itself (``QIcon(str(icon_path("train")))``).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

RESOURCES_DIR: Path = Path(__file__).resolve().parent
ICONS_DIR: Path = RESOURCES_DIR / "icons"

SAMPLE_REVIEWS: Path = RESOURCES_DIR / "sample_reviews.csv"
"""480 short reviews written for this project; columns ``id,domain,stars,text``."""

STYLESHEET: Path = RESOURCES_DIR / "style.qss"

ICON_NAMES: tuple[str, ...] = (
    "app",
    "open",
    "train",
    "pause",
    "stop",
    "explain",
    "compare",
    "batch",
    "save",
    "model",
)
"""Every icon in ``icons/``, by the name ``icon_path`` takes."""

ACCENT_COLOR = "#1a7f8e"
"""The teal used by the icons and the primary button, for plots or labels that match."""


def resource_path(name: str) -> Path:
    """The path of a shipped file, given relative to this folder (``"icons/app.svg"``).

    Raises ``ValueError`` for a name that leaves the folder and ``FileNotFoundError``
    when the file is missing, so a broken install fails loudly at the call site.
    """
    relative = PurePosixPath(name.replace("\\", "/"))
    if not name or relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"resource name must be a relative path inside resources/: {name!r}")
    path = RESOURCES_DIR.joinpath(*relative.parts)
    if not path.exists():
        raise FileNotFoundError(f"resource not found: {path} (is the install complete?)")
    return path


def icon_path(name: str) -> Path:
    """The SVG file of one icon, by bare name (``"train"``) or file name (``"train.svg"``)."""
    stem = name.removesuffix(".svg")
    return resource_path(f"icons/{stem}.svg")


def load_stylesheet() -> str:
    """The application stylesheet text, for ``QApplication.setStyleSheet``."""
    return STYLESHEET.read_text(encoding="utf-8")


__all__ = [
    "ACCENT_COLOR",
    "ICONS_DIR",
    "ICON_NAMES",
    "RESOURCES_DIR",
    "SAMPLE_REVIEWS",
    "STYLESHEET",
    "icon_path",
    "load_stylesheet",
    "resource_path",
]
