"""Re-identification risk of a table over its quasi-identifiers, computed column-wise in Polars.

An equivalence class is the set of records that share one combination of quasi-identifier values. The
metrics follow El Emam & Dankar (2008, "Protecting privacy using k-anonymity", JAMIA 15(5)) and the
definitions of k-anonymity (Sweeney 2002), l-diversity (Machanavajjhala et al. 2007) and t-closeness
(Li, Li & Venkatasubramanian 2007):

- prosecutor risk of a record = 1 / |its class|; reported as the maximum (1 / k), the average (classes /
  records) and the share of records whose risk exceeds a threshold;
- journalist and marketer risk need the population the sample was drawn from: with sampling fraction
  ``pi = n / N`` a class of ``f`` sample records is estimated at ``F = f / pi`` population records, so the
  journalist maximum is ``1 / min F`` and the marketer risk ``(1/n) * sum(f / F) = classes / N``;
- distinct and entropy l-diversity of each sensitive column (the smallest over classes);
- t-closeness: the largest Earth Mover's Distance between a class's distribution of a sensitive value and
  the whole table's — equal ground distance for categories (half the L1 distance), ordered distance
  ``sum |cumulative difference| / (m - 1)`` for numbers.

All of it is one ``group_by`` over the quasi-identifiers plus one per sensitive column, so 10M rows cost
seconds (``bench/assess.py``). Values never leave this module: only counts and ratios do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ppcti.errors import ConfigError

#: Column of :func:`class_sizes` holding each class's size.
SIZE = "__ppcti_class_size"
# internal column names, chosen so they cannot collide with a table's own columns
_N, _P, _Q, _L1, _CUM = "__ppcti_n", "__ppcti_p", "__ppcti_q", "__ppcti_l1", "__ppcti_cum"
_DISTINCT, _ENTROPY, _CID = "__ppcti_distinct", "__ppcti_entropy", "__ppcti_class_id"


@dataclass(slots=True)
class RiskReport:
    """Risk figures of one table; ``None`` where a figure needs an input that was not given."""

    records: int
    quasi_identifiers: list[str]
    classes: int
    k: int
    prosecutor_max: float
    prosecutor_avg: float
    records_at_risk: float
    risk_threshold: float
    journalist_max: float | None = None
    marketer: float | None = None
    population: int | None = None
    l_diversity: dict[str, dict[str, float]] = field(default_factory=dict)
    t_closeness: dict[str, float] = field(default_factory=dict)
    class_size_histogram: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "quasi_identifiers": self.quasi_identifiers,
            "classes": self.classes,
            "k_anonymity": self.k,
            "prosecutor": {"max": self.prosecutor_max, "average": self.prosecutor_avg,
                           "records_above_threshold": self.records_at_risk,
                           "threshold": self.risk_threshold},
            "journalist": None if self.journalist_max is None else {"max": self.journalist_max},
            "marketer": self.marketer,
            "population": self.population,
            "l_diversity": self.l_diversity,
            "t_closeness": self.t_closeness,
            "class_sizes": self.class_size_histogram,
        }


def _as_keys(df: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Quasi-identifier columns with nulls as their own value (a missing value is a value an attacker
    sees too), cast to strings only where Polars cannot group the type."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError(f"re-identification: column {missing[0]!r} is not in the table")
    return df.select(columns)


def class_sizes(df: pl.DataFrame, quasi_identifiers: list[str]) -> pl.DataFrame:
    """One row per equivalence class with its size in the column :data:`SIZE`."""
    if not quasi_identifiers:
        return pl.DataFrame({SIZE: [df.height] if df.height else []}, schema={SIZE: pl.UInt32})
    return _as_keys(df, quasi_identifiers).group_by(quasi_identifiers).len(SIZE)


def assess_table(
    df: pl.DataFrame,
    quasi_identifiers: list[str],
    *,
    sensitive: list[str] | None = None,
    threshold: float = 0.2,
    population: int | None = None,
    numeric_sensitive: set[str] | None = None,
) -> RiskReport:
    """Risk figures of ``df`` over ``quasi_identifiers``; see the module docstring for each formula."""
    n = df.height
    if n == 0:
        raise ConfigError("re-identification: the table has no records")
    if population is not None and population < n:
        raise ConfigError("re-identification: the population is smaller than the table")
    sizes = class_sizes(df, quasi_identifiers)[SIZE]
    classes = sizes.len()
    k = int(sizes.min())  # type: ignore[arg-type]
    at_risk = int(sizes.filter(1.0 / sizes.cast(pl.Float64) > threshold).sum()) / n
    report = RiskReport(
        records=n,
        quasi_identifiers=list(quasi_identifiers),
        classes=classes,
        k=k,
        prosecutor_max=1.0 / k,
        prosecutor_avg=classes / n,
        records_at_risk=at_risk,
        risk_threshold=threshold,
        class_size_histogram=_histogram(sizes),
    )
    if population is not None:
        fraction = n / population
        report.population = population
        report.journalist_max = min(1.0, fraction / k)
        report.marketer = min(1.0, classes / population)
    numeric_sensitive = numeric_sensitive or set()
    wanted = [c for c in sensitive or [] if c not in quasi_identifiers]
    for column in wanted:
        if column not in df.columns:
            raise ConfigError(f"re-identification: sensitive column {column!r} is not in the table")
    if wanted:
        keyed, keys = _class_ids(df, quasi_identifiers, classes, wanted)
        for column in wanted:
            shares = _value_shares(keyed, keys, column)
            report.l_diversity[column] = l_diversity(keyed, keys, column, shares)
            report.t_closeness[column] = t_closeness(
                keyed, keys, column, ordered=column in numeric_sensitive, shares=shares
            )
    return report


def _class_ids(df: pl.DataFrame, quasi_identifiers: list[str], classes: int,
               columns: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """The sensitive columns beside one 64-bit class id per record, when the hash of the quasi-identifier
    values tells the classes apart exactly (as many distinct hashes as classes: no two classes share
    one); otherwise the quasi-identifier columns themselves. Grouping on one integer instead of several
    strings halves the cost of the l-diversity and t-closeness passes."""
    if not quasi_identifiers:
        return df.select(columns), []
    ids = df.select(pl.struct(quasi_identifiers).hash(seed=0x5EED).alias(_CID))[_CID]
    if ids.n_unique() == classes:
        return df.select(columns).with_columns(ids), [_CID]
    return df.select([*quasi_identifiers, *columns]), list(quasi_identifiers)


def _histogram(sizes: pl.Series) -> dict[str, int]:
    """Records by class size band: how many sit in classes of 1, 2, 3-4, 5-9, 10+ records."""
    bands = ((1, 1, "1"), (2, 2, "2"), (3, 4, "3-4"), (5, 9, "5-9"), (10, None, "10+"))
    out = {}
    for lo, hi, name in bands:
        sel = sizes >= lo if hi is None else (sizes >= lo) & (sizes <= hi)
        out[name] = int(sizes.filter(sel).sum())
    return out


def _value_shares(df: pl.DataFrame, keys: list[str], sensitive: str) -> pl.DataFrame:
    """One row per (class, sensitive value) with the value's share of its class in :data:`_P`.

    Only plain aggregations and one window: per-group expressions would leave Polars' fast paths and
    cost ten times more on millions of classes (``bench/assess.py``).
    """
    counts = df.select([*keys, sensitive]).group_by([*keys, sensitive]).len(_N)
    total = pl.col(_N).sum().over(keys) if keys else pl.col(_N).sum()
    return counts.with_columns((pl.col(_N) / total).alias(_P))


def l_diversity(df: pl.DataFrame, quasi_identifiers: list[str], sensitive: str,
                shares: pl.DataFrame | None = None) -> dict[str, float]:
    """Distinct l (fewest distinct sensitive values in a class) and entropy l (``exp`` of the lowest
    class entropy): a class with one sensitive value discloses it whatever its size."""
    keys = quasi_identifiers or []
    shares = _value_shares(df, keys, sensitive) if shares is None else shares
    shares = shares.with_columns((-pl.col(_P) * pl.col(_P).log()).alias(_ENTROPY))
    if keys:
        per_class = shares.group_by(keys).agg(pl.len().alias(_DISTINCT), pl.col(_ENTROPY).sum())
    else:
        per_class = pl.DataFrame({_DISTINCT: [shares.height], _ENTROPY: [float(shares[_ENTROPY].sum())]})
    return {
        "distinct": int(per_class[_DISTINCT].min()),  # type: ignore[arg-type]
        "entropy": round(math.exp(float(per_class[_ENTROPY].min())), 6),  # type: ignore[arg-type]
    }


def t_closeness(df: pl.DataFrame, quasi_identifiers: list[str], sensitive: str, *, ordered: bool,
                shares: pl.DataFrame | None = None) -> float:
    """Largest EMD between a class's distribution of ``sensitive`` and the table's (0 = no information)."""
    keys = quasi_identifiers
    if not keys:
        return 0.0
    n = df.height
    overall = df.group_by(sensitive).len(_N).with_columns((pl.col(_N) / n).alias(_Q)).drop(_N)
    per = (_value_shares(df, keys, sensitive) if shares is None else shares).drop(_N)
    if not ordered:
        # equal distance: EMD = 1/2 sum over all values |p - q|. Values absent from a class add q each,
        # that is 1 - sum(q of present values), so 2 EMD = 1 + sum over present values (|p - q| - q)
        dist = (
            per.join(overall, on=sensitive, how="left", nulls_equal=True)
            .with_columns(((pl.col(_P) - pl.col(_Q)).abs() - pl.col(_Q)).alias(_L1))
            .group_by(keys)
            .agg(pl.col(_L1).sum())
        )
        return round((1 + float(dist[_L1].max())) / 2, 9)  # type: ignore[arg-type]
    values = overall.sort(sensitive, nulls_last=True)
    m = values.height
    if m < 2:
        return 0.0
    grid = per.select(keys).unique().join(values, how="cross")
    full = grid.join(per, on=[*keys, sensitive], how="left", nulls_equal=True).with_columns(
        pl.col(_P).fill_null(0.0)
    )
    dist = (
        full.sort([*keys, sensitive], nulls_last=True)
        .with_columns((pl.col(_P) - pl.col(_Q)).cum_sum().over(keys).abs().alias(_CUM))
        .group_by(keys)
        .agg(pl.col(_CUM).sum())
    )
    return round(float(dist[_CUM].max()) / (m - 1), 9)  # type: ignore[arg-type]
