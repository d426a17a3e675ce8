"""write_cti and ``ppcti cti``: files, idempotence, aggregate sightings, invalid-value reports."""

from __future__ import annotations

from collections import Counter, defaultdict

import orjson
import pytest
from stix2validator import ValidationOptions, validate_string
from stix_testdata import mixed_events
from typer.testing import CliRunner

from ppcti.cli import app
from ppcti.errors import InputRefused
from ppcti.stix import CtiOptions, bundle_json, write_cti
from ppcti.stix.build import stix_pattern
from ppcti.stix.markings import TLP2_IDS
from ppcti.stix.normalise import sort_key

STRICT = ValidationOptions(strict=True)


def write_events(path, events, *, garbage_at=None):
    lines = [orjson.dumps(e) for e in events]
    if garbage_at is not None:
        lines.insert(garbage_at, b'{"holder": "ACME", broken')
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture(scope="module")
def two_holders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cti")
    bank = mixed_events(150, holders=("ACME Bank",), seed=1)
    hospital = mixed_events(90, holders=("City Hospital",), seed=2)
    (root / "bank").mkdir()
    write_events(root / "bank" / "events.jsonl", bank)  # a run folder
    write_events(root / "hospital.jsonl", hospital)  # a plain events file
    summary = write_cti([root / "bank", root / "hospital.jsonl"], root / "out")
    return root, bank + hospital, summary


def test_bundles_file_has_one_bundle_per_event_in_order(two_holders):
    root, events, summary = two_holders
    lines = (root / "out" / "bundles.jsonl").read_bytes().splitlines()
    assert summary.events == summary.bundles == len(lines) == len(events)
    assert lines == [bundle_json(e) for e in events]
    assert summary.objects == sum(len(orjson.loads(x)["objects"]) for x in lines)
    assert summary.holders == ["ACME Bank", "City Hospital"]


def test_aggregate_and_observations_are_strictly_valid_and_deduplicated(two_holders):
    root, _events, summary = two_holders
    found: dict[str, list[dict]] = {}
    for name, count in (
        ("aggregate.json", summary.aggregate_objects),
        ("observations.json", summary.observation_objects),
    ):
        text = (root / "out" / name).read_text()
        result = validate_string(text, STRICT)
        assert result.is_valid, [str(e) for e in result.errors]
        objects = found[name] = orjson.loads(text)["objects"]
        ids = [o["id"] for o in objects]
        assert len(ids) == len(set(ids)) == count
        assert [o["id"] for o in objects if o["type"] == "marking-definition"] == [TLP2_IDS["amber"]]
        report = objects[-1]
        assert report["type"] == "report" and set(report["object_refs"]) == set(ids[1:-1])
    kinds = Counter(o["type"] for o in found["aggregate.json"])
    # the shared CTI: who, indicators, sightings; the observations stay apart
    assert set(kinds) == {"marking-definition", "identity", "indicator", "sighting", "report"}
    bundle_objects = [
        o
        for line in (root / "out" / "bundles.jsonl").read_bytes().splitlines()
        for o in orjson.loads(line)["objects"]
    ]
    observed = {o["id"] for o in found["observations.json"] if o["type"] not in _SDOS}
    assert observed == {o["id"] for o in bundle_objects if o["type"] not in _SDOS}  # every SCO, once
    shared = {o["id"] for o in found["aggregate.json"]}
    assert {o["id"] for o in bundle_objects if o["type"] == "identity"} <= shared
    assert not observed & shared


_SDOS = {"marking-definition", "identity", "indicator", "sighting", "report"}


def test_sightings_count_per_attacker_and_holder(two_holders):
    root, events, summary = two_holders
    objects = orjson.loads((root / "out" / "aggregate.json").read_bytes())["objects"]
    identities = {o["id"]: o["name"] for o in objects if o["type"] == "identity"}
    indicators = {o["id"]: o["pattern"] for o in objects if o["type"] == "indicator"}
    assert len(set(indicators.values())) == len(indicators) == summary.attackers  # one per attacker
    seen = {
        (indicators[s["sighting_of_ref"]], identities[s["where_sighted_refs"][0]]): s
        for s in objects
        if s["type"] == "sighting"
    }
    # expected, computed independently from the events
    expected: Counter = Counter()
    times = defaultdict(list)
    for line in (root / "out" / "bundles.jsonl").read_bytes().splitlines():
        for obj in orjson.loads(line)["objects"]:
            if obj["type"] == "indicator":
                holder = next(o["name"] for o in orjson.loads(line)["objects"] if o["type"] == "identity")
                expected[(obj["pattern"], holder)] += 1
                times[(obj["pattern"], holder)].append(obj["valid_from"])
    assert {k: v["count"] for k, v in seen.items()} == dict(expected)
    for key, sighting in seen.items():
        assert sighting["first_seen"] == min(times[key], key=sort_key)
        assert sighting["last_seen"] == max(times[key], key=sort_key)
    shared = {p for p, h in seen if (p, "ACME Bank") in seen and (p, "City Hospital") in seen}
    assert stix_pattern("ipv4-addr", "91.203.5.7") in shared  # both holders were attacked from it
    assert summary.attackers_seen_by_several == len(shared) > 0
    assert 0 < sum(expected.values()) <= len(events)


def test_two_runs_are_byte_identical(tmp_path):
    events = mixed_events(120)
    source = write_events(tmp_path / "events.jsonl", events)
    write_cti(source, tmp_path / "a")
    write_cti(source, tmp_path / "b", progress=lambda n: None)
    write_cti(iter(events), tmp_path / "c")
    for name in ("bundles.jsonl", "aggregate.json", "observations.json", "invalid.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "c" / name).read_bytes()
    assert not list(tmp_path.glob("*/*.part"))


def test_invalid_values_reported_with_place_not_value(tmp_path):
    events = mixed_events(6)
    events[1] = {**events[1], "src_ip": "300.1.1.1", "line": 42}
    events[4] = {
        "holder": "ACME Bank",
        "format": "firewall-text",
        "source_file": "fw.log",
        "line": 77,
        "src_ip": "nope",
    }
    source = write_events(tmp_path / "events.jsonl", events, garbage_at=3)
    summary = write_cti(source, tmp_path / "out", options=CtiOptions(tlp="red"))
    reports = [orjson.loads(x) for x in (tmp_path / "out" / "invalid.jsonl").read_bytes().splitlines()]
    places = {(r["file"], r["line"], r["field"]) for r in reports}
    assert (events[1]["source_file"], 42, "src_ip") in places
    assert ("fw.log", 77, "src_ip") in places
    assert (str(source), 4, "event") in places  # the broken JSON line of events.jsonl
    assert summary.invalid == len(reports) == 3
    assert summary.skipped == 1
    assert summary.bundles == 5
    raw = (tmp_path / "out" / "invalid.jsonl").read_bytes()
    assert b"300.1.1.1" not in raw
    assert b"nope" not in raw
    assert b"300.1.1.1" not in (tmp_path / "out" / "bundles.jsonl").read_bytes()
    assert TLP2_IDS["red"].encode() in (tmp_path / "out" / "aggregate.json").read_bytes()


def test_lean_observations_keep_addresses_only(tmp_path):
    source = write_events(tmp_path / "events.jsonl", mixed_events(60))
    full = write_cti(source, tmp_path / "full")
    lean = write_cti(source, tmp_path / "lean", options=CtiOptions(aggregate_observations=False))
    text = (tmp_path / "lean" / "observations.json").read_text()
    types = Counter(o["type"] for o in orjson.loads(text)["objects"])
    assert types["network-traffic"] == types["email-message"] == 0
    assert types["ipv4-addr"] > 0
    assert lean.observation_objects < full.observation_objects
    assert lean.aggregate_objects == full.aggregate_objects
    assert (tmp_path / "lean" / "aggregate.json").read_bytes() == (
        tmp_path / "full" / "aggregate.json"
    ).read_bytes()
    assert validate_string(text, STRICT).is_valid


def test_missing_input_is_refused(tmp_path):
    with pytest.raises(InputRefused):
        write_cti(tmp_path / "no-such-run", tmp_path / "out")


def test_cli_cti_command(tmp_path):
    bank = write_events(tmp_path / "bank.jsonl", mixed_events(30, holders=("ACME Bank",), seed=3))
    clinic = write_events(tmp_path / "clinic.jsonl", mixed_events(30, holders=("Clinic",), seed=4))
    out = tmp_path / "cti"
    result = CliRunner().invoke(app, ["cti", str(bank), str(clinic), "--out", str(out), "--tlp", "green"])
    assert result.exit_code == 0, result.output
    assert "60 bundles" in result.output
    assert "seen by more than one holder" in result.output
    assert len((out / "bundles.jsonl").read_bytes().splitlines()) == 60
    aggregate = (out / "aggregate.json").read_text()
    assert TLP2_IDS["green"] in aggregate
    assert validate_string(aggregate, STRICT).is_valid


def test_cli_rejects_bad_tlp(tmp_path):
    source = write_events(tmp_path / "e.jsonl", mixed_events(3))
    result = CliRunner().invoke(app, ["cti", str(source), "--out", str(tmp_path / "o"), "--tlp", "purple"])
    assert result.exit_code != 0
    assert not (tmp_path / "o" / "bundles.jsonl").exists()
