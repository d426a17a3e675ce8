"""Behavioural rules: what one entry cannot show but a window of them does.

* brute force: at least ``brute_force_min_attempts`` entries of one source on one target and login port
  (:data:`~.options.AUTH_PORTS`) within ``brute_force_window``;
* vertical scan: one source touching at least ``vertical_scan_min_ports`` ports of one target within
  ``scan_window``; horizontal scan: one source touching at least ``horizontal_scan_min_targets``
  targets on one port;
* flood: at least ``flood_min_events`` entries on one target within ``flood_window``.

Windows are tumbling buckets evaluated at two phases (aligned to the epoch, and shifted by half a
window), so a burst that straddles a bucket edge is still inside one window of at least half its length:
all columnar (group-bys on hashed keys), linear in the events.
"""

from __future__ import annotations

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


def _busy(frame: pl.DataFrame, key: str, threshold: int) -> pl.DataFrame:
    """Rows whose ``key`` has at least ``threshold`` entries in all (a necessary condition)."""
    totals = frame.group_by(key).len("_total").filter(pl.col("_total") >= threshold)
    return frame.join(totals.select(key), on=key, how="semi")


#: Coarse buckets are a day (or two windows, for windows longer than half a day).
_DAY_US = 86_400_000_000


def _coarse(frame: pl.DataFrame, key: str, coarse: int, threshold: int) -> pl.DataFrame:
    """Rows in coarse buckets that could hold a qualifying window: any window lies within a coarse
    bucket and one neighbour, so ``count(c) + max(count(c-1), count(c+1)) >= threshold`` is necessary.
    Cuts the fine group-by down to the busy stretches of busy keys (a count bounds a distinct count)."""
    c = pl.col("t") // coarse
    with_c = frame.with_columns(_c0=c).with_columns(_kc=_combine(key, "_c0"))
    per = with_c.group_by("_kc").agg(pl.len().alias("_m"), pl.col(key).first(), pl.col("_c0").first())
    neighbours = (
        pl.concat(
            [
                per.select(_kc=_combine(key, pl.col("_c0") + 1), _x=pl.col("_m")),
                per.select(_kc=_combine(key, pl.col("_c0") - 1), _x=pl.col("_m")),
            ]
        )
        .group_by("_kc")
        .agg(pl.col("_x").max())
    )
    bound = per.join(neighbours, on="_kc", how="left").filter(
        pl.col("_m") + pl.col("_x").fill_null(0) >= threshold
    )
    return with_c.join(bound.select("_kc"), on="_kc", how="semi").drop("_c0", "_kc")


def _windowed(frame: pl.DataFrame, key: str, width: int, value: str | None, threshold: int) -> pl.DataFrame:
    """``row`` and ``_n`` of the rows of ``frame`` whose window (at either phase) holds at least
    ``threshold`` entries (``value`` None) or distinct ``value``s.

    Keys with fewer entries than the threshold over the whole input cannot qualify (a count bounds a
    distinct count too) and are dropped first: in real logs most (source, target) pairs have a handful
    of entries, so the windowed group-bys see few rows.
    """
    measure = pl.len() if value is None else pl.col(value).n_unique()
    empty = pl.DataFrame(schema={"row": pl.UInt32(), "_n": pl.UInt32()})
    totals = frame.group_by(key).len("_total").filter(pl.col("_total") >= threshold)
    if totals.is_empty():
        return empty
    candidates = frame.join(totals.select(key), on=key, how="semi")
    candidates = _coarse(candidates, key, max(_DAY_US, 2 * width), threshold).with_columns(
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
        .filter(
            (pl.col("format") != "email-csv")
            & pl.col("t").is_not_null()
            & pl.col("src_ip").is_not_null()
            & pl.col("dst_ip").is_not_null()
        )
        .select(
            "row",
            "t",
            "dst_port",
            _h=pl.col("holder").hash(seed=1),
            _s=pl.col("src_ip").hash(seed=2),
            _d=pl.col("dst_ip").hash(seed=3),
            _tcp=pl.col("protocol").is_null() | (pl.col("protocol").str.to_uppercase() == "TCP"),
            _dst=_dst_key(pl.col("holder"), pl.col("dst_ip")),
        )
        .with_columns(_pair=_combine("_h", "_s", "_d"), _src=_combine("_h", "_s"))
        .with_columns(_pairport=_combine("_pair", "dst_port"), _srcport=_combine("_h", "_s", "dst_port"))
        .collect()
    )
    if net.is_empty():
        return pl.DataFrame(schema=_SCHEMA)
    out = []
    # one pass over all rows per key kind: (source, target) pairs busy enough for brute force or a
    # vertical scan, sources busy enough for a horizontal scan; the rules then see only those rows
    pairs = _busy(net, "_pair", min(options.brute_force_min_attempts, options.vertical_scan_min_ports))
    auth = pairs.filter(pl.col("dst_port").is_in(list(options.brute_force_ports)) & pl.col("_tcp"))
    if not auth.is_empty():
        found = _windowed(
            auth, "_pairport", options.us("brute_force_window"), None, options.brute_force_min_attempts
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
    sources = _busy(net.filter(pl.col("dst_port").is_not_null()), "_src", options.horizontal_scan_min_targets)
    if not sources.is_empty():
        found = _windowed(sources, "_srcport", width, "_d", options.horizontal_scan_min_targets)
        out.append(
            _hits(
                found,
                options.horizontal_scan_min_targets,
                "port-scan",
                "horizontal-scan",
                f"targets on one port within {options.scan_window}",
            )
        )
    found = flood_rows(net, options) if floods is None else floods
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
