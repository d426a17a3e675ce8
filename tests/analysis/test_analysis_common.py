"""Entry fields looked up for hits (``with_entry_fields``): the fields of each hit's own entry; and
the groups listed, the only ones whose entries are looked up."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest
from analysis_helpers import fw, numbered, write_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppcti.analysis.common import ENTRY_FIELDS, with_entry_fields
from ppcti.analysis.groups import botnet_groups, sweep_groups
from ppcti.analysis.load import load
from ppcti.analysis.options import AnalysisOptions


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


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hits=st.lists(
        st.tuples(st.integers(1, 6), st.integers(1, 6), st.sampled_from([22, 80]), st.integers(0, 1_200)),
        min_size=1,
        max_size=80,
    ),
    cut=st.integers(1, 5),
)
def test_listed_groups_are_the_first_of_all_and_all_are_counted(
    tmp_path_factory: pytest.TempPathFactory, hits: list[tuple[int, int, int, int]], cut: int
) -> None:
    """Only the groups listed get their entries (see groups._described): the listed ones must be the
    first ``max_groups`` of the description of every group, and the total must count all of them."""
    events = [
        fw("acme", t, f"198.51.100.{s}", f"203.0.113.{d}", port=port, file=f"f{s % 2}.log")
        for s, d, port, t in hits
    ]
    path = write_events(tmp_path_factory.mktemp("groups") / "e.jsonl", numbered(events))
    options = AnalysisOptions(botnet_min_sources=2, sweep_min_targets=2, members_cap=2, entries_cap=2)
    loaded = load(path, options)
    for find in (botnet_groups, sweep_groups):
        every, total = find(loaded.hits, replace(options, max_groups=10_000), loaded.events)
        listed, counted = find(loaded.hits, replace(options, max_groups=cut), loaded.events)
        assert total == counted == every.height
        assert listed.equals(every.head(cut))
