"""How a run's row outputs are written: events as JSON lines, cleaned text files as lines.

Both take Polars frames. The compiled writers of ``ppcti-native`` write them straight to the file with a
buffer kept from one batch to the next; without them (or for column types they do not cover) the same
bytes come from orjson and Polars (``tests/test_outputs.py``).
"""

from __future__ import annotations

import io
from typing import IO, Any

import orjson
import polars as pl

from ppcti.native import native_module


def _fd(handle: IO[bytes]) -> int | None:
    """The file descriptor under a plain file ``handle``, flushed so that bytes written to it land in
    order; None for anything else (a gzip file has a descriptor too, but of the compressed bytes)."""
    if not isinstance(handle, io.BufferedWriter | io.BufferedRandom | io.FileIO):
        return None
    try:
        fd = handle.fileno()
    except (io.UnsupportedOperation, OSError):
        return None
    handle.flush()
    return fd


def _nulls_dropped(frame: pl.DataFrame) -> pl.DataFrame:
    """Without columns of the Null type, which Arrow's C interface cannot carry (Polars exports them
    with a buffer all the same); all-null columns are absent values, so nothing is lost."""
    nulls = [name for name, dtype in frame.schema.items() if dtype == pl.Null]
    return frame.drop(nulls) if nulls else frame


def write_frame(frame: pl.DataFrame, handle: IO[bytes]) -> None:
    """The rows of ``frame`` as JSON lines in the ``events.jsonl`` form: absent values omitted.

    A key is left out when its value is null, an empty list, or a struct none of whose fields is present;
    list items are kept as they are. Leaving absent values out keeps firewall events about 15 % smaller
    than Polars' ``write_ndjson``, which writes every null.
    """
    if not frame.height:
        return
    module = native_module()
    fd = _fd(handle) if module is not None else None
    if module is not None and fd is not None:
        try:
            if module.write_ndjson(_nulls_dropped(frame), fd):
                return
        except (TypeError, ValueError):  # a type Arrow's C interface cannot carry (Null in a struct, Int128)
            pass
    handle.write(b"".join(orjson.dumps(_present_object(row)) + b"\n" for row in frame.iter_rows(named=True)))


def write_lines(column: pl.DataFrame, handle: IO[bytes]) -> None:
    """The strings of a one-column frame, one per line (nulls as empty lines), exactly as they are."""
    if not column.height:
        return
    module = native_module()
    fd = _fd(handle) if module is not None else None
    strings = column.dtypes == [pl.String]
    if module is not None and fd is not None and strings and module.write_lines(column, fd):
        return
    column.write_csv(handle, include_header=False, quote_style="never")


def _absent(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list):
        return not value
    if isinstance(value, dict):
        return all(_absent(v) for v in value.values())
    return False


def _present_object(row: dict[str, Any]) -> dict[str, Any]:
    return {key: _present_value(value) for key, value in row.items() if not _absent(value)}


def _present_value(value: Any) -> Any:
    if isinstance(value, dict):
        return _present_object(value)
    if isinstance(value, list):
        return [_present_value(item) for item in value]
    return value
