"""Multi-criteria decision: AHP weights from the holder's priorities, TOPSIS over the PETs' matrix.

Both methods come from maintained libraries that the tests hold to published worked examples: ``ahpy``
(Saaty's principal-eigenvector priorities and consistency ratio with Saaty's random index) and ``pymcdm``
(TOPSIS with vector normalisation, Hwang & Yoon 1981), the ``assess`` extra; they are imported when a
recommendation is made, so the rest of ppcti runs without them. This module only adapts their inputs
and outputs and adds the sensitivity analysis the recommendation reports.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ppcti.errors import ConfigError, MissingExtra

#: Saaty's limit: judgements with a consistency ratio above it should be revised.
MAX_CONSISTENCY_RATIO = 0.1


@dataclass(frozen=True, slots=True)
class Weights:
    weights: dict[str, float]
    consistency_ratio: float
    method: str


def ahp_weights(
    criteria: Sequence[str],
    *,
    priorities: dict[str, float] | None = None,
    comparisons: Sequence[tuple[str, str, float]] = (),
) -> Weights:
    """Criteria weights by AHP.

    Explicit pairwise ``comparisons`` (Saaty's 1..9 scale) are used when given, and must be consistent
    (CR < 0.1) and cover every pair; otherwise each pair is judged from the ratio of the two priorities,
    which is consistent by construction (CR = 0) and clipped to Saaty's scale.
    """
    try:
        import ahpy
    except ImportError:
        raise MissingExtra("assess", "The PET recommendation (AHP weights)") from None

    pairs: dict[tuple[str, str], float] = {}
    if comparisons:
        for a, b, v in comparisons:
            pairs[(a, b)] = float(v)
        have = {frozenset(p) for p in pairs}
        need = {frozenset((a, b)) for i, a in enumerate(criteria) for b in criteria[i + 1 :]}
        missing = need - have
        if missing:
            a, b = sorted(sorted(m) for m in missing)[0]
            raise ConfigError(f"profile: comparisons: no judgement for the pair {a} / {b}")
        method = "ahp-pairwise"
    else:
        if priorities is None:
            raise ConfigError("profile: priorities or comparisons are needed for the weights")
        for i, a in enumerate(criteria):
            for b in criteria[i + 1 :]:
                pairs[(a, b)] = float(np.clip(priorities[a] / priorities[b], 1 / 9, 9))
        method = "ahp-from-priorities"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare = ahpy.Compare("criteria", pairs, precision=6, random_index="saaty")
    cr = float(compare.consistency_ratio)
    if cr > MAX_CONSISTENCY_RATIO:
        raise ConfigError(
            f"profile: comparisons: the judgements are inconsistent (consistency ratio {cr:.3f} > "
            f"{MAX_CONSISTENCY_RATIO}); revise the pairs that contradict each other"
        )
    weights = {c: float(compare.target_weights[c]) for c in criteria}
    total = sum(weights.values())
    return Weights({c: w / total for c, w in weights.items()}, cr, method)


def topsis(matrix: np.ndarray, weights: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """Closeness of each alternative (row) to the ideal, in [0, 1]; ``benefit`` is +1 or -1 per column."""
    try:
        from pymcdm import normalizations
        from pymcdm.methods import TOPSIS
    except ImportError:
        raise MissingExtra("assess", "The PET recommendation (TOPSIS)") from None

    if matrix.shape[0] == 1:
        return np.ones(1)
    method = TOPSIS(normalization_function=normalizations.vector_normalization)
    with warnings.catch_warnings():
        # pymcdm warns about dominated alternatives: the explanation reports those itself
        warnings.simplefilter("ignore")
        scores = method(matrix.astype(float), weights.astype(float), benefit.astype(int))
    return np.nan_to_num(np.asarray(scores, dtype=float), nan=0.0)


def ranking(names: Sequence[str], scores: np.ndarray) -> list[str]:
    """Names by descending score; ties by name, so the order is reproducible."""
    return [n for _, n in sorted(zip(-scores, names, strict=True))]


def sensitivity(
    names: Sequence[str],
    matrix: np.ndarray,
    weights: dict[str, float],
    benefit: np.ndarray,
    *,
    spread: float = 0.2,
) -> dict[str, object]:
    """Does the top choice survive each weight moved by ``±spread`` (others renormalised)? For each
    criterion also the smallest factor (searched from 0.05 to 20) on its weight that changes the top."""
    criteria = list(weights)
    w0 = np.array([weights[c] for c in criteria])
    top = ranking(names, topsis(matrix, w0, benefit))[0]

    def top_with(i: int, factor: float) -> str:
        w = w0.copy()
        w[i] *= factor
        return ranking(names, topsis(matrix, w / w.sum(), benefit))[0]

    checks = []
    flips = []
    for i, c in enumerate(criteria):
        for factor in (1 - spread, 1 + spread):
            winner = top_with(i, factor)
            checks.append(
                {"criterion": c, "factor": round(factor, 3), "top": winner, "stable": winner == top}
            )
        flip = None
        grid = sorted({*np.geomspace(0.05, 20, 61).round(4).tolist()}, key=lambda f: abs(np.log(f)))
        for factor in grid:
            winner = top_with(i, factor)
            if winner != top:
                flip = {"criterion": c, "factor": factor, "new_top": winner}
                break
        if flip:
            flips.append(flip)
    return {
        "spread": spread,
        "stable": all(ch["stable"] for ch in checks),
        "checks": checks,
        "flips": sorted(flips, key=lambda f: abs(np.log(float(f["factor"])))),  # type: ignore[arg-type]
    }
