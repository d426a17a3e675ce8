"""What a breach would cost: GDPR fine exposure, published averages, a Monte-Carlo annual loss expectancy
and the return on security investment of each privacy-enhancing technique.

Annual loss expectancy (ALE): breaches per year ~ Poisson(λ) with λ the profile's
``risk.annual_breach_likelihood``; the cost of one breach ~ lognormal with its mean set to the published
average for the holder's sector or region (``data/costs.yaml``) and shape σ = :data:`LOGNORMAL_SIGMA`
(breach costs are heavy-tailed: the median breach costs less than the mean). The annual loss of a year is
the sum of its breaches' costs; the report gives the mean, median and 90th percentile over
:data:`DRAWS` simulated years (seeded, so reproducible).

ROSI of a PET (Sonnenreich's form): ``(ALE × loss reduction − annual cost) / annual cost``, with the loss
reduction and cost from ``data/pets.yaml`` (sourced, and marked where they are assumptions).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ppcti.assess.catalogue import costs, sources

#: Shape of the lognormal cost of one breach (documented assumption; see docs/assess.md).
LOGNORMAL_SIGMA = 1.0
#: Simulated years.
DRAWS = 100_000
SEED = 20_261_207
#: Dollars per euro, to report fines and costs in one currency (documented assumption).
USD_PER_EUR = 1.08


def average_cost(sector: str, region: str) -> dict[str, Any]:
    """The most specific published average that fits: sector, then region, then global; newest first."""
    rows = costs()["average_breach_cost"]
    src = sources()
    for scope in (f"sector:{sector}", f"region:{region}", "global"):
        fits = [r for r in rows if r["scope"] == scope]
        if fits:
            best = max(fits, key=lambda r: src[r["source"]]["year"])
            return {"scope": scope, "usd": best["usd"], "source": best["source"],
                    "year": src[best["source"]]["year"]}
    raise LookupError("costs.yaml has no global figure")  # the data file always has one


def fines(turnover_eur: float) -> list[dict[str, Any]]:
    """GDPR Art. 83 caps for this turnover: the higher of the fixed cap and the share of turnover."""
    out = []
    for row in costs()["gdpr_fines"]:
        cap = max(row["cap_eur"], row["turnover_share"] * turnover_eur)
        out.append({"article": row["article"], "max_eur": cap, "fixed_cap_eur": row["cap_eur"],
                    "turnover_share": row["turnover_share"], "covers": row["covers"],
                    "source": row["source"]})
    return out


def annual_loss(likelihood: float, mean_cost: float, *, draws: int = DRAWS, seed: int = SEED,
                sigma: float = LOGNORMAL_SIGMA) -> dict[str, float]:
    """Monte-Carlo annual loss: mean, median and P90 of the yearly sum of breach costs."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(likelihood, draws)
    total = int(counts.sum())
    mu = np.log(mean_cost) - sigma**2 / 2  # lognormal with the given mean
    costs = rng.lognormal(mu, sigma, total)
    years = np.zeros(draws)
    np.add.at(years, np.repeat(np.arange(draws), counts), costs)
    return {
        "mean": float(years.mean()),
        "median": float(np.median(years)),
        "p90": float(np.percentile(years, 90)),
        "expected": likelihood * mean_cost,
        "draws": draws,
        "seed": seed,
    }


def per_breach(mean_cost: float, *, sigma: float = LOGNORMAL_SIGMA) -> dict[str, float]:
    """Median and P90 of the cost of one breach under the lognormal with the published mean."""
    mu = np.log(mean_cost) - sigma**2 / 2
    return {"mean": mean_cost, "median": float(np.exp(mu)), "p90": float(np.exp(mu + 1.2815515655 * sigma)),
            "sigma": sigma}


def rosi(ale_mean: float, pets: dict[str, Any]) -> list[dict[str, Any]]:
    """Return on security investment per PET, best first."""
    rows = []
    for key, pet in pets.items():
        cost_eur = pet["annual_cost_eur"]["value"]
        cost_usd = cost_eur * USD_PER_EUR
        reduction = pet["loss_reduction"]["value"]
        value = ale_mean * reduction
        rows.append({
            "pet": key,
            "loss_reduction": reduction,
            "loss_reduction_source": pet["loss_reduction"]["source"],
            "annual_cost_usd": round(cost_usd, 2),
            "annual_cost_source": pet["annual_cost_eur"]["source"],
            "avoided_loss_usd": round(value, 2),
            "rosi": round((value - cost_usd) / cost_usd, 4),
        })
    return sorted(rows, key=lambda r: -r["rosi"])
