"""MAC addresses to lower-case colon form.

Accepted spellings: ``00:17:10:88:bc:02``, ``00-17-10-88-BC-02`` (ECS, Windows), ``0017.1088.bc02``
(Cisco), ``001710 88bc02``-free bare ``00171088bc02``, and colon forms with single-digit groups
(``0:17:10:88:bc:2``, as some devices print). Anything else -- ``1:1:1:1:`` for instance -- is malformed
and yields ``None``: a MAC is never invented from fragments.
"""

from __future__ import annotations

import re

import polars as pl

_SEP_GROUPS = re.compile(r"^([0-9A-Fa-f]{1,2})([:-])([0-9A-Fa-f]{1,2})(?:\2([0-9A-Fa-f]{1,2})){4}$")
_DOTTED = re.compile(r"^([0-9A-Fa-f]{4})\.([0-9A-Fa-f]{4})\.([0-9A-Fa-f]{4})$")
_BARE = re.compile(r"^[0-9A-Fa-f]{12}$")


def normalise_mac(value: str | None) -> str | None:
    """Return the lower-case colon form, or ``None`` when ``value`` is not a whole MAC address."""
    if value is None:
        return None
    text = value.strip()
    if _BARE.match(text):
        hexes = text
    elif _DOTTED.match(text):
        hexes = text.replace(".", "")
    elif _SEP_GROUPS.match(text):
        hexes = "".join(part.zfill(2) for part in re.split(r"[:-]", text))
    else:
        return None
    hexes = hexes.lower()
    return ":".join(hexes[i : i + 2] for i in range(0, 12, 2))


def mac_expr(column: pl.Expr) -> pl.Expr:
    """Vectorised :func:`normalise_mac`: same results, computed in Polars; malformed values become null."""
    lowered = column.str.strip_chars().str.to_lowercase()
    dotted_or_bare = lowered.str.contains(r"^(?:[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}|[0-9a-f]{12})$")
    one_separator = (lowered.str.count_matches(":") == 5) ^ (lowered.str.count_matches("-") == 5)
    grouped = one_separator & lowered.str.contains(r"^[0-9a-f]{1,2}(?:[:-][0-9a-f]{1,2}){5}$")
    from_groups = (
        lowered.str.replace_all("-", ":", literal=True)
        .str.split(":")
        .list.eval(pl.element().str.zfill(2))
        .list.join(":")
    )
    hexes = lowered.str.replace_all(".", "", literal=True)
    from_hex = pl.concat_str([hexes.str.slice(i, 2) for i in range(0, 12, 2)], separator=":")
    name = column.meta.output_name(raise_if_undetermined=False) or "mac"
    return pl.when(grouped).then(from_groups).when(dotted_or_bare).then(from_hex).otherwise(None).alias(name)


_CANONICAL = r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$"


def normalise_mac_series(values: pl.Series) -> pl.Series:
    """:func:`mac_expr` for a whole column, fast when most values are already canonical.

    Lower-case colon MACs are the common case in firewall logs; only the other values go through the
    full normalisation, which spares the hot path several regex passes.
    """
    lowered = values.str.to_lowercase()
    odd = (~lowered.str.contains(_CANONICAL)).fill_null(False)
    if not odd.any():
        return lowered
    positions = odd.arg_true()
    fixed = pl.DataFrame({"m": values.gather(positions)}).select(mac_expr(pl.col("m"))).to_series()
    return lowered.scatter(positions, fixed)
