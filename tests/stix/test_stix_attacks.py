"""STIX for the attack analysis: strict OASIS validation, ATT&CK/CAPEC references, relationships,
determinism, and no indicator for a non-public address."""

from __future__ import annotations

import copy

import pytest
from stix2validator import ValidationOptions, validate_instance

from ppcti.stix.attacks import attack_bundle

STRICT = ValidationOptions(strict=True, version="2.1")

ATTACKS = {
    "classes": [
        {
            "cls": "brute-force",
            "label": "Brute force",
            "techniques": [{"id": "T1110", "name": "Brute Force"}],
            "capec": ["CAPEC-49"],
            "tactic": "credential-access",
        },
        {
            "cls": "sql-injection",
            "label": "SQL injection",
            "techniques": [{"id": "T1190", "name": "Exploit Public-Facing Application"}],
            "capec": ["CAPEC-66"],
            "tactic": "initial-access",
        },
        {"cls": "spam", "label": "Spam", "techniques": [], "capec": [], "tactic": ""},
    ],
    "campaigns": [
        {
            "campaign": "C01",
            "name": "Brute force on port 22",
            "members_count": 3,
            "members": ["198.51.100.1", "10.0.0.9", "2001:db8::5"],
            "public_members": ["198.51.100.1", "2001:db8::5"],
            "events": 120,
            "holders": ["acme", "globex"],
            "first_seen": "2023-03-07T10:00:00Z",
            "last_seen": "2023-03-07T11:30:00.250Z",
            "classes": [{"cls": "brute-force", "n": 110}, {"cls": "sql-injection", "n": 10}],
            "main_class": "brute-force",
        }
    ],
}


def _by_type(bundle: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for obj in bundle["objects"]:
        out.setdefault(obj["type"], []).append(obj)
    return out


def test_bundle_validates_strictly_and_names_attack_and_capec() -> None:
    bundle = attack_bundle(ATTACKS)
    result = validate_instance(bundle, STRICT)
    assert result.is_valid, [str(e) for e in result.errors]
    objs = _by_type(bundle)
    patterns = {p["name"]: p for p in objs["attack-pattern"]}
    refs = {(r["source_name"], r["external_id"]) for r in patterns["Brute force"]["external_references"]}
    assert refs == {("mitre-attack", "T1110"), ("capec", "CAPEC-49")}
    assert patterns["Brute force"]["kill_chain_phases"] == [
        {"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}
    ]
    assert "external_references" not in patterns["Spam"]
    (campaign,) = objs["campaign"]
    assert campaign["first_seen"] == "2023-03-07T10:00:00.000Z"
    assert campaign["last_seen"] == "2023-03-07T11:30:00.250Z"
    uses = {r["target_ref"] for r in objs["relationship"] if r["relationship_type"] == "uses"}
    assert uses == {patterns["Brute force"]["id"], patterns["SQL injection"]["id"]}
    patterns_of_indicators = sorted(i["pattern"] for i in objs["indicator"])
    assert patterns_of_indicators == [
        "[ipv4-addr:value = '198.51.100.1']",
        "[ipv6-addr:value = '2001:db8::5']",
    ]
    indicates = [r for r in objs["relationship"] if r["relationship_type"] == "indicates"]
    assert len(indicates) == 4  # each indicator → campaign and → main attack pattern
    assert all(
        o["object_marking_refs"]
        for o in bundle["objects"]
        if o["type"] not in ("marking-definition", "identity")
    )


def test_same_insights_same_bytes_and_other_members_other_ids() -> None:
    assert attack_bundle(ATTACKS) == attack_bundle(copy.deepcopy(ATTACKS))
    changed = copy.deepcopy(ATTACKS)
    changed["campaigns"][0]["members"].append("198.51.100.2")
    first = {o["id"] for o in attack_bundle(ATTACKS)["objects"] if o["type"] == "campaign"}
    second = {o["id"] for o in attack_bundle(changed)["objects"] if o["type"] == "campaign"}
    assert first.isdisjoint(second)


@pytest.mark.parametrize("tlp", ["clear", "green", "amber", "amber+strict", "red"])
def test_every_tlp_level_validates(tlp: str) -> None:
    from ppcti.stix.options import CtiOptions

    bundle = attack_bundle(ATTACKS, CtiOptions(tlp=tlp))
    assert validate_instance(bundle, STRICT).is_valid


def test_empty_attacks_give_a_valid_bundle() -> None:
    bundle = attack_bundle({"classes": [], "campaigns": []})
    assert validate_instance(bundle, STRICT).is_valid
    assert [o["type"] for o in bundle["objects"]] == ["marking-definition", "identity"]
