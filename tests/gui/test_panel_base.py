"""The panel base: jobs end with the panel, late results are dropped, the preview opens."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from gui.panels.base import Panel

ROOT = Path(__file__).resolve().parents[2]


def until_cancelled(context) -> int:
    while not context.cancelled:
        time.sleep(0.005)
    return 7


def test_a_result_that_arrives_after_shutdown_is_dropped(qtbot):
    panel = Panel()
    qtbot.addWidget(panel)
    results: list[int] = []
    handle = panel.run_job(until_cancelled, on_finished=results.append)
    assert panel.running and panel.shutdown()
    assert handle.thread.isFinished()
    qtbot.wait(50)  # the queued result is delivered now, to a closed panel
    assert results == [] and panel.run_job(until_cancelled) is None


def test_closing_a_panel_ends_replaced_and_side_jobs_too(qtbot):
    panel = Panel()
    qtbot.addWidget(panel)
    panel.show()
    first = panel.run_job(until_cancelled)
    second = panel.run_job(until_cancelled)
    side = panel.run_job(until_cancelled, side=True)
    assert panel.handle is second
    panel.close()
    assert all(h.thread.isFinished() for h in (first, second, side))


def test_the_thread_ended_callback_runs_after_the_result_in_the_gui_thread(qtbot):
    panel = Panel()
    qtbot.addWidget(panel)
    order: list[tuple[str, object]] = []
    handle = panel.run_job(
        lambda _ctx: 1,
        on_finished=lambda _r: order.append(("finished", threading.current_thread())),
        on_ended=lambda: order.append(("ended", threading.current_thread())))
    qtbot.waitUntil(lambda: len(order) == 2, timeout=10000)
    gui = threading.main_thread()
    assert order == [("finished", gui), ("ended", gui)] and not handle.running


def test_the_preview_entry_opens_a_panel_alone(tmp_path):
    script = textwrap.dedent("""
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from gui.panels.base import Panel, preview

        class Probe(Panel):
            def load_preview(self, args):
                print("args", args, flush=True)
                QTimer.singleShot(0, lambda: print("shown", self.isVisible(),
                                                   self.windowTitle(), flush=True))
                QTimer.singleShot(0, QApplication.quit)

        preview(Probe)
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, "sample.csv"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "args ['sample.csv']" in done.stdout
    assert "shown True Probe preview" in done.stdout
