"""Publishing to Kafka with nothing lost silently.

The producer is idempotent (``enable.idempotence``, ``acks=all``) so librdkafka's own retries never
duplicate or reorder a message within a partition. Every message is counted when it is handed over;
librdkafka reports every message it could not deliver (``delivery.report.only.error``: a Python callback
per *successful* message would cost more than building the message). After a flush that leaves nothing
in flight, every message has either been reported failed or been acknowledged by the broker, so
``delivered = sent - failed``. :meth:`Publisher.flush_or_raise` waits (bounded) for that point and raises
:class:`BusError` unless every message was delivered. Error texts carry counts and reason codes only,
never payloads.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from ppcti.bus.batches import EnvelopeBatch
from ppcti.bus.envelope import JSON, SCHEMA, Output, encode, headers, message_key
from ppcti.bus.settings import BusSettings
from ppcti.errors import BusError, MissingExtra

log = logging.getLogger("ppcti.bus")
#: librdkafka's own log lines (connection retries and the like) go here; silent unless the app configures
#: logging, because the errors that matter reach the caller as BusError.
client_log = logging.getLogger("ppcti.bus.librdkafka")
client_log.addHandler(logging.NullHandler())


def load_client() -> Any:
    """The confluent_kafka module, or a clear :class:`MissingExtra`."""
    try:
        import confluent_kafka
    except ImportError:  # pragma: no cover - depends on the install
        raise MissingExtra("kafka", "Publishing to Kafka") from None
    return confluent_kafka


@dataclass(slots=True)
class DeliveryReport:
    """What happened to the messages of one publisher.

    ``delivered`` and ``pending`` are settled by each flush; ``by_topic`` counts the messages queued per
    topic less those reported failed, so after a flush with nothing pending it is delivered per topic.
    """

    sent: int = 0
    failed: int = 0
    pending: int = 0
    bytes: int = 0
    by_topic: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def delivered(self) -> int:
        return self.sent - self.failed - self.pending

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": self.pending,
            "bytes": self.bytes,
            "by_topic": dict(sorted(self.by_topic.items())),
            "errors": dict(sorted(self.errors.items())),
            "seconds": round(self.seconds, 3),
        }


def check_broker(client: Any, settings: BusSettings) -> None:
    """Fail fast with a clear error when the broker does not answer a metadata request in time."""
    kafka = load_client()
    try:
        metadata = client.list_topics(timeout=settings.connect_timeout_s)
    except kafka.KafkaException as exc:
        code = exc.args[0].name() if exc.args and hasattr(exc.args[0], "name") else type(exc).__name__
        wait = f"{settings.connect_timeout_s:g}s"
        raise BusError(
            f"Kafka broker at {settings.bootstrap} did not answer within {wait} ({code})"
        ) from None
    if not metadata.brokers:
        raise BusError(f"Kafka at {settings.bootstrap} answered without any broker")


class Publisher:
    """An idempotent, batching producer for ppcti envelopes; use as a context manager.

    Leaving the ``with`` block normally flushes and raises :class:`BusError` if anything was not
    delivered; leaving it by an exception flushes briefly and lets that exception through.
    """

    def __init__(
        self, settings: BusSettings, *, check: bool = True, extra_config: dict[str, Any] | None = None
    ) -> None:
        kafka = load_client()
        self.settings = settings
        self.report = DeliveryReport()
        self._fatal: str | None = None
        self._started = time.monotonic()
        config: dict[str, Any] = settings.producer_config()
        config["delivery.report.only.error"] = True
        config["error_cb"] = self._on_error
        config["logger"] = client_log
        config.update(extra_config or {})
        self._producer = kafka.Producer(config)
        self._kafka = kafka
        if check:
            check_broker(self._producer, settings)

    # -- callbacks, run inside poll()/flush() on this thread -------------------------------------------
    def _on_error(self, err: Any) -> None:
        if err.fatal():
            self._fatal = err.name()
        log.debug("kafka client error %s", err.name())

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is not None:  # only failures are reported (delivery.report.only.error)
            self.report.failed += 1
            self.report.errors[err.name()] += 1
            self.report.by_topic[msg.topic()] -= 1

    # -- publishing ------------------------------------------------------------------------------------
    def publish(
        self,
        kind: str,
        payload: Any,
        *,
        run_id: str,
        holder: str,
        content_type: str = JSON,
        seq: int | None = None,
    ) -> str:
        """Queue one message; returns its envelope id. Delivery is confirmed by :meth:`flush_or_raise`."""
        return self.send(Output(kind, payload, content_type), run_id=run_id, holder=holder, seq=seq)

    def send(
        self,
        output: Output,
        *,
        run_id: str,
        holder: str,
        seq: int | None = None,
        source: str | None = None,
        id: str | None = None,
        key: bytes | None = None,
        partition: int | None = None,
    ) -> str:
        """Queue one output as an envelope (``id`` and ``key`` default to content id and run key).

        ``partition`` places it explicitly (a shard's requests go to the shard's partition); by default
        the key decides.
        """
        topic = self.settings.topic_for_kind(output.kind)
        env_id, value = encode(output, run_id=run_id, holder=holder, seq=seq, source=source, id=id)
        if len(value) > self.settings.max_message_bytes:
            self._too_large(output.kind, len(value))
            return env_id
        hdrs = headers(env_id, output.kind, output.content_type, {"ppcti-produced-at": _now()})
        self._produce(topic, key or message_key(holder, run_id), value, hdrs, partition)
        return env_id

    def send_all(self, outputs: Iterable[Output], *, run_id: str, holder: str, first_seq: int = 0) -> int:
        """Queue many outputs of one run, numbered from ``first_seq``; returns how many were queued.

        Same messages as :meth:`send` in a loop, with the per-message work kept to what differs between
        messages: this is the path a run's million CTI bundles take.
        """
        key = message_key(holder, run_id)
        limit = self.settings.max_message_bytes
        produce, on_delivery, report = self._producer.produce, self._on_delivery, self.report
        queued_error = (BufferError, self._kafka.KafkaException)
        topics: dict[str, str] = {}
        count = 0
        for count, output in enumerate(outputs, start=1):
            kind = output.kind
            topic = topics.get(kind)
            if topic is None:
                topic = topics[kind] = self.settings.topic_for_kind(kind)
            env_id, value = encode(output, run_id=run_id, holder=holder, seq=first_seq + count - 1)
            if len(value) > limit:
                self._too_large(kind, len(value))
                continue
            hdrs = [
                ("ppcti-schema", SCHEMA),
                ("ppcti-kind", kind),
                ("ppcti-id", env_id),
                ("content-type", output.content_type),
                ("ppcti-produced-at", _now()),
            ]
            if self._fatal:
                raise BusError(f"Kafka producer failed ({self._fatal}); nothing more can be sent")
            try:
                produce(topic, value, key, headers=hdrs, on_delivery=on_delivery)
            except queued_error:
                self._produce(topic, key, value, hdrs)  # the careful path: waits, retries or counts
                continue
            report.sent += 1
            report.bytes += len(value)
            report.by_topic[topic] += 1
            if not report.sent & 1023:
                self._producer.poll(0)
        return count

    def send_batch(
        self, kind: str, content_type: str, batch: EnvelopeBatch, *, run_id: str, holder: str
    ) -> int:
        """Queue a batch of ready envelopes of one run (one chunk of ``bundles.jsonl``); returns how many.

        The envelopes and ids come from :mod:`ppcti.bus.batches`; what is left per message is the produce
        call with its headers. ``ppcti-produced-at`` is refreshed and deliveries are served every 1,024
        messages; the report's counters are added once per batch.
        """
        ids, values = batch.ids, batch.values
        count = len(values)
        if not count:
            return 0
        topic = self.settings.topic_for_kind(kind)
        key = message_key(holder, run_id)
        if batch.longest > self.settings.max_message_bytes:
            self._send_each(topic, key, kind, content_type, batch)
            return count
        produce, on_delivery, report = self._producer.produce, self._on_delivery, self.report
        queued_error = (BufferError, self._kafka.KafkaException)
        schema_header, kind_header = ("ppcti-schema", SCHEMA), ("ppcti-kind", kind)
        type_header = ("content-type", content_type)
        handed = careful = careful_bytes = 0  # messages taken; of them, sent by the careful path
        try:
            for start in range(0, count, 1024):
                # _fatal is set only by a callback, and callbacks run only inside poll() and flush()
                if self._fatal:
                    raise BusError(f"Kafka producer failed ({self._fatal}); nothing more can be sent")
                now = _now()
                stop = min(start + 1024, count)
                for i in range(start, stop):
                    hdrs = [
                        schema_header,
                        kind_header,
                        ("ppcti-id", ids[i]),
                        type_header,
                        ("ppcti-produced-at", now),
                    ]
                    try:
                        produce(topic, values[i], key, headers=hdrs, on_delivery=on_delivery)
                    except queued_error:
                        handed = i
                        self._produce(topic, key, values[i], hdrs)  # waits, retries or counts; may raise
                        careful += 1
                        careful_bytes += len(values[i])
                        if self._fatal:  # the careful path polls, so a callback may have run
                            handed = i + 1
                            raise BusError(
                                f"Kafka producer failed ({self._fatal}); nothing more can be sent"
                            ) from None
                handed = stop
                self._producer.poll(0)
        finally:  # a failure reported meanwhile subtracts from the same totals
            sent = handed - careful
            size = batch.total if handed == count else sum(map(len, values[:handed]))
            report.sent += sent
            report.bytes += size - careful_bytes
            report.by_topic[topic] += sent
        return count

    def _send_each(self, topic: str, key: bytes, kind: str, content_type: str, batch: EnvelopeBatch) -> None:
        """A batch with an envelope over the size limit, one message at a time: those are counted failed."""
        for env_id, value in zip(batch.ids, batch.values, strict=True):
            if len(value) > self.settings.max_message_bytes:
                self._too_large(kind, len(value))
                continue
            hdrs = headers(env_id, kind, content_type, {"ppcti-produced-at": _now()})
            self._produce(topic, key, value, hdrs)

    def send_raw(self, topic: str, key: bytes | None, value: bytes, hdrs: list | None = None) -> None:
        """Queue pre-built bytes (dead letters); counted like every other message."""
        self._produce(topic, key, value, hdrs)

    def _too_large(self, kind: str, size: int) -> None:
        self.report.sent += 1
        self.report.failed += 1
        self.report.errors["MSG_SIZE_TOO_LARGE"] += 1
        log.warning(
            "a %s message of %d bytes exceeds the %d-byte limit", kind, size, self.settings.max_message_bytes
        )

    def _produce(
        self, topic: str, key: bytes | None, value: bytes, hdrs: list | None, partition: int | None = None
    ) -> None:
        if self._fatal:
            raise BusError(f"Kafka producer failed ({self._fatal}); nothing more can be sent")
        deadline = None
        placed = {} if partition is None else {"partition": partition}
        while True:
            try:
                self._producer.produce(
                    topic, value, key, headers=hdrs, on_delivery=self._on_delivery, **placed
                )
                break
            except BufferError:  # the local queue is full: let deliveries drain it, within the bound
                if deadline is None:
                    deadline = time.monotonic() + self.settings.delivery_timeout_s
                elif time.monotonic() > deadline:
                    raise BusError(
                        f"Kafka producer queue stayed full for {self.settings.delivery_timeout_s:g}s "
                        f"({len(self._producer)} messages waiting for {self.settings.bootstrap})"
                    ) from None
                self._producer.poll(0.005)
            except self._kafka.KafkaException as exc:
                self.report.sent += 1
                self.report.failed += 1
                self.report.errors[exc.args[0].name() if exc.args else "KafkaException"] += 1
                return
        self.report.sent += 1
        self.report.bytes += len(value)
        self.report.by_topic[topic] += 1
        if not self.report.sent & 1023:
            self._producer.poll(0)

    def flush(self, timeout: float | None = None) -> int:
        """Wait for deliveries; returns (and records in the report) how many are still in flight."""
        wait = self.settings.delivery_timeout_s + 5.0 if timeout is None else timeout
        self.report.pending = self._producer.flush(wait)
        return self.report.pending

    def flush_or_raise(self) -> DeliveryReport:
        """Wait (bounded) until every queued message is delivered; raise :class:`BusError` otherwise."""
        waiting = self.flush()
        self.report.seconds = time.monotonic() - self._started
        report = self.report
        if waiting or report.failed or self._fatal:
            parts = [f"{report.failed + waiting} of {report.sent} Kafka messages not delivered"]
            if report.errors:
                reasons = ", ".join(f"{name} x{count}" for name, count in sorted(report.errors.items()))
                parts.append(f"reasons: {reasons}")
            if waiting:
                parts.append(f"{waiting} still waiting after {self.settings.delivery_timeout_s:g}s")
            if self._fatal:
                parts.append(f"producer failed: {self._fatal}")
            raise BusError(f"{'; '.join(parts)} (broker {self.settings.bootstrap})")
        return report

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.flush_or_raise()
        else:
            self.flush(timeout=min(5.0, self.settings.delivery_timeout_s))


_clock: list = [-1, ""]


def _now() -> str:
    """The current UTC second in STIX form, formatted once per second rather than once per message."""
    second = int(time.time())
    if second != _clock[0]:
        _clock[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))]
    return _clock[1]
