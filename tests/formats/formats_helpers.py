"""Shared helpers for the format tests: real files through real ingestion."""

from __future__ import annotations

import filecmp
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from ppcti.clean.timestamps import TimeContext
from ppcti.formats import ParseOptions, get
from ppcti.ingest import SourceFile, open_upload
from ppcti.model import Reject
from ppcti.pipeline import RunOptions, run_pipeline


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


def core_run(inputs: list[Path], out: Path, **options: Any) -> None:
    """The core stages only (no PII, CTI, analysis or report) on ``inputs``, with a fixed clock."""
    run_pipeline(
        inputs,
        RunOptions(
            holder="h",
            out=out,
            skip=frozenset({"pii", "cti", "analysis", "report"}),
            time=TimeContext(year=2023, date=date(2023, 3, 7)),
            **options,
        ),
    )


def assert_same_outputs(a: Path, b: Path) -> int:
    """``events.jsonl``, ``rejects.jsonl`` and every cleaned copy of two runs are the same bytes;
    returns how many cleaned copies there are."""
    for name in ("events.jsonl", "rejects.jsonl"):
        assert filecmp.cmp(a / name, b / name, shallow=False), name
    cleaned = sorted(p.relative_to(a) for p in (a / "cleaned").rglob("*") if p.is_file())
    assert cleaned == sorted(p.relative_to(b) for p in (b / "cleaned").rglob("*") if p.is_file())
    for rel in cleaned:
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    return len(cleaned)
