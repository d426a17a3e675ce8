import itertools
import os

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from native_marks import native_part
from ppcti.clean.dedup import Deduplicator

native, needs_row_keys = native_part("row_keys")


def batch(file: str, rows: list[tuple[int, str, str]]) -> pl.DataFrame:
    """rows of (line, normalised value, raw text)."""
    return pl.DataFrame(
        {
            "source_file": [file] * len(rows),
            "line": [r[0] for r in rows],
            "value": [r[1] for r in rows],
            "raw": [r[2] for r in rows],
        },
        schema={"source_file": pl.String, "line": pl.Int64, "value": pl.String, "raw": pl.String},
    )


def test_within_and_across_batches_and_files() -> None:
    dedup = Deduplicator()
    kept, dups = dedup.split(
        batch("a.log", [(1, "x", "X"), (2, "y", "Y"), (3, "x", "X")]), group="g", key_columns=["value"]
    )
    assert kept.get_column("line").to_list() == [1, 2]
    assert dups.select("line", "duplicate_of", "duplicate_kind").rows() == [(3, "a.log:1", "exact")]
    kept, dups = dedup.split(
        batch("b.log", [(1, "y", "y written otherwise"), (2, "z", "Z")]), group="g", key_columns=["value"]
    )
    assert kept.get_column("line").to_list() == [2]
    assert dups.select("line", "duplicate_of", "duplicate_kind").rows() == [(1, "a.log:2", "normalised")]
    assert (dedup.exact, dedup.normalised) == (1, 1)


def test_groups_never_match_each_other() -> None:
    dedup = Deduplicator()
    dedup.split(batch("a", [(1, "x", "X")]), group="one", key_columns=["value"])
    kept, dups = dedup.split(batch("b", [(1, "x", "X")]), group="two", key_columns=["value"])
    assert kept.height == 1 and dups.height == 0


@given(st.lists(st.lists(st.sampled_from("abcdef"), max_size=12), min_size=1, max_size=6))
def test_matches_a_reference_set(batches: list[list[str]]) -> None:
    dedup = Deduplicator()
    seen: dict[str, str] = {}
    for number, values in enumerate(batches):
        file = f"f{number}"
        rows = [(i + 1, v, v) for i, v in enumerate(values)]
        kept, dups = dedup.split(batch(file, rows), group="g", key_columns=["value"])
        expected_kept, expected_dups = [], []
        for line, value, _ in rows:
            if value in seen:
                expected_dups.append((line, seen[value]))
            else:
                seen[value] = f"{file}:{line}"
                expected_kept.append(line)
        assert kept.get_column("line").to_list() == expected_kept
        assert dups.select("line", "duplicate_of").rows() == expected_dups


# values that only tell apart when nulls, empty texts and list boundaries are kept apart
_TEXTS = st.sampled_from([None, "", "a", "b", "ab", "a\x00b", "é"])
_ROW = st.tuples(
    _TEXTS,
    st.sampled_from([None, 0, 1, -1]),
    st.none() | st.lists(_TEXTS, max_size=3),
    st.none() | st.tuples(_TEXTS, st.none() | st.lists(_TEXTS, max_size=2)),
    st.sampled_from(["r1", "r2"]),
)
_SCHEMA = {
    "source_file": pl.String,
    "line": pl.Int64,
    "text": pl.String,
    "port": pl.Int32,
    "emails": pl.List(pl.String),
    "extra": pl.Struct({"sender": pl.String, "recipients": pl.List(pl.String)}),
    "raw": pl.String,
}


def _event_batch(file: str, rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (
                file,
                i + 1,
                text,
                port,
                emails,
                None if extra is None else dict(zip(("sender", "recipients"), extra, strict=True)),
                raw,
            )
            for i, (text, port, emails, extra, raw) in enumerate(rows)
        ],
        schema=_SCHEMA,
        orient="row",
    )


def _splits(batches: list[pl.DataFrame], native: bool) -> list[tuple[list, list]]:
    old = os.environ.get("PPCTI_NATIVE")
    os.environ["PPCTI_NATIVE"] = "1" if native else "0"
    try:
        dedup, out = Deduplicator(), []
        extra = pl.struct(pl.col("extra").struct.field("sender"), pl.col("extra").struct.field("recipients"))
        keys = ["text", "port", "emails", extra.alias("_dedup_extra")]
        for frame in batches:
            kept, dups = dedup.split(frame, group="g", key_columns=keys)
            out.append((kept.rows(), dups.select("line", "duplicate_of", "duplicate_kind").rows()))
        return out
    finally:
        if old is None:
            os.environ.pop("PPCTI_NATIVE", None)
        else:
            os.environ["PPCTI_NATIVE"] = old


@needs_row_keys
@given(st.lists(st.lists(_ROW, max_size=10), min_size=1, max_size=4))
def test_compiled_keys_split_as_polars_hashes_do(batches: list[list[tuple]]) -> None:
    frames = [_event_batch(f"f{n}", rows) for n, rows in enumerate(batches)]
    assert _splits(frames, native=True) == _splits(frames, native=False)
    # equal rows, equal keys; rows that differ in any value (a null against "", a list cut elsewhere), not
    assert native is not None
    rows = [row for frame in frames for row in frame.drop("source_file", "line").rows()]
    keys = pl.DataFrame(native.row_keys(pl.concat(frames).drop("source_file", "line"))).to_series().to_list()
    for (a, ka), (b, kb) in itertools.combinations(zip(rows, keys, strict=True), 2):
        assert (a == b) == (ka == kb)


@needs_row_keys
def test_the_compiled_keys_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    class Spy:
        def row_keys(self, table: pl.DataFrame) -> object:
            calls.append(table.columns)
            assert native is not None
            return native.row_keys(table)

    monkeypatch.setattr("ppcti.clean.dedup.native_module", Spy)
    kept, dups = Deduplicator().split(
        batch("a.log", [(1, "x", "X"), (2, "x", "X")]), group="g", key_columns=["value"]
    )
    assert calls == [["value"], ["raw"]]
    assert (kept.height, dups.get_column("duplicate_kind").to_list()) == (1, ["exact"])
