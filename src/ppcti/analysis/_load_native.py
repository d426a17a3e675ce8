"""The compiled reader of ppcti's own ``events.jsonl`` for the analysis (``ppcti_native.read_events_jsonl``).

Polars' ``scan_ndjson`` parses every value of a line into a tape, builds ``extra`` as a struct of
nineteen fields, and a second pass parses the timestamps: most of the time of loading 5 M events. The
compiled reader parses each line once, keeps only the columns the analysis reads (``extra``'s fields as
plain columns) and the timestamps already in microseconds, on all cores. It takes a file only when it is
certain to read it as Polars does; otherwise it declines (None) and the caller reads the file with
Polars, the reference, which gives today's results and errors (see ``native/src/eventsjsonl.rs``).
``tests/analysis/test_load_native.py`` compares the frames of both paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from ppcti.native import native_module


def read_file(path: Path, fields: Sequence[str]) -> pl.DataFrame | None:
    """The native columns of an ``events.jsonl`` file (``fields``: those of ``extra`` to read), or None
    when the compiled reader is not available, or leaves the file to Polars."""
    module = native_module()
    if module is None or not hasattr(module, "read_events_jsonl") or path.suffix == ".parquet":
        return None
    table = module.read_events_jsonl(str(path), list(fields), threads=pl.thread_pool_size())
    return None if table is None else pl.DataFrame(table)


def read_block(data: bytes, fields: Sequence[str]) -> pl.DataFrame | None:
    """As :func:`read_file`, of whole lines in memory."""
    module = native_module()
    if module is None or not hasattr(module, "read_events_block"):
        return None
    table = module.read_events_block(data, list(fields))
    return None if table is None else pl.DataFrame(table)
