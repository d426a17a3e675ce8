"""Shared helpers for the format tests: real files through real ingestion."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from ppcti.formats import ParseOptions, get
from ppcti.ingest import SourceFile, open_upload
from ppcti.model import Reject


@contextmanager
def source_for(path: Path) -> Iterator[SourceFile]:
    with open_upload(path, holder="test-holder") as upload:
        assert upload.files, f"ingestion refused {path.name}: {upload.refused}"
        yield upload.files[0]


def parse_file(
    path: Path, fmt: str, options: ParseOptions | None = None
) -> tuple[pl.DataFrame, list[Reject]]:
    with source_for(path) as source:
        batches = list(get(fmt).parse(source, options or ParseOptions()))
    if not batches:
        return pl.DataFrame(schema={"line": pl.Int64}), []
    events = pl.concat([b.events for b in batches], how="vertical")
    rejects = [r for b in batches for r in b.rejects]
    return events, rejects
