"""Re-identification metrics against a hand-computed table and their defining properties."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.assess.reid import _class_ids, assess_table, l_diversity, t_closeness
from ppcti.errors import ConfigError

# Worked by hand: classes (30,a) x3, (40,b) x2, (50,c) x1.
TABLE = pl.DataFrame({
    "age": ["30", "30", "30", "40", "40", "50"],
    "zip": ["a", "a", "a", "b", "b", "c"],
    "disease": ["flu", "flu", "hiv", "flu", "cold", "flu"],
    "weight": [1, 2, 3, 1, 1, 2],
})


def test_hand_computed_table() -> None:
    r = assess_table(TABLE, ["age", "zip"], sensitive=["disease", "weight"], numeric_sensitive={"weight"},
                     population=60, threshold=0.4)
    assert (r.records, r.classes, r.k) == (6, 3, 1)
    assert r.prosecutor_max == 1.0
    assert r.prosecutor_avg == pytest.approx(3 / 6)
    # risk 1/3, 1/2 and 1 per class: above 0.4 are the classes of 2 and 1 -> 3 of 6 records
    assert r.records_at_risk == pytest.approx(3 / 6)
    # sampling fraction 6/60: journalist max = 0.1 / 1; marketer = classes / population
    assert r.journalist_max == pytest.approx(0.1)
    assert r.marketer == pytest.approx(3 / 60)
    assert r.l_diversity["disease"]["distinct"] == 1
    # EMD, equal distance: (30,a) 1/6, (40,b) 1/3, (50,c) 1/3
    assert r.t_closeness["disease"] == pytest.approx(1 / 3)
    # ordered EMD over weights 1,2,3 (q = 1/2, 1/3, 1/6): (40,b) and (50,c) give 2/3 / (3-1)
    assert r.t_closeness["weight"] == pytest.approx(1 / 3)
    assert r.class_size_histogram == {"1": 1, "2": 2, "3-4": 3, "5-9": 0, "10+": 0}


def test_entropy_l_diversity_by_hand() -> None:
    df = pl.DataFrame({"q": ["x"] * 4 + ["y"] * 2, "s": ["a", "b", "a", "b", "a", "a"]})
    r = assess_table(df, ["q"], sensitive=["s"])
    assert r.l_diversity["s"] == {"distinct": 1, "entropy": 1.0}  # class y holds one value
    df2 = df.with_columns(pl.Series("s", ["a", "b", "a", "b", "a", "b"]))
    assert assess_table(df2, ["q"], sensitive=["s"]).l_diversity["s"]["entropy"] == pytest.approx(2.0)


def test_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="no records"):
        assess_table(TABLE.head(0), ["age"])
    with pytest.raises(ConfigError, match="'nope'"):
        assess_table(TABLE, ["nope"])
    with pytest.raises(ConfigError, match="population"):
        assess_table(TABLE, ["age"], population=3)


_cell = st.sampled_from(["a", "b", "c", None])
_rows = st.lists(st.tuples(_cell, _cell, _cell, _cell), min_size=1, max_size=60)


def _frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["q1", "q2", "q3", "s"], orient="row")


@given(_rows)
@settings(max_examples=80, deadline=None)
def test_k_is_the_smallest_class(rows: list[tuple]) -> None:
    df = _frame(rows)
    r = assess_table(df, ["q1", "q2"])
    sizes = df.group_by(["q1", "q2"]).len()["len"].to_list()
    assert r.k == min(sizes) and all(r.k <= s for s in sizes)
    assert r.prosecutor_max == pytest.approx(1 / min(sizes))
    assert 0 < r.prosecutor_avg <= 1


@given(_rows)
@settings(max_examples=80, deadline=None)
def test_adding_a_column_never_lowers_risk(rows: list[tuple]) -> None:
    df = _frame(rows)
    fewer = assess_table(df, ["q1"], threshold=0.3)
    more = assess_table(df, ["q1", "q2"], threshold=0.3)
    assert more.k <= fewer.k
    assert more.prosecutor_max >= fewer.prosecutor_max
    assert more.prosecutor_avg >= fewer.prosecutor_avg
    assert more.records_at_risk >= fewer.records_at_risk


@given(_rows)
@settings(max_examples=60, deadline=None)
def test_diversity_and_closeness_bounds(rows: list[tuple]) -> None:
    df = _frame(rows)
    r = assess_table(df, ["q1", "q2"], sensitive=["s"])
    assert 1 <= r.l_diversity["s"]["distinct"] <= r.k  # l <= distinct values of the smallest class
    assert 1 - 1e-9 <= r.l_diversity["s"]["entropy"] <= r.l_diversity["s"]["distinct"] + 1e-9
    assert 0 <= r.t_closeness["s"] <= 1
    whole = assess_table(df, [], sensitive=["s"])
    assert whole.k == df.height  # one class: the whole table


@given(_rows)
@settings(max_examples=60, deadline=None)
def test_hashed_class_ids_give_the_figures_of_the_key_columns(rows: list[tuple]) -> None:
    df = _frame(rows)
    keys = ["q1", "q2", "q3"]
    r = assess_table(df, keys, sensitive=["s"])
    classes = df.group_by(keys).len().height
    _, used = _class_ids(df, keys, classes, ["s"])
    assert used == ["__ppcti_class_id"]  # the fast path ran
    _, fallback = _class_ids(df, keys, classes + 1, ["s"])  # as if two classes shared a hash
    assert fallback == keys
    assert r.l_diversity["s"] == l_diversity(df, keys, "s")
    assert r.t_closeness["s"] == pytest.approx(t_closeness(df, keys, "s", ordered=False))
