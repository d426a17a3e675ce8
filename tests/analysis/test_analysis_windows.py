"""The sliding-window detector against a brute-force definition of "n distinct members within w"."""

from __future__ import annotations

from unittest.mock import patch

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.analysis import windows
from ppcti.analysis.windows import dense_groups

MIN = 60_000_000


def _frame(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"k": pl.String, "m": pl.String, "t": pl.Int64}, orient="row"
    ).with_row_index("id")


def _reference(rows: list[tuple[str, str, int]], w: int, n: int) -> set[int]:
    """Row ids inside some window (x - w, x] holding >= n distinct members of the row's key.

    A window that qualifies can always be slid right to end on an event, so event times suffice as x.
    """
    chosen: set[int] = set()
    for key in {k for k, _, _ in rows}:
        mine = [(i, m, t) for i, (k, m, t) in enumerate(rows) if k == key]
        for _, _, x in mine:
            inside = [(i, m) for i, m, t in mine if x - w < t <= x]
            if len({m for _, m in inside}) >= n:
                chosen |= {i for i, _ in inside}
    return chosen


def test_six_sources_within_five_minutes() -> None:
    rows = [("a", f"s{i}", i * MIN) for i in range(6)] + [("a", "late", 60 * MIN), ("b", "s1", 0)]
    groups, assigned = dense_groups(_frame(rows), ["k"], "m", window_us=10 * MIN, min_members=6)
    assert groups.select("k", "peak").rows() == [("a", 6)]
    assert sorted(assigned["m"].to_list()) == [f"s{i}" for i in range(6)]


def test_span_equal_to_window_does_not_count() -> None:
    rows = [("a", "s0", 0), ("a", "s1", 10 * MIN)]
    assert dense_groups(_frame(rows), ["k"], "m", window_us=10 * MIN, min_members=2)[0].is_empty()
    assert dense_groups(_frame(rows), ["k"], "m", window_us=10 * MIN + 1, min_members=2)[0].height == 1


def test_sustained_activity_is_one_group() -> None:
    rows = [("a", f"s{i % 7}", i * MIN) for i in range(120)]  # 7 sources in rotation for two hours
    groups, assigned = dense_groups(_frame(rows), ["k"], "m", window_us=10 * MIN, min_members=5)
    assert groups.height == 1
    assert assigned.height == 120


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ab"), st.sampled_from(["m1", "m2", "m3", "m4", "m5"]), st.integers(0, 40)),
        max_size=40,
    ),
    st.integers(1, 12),
    st.integers(1, 4),
)
def test_matches_brute_force(raw: list[tuple[str, str, int]], w_min: int, n: int) -> None:
    rows = [(k, m, t * MIN // 2) for k, m, t in raw]
    groups, assigned = dense_groups(_frame(rows), ["k"], "m", window_us=w_min * MIN, min_members=n)
    assert set(assigned["id"].to_list()) == _reference(rows, w_min * MIN, n)
    # Groups of one key never overlap and every group has rows.
    assert set(assigned["group"].unique().to_list()) == set(groups["group"].to_list())


def _peaks(rows: list[tuple[str, str, int]], w: int, n: int) -> dict[str, int]:
    """Per key, the most distinct members in one window (x - w, x], where that reaches ``n``."""
    out: dict[str, int] = {}
    for k, _, x in rows:
        inside = {m for k2, m, t in rows if k2 == k and x - w < t <= x}
        if len(inside) >= n:
            out[k] = max(out.get(k, 0), len(inside))
    return out


@settings(max_examples=250, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from(["m1", "m2", "m3", "m4"]), st.integers(0, 200)),
        max_size=60,
    ),
    st.integers(1, 12),
    st.integers(1, 4),
    st.one_of(st.none(), st.integers(1, 3)),
)
def test_bucket_prefilter_keeps_peaks(
    raw: list[tuple[str, str, int]], w_min: int, n: int, bits: int | None
) -> None:
    """Entries spread over many buckets (most of them dropped by the pre-filter before the sorts)
    still give the brute-force entries and peaks. With a table of 2 to 8 counts (``bits``), most
    buckets share a count and look fuller than they are: the pre-filter keeps more rows, and the
    result is the same."""
    rows = [(k, m, t * MIN // 3) for k, m, t in raw]
    slots = windows._slot_bits if bits is None else (lambda _rows: bits)
    with patch.object(windows, "_slot_bits", slots):
        groups, assigned = dense_groups(_frame(rows), ["k"], "m", window_us=w_min * MIN, min_members=n)
    assert set(assigned["id"].to_list()) == _reference(rows, w_min * MIN, n)
    found = groups.group_by("k").agg(pl.col("peak").max())
    assert dict(found.iter_rows()) == _peaks(rows, w_min * MIN, n)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4), st.integers(-5, 5)), min_size=1, max_size=60),
    st.booleans(),
)
def test_the_sweep_line_sorts_give_what_sorts_on_three_columns_give(
    rows: list[tuple[int, int, int]], huge: bool
) -> None:
    frame = pl.DataFrame(rows, schema={"_k": pl.UInt64, "_m": pl.UInt64, "t": pl.Int64}, orient="row")
    # each (key, member) together, by time within: the same runs as the sort on three columns
    got = windows._by_key_member_time(frame)
    want = frame.sort("_k", "_m", "t")
    assert got.columns == want.columns
    runs = got.group_by(["_k", "_m"], maintain_order=True).agg("t")
    assert runs.height == frame.select("_k", "_m").unique().height
    assert runs.sort("_k", "_m").equals(want.group_by(["_k", "_m"], maintain_order=True).agg("t"))
    # deltas: equal rows tie, so the frames are equal; instants too large to double take the fallback
    scale = 2**60 if huge else 1
    deltas = frame.select("_k", x=pl.col("t") * scale, d=pl.when(pl.col("_m") % 2 == 0).then(1).otherwise(-1))
    assert windows._by_key_instant(deltas).equals(deltas.sort("_k", "x", "d"))


def test_count_table_has_twice_the_slots_of_rows() -> None:
    assert windows._slot_bits(0) == windows._slot_bits(1) == 16
    assert windows._slot_bits(5_000_000) == 24  # 16.8 M slots, at least 10 M
    assert 1 << windows._slot_bits(40_000) >= 80_000
