"""Cold start: seconds from launching ``python main.py`` to the window's first paint.

Each run starts a fresh process with ``REVIEW_ANALYZER_STARTUP_PROBE=1``; the app prints the
wall-clock time of its first paint and quits (gui/app.py). Beside it, the floor: a bare
PySide6 window (import Qt, make a QApplication, show a QMainWindow) timed the same way, so a
figure taken on a busy machine can be read against what Qt alone costs there. Without a
DISPLAY the runs go to a private Xvfb server.

    python bench/cold_start.py [--runs 7] [--other DIR]

``--other DIR`` also times ``main.py`` of another checkout (say, an older commit unpacked with
``git archive``), interleaved with this one, for a before/after figure under the same load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.5  # seconds, issue 16 item 15
BARE_WINDOW = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1280, 800)
class Probe(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            print(f"first-paint {time.time():.6f}", flush=True)
            QTimer.singleShot(0, app.quit)
        return False
probe = Probe()
window.installEventFilter(probe)
window.show()
app.exec()
"""


def time_to_paint(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> float:
    started = time.time()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=120)
    for line in result.stdout.splitlines():
        if line.startswith("first-paint "):
            return float(line.split()[1]) - started
    raise RuntimeError(f"no paint reported (exit {result.returncode}): {result.stderr[-500:]}")


def start_xvfb() -> tuple[subprocess.Popen | None, str]:
    if os.environ.get("DISPLAY"):
        return None, os.environ["DISPLAY"]
    if shutil.which("Xvfb") is None:
        raise SystemExit("no DISPLAY and no Xvfb: install xvfb or run under a desktop")
    display = f":{90 + os.getpid() % 500}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten",
                               "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    return server, display


def summary(name: str, values: list[float]) -> str:
    return (f"{name:<28} median {statistics.median(values):.2f} s  min {min(values):.2f}  "
            f"max {max(values):.2f}  ({len(values)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--other", type=Path, help="another checkout to time alongside")
    args = parser.parse_args()
    server, display = start_xvfb()
    settings = tempfile.mkdtemp(prefix="ra-cold-start-")
    env = dict(os.environ, DISPLAY=display, REVIEW_ANALYZER_STARTUP_PROBE="1",
               XDG_CONFIG_HOME=settings, XDG_DATA_HOME=settings)
    env.pop("QT_QPA_PLATFORM", None)
    try:
        app, bare, other = [], [], []
        for _ in range(args.runs):  # interleaved, so load changes hit all alike
            bare.append(time_to_paint([sys.executable, "-c", BARE_WINDOW], env))
            app.append(time_to_paint([sys.executable, "main.py"], env))
            if args.other:
                other.append(time_to_paint([sys.executable, "main.py"], env, args.other))
    finally:
        if server is not None:
            server.terminate()
        shutil.rmtree(settings, ignore_errors=True)
    import torch

    load = os.getloadavg()
    print(f"CPU: {os.cpu_count()} cores, capability {torch.backends.cpu.get_cpu_capability()}, "
          f"load average {load[0]:.1f} / {load[1]:.1f} (1 / 5 min), display {display}")
    print(summary("bare PySide6 window", bare))
    print(summary("Review Analyzer window", app))
    if other:
        print(summary(f"other: {args.other.name}", other))
    median = statistics.median(app)
    print(f"target {TARGET:.1f} s: {'met' if median <= TARGET else 'missed'} "
          f"(app minus bare window: {median - statistics.median(bare):.2f} s)")


if __name__ == "__main__":
    main()
