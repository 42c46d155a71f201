"""Say in one line why a window cannot open, before Qt aborts the process with its own story.

On Linux, Qt's X11 platform plugin (xcb) loads a dozen system libraries when the first
QApplication is made. When one is missing, Qt prints a misleading hint (it blames
``xcb-cursor0`` whatever is missing) and aborts with exit code 134. Here, before any
QApplication exists, ``ldd`` lists the plugin's unresolved libraries and they are named with
the packages that provide them. Nothing in this module imports Qt's GUI libraries.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

# Shared library -> Debian/Ubuntu package (what the README's Set up lists).
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}


def uses_xcb(env: dict[str, str]) -> bool:
    """Whether Qt will load the X11 plugin: Linux, and no other platform asked for or found."""
    if not sys.platform.startswith("linux"):
        return False
    asked = env.get("QT_QPA_PLATFORM", "").strip()
    if asked:
        return asked.split(":")[0].split(";")[0] == "xcb"
    return not (env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland")


def xcb_plugin_files() -> list[Path]:
    """The xcb plugin inside the installed PySide6 (ldd lists its dependencies' needs too)."""
    spec = find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    plugin = (Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" /
              "platforms" / "libqxcb.so")
    return [plugin] if plugin.exists() else []


def missing_libraries(files: list[Path]) -> list[str]:
    """Shared libraries that ``ldd`` cannot find for ``files``; empty when ldd is absent."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    missing: list[str] = []
    for path in files:
        try:
            output = subprocess.run([ldd, str(path)], capture_output=True, text=True,
                                    timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        for line in output.splitlines():
            name, _, where = line.strip().partition(" => ")
            if where.strip() == "not found" and name not in missing:
                missing.append(name)
    return missing


def describe_missing(missing: list[str]) -> str:
    """The one line the user sees, naming the libraries and the packages to install."""
    packages = [DEBIAN_PACKAGES[name] for name in missing if name in DEBIAN_PACKAGES]
    text = ("Review Analyzer cannot open its window: Qt's X11 platform plugin needs system "
            f"libraries that are not installed ({', '.join(missing)}).")
    if packages:
        text += f" On Debian or Ubuntu: sudo apt-get install {' '.join(packages)}."
    return text + " See 'Set up' in README.md for other systems."


def window_problem(env: dict[str, str] | None = None) -> str | None:
    """Why a window cannot open here, in one line; None when nothing is known to be wrong."""
    env = dict(os.environ if env is None else env)
    if not uses_xcb(env):
        return None
    if not env.get("DISPLAY"):
        return ("Review Analyzer cannot open its window: no display (DISPLAY is not set). "
                "Start it from a desktop session, or under a virtual display with "
                "'xvfb-run python main.py'; the command line works without one "
                "('python main.py --help').")
    missing = missing_libraries(xcb_plugin_files())
    return describe_missing(missing) if missing else None
