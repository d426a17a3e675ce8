"""Which privacy-enhancing technique fits the holder, and why — a rule-based decision, not a model.

1. Hard constraints exclude candidates with a stated reason (exact results needed excludes noise and
   generalisation; no TEE hardware leaves only an unattested simulation; no non-colluding party excludes
   MPC; the latency budget against measured or published latencies; computations not supported; output
   that must be anonymous excludes pseudonymous techniques).
2. The rest are ranked by TOPSIS over the criteria matrix (``data/pets.yaml``, every cell sourced), with
   AHP weights from the holder's priorities.
3. The explanation names the top choice, how each criterion weighed for and against it against the
   runner-up, what excluded the others, and whether the ranking survives ±20 % on each weight.

Nothing here is learnt from data, so nothing here is called AI: the ranking is reproducible from the
profile, the matrix and the two published methods.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ppcti.assess.catalogue import candidates, cite, criteria
from ppcti.assess.mcda import ahp_weights, ranking, sensitivity, topsis
from ppcti.assess.profile import CRITERIA, Profile


def exclusions(profile: Profile) -> dict[str, list[str]]:
    """Reasons each candidate fails a hard constraint of the profile (empty list: it stays)."""
    con = profile.constraints
    out: dict[str, list[str]] = {}
    for key, pet in candidates().items():
        why = []
        if con["exact_results"] and not pet["exact"]:
            why.append("results must be exact, and this technique adds noise or generalises values")
        if pet["needs_tee_hardware"] and not con["tee_hardware"]:
            why.append("no TEE hardware: only the simulation backend would run, which is not attested")
        if pet["needs_non_colluding"] and not con["non_colluding_parties"]:
            why.append("it needs parties that will not collude, and the profile has none")
        latency = pet["latency_s"]
        if latency["value"] > con["latency_budget_s"]:
            why.append(
                f"its latency ({latency['value']} s, {cite(latency['source'])}) exceeds the budget of "
                f"{con['latency_budget_s']} s"
            )
        missing = [c for c in con["computations"] if c not in pet["computations"]]
        if missing:
            why.append(f"it does not support the computation(s) needed: {', '.join(missing)}")
        if con["require_anonymous_output"] and not pet["anonymous_output"]:
            why.append("its output is still personal (pseudonymous) data, and anonymous output is required")
        out[key] = why
    return out


def recommend(profile: Profile, *, spread: float = 0.2) -> dict[str, Any]:
    """The recommendation section of ``assessment.json``."""
    pets = candidates()
    crit = criteria()
    names = list(CRITERIA)
    weights = ahp_weights(names, priorities=profile.priorities, comparisons=profile.comparisons)
    excluded = exclusions(profile)
    kept = [k for k, why in excluded.items() if not why]
    result: dict[str, Any] = {
        "method": {
            "constraints": "hard constraints first (see excluded)",
            "weights": weights.method,
            "consistency_ratio": round(weights.consistency_ratio, 4),
            "ranking": "TOPSIS, vector normalisation",
            "sources": ["saaty-1980", "hwang-yoon-1981"],
        },
        "weights": {c: round(w, 4) for c, w in weights.weights.items()},
        "excluded": {k: why for k, why in excluded.items() if why},
        "matrix": {k: pets[k]["scores"] for k in pets},
        "criteria": crit,
    }
    if not kept:
        result.update(
            top=None,
            ranking=[],
            explanation=(
                "No technique fits every hard constraint of the profile. "
                + " ".join(f"{pets[k]['name']}: {'; '.join(why)}." for k, why in excluded.items())
                + " Relax a constraint (for example the latency budget or exact results) and assess again."
            ),
        )
        return result
    matrix = np.array([[pets[k]["scores"][c]["value"] for c in names] for k in kept], dtype=float)
    benefit = np.array([1 if crit[c]["kind"] == "benefit" else -1 for c in names])
    w = np.array([weights.weights[c] for c in names])
    scores = topsis(matrix, w, benefit)
    order = ranking(kept, scores)
    by_name = dict(zip(kept, scores, strict=True))
    result["ranking"] = [{"pet": k, "name": pets[k]["name"], "closeness": round(float(by_name[k]), 4)}
                         for k in order]
    result["top"] = order[0]
    result["contributions"] = _contributions(order, kept, matrix, w, benefit, names) if len(order) > 1 else []
    result["sensitivity"] = (
        sensitivity(kept, matrix, weights.weights, benefit, spread=spread) if len(kept) > 1 else
        {"spread": spread, "stable": True, "checks": [], "flips": []}
    )
    result["explanation"] = _explain(result, pets)
    return result


def _contributions(order: list[str], kept: list[str], matrix: np.ndarray, w: np.ndarray,
                   benefit: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """Per criterion, the weighted normalised advantage of the top choice over the runner-up."""
    norm = matrix / np.sqrt((matrix**2).sum(axis=0)).clip(min=1e-12)
    top, second = kept.index(order[0]), kept.index(order[1])
    rows = []
    for j, c in enumerate(names):
        adv = float(w[j] * (norm[top, j] - norm[second, j]) * benefit[j])
        rows.append({"criterion": c, "weight": round(float(w[j]), 4), "top": float(matrix[top, j]),
                     "runner_up": float(matrix[second, j]), "advantage": round(adv, 4)})
    return sorted(rows, key=lambda r: -abs(r["advantage"]))


def _explain(result: dict[str, Any], pets: dict[str, Any]) -> str:
    top = result["top"]
    parts = [f"Recommended: {pets[top]['name']} (closeness {result['ranking'][0]['closeness']})."]
    contrib = result["contributions"]
    if contrib:
        runner = result["ranking"][1]["pet"]
        pro = [c["criterion"] for c in contrib if c["advantage"] > 0][:3]
        con = [c["criterion"] for c in contrib if c["advantage"] < 0][:2]
        text = f"Against the runner-up, {pets[runner]['name']}, it wins on {', '.join(pro) or 'nothing'}"
        text += f" and loses on {', '.join(con)}." if con else "."
        parts.append(text)
    else:
        parts.append("It is the only candidate left after the hard constraints.")
    for key, why in result["excluded"].items():
        parts.append(f"{pets[key]['name']} was excluded: {'; '.join(why)}.")
    sens = result["sensitivity"]
    if sens["stable"]:
        parts.append(f"The choice holds when any one weight moves by ±{int(sens['spread'] * 100)} %.")
    else:
        shaky = sorted({c["criterion"] for c in sens["checks"] if not c["stable"]})
        parts.append(f"The choice is sensitive: ±{int(sens['spread'] * 100)} % on {', '.join(shaky)} "
                     "changes it.")
    if sens["flips"]:
        f = sens["flips"][0]
        parts.append(f"The smallest change that flips it: the weight of {f['criterion']} times "
                     f"{f['factor']} makes {pets[f['new_top']]['name']} the top choice.")
    return " ".join(parts)
