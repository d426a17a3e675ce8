"""ppcti's STIX through the official converter (misp-stix), against ppcti's direct MISP export."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("misp_stix_converter")

from ppcti.misp.convert import compare

pytestmark = pytest.mark.slow


def test_conversion_keeps_tlp_and_shows_what_it_loses(sample_run: Path) -> None:
    report = compare(sample_run)
    stix, ours, theirs = report["stix"], report["ppcti"], report["misp-stix"]
    # the direct export keeps every sighting, the marking and unique uuids
    assert ours["sightings"] == stix["sighting"] > 0
    assert ours["untagged_attributes"] == 0
    assert ours["duplicate_uuids"] == 0
    assert ours["objects_by_name"]["network-connection"] == stix["network-traffic"]
    assert ours["objects_by_name"]["email"] == stix["email-message"]
    # the official conversion: one event, marked TLP as a whole (the aggregate's report carries it)
    assert theirs["events"] == 1
    assert "tlp:amber" in theirs["event_tags"]
    assert theirs["untagged_attributes"] == 0
    assert theirs["objects_by_name"]["network-traffic"] == stix["network-traffic"]
    assert theirs["objects_by_name"]["email"] == stix["email-message"]
    # every indicator value arrives as a to_ids attribute on both sides
    assert theirs["to_ids"] >= stix["indicator"]
    assert ours["to_ids"] == stix["indicator"]
    # known converter limits, documented in docs/misp.md: indicators are merged into the observables
    # that carry the same value, under new uuids, so sightings find no attribute; an address shared by
    # several messages becomes one attribute uuid per message
    assert theirs["sightings"] == 0
    assert theirs["duplicate_uuids"] == theirs["warnings"]
