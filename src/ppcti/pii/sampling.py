"""Column profiles, seeded samples of distinct values and the detectors' prefilters over them.

Split from :mod:`ppcti.pii.columns` (which decides types) because this part is about cost: a column's
profile and sample are taken once, and the prefilters of every detector run over all columns of a table
together, so the number of queries grows neither with the columns nor with the files of an upload.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import polars as pl


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """What the column looks like, independent of any PII type (kept in the report's ``files`` list)."""

    name: str
    dtype: str
    rows: int
    nulls: int
    distinct: int
    sampled: int
    min_len: int
    max_len: int
    mean_len: float
    digit_share: float  # share of sampled values that are digits only
    alpha_share: float  # share containing a letter
    space_share: float  # share containing whitespace

    @property
    def distinct_ratio(self) -> float:
        non_null = self.rows - self.nulls
        return self.distinct / non_null if non_null else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.name,
            "dtype": self.dtype,
            "rows": self.rows,
            "nulls": self.nulls,
            "distinct": self.distinct,
            "distinct_ratio": round(self.distinct_ratio, 4),
            "sampled": self.sampled,
            "min_len": self.min_len,
            "max_len": self.max_len,
            "mean_len": round(self.mean_len, 2),
            "digit_share": round(self.digit_share, 3),
            "alpha_share": round(self.alpha_share, 3),
            "space_share": round(self.space_share, 3),
        }


#: Columns of at most this many rows are sampled in Python (no Polars call per column): a table of
#: 10,000 short columns costs what its values cost, not 10,000 times a query's fixed overhead.
SMALL_COLUMN_ROWS = 4096


def profile_column(series: pl.Series, sample_size: int) -> tuple[ColumnProfile, list[str]]:
    """Profile and a seeded sample of distinct, stripped, non-empty string values."""
    if series.dtype == pl.String and series.len() <= SMALL_COLUMN_ROWS:
        return _profile_small(series, sample_size)
    rows = series.len()
    nulls = series.null_count()
    values = series.drop_nulls()
    if values.dtype != pl.String:
        values = values.cast(pl.String, strict=False).drop_nulls()
    values = values.str.strip_chars()
    values = values.filter(values.str.len_chars() > 0)
    # sorted: unique() gives its values in an order that changes between runs, and so would the sample
    distinct = values.unique().sort()
    if series.dtype.is_integer():
        distinct = _restore_leading_zeros(distinct)
    n_distinct = distinct.len()
    sample = distinct.sample(n=sample_size, seed=7) if n_distinct > sample_size else distinct.sort()
    return _profile(series.name, str(series.dtype), rows, nulls, n_distinct, sample.sort().to_list())


def _profile_small(series: pl.Series, sample_size: int) -> tuple[ColumnProfile, list[str]]:
    raw = series.to_list()
    present = [v for v in raw if v is not None]
    distinct = sorted({t for t in (v.strip() for v in present) if t})
    sample = (
        sorted(random.Random(7).sample(distinct, sample_size)) if len(distinct) > sample_size else distinct
    )
    return _profile(series.name, str(series.dtype), len(raw), len(raw) - len(present), len(distinct), sample)


_LETTER = re.compile(r"[^\W\d_]")
_SPACE = re.compile(r"\s")


def _profile(
    name: str, dtype: str, rows: int, nulls: int, n_distinct: int, sample: list[str]
) -> tuple[ColumnProfile, list[str]]:
    n = len(sample)
    lengths = [len(v) for v in sample]
    profile = ColumnProfile(
        name=name,
        dtype=dtype,
        rows=rows,
        nulls=nulls,
        distinct=n_distinct,
        sampled=n,
        min_len=min(lengths, default=0),
        max_len=max(lengths, default=0),
        mean_len=sum(lengths) / n if n else 0.0,
        digit_share=sum(v.isdigit() for v in sample) / n if n else 0.0,
        alpha_share=sum(1 for v in sample if _LETTER.search(v)) / n if n else 0.0,
        space_share=sum(1 for v in sample if _SPACE.search(v)) / n if n else 0.0,
    )
    return profile, sample


#: Sampled values of a table up to which prefilters run as Python regexes rather than one Polars query.
SMALL_SAMPLE_VALUES = 4000


@lru_cache(maxsize=8)
def _compiled_prefilters(patterns: tuple[str, ...]) -> tuple[Any, ...]:
    """The prefilters compiled once with the ``regex`` module, which reads the same syntax as Polars'
    Rust engine (``\\p{L}``, inline ``(?i:...)``)."""
    import regex

    return tuple(regex.compile(p) for p in patterns)


class PrefilterHits:
    """Which sampled values of which column each prefilter pattern matches, for all columns of a table
    at once: one Polars query flags every (value, pattern) pair and counts per column; the values a
    pattern matched are materialised only when a detector asks for them, once per pattern for all
    columns. The number of queries does not grow with the number of columns."""

    def __init__(self, samples: list[list[str]], patterns: list[str]) -> None:
        self._index = {p: k for k, p in enumerate(patterns)}
        self._values: dict[str, dict[int, list[str]]] = {}
        self._counts: dict[int, tuple[int, ...]] = {}
        self._flags: pl.DataFrame | None = None
        if not patterns or not any(samples):
            return
        if sum(len(vals) for vals in samples) <= SMALL_SAMPLE_VALUES:
            self._eager(samples, patterns)
            return
        frame = pl.DataFrame(
            {
                "c": [i for i, vals in enumerate(samples) for _ in vals],
                "v": [v for vals in samples for v in vals],
            },
            schema={"c": pl.UInt32, "v": pl.String},
        )
        self._flags = frame.with_columns(
            pl.col("v").str.contains(p).alias(f"p{k}") for k, p in enumerate(patterns)
        )
        counts = self._flags.group_by("c").agg(pl.col(f"p{k}").sum() for k in range(len(patterns)))
        self._counts = {row[0]: row[1:] for row in counts.iter_rows()}

    def _eager(self, samples: list[list[str]], patterns: list[str]) -> None:
        """Small tables: the same answers from precompiled Python regexes, without a query (whose fixed
        cost, compiling every pattern again, dominated a ZIP of many small members)."""
        compiled = _compiled_prefilters(tuple(patterns))
        for p, rx in zip(patterns, compiled, strict=True):
            by_column = self._values[p] = {}
            for c, vals in enumerate(samples):
                hit = [v for v in vals if rx.search(v)]
                if hit:
                    by_column[c] = hit
        k_of = self._index
        for c in range(len(samples)):
            row = [0] * len(patterns)
            for p, by_column in self._values.items():
                row[k_of[p]] = len(by_column.get(c, ()))
            self._counts[c] = tuple(row)

    def count(self, column: int, pattern: str) -> int:
        row = self._counts.get(column)
        return int(row[self._index[pattern]]) if row is not None else 0

    def values(self, column: int, pattern: str) -> list[str]:
        by_column = self._values.get(pattern)
        if by_column is None:
            by_column = self._values[pattern] = {}
            if self._flags is not None:
                hit = self._flags.filter(pl.col(f"p{self._index[pattern]}"))
                for c, v in zip(hit.get_column("c").to_list(), hit.get_column("v").to_list(), strict=True):
                    by_column.setdefault(c, []).append(v)
        return by_column.get(column, [])


def _restore_leading_zeros(values: pl.Series) -> pl.Series:
    """Fixed-width codes (postal codes, tax numbers) read as integers lost their leading zeros: when most
    values have the same width L >= 4 and none is much shorter, pad back to L."""
    if values.is_empty():
        return values
    lengths = values.str.len_chars()
    width = int(lengths.max() or 0)
    if width >= 4 and float((lengths == width).mean() or 0.0) >= 0.5 and int(lengths.min() or 0) >= width - 2:
        return values.str.zfill(width)
    return values
