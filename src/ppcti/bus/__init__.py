"""ppcti.bus: the Kafka event bus.

Publishing a run (:func:`publish_run`), a publisher for single messages (:class:`Publisher`), the
versioned envelope (:mod:`ppcti.bus.envelope`) and consumer-group workers (:class:`Worker`). The
``confluent-kafka`` client is the optional ``[kafka]`` extra: it is imported when a publisher or worker
is created, so importing this package never needs it.
"""

from __future__ import annotations

from ppcti.bus.envelope import SCHEMA, Envelope, Output, message_key
from ppcti.bus.publisher import DeliveryReport, Publisher, check_broker
from ppcti.bus.run import publish_run, run_outputs
from ppcti.bus.settings import KIND_TOPICS, TOPICS, BusSettings
from ppcti.bus.worker import Worker, WorkerOptions, WorkerStats

__all__ = [
    "KIND_TOPICS",
    "SCHEMA",
    "TOPICS",
    "BusSettings",
    "DeliveryReport",
    "Envelope",
    "Output",
    "Publisher",
    "Worker",
    "WorkerOptions",
    "WorkerStats",
    "check_broker",
    "message_key",
    "publish_run",
    "run_outputs",
]
