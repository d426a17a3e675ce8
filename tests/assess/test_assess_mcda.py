"""AHP and TOPSIS held to published worked examples and to the textbook formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ppcti.assess.mcda import ahp_weights, ranking, sensitivity, topsis
from ppcti.errors import ConfigError

LEADER = ("Experience", "Education", "Charisma", "Age")
# Saaty's "choosing a leader" example (reproduced in the Wikipedia article on AHP): the published
# priorities are Experience 0.547, Education 0.127, Charisma 0.270, Age 0.056, with CR 0.044.
LEADER_PAIRS = [
    ("Experience", "Education", 4),
    ("Experience", "Charisma", 3),
    ("Experience", "Age", 7),
    ("Education", "Charisma", 1 / 3),
    ("Education", "Age", 3),
    ("Charisma", "Age", 5),
]


def test_ahp_reproduces_the_published_leader_example() -> None:
    w = ahp_weights(LEADER, comparisons=LEADER_PAIRS)
    published = {"Experience": 0.547, "Education": 0.127, "Charisma": 0.270, "Age": 0.056}
    for c, p in published.items():
        assert w.weights[c] == pytest.approx(p, abs=0.0015)
    assert w.consistency_ratio == pytest.approx(0.044, abs=0.001)
    assert w.method == "ahp-pairwise"


def test_inconsistent_judgements_are_refused_with_the_ratio() -> None:
    pairs = [("a", "b", 9), ("b", "c", 9), ("a", "c", 1 / 9)]
    with pytest.raises(ConfigError, match="inconsistent"):
        ahp_weights(("a", "b", "c"), comparisons=pairs)


def test_a_missing_pair_is_named() -> None:
    with pytest.raises(ConfigError, match=r"Education / Experience|Experience / Education"):
        ahp_weights(LEADER, comparisons=LEADER_PAIRS[1:])


@given(st.lists(st.integers(1, 9), min_size=3, max_size=8))
@settings(max_examples=40, deadline=None)
def test_priorities_give_consistent_weights_in_their_order(scores: list[int]) -> None:
    names = [f"c{i}" for i in range(len(scores))]
    w = ahp_weights(names, priorities=dict(zip(names, map(float, scores), strict=True)))
    assert sum(w.weights.values()) == pytest.approx(1.0)
    assert w.consistency_ratio == pytest.approx(0.0, abs=1e-6)
    for a, sa in zip(names, scores, strict=True):
        for b, sb in zip(names, scores, strict=True):
            if sa > sb:
                assert w.weights[a] > w.weights[b]


def _textbook_topsis(x: np.ndarray, w: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """Hwang & Yoon's steps written out: vector normalisation, weighting, ideal points, distances."""
    v = x / np.sqrt((x**2).sum(axis=0)) * w
    best = np.where(benefit > 0, v.max(axis=0), v.min(axis=0))
    worst = np.where(benefit > 0, v.min(axis=0), v.max(axis=0))
    d_best = np.sqrt(((v - best) ** 2).sum(axis=1))
    d_worst = np.sqrt(((v - worst) ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return d_worst / (d_best + d_worst)


def test_topsis_matches_a_published_example() -> None:
    # Sennaroglu, Decision Analysis lecture notes (2009): alternatives (17, 12), (10, 9), (8, 6), both
    # benefit criteria, weights 0.714 / 0.286; the published weighted normalised matrix is
    # [[0.5703, 0.2124], [0.3355, 0.1593], [0.2684, 0.1062]], from which the closeness follows.
    x = np.array([[17, 12], [10, 9], [8, 6]], dtype=float)
    published_v = np.array([[0.5703, 0.2124], [0.3355, 0.1593], [0.2684, 0.1062]])
    d_best = np.sqrt(((published_v - published_v[0]) ** 2).sum(axis=1))
    d_worst = np.sqrt(((published_v - published_v[2]) ** 2).sum(axis=1))
    expected = d_worst / (d_best + d_worst)
    got = topsis(x, np.array([0.714, 0.286]), np.array([1, 1]))
    assert got == pytest.approx(expected, abs=5e-4)
    assert ranking(["A1", "A2", "A3"], got) == ["A1", "A2", "A3"]


@given(
    arrays(np.float64, st.tuples(st.integers(2, 6), st.integers(2, 6)), elements=st.floats(1, 5)),
    st.data(),
)
@settings(max_examples=60, deadline=None)
def test_topsis_equals_the_textbook_formulas(x: np.ndarray, data: st.DataObject) -> None:
    n = x.shape[1]
    w = np.array(data.draw(st.lists(st.floats(0.05, 1), min_size=n, max_size=n)))
    w = w / w.sum()
    benefit = np.array(data.draw(st.lists(st.sampled_from([1, -1]), min_size=n, max_size=n)))
    expected = _textbook_topsis(x, w, benefit)
    if not np.all(np.isfinite(expected)):
        return  # all alternatives equal: closeness undefined
    assert topsis(x, w, benefit) == pytest.approx(expected, abs=1e-9)


def test_sensitivity_finds_the_weight_that_flips_the_top() -> None:
    x = np.array([[5, 1], [1, 5]], dtype=float)
    benefit = np.array([1, 1])
    out = sensitivity(["a", "b"], x, {"c1": 0.6, "c2": 0.4}, benefit)
    assert out["stable"] is True  # 0.6/0.4 moved by 20 % keeps c1 ahead
    flip = {f["criterion"]: f for f in out["flips"]}
    assert flip["c1"]["new_top"] == "b" and flip["c1"]["factor"] < 1
    assert flip["c2"]["new_top"] == "b" and flip["c2"]["factor"] > 1
    close = sensitivity(["a", "b"], x, {"c1": 0.52, "c2": 0.48}, benefit)
    assert close["stable"] is False
