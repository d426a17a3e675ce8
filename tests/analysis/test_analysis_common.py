"""Entry fields looked up for hits (``with_entry_fields``): the fields of each hit's own entry."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.analysis.common import ENTRY_FIELDS, with_entry_fields


def _events(rows: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": rows,
            "source_file": [f"f{r % 3}.log" for r in rows],
            "line": [r * 10 for r in rows],
            "protocol": [None if r % 4 == 0 else "TCP" for r in rows],
        },
        schema_overrides={"row": pl.UInt32},
    )


@settings(max_examples=150, deadline=None)
@given(
    st.sets(st.integers(0, 500), max_size=40),
    st.lists(st.integers(0, 500), max_size=40),
    st.booleans(),
)
def test_each_hit_gets_its_entrys_fields(present: set[int], wanted: list[int], shuffled: bool) -> None:
    """In row order (the binary search) or not (the join), a row present in the events gets its own
    fields, a row absent gets nulls, and the hits keep their order."""
    events = _events(sorted(present))
    if shuffled:
        events = events.reverse()
    hits = pl.DataFrame({"row": wanted, "n": range(len(wanted))}, schema={"row": pl.UInt32, "n": pl.Int64})
    out = with_entry_fields(hits, events, ["line", "source_file"])
    assert out.columns == ["row", "n", "line", "source_file"]
    assert out.get_column("n").to_list() == list(range(len(wanted)))
    by_row = {r: (r * 10, f"f{r % 3}.log") for r in present}
    expected = [by_row.get(r, (None, None)) for r in wanted]
    assert list(zip(out.get_column("line"), out.get_column("source_file"), strict=True)) == expected


def test_hits_that_carry_the_fields_are_left_as_they_are() -> None:
    hits = _events([3, 1]).with_columns(pl.lit("x").alias("source_file"))
    assert with_entry_fields(hits, _events([1, 3]), ENTRY_FIELDS).equals(hits)
    narrow = hits.select("row")
    assert with_entry_fields(narrow, None, ENTRY_FIELDS).equals(narrow)
