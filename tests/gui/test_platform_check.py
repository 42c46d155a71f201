"""A window that cannot open says why in one line instead of Qt's abort (exit code 134)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gui import platform_check
from gui.platform_check import describe_missing, missing_libraries, uses_xcb, window_problem

ROOT = Path(__file__).resolve().parents[2]
LDD_OUTPUT = """\tlinux-vdso.so.1 (0x00007ffc)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f00)
"""


def test_missing_libraries_are_read_from_ldd(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(platform_check.shutil, "which", lambda name: "/usr/bin/ldd")
    monkeypatch.setattr(platform_check.subprocess, "run", lambda *a, **k:
                        subprocess.CompletedProcess(a, 0, stdout=LDD_OUTPUT))
    assert missing_libraries([tmp_path / "libqxcb.so"]) == ["libxcb-icccm.so.4",
                                                           "libxcb-keysyms.so.1"]


def test_the_line_names_the_debian_packages_to_install() -> None:
    line = describe_missing(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "\n" not in line
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in line
    assert "README" in line


def test_a_missing_library_is_reported_before_qt_starts(monkeypatch) -> None:
    monkeypatch.setattr(platform_check, "missing_libraries", lambda files: ["libxcb-cursor.so.0"])
    problem = window_problem({"DISPLAY": ":0"})
    if sys.platform.startswith("linux"):
        assert problem is not None and "libxcb-cursor0" in problem


def test_other_platforms_are_left_to_qt() -> None:
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"})
    assert window_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 only")
def test_no_display_exits_with_one_line_not_an_abort() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "main.py"], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISPLAY is not set" in lines[0]
