"""Profiles that must pick each technique, one that must pick none, and bad profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ppcti.assess.profile import load_profile, parse_profile, template_text
from ppcti.assess.recommend import exclusions, recommend
from ppcti.errors import ConfigError


def _profile(constraints: dict[str, Any] | None = None, priorities: dict[str, Any] | None = None,
             **sections: Any) -> Any:
    data = yaml.safe_load(template_text())
    data["constraints"].update(constraints or {})
    data["priorities"].update(priorities or {})
    for name, values in sections.items():
        data[name] = values
    return parse_profile(data)


CASES = {
    "fhe-correlation": ({}, {}),
    "tee-processing": ({"tee_hardware": True}, {"computation": 9, "overhead": 9, "maturity": 8, "trust": 2}),
    "pseudonymisation": ({}, {"cost": 9, "overhead": 9, "maturity": 9, "trust": 1, "adversary": 1,
                              "utility": 2}),
    "k-anonymisation": ({"exact_results": False, "computations": ["aggregate", "analytics"],
                         "require_anonymous_output": True},
                        {"maturity": 9, "cost": 9, "adversary": 1, "utility": 1}),
    "differential-privacy": ({"exact_results": False, "computations": ["aggregate"],
                              "require_anonymous_output": True}, {"adversary": 9, "trust": 9, "legal": 9}),
    "smpc-psi": ({"non_colluding_parties": True, "computations": ["membership", "join"]},
                 {"trust": 9, "adversary": 7}),
}


@pytest.mark.parametrize("expected", list(CASES))
def test_profile_picks_each_technique(expected: str) -> None:
    constraints, priorities = CASES[expected]
    r = recommend(_profile(constraints, priorities))
    assert r["top"] == expected
    assert r["ranking"][0]["pet"] == expected
    assert r["explanation"].startswith("Recommended: ")
    assert r["method"]["consistency_ratio"] < 0.1
    assert abs(sum(r["weights"].values()) - 1) < 1e-3


def test_ranking_not_constraints_decides_when_several_remain() -> None:
    tee = recommend(_profile(*CASES["tee-processing"]))
    assert len(tee["ranking"]) == 3  # fhe, tee, pseudonymisation all pass the constraints
    default = recommend(_profile())
    assert default["top"] == "fhe-correlation" and len(default["ranking"]) == 2
    assert any(c["advantage"] > 0 for c in default["contributions"])
    assert default["sensitivity"]["checks"]


def test_no_technique_fits_and_every_reason_is_given() -> None:
    r = recommend(_profile({"latency_budget_s": 0.5, "require_anonymous_output": True}))
    assert r["top"] is None and r["ranking"] == []
    assert set(r["excluded"]) == {"fhe-correlation", "tee-processing", "pseudonymisation", "k-anonymisation",
                                  "differential-privacy", "smpc-psi"}
    assert "exceeds the budget of 0.5 s" in " ".join(r["excluded"]["fhe-correlation"])
    assert "No technique fits" in r["explanation"]


def test_exclusion_reasons() -> None:
    why = exclusions(_profile({"computations": ["join"]}))
    assert any("join" in w for w in why["fhe-correlation"])
    assert any("TEE hardware" in w for w in why["tee-processing"])
    assert any("collude" in w for w in why["smpc-psi"])
    assert any("exact" in w for w in why["differential-privacy"])
    assert why["pseudonymisation"] == []


def test_explicit_comparisons_are_used() -> None:
    crit = ["trust", "adversary", "computation", "overhead", "utility", "maturity", "legal", "cost"]
    pairs = [[a, b, 1] for i, a in enumerate(crit) for b in crit[i + 1:]]
    r = recommend(_profile(comparisons=pairs))
    assert r["method"]["weights"] == "ahp-pairwise"
    assert all(abs(w - 1 / 8) < 1e-4 for w in r["weights"].values())


@pytest.mark.parametrize(("patch", "message"), [
    ({"organisation": {"sector": "space"}}, "organisation.sector: unknown value 'space'"),
    ({"organisation": {"annual_turnover_eur": "lots"}},
     "organisation.annual_turnover_eur: expected a number"),
    ({"priorities": {"trust": 12}}, "priorities.trust: must be between 1 and 9"),
    ({"constraints": {"computations": ["mining"]}}, "constraints.computations: unknown value 'mining'"),
    ({"constraints": {"tee_hardware": "yes"}}, "constraints.tee_hardware: expected true or false"),
    ({"controls": {"encryption": "maybe"}}, "controls.encryption: expected true, false or partial"),
    ({"controls": {"firewall": True}}, "controls.firewall: unknown control"),
    ({"risk": {"target_k": 0}}, "risk.target_k: must be between 1 and"),
    ({"breach": {"integrity": "lost"}}, "breach.integrity: unknown value 'lost'"),
    ({"extra": {}}, "profile: extra: unknown section"),
    ({"organisation": {"nmae": "x"}}, "organisation.nmae: unknown field"),
    ({"comparisons": [["trust", "trust", 3]]}, r"comparisons\[0\]: a criterion compared with itself"),
    ({"comparisons": [["trust", "speed", 3]]}, r"comparisons\[0\]: unknown criterion 'speed'"),
    ({"schema": "other/2"}, "schema: expected"),
])
def test_bad_profiles_name_the_field(patch: dict[str, Any], message: str) -> None:
    data = yaml.safe_load(template_text())
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    with pytest.raises(ConfigError, match=message):
        parse_profile(data)


def test_template_is_the_defaults_and_files_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(template_text())
    assert load_profile(path).priorities == load_profile(None).priorities
    path.write_text("organisation: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML at line 1"):
        load_profile(path)
    with pytest.raises(ConfigError, match="cannot read profile"):
        load_profile(tmp_path / "missing.yaml")
