"""k-means for the campaigns: standardised features, k-means++ seeding, Lloyd's iterations, in NumPy.

Why not scikit-learn: the campaigns cluster a few thousand attackers into at most ``max_campaigns``
groups, which takes NumPy a fraction of a second, while importing ``sklearn.cluster`` (with SciPy and
pandas) costs 1.1–1.5 s of CPU in every process that analyses, 10–12 % of a whole 5 M-event analysis
on two cores (``bench/kmeans.py`` measures both, and compares the clusterings).

The method is the textbook one, as scikit-learn's ``KMeans`` implements it:

* greedy k-means++ seeding (Arthur and Vassilvitskii 2007): each next centre is the best, by total
  squared distance, of ``2 + ⌊ln k⌋`` candidates drawn with probability proportional to the squared
  distance to the nearest centre so far;
* Lloyd's iterations until no point changes cluster, or the centres move less (in total squared
  distance) than ``tol`` times the mean variance of the features, or ``max_iter``;
* a cluster left empty takes the point farthest from its own centre;
* ``n_init`` seedings, the one with the least inertia kept.

Above ``fit_max`` points the centres are fitted on a uniform sample of that many (the role
``MiniBatchKMeans`` played), and every point is then assigned to its nearest centre.

Distances are computed without BLAS (``np.einsum`` on one thread): no thread team spinning for cores
the other lane of the analysis is using, and sums in one order, so the clusters do not depend on the
machine's cores or BLAS build. A seeded ``np.random.Generator`` makes them reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

#: Points per block of the distance computation: bounds the temporary to block × k floats.
_BLOCK = 8192


@dataclass(frozen=True, slots=True)
class Clustering:
    """Cluster index per point, the centres (k × features), and the inertia (total squared distance
    of the points fitted to their centres)."""

    labels: np.ndarray
    centres: np.ndarray
    inertia: float


def standardise(x: np.ndarray) -> np.ndarray:
    """Each column to mean 0 and standard deviation 1 (a constant column to 0), as ``StandardScaler``."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    return (x - mean) / np.where(std > 0, std, 1.0)


def _blocks(x: np.ndarray, centres: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Per block of points: its first row and ``|c|² − 2 x·c`` (the squared distance less ``|x|²``)."""
    cc = np.einsum("ij,ij->i", centres, centres)
    for start in range(0, x.shape[0], _BLOCK):
        d = np.einsum("ij,kj->ik", x[start : start + _BLOCK], centres)
        d *= -2.0
        d += cc[None, :]
        yield start, d


def squared_distances(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``n × k`` squared Euclidean distances, by ``|x|² − 2 x·c + |c|²`` (clipped at 0)."""
    out = np.empty((x.shape[0], centres.shape[0]))
    xx = np.einsum("ij,ij->i", x, x)
    for start, d in _blocks(x, centres):
        d += xx[start : start + d.shape[0], None]
        out[start : start + d.shape[0]] = d
    return np.maximum(out, 0.0, out=out)


def _nearest(x: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each point's nearest centre, and the squared distance to it."""
    labels = np.empty(x.shape[0], dtype=np.intp)
    dist = np.empty(x.shape[0])
    for start, d in _blocks(x, centres):
        end = start + d.shape[0]
        labels[start:end] = d.argmin(axis=1)
        dist[start:end] = d[np.arange(d.shape[0]), labels[start:end]]
    dist += np.einsum("ij,ij->i", x, x)
    return labels, np.maximum(dist, 0.0, out=dist)


def seed_centres(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++: ``k`` rows of ``x`` as the first centres."""
    n = x.shape[0]
    trials = 2 + int(np.log(k))
    chosen = [int(rng.integers(n))]
    closest = squared_distances(x, x[chosen]).ravel()
    potential = float(closest.sum())
    for _ in range(1, k):
        if potential <= 0.0:  # every point sits on a centre already: any point will do
            candidates = rng.integers(n, size=trials)
        else:
            draws = rng.random(trials) * potential
            candidates = np.minimum(np.searchsorted(np.cumsum(closest), draws), n - 1)
        d = np.minimum(squared_distances(x, x[candidates]).T, closest[None, :])
        totals = d.sum(axis=1)
        best = int(totals.argmin())
        chosen.append(int(candidates[best]))
        closest, potential = d[best], float(totals[best])
    return x[chosen].copy()


def _means(x: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster, the mean of its points (by column sums in one order) and its size."""
    counts = np.bincount(labels, minlength=k)
    sums = np.stack([np.bincount(labels, weights=x[:, j], minlength=k) for j in range(x.shape[1])], axis=1)
    return sums / np.maximum(counts, 1)[:, None], counts


def lloyd(x: np.ndarray, centres: np.ndarray, *, max_iter: int, tol: float) -> Clustering:
    """Lloyd's iterations from ``centres`` (see the module docstring for when they stop)."""
    k = centres.shape[0]
    labels, dist = _nearest(x, centres)
    for _ in range(max_iter):
        new, counts = _means(x, labels, k)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            # the farthest points, each from its own centre, start the empty clusters
            far = np.argsort(-dist, kind="stable")[: empty.size]
            labels = labels.copy()
            labels[far] = empty
            new, _ = _means(x, labels, k)
        shift = float(((new - centres) ** 2).sum())
        centres = new
        previous = labels
        labels, dist = _nearest(x, centres)
        if np.array_equal(labels, previous) or shift <= tol:
            break
    return Clustering(labels=labels, centres=centres, inertia=float(dist.sum()))


def kmeans(
    x: np.ndarray,
    k: int,
    *,
    seed: int,
    n_init: int = 2,
    max_iter: int = 300,
    tol: float = 1e-4,
    fit_max: int = 20_000,
) -> Clustering:
    """``k`` clusters of the rows of ``x`` (k at most the number of distinct rows: no cluster is then
    left empty). ``tol`` is relative to the mean variance of the features, as in scikit-learn."""
    if not 1 <= k <= x.shape[0]:
        raise ValueError(f"k must be between 1 and the number of points ({x.shape[0]}), not {k}")
    if n_init < 1:
        raise ValueError(f"n_init must be at least 1, not {n_init}")
    x = np.ascontiguousarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    fit = x if x.shape[0] <= fit_max else x[np.sort(rng.choice(x.shape[0], fit_max, replace=False))]
    absolute_tol = tol * float(fit.var(axis=0).mean())
    best = lloyd(fit, seed_centres(fit, k, rng), max_iter=max_iter, tol=absolute_tol)
    for _ in range(n_init - 1):
        found = lloyd(fit, seed_centres(fit, k, rng), max_iter=max_iter, tol=absolute_tol)
        if found.inertia < best.inertia:
            best = found
    if fit is x:
        return best
    labels, dist = _nearest(x, best.centres)
    return Clustering(labels=labels, centres=best.centres, inertia=float(dist.sum()))
