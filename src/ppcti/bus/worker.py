"""Consumer-group workers: read envelopes, process them, publish the outputs, then commit.

The order inside one poll batch is: process every message, hand all outputs to the idempotent producer,
wait until the broker has acknowledged every one, and only then commit the input offsets. A worker that
dies anywhere before the commit leaves its inputs uncommitted, so whichever worker owns the partition
next processes them again (at least once). Output ids are derived from the input id and the output's
position, and envelopes carry no clock, so such a replay is an exact copy: a consumer that keeps one
message per id gets the same set as if nothing had happened.

The processing step is a plain function ``Envelope -> list[Output]`` injected into :class:`Worker`,
so the machinery is tested with any pure function and the CTI and PII stages plug in the same way.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ppcti.bus.envelope import Envelope, Output, derived_id, encode
from ppcti.bus.publisher import Publisher, client_log, load_client
from ppcti.bus.settings import BusSettings
from ppcti.errors import BusError, ConfigError, FormatError, PpctiError

log = logging.getLogger("ppcti.bus.worker")

Process = Callable[[Envelope], list[Output]]


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """How a worker consumes: group, batch size, and when a batch-mode worker stops."""

    group: str
    input_topic: str
    batch: int = 100
    poll_timeout_s: float = 0.5
    #: Stop after this many input messages (``None``: run until stopped).
    max_messages: int | None = None
    #: Stop after this long without any input (``None``: wait forever).
    idle_timeout_s: float | None = None
    session_timeout_ms: int = 6000
    #: Longest gap between two polls before the group gives the member's partitions to others
    #: (librdkafka's ``max.poll.interval.ms``); raise it for steps that take minutes, such as a whole
    #: pipeline run or an FHE correlation of a large shard.
    max_poll_interval_ms: int = 300_000

    def __post_init__(self) -> None:
        if not self.group or not self.input_topic:
            raise ConfigError("a worker needs a consumer group and an input topic")
        if self.batch < 1 or (self.max_messages is not None and self.max_messages < 1):
            raise ConfigError("batch and max_messages must be at least 1")
        if self.poll_timeout_s <= 0 or (self.idle_timeout_s is not None and self.idle_timeout_s <= 0):
            raise ConfigError("worker timeouts must be positive")


@dataclass(slots=True)
class WorkerStats:
    consumed: int = 0
    produced: int = 0
    rejected: int = 0
    commits: int = 0
    failed_commits: int = 0


class Worker:
    """One member of a consumer group; :meth:`run` until stopped, idle or ``max_messages`` reached."""

    def __init__(self, process: Process, settings: BusSettings, options: WorkerOptions) -> None:
        self.process = process
        self.settings = settings
        self.options = options
        self.stats = WorkerStats()
        self._stop = False

    def stop(self, *_args: Any) -> None:
        """Finish the current batch, commit it and leave the group (signal handler or other thread)."""
        self._stop = True

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %d: stopping after the current batch", signum)
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _consumer(self) -> Any:
        kafka = load_client()
        return kafka.Consumer(
            {
                "bootstrap.servers": self.settings.bootstrap,
                "client.id": f"{self.settings.client_id}-worker",
                "group.id": self.options.group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": self.options.session_timeout_ms,
                "heartbeat.interval.ms": max(500, self.options.session_timeout_ms // 6),
                "max.poll.interval.ms": self.options.max_poll_interval_ms,
                "partition.assignment.strategy": "cooperative-sticky",
                "socket.connection.setup.timeout.ms": int(self.settings.connect_timeout_s * 1000),
                "logger": client_log,
            }
        )

    def run(self) -> WorkerStats:
        kafka = load_client()
        consumer = self._consumer()
        try:
            with Publisher(self.settings) as publisher:
                consumer.subscribe([self.options.input_topic], on_assign=_log_assign, on_revoke=_log_revoke)
                last_input = time.monotonic()
                while not self._stop:
                    want = self.options.batch
                    if self.options.max_messages is not None:
                        want = min(want, self.options.max_messages - self.stats.consumed)
                        if want <= 0:
                            break
                    messages = consumer.consume(num_messages=want, timeout=self.options.poll_timeout_s)
                    messages = [m for m in messages if not self._skip_error(m, kafka)]
                    if not messages:
                        idle = self.options.idle_timeout_s
                        if idle is not None and time.monotonic() - last_input >= idle:
                            break
                        continue
                    last_input = time.monotonic()
                    self._handle_batch(messages, publisher)
                    self._commit(consumer, messages, kafka)
        finally:
            consumer.close()  # leaves the group at once, so the partitions move without a session timeout
        return self.stats

    @staticmethod
    def _skip_error(message: Any, kafka: Any) -> bool:
        err = message.error()
        if err is None:
            return False
        if err.code() == kafka.KafkaError._PARTITION_EOF or not err.fatal():
            log.debug("consumer notice %s", err.name())
            return True
        raise BusError(f"Kafka consumer failed ({err.name()})")

    def _handle_batch(self, messages: list[Any], publisher: Publisher) -> None:
        for message in messages:
            self.stats.consumed += 1
            where = f"{message.topic()}[{message.partition()}]@{message.offset()}"
            try:
                envelope = Envelope.decode(message.value(), where=where)
                outputs = self.process(envelope)
            except PpctiError as exc:
                self._reject(publisher, message, exc.message, type(exc).__name__)
                continue
            except Exception as exc:  # a stage that fails on one input must not stop the partition for good
                # only the type, in the log too: an arbitrary exception's text may quote input values
                self._reject(publisher, message, "processing failed", type(exc).__name__)
                continue
            for index, output in enumerate(outputs):
                publisher.send(
                    output,
                    run_id=envelope.run_id,
                    holder=envelope.holder,
                    source=envelope.id,
                    id=derived_id(envelope.id, index, output.kind),
                    key=message.key(),
                )
                self.stats.produced += 1
        publisher.flush_or_raise()

    def _reject(self, publisher: Publisher, message: Any, reason: str, error: str) -> None:
        """An input no processing can use goes to the rejects topic with the reason; nothing is lost."""
        self.stats.rejected += 1
        where = f"{message.topic()}[{message.partition()}]@{message.offset()}"
        log.warning("rejected %s: %s (%s)", where, reason, error)
        record = {
            "topic": message.topic(),
            "partition": message.partition(),
            "offset": message.offset(),
            "reason": reason,
            "error": error,
        }
        _id, value = encode(Output("rejected", record), run_id="", holder="")
        publisher.send_raw(
            self.settings.topic("rejects"),
            message.key(),
            value,
            [("ppcti-kind", "rejected"), ("original", message.value() or b"")],
        )

    def _commit(self, consumer: Any, messages: list[Any], kafka: Any) -> None:
        last: dict[tuple[str, int], int] = {}
        for message in messages:
            last[(message.topic(), message.partition())] = message.offset()
        offsets = [kafka.TopicPartition(t, p, o + 1) for (t, p), o in sorted(last.items())]
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
            self.stats.commits += 1
        except kafka.KafkaException as exc:
            # The partition moved to another member while this batch ran: it will replay the batch, and
            # the deterministic ids make that replay recognisable. Nothing is lost.
            self.stats.failed_commits += 1
            log.warning("offset commit refused (%s); the new owner replays the batch", exc.args[0].name())


def _log_assign(_consumer: Any, partitions: list[Any]) -> None:
    log.info("assigned %s", ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing")


def _log_revoke(_consumer: Any, partitions: list[Any]) -> None:
    log.info("revoked %s", ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing")


def check_envelope_kind(envelope: Envelope, *kinds: str) -> None:
    if envelope.kind not in kinds:
        raise FormatError(
            f"a {envelope.kind!r} message cannot be processed here (expected {', '.join(kinds)})"
        )
