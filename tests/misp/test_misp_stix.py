"""ppcti's STIX through the official converter (misp-stix), against ppcti's direct MISP export."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

pytest.importorskip("misp_stix_converter")

from ppcti.misp.convert import compare, misp_stix_events
from ppcti.misp.export import load_aggregate

pytestmark = pytest.mark.slow


def test_conversion_keeps_sightings_tlp_and_unique_uuids(sample_run: Path) -> None:
    report = compare(sample_run)
    stix, full, ours, theirs = (
        report["stix"],
        report["stix_with_observations"],
        report["ppcti"],
        report["misp-stix"],
    )
    assert stix["sighting"] > 0 and stix["indicator"] > 0
    # the official conversion of the aggregate: one event marked TLP, every sighting, no uuid twice
    assert theirs["events"] == 1
    assert "tlp:amber" in theirs["event_tags"]
    assert theirs["untagged_attributes"] == 0
    assert theirs["sightings"] == stix["sighting"]
    assert theirs["duplicate_uuids"] == 0
    assert theirs["warnings"] == 0
    assert theirs["attributes"] == theirs["to_ids"] == stix["indicator"]
    # the direct export adds the run's observations as objects, with the same sightings and marking
    assert ours["sightings"] == stix["sighting"]
    assert ours["untagged_attributes"] == 0
    assert ours["duplicate_uuids"] == 0
    assert ours["objects_by_name"]["network-connection"] == full["network-traffic"]
    assert ours["objects_by_name"]["email"] == full["email-message"]
    assert ours["to_ids"] == stix["indicator"]


def test_each_indicator_becomes_one_attribute_with_its_uuid_and_sightings(sample_run: Path) -> None:
    bundle = load_aggregate(sample_run, observations=False)
    objects = bundle["objects"]
    sightings: dict[str, int] = {}
    for o in objects:
        if o["type"] == "sighting":
            ref = o["sighting_of_ref"].split("--", 1)[1]
            sightings[ref] = sightings.get(ref, 0) + 1
    values = {
        o["id"].split("--", 1)[1]: o["pattern"].split("'")[1] for o in objects if o["type"] == "indicator"
    }
    events, _warnings = misp_stix_events(bundle)
    attributes = {a.uuid: a for a in events[0].attributes}
    assert set(attributes) == set(values)
    for uid, attribute in attributes.items():
        assert attribute.value == values[uid]
        assert attribute.to_ids
        assert len(attribute.sightings) == sightings[uid]


def test_observations_bundle_converts_with_its_marking(sample_run: Path) -> None:
    # imported on its own, the observations bundle is marked as a whole by its report
    observations = orjson.loads((sample_run / "cti" / "observations.json").read_bytes())
    events, _warnings = misp_stix_events(observations)
    assert len(events) == 1
    assert "tlp:amber" in {t.name for t in events[0].tags}
    assert {o.name for o in events[0].objects} >= {"network-traffic", "email"}
