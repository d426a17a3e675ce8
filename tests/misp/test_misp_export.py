"""MISP export of a run: standard templates, sightings per holder, TLP, unique uuids, feed and hashes."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("pymisp")

from pymisp import MISPEvent

from ppcti.errors import ConfigError, InputRefused
from ppcti.fhe.feeds import read_misp_feed
from ppcti.misp.export import build_event, load_aggregate
from ppcti.misp.feed import KEYED_NAME, MD5_NAME, keyed_hash, write_feed


@pytest.fixture(scope="module")
def bundle(sample_run: Path) -> dict[str, Any]:
    return load_aggregate(sample_run, observations=True)


@pytest.fixture(scope="module")
def event(bundle: dict[str, Any]) -> MISPEvent:
    return build_event(bundle)[0]


def _stix(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == kind]


def test_objects_follow_the_standard_templates(bundle: dict[str, Any], event: MISPEvent) -> None:
    names = Counter(o.name for o in event.objects)
    indicators = _stix(bundle, "indicator")
    ip_indicators = [i for i in indicators if i["pattern"].startswith("[ipv")]
    assert names["network-connection"] == len(_stix(bundle, "network-traffic"))
    assert names["email"] == len(_stix(bundle, "email-message"))
    assert names["ip-port"] == len(ip_indicators)
    assert len([a for a in event.attributes if a.type == "email-src"]) == len(indicators) - len(ip_indicators)
    for obj in event.objects:
        assert obj.template_uuid  # a known template, not a free-form object
    ip_port = {o.uuid: o for o in event.objects if o.name == "ip-port"}
    for ind in ip_indicators:
        obj = ip_port[ind["id"].split("--")[1]]  # the indicator's uuid survives
        ip = obj.get_attributes_by_relation("ip")[0]
        assert ip.to_ids is True
        assert f"'{ip.value}'" in ind["pattern"]


def test_observations_stay_out_unless_asked(sample_run: Path, event: MISPEvent) -> None:
    shared, _summary = build_event(load_aggregate(sample_run))
    names = Counter(o.name for o in shared.objects)
    assert set(names) == {"ip-port"} and names["ip-port"] == Counter(o.name for o in event.objects)["ip-port"]
    observations = orjson.loads((sample_run / "cti" / "observations.json").read_bytes())["objects"]
    recipients = {o["value"] for o in observations if o["type"] == "email-addr"} - {
        a.value for a in event.attributes if a.type == "email-src"
    }
    flat = [*shared.attributes, *(a for o in shared.objects for a in o.attributes)]
    assert recipients and not recipients & {a.value for a in flat}  # the holder's people stay with it
    assert sum(len(a.sightings) for a in flat) == sum(len(a.sightings) for a in event.attributes) + sum(
        len(a.sightings) for o in event.objects for a in o.attributes
    )


def test_sightings_per_holder(bundle: dict[str, Any], event: MISPEvent) -> None:
    sightings = _stix(bundle, "sighting")
    flat = list(event.attributes) + [a for o in event.objects for a in o.attributes]
    got = {s.uuid: s for a in flat for s in a.sightings}
    assert len(got) == len(sightings) > 0
    for s in sightings:
        assert got[s["id"].split("--")[1]].source == "acme"


def test_tlp_and_unique_uuids(event: MISPEvent) -> None:
    assert [t.name for t in event.tags if t.name.startswith("tlp:")] == ["tlp:amber"]
    flat = list(event.attributes) + [a for o in event.objects for a in o.attributes]
    uuids = [a.uuid for a in flat] + [o.uuid for o in event.objects]
    assert len(uuids) == len(set(uuids))


def test_event_roundtrips_through_pymisp(event: MISPEvent) -> None:
    again = MISPEvent()
    again.load(event.to_json())
    assert len(again.objects) == len(event.objects)
    assert sum(len(a.sightings) for o in again.objects for a in o.attributes) == sum(
        len(a.sightings) for o in event.objects for a in o.attributes
    )


def test_attack_patterns_become_galaxy_tags() -> None:
    ap = {
        "type": "attack-pattern",
        "spec_version": "2.1",
        "id": "attack-pattern--0b5c2d7e-5a5e-4e6b-8f5e-2b3c4d5e6f70",
        "created": "2023-01-01T00:00:00.000Z",
        "modified": "2023-01-01T00:00:00.000Z",
        "name": "Brute Force",
        "external_references": [{"source_name": "mitre-attack", "external_id": "T1110"}],
    }
    ind = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--1b5c2d7e-5a5e-4e6b-8f5e-2b3c4d5e6f71",
        "created": "2023-01-01T00:00:00.000Z",
        "modified": "2023-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '203.0.113.5']",
        "pattern_type": "stix",
        "valid_from": "2023-01-01T00:00:00Z",
    }
    rel = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": "relationship--2b5c2d7e-5a5e-4e6b-8f5e-2b3c4d5e6f72",
        "created": "2023-01-01T00:00:00.000Z",
        "modified": "2023-01-01T00:00:00.000Z",
        "relationship_type": "indicates",
        "source_ref": ind["id"],
        "target_ref": ap["id"],
    }
    event, _ = build_event(
        {"type": "bundle", "id": "bundle--3b5c2d7e-5a5e-4e6b-8f5e-2b3c4d5e6f73", "objects": [ap, ind, rel]}
    )
    tag = 'misp-galaxy:mitre-attack-pattern="Brute Force - T1110"'
    assert tag in [t.name for t in event.tags]
    ip = event.objects[0].get_attributes_by_relation("ip")[0]
    assert tag in [t.name for t in ip.tags]


def test_feed_folder_is_a_blacklist_source(event: MISPEvent, tmp_path: Path) -> None:
    """The exported feed reads back through the MISP feed reader: exactly the to_ids addresses."""
    summary = write_feed([event], tmp_path / "feed")
    assert summary.hashes_file is None
    manifest = orjson.loads((tmp_path / "feed" / "manifest.json").read_bytes())
    assert list(manifest) == [event.uuid]
    assert [t["name"] for t in manifest[event.uuid]["Tag"]] == ["tlp:amber"]
    assert manifest[event.uuid]["Tag"][0]["colour"] == "#FFC000"  # the TLP taxonomy's colour
    read = read_misp_feed(tmp_path / "feed")
    flat = list(event.attributes) + [a for o in event.objects for a in o.attributes]
    assert sorted(v for v, _ in read.entries) == sorted(a.value for a in flat if a.to_ids)
    assert read.unusable["to_ids is off"] > 0


def test_md5_and_keyed_hashes(event: MISPEvent, tmp_path: Path) -> None:
    ip = next(o for o in event.objects if o.name == "ip-port").get_attributes_by_relation("ip")[0].value
    write_feed([event], tmp_path / "md5", hashes="md5")
    md5 = (tmp_path / "md5" / MD5_NAME).read_text()
    assert f"{hashlib.md5(ip.encode()).hexdigest()},{event.uuid}" in md5
    key = bytes(range(32))
    write_feed([event], tmp_path / "keyed", hashes="keyed", key=key)
    keyed = (tmp_path / "keyed" / KEYED_NAME).read_text()
    assert f"{hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()},{event.uuid}" in keyed
    assert hashlib.md5(ip.encode()).hexdigest() not in keyed
    assert not (tmp_path / "keyed" / MD5_NAME).exists()
    assert len(md5.splitlines()) == len(keyed.splitlines())
    with pytest.raises(ConfigError, match="key"):
        write_feed([event], tmp_path / "nokey", hashes="keyed")
    with pytest.raises(ConfigError, match="one of"):
        write_feed([event], tmp_path / "bad", hashes="sha1")


@given(st.binary(min_size=16, max_size=64), st.binary(min_size=16, max_size=64), st.ip_addresses(v=4))
def test_keyed_hashes_depend_on_the_key(k1: bytes, k2: bytes, ip: Any) -> None:
    value = str(ip)
    assert (keyed_hash(k1, value) == keyed_hash(k2, value)) == (k1 == k2)


def test_missing_aggregate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputRefused):
        load_aggregate(tmp_path)
