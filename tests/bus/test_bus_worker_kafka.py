"""Consumer-group workers against the real broker: splitting partitions, rejects, crash and restart."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from ppcti.bus import BusSettings, Envelope, Output, Publisher, Worker, WorkerOptions

pytestmark = pytest.mark.kafka

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("bus_worker_proc", HERE / "bus_worker_proc.py")
proc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(proc)

#: Keys that librdkafka's default partitioner spreads four and four over two partitions.
KEYS = [(f"holder-{i}", f"run-{i}") for i in range(8)]


def _settings(base: BusSettings, prefix: str) -> BusSettings:
    return BusSettings(
        base.bootstrap, topic_prefix=prefix, connect_timeout_s=5.0, delivery_timeout_s=20.0, linger_ms=5
    )


def _publish_batches(settings: BusSettings, batches: int, per_batch: int) -> None:
    with Publisher(settings) as publisher:
        for b in range(batches):
            holder, run_id = KEYS[b % len(KEYS)]
            events = [{"holder": holder, "n": b * per_batch + i} for i in range(per_batch)]
            publisher.publish(
                "event-batch", {"events": events, "count": per_batch}, run_id=run_id, holder=holder, seq=b
            )


def _expected_bundles(batches: int, per_batch: int) -> set[str]:
    return {f"bundle--{n:08d}" for n in range(batches * per_batch) if n % 7}


def _outputs(messages) -> dict[str, bytes]:
    """One value per envelope id; asserts that every duplicate is an exact replay."""
    by_id: dict[str, bytes] = {}
    for message in messages:
        envelope = Envelope.decode(message.value())
        if envelope.id in by_id:
            assert by_id[envelope.id] == message.value(), "a duplicate differs from the original"
        by_id[envelope.id] = message.value()
    return by_id


def _run_in_thread(worker: Worker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


def test_two_workers_in_one_group_split_the_partitions(bus_settings, make_topics, read_topics) -> None:
    source = _settings(bus_settings, bus_settings.topic_prefix + "in.")
    make_topics([source.topic("events")], partitions=2)
    _publish_batches(source, batches=60, per_batch=3)
    # one input that is not an envelope: it must go to the rejects topic, and the workers carry on
    with Publisher(source) as publisher:
        publisher.send_raw(source.topic("events"), b"acme:r1", b"garbage that is not json")

    out = _settings(bus_settings, bus_settings.topic_prefix + "out.")
    options = WorkerOptions(
        group=f"g-{uuid.uuid4().hex}", input_topic=source.topic("events"), batch=4, idle_timeout_s=6.0
    )
    # slow enough (6 s of work) that the second member's join completes while the first is still busy
    workers = [Worker(proc.slow_step(0.1, announce=False), out, options) for _ in range(2)]
    threads = [_run_in_thread(w) for w in workers]
    for thread in threads:
        thread.join(timeout=90)
        assert not thread.is_alive()

    assert all(w.stats.consumed > 0 for w in workers), [w.stats for w in workers]
    assert sum(w.stats.consumed for w in workers) >= 61
    inputs = read_topics([source.topic("events")], 61)
    assert {m.partition() for m in inputs} == {0, 1}  # the precondition: both partitions have work
    assert sum(w.stats.rejected for w in workers) == 1
    expected = _expected_bundles(60, 3)
    produced = _outputs(read_topics([out.topic("cti")], len(expected), timeout=30))
    assert {Envelope.decode(v).payload["id"] for v in produced.values()} == expected
    [rejected] = read_topics([out.topic("rejects")], 1)
    reason = Envelope.decode(rejected.value()).payload
    assert reason["reason"].endswith("not a ppcti envelope")
    assert reason["topic"] == source.topic("events")
    assert dict(rejected.headers())["original"] == b"garbage that is not json"


def _spawn(settings: BusSettings, topic: str, group: str, idle: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(HERE / "bus_worker_proc.py"),
            settings.bootstrap,
            settings.topic_prefix,
            topic,
            group,
            str(idle),
            "0.08",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.slow
def test_killed_worker_loses_nothing_and_replays_exactly(bus_settings, make_topics, read_topics) -> None:
    batches, per_batch = 90, 4
    source = _settings(bus_settings, bus_settings.topic_prefix + "in.")
    topic = source.topic("events")
    make_topics([topic], partitions=2)
    _publish_batches(source, batches, per_batch)
    expected = _expected_bundles(batches, per_batch)

    # reference: one in-process worker consumes everything
    single = _settings(bus_settings, bus_settings.topic_prefix + "single.")
    worker = Worker(
        proc.slow_step(0.0, announce=False),
        single,
        WorkerOptions(group=f"single-{uuid.uuid4().hex}", input_topic=topic, idle_timeout_s=3.0),
    )
    worker.run()
    reference = _outputs(read_topics([single.topic("cti")], len(expected)))
    assert {Envelope.decode(v).payload["id"] for v in reference.values()} == expected

    # two worker processes in one group; one is killed mid-stream and restarted
    crash = _settings(bus_settings, bus_settings.topic_prefix + "crash.")
    group = f"crash-{uuid.uuid4().hex}"
    victim = _spawn(crash, topic, group, idle=12.0)
    survivor = None
    processed = 0
    deadline = time.monotonic() + 60
    while processed < 12 and time.monotonic() < deadline:
        line = victim.stdout.readline()
        assert line, f"worker ended early: {victim.stderr.read()}"
        processed += line.startswith("processed")
        if survivor is None:  # the victim is consuming: the second member joins and takes a partition
            survivor = _spawn(crash, topic, group, idle=12.0)
    assert processed == 12
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    victim.stdout.close()
    victim.stderr.close()
    restarted = _spawn(crash, topic, group, idle=12.0)
    for process in (survivor, restarted):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert "done consumed=" in out

    messages = read_topics([crash.topic("cti")], len(expected), timeout=30)
    result = _outputs(messages)  # also asserts that duplicates are byte-identical replays
    assert result == reference


def test_a_step_that_fails_on_one_input_rejects_it_and_carries_on(bus_settings, read_topics) -> None:
    source = _settings(bus_settings, bus_settings.topic_prefix + "in.")
    _publish_batches(source, batches=3, per_batch=2)

    def step(envelope):
        if envelope.seq == 1:
            raise ValueError("secret-input-value")
        return [Output("insights", {"seq": envelope.seq})]

    out = _settings(bus_settings, bus_settings.topic_prefix + "out.")
    options = WorkerOptions(group=f"g-{uuid.uuid4().hex}", input_topic=source.topic("events"), max_messages=3)
    stats = Worker(step, out, options).run()
    assert (stats.consumed, stats.produced, stats.rejected) == (3, 2, 1)
    produced = read_topics([out.topic("insights")], 2)
    assert sorted(Envelope.decode(m.value()).payload["seq"] for m in produced) == [0, 2]
    [rejected] = read_topics([out.topic("rejects")], 1)
    record = Envelope.decode(rejected.value()).payload
    assert (record["reason"], record["error"]) == ("processing failed", "ValueError")
    assert b"secret-input-value" not in rejected.value()
