"""The stock processing steps without a broker: event batches to bundles, announcements to PII."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ppcti.bus.envelope import STIX_JSON, Envelope
from ppcti.bus.processors import cti_step, pii_step, resolve_shared, stix_bundle_fn
from ppcti.errors import FormatError

EVENT = {
    "holder": "acme",
    "format": "firewall-text",
    "source_file": "fw.log",
    "line": 3,
    "timestamp": "2023-03-07T10:38:03Z",
    "src_ip": "203.0.113.9",
    "src_port": 4444,
    "dst_ip": "10.0.0.5",
    "dst_port": 22,
    "protocol": "TCP",
}


def _env(kind: str, payload) -> Envelope:
    return Envelope("id-1", kind, "run-1", "acme", "application/json", payload)


def test_cti_step_makes_one_bundle_per_event_that_has_cti() -> None:
    step = cti_step(lambda e: None if e["n"] == 2 else orjson.dumps({"n": e["n"]}))
    outputs = step(_env("event-batch", {"events": [{"n": 1}, {"n": 2}, {"n": 3}]}))
    assert [orjson.loads(o.payload) for o in outputs] == [{"n": 1}, {"n": 3}]
    assert {(o.kind, o.content_type) for o in outputs} == {("cti-bundle", STIX_JSON)}


def test_cti_step_with_the_real_stix_stage_matches_bundle_json() -> None:
    from ppcti.stix import bundle_json

    events = [EVENT, {**EVENT, "line": 4, "src_port": 5555}]
    outputs = cti_step(stix_bundle_fn())(_env("event-batch", {"events": events}))
    assert [o.payload for o in outputs] == [bundle_json(e) for e in events]


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (_env("upload", {"path": "x"}), "cannot be processed here"),
        (_env("event-batch", {"events": "nope"}), "'events' list"),
        (_env("event-batch", [1, 2]), "'events' list"),
        (_env("event-batch", {"events": [1]}), "not a JSON object"),
    ],
    ids=["wrong-kind", "events-not-list", "payload-not-object", "event-not-object"],
)
def test_cti_step_refuses_malformed_batches(envelope, reason) -> None:
    with pytest.raises(FormatError, match=reason):
        cti_step(lambda e: b"{}")(envelope)


def test_shared_paths_cannot_escape(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "up").mkdir(parents=True)
    (tmp_path / "secret.csv").write_text("x")
    assert resolve_shared(shared, "up") == (shared / "up").resolve()
    with pytest.raises(FormatError, match="outside the shared folder"):
        resolve_shared(shared, "../secret.csv")
    with pytest.raises(FormatError, match="outside the shared folder"):
        resolve_shared(shared, str(tmp_path / "secret.csv"))
    with pytest.raises(FormatError, match="does not exist"):
        resolve_shared(shared, "missing")


def test_pii_step_scans_the_announced_path(tmp_path: Path) -> None:
    (tmp_path / "up").mkdir()
    seen = []

    def scan(path: Path, holder: str | None) -> dict:
        seen.append((path, holder))
        return {"upload": path.name, "holder": holder, "findings": [{"type": "EMAIL_ADDRESS"}]}

    outputs = pii_step(scan, tmp_path)(_env("upload", {"path": "up", "holder": "globex", "upload_id": "u-9"}))
    assert seen == [((tmp_path / "up").resolve(), "globex")]
    assert [o.kind for o in outputs] == ["pii-report", "pii-finding"]
    assert outputs[0].payload["upload_id"] == "u-9"
    assert outputs[0].payload["finding_count"] == 1
