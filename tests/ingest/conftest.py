"""Fixtures of the ingestion tests (builders live in ingest_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from ingest_helpers import Entry, zip_bytes


@pytest.fixture
def make_zip(tmp_path: Path) -> Callable[..., Path]:
    def _make(entries: Iterable[Entry], name: str = "upload.zip") -> Path:
        path = tmp_path / name
        path.write_bytes(zip_bytes(entries))
        return path

    return _make


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """Where uploads extract to, so tests can check what lands there and that close() removes it."""
    path = tmp_path / "work"
    path.mkdir()
    return path
