"""Run outputs: the compiled writers and their orjson / Polars fallbacks give the same bytes."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import orjson
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.native import native_module
from ppcti.outputs import write_frame, write_lines

try:
    import ppcti_native as native
except ImportError:
    if os.environ.get("PPCTI_REQUIRE_NATIVE") == "1":
        raise
    native = None
needs_native = pytest.mark.skipif(native is None, reason="ppcti-native is not built")

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_COLUMNS = {
    "text": (st.none() | _TEXT, pl.String),
    "int32": (st.none() | st.integers(-(2**31), 2**31 - 1), pl.Int32),
    "int64": (st.none() | st.integers(-(2**63), 2**63 - 1), pl.Int64),
    "uint64": (st.none() | st.integers(0, 2**64 - 1), pl.UInt64),
    "int8": (st.none() | st.integers(-128, 127), pl.Int8),
    "flag": (st.none() | st.booleans(), pl.Boolean),
    "emails": (st.none() | st.lists(st.none() | _TEXT, max_size=3), pl.List(pl.String)),
    "ports": (st.none() | st.lists(st.integers(0, 65535), max_size=3), pl.List(pl.Int32)),
}


def written(
    frame: pl.DataFrame, *, native_on: bool, writer: Callable[[pl.DataFrame, IO[bytes]], None] = write_frame
) -> bytes:
    """What ``writer`` puts in a real file after a line written by the caller's own buffer."""
    old = os.environ.get("PPCTI_NATIVE")
    os.environ["PPCTI_NATIVE"] = "1" if native_on else "0"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "out"
            with open(path, "wb") as handle:
                handle.write(b"first\n")  # still in the handle's buffer when the writer starts
                writer(frame, handle)
                writer(frame, handle)
            data = path.read_bytes()
        assert data.startswith(b"first\n")
        half = (len(data) - 6) // 2
        assert data[6 : 6 + half] == data[6 + half :]
        return data[6 : 6 + half]
    finally:
        if old is None:
            del os.environ["PPCTI_NATIVE"]
        else:
            os.environ["PPCTI_NATIVE"] = old


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    names = draw(st.lists(st.sampled_from(sorted(_COLUMNS)), min_size=1, max_size=6, unique=True))
    rows = draw(st.integers(1, 8))
    data = {
        name: pl.Series(name, [draw(_COLUMNS[name][0]) for _ in range(rows)], dtype=_COLUMNS[name][1])
        for name in names
    }
    frame = pl.DataFrame(data)
    if draw(st.booleans()) and len(names) > 1:
        # a struct of some columns, some of its rows null as a whole, as events' ``extra``
        inner = names[: draw(st.integers(1, len(names) - 1))]
        nulls = pl.Series([draw(st.booleans()) for _ in range(rows)])
        frame = frame.with_columns(extra=pl.when(nulls).then(None).otherwise(pl.struct(inner))).drop(inner)
        if draw(st.booleans()):  # a list of structs
            frame = frame.with_columns(items=pl.concat_list(pl.col("extra"), pl.col("extra")))
    if draw(st.booleans()):
        frame = frame.with_columns(nothing=pl.lit(None))
    if draw(st.booleans()):  # several chunks, as frames concatenated from batches are
        frame = pl.concat([frame, frame.reverse()], rechunk=False)
    return frame


def expected(value: object) -> object:
    """The row as it should read back: absent values (null, [], no field present) left out of objects."""
    if isinstance(value, dict):
        kept = {k: expected(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [expected(v) for v in value]
    return value


@given(frames())
def test_compiled_and_orjson_write_the_same_bytes(frame: pl.DataFrame) -> None:
    compiled = written(frame, native_on=True)  # the Polars writer when the extension is not built
    assert compiled == written(frame, native_on=False)
    if native is not None and pl.Null not in frame.schema.values():  # compiled, not declined
        with tempfile.TemporaryFile() as handle:
            assert native.write_ndjson(frame, handle.fileno())
    # the column-wise Polars writer and orjson row by row agree too (the fallback of the fallback)
    from ppcti.outputs import _json_lines, _present_object

    rows = b"".join(orjson.dumps(_present_object(r)) + b"\n" for r in frame.iter_rows(named=True))
    assert compiled == rows
    lines = _json_lines(frame)
    covered = not any(isinstance(d, pl.List) and isinstance(d.inner, pl.Struct) for d in frame.dtypes)
    assert (lines is not None) == covered  # lists of structs are left to orjson
    if lines is not None:
        assert b"".join(line.encode() + b"\n" for line in lines.get_column("json")) == rows
    # every line is the row with its absent values left out, and nothing else
    lines = [orjson.loads(line) for line in compiled.splitlines()]
    assert lines == [expected(row) for row in frame.iter_rows(named=True)]


# mostly plain bytes with a character JSON escapes here and there, at any place of strings of any length
# (the compiled writer checks sixteen bytes at a time, then the last bytes as overlapping words)
_SPARSE = st.text(
    alphabet=st.sampled_from([*"aaaaaaaaaaaaaab", '"', "\\", "\n", "\x01", "\x1f", "\x7f", "é", "\u2028"]),
    max_size=40,
)


@given(st.lists(_SPARSE, min_size=1, max_size=8))
def test_strings_of_every_length_are_escaped_as_orjson_escapes_them(values: list[str]) -> None:
    frame = pl.DataFrame({"s": values}, schema={"s": pl.String})
    if native is not None:  # the compiled writer takes the frame, not orjson
        with tempfile.TemporaryFile() as handle:
            assert native.write_ndjson(frame, handle.fileno())
    assert written(frame, native_on=True) == b"".join(orjson.dumps({"s": v}) + b"\n" for v in values)


def test_escapes_like_orjson() -> None:
    text = 'a"b\\c/d\n\r\t\x08\x0c\x01\x1f\x7f é \u2028 \U0001f600'
    frame = pl.DataFrame({"s": [text, None], 'k"ey': [1, 2]})
    assert written(frame, native_on=True) == written(frame, native_on=False)
    assert orjson.loads(written(frame, native_on=True).splitlines()[0]) == {"s": text, 'k"ey': 1}


@needs_native
def test_other_types_go_through_orjson() -> None:
    frame = pl.DataFrame({"x": [1.5, None], "s": ["a", None]})
    with tempfile.TemporaryFile() as handle:
        assert not native.write_ndjson(frame, handle.fileno())
        handle.seek(0)
        assert handle.read() == b""
    assert written(frame, native_on=True) == b'{"x":1.5,"s":"a"}\n{}\n'

    buffer = io.BytesIO()  # no file descriptor: orjson
    write_frame(frame, buffer)
    assert buffer.getvalue() == b'{"x":1.5,"s":"a"}\n{}\n'


@needs_native
def test_switch_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert native_module() is native
    monkeypatch.setenv("PPCTI_NATIVE", "0")
    assert native_module() is None


_LINE = st.text(
    alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=20
)


@given(st.lists(st.none() | _LINE, min_size=1))
def test_lines_as_polars_writes_them(values: list[str | None]) -> None:
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    reference = io.BytesIO()
    frame.write_csv(reference, include_header=False, quote_style="never")
    assert written(frame, native_on=True, writer=write_lines) == reference.getvalue()
    assert written(frame, native_on=False, writer=write_lines) == reference.getvalue()


def test_types_arrow_cannot_carry_and_handles_without_a_plain_file(tmp_path: Path) -> None:
    import gzip

    frame = pl.DataFrame({"i": pl.Series([1, None], dtype=pl.Int128), "s": ["a", None]})
    assert written(frame, native_on=True) == b'{"i":1,"s":"a"}\n{}\n'
    nulls = pl.DataFrame({"s": [None, None]})
    assert written(nulls, native_on=True, writer=write_lines) == b"\n\n"
    # a gzip file has a descriptor too, but of its compressed bytes: the writers must not use it
    path = tmp_path / "events.jsonl.gz"
    events = pl.DataFrame({"s": ["a", "b"]})
    with gzip.open(path, "wb") as handle:
        write_frame(events, handle)
        write_lines(events, handle)
    assert gzip.decompress(path.read_bytes()) == b'{"s":"a"}\n{"s":"b"}\na\nb\n'


def test_rows_with_nothing_present_stay_one_line_each() -> None:
    frame = pl.DataFrame({"a": [None, None, None]}, schema={"a": pl.Null})
    assert written(frame, native_on=False) == b"{}\n{}\n{}\n"
    assert written(frame, native_on=True) == b"{}\n{}\n{}\n"


@needs_native
def test_frames_larger_than_a_write_chunk_keep_their_order() -> None:
    """The compiled writers hand the file 256 KiB at a time: rows across chunk ends, several Arrow
    batches (a frame of several chunks) and a row larger than a chunk all come out whole and in order."""
    rows = 40_000
    parts = [
        pl.DataFrame(
            {"n": list(range(start, start + rows // 4)), "s": [f"v{i % 97}" * 9 for i in range(rows // 4)]}
        )
        for start in range(0, rows, rows // 4)
    ]
    frame = pl.concat([*parts, pl.DataFrame({"n": [rows], "s": ["x" * 600_000]})], rechunk=False)
    assert frame.n_chunks() > 1
    compiled = written(frame, native_on=True)
    assert len(compiled) > 4 * 256 * 1024
    assert compiled == written(frame, native_on=False)
    assert [orjson.loads(line)["n"] for line in compiled.splitlines()] == list(range(rows + 1))
    lines = frame.select("s")
    assert written(lines, native_on=True, writer=write_lines) == written(
        lines, native_on=False, writer=write_lines
    )


@given(frames(), st.data())
def test_skipped_rows_are_left_out_as_a_filter_leaves_them(frame: pl.DataFrame, data: st.DataObject) -> None:
    """``skip`` (the duplicates of a batch) gives the bytes of the frame without those rows, compiled or
    not, across the frame's chunks."""
    skip = sorted(data.draw(st.sets(st.integers(0, frame.height - 1))))
    filtered = frame.filter(~pl.int_range(frame.height).is_in(skip))

    def skipping(f: pl.DataFrame, handle: IO[bytes]) -> None:
        write_frame(f, handle, skip=skip)

    expected_bytes = written(filtered, native_on=False) if filtered.height else b""
    assert written(frame, native_on=True, writer=skipping) == expected_bytes
    assert written(frame, native_on=False, writer=skipping) == expected_bytes
    if native is not None and pl.Null not in frame.schema.values():  # compiled, not declined
        with tempfile.TemporaryFile() as handle:
            assert native.write_ndjson(frame, handle.fileno(), skip)


@needs_native
@given(
    st.lists(st.none() | _TEXT, min_size=1, max_size=5),
    st.sampled_from(["bench", "", 'a "quoted" name\n', "mail-quarantine.csv", "é" * 20]),
)
def test_broadcast_strings_are_written_as_the_others(values: list[str | None], constant: str) -> None:
    """A value Polars broadcast (the holder, the file name: one view repeated, inline or not) is escaped
    once by the compiled writer; the bytes are those of any other column, and of the same strings
    written one by one."""
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String}).with_columns(
        holder=pl.lit(constant), again=pl.lit(constant).repeat_by(1), copy=pl.Series([constant] * len(values))
    )
    compiled = written(frame, native_on=True)
    assert compiled == written(frame, native_on=False)
    with tempfile.TemporaryFile() as handle:
        assert native.write_ndjson(frame, handle.fileno())
    assert all(orjson.loads(line)["holder"] == constant for line in compiled.splitlines())


@needs_native
def test_skip_must_be_ascending() -> None:
    with tempfile.TemporaryFile() as handle, pytest.raises(ValueError, match="ascending"):
        native.write_ndjson(pl.DataFrame({"n": [1, 2, 3]}), handle.fileno(), [2, 1])
