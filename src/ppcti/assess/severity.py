"""Severity of a breach of this data, by ENISA's method (2013): ``SE = DPC × EI + CB``.

- DPC, data processing context (1–4): the most sensitive category of data present — simple (1),
  behavioural (2), financial (3), sensitive (4) — adjusted by the context (+1 when the volume is high or
  the data subjects are vulnerable, such as minors or patients; -1 when the data are already public),
  kept within 1–4.
- EI, ease of identification (0.25 negligible, 0.5 limited, 0.75 significant, 1 maximum): maximum when
  direct identifiers are present; significant when quasi-identifiers single out records (k < 2 or a
  re-identification flag of the knowledge graph); limited when quasi-identifiers are present but the
  tables are k-anonymous; negligible otherwise.
- CB, circumstances of the breach: loss of confidentiality (+0.25 to known recipients, +0.5 to unknown),
  of integrity (+0.25 recoverable, +0.5 not), of availability (+0.25 temporary, +0.5 permanent), and
  +0.5 for malicious intent.

Bands: SE < 2 low, 2 ≤ SE < 3 medium, 3 ≤ SE < 4 high, SE ≥ 4 very high.
"""

from __future__ import annotations

from typing import Any

#: ENISA's data categories by PII type; types not listed are "simple" data.
CATEGORY_BY_TYPE = {
    "IP_ADDRESS": "behavioural",
    "MAC_ADDRESS": "behavioural",
    "LOCATION": "behavioural",
    "URL": "behavioural",
    "DATE_TIME": "behavioural",
    "IBAN_CODE": "financial",
    "CREDIT_CARD": "financial",
    "CRYPTO": "financial",
    "TAX_ID": "financial",
    "SMOKING_STATUS": "sensitive",
    "MEDICAL_LICENSE": "simple",
}
DPC_BASE = {"simple": 1, "behavioural": 2, "financial": 3, "sensitive": 4}
EI_LEVELS = {"negligible": 0.25, "limited": 0.5, "significant": 0.75, "maximum": 1.0}
CB_CONFIDENTIALITY = {"none": 0.0, "known": 0.25, "unknown": 0.5}
CB_INTEGRITY = {"none": 0.0, "recoverable": 0.25, "irrecoverable": 0.5}
CB_AVAILABILITY = {"none": 0.0, "temporary": 0.25, "permanent": 0.5}
CB_MALICIOUS = 0.5
VULNERABLE_SUBJECTS = frozenset({"minors", "patients"})


def band(score: float) -> str:
    """ENISA's severity band of a score."""
    if score < 2:
        return "low"
    if score < 3:
        return "medium"
    if score < 4:
        return "high"
    return "very high"


def severity(
    *,
    types: set[str],
    special: set[str],
    direct: set[str],
    quasi: set[str],
    min_k: int | None,
    reid_flag: bool,
    breach: dict[str, Any],
    subjects: list[str],
) -> dict[str, Any]:
    """ENISA severity with each input shown, so a reader can redo the sum."""
    categories = {CATEGORY_BY_TYPE.get(t, "simple") for t in types}
    if special:
        categories.add("sensitive")
    category = max(categories, key=DPC_BASE.__getitem__) if categories else "simple"
    dpc = DPC_BASE[category]
    adjustments = []
    if breach["volume_high"] or VULNERABLE_SUBJECTS & set(subjects):
        adjustments.append({"reason": "high volume or vulnerable data subjects", "delta": 1})
    if breach["publicly_available"]:
        adjustments.append({"reason": "data already publicly available", "delta": -1})
    dpc_final = min(4, max(1, dpc + sum(a["delta"] for a in adjustments)))

    if direct:
        ei_level, ei_why = "maximum", f"direct identifiers present: {', '.join(sorted(direct))}"
    elif quasi and (reid_flag or (min_k is not None and min_k < 2)):
        ei_level, ei_why = "significant", "quasi-identifiers single out records"
    elif quasi:
        ei_level, ei_why = "limited", "quasi-identifiers present, no record singled out"
    else:
        ei_level, ei_why = "negligible", "no identifying data found"
    ei = EI_LEVELS[ei_level]

    cb_parts = {
        "confidentiality": CB_CONFIDENTIALITY[breach["confidentiality"]],
        "integrity": CB_INTEGRITY[breach["integrity"]],
        "availability": CB_AVAILABILITY[breach["availability"]],
        "malicious": CB_MALICIOUS if breach["malicious"] else 0.0,
    }
    cb = sum(cb_parts.values())
    score = dpc_final * ei + cb
    return {
        "method": "ENISA 2013: SE = DPC x EI + CB",
        "source": "enisa-severity-2013",
        "dpc": {"category": category, "base": dpc, "adjustments": adjustments, "value": dpc_final},
        "ei": {"level": ei_level, "value": ei, "why": ei_why},
        "cb": {"parts": cb_parts, "value": cb},
        "score": round(score, 4),
        "band": band(score),
    }
