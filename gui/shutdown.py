"""Ending worker threads when a panel or the window closes, without blocking on a deadlock.

Why not just ``JobHandle.stop_and_wait``: the job's ``finished -> thread.quit`` connection is
queued to the GUI thread (the QThread object lives there), so a GUI thread blocked in
``thread.wait()`` never delivers that quit and waits out the whole timeout. Calling
``quit()`` directly is thread-safe and, since Qt 5, also works when it comes before the
thread's event loop starts: the loop then returns as soon as the job function does.
"""

from __future__ import annotations

from gui.workers import JobHandle


def stop_job(handle: JobHandle | None, timeout_ms: int = 30000) -> bool:
    """Cancel the job, let its thread end, and wait; True when the thread has ended."""
    if handle is None or handle.thread.isFinished():
        return True
    handle.cancel()
    handle.thread.quit()
    return handle.thread.wait(timeout_ms)
