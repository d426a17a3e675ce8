"""One progress display for the commands that run the pipeline, here or remotely: a bar per stage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

StageProgress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; ``total`` 0 means unknown."""


@contextmanager
def stage_bars(console: Console, *, quiet: bool) -> Iterator[StageProgress]:
    """A callback that keeps one transient bar per stage name (none at all when ``quiet``)."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        yield progress
