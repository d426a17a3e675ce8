"""Generalisation suggestions: the path they propose really reaches the target."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.assess.generalise import LEVELS, level_expr, suggest


def _apply(df: pl.DataFrame, suggestion: dict, kinds: dict[str, str]) -> pl.DataFrame:
    levels = {s["column"]: LEVELS[kinds[s["column"]]].index(s["generalisation"]) + 1
              for s in suggestion["steps"]}
    return df.with_columns([level_expr(c, kinds[c], lv) for c, lv in levels.items()])


def _check(df: pl.DataFrame, qis: list[str], kinds: dict[str, str], k: int, budget: float) -> dict:
    out = suggest(df, qis, kinds, target_k=k, max_suppression=budget)
    assert out["reached"]
    g = _apply(df, out, kinds)
    sizes = g.group_by(qis).len()["len"]
    small = int(sizes.filter(sizes < k).sum())
    # recomputed apart from the search: what is left below k fits the budget, the rest is k-anonymous
    assert small / df.height == pytest.approx(out["records_to_suppress"], abs=1e-6)
    assert small / df.height <= budget + 1e-12
    assert int(sizes.filter(sizes >= k).min()) >= k
    return out


def test_patient_like_table_reaches_k5() -> None:
    r = random.Random(3)
    n = 3000
    df = pl.DataFrame({
        "age": [str(r.randint(18, 90)) for _ in range(n)],
        "zip": [f"{r.randint(10, 14)}{r.randint(100, 999)}" for _ in range(n)],
        "sex": [r.choice("MF") for _ in range(n)],
        "dob": [f"{r.randint(1940, 2005)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}" for _ in range(n)],
    })
    kinds = {"age": "numeric", "zip": "prefix", "sex": "categorical", "dob": "date"}
    out = _check(df, ["age", "zip", "sex", "dob"], kinds, 5, 0.05)
    assert 0 < out["height_loss"] < 1  # not everything suppressed
    assert out["steps"]


def test_already_anonymous_needs_nothing() -> None:
    df = pl.DataFrame({"sex": ["M", "F"] * 10})
    out = suggest(df, ["sex"], {"sex": "categorical"}, target_k=5, max_suppression=0.0)
    assert out["steps"] == [] and out["records_to_suppress"] == 0 and out["height_loss"] == 0


def test_levels_of_each_hierarchy() -> None:
    df = pl.DataFrame({"a": ["37", "x"], "d": ["1987-06-05", "05.06.1987"], "z": ["85-316", "12"]})
    out = df.select(
        level_expr("a", "numeric", 1), level_expr("d", "date", 2), level_expr("z", "prefix", 2)
    )
    assert out.row(0) == ("35-39", "1987", "85-3**")
    assert out.row(1) == ("*", "1987", "*")  # unreadable or too short: suppressed, never kept


@given(st.lists(st.tuples(st.integers(0, 99), st.sampled_from("MFX"), st.integers(1000, 1099)),
                min_size=5, max_size=120), st.integers(2, 6))
@settings(max_examples=40, deadline=None)
def test_any_table_reaches_any_k(rows: list[tuple], k: int) -> None:
    df = pl.DataFrame({"age": [str(a) for a, _, _ in rows], "sex": [s for _, s, _ in rows],
                       "zip": [str(z) for _, _, z in rows]})
    kinds = {"age": "numeric", "sex": "categorical", "zip": "prefix"}
    if df.height < k:
        return
    _check(df, ["age", "sex", "zip"], kinds, k, 0.1)


def test_wide_codes_that_do_not_pack_into_64_bits() -> None:
    # six columns of 10,000 distinct values need 6 x 14 bits: the search groups on the columns instead
    n = 10_000
    r = random.Random(5)
    df = pl.DataFrame({f"c{i}": [str(r.randrange(10**9)) for _ in range(n)] for i in range(6)})
    kinds = dict.fromkeys(df.columns, "prefix")
    _check(df, df.columns, kinds, 2, 0.05)
