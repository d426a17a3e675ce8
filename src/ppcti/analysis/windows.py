"""Sliding-window "many distinct members per key" detection, exact and column-wise.

Both botnet patterns are the same question asked of different columns: for a key (a target and
service, or one source), when do at least ``n`` distinct members (sources, or targets) occur inside a
window of length ``w``? A per-row rolling ``n_unique`` answers it but costs O(rows x window) on a busy
target. Instead:

1. Each member is *present* during ``[t, t + w)`` after each of its events; per (key, member) these
   intervals are merged where consecutive events are less than ``w`` apart (a cumulative sum over a
   gap flag).
2. A sweep line over the merged intervals (+1 at start, -1 at end, running sum per key) gives, at every
   instant ``x``, the number of distinct members with an event in ``(x - w, x]``.
3. Runs where that number is at least ``n`` are the triggers; the events inside ``(start - w, end)`` of
   a run are exactly those that belong to some qualifying window. Runs whose event ranges overlap are
   merged into one group, so a sustained campaign is one group with its full span.

Everything is sorts, shifts, cumulative sums and one as-of join: linear after sorting. Keys and
string members are compared through 64-bit hashes (see ``ppcti.analysis.load._ids`` for the odds).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl


def dense_groups(
    rows: pl.DataFrame,
    keys: Sequence[str],
    member: str,
    *,
    window_us: int,
    min_members: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Groups of rows where >= ``min_members`` distinct ``member`` values fall within ``window_us``.

    ``rows`` needs ``keys``, ``member`` and ``t`` (µs) without nulls. Returns ``(groups, assigned)``:
    ``groups`` has one row per group (``group``, keys, ``peak`` = most distinct members in one
    window); ``assigned`` is the input rows that belong to a group, with its ``group`` column.
    """
    keys = list(keys)
    rows = rows.filter(pl.all_horizontal([pl.col(c).is_not_null() for c in [*keys, member, "t"]]))
    # One integer per key and per member: every sort below is numeric, and a key boundary is a change
    # of one integer, so running sums need no per-group windows and no group-by over all rows.
    key = pl.col(keys[0]) if len(keys) == 1 and rows.schema[keys[0]].is_integer() else pl.struct(keys).hash()
    mem = pl.col(member) if rows.schema[member].is_integer() else pl.col(member).hash()
    rows = _in_full_buckets(rows, keys, window_us, min_members).with_columns(_k=key, _m=mem)
    busy = rows.group_by("_k").agg(pl.col("_m").n_unique().alias("_n")).filter(pl.col("_n") >= min_members)
    rows = rows.join(busy.select("_k"), on="_k", how="semi")
    if rows.is_empty():
        return _no_groups(rows, keys)

    ordered = _by_key_member_time(rows.select("_k", "_m", "t"))
    same_km = (pl.col("_k") == pl.col("_k").shift(1)) & (pl.col("_m") == pl.col("_m").shift(1))
    starts = ~same_km.fill_null(False) | (pl.col("t") - pl.col("t").shift(1) >= window_us)
    flagged = ordered.with_columns(_start=starts).with_columns(
        _end=pl.col("_start").shift(-1).fill_null(True)
    )
    # Presence segments [s, e): the k-th segment start pairs with the k-th segment end.
    seg_start = flagged.filter(pl.col("_start")).select("_k", x=pl.col("t"), d=pl.lit(1, pl.Int32))
    seg_end = flagged.filter(pl.col("_end")).select("_k", x=pl.col("t") + window_us, d=pl.lit(-1, pl.Int32))
    # Ends sort before starts at the same instant (presence is half-open). Each key's deltas sum to
    # zero, so a global running sum equals the per-key one and a key starts from level 0.
    deltas = _by_key_instant(pl.concat([seg_start, seg_end])).with_columns(c=pl.col("d").cum_sum())
    last_at_instant = (pl.col("_k") != pl.col("_k").shift(-1)) | (pl.col("x") != pl.col("x").shift(-1))
    level = (
        deltas.filter(last_at_instant.fill_null(True))
        .with_columns(active=pl.col("c") >= min_members)
        .with_columns(_chg=pl.col("active") != pl.col("active").shift(1).fill_null(False))
        .with_columns(_run=pl.col("_chg").cum_sum())
    )
    # An active run always ends inside its key (the level returns to 0), at the next change.
    changes = level.filter(pl.col("_chg")).with_columns(b=pl.col("x").shift(-1))
    peaks = level.filter(pl.col("active")).group_by("_run").agg(peak=pl.col("c").max())
    runs = (
        changes.filter(pl.col("active"))
        .join(peaks, on="_run")
        .select("_k", "peak", lo=pl.col("x") - window_us, hi=pl.col("b"))
        .sort("_k", "lo")
    )
    merged = (
        runs.with_columns(_prev=pl.col("hi").cum_max().shift(1).over("_k"))
        .with_columns(_new=(pl.col("_prev").is_null() | (pl.col("lo") >= pl.col("_prev"))).cum_sum())
        .group_by("_new")
        .agg(pl.col("_k").first(), lo=pl.col("lo").min(), hi=pl.col("hi").max(), peak=pl.col("peak").max())
        .sort("_k", "lo")
        .with_row_index("group")
        .with_columns(pl.col("peak").cast(pl.UInt32))
    )
    # Row t belongs to a group iff lo < t < hi; a key's groups are disjoint, so an as-of join on
    # lo + 1 <= t finds the only candidate.
    assigned = (
        rows.join(merged.select("_k"), on="_k", how="semi")
        .sort("t")
        .join_asof(
            merged.select("_k", "group", "hi", _lo1=pl.col("lo") + 1).sort("_lo1"),
            left_on="t",
            right_on="_lo1",
            by="_k",
            strategy="backward",
            check_sortedness=False,  # both sides are sorted on the as-of column just above
        )
        .filter(pl.col("group").is_not_null() & (pl.col("t") < pl.col("hi")))
        .drop("_lo1", "hi", "_k", "_m")
    )
    first_rows = assigned.group_by("group").agg(pl.col(keys).first())
    groups = merged.join(first_rows, on="group").select("group", *keys, "peak").sort("group")
    return groups, assigned


def _by_key_member_time(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with each (``_k``, ``_m``) together, by ``t`` within: what the segments above need.

    A sort by ``t`` then a stable one by a hash of the pair costs a third of a sort on three columns.
    Pairs are not in their numeric order (the steps after do not need it); should two pairs share a
    hash, the sort on three columns is done instead, so the result is exact.
    """
    pair = pl.struct("_k", "_m").hash(31)
    ordered = rows.with_columns(_p=pair).sort("t").sort("_p", maintain_order=True)
    same_pair = (pl.col("_k") == pl.col("_k").shift(1)) & (pl.col("_m") == pl.col("_m").shift(1))
    shared = ordered.select(((pl.col("_p") == pl.col("_p").shift(1)) & ~same_pair).any()).item()
    return rows.sort("_k", "_m", "t") if shared else ordered.drop("_p")


#: Instants whose doubling stays inside 64 bits (any real timestamp in µs).
_HALF_RANGE = 2**61


def _by_key_instant(deltas: pl.DataFrame) -> pl.DataFrame:
    """``deltas`` by ``_k``, ``x``, ``d`` (-1 before +1 at one instant), as two single-column sorts:
    by ``2x`` plus one for starts, then stably by ``_k`` (less than half the time of one sort on three
    columns). Instants too large to double are sorted on the three columns."""
    bounds = deltas.select(lo=pl.col("x").min(), hi=pl.col("x").max()).row(0)
    if deltas.is_empty() or bounds[0] < -_HALF_RANGE or bounds[1] >= _HALF_RANGE:
        return deltas.sort("_k", "x", "d")
    instant = pl.col("x") * 2 + (pl.col("d") > 0).cast(pl.Int64)
    return deltas.sort(instant).sort("_k", maintain_order=True)


def _slot_bits(rows: int) -> int:
    """Bits of a bucket id that index its count: at least twice as many slots as rows (``2**16`` at
    least), so that few buckets share a slot."""
    return max(16, (2 * rows - 1).bit_length())


def bucket_ids(rows: pl.DataFrame, keys: list[str], window_us: int) -> pl.DataFrame:
    """Each row's bucket in the two grids of :func:`_in_full_buckets` (``_a``, ``_b``): combined hashes
    of its key and its bucket of ``2 * window_us``."""
    key = pl.col(keys[0]).hash(11)
    for i, name in enumerate(keys[1:]):
        key = key ^ pl.col(name).hash(12 + i)
    span = 2 * window_us
    return rows.select(
        _a=key ^ (pl.col("t") // span).hash(21), _b=key ^ ((pl.col("t") + window_us) // span).hash(22)
    )


def _in_full_buckets(rows: pl.DataFrame, keys: list[str], window_us: int, min_members: int) -> pl.DataFrame:
    """The rows that can be part of a qualifying window: a cheap, exact pre-filter.

    A window ``(x - w, x]`` lies inside one bucket ``[2w·j, 2w·(j+1))`` of the key, or inside one of the
    grid shifted by ``w``; holding ``min_members`` distinct members, it holds at least as many rows. So
    a row whose buckets in both grids hold fewer rows is in no qualifying window and cannot change the
    result: every instant where the distinct count reaches ``min_members`` counts only kept rows, and
    elsewhere the count stays below. Of the benchmark's 4.9 M hits, 0.4 % remain for the botnet sorts
    below and 18 % for the sweeps'. Bucket ids are combined hashes, counted in a table of at least
    twice as many slots as rows, indexed by their low bits: a collision (of hashes, or of slots) only
    merges buckets, which keeps more rows, never fewer. Counting (``np.bincount``, then a look-up) takes
    less than half the time of the sort that found the full buckets before (bench/windows_prefilter.py).
    """
    ids = bucket_ids(rows, keys, window_us)
    bits = _slot_bits(rows.height)
    low = np.uint64((1 << bits) - 1)
    keep = np.zeros(rows.height, dtype=bool)
    for name in ("_a", "_b"):
        # below 2**63 once masked: the same values as signed integers, the index type bincount takes
        slot = (ids.get_column(name).to_numpy() & low).view(np.int64)
        keep |= np.bincount(slot, minlength=1 << bits)[slot] >= min_members
    return rows.filter(pl.Series(keep))


def _no_groups(rows: pl.DataFrame, keys: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    assigned = rows.drop("_k", "_m").clear().with_columns(group=pl.lit(0, pl.UInt32))
    return assigned.select(pl.col("group"), *keys, pl.lit(0, pl.UInt32).alias("peak")), assigned
