"""Bus settings, declared once with their defaults.

The library never reads the environment by itself: :meth:`BusSettings.from_env` is the one place that
does, and only the command line and ``ppcti run`` call it. Everything else takes a ``BusSettings``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ppcti.errors import ConfigError

DEFAULT_TOPIC_PREFIX = "ppcti."
DEFAULT_DELIVERY_TIMEOUT_S = 30.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_LINGER_MS = 20
DEFAULT_COMPRESSION = "lz4"
DEFAULT_EVENTS_PER_BATCH = 500
#: librdkafka's and most brokers' default limit is 1 MB; stay under it with room for the envelope.
DEFAULT_MAX_MESSAGE_BYTES = 900_000

#: The topics ppcti writes, by short name (the full name is prefix + short name, unless overridden).
TOPICS: tuple[str, ...] = (
    "pii",
    "cti",
    "insights",
    "runs",
    "events",
    "uploads",
    "rejects",
    "fhe-requests",
    "fhe-results",
    "jobs",
)

#: Which topic each message kind goes to. Several kinds can share a topic: a PII report, its findings
#: and the knowledge-graph additions they caused are one stream for consumers of ``ppcti.pii``.
KIND_TOPICS: Mapping[str, str] = MappingProxyType(
    {
        "run-summary": "runs",
        "pii-report": "pii",
        "pii-finding": "pii",
        "kg-additions": "pii",
        "cti-bundle": "cti",
        "insights": "insights",
        "event-batch": "events",
        "upload": "uploads",
        "rejected": "rejects",
        "job": "jobs",
        # sharded FHE correlation: one request per shard (partition = shard), partial results back
        "fhe-correlate": "fhe-requests",
        "fhe-partial": "fhe-results",
    }
)

COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")

ENV_BOOTSTRAP = "PPCTI_KAFKA_BOOTSTRAP"
ENV_PREFIX = "PPCTI_KAFKA_TOPIC_PREFIX"
ENV_DELIVERY_TIMEOUT = "PPCTI_KAFKA_DELIVERY_TIMEOUT"
ENV_COMPRESSION = "PPCTI_KAFKA_COMPRESSION"


@dataclass(frozen=True, slots=True)
class BusSettings:
    """Where the broker is and how ppcti talks to it.

    ``delivery_timeout_s`` bounds how long a message may wait for the broker before it counts as not
    delivered (librdkafka's ``message.timeout.ms``); ``connect_timeout_s`` bounds the metadata check a
    publisher does first, so a broker that is down is reported in seconds rather than at the end.
    """

    bootstrap: str
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    delivery_timeout_s: float = DEFAULT_DELIVERY_TIMEOUT_S
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    linger_ms: int = DEFAULT_LINGER_MS
    compression: str = DEFAULT_COMPRESSION
    events_per_batch: int = DEFAULT_EVENTS_PER_BATCH
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    client_id: str = "ppcti"
    #: Full topic names by short name, for deployments whose topics do not follow the prefix.
    topic_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.bootstrap.strip():
            raise ConfigError("Kafka bootstrap address is empty")
        if self.compression not in COMPRESSIONS:
            raise ConfigError(f"Kafka compression must be one of {', '.join(COMPRESSIONS)}")
        if self.delivery_timeout_s <= 0 or self.connect_timeout_s <= 0:
            raise ConfigError("Kafka timeouts must be positive")
        if self.events_per_batch < 1:
            raise ConfigError("events_per_batch must be at least 1")
        unknown = set(self.topic_names) - set(TOPICS)
        if unknown:
            raise ConfigError(f"unknown Kafka topic name(s): {', '.join(sorted(unknown))}")

    def topic(self, name: str) -> str:
        """The full topic name of a short name such as ``"cti"``."""
        if name not in TOPICS:
            raise ConfigError(f"unknown Kafka topic {name!r}; known: {', '.join(TOPICS)}")
        return self.topic_names.get(name, f"{self.topic_prefix}{name}")

    def topic_for_kind(self, kind: str) -> str:
        try:
            return self.topic(KIND_TOPICS[kind])
        except KeyError:
            raise ConfigError(f"unknown bus message kind {kind!r}; known: {', '.join(KIND_TOPICS)}") from None

    def producer_config(self) -> dict[str, object]:
        """librdkafka settings of every ppcti producer: idempotent, acks from all replicas, batched."""
        return {
            "bootstrap.servers": self.bootstrap,
            "client.id": self.client_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": self.linger_ms,
            "compression.type": self.compression,
            "message.timeout.ms": int(self.delivery_timeout_s * 1000),
            "socket.connection.setup.timeout.ms": int(self.connect_timeout_s * 1000),
            "queue.buffering.max.kbytes": 262144,
            "message.max.bytes": max(self.max_message_bytes + 65536, 1_000_000),
        }

    @classmethod
    def from_env(
        cls, bootstrap: str | None = None, env: Mapping[str, str] | None = None
    ) -> BusSettings | None:
        """Settings from ``PPCTI_KAFKA_*`` variables; ``None`` when no bootstrap address is configured.

        An explicit ``bootstrap`` (the ``--kafka`` option) wins over the environment.
        """
        env = os.environ if env is None else env
        address = bootstrap or env.get(ENV_BOOTSTRAP, "").strip()
        if not address:
            return None
        kwargs: dict[str, object] = {}
        if env.get(ENV_PREFIX) is not None:
            kwargs["topic_prefix"] = env[ENV_PREFIX]
        if env.get(ENV_COMPRESSION):
            kwargs["compression"] = env[ENV_COMPRESSION]
        if env.get(ENV_DELIVERY_TIMEOUT):
            try:
                kwargs["delivery_timeout_s"] = float(env[ENV_DELIVERY_TIMEOUT])
            except ValueError:
                raise ConfigError(f"{ENV_DELIVERY_TIMEOUT} must be a number of seconds") from None
        return cls(bootstrap=address, **kwargs)  # type: ignore[arg-type]
