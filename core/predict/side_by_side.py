"""Run independent inference batches side by side on the CPU, one torch thread each.

The recurrent kernels step through time with small matrix products that a second thread
barely speeds up, so two batches on one thread each go faster than one batch on two
(measured by ``bench/batch.py`` and ``bench/throughput.py``). Results are handed back in
submission order on the calling thread, so callers' callbacks never run on a pool thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import torch

Job = TypeVar("Job")
Result = TypeVar("Result")


def side_by_side_workers(device: torch.device, requested: int = 0) -> int:
    """How many batches to run at once: one per torch thread on the CPU, one on a GPU."""
    if device.type != "cpu":
        return 1
    return max(1, requested or torch.get_num_threads())


def run_batches(jobs: Iterable[Job], work: Callable[[Job], Result],
                store: Callable[[Job, Result], None], workers: int,
                cancel: Callable[[], bool] | None = None) -> None:
    """``store(job, work(job))`` for every job, in order, until ``cancel()`` says stop.

    With ``workers`` > 1 the ``work`` calls run on a pool with torch set to one thread;
    at most two jobs per worker are in flight, so memory stays bounded. ``work`` must set
    its own thread-local modes (``torch.inference_mode``, autocast): pool threads do not
    inherit the caller's.
    """
    if workers <= 1:
        for job in jobs:
            if cancel is not None and cancel():
                return
            store(job, work(job))
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="batch") as pool:
            pending: deque[tuple[Job, Future]] = deque()
            for job in jobs:
                if cancel is not None and cancel():
                    break
                pending.append((job, pool.submit(work, job)))
                if len(pending) >= 2 * workers:
                    done_job, future = pending.popleft()
                    store(done_job, future.result())
            while pending:
                done_job, future = pending.popleft()
                store(done_job, future.result())
    finally:
        torch.set_num_threads(threads)
