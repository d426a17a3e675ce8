"""The two ways of sampling and prefiltering (Python for small inputs, Polars for large ones) answer the
same, whatever the values; and the cost-saving paths change no classification."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.pii import PiiOptions, classify_table, sampling
from ppcti.pii.context import build_context
from ppcti.pii.dates import parse_date

PATTERNS = sorted({d.prefilter for d in build_context(PiiOptions()).detectors if d.prefilter})
VALUES = st.text(alphabet="0123456789 -./:+@abcXYZéŁΑΓж_()", min_size=1, max_size=24)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(VALUES, max_size=12), min_size=1, max_size=6))
def test_python_and_polars_prefilters_agree(samples: list[list[str]]) -> None:
    eager = sampling.PrefilterHits(samples, PATTERNS)
    old = sampling.SMALL_SAMPLE_VALUES
    sampling.SMALL_SAMPLE_VALUES = -1
    try:
        lazy = sampling.PrefilterHits(samples, PATTERNS)
    finally:
        sampling.SMALL_SAMPLE_VALUES = old
    for c in range(len(samples)):
        for p in PATTERNS:
            assert eager.count(c, p) == lazy.count(c, p), p
            assert sorted(eager.values(c, p)) == sorted(lazy.values(c, p)), p


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), VALUES), min_size=1, max_size=40))
def test_small_and_large_column_profiles_agree(values: list[str | None]) -> None:
    series = pl.Series("c", values, dtype=pl.String)
    small, s_vals = sampling.profile_column(series, 500)
    old = sampling.SMALL_COLUMN_ROWS
    sampling.SMALL_COLUMN_ROWS = -1
    try:
        large, l_vals = sampling.profile_column(series, 500)
    finally:
        sampling.SMALL_COLUMN_ROWS = old
    assert s_vals == l_vals
    assert (small.rows, small.nulls, small.distinct, small.sampled) == (
        large.rows,
        large.nulls,
        large.distinct,
        large.sampled,
    )


@given(st.text(max_size=40))
def test_parse_date_never_raises(value: str) -> None:
    d = parse_date(value)
    assert d is None or 1 <= d.year <= 9999


def test_wide_table_of_numbers_reports_nothing_and_names_columns_once() -> None:
    df = pl.DataFrame(
        {f"c{i}": [str((i * 7919 + r * 104729) % 100000) for r in range(30)] for i in range(300)}
    )
    assert classify_table(df, file="wide.csv", options=PiiOptions(nlp="regex")) == []


@pytest.mark.parametrize("n", [10, 5000])
def test_same_findings_through_either_prefilter_path(n: int) -> None:
    emails = [f"user{i}@example.org" for i in range(n)]
    df = pl.DataFrame({"contact": emails, "amount": [str(i % 97) for i in range(n)]})
    found = classify_table(df, file="t.csv", options=PiiOptions(nlp="regex"))
    assert [(f.column, f.type) for f in found] == [("contact", "EMAIL_ADDRESS")]
