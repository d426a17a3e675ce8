"""What the assessment reads from a run folder, on folders written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ppcti.assess.evidence import data_profile, exposure, read_run
from ppcti.errors import ConfigError, InputRefused


def _run(tmp_path: Path, *, findings: list[dict], summary: dict | None = None,
         objects: list[dict] | None = None) -> Path:
    (tmp_path / "summary.json").write_text(json.dumps(summary or {"holder": "h", "events": 10}))
    (tmp_path / "pii.json").write_text(json.dumps({"holder": "h", "findings": findings, "flags": [],
                                                   "files": [{"path": "a.csv"}]}))
    if objects is not None:
        (tmp_path / "cti").mkdir()
        (tmp_path / "cti" / "aggregate.json").write_text(json.dumps({"type": "bundle", "objects": objects}))
    return tmp_path


def test_kinds_come_from_the_ontology_and_weak_findings_do_not_count(tmp_path: Path) -> None:
    run = _run(tmp_path, findings=[
        {"file": "a.csv", "type": "EMAIL_ADDRESS", "confidence": 0.9, "column": "mail"},
        {"file": "a.csv", "type": "POSTAL_CODE", "confidence": 0.8, "column": "zip"},
        {"file": "a.csv", "type": "SMOKING_STATUS", "confidence": 0.7, "column": "smoker"},
        {"file": "a.csv", "type": "PERSON", "confidence": 0.2, "column": "x"},
    ])
    ev = read_run(run)
    data = data_profile(ev, ["minors"])
    assert data["direct_identifiers"] == ["EMAIL_ADDRESS"]
    assert data["quasi_identifiers"] == ["POSTAL_CODE"]
    assert data["special_categories"] == ["SMOKING_STATUS"]
    assert "PERSON" not in data["types"]  # below the knowledge graph's confidence threshold
    assert data["minors"] is True


def test_exposure_counts_without_values(tmp_path: Path) -> None:
    summary = {"holder": "h", "stages": {"enrich": {"sent": {"virustotal": ["203.0.113.9", "198.51.100.7"],
                                                             "abuseipdb": ["198.51.100.7"]}}}}
    objects = [{"type": "ipv4-addr", "value": "10.1.2.3"}, {"type": "ipv4-addr", "value": "8.8.8.8"},
               {"type": "ipv6-addr", "value": "fe80::1"}, {"type": "indicator"},
               {"type": "indicator", "pattern": "[ipv4-addr:value = '192.168.7.9']"},
               {"type": "indicator", "pattern": "[ipv4-addr:value = '203.0.113.80']"},
               {"type": "indicator", "pattern": "[email-addr:value = 'x@example.org']"}]
    ev = read_run(_run(tmp_path, findings=[], summary=summary, objects=objects))
    out = exposure(ev, ["cti-sharing", "enrichment", "fhe-correlation"])
    # 10.1.2.3, fe80::1 and the indicator of 192.168.7.9 (203.0.113.80 is documentation space too)
    assert out["cti-sharing"]["non_public_addresses"] == 4
    assert out["cti-sharing"]["warning"]
    assert out["cti-sharing"]["by_type"] == {"indicator": 4, "ipv4-addr": 2, "ipv6-addr": 1}
    assert out["enrichment"]["sent"] == {"virustotal": 2, "abuseipdb": 1}
    assert "198.51.100.7" not in json.dumps(out)
    assert "ciphertexts" in out["fhe-correlation"]["what"]
    assert "tee-processing" not in out


def test_unreadable_runs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a run folder"):
        read_run(tmp_path / "missing")
    (tmp_path / "summary.json").write_text("[]")
    (tmp_path / "pii.json").write_text("{}")
    with pytest.raises(InputRefused, match="shape ppcti writes"):
        read_run(tmp_path)
