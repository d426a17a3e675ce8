"""What a log format plugin is, and what it hands back.

A format recognises a sample of a file (:meth:`LogFormat.score`) and parses the whole file into batches
of events (:meth:`LogFormat.parse`). Batches are Polars frames so that the hot path stays columnar; every
input entry ends up either as a row of ``events`` or as a :class:`~ppcti.model.Reject`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import polars as pl

from ppcti.clean.timestamps import TimeContext
from ppcti.model import EVENT_SCHEMA, Reject

if TYPE_CHECKING:
    from ppcti.formats.mapping import Mapping
    from ppcti.ingest import Limits, SourceFile

#: Columns of ``ParsedBatch.events`` besides ``extra`` (a format-specific struct) and ``raw``: the event
#: schema less what the pipeline adds itself (holder, format, source file).
BATCH_COLUMNS: dict[str, pl.DataType] = {
    name: dtype for name, dtype in EVENT_SCHEMA.items() if name not in ("holder", "format", "source_file")
}


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """Settings every parser receives."""

    time: TimeContext = field(default_factory=TimeContext)
    limits: Limits | None = None
    batch_bytes: int = 32 * 1024 * 1024
    #: User mappings for JSON feeds (``--json-mapping``), tried before the built-in ones.
    json_mappings: tuple[Mapping, ...] = ()


@dataclass(slots=True)
class ParsedBatch:
    """One batch of a file.

    ``events`` has :data:`BATCH_COLUMNS`, ``extra`` (struct), ``raw`` (the entry as read) and optionally
    ``cleaned`` (the entry as the cleaned copy of the file should hold it, when that differs from ``raw``).
    ``notes`` counts assumptions and repairs for the run summary. ``cleaned_header`` is written once at
    the top of the cleaned copy (the CSV header).
    """

    events: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)
    cleaned_header: str | None = None


@runtime_checkable
class LogFormat(Protocol):
    """A log format plugin. Register instances with :func:`ppcti.formats.register`."""

    name: str
    description: str
    #: File kinds (from ingestion's content detection) this format can read.
    kinds: frozenset[str]

    #: Suffix of the cleaned copy, when it differs from the input's (e.g. ``.csv`` for XLSX input).
    def cleaned_name(self, source: SourceFile) -> str: ...

    def score(self, source: SourceFile, sample: str) -> float:
        """How sure the format is that ``source`` holds it, from 0 to 1, judged on ``sample``."""
        ...

    def parse(self, source: SourceFile, options: ParseOptions) -> Iterator[ParsedBatch]:
        """All entries of ``source``, streamed in bounded batches."""
        ...
