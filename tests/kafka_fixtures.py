"""Broker fixtures for the tests that need Kafka (tests/bus, tests/fhe), imported by their conftest.

Tests marked ``kafka`` use the real broker at ``PPCTI_KAFKA_BOOTSTRAP`` (default 127.0.0.1:9092, started
by ``scripts/kafka start``). When it does not answer they fail with a clear message under CI
(``CI=true``) or ``PPCTI_REQUIRE_KAFKA=1``, and are skipped otherwise. Every test gets its own topic
prefix, so tests never see each other's messages.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable

import pytest

from ppcti.bus import BusSettings

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


def _required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("PPCTI_REQUIRE_KAFKA") == "1"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The address of a broker that answers, or skip/fail (see the module docstring)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    bootstrap = os.environ.get("PPCTI_KAFKA_BOOTSTRAP", DEFAULT_BOOTSTRAP)
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.connection.setup.timeout.ms": 3000})
    try:
        metadata = admin.list_topics(timeout=5)
        ok = bool(metadata.brokers)
    except KafkaException:
        ok = False
    if not ok:
        message = f"no Kafka broker answers at {bootstrap}: run `scripts/kafka start` first"
        if _required():
            pytest.fail(message)
        pytest.skip(message)
    return bootstrap


@pytest.fixture
def bus_settings(kafka_bootstrap: str) -> BusSettings:
    """Settings with a topic prefix of this test's own."""
    return BusSettings(
        kafka_bootstrap,
        topic_prefix=f"test-{uuid.uuid4().hex[:12]}.",
        connect_timeout_s=5.0,
        delivery_timeout_s=20.0,
        linger_ms=5,
    )


def create_topics(bootstrap: str, topics: Iterable[str], partitions: int) -> None:
    """Create topics with a given partition count and wait until the broker serves them."""
    from confluent_kafka.admin import AdminClient, NewTopic

    names = list(topics)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
    )
    for future in futures.values():
        future.result(timeout=20)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        md = admin.list_topics(timeout=5)
        if all(n in md.topics and len(md.topics[n].partitions) == partitions for n in names):
            return
        time.sleep(0.2)
    raise AssertionError("topics did not appear")


def consume(bootstrap: str, topics: list[str], expected: int, timeout: float = 30.0) -> list:
    """Read ``expected`` messages from the start of ``topics`` (fewer if the timeout passes).

    Partitions are assigned directly rather than through a consumer group: no rebalance to wait for, and
    the reader never disturbs the groups under test.
    """
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    out: list = []
    deadline = time.monotonic() + timeout
    assignment: list = []
    while time.monotonic() < deadline:
        metadata = consumer.list_topics(timeout=5)
        known = [metadata.topics.get(t) for t in topics]
        if all(t is not None and t.error is None and t.partitions for t in known):
            assignment = [TopicPartition(t.topic, p, OFFSET_BEGINNING) for t in known for p in t.partitions]
            break
        time.sleep(0.2)
    consumer.assign(assignment)
    try:
        while len(out) < expected and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=500, timeout=0.5):
                if message.error() is None:
                    out.append(message)
    finally:
        consumer.close()
    return out


@pytest.fixture
def make_topics(kafka_bootstrap: str):
    """``make_topics(names, partitions)``: create topics on the test broker."""

    def make(topics: Iterable[str], partitions: int) -> None:
        create_topics(kafka_bootstrap, topics, partitions)

    return make


@pytest.fixture
def read_topics(kafka_bootstrap: str):
    """``read_topics(topics, expected, timeout=30)``: the messages of ``topics`` from the beginning."""

    def read(topics: list[str], expected: int, timeout: float = 30.0) -> list:
        return consume(kafka_bootstrap, topics, expected, timeout)

    return read
