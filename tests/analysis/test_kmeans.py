"""k-means of the campaigns (ppcti.analysis.attacks.kmeans): the clusters it must find, the fixed point
it must stop at, reproducibility, and scikit-learn's ``KMeans`` as a yardstick where it is installed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.analysis.attacks.kmeans import kmeans, squared_distances, standardise


def _blobs(seed: int, k: int, dims: int, per: int, spread: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``k`` well-separated Gaussian blobs: centres at least 20 standard deviations apart."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((k, dims))
    centres[:, 0] = np.arange(k) * 20.0 * spread
    centres[:, 1:] = rng.normal(0, 3 * spread, (k, dims - 1)) if dims > 1 else centres[:, 1:]
    truth = np.repeat(np.arange(k), per)
    rng.shuffle(truth)
    return centres[truth] + rng.normal(0, spread, (truth.size, dims)), truth


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings group the points alike, whatever the cluster numbers."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(2, 6),
    dims=st.integers(1, 5),
    per=st.integers(5, 60),
    cluster_seed=st.integers(0, 1000),
)
def test_separated_blobs_are_found_exactly(seed: int, k: int, dims: int, per: int, cluster_seed: int) -> None:
    x, truth = _blobs(seed, k, dims, per)
    found = kmeans(x, k, seed=cluster_seed)
    assert _same_partition(found.labels, truth)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 300),
    dims=st.integers(1, 6),
    k=st.integers(1, 12),
    fit_max=st.sampled_from([20_000, 50]),
)
def test_every_point_sits_with_its_nearest_centre_and_no_cluster_is_empty(
    seed: int, n: int, dims: int, k: int, fit_max: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, dims)).round(1)  # rounded: repeated points and ties occur
    k = min(k, np.unique(x, axis=0).shape[0])
    found = kmeans(x, k, seed=seed % 1000, fit_max=fit_max)
    d = squared_distances(x, found.centres)
    chosen = d[np.arange(n), found.labels]
    assert np.allclose(chosen, d.min(axis=1))
    assert found.centres.shape == (k, dims)
    if fit_max >= n:
        assert np.isclose(found.inertia, chosen.sum())
        assert set(found.labels.tolist()) == set(range(k))


def test_as_many_clusters_as_distinct_points_puts_each_apart() -> None:
    x = np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 0.0], [9.0, 1.0], [5.0, 5.0]])
    found = kmeans(x, 3, seed=0)
    assert found.inertia == 0.0
    assert _same_partition(found.labels, np.array([0, 1, 0, 2, 1]))


def test_the_same_seed_gives_the_same_clusters_and_another_may_not() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (2_000, 8))  # no structure: many local optima
    first, again = kmeans(x, 12, seed=7), kmeans(x, 12, seed=7)
    assert np.array_equal(first.labels, again.labels)
    assert np.array_equal(first.centres, again.centres)
    assert any(not np.array_equal(kmeans(x, 12, seed=s).labels, first.labels) for s in range(8, 12))


def test_a_sample_fits_the_centres_of_a_large_input() -> None:
    x, truth = _blobs(11, 5, 3, 3_000)
    found = kmeans(x, 5, seed=0, fit_max=500)
    assert _same_partition(found.labels, truth)


def test_centres_are_the_means_of_their_members_when_it_stops() -> None:
    x, _ = _blobs(4, 4, 2, 40, spread=6.0)  # overlapping: several iterations
    found = kmeans(x, 4, seed=1, tol=0.0)  # stops only when no point moves
    for c in range(4):
        assert np.allclose(found.centres[c], x[found.labels == c].mean(axis=0))


def test_standardise_gives_unit_columns_and_zero_for_constants() -> None:
    x = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, 4.0], [5.0, 5.0, 9.0]])
    s = standardise(x)
    assert np.allclose(s.mean(axis=0), 0.0)
    assert np.allclose(s.std(axis=0), [1.0, 0.0, 1.0])


@pytest.mark.parametrize("k", [0, 6])
def test_k_outside_one_to_the_number_of_points_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="k must be between 1 and the number of points"):
        kmeans(np.zeros((5, 2)), k, seed=0)


def test_inertia_is_on_par_with_scikit_learn() -> None:
    """On overlapping blobs (no single right answer), the clustering is as tight as scikit-learn's
    ``KMeans`` with the same seedings: within 3 % of its inertia, over several seeds."""
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    ours, theirs = [], []
    for seed in range(5):
        x, _ = _blobs(100 + seed, 10, 6, 150, spread=8.0)
        x = standardise(x)
        ours.append(kmeans(x, 10, seed=seed).inertia)
        theirs.append(sklearn_cluster.KMeans(n_clusters=10, n_init=2, random_state=seed).fit(x).inertia_)
    assert sum(ours) <= 1.03 * sum(theirs)
