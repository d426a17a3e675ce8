"""The organisation's profile for ``ppcti assess``: who holds the data, what protects it, what it needs.

The profile is the only place where judgement enters the assessment (priorities, constraints, the breach
scenario); everything else is derived from the run. It is validated field by field so that a mistake is
reported with the dotted path of the field (``constraints.latency_budget_s``), never with a traceback.
The commented template (``ppcti assess init``) documents every field; its values are the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ppcti.errors import ConfigError

SCHEMA = "ppcti-assess-profile/1"

SECTORS = ("public", "healthcare", "financial", "industrial", "technology", "education", "energy",
           "retail", "other")
SIZES = ("micro", "small", "medium", "large")
REGIONS = ("EU", "US", "UK", "other")
ROLES = ("controller", "processor")
USES = ("cti-sharing", "enrichment", "fhe-correlation", "tee-processing")
SUBJECTS = ("customers", "employees", "patients", "minors", "citizens", "other")
COMPUTATIONS = ("membership", "aggregate", "join", "analytics")
CONTROLS = ("encryption", "pseudonymisation", "minimisation", "access_control", "logging", "retention",
            "backups", "incident_response", "staff_training", "processor_contracts", "dpo",
            "vulnerability_management")
CRITERIA = ("trust", "adversary", "computation", "overhead", "utility", "maturity", "legal", "cost")
CONFIDENTIALITY = ("none", "known", "unknown")
INTEGRITY = ("none", "recoverable", "irrecoverable")
AVAILABILITY = ("none", "temporary", "permanent")


def template_text() -> str:
    """The commented profile that ``ppcti assess init`` writes; its values are the defaults."""
    return resources.files("ppcti.assess").joinpath("data/profile-template.yaml").read_text("utf-8")


@dataclass(frozen=True, slots=True)
class Profile:
    """A validated profile; sections are plain dicts of checked values, keyed as in the YAML file."""

    organisation: dict[str, Any]
    processing: dict[str, Any]
    controls: dict[str, float]
    priorities: dict[str, float]
    comparisons: tuple[tuple[str, str, float], ...]
    constraints: dict[str, Any]
    risk: dict[str, Any]
    breach: dict[str, Any]
    source: str = field(default="defaults")


class _Reader:
    """Checks one section against the defaults' types and the allowed values, naming the field."""

    def __init__(self, data: Any, section: str, defaults: dict[str, Any]) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"profile: {section}: expected a mapping of fields")
        unknown = sorted(set(map(str, data)) - set(defaults))
        if unknown:
            raise ConfigError(f"profile: {section}.{unknown[0]}: unknown field; known: {sorted(defaults)}")
        self.data, self.section, self.defaults = data, section, defaults

    def get(self, name: str, *, choices: tuple[str, ...] | None = None, lo: float | None = None,
            hi: float | None = None, nullable: bool = False) -> Any:
        where = f"profile: {self.section}.{name}"
        value = self.data.get(name, self.defaults[name])
        default = self.defaults[name]
        if value is None:
            if nullable or default is None:
                return None
            raise ConfigError(f"{where}: a value is required")
        if isinstance(default, bool) or (default is None and isinstance(value, bool)):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false")
            return value
        if isinstance(default, (int, float)) or (default is None and isinstance(value, (int, float))):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{where}: expected a number")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ConfigError(f"{where}: must be between {_num(lo)} and {_num(hi)}")
            return value
        if isinstance(default, list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: expected a list of words")
            if choices:
                bad = [v for v in value if v not in choices]
                if bad:
                    raise ConfigError(f"{where}: unknown value {bad[0]!r}; choose from {list(choices)}")
            return list(value)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: expected a word")
        if choices and value not in choices:
            raise ConfigError(f"{where}: unknown value {value!r}; choose from {list(choices)}")
        return value


def _num(v: float | None) -> str:
    return f"{int(v):,}" if v is not None and float(v).is_integer() else str(v)


def _defaults() -> dict[str, Any]:
    return yaml.safe_load(template_text())


def _control(value: Any, name: str) -> float:
    if value is True:
        return 1.0
    if value is False or value is None:
        return 0.0
    if value == "partial":
        return 0.5
    raise ConfigError(f"profile: controls.{name}: expected true, false or partial")


def parse_profile(data: Any, source: str = "profile") -> Profile:
    """Validate a parsed YAML document; every error names the offending field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("profile: expected a YAML mapping at the top level")
    defaults = _defaults()
    schema = data.get("schema", SCHEMA)
    if schema != SCHEMA:
        raise ConfigError(f"profile: schema: expected {SCHEMA!r}")
    sections = set(defaults) | {"comparisons"}
    unknown = sorted(set(map(str, data)) - sections)
    if unknown:
        raise ConfigError(f"profile: {unknown[0]}: unknown section; known: {sorted(sections - {'schema'})}")

    org = _Reader(data.get("organisation"), "organisation", defaults["organisation"])
    organisation = {
        "name": org.get("name"),
        "sector": org.get("sector", choices=SECTORS),
        "size": org.get("size", choices=SIZES),
        "region": org.get("region", choices=REGIONS),
        "role": org.get("role", choices=ROLES),
        "annual_turnover_eur": org.get("annual_turnover_eur", lo=0, hi=1e13),
        "population": org.get("population", lo=1, hi=1e10, nullable=True),
    }
    proc = _Reader(data.get("processing"), "processing", defaults["processing"])
    processing = {
        "uses": proc.get("uses", choices=USES),
        "data_subjects": proc.get("data_subjects", choices=SUBJECTS),
        "cross_border": proc.get("cross_border"),
    }
    ctl = data.get("controls") or {}
    if not isinstance(ctl, dict):
        raise ConfigError("profile: controls: expected a mapping of fields")
    bad = sorted(set(map(str, ctl)) - set(CONTROLS))
    if bad:
        raise ConfigError(f"profile: controls.{bad[0]}: unknown control; known: {list(CONTROLS)}")
    controls = {c: _control(ctl.get(c, defaults["controls"][c]), c) for c in CONTROLS}

    pri = _Reader(data.get("priorities"), "priorities", defaults["priorities"])
    priorities = {c: float(pri.get(c, lo=1, hi=9)) for c in CRITERIA}
    comparisons = _comparisons(data.get("comparisons"))

    con = _Reader(data.get("constraints"), "constraints", defaults["constraints"])
    constraints = {
        "exact_results": con.get("exact_results"),
        "computations": con.get("computations", choices=COMPUTATIONS),
        "tee_hardware": con.get("tee_hardware"),
        "non_colluding_parties": con.get("non_colluding_parties"),
        "latency_budget_s": con.get("latency_budget_s", lo=0, hi=1e9),
        "require_anonymous_output": con.get("require_anonymous_output"),
    }
    rsk = _Reader(data.get("risk"), "risk", defaults["risk"])
    risk = {
        "annual_breach_likelihood": rsk.get("annual_breach_likelihood", lo=0, hi=365),
        "target_k": int(rsk.get("target_k", lo=1, hi=1e6)),
        "risk_threshold": rsk.get("risk_threshold", lo=0, hi=1),
        "max_suppression": rsk.get("max_suppression", lo=0, hi=1),
        "sensitive_columns": rsk.get("sensitive_columns"),
    }
    br = _Reader(data.get("breach"), "breach", defaults["breach"])
    breach = {
        "confidentiality": br.get("confidentiality", choices=CONFIDENTIALITY),
        "integrity": br.get("integrity", choices=INTEGRITY),
        "availability": br.get("availability", choices=AVAILABILITY),
        "malicious": br.get("malicious"),
        "volume_high": br.get("volume_high"),
        "publicly_available": br.get("publicly_available"),
    }
    return Profile(organisation, processing, controls, priorities, comparisons, constraints, risk, breach,
                   source)


def _comparisons(raw: Any) -> tuple[tuple[str, str, float], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("profile: comparisons: expected a list of [criterion, criterion, 1..9]")
    out = []
    for i, item in enumerate(raw):
        where = f"profile: comparisons[{i}]"
        if not (isinstance(item, list) and len(item) == 3):
            raise ConfigError(f"{where}: expected [criterion, criterion, value]")
        a, b, v = item
        for c in (a, b):
            if c not in CRITERIA:
                raise ConfigError(f"{where}: unknown criterion {c!r}; choose from {list(CRITERIA)}")
        if a == b:
            raise ConfigError(f"{where}: a criterion compared with itself")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 1 / 9 <= v <= 9:
            raise ConfigError(f"{where}: the judgement must be a number from 1/9 to 9")
        out.append((a, b, float(v)))
    return tuple(out)


def load_profile(path: Path | None) -> Profile:
    """Read and validate a profile file; ``None`` gives the template's defaults."""
    if path is None:
        return parse_profile(_defaults(), "defaults")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read profile {path.name}: {type(exc).__name__}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"profile {path.name}: not valid YAML{where}") from None
    return parse_profile(data, path.name)
