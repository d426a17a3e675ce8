"""The least time of repeated calls, shared by the micro-benchmarks of this folder."""

from __future__ import annotations

import time
from collections.abc import Callable


def best(work: Callable[[], object], repeat: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Least seconds of ``repeat`` calls of ``work`` on ``clock`` (wall time by default; pass
    ``time.process_time`` for CPU time, which other jobs on the machine disturb less)."""
    times = []
    for _ in range(repeat):
        start = clock()
        work()
        times.append(clock() - start)
    return min(times)
