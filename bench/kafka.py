"""Kafka bus throughput: publish the CTI of N events (default 1,000,000) and consume it back.

Compared, in the same run and against the same local broker, with the broker's raw producer rate for the
same bytes: Kafka's own ``ProducerPerformance`` tool (``kafka-producer-perf-test``) fed a sample of the
very envelopes ppcti sends, and a bare confluent-kafka loop producing pre-built envelopes with the same
producer settings. The ratio ppcti / raw is the figure of merit (target >= 0.5).

    scripts/kafka start
    .venv/bin/python bench/kafka.py [--events 1000000] [--bootstrap 127.0.0.1:9092] [--reference]

``--reference`` also publishes with ``PPCTI_NATIVE=0`` (the pure-Python batch path) to a topic of its
own, in the same run. The load average is printed before and after: the machine may be shared.

The CTI is made by ``ppcti.stix.bundle_json`` from synthetic firewall events (timed apart: that is the
STIX stage's cost, not the bus's). Topics are created with one partition, because one run and holder is
one key and so one partition by design; they are deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import uuid
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "kafka"


def synthetic_events(n: int):
    for i in range(n):
        yield {
            "holder": "acme",
            "format": "firewall-text",
            "source_file": "fw.log",
            "line": i + 1,
            "timestamp": f"2023-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i // 60) % 60:02d}Z",
            "src_ip": f"198.51.{(i >> 8) % 256}.{i % 256}",
            "src_port": 1024 + i % 60000,
            "dst_ip": f"10.0.{(i >> 4) % 256}.{i % 16 + 1}",
            "dst_port": (22, 80, 443, 3389, 445)[i % 5],
            "protocol": ("TCP", "UDP")[i % 2],
        }


def build_cti(run_dir: Path, n: int) -> tuple[float, int]:
    """Write ``cti/bundles.jsonl`` for ``n`` events; returns (seconds, bundles)."""
    from ppcti.stix import bundle_json

    (run_dir / "cti").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    count = 0
    with (run_dir / "cti" / "bundles.jsonl").open("wb") as fh:
        for event in synthetic_events(n):
            data = bundle_json(event)
            if data is not None:
                fh.write(data + b"\n")
                count += 1
    return time.perf_counter() - started, count


def make_topics(bootstrap: str, names: list[str]) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    for future in admin.create_topics(
        [NewTopic(t, num_partitions=1, replication_factor=1) for t in names]
    ).values():
        future.result(timeout=30)


def drop_topics(bootstrap: str, names: list[str]) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    for future in admin.delete_topics(names).values():
        try:
            future.result(timeout=30)
        except Exception as exc:  # cleanup only
            print(f"could not delete a topic: {exc}", file=sys.stderr)


def consume_back(bootstrap: str, topic: str, expected: int) -> tuple[float, int, int]:
    """Read the topic from the start and decode every envelope; returns (seconds, messages, bytes)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from ppcti.bus import Envelope

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "fetch.max.bytes": 52428800,
        }
    )
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    count = size = 0
    started = time.perf_counter()
    deadline = time.monotonic() + 600
    while count < expected and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=10000, timeout=1.0):
            if message.error() is None:
                value = message.value()
                Envelope.decode(value)
                count += 1
                size += len(value)
    seconds = time.perf_counter() - started
    consumer.close()
    return seconds, count, size


def sample_envelopes(run_dir: Path, settings, limit: int) -> list[bytes]:
    from ppcti.bus.envelope import encode
    from ppcti.bus.run import run_outputs

    return [
        encode(out, run_id="bench", holder="acme", seq=i)[1]
        for i, out in enumerate(islice(run_outputs(run_dir, settings), limit))
    ]


def raw_python(settings, topic: str, values: list[bytes], n: int) -> tuple[float, int]:
    """A bare confluent-kafka loop: same producer settings, pre-built bytes, no callbacks per message."""
    from confluent_kafka import Producer

    producer = Producer(settings.producer_config())
    key = b"acme:bench"
    size = 0
    started = time.perf_counter()
    for value in islice(cycle(values), n):
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.01)
        size += len(value)
    left = producer.flush(120)
    seconds = time.perf_counter() - started
    if left:
        raise SystemExit(f"raw producer left {left} messages undelivered")
    return seconds, size


def raw_java(bootstrap: str, topic: str, values: list[bytes], n: int, settings) -> dict[str, float]:
    """Kafka's ProducerPerformance fed the same envelopes (its --payload-file), same producer settings."""
    payloads = OUT / "payloads.txt"
    payloads.write_bytes(b"\n".join(values) + b"\n")
    libs = os.environ.get("PPCTI_KAFKA_HOME", str(ROOT / ".kafka")) + "/libs/*"
    cmd = [
        "java",
        "-Xmx512m",
        "-cp",
        libs,
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(n),
        "--throughput",
        "-1",
        "--payload-file",
        str(payloads),
        "--producer-props",
        f"bootstrap.servers={bootstrap}",
        "acks=all",
        "enable.idempotence=true",
        f"linger.ms={settings.linger_ms}",
        f"compression.type={settings.compression}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1800)
    summary = [line for line in result.stdout.splitlines() if "records sent" in line]
    if result.returncode or not summary:
        raise SystemExit(f"ProducerPerformance failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    match = re.search(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\)", summary[-1])
    return {
        "messages": int(match.group(1)),
        "msg_per_s": float(match.group(2)),
        "mb_per_s": float(match.group(3)),
    }


def main() -> None:
    from ppcti.bus import BusSettings, publish_run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--bootstrap", default=os.environ.get("PPCTI_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    parser.add_argument("--keep", action="store_true", help="Keep the topics and bench/out/kafka.")
    parser.add_argument("--reference", action="store_true", help="Also time the pure-Python path.")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="Then time ppcti and the bare loop alternately this many more times (the median ratio "
        "of adjacent pairs is less at the mercy of other work on a shared machine).",
    )
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    settings = BusSettings(args.bootstrap, topic_prefix=prefix, delivery_timeout_s=120.0)
    run_dir = OUT / "run"
    cti_s, bundles = build_cti(run_dir, args.events)
    print(f"CTI stage: {bundles:,} bundles from {args.events:,} events in {cti_s:.1f}s (not timed as bus)")

    from ppcti.native import native_module

    print(
        f"load average at start: {os.getloadavg()[0]:.2f}; compiled batch step: {native_module() is not None}"
    )
    ours, java_topic, py_topic = settings.topic("cti"), prefix + "raw-java", prefix + "raw-python"
    ref_settings = BusSettings(args.bootstrap, topic_prefix=prefix + "ref.", delivery_timeout_s=120.0)
    topics = [ours, java_topic, py_topic] + ([ref_settings.topic("cti")] if args.reference else [])
    make_topics(args.bootstrap, topics)
    ref_rate = None
    try:
        started = time.perf_counter()
        report = publish_run(run_dir, settings, run_id="bench", holder="acme")
        pub_s = time.perf_counter() - started
        assert report.delivered == bundles, report.to_dict()
        if args.reference:
            os.environ["PPCTI_NATIVE"] = "0"  # this script is an edge: the switch is read here
            try:
                started = time.perf_counter()
                ref = publish_run(run_dir, ref_settings, run_id="bench", holder="acme")
                ref_rate = (bundles / (time.perf_counter() - started), ref.bytes)
            finally:
                del os.environ["PPCTI_NATIVE"]
        con_s, con_n, con_bytes = consume_back(args.bootstrap, ours, bundles)
        assert con_n == bundles, (con_n, bundles)

        values = sample_envelopes(run_dir, settings, 10_000)
        java = raw_java(args.bootstrap, java_topic, values, bundles, settings)
        py_s, py_bytes = raw_python(settings, py_topic, values, bundles)
        pairs = []
        for _ in range(args.rounds - 1):
            started = time.perf_counter()
            again = publish_run(run_dir, settings, run_id="bench", holder="acme")
            ours_s = time.perf_counter() - started
            assert again.delivered == bundles, again.to_dict()
            loop_s, _ = raw_python(settings, py_topic, values, bundles)
            pairs.append((bundles / ours_s, bundles / loop_s))
    finally:
        if not args.keep:
            drop_topics(args.bootstrap, topics)

    mb = 1024 * 1024
    rows = {
        "ppcti publish_run": (bundles / pub_s, report.bytes / mb / pub_s),
        **(
            {"ppcti publish_run, PPCTI_NATIVE=0": (ref_rate[0], ref_rate[1] / mb / bundles * ref_rate[0])}
            if ref_rate
            else {}
        ),
        "ppcti consume + decode": (con_n / con_s, con_bytes / mb / con_s),
        "raw ProducerPerformance (java)": (java["msg_per_s"], java["mb_per_s"]),
        "raw confluent-kafka loop": (bundles / py_s, py_bytes / mb / py_s),
    }
    avg = report.bytes / bundles
    print(
        f"\n{bundles:,} messages, {avg:,.0f} bytes on average (envelope), one partition, "
        f"acks=all, idempotent, {settings.compression}, linger {settings.linger_ms} ms\n"
    )
    print(f"{'':34} {'msg/s':>10} {'MB/s':>8}")
    for name, (rate, mbs) in rows.items():
        print(f"{name:34} {rate:10,.0f} {mbs:8.1f}")
    best_raw = max(rows["raw ProducerPerformance (java)"][0], rows["raw confluent-kafka loop"][0])
    ratio = rows["ppcti publish_run"][0] / best_raw
    print(f"\nppcti publish / best raw producer: {ratio:.2f} (target >= 0.50)")
    loop_ratio = rows["ppcti publish_run"][0] / rows["raw confluent-kafka loop"][0]
    print(f"ppcti publish / bare confluent-kafka loop: {loop_ratio:.2f} (issue #17 target >= 0.50)")
    if pairs:
        ratios = sorted(ours / loop for ours, loop in pairs)
        listed = ", ".join(f"{ours:,.0f}/{loop:,.0f}" for ours, loop in pairs)
        print(f"more rounds, ppcti/bare loop msg/s: {listed}")
        print(
            f"median ratio of those rounds: {ratios[len(ratios) // 2]:.2f} "
            f"(range {ratios[0]:.2f}-{ratios[-1]:.2f})"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    (OUT / "result.json").write_text(
        json.dumps(
            {
                "events": args.events,
                "bundles": bundles,
                "avg_bytes": avg,
                "cti_stage_s": cti_s,
                "rows": rows,
                "ratio": ratio,
                "ratio_to_bare_loop": loop_ratio,
                "rounds": pairs,
            },
            indent=2,
        )
    )
    if not args.keep:
        (run_dir / "cti" / "bundles.jsonl").unlink()


if __name__ == "__main__":
    main()
