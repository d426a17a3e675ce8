"""One object per run that every stage takes: its options, its summary, its upload, its clock and where
it reports progress.

Stages used to take their pieces one by one (ten parameters for parsing a file); with a context, a stage
is ``stage(ctx) -> result`` whoever composes it: ``ppcti run``, the TEE service or a Kafka job worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ppcti.ingest import Upload
from ppcti.pipeline.options import RunOptions
from ppcti.pipeline.summary import RunSummary

ProgressFn = Callable[[str, int, int], None]
"""``progress(stage_description, done, total)``; ``total`` 0 means unknown."""


def no_progress(stage: str, done: int, total: int) -> None:
    del stage, done, total


@dataclass(slots=True)
class RunContext:
    options: RunOptions
    summary: RunSummary
    upload: Upload
    progress: ProgressFn = no_progress

    @property
    def out(self) -> Path:
        """The folder stages write into (the run's staging folder while it runs)."""
        return self.options.out

    def writing_to(self, out: Path) -> RunContext:
        """The same run, writing into ``out`` (the staging folder that becomes ``--out`` at the end)."""
        return replace(self, options=replace(self.options, out=out))

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Adds the block's elapsed seconds to the summary's time for ``stage`` (blocks may repeat)."""
        seconds = self.summary.stage_seconds
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - start
