"""Spread SEAL work over cores with forked worker processes.

``tenseal.sealapi`` does not release the GIL, so threads would serialise. Forked workers inherit the
loaded keys and ciphertexts copy-on-write (nothing is pickled on the way in) and send back serialised
ciphertext bytes. ``threads=1`` runs inline, which tests and small inputs use.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

#: State the task function reads; set just before the workers fork and cleared afterwards.
STATE: dict[str, Any] = {}


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _worker_signals() -> None:
    """Workers leave Ctrl-C to the parent (which stops the pool) and die quietly on SIGTERM, instead of
    running the parent's handlers they were forked with and each printing a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def fork_map(
    func: Callable[[T], bytes],
    tasks: Sequence[T],
    state: dict[str, Any],
    *,
    threads: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[bytes]:
    """``[func(t) for t in tasks]`` in order, on ``threads`` processes, with ``STATE`` = ``state``."""
    STATE.update(state)
    out: list[bytes] = []
    try:
        if threads <= 1 or len(tasks) < 2 or "fork" not in mp.get_all_start_methods():
            for task in tasks:
                out.append(func(task))
                if progress:
                    progress(len(out), len(tasks))
        else:
            with mp.get_context("fork").Pool(processes=threads, initializer=_worker_signals) as pool:
                for blob in pool.imap(func, tasks, chunksize=max(1, len(tasks) // (threads * 8))):
                    out.append(blob)
                    if progress:
                        progress(len(out), len(tasks))
    finally:
        STATE.clear()
    return out
