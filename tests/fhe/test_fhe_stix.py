"""Decrypt-K marks matching STIX objects; the marked bundles pass the strict STIX 2.1 validator."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import stix2
from stix2validator import ValidationOptions, validate_instance

from ppcti.fhe import correlate, decrypt, encrypt_blacklist, encrypt_cti
from ppcti.fhe.stixmark import LABEL, mark_bundle

TS = "2023-03-07T10:38:03.000Z"


def _bundle(n: int, ip: str, email: str) -> dict[str, object]:
    ip_id = stix2.IPv4Address(value=ip).id
    return {
        "type": "bundle",
        "id": f"bundle--0000000{n}-2222-4222-8222-222222222222",
        "objects": [
            {"type": "ipv4-addr", "spec_version": "2.1", "id": ip_id, "value": ip},
            {
                "type": "email-addr",
                "spec_version": "2.1",
                "id": stix2.EmailAddress(value=email).id,
                "value": email,
            },
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--0000000{n}-4444-4444-8444-444444444444",
                "created": TS,
                "modified": TS,
                "name": "attacker",
                "description": "source of blocked connections",
                "indicator_types": ["malicious-activity"],
                "pattern": f"[ipv4-addr:value = '{ip}']",
                "pattern_type": "stix",
                "valid_from": TS,
            },
        ],
    }


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "cti").mkdir(parents=True)
    bundles = [_bundle(1, "203.0.113.7", "a@corp.example"), _bundle(2, "198.51.100.1", "phish@evil.example")]
    (run / "cti/bundles.jsonl").write_bytes(b"\n".join(orjson.dumps(b) for b in bundles) + b"\n")
    return run


def _strict_valid(obj: dict[str, object]) -> None:
    result = validate_instance(obj, ValidationOptions(strict=True, version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]


def test_marks_indicators_and_adds_note(keys: Path, tmp_path: Path, run_folder: Path) -> None:
    (tmp_path / "bl.txt").write_text("203.0.113.0/24\nphish@evil.example\n")
    bundles = run_folder / "cti/bundles.jsonl"
    encrypt_cti(bundles, keys / "public.key", tmp_path / "q")
    encrypt_blacklist([tmp_path / "bl.txt"], keys / "public.key", tmp_path / "bl.fhe", name="drop-test")
    correlate(
        keys / "public.key", tmp_path / "q/query.fhe", tmp_path / "bl.fhe", tmp_path / "r.fhe", threads=1
    )
    summary = decrypt(tmp_path / "r.fhe", keys / "secret.key", tmp_path / "q/mapping.json", tmp_path / "out")
    assert summary.stix_path == str(run_folder / "cti/bundles.fhe.jsonl")
    assert summary.marked_objects == 3  # bundle 1: SCO + indicator; bundle 2: the e-mail SCO
    matches = orjson.loads((tmp_path / "out/fhe_matches.json").read_bytes())["matches"]
    assert {m["value"]: m["found"] for m in matches} == {
        "203.0.113.7": True,
        "a@corp.example": False,
        "198.51.100.1": False,
        "phish@evil.example": True,
    }
    entry = next(m for m in matches if m["value"] == "203.0.113.7")["entries"]
    assert {e["role"] for e in entry} == {"observable", "indicator"}
    first = bundles.read_bytes()
    marked = [orjson.loads(line) for line in Path(summary.stix_path).read_bytes().splitlines()]
    for bundle in marked:
        _strict_valid(bundle)
    indicator = next(o for o in marked[0]["objects"] if o["type"] == "indicator")
    assert LABEL in indicator["labels"]
    assert indicator["modified"] > TS
    note = next(o for o in marked[0]["objects"] if o["type"] == "note")
    assert "on blacklist drop-test" in note["content"]
    assert len(note["object_refs"]) == 2
    assert not any(o["type"] == "indicator" and LABEL in o.get("labels", []) for o in marked[1]["objects"])
    assert bundles.read_bytes() == first  # the original stays untouched
    # deterministic: decrypting again writes the same marked file
    again = Path(summary.stix_path).read_bytes()
    decrypt(
        tmp_path / "r.fhe",
        keys / "secret.key",
        tmp_path / "q/mapping.json",
        tmp_path / "out",
        stix=run_folder,
    )
    assert Path(summary.stix_path).read_bytes() == again


def test_unmatched_bundle_is_unchanged() -> None:
    bundle = _bundle(3, "192.0.2.1", "x@y.example")
    assert mark_bundle(bundle, {"203.0.113.9"}, "bl", TS) == (bundle, 0)
