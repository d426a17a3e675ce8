"""One assessment of one run: posture, re-identification risk, breach severity and cost, and the PET
recommendation, in the versioned ``assessment.json`` (schema documented in docs/assess.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ppcti import __version__
from ppcti.assess import cost
from ppcti.assess.catalogue import candidates, sources
from ppcti.assess.evidence import data_profile, exposure, read_run
from ppcti.assess.posture import posture
from ppcti.assess.profile import Profile
from ppcti.assess.recommend import recommend
from ppcti.assess.severity import severity
from ppcti.assess.tables import table_risks

SCHEMA = "ppcti-assessment/1"

Progress = Callable[[str], None]


def _cited(obj: Any, found: set[str]) -> set[str]:
    """Every source key the assessment mentions, so the document lists exactly those."""
    known = sources()
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("source", "sources") or isinstance(v, (dict, list)):
                _cited(v, found)
    elif isinstance(obj, list):
        for v in obj:
            _cited(v, found)
    elif isinstance(obj, str) and obj in known:
        found.add(obj)
    return found


def assess(run_dir: Path, profile: Profile, *, inputs: list[Path] | None = None,
           progress: Progress | None = None) -> dict[str, Any]:
    """The assessment document; ``inputs`` (the upload) enables the re-identification figures."""
    say = progress or (lambda _msg: None)
    say("reading the run")
    ev = read_run(run_dir)
    subjects = profile.processing["data_subjects"]
    data = data_profile(ev, subjects)
    holder = str(ev.summary.get("holder") or ev.pii.get("holder") or "holder")

    say("re-identification risk")
    tables = table_risks(ev, inputs or [], profile.risk, profile.organisation["population"], holder)
    min_k = min((t["k_anonymity"] for t in tables), default=None)

    say("breach severity and cost")
    sev = severity(
        types=ev.types(), special=ev.special_types(), direct=ev.of_kind("direct"), quasi=ev.of_kind("quasi"),
        min_k=min_k, reid_flag=ev.reid_flag(), breach=profile.breach, subjects=subjects,
    )
    org = profile.organisation
    average = cost.average_cost(org["sector"], org["region"])
    likelihood = profile.risk["annual_breach_likelihood"]
    ale = cost.annual_loss(likelihood, average["usd"])
    per_breach = cost.per_breach(average["usd"])

    say("recommendation")
    rec = recommend(profile)
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "ppcti_version": __version__,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run": {"run_id": ev.summary.get("run_id"), "holder": holder, "folder": run_dir.name},
        "profile": {"source": profile.source, "organisation": org, "processing": profile.processing,
                    "constraints": profile.constraints},
        "data": data,
        "exposure": exposure(ev, profile.processing["uses"]),
        "posture": posture(profile.controls, data),
        "reidentification": {
            "tables": tables,
            "note": None if inputs else "no upload given (--upload): table risk not computed",
            "target_k": profile.risk["target_k"],
        },
        "severity": sev,
        "cost": {
            "average_breach_cost": average,
            "per_breach": per_breach,
            "annual_loss": {**ale, "likelihood_per_year": likelihood,
                            "likelihood_source": f"profile ({profile.source})",
                            "model": "Poisson frequency x lognormal magnitude"},
            "gdpr_fines": cost.fines(org["annual_turnover_eur"]),
            "usd_per_eur": cost.USD_PER_EUR,
            "rosi": cost.rosi(ale["mean"], candidates()),
        },
        "recommendation": rec,
    }
    doc["sources"] = {k: sources()[k] for k in sorted(_cited(doc, set()))}
    return doc
