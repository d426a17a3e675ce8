"""Publishing against the real broker: what a run puts on each topic, order per key, broker down."""

from __future__ import annotations

import socket
import time
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

import ppcti.bus.batches as batches_module
from ppcti.bus import BusSettings, Envelope, Publisher, publish_run
from ppcti.bus.envelope import STIX_JSON, TURTLE
from ppcti.errors import BusError
from ppcti.native import native_module

pytestmark = pytest.mark.kafka

SUMMARY = {"events": 3, "rejects": 1, "formats": {"firewall-text": 3}}
FINDINGS = [
    {
        "file": "fw.log",
        "type": "IPV4",
        "confidence": 0.99,
        "detector": "regex",
        "column": "src",
        "matched": 3,
        "sampled": 3,
        "match_rate": 1.0,
        "examples": ["10.0.x.x"],
    },
    {
        "file": "mail.csv",
        "type": "EMAIL_ADDRESS",
        "confidence": 0.9,
        "detector": "presidio",
        "start": 10,
        "end": 27,
        "examples": ["j***@example.org"],
    },
]
PII = {
    "upload": "up-1",
    "holder": "acme",
    "generated_at": "2026-11-29T00:00:00Z",
    "use_case": "cti-logs",
    "files": [{"file": "fw.log", "rows": 3}],
    "findings": FINDINGS,
    "flags": [{"flag": "quasi-identifier"}],
}
KG = b"@prefix ex: <http://example.org/> .\nex:fw.log ex:contains ex:IPV4 .\n"
BUNDLES = [
    {"type": "bundle", "id": f"bundle--0000000{i}-0000-4000-8000-000000000000", "objects": []}
    for i in range(3)
]
INSIGHTS = {"top_sources": [{"ip": "203.0.113.9", "count": 2}]}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "summary.json").write_bytes(orjson.dumps(SUMMARY))
    (tmp_path / "pii.json").write_bytes(orjson.dumps(PII))
    (tmp_path / "kg.ttl").write_bytes(KG)
    (tmp_path / "cti").mkdir()
    (tmp_path / "cti" / "bundles.jsonl").write_bytes(b"\n".join(orjson.dumps(b) for b in BUNDLES) + b"\n")
    (tmp_path / "insights.json").write_bytes(orjson.dumps(INSIGHTS))
    return tmp_path


def test_a_run_publishes_every_result_field_by_field(run_dir: Path, bus_settings: BusSettings, read_topics):
    report = publish_run(run_dir, bus_settings, run_id="run-1", holder="acme")
    assert report.delivered == report.sent == 1 + 3 + 1 + 3 + 1
    assert report.failed == 0

    pii = [Envelope.decode(m.value()) for m in read_topics([bus_settings.topic("pii")], 4)]
    assert [e.kind for e in pii] == ["pii-report", "pii-finding", "pii-finding", "kg-additions"]
    for envelope in pii:
        assert (envelope.run_id, envelope.holder) == ("run-1", "acme")
    header = pii[0].payload
    assert header == {k: v for k, v in PII.items() if k != "findings"} | {"finding_count": 2}
    assert pii[0].content_type == "application/json"
    assert [e.payload for e in pii[1:3]] == FINDINGS
    assert (pii[3].content_type, pii[3].payload) == (TURTLE, KG.decode())
    assert [e.seq for e in pii] == [1, 2, 3, 4]

    [runs] = read_topics([bus_settings.topic("runs")], 1)
    summary = Envelope.decode(runs.value())
    assert (summary.kind, summary.payload, summary.seq) == ("run-summary", SUMMARY, 0)
    headers = dict(runs.headers())
    assert headers["ppcti-kind"] == b"run-summary"
    assert headers["ppcti-id"] == summary.id.encode()
    assert runs.key() == b"acme:run-1"

    cti = [Envelope.decode(m.value()) for m in read_topics([bus_settings.topic("cti")], 3)]
    assert [e.payload for e in cti] == BUNDLES
    assert {e.content_type for e in cti} == {STIX_JSON}
    [insights] = read_topics([bus_settings.topic("insights")], 1)
    assert Envelope.decode(insights.value()).payload == INSIGHTS


def test_publishing_twice_gives_identical_envelopes(run_dir: Path, bus_settings: BusSettings, read_topics):
    publish_run(run_dir, bus_settings, run_id="r", holder="h")
    publish_run(run_dir, bus_settings, run_id="r", holder="h")
    values = [m.value() for m in read_topics([bus_settings.topic("cti")], 6)]
    assert len(values) == 6
    assert values[:3] == values[3:]


def test_compiled_and_python_paths_publish_the_same_messages(
    run_dir: Path, bus_settings: BusSettings, read_topics, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundles' envelopes, keys and headers (but the send time) are the same on both batch paths."""
    monkeypatch.setenv("PPCTI_NATIVE", "0")
    publish_run(run_dir, bus_settings, run_id="r", holder="h")
    monkeypatch.setenv("PPCTI_NATIVE", "1")
    if native_module() is None:
        pytest.skip("ppcti-native is not built")
    made = []
    real = batches_module._native_batches
    monkeypatch.setattr(batches_module, "_native_batches", lambda *args: made.append(1) or real(*args))
    publish_run(run_dir, bus_settings, run_id="r", holder="h")
    assert made == [1]

    def seen(message) -> tuple:
        headers = message.headers()
        assert [k for k, _ in headers].count("ppcti-produced-at") == 1
        return message.key(), message.value(), [(k, v) for k, v in headers if k != "ppcti-produced-at"]

    messages = [seen(m) for m in read_topics([bus_settings.topic("cti")], 6)]
    assert messages[:3] == messages[3:]
    assert [Envelope.decode(value).seq for _key, value, _headers in messages[:3]] == [5, 6, 7]


def test_events_are_published_in_batches_when_asked(tmp_path: Path, bus_settings, read_topics) -> None:
    events = [
        {"holder": "h", "format": "firewall-text", "source_file": "fw.log", "line": i} for i in range(1, 8)
    ]
    (tmp_path / "events.jsonl").write_bytes(b"\n".join(orjson.dumps(e) for e in events))
    settings = BusSettings(bus_settings.bootstrap, topic_prefix=bus_settings.topic_prefix, events_per_batch=3)
    publish_run(tmp_path, settings, run_id="r", holder="h", include_events=True)
    batches = [Envelope.decode(m.value()).payload for m in read_topics([settings.topic("events")], 3)]
    assert [e for b in batches for e in b["events"]] == events


def test_messages_of_one_key_stay_in_order_on_one_partition(bus_settings, make_topics, read_topics) -> None:
    topic = bus_settings.topic("insights")
    make_topics([topic], partitions=3)
    keys = [("h1", "r1"), ("h2", "r1"), ("h1", "r2"), ("h3", "r9"), ("h4", "r4"), ("h5", "r5")]
    with Publisher(bus_settings) as publisher:
        for seq in range(300):
            holder, run_id = keys[seq % len(keys)]
            publisher.publish("insights", {"n": seq}, run_id=run_id, holder=holder, seq=seq)
    messages = read_topics([topic], 300)
    assert len(messages) == 300
    partitions: dict[bytes, set[int]] = defaultdict(set)
    order: dict[bytes, list[int]] = defaultdict(list)
    for message in sorted(messages, key=lambda m: (m.partition(), m.offset())):
        partitions[message.key()].add(message.partition())
        order[message.key()].append(Envelope.decode(message.value()).seq)
    assert all(len(p) == 1 for p in partitions.values())
    assert len({p for ps in partitions.values() for p in ps}) > 1  # the keys do spread over partitions
    for key, seqs in order.items():
        assert seqs == sorted(seqs), key
        assert len(seqs) == 50


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_broker_down_is_a_clear_error_within_the_bound(run_dir: Path) -> None:
    settings = BusSettings(f"127.0.0.1:{_closed_port()}", connect_timeout_s=2.0, delivery_timeout_s=3.0)
    started = time.monotonic()
    with pytest.raises(BusError, match=r"did not answer within 2s") as info:
        publish_run(run_dir, settings, run_id="r", holder="h")
    assert time.monotonic() - started < 10
    assert "acme" not in str(info.value)


def test_undelivered_messages_are_counted_not_lost_silently() -> None:
    settings = BusSettings(f"127.0.0.1:{_closed_port()}", connect_timeout_s=1.0, delivery_timeout_s=2.0)
    publisher = Publisher(settings, check=False)
    for i in range(5):
        publisher.publish("insights", {"secret": f"value-{i}"}, run_id="r", holder="h")
    started = time.monotonic()
    with pytest.raises(
        BusError, match=r"5 of 5 Kafka messages not delivered; reasons: _MSG_TIMED_OUT x5"
    ) as info:
        publisher.flush_or_raise()
    assert time.monotonic() - started < 10
    assert "value-" not in str(info.value)
