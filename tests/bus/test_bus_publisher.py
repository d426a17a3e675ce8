"""Publisher accounting that needs no broker: oversized messages, the public face."""

from __future__ import annotations

import socket

import pytest

import ppcti.bus
from ppcti.bus import BusSettings, Publisher
from ppcti.bus.batches import reference_batch
from ppcti.bus.envelope import STIX_JSON
from ppcti.errors import BusError


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_oversized_message_is_reported_not_sent() -> None:
    settings = BusSettings(f"127.0.0.1:{_closed_port()}", max_message_bytes=2000, delivery_timeout_s=2)
    publisher = Publisher(settings, check=False)
    publisher.publish("insights", {"blob": "x" * 5000}, run_id="r", holder="h")
    with pytest.raises(BusError, match=r"1 of 1 Kafka messages not delivered; reasons: MSG_SIZE_TOO_LARGE"):
        publisher.flush_or_raise()
    assert publisher.report.bytes == 0


def test_leaving_the_block_by_an_exception_keeps_that_exception() -> None:
    settings = BusSettings(f"127.0.0.1:{_closed_port()}", delivery_timeout_s=1, connect_timeout_s=1)

    def publish_then_fail() -> None:
        with Publisher(settings, check=False) as publisher:
            publisher.publish("insights", {"a": 1}, run_id="r", holder="h")
            raise KeyError("boom")

    with pytest.raises(KeyError):  # not a BusError about the undelivered message: the cause wins
        publish_then_fail()


def test_public_names_exist() -> None:
    for name in ppcti.bus.__all__:
        assert hasattr(ppcti.bus, name), name


def test_a_batch_is_counted_and_its_oversized_envelopes_reported() -> None:
    settings = BusSettings(f"127.0.0.1:{_closed_port()}", max_message_bytes=2000, delivery_timeout_s=1)
    publisher = Publisher(settings, check=False)
    lines = [b'{"a":1}', b'"' + b"x" * 3000 + b'"', b"[2]"]
    batch = reference_batch(
        lines, kind="cti-bundle", content_type=STIX_JSON, run_id="r", holder="h", first_seq=0
    )
    assert publisher.send_batch("cti-bundle", STIX_JSON, batch, run_id="r", holder="h") == 3
    small = len(batch.values[0]) + len(batch.values[2])
    assert (publisher.report.sent, publisher.report.failed, publisher.report.bytes) == (3, 1, small)
    assert publisher.report.errors == {"MSG_SIZE_TOO_LARGE": 1}
    fitting = reference_batch(
        lines[::2], kind="cti-bundle", content_type=STIX_JSON, run_id="r", holder="h", first_seq=3
    )
    publisher.send_batch("cti-bundle", STIX_JSON, fitting, run_id="r", holder="h")
    assert (publisher.report.sent, publisher.report.bytes) == (5, small + fitting.total)
    assert publisher.report.by_topic[settings.topic_for_kind("cti-bundle")] == 4
    publisher._producer.purge()
