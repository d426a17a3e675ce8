"""Behavioural rules: what one entry cannot show but a window of them does.

* brute force: at least ``brute_force_min_attempts`` entries of one source on one target and login port
  (:data:`~.options.AUTH_PORTS`) within ``brute_force_window``;
* vertical scan: one source touching at least ``vertical_scan_min_ports`` ports of one target within
  ``scan_window``; horizontal scan: one source touching at least ``horizontal_scan_min_targets``
  targets on one port;
* flood: at least ``flood_min_events`` entries on one target within ``flood_window``.

Windows are tumbling buckets evaluated at two phases (aligned to the epoch, and shifted by half a
window), so a burst that straddles a bucket edge is still inside one window of at least half its length:
all columnar (``over`` on hashed keys), linear in the events.
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


def _key(*cols: str) -> pl.Expr:
    return pl.struct(*cols).hash(seed=0x5CA9)


def _windowed(frame: pl.DataFrame, key: pl.Expr, width: int, measure: pl.Expr) -> pl.Expr:
    """Largest value of ``measure`` over the event's window at either phase."""
    del frame
    b0 = pl.col("t") // width
    b1 = (pl.col("t") + width // 2) // width
    return pl.max_horizontal(measure.over(key, b0), measure.over(key, b1))


def _hits(frame: pl.DataFrame, n: pl.Expr, threshold: int, cls: str, rule: str, what: str) -> pl.DataFrame:
    """Rows where ``n`` reaches ``threshold``, confidence rising from 0.7 at the threshold to 0.95."""
    scored = frame.with_columns(_n=n).filter(pl.col("_n") >= threshold)
    return scored.select(
        "row",
        cls=pl.lit(cls),
        confidence=(0.7 + 0.25 * ((pl.col("_n") - threshold) / (2 * threshold)).clip(0, 1)).round(3),
        rule=pl.lit(rule),
        field=pl.lit("window"),
        detail=pl.concat_str(pl.col("_n").cast(pl.String), pl.lit(" " + what)),
    )


def behaviour(events: pl.DataFrame, options: AttackOptions) -> pl.DataFrame:
    """Rows recognised by a behavioural rule (one row per rule and event)."""
    net = events.filter(
        (pl.col("format") != "email-csv")
        & pl.col("t").is_not_null()
        & pl.col("src_ip").is_not_null()
        & pl.col("dst_ip").is_not_null()
    ).select("row", "holder", "t", "src_ip", "dst_ip", "dst_port", "protocol")
    if net.is_empty():
        return pl.DataFrame(schema=_SCHEMA)
    net = net.with_columns(
        _src=_key("holder", "src_ip"),
        _dst=_key("holder", "dst_ip"),
        _pair=_key("holder", "src_ip", "dst_ip"),
    )
    out = []

    auth = net.filter(
        pl.col("dst_port").is_in(list(options.brute_force_ports))
        & (pl.col("protocol").is_null() | (pl.col("protocol").str.to_uppercase() == "TCP"))
    )
    if not auth.is_empty():
        key = pl.struct("_pair", "dst_port").hash(seed=1)
        n = _windowed(auth, key, options.us("brute_force_window"), pl.len())
        out.append(_hits(auth, n, options.brute_force_min_attempts, "brute-force", "brute-force-window",
                         f"attempts on one login port within {options.brute_force_window}"))

    width = options.us("scan_window")
    ported = net.filter(pl.col("dst_port").is_not_null())
    if not ported.is_empty():
        n = _windowed(ported, pl.col("_pair"), width, pl.col("dst_port").n_unique())
        out.append(_hits(ported, n, options.vertical_scan_min_ports, "port-scan", "vertical-scan",
                         f"ports of one target within {options.scan_window}"))
        key = pl.struct("_src", "dst_port").hash(seed=2)
        n = _windowed(ported, key, width, pl.col("dst_ip").n_unique())
        out.append(_hits(ported, n, options.horizontal_scan_min_targets, "port-scan", "horizontal-scan",
                         f"targets on one port within {options.scan_window}"))

    n = _windowed(net, pl.col("_dst"), options.us("flood_window"), pl.len())
    out.append(_hits(net, n, options.flood_min_events, "dos", "flood",
                     f"entries on one target within {options.flood_window}"))
    return pl.concat([o.cast(_SCHEMA) for o in out])
