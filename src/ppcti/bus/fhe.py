"""Sharded FHE correlation on Kafka: ``ppcti worker fhe`` and the requester that gathers its answers.

Topics (short names, see :mod:`ppcti.bus.settings`): ``fhe-requests`` has one partition per shard of
the blacklist; ``fhe-results`` carries the partial results, keyed by request id. The requester sends the
encrypted query once per shard, to partition = shard, keyed by a fresh request id. Workers of one
consumer group share the partitions (Kafka moves a dead worker's partitions to the others); a worker
answers a request with the shard's result ciphertexts, cut into as many ``fhe-partial`` messages as the
message size limit needs, and commits the request only after the broker has acknowledged every part
(:class:`ppcti.bus.worker.Worker`). A worker killed before that commit leaves the request to the
partition's next owner, so every request is answered completely at least once.

FHE results are randomised (fresh mask, re-randomisation), so an answer computed again is not a byte
copy of the first: each computation carries its own ``attempt`` id and the requester keeps the first
attempt of each shard that arrives complete, never mixing parts of two attempts. Only ciphertexts,
counts and ids travel; no message or error carries a queried or listed value.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ppcti.bus.envelope import Envelope, Output
from ppcti.bus.publisher import Publisher, client_log, load_client
from ppcti.bus.settings import BusSettings
from ppcti.bus.worker import Process, check_envelope_kind
from ppcti.errors import BusError, FHEError, FormatError, PpctiError
from ppcti.fhe.fileformat import dump_bytes, parse_bytes
from ppcti.fhe.shards import ShardSet, merge_results

REQUEST_KIND = "fhe-correlate"
PARTIAL_KIND = "fhe-partial"
#: Request and result messages may be this large (a query ciphertext is ~430 kB, base64 ~580 kB; a
#: mixed IPv4 + e-mail query of two batches is four of them). The topics are created to allow it.
DEFAULT_FHE_MESSAGE_BYTES = 8_000_000
#: Seconds the requester waits for every shard's complete answer.
DEFAULT_REQUEST_TIMEOUT_S = 300.0
#: Room left in a message for the envelope and the part's JSON around the base64 ciphertexts.
_ENVELOPE_ROOM = 4096


def _b64(blob: bytes | memoryview) -> str:
    return base64.b64encode(blob).decode("ascii")


def partial_outputs(
    request: str, shard: int, header: dict[str, Any], blobs: list[bytes], max_message_bytes: int
) -> list[Output]:
    """One shard's answer as ``fhe-partial`` outputs of whole ciphertexts, each within the size limit."""
    budget = (max_message_bytes - _ENVELOPE_ROOM) * 3 // 4  # base64 grows by 4/3
    chunks: list[list[bytes]] = [[]]
    size = 0
    for blob in blobs:
        if len(blob) > budget:
            raise FHEError(f"a result ciphertext of {len(blob)} bytes does not fit the message size limit")
        if chunks[-1] and size + len(blob) > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(blob)
        size += len(blob)
    attempt = uuid.uuid4().hex
    return [
        Output(
            PARTIAL_KIND,
            {
                "request": request,
                "shard": shard,
                "attempt": attempt,
                "part": i,
                "parts": len(chunks),
                "header": header,
                "blobs": [_b64(b) for b in chunk],
            },
        )
        for i, chunk in enumerate(chunks)
    ]


def fhe_step(shards: ShardSet, max_message_bytes: int, *, threads: int = 1) -> Process:
    """The worker's step: a ``fhe-correlate`` request to the shard's partial answer.

    A request this worker cannot answer (wrong shard count or blacklist, a query for another key) gets
    an ``fhe-partial`` error reply naming the reason, so the requester fails at once instead of waiting.
    """

    def process(envelope: Envelope) -> list[Output]:
        check_envelope_kind(envelope, REQUEST_KIND)
        payload = envelope.payload
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise FormatError("an FHE correlate request must be an object with a base64 'query'")
        request, shard = str(payload.get("request", "")), payload.get("shard")
        if not isinstance(shard, int):
            raise FormatError("an FHE correlate request must name its shard")
        try:
            if payload.get("shards") != shards.count:
                raise FHEError(
                    f"the request expects {payload.get('shards')} shards; "
                    f"blacklist {shards.name} is split into {shards.count}"
                )
            wanted = payload.get("blacklist")
            if wanted is not None and wanted != shards.name:
                raise FHEError(f"this worker group holds blacklist {shards.name}, not the one requested")
            try:
                query = base64.b64decode(str(payload["query"]), validate=True)
            except (KeyError, ValueError):  # binascii.Error is a ValueError
                raise FormatError("the request carries no readable query (base64)") from None
            header, blobs = shards.correlate(query, shard, threads=threads)
            return partial_outputs(request, shard, header, blobs, max_message_bytes)
        except PpctiError as exc:
            error = {"request": request, "shard": shard, "attempt": uuid.uuid4().hex, "error": exc.message}
            return [Output(PARTIAL_KIND, error)]

    return process


def ensure_topic(settings: BusSettings, name: str, partitions: int, *, timeout: float = 20.0) -> None:
    """Create a topic with ``partitions`` partitions (and room for large messages) unless it exists;
    an existing one with fewer partitions is an error, since a shard without a partition has no way in."""
    kafka = load_client()
    from confluent_kafka.admin import AdminClient, NewTopic  # the optional [kafka] extra, as load_client

    topic = settings.topic(name)
    admin = AdminClient({"bootstrap.servers": settings.bootstrap, "logger": client_log})
    deadline = time.monotonic() + timeout
    created = False
    while time.monotonic() < deadline:
        try:
            metadata = admin.list_topics(timeout=settings.connect_timeout_s)
        except kafka.KafkaException:
            raise BusError(f"Kafka broker at {settings.bootstrap} did not answer") from None
        found = metadata.topics.get(topic)
        if found is not None and found.error is None and found.partitions:
            if len(found.partitions) < partitions:
                raise BusError(
                    f"topic {topic} has {len(found.partitions)} partitions; {partitions} shards need one "
                    "each (add partitions with kafka-topics.sh --alter)"
                )
            return
        if not created:
            config = {"max.message.bytes": str(settings.max_message_bytes + 65536)}
            futures = admin.create_topics([NewTopic(topic, partitions, 1, config=config)])
            try:
                futures[topic].result(timeout=timeout)
            except kafka.KafkaException as exc:
                if exc.args[0].code() != kafka.KafkaError.TOPIC_ALREADY_EXISTS:
                    raise BusError(f"cannot create topic {topic} ({exc.args[0].name()})") from None
            created = True
        time.sleep(0.2)
    raise BusError(f"topic {topic} did not appear within {timeout:g}s")


@dataclass(slots=True)
class PartialAnswers:
    """Parts received per shard and attempt; the first attempt to be complete wins."""

    shards: int
    parts: dict[tuple[int, str], dict[int, dict[str, Any]]] = field(default_factory=dict)
    done: dict[int, tuple[dict[str, Any], list[bytes]]] = field(default_factory=dict)

    def add(self, payload: dict[str, Any]) -> None:
        shard = payload.get("shard")
        if not isinstance(shard, int) or not 0 <= shard < self.shards or shard in self.done:
            return
        if "error" in payload:
            raise FHEError(f"shard {shard} refused the query: {payload['error']}")
        try:
            got = self.parts.setdefault((shard, str(payload["attempt"])), {})
            got[int(payload["part"])] = payload
            if len(got) == int(payload["parts"]):
                blobs = [base64.b64decode(b, validate=True) for i in range(len(got)) for b in got[i]["blobs"]]
                self.done[shard] = (got[0]["header"], blobs)
        except (KeyError, TypeError, ValueError):
            raise FormatError(f"shard {shard} sent an answer that cannot be read") from None

    def missing(self) -> list[int]:
        return [k for k in range(self.shards) if k not in self.done]


def correlate_over_kafka(
    settings: BusSettings,
    query: bytes,
    shards: int,
    *,
    blacklist: str | None = None,
    timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
    on_sent: Callable[[str], None] | None = None,
) -> bytes:
    """Send a query container to every shard, gather and merge the answers: the result container.

    Raises :class:`BusError` naming the shards whose complete answer did not arrive within ``timeout``
    seconds, and :class:`FHEError` when a shard refused the query.
    """
    kafka = load_client()
    qfile = parse_bytes(query, "query", "query")
    if shards < 1:
        raise FHEError("the number of shards must be at least 1")
    request = uuid.uuid4().hex
    payload_size = len(query) * 4 // 3 + _ENVELOPE_ROOM
    if payload_size > settings.max_message_bytes:
        raise FHEError(
            f"the query ({len(query)} bytes) does not fit one {settings.max_message_bytes}-byte message; "
            "split the addresses into several queries or raise the message size limit"
        )
    ensure_topic(settings, "fhe-requests", shards)
    ensure_topic(settings, "fhe-results", shards)
    results_topic = settings.topic("fhe-results")
    consumer = kafka.Consumer(
        {
            "bootstrap.servers": settings.bootstrap,
            "group.id": f"{settings.client_id}-requester-{request}",
            "enable.auto.commit": False,
            "logger": client_log,
        }
    )
    try:
        # read from the current end of every result partition, fixed before the requests go out
        metadata = consumer.list_topics(results_topic, timeout=settings.connect_timeout_s)
        assignment = []
        for p in metadata.topics[results_topic].partitions:
            tp = kafka.TopicPartition(results_topic, p)
            _low, high = consumer.get_watermark_offsets(tp, timeout=settings.connect_timeout_s)
            assignment.append(kafka.TopicPartition(results_topic, p, high))
        consumer.assign(assignment)
        encoded = base64.b64encode(query).decode("ascii")
        with Publisher(settings) as publisher:
            for shard in range(shards):
                body = {
                    "request": request,
                    "shard": shard,
                    "shards": shards,
                    "blacklist": blacklist,
                    "query": encoded,
                }
                publisher.send(
                    Output(REQUEST_KIND, body),
                    run_id=request,
                    holder="",
                    key=request.encode(),
                    partition=shard,
                )
        if on_sent:
            on_sent(request)
        gathered = PartialAnswers(shards)
        key = request.encode()
        deadline = time.monotonic() + timeout
        while gathered.missing() and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=50, timeout=0.5):
                if message.error() is not None or message.key() != key:
                    continue
                envelope = Envelope.decode(message.value(), where=results_topic)
                if envelope.kind == PARTIAL_KIND and isinstance(envelope.payload, dict):
                    gathered.add(envelope.payload)
    finally:
        consumer.close()
    missing = gathered.missing()
    if missing:
        raise BusError(
            f"no complete answer from shard(s) {', '.join(map(str, missing))} of {shards} within "
            f"{timeout:g}s (request {request}); is a `ppcti worker fhe` group consuming "
            f"{settings.topic('fhe-requests')}?"
        )
    header, blobs = merge_results(qfile.header, gathered.done)
    result = dump_bytes(header, blobs)
    parse_bytes(result, "result", "merged result")
    return result
