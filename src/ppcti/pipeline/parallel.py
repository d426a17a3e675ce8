"""One run's independent work in worker processes (``ppcti run --workers N``).

A run is mostly three pieces of work that need not wait for each other: the PII scan reads the upload's
files, while CTI and analysis read the events the core stages write. With more than one worker, the PII
scan of each file starts in a worker process as soon as the upload is open, while this process runs the
core stages (parsing, cleaning, deduplication: ordered work that stays in one process so the output is
exactly the sequential one); then CTI runs in this process and the analysis in a worker while the PII
scan finishes. Results are put together in the upload's file order, so every output file is the same
as with one worker.

Workers are started with ``spawn``: forking a process that already runs Polars' thread pool can
deadlock. Small uploads stay in one process, since starting workers costs more than it saves there.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections.abc import Callable
from multiprocessing.pool import AsyncResult
from types import TracebackType
from typing import Any

from ppcti.errors import PpctiError
from ppcti.pipeline.context import RunContext
from ppcti.pipeline.stages import FILE_STAGES, finish_pii, pii_options, planned_stages

#: Uploads smaller than this (bytes of accepted files) run in one process whatever ``--workers`` says.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024

#: A stage's figures and the seconds its work took.
Done = dict[str, tuple[dict[str, Any], float]]


class WorkerFailed(RuntimeError):
    """An unexpected error in a worker process, by type only (its text may quote input values)."""


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """``fn(*args)`` and how long it took, measured where it ran.

    Errors cross back to the parent pickled: ppcti's own do so whole; any other is replaced by a
    :class:`WorkerFailed` naming its type, since an exception that cannot be rebuilt from its pickle
    would stop the pool's result thread and leave the run waiting for ever.
    """
    start = time.perf_counter()
    try:
        result = fn(*args)
    except PpctiError:
        raise
    except Exception as exc:
        raise WorkerFailed(f"{type(exc).__name__} in a worker process") from None
    return result, time.perf_counter() - start


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stops them: one message, not one traceback each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def workers_for(ctx: RunContext) -> int:
    """How many processes this run uses."""
    if ctx.options.workers <= 1 or sum(f.size for f in ctx.upload.files) < PARALLEL_MIN_BYTES:
        return 1
    return ctx.options.workers


class WorkerProcesses:
    """A pool of worker processes for one run; stopped at once if the run fails or is interrupted."""

    def __init__(self, workers: int) -> None:
        self.pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_ignore_interrupts)

    def __enter__(self) -> WorkerProcesses:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.pool.close()
        else:
            self.pool.terminate()  # nothing of a failed run may go on writing
        self.pool.join()

    def start_pii(self, ctx: RunContext) -> dict[str, AsyncResult[Any]]:
        """Scan every file in a worker, largest first (the longest pieces of work start earliest)."""
        from ppcti.pii.scan import scan_one

        if "pii" not in planned_stages(ctx):
            return {}
        options, limits = pii_options(ctx), ctx.options.limits
        started = {}
        for source in sorted(ctx.upload.files, key=lambda f: -f.size):
            started[source.path] = self.pool.apply_async(timed, (scan_one, source, options, limits))
        return started

    def finish(self, ctx: RunContext, pii: dict[str, AsyncResult[Any]]) -> Done:
        """Run the file stages (CTI, analysis), put the PII report together here; wait for all of them.

        The first file stage (CTI, the longest after the PII scan) runs in this process, which would
        otherwise only wait: queued in the pool behind the PII scan it started last and kept one worker
        busy alone at the end while the other had nothing left to take. The others go to the pool.
        """
        from ppcti.pii.scan import assemble_report

        names = [name for name in planned_stages(ctx) if name in FILE_STAGES]
        files = {
            name: self.pool.apply_async(timed, (fn, *args))
            for name in names[1:]
            for fn, args in [FILE_STAGES[name](ctx)]
        }
        done: Done = {}
        if names:
            fn, args = FILE_STAGES[names[0]](ctx)
            start = time.perf_counter()
            figures = fn(*args)
            done[names[0]] = (figures, time.perf_counter() - start)
            ctx.progress(names[0], 1, 1)
        if pii:
            results, seconds = [], 0.0
            # only the files the core stages could read, in the upload's order, as one process scans them
            for count, source in enumerate(ctx.upload.files, start=1):
                result, took = pii[source.path].get()
                results.append(result)
                seconds += took
                ctx.progress("pii", count, len(ctx.upload.files))
            figures, took = timed(finish_pii, ctx, assemble_report(ctx.upload, results))
            done["pii"] = (figures, seconds + took)
        for name, result in files.items():
            done[name] = result.get()
            ctx.progress(name, 1, 1)
        return done
