"""The commands end to end against the real broker, with the real STIX and PII stages."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest

from ppcti.bus import BusSettings, Envelope

pytestmark = pytest.mark.kafka

PPCTI = [sys.executable, "-m", "ppcti.cli"]


def _ppcti(args: list[str], settings: BusSettings, timeout: float = 90) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PPCTI_KAFKA_BOOTSTRAP": settings.bootstrap,
        "PPCTI_KAFKA_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [*PPCTI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _events(n: int) -> list[dict]:
    return [
        {
            "holder": "acme",
            "format": "firewall-text",
            "source_file": "fw.log",
            "line": i,
            "timestamp": f"2023-03-07T10:38:{i % 60:02d}Z",
            "src_ip": f"203.0.113.{i % 250 + 1}",
            "src_port": 40000 + i,
            "dst_ip": "10.0.0.5",
            "dst_port": 22,
            "protocol": "TCP",
        }
        for i in range(1, n + 1)
    ]


def test_publish_then_cti_worker_gives_the_stix_stage_bundles(
    tmp_path: Path, bus_settings, read_topics
) -> None:
    from ppcti.stix import bundle_json

    events = _events(25)
    (tmp_path / "events.jsonl").write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    (tmp_path / "summary.json").write_bytes(b'{"events": 25}')
    published = _ppcti(
        ["bus", "publish", str(tmp_path), "--run-id", "r1", "--holder", "acme", "--events"], bus_settings
    )
    assert published.returncode == 0, published.stderr
    assert "delivered 2 messages" in published.stdout

    worker = _ppcti(
        ["worker", "cti", "--group", f"g-{uuid.uuid4().hex}", "--max-messages", "1"], bus_settings
    )
    assert worker.returncode == 0, worker.stderr
    assert "consumed 1, produced 25" in worker.stderr

    messages = read_topics([bus_settings.topic("cti")], 25)
    envelopes = [Envelope.decode(m.value()) for m in messages]
    assert [orjson.dumps(e.payload) for e in envelopes] == [bundle_json(e) for e in events]
    assert {(e.run_id, e.holder, e.kind) for e in envelopes} == {("r1", "acme", "cti-bundle")}
    assert {m.key() for m in messages} == {b"acme:r1"}


def test_announce_then_pii_worker_publishes_the_report(tmp_path: Path, bus_settings, read_topics) -> None:
    shared = tmp_path / "shared"
    (shared / "up-1").mkdir(parents=True)
    (shared / "up-1" / "users.csv").write_text(
        "name,email,ip\nJohn Smith,john@example.org,10.0.0.1\nMary Major,mary@example.com,10.0.0.2\n"
    )
    for path in ("up-1", "../escape"):
        announced = _ppcti(["bus", "announce", path, "--holder", "acme", "--upload-id", "u-1"], bus_settings)
        assert announced.returncode == 0, announced.stderr

    worker = _ppcti(
        [
            "worker",
            "pii",
            "--shared-dir",
            str(shared),
            "--group",
            f"g-{uuid.uuid4().hex}",
            "--max-messages",
            "2",
        ],
        bus_settings,
    )
    assert worker.returncode == 0, worker.stderr
    assert "rejected 1" in worker.stderr

    pii = [Envelope.decode(m.value()) for m in read_topics([bus_settings.topic("pii")], 4)]
    header, findings = pii[0], pii[1:]
    assert header.kind == "pii-report"
    assert (header.run_id, header.holder) == ("u-1", "acme")
    assert header.payload["upload_id"] == "u-1"
    assert header.payload["finding_count"] == len(findings) >= 2
    types = {f.payload["type"] for f in findings}
    assert {"EMAIL_ADDRESS", "IP_ADDRESS"} <= types
    for finding in findings:
        assert finding.kind == "pii-finding"
        assert "john@example.org" not in orjson.dumps(finding.payload).decode()
    [rejected] = read_topics([bus_settings.topic("rejects")], 1)
    assert "outside the shared folder" in Envelope.decode(rejected.value()).payload["reason"]


def test_worker_without_a_broker_setting_is_a_clear_error() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PPCTI_KAFKA")}
    result = subprocess.run(
        [*PPCTI, "worker", "cti"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "no Kafka broker given" in result.stderr
