"""Privacy posture: the controls the holder has (a questionnaire on the CNIL PIA method's measures),
weighed against what the data shows (direct identifiers, quasi-identifiers, special categories, minors).

The questionnaire follows the CNIL PIA knowledge base's three families of measures — on the data,
general security, organisational — with ENISA's handbook on the security of personal data processing
(2017) for the weight of each: measures that protect the data themselves weigh most. The score is the
weighted share of measures in place (partial counts half). The inherent level comes from the data alone;
the residual level lowers it by one step per 35 points of the score, never below "low".
"""

from __future__ import annotations

from typing import Any

#: control -> (CNIL PIA measure, family, weight, what to do when it is missing)
QUESTIONS: dict[str, tuple[str, str, int, str]] = {
    "encryption": ("Encryption", "data", 3, "encrypt the data at rest and in transit"),
    "pseudonymisation": ("Anonymisation / pseudonymisation", "data", 3,
                         "replace identifiers before analysis or sharing"),
    "minimisation": ("Minimisation", "data", 3, "collect and keep only the fields needed (ppcti --profile)"),
    "access_control": ("Logical access control", "data", 2, "grant access on least privilege"),
    "logging": ("Traceability (logging)", "data", 2, "log access to and processing of the data"),
    "retention": ("Archiving / retention", "data", 2, "set and enforce a retention period"),
    "backups": ("Backups", "security", 1, "test backups regularly"),
    "vulnerability_management": ("Operating security", "security", 1, "patch and scan regularly"),
    "incident_response": ("Managing personal data violations", "organisation", 2,
                          "document a breach-notification procedure (GDPR Art. 33/34)"),
    "staff_training": ("Personnel management", "organisation", 1, "train staff on data protection"),
    "processor_contracts": ("Relations with third parties", "organisation", 2,
                            "sign Art. 28 contracts with processors and recipients"),
    "dpo": ("Organisation (DPO)", "organisation", 1, "involve a data protection officer"),
}
LEVELS = ("low", "medium", "high", "very high")


def inherent_level(data: dict[str, Any]) -> tuple[str, list[str]]:
    """Level from the data alone, with the reasons that set it."""
    reasons = []
    level = 0
    if data["quasi_identifiers"]:
        level = max(level, 1)
        reasons.append("quasi-identifiers: " + ", ".join(data["quasi_identifiers"]))
    if data["direct_identifiers"]:
        level = max(level, 2)
        reasons.append("direct identifiers: " + ", ".join(data["direct_identifiers"]))
    if data["special_categories"]:
        level = 3
        reasons.append("special categories (GDPR Art. 9): " + ", ".join(data["special_categories"]))
    if data["minors"]:
        level = min(3, level + 1)
        reasons.append("data of minors")
    if not reasons:
        reasons.append("no personal data found")
    return LEVELS[level], reasons


def posture(controls: dict[str, float], data: dict[str, Any]) -> dict[str, Any]:
    """Questionnaire score, gaps by weight, inherent and residual level."""
    total = sum(w for _m, _f, w, _t in QUESTIONS.values())
    score = 100 * sum(controls[c] * w for c, (_m, _f, w, _t) in QUESTIONS.items()) / total
    gaps = [
        {"control": c, "measure": m, "family": f, "weight": w, "answer": controls[c], "action": t}
        for c, (m, f, w, t) in QUESTIONS.items()
        if controls[c] < 1
    ]
    gaps.sort(key=lambda g: (-g["weight"] * (1 - g["answer"]), g["control"]))
    inherent, reasons = inherent_level(data)
    residual = LEVELS[max(0, LEVELS.index(inherent) - int(score // 35))]
    return {
        "method": "CNIL PIA measures, weighted after ENISA's handbook",
        "sources": ["cnil-pia-2018", "enisa-handbook-2017"],
        "score": round(score, 1),
        "answers": {c: controls[c] for c in QUESTIONS},
        "gaps": gaps,
        "inherent": {"level": inherent, "reasons": reasons},
        "residual": residual,
    }
