"""Expressions shared by the analyses: timestamps back to STIX text, capped lists, entry references."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US

#: Fields of an entry that the in-memory ``hits`` leave out: only the few hits an analysis outputs need
#: them, looked up in ``events`` by :func:`with_entry_fields`. Copied to every hit, they cost 10-20 % of
#: the load of 5 M events (``bench/analysis.py --load-only``, docs/benchmarks/analysis.md).
ENTRY_FIELDS = ("source_file", "line", "protocol")


def with_entry_fields(rows: pl.DataFrame, events: pl.DataFrame | None, names: Sequence[str]) -> pl.DataFrame:
    """``rows`` (hits, with their ``row``) with the fields ``names`` of their entries in ``events``.

    ``events`` None means the rows carry them already (hits read back from a partitioned run's files
    have every field). :func:`~ppcti.analysis.load.build` keeps events in row order, so each row is
    found by a binary search; should a row be missing or the order differ, a join finds them instead.
    """
    missing = [n for n in names if n not in rows.columns]
    if events is None or not missing:
        return rows
    keys = events.get_column("row")
    wanted = rows.get_column("row")
    at = keys.search_sorted(wanted).clip(upper_bound=max(keys.len() - 1, 0))
    if keys.len() and keys.is_sorted() and keys.gather(at).equals(wanted, check_names=False):
        return rows.with_columns(events.select(missing)[at])
    return rows.join(events.select("row", *missing), on="row", how="left", maintain_order="left")


def iso(col: str | pl.Expr) -> pl.Expr:
    """Microseconds since the epoch as STIX timestamp text, keeping only the precision that is there."""
    expr = pl.col(col) if isinstance(col, str) else col
    dt = pl.from_epoch(expr, time_unit="us")
    return (
        pl.when(expr.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(expr % 1_000_000 == 0)
        .then(dt.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        .when(expr % 1_000 == 0)
        .then(dt.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))
        .otherwise(dt.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
    )


def entry_refs(cap: int) -> list[pl.Expr]:
    """Aggregations: ``entries`` (the first ``cap`` supporting entries by time, file, line, as
    ``{file, line}``) and ``entries_count``. Picks the k smallest per group instead of sorting all rows;
    call :func:`finish_entries` on the result.
    """
    order = ["t", "source_file", "line"]
    return [
        pl.struct(*order).bottom_k_by(order, k=cap).alias("entries"),
        pl.len().alias("entries_count"),
    ]


def finish_entries() -> pl.Expr:
    """Order the picked entries (bottom-k gives no order) and keep only file and line."""
    element = pl.element().struct
    return (
        pl.col("entries")
        .list.sort()
        .list.eval(pl.struct(file=element.field("source_file"), line=element.field("line")))
    )


def counted(
    frame: pl.DataFrame, keys: list[str], value: str, cap: int, name: str, *, value_id: str | None = None
) -> pl.DataFrame:
    """Per key, the ``cap`` most frequent values of ``value`` as ``[{value, count}]`` plus the distinct count.

    Ties are broken by the value so the output is stable. ``value_id``: an integer id column of
    ``value`` to group on instead of the (slower) strings.
    """
    present = frame.filter(pl.col(value).is_not_null())
    if value_id is None:
        counts = present.group_by(*keys, value).len("count")
    else:
        counts = present.group_by(*keys, value_id).agg(pl.col(value).first(), pl.len().alias("count"))
    return (
        counts.sort([*keys, "count", value], descending=[*([False] * len(keys)), True, False])
        .group_by(keys, maintain_order=True)
        .agg(
            pl.struct(pl.col(value).alias("value"), "count").head(cap).alias(name),
            pl.len().alias(f"{name}_count"),
        )
    )


def bucket_counts(frame: pl.DataFrame, keys: list[str], bucket_us: int) -> pl.DataFrame:
    """Per key and bucket start ``_b``, the number of rows ``n``: sums of these over disjoint parts of
    the rows give the counts of the whole (how the partitioned analysis adds its parts)."""
    return (
        frame.filter(pl.col("t").is_not_null())
        .with_columns(_b=(pl.col("t") // bucket_us) * bucket_us)
        .group_by(*keys, "_b")
        .len("n")
    )


def summed(parts: list[pl.DataFrame], keys: list[str], value: str = "n") -> pl.DataFrame:
    """Counts of several parts added up per key."""
    return pl.concat(parts).group_by(keys).agg(pl.col(value).sum())


def timeline_of(counts: pl.DataFrame, keys: list[str], name: str) -> pl.DataFrame:
    """Per key, ``[{t: bucket start, n: attacks}, ...]`` from :func:`bucket_counts`, oldest first.

    Each distinct bucket start is formatted once (a month has 720 hours; the rows can be 100,000s).
    """
    starts = counts.select(pl.col("_b").unique()).with_columns(_t=iso("_b"))
    return (
        counts.sort(*keys, "_b")
        .join(starts, on="_b", how="left", maintain_order="left")
        .group_by(keys, maintain_order=True)
        .agg(pl.struct(t=pl.col("_t"), n=pl.col("n")).alias(name))
    )


def timeline(frame: pl.DataFrame, keys: list[str], bucket_us: int, name: str) -> pl.DataFrame:
    """Per key, ``[{t: bucket start, n: attacks}, ...]`` for the non-empty buckets, oldest first."""
    return timeline_of(bucket_counts(frame, keys, bucket_us), keys, name)
