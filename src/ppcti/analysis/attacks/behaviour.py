"""Behavioural rules: what one entry cannot show but a window of them does.

* brute force: at least ``brute_force_min_attempts`` entries of one source on one target and login port
  (:data:`~.options.AUTH_PORTS`) within ``brute_force_window``;
* vertical scan: one source touching at least ``vertical_scan_min_ports`` ports of one target within
  ``scan_window``; horizontal scan: one source touching at least ``horizontal_scan_min_targets``
  targets on one port;
* flood: at least ``flood_min_events`` entries on one target within ``flood_window``.

Windows are tumbling buckets evaluated at two phases (aligned to the epoch, and shifted by half a
window), so a burst that straddles a bucket edge is still inside one window of at least half its length:
all columnar (group-bys on hashed keys), linear in the events. Before any group-by, count sketches
(``numpy.bincount`` over hashed buckets, whose counts can only be too high) drop the rows of keys, and
of days, that cannot hold a window reaching the threshold: the exact group-bys then see a small part of
the rows, and find exactly what they would over all of them (every row of a qualifying window is kept).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ppcti.analysis.attacks.options import AttackOptions

_SCHEMA = {
    "row": pl.UInt32(),
    "cls": pl.String(),
    "confidence": pl.Float64(),
    "rule": pl.String(),
    "field": pl.String(),
    "detail": pl.String(),
}


_MIX = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)


def _combine(*cols: str | pl.Expr) -> pl.Expr:
    """One 64-bit key from several 64-bit ids (multiply-add, wrapping): group-bys on one integer
    column are several times faster than on three. Collisions are as likely as for the ids."""

    def col(c: str | pl.Expr) -> pl.Expr:
        return (pl.col(c) if isinstance(c, str) else c).cast(pl.UInt64)

    expr = col(cols[0])
    for mix, c in zip(_MIX, cols[1:], strict=False):
        expr = expr * mix + col(c)
    return expr


#: Multiplier of the count sketches (multiply-shift hashing: the high bits of the product are mixed).
_SPREAD = np.uint64(0x9E3779B97F4A7C15)
#: Counters of a sketch at most (2 M, 16 MiB): fresh memory is slow to touch on a loaded machine.
_TABLE_BITS = 21
#: Coarse buckets folded onto 64 slots per key bucket (days 64 apart share a counter: a bound still).
_SLOT_BITS = 6
#: Coarse buckets are a day (or two windows, for windows longer than half a day).
_DAY_US = 86_400_000_000


def _table_bits(n: int) -> int:
    """About one counter per row: a key holding few rows rarely shares one grown past a threshold."""
    return max(12, min(_TABLE_BITS, n.bit_length()))


def _key_buckets(frame: pl.DataFrame, key: str, bits: int) -> np.ndarray:
    """Bucket (``0 .. 2**bits - 1``, as ``uint64``) of each row's 64-bit ``key``."""
    keys = frame.get_column(key)
    keys = (keys.fill_null(0) if keys.null_count() else keys).cast(pl.UInt64).to_numpy()
    buckets = keys * _SPREAD  # wrapping
    buckets >>= np.uint64(64 - bits)
    return buckets


def _may_reach(frame: pl.DataFrame, key: str, threshold: int) -> np.ndarray:
    """Mask of the rows whose ``key`` may have ``threshold`` entries: a count per hashed bucket bounds
    the count of every key in it, so a row left out cannot reach the threshold (a necessary condition,
    the same for all rows of a key). A ``bincount`` instead of a group-by over millions of distinct
    keys: the exact counts come later, on the rows left."""
    bits = _table_bits(frame.height)
    buckets = _key_buckets(frame, key, bits).view(np.int64)
    return (np.bincount(buckets, minlength=1 << bits) >= threshold)[buckets]


def _may_reach_near(frame: pl.DataFrame, key: str, coarse: int, threshold: int) -> np.ndarray:
    """Mask of the rows in coarse buckets that could hold a qualifying window: a window lies within a
    coarse bucket and one neighbour, so ``count(c) + max(count(c-1), count(c+1)) >= threshold`` is
    necessary, and so is the key's total. Counted per (key bucket, coarse bucket modulo 64), as
    :func:`_may_reach` counts: every counter bounds the counts it holds."""
    key_bits = max(1, _table_bits(frame.height) - _SLOT_BITS)
    slots = _key_buckets(frame, key, key_bits)
    slots <<= np.uint64(_SLOT_BITS)
    coarse_bucket = frame.get_column("t").to_numpy() // coarse
    coarse_bucket &= (1 << _SLOT_BITS) - 1
    slots |= coarse_bucket.view(np.uint64)
    index = slots.view(np.int64)
    counts = np.bincount(index, minlength=1 << (key_bits + _SLOT_BITS)).reshape(-1, 1 << _SLOT_BITS)
    near = np.maximum(np.roll(counts, 1, axis=1), np.roll(counts, -1, axis=1))
    ok = (counts + near >= threshold) & (counts.sum(axis=1, keepdims=True) >= threshold)
    return ok.ravel()[index]


#: Longest stretch of windows the all-keys count covers (4 M: eight years of one-minute windows).
_MAX_WINDOWS = 1 << 22


def _busy_times(frame: pl.DataFrame, width: int, threshold: int) -> np.ndarray | None:
    """Mask of the rows in windows-wide buckets that all keys together fill enough: a window lies
    within a bucket and one neighbour, so ``count(b) + max(count(b-1), count(b+1)) >= threshold`` over
    every key is necessary for any one key. Exact counts (one per bucket); it settles a high threshold
    (a flood) at once. None when the input spans more than :data:`_MAX_WINDOWS` windows."""
    buckets = frame.get_column("t").to_numpy() // width
    low = int(buckets.min())
    span = int(buckets.max()) - low + 1
    if span > _MAX_WINDOWS:
        return None
    buckets -= low
    padded = np.zeros(span + 2, dtype=np.int64)
    padded[1:-1] = np.bincount(buckets, minlength=span)
    ok = padded[1:-1] + np.maximum(padded[:-2], padded[2:]) >= threshold
    return ok[buckets]


def _busy(frame: pl.DataFrame, key: str, threshold: int, keep: pl.Expr | None = None) -> pl.DataFrame:
    """Rows whose ``key`` may have at least ``threshold`` entries in all (and ``keep`` holds): every row
    of a key that has them, perhaps rows of some that do not (the windows count exactly)."""
    mask = pl.Series(_may_reach(frame, key, threshold))
    return frame.filter(mask if keep is None else keep & mask)


def _windowed(frame: pl.DataFrame, key: str, width: int, value: str | None, threshold: int) -> pl.DataFrame:
    """``row`` and ``_n`` of the rows of ``frame`` whose window (at either phase) holds at least
    ``threshold`` entries (``value`` None) or distinct ``value``s.

    Rows in windows that all keys together do not fill, and keys with fewer entries than the threshold
    near the window's day, cannot qualify (a count bounds a distinct count too) and are dropped first
    (:func:`_busy_times`, :func:`_may_reach_near`): in real logs most (source, target) pairs have a
    handful of entries, so the windowed group-bys see few rows.
    """
    measure = pl.len() if value is None else pl.col(value).n_unique()
    empty = pl.DataFrame(schema={"row": pl.UInt32(), "_n": pl.UInt32()})
    if frame.height < threshold:
        return empty
    times = _busy_times(frame, width, threshold)
    if times is not None:
        if not times.any():
            return empty
        if not times.all():
            frame = frame.filter(pl.Series(times))
    coarse = max(_DAY_US, 2 * width)
    mask = _may_reach_near(frame, key, coarse, threshold)
    candidates = frame.filter(pl.Series(mask)).with_columns(
        _b0=_combine(key, pl.col("t") // width), _b1=_combine(key, (pl.col("t") + width // 2) // width)
    )
    # windows that reach the threshold are few: aggregate, keep those, then join the small tables back
    found = []
    for bucket in ("_b0", "_b1"):
        hot = (
            candidates.group_by(bucket)
            .agg(measure.cast(pl.UInt32).alias("_n"))
            .filter(pl.col("_n") >= threshold)
        )
        if not hot.is_empty():
            found.append(candidates.join(hot, on=bucket, how="inner").select("row", "_n"))
    if not found:
        return empty
    return pl.concat(found).group_by("row").agg(pl.col("_n").max())


def _hits(frame: pl.DataFrame, threshold: int, cls: str, rule: str, what: str) -> pl.DataFrame:
    """Confidence rising from 0.7 at the threshold to 0.95 at three times it."""
    return frame.select(
        "row",
        cls=pl.lit(cls),
        confidence=(0.7 + 0.25 * ((pl.col("_n") - threshold) * (1 / (2 * threshold))).clip(0, 1)).round(3),
        rule=pl.lit(rule),
        field=pl.lit("window"),
        detail=pl.concat_str(pl.col("_n").cast(pl.String), pl.lit(" " + what)),
    )


def _dst_key(holder: pl.Expr, target: pl.Expr) -> pl.Expr:
    return _combine(holder.hash(seed=1), target.hash(seed=3))


def flood_rows(net: pl.DataFrame, options: AttackOptions) -> pl.DataFrame:
    """``row`` and ``_n`` of the entries inside a flood; ``net`` holds ``row``, ``t`` and ``_dst`` of
    timed network entries with a source and a destination, every entry of a destination in it."""
    return _windowed(net, "_dst", options.us("flood_window"), None, options.flood_min_events)


def floods_of_hits(hits: pl.DataFrame, options: AttackOptions) -> pl.DataFrame:
    """:func:`flood_rows` from ``hits`` (partitioned by target, as a partitioned run reads them): the
    destination hits of network entries with a source address are exactly the entries a flood counts."""
    net = hits.filter(
        (pl.col("target_kind") == "ip")
        & ~pl.col("nat")
        & (pl.col("attacker_kind") == "ip")
        & pl.col("t").is_not_null()
    ).select("row", "t", _dst=_dst_key(pl.col("holder"), pl.col("target")))
    return flood_rows(net, options)


def behaviour(
    events: pl.DataFrame, options: AttackOptions, floods: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Rows recognised by a behavioural rule (one row per rule and event).

    ``floods``: the flood rows of these events found beforehand (:func:`floods_of_hits`), when
    ``events`` is a part of the input split by source, where a destination's entries are not all in.
    """
    # narrow first (filtering the wide frame would copy every column), integer ids: every group-by
    # below works on 64-bit integers, not strings
    net = (
        events.lazy()
        .with_row_index("_i")
        .filter(
            (pl.col("format") != "email-csv")
            & pl.col("t").is_not_null()
            & pl.col("src_ip").is_not_null()
            & pl.col("dst_ip").is_not_null()
        )
        .select(
            "row",
            "_i",
            "t",
            "dst_port",
            _h=pl.col("holder").hash(seed=1),
            _s=pl.col("src_ip").hash(seed=2),
            _d=pl.col("dst_ip").hash(seed=3),
        )
        .with_columns(_dst=_combine("_h", "_d"), _pair=_combine("_h", "_s", "_d"), _src=_combine("_h", "_s"))
        .drop("_h", "_s")
        .collect()
    )
    if net.is_empty():
        return pl.DataFrame(schema=_SCHEMA)
    out = []
    # one pass over all rows per key kind: (source, target) pairs busy enough for brute force or a
    # vertical scan, sources busy enough for a horizontal scan; the rules then see only those rows
    pairs = _busy(
        net.drop("_src"), "_pair", min(options.brute_force_min_attempts, options.vertical_scan_min_ports)
    )
    auth = pairs.filter(pl.col("dst_port").is_in(list(options.brute_force_ports)))
    if not auth.is_empty():
        # the protocol of these few rows only (upper-casing every row's costs more than the rest)
        protocol = events.get_column("protocol").gather(auth.get_column("_i"))
        auth = auth.filter(protocol.is_null() | (protocol.str.to_uppercase() == "TCP"))
    if not auth.is_empty():
        found = _windowed(
            auth.with_columns(_pairport=_combine("_pair", "dst_port")),
            "_pairport",
            options.us("brute_force_window"),
            None,
            options.brute_force_min_attempts,
        )
        out.append(
            _hits(
                found,
                options.brute_force_min_attempts,
                "brute-force",
                "brute-force-window",
                f"attempts on one login port within {options.brute_force_window}",
            )
        )
    width = options.us("scan_window")
    ported = pairs.filter(pl.col("dst_port").is_not_null())
    if not ported.is_empty():
        found = _windowed(ported, "_pair", width, "dst_port", options.vertical_scan_min_ports)
        out.append(
            _hits(
                found,
                options.vertical_scan_min_ports,
                "port-scan",
                "vertical-scan",
                f"ports of one target within {options.scan_window}",
            )
        )
    sources = _busy(
        net.select("row", "t", "dst_port", "_d", "_src"),
        "_src",
        options.horizontal_scan_min_targets,
        pl.col("dst_port").is_not_null(),
    )
    if not sources.is_empty():
        # _combine("_h", "_s", "dst_port"), from _src = _combine("_h", "_s")
        srcport = pl.col("_src") * _MIX[1] + pl.col("dst_port").cast(pl.UInt64)
        found = _windowed(
            sources.with_columns(_srcport=srcport),
            "_srcport",
            width,
            "_d",
            options.horizontal_scan_min_targets,
        )
        out.append(
            _hits(
                found,
                options.horizontal_scan_min_targets,
                "port-scan",
                "horizontal-scan",
                f"targets on one port within {options.scan_window}",
            )
        )
    found = flood_rows(net.select("row", "t", "_dst"), options) if floods is None else floods
    out.append(
        _hits(
            found,
            options.flood_min_events,
            "dos",
            "flood",
            f"entries on one target within {options.flood_window}",
        )
    )
    return pl.concat([o.cast(_SCHEMA) for o in out])
