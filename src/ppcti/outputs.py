"""How a run's row outputs are written: events as JSON lines, cleaned text files as lines.

Both take Polars frames. The compiled writers of ``ppcti-native`` write them straight to the file with a
buffer kept from one batch to the next; without them the same bytes come from Polars expressions, and
for column types neither covers (floats, dates, lists of structs) from orjson row by row
(``tests/test_outputs.py``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
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


def write_frame(frame: pl.DataFrame, handle: IO[bytes], *, skip: Sequence[int] | None = None) -> None:
    """The rows of ``frame`` as JSON lines in the ``events.jsonl`` form: absent values omitted; less the
    rows at the positions ``skip`` (ascending), which the compiled writer passes over without a filtered
    copy of the frame.

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
            if module.write_ndjson(_nulls_dropped(frame), fd, list(skip or ())):
                return
        except (TypeError, ValueError):  # a type Arrow's C interface cannot carry (Null in a struct, Int128)
            pass
    if skip:
        frame = frame.filter(pl.int_range(frame.height).is_in(list(skip)).not_())
    lines = _json_lines(frame)
    if lines is not None:
        write_lines(lines, handle)
        return
    handle.write(b"".join(orjson.dumps(_present_object(row)) + b"\n" for row in frame.iter_rows(named=True)))


#: Column types the Polars writer below covers; anything else (floats, dates, lists of structs) goes
#: row by row through orjson.
_SCALARS = (pl.String, pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64)
_SCALARS += (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


def _json_lines(frame: pl.DataFrame) -> pl.DataFrame | None:
    """Each row as a JSON object with absent values left out, built column-wise in Polars (about three
    times faster than orjson row by row on firewall events); None when a column type is not covered."""
    fields = [(name, pl.col(name), dtype) for name, dtype in frame.schema.items()]
    line = _object(fields)
    # with_columns, not select: a row with nothing present is the literal "{}", once per row
    return None if line is None else frame.with_columns(line.alias("_json")).select(json="_json")


def _object(fields: list[tuple[str, pl.Expr, pl.DataType]]) -> pl.Expr | None:
    pieces = []
    for name, expr, dtype in fields:
        if dtype == pl.Null:
            continue
        value = _value(expr, dtype)
        if value is None:
            return None
        pieces.append(pl.concat_str(pl.lit(orjson.dumps(name).decode() + ":"), value))
    if not pieces:
        return pl.lit("{}")
    return pl.concat_str(pl.lit("{"), pl.concat_str(pieces, separator=",", ignore_nulls=True), pl.lit("}"))


def _value(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr | None:
    """The JSON text of a value, null where it is absent."""
    if isinstance(dtype, pl.Struct):
        inner = _object([(f.name, expr.struct.field(f.name), f.dtype) for f in dtype.fields])
        if inner is None:
            return None
        return pl.when(expr.is_null() | (inner == "{}")).then(None).otherwise(inner)
    if isinstance(dtype, pl.List) and isinstance(dtype.inner, _SCALARS):
        # Polars writes list items as JSON does (nulls kept); an empty list is absent
        text = _encoded(expr)
        return pl.when(expr.is_null() | (expr.list.len() == 0)).then(None).otherwise(text)
    if isinstance(dtype, _SCALARS):
        return pl.when(expr.is_null()).then(None).otherwise(_encoded(expr))
    return None


def _encoded(expr: pl.Expr) -> pl.Expr:
    """Polars' own JSON for one value (escaped as serde_json and orjson escape), without its wrapper."""
    return pl.struct(expr.alias("v")).struct.json_encode().str.strip_prefix('{"v":').str.strip_suffix("}")


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
