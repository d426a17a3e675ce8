"""Generalisations that would bring a table to a target k, and what they cost in utility.

A search over the lattice of generalisation levels (one value hierarchy per quasi-identifier), with record
suppression as ARX allows it: nodes are visited by increasing utility loss and the first whose records in
classes smaller than ``k`` fit into the suppression budget is the answer (the least-loss solution, as the
OLA and Flash algorithms find it). Lattices too large for that fall back to a greedy bottom-up search in
the manner of Sweeney's Datafly (2002). The search runs on the equivalence-class table (one row per class
with its size), not on the records, so each node costs one ``group_by`` over the classes.

Utility loss is reported two ways: the generalisation height ratio (level / height, averaged over the
quasi-identifiers; Sweeney's precision is one minus it) and the share of records suppressed.

Hierarchies are chosen from the PII type the column was classified as:

- ``numeric`` (age, weight): intervals of 5, 10, 20, 50;
- ``date`` (birth dates, other dates): month, year, decade;
- ``prefix`` (postal codes): one, two, three trailing characters masked;
- ``categorical`` (everything else): no intermediate level.

Every hierarchy ends in suppression of the column (``*``), so a target k can always be reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

#: Hierarchy kind per PII type; types not listed are categorical.
KIND_BY_TYPE = {
    "AGE": "numeric",
    "WEIGHT": "numeric",
    "BIRTH_DATE": "date",
    "DATE_TIME": "date",
    "DECEASED_DATE": "date",
    "POSTAL_CODE": "prefix",
}
LEVELS = {
    "numeric": ("interval of 5", "interval of 10", "interval of 20", "interval of 50", "suppressed"),
    "date": ("month", "year", "decade", "suppressed"),
    "prefix": ("last character masked", "last 2 characters masked", "last 3 characters masked",
               "suppressed"),
    "categorical": ("suppressed",),
}
_WIDTHS = (5, 10, 20, 50)
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y", "%m/%d/%Y")
_COUNT = "__ppcti_n"


def _date(col: str) -> pl.Expr:
    raw = pl.col(col).cast(pl.String).str.slice(0, 10)
    return pl.coalesce([raw.str.to_date(fmt, strict=False) for fmt in _DATE_FORMATS])


def level_expr(col: str, kind: str, level: int) -> pl.Expr:
    """The column generalised to ``level`` (0 = as is), as a string; values the hierarchy cannot read
    are suppressed from level 1 on, so generalising never keeps a rare odd value visible."""
    text = pl.col(col).cast(pl.String)
    if level == 0:
        return text.alias(col)
    if LEVELS.get(kind, LEVELS["categorical"])[level - 1] == "suppressed":
        out = pl.lit("*")
    elif kind == "numeric":
        width = _WIDTHS[level - 1]
        num = pl.col(col).cast(pl.String).str.strip_chars().str.replace(",", ".").cast(pl.Float64,
                                                                                      strict=False)
        lo = (num / width).floor() * width
        out = pl.format("{}-{}", lo.cast(pl.Int64), (lo + width - 1).cast(pl.Int64))
    elif kind == "date":
        d = _date(col)
        out = [d.dt.strftime("%Y-%m"), d.dt.strftime("%Y"),
               pl.format("{}s", (d.dt.year() // 10 * 10).cast(pl.String))][level - 1]
    elif kind == "prefix":
        n = text.str.len_chars()
        out = pl.when(n > level).then(pl.concat_str([text.str.slice(0, n - level), pl.lit("*" * level)]))
    else:
        out = pl.lit("*")
    return pl.when(text.is_null()).then(None).otherwise(out.fill_null(pl.lit("*"))).alias(col)


#: Largest generalisation lattice searched exhaustively (by increasing loss) before the greedy fallback.
MAX_LATTICE = 20_000
#: Lattice nodes evaluated at most in the exhaustive search.
MAX_EVALUATIONS = 400


Evaluate = Callable[[dict[str, int]], tuple[int, float, int]]
"""``levels -> (k, share of records left in classes below k, classes)``."""


def _optimal(qis: list[str], height: dict[str, int], evaluate: Evaluate,
             loss: Callable[[dict[str, int]], float], budget: float) -> dict[str, int] | None:
    """The least-loss node of the lattice within the budget (as Flash/OLA search for), visiting nodes by
    increasing loss; ``None`` when the lattice or the number of evaluations is too large."""
    size = 1
    for c in qis:
        size *= height[c] + 1
    if size > MAX_LATTICE:
        return None
    nodes: list[dict[str, int]] = [{}]
    for c in qis:
        nodes = [{**n, c: lv} for n in nodes for lv in range(height[c] + 1)]
    nodes.sort(key=lambda n: (loss(n), sorted(n.items())))
    for n in nodes[:MAX_EVALUATIONS]:
        if evaluate(n)[1] <= budget:
            return n
    return None


def _greedy(qis: list[str], height: dict[str, int], evaluate: Evaluate, budget: float) -> dict[str, int]:
    """Datafly-like: generalise the column whose next level leaves the fewest records over (on a tie, the
    fewest classes) until the records left over fit the budget."""
    levels = dict.fromkeys(qis, 0)
    while evaluate(levels)[1] > budget:
        options = [(evaluate({**levels, c: levels[c] + 1})[1:], c) for c in qis if levels[c] < height[c]]
        if not options:
            break
        levels[min(options)[1]] += 1
    return levels


@dataclass(slots=True)
class Step:
    column: str
    level: str
    k: int
    suppressed: float
    height_loss: float

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "generalisation": self.level, "k_after": self.k,
                "records_to_suppress": round(self.suppressed, 6), "height_loss": round(self.height_loss, 4)}


def suggest(
    df: pl.DataFrame,
    quasi_identifiers: list[str],
    kinds: dict[str, str],
    *,
    target_k: int,
    max_suppression: float,
) -> dict[str, Any]:
    """The least-loss generalisation that reaches ``target_k`` within the suppression budget, as steps:
    each with the k it reaches and the utility it costs."""
    n = df.height
    if not quasi_identifiers or n == 0:
        return {"target_k": target_k, "reached": True, "steps": [], "records_to_suppress": 0.0,
                "height_loss": 0.0}
    base = df.select(quasi_identifiers).group_by(quasi_identifiers).len(_COUNT)
    kind = {c: kinds.get(c, "categorical") for c in quasi_identifiers}
    height = {c: len(LEVELS[kind[c]]) for c in quasi_identifiers}
    levels = dict.fromkeys(quasi_identifiers, 0)
    # each level of each column as integer codes, computed once when the search first needs it: a
    # lattice node is then one group_by over small integer columns of the class table
    # (nulls rank as null and become code 0; real values start at 1). When the codes of all columns fit
    # in 64 bits together, a node's key is one packed integer per class.
    codes: dict[tuple[str, int], pl.Series] = {}

    def code(c: str, lv: int) -> pl.Series:
        if (c, lv) not in codes:
            ranked = level_expr(c, kind[c], lv).rank("dense").fill_null(0).cast(pl.UInt64)
            codes[c, lv] = base.select(ranked).to_series()
        return codes[c, lv]

    bits = {c: max(1, int(code(c, 0).max() or 0).bit_length()) for c in quasi_identifiers}
    packed = sum(bits.values()) <= 64
    counts = base[_COUNT]

    def evaluate(lv: dict[str, int]) -> tuple[int, float, int]:
        if packed:
            key, shift = pl.lit(0, dtype=pl.UInt64), 0
            for c in quasi_identifiers:  # level 0 has the most distinct values: its width bounds all
                key = key + pl.lit(code(c, lv[c])) * pl.lit(1 << shift, dtype=pl.UInt64)
                shift += bits[c]
            frame = pl.DataFrame([counts]).with_columns(key.alias("key"))
            group = ["key"]
        else:
            frame = pl.DataFrame([code(c, lv[c]).alias(str(i)) for i, c in enumerate(quasi_identifiers)]
                                 + [counts])
            group = [str(i) for i in range(len(quasi_identifiers))]
        sizes = frame.group_by(group).agg(pl.col(_COUNT).sum())[_COUNT]
        small = int(sizes.filter(sizes < target_k).sum())
        big = sizes.filter(sizes >= target_k)
        return (int(big.min()) if big.len() else 0), small / n, sizes.len()  # type: ignore[arg-type]

    def loss(lv: dict[str, int]) -> float:
        return sum(lv[c] / height[c] for c in quasi_identifiers) / len(quasi_identifiers)

    k, suppressed, _ = evaluate(levels)
    if suppressed > max_suppression:
        found = _optimal(quasi_identifiers, height, evaluate, loss, max_suppression)
        levels = found if found is not None else _greedy(quasi_identifiers, height, evaluate,
                                                         max_suppression)
    steps: list[Step] = []
    current = dict.fromkeys(quasi_identifiers, 0)
    for c in sorted(quasi_identifiers, key=lambda c: -levels[c]):
        if levels[c]:
            current[c] = levels[c]
            k, suppressed, _ = evaluate(current)
            steps.append(Step(c, LEVELS[kind[c]][levels[c] - 1], k, suppressed, loss(current)))
    return {
        "target_k": target_k,
        "max_suppression": max_suppression,
        "reached": suppressed <= max_suppression,
        "k_after_suppression": k,
        "records_to_suppress": round(suppressed, 6),
        "height_loss": round(loss(levels), 4),
        "steps": [s.to_dict() for s in steps],
        "hierarchies": {c: kind[c] for c in quasi_identifiers},
    }
