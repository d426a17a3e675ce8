"""The versioned JSON envelope of every message ppcti puts on Kafka.

    {"schema": "ppcti.bus/1", "id": "…", "kind": "cti-bundle", "run_id": "…", "holder": "…",
     "content_type": "application/stix+json;version=2.1", "seq": 3, "source": "…", "payload": {…}}

The envelope bytes are a pure function of what is published: no clock, no host name. Wall-clock
metadata travels in Kafka headers instead. That is what makes at-least-once delivery harmless: a message
replayed after a crash is byte-for-byte the message that was sent before, and ``id`` names it.

``id`` is derived from the content (kind, run, holder and payload) or, for a worker's outputs, from the
input message it answers and the output's position, so the same input always yields the same ids.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from ppcti.errors import FormatError

SCHEMA = "ppcti.bus/1"
JSON = "application/json"
STIX_JSON = "application/stix+json;version=2.1"
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"

_SORT = orjson.OPT_SORT_KEYS


class JsonBytes(bytes):
    """Bytes already checked to be exactly one JSON value (e.g. a line :func:`orjson.loads` accepted).

    The envelope splices them in without checking again: parsing a 2 kB STIX bundle costs more than
    the rest of publishing it, so it is done once, where the line number for an error is known.
    """

    __slots__ = ()


@lru_cache(maxsize=64)
def is_json_type(content_type: str) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    return base == JSON or base.endswith("+json")


@lru_cache(maxsize=64)
def is_text_type(content_type: str) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    return base.startswith("text/") or base == NTRIPLES


@dataclass(frozen=True, slots=True)
class Output:
    """Something to publish, before it has a run, a holder and an id.

    ``payload`` is a JSON-able object, or ``bytes``: already-serialised JSON for JSON content types
    (spliced into the envelope without re-encoding), text for ``text/*``, anything else for the rest.
    """

    kind: str
    payload: Any
    content_type: str = JSON


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded message."""

    id: str
    kind: str
    run_id: str
    holder: str
    content_type: str
    payload: Any
    seq: int | None = None
    source: str | None = None

    @classmethod
    def decode(cls, value: bytes | None, *, where: str | None = None) -> Envelope:
        """Parse and check an envelope; a message that is not one raises :class:`FormatError`."""
        if not value:
            raise FormatError("empty message, not a ppcti envelope", file=where)
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise FormatError("message is not JSON, not a ppcti envelope", file=where) from None
        if not isinstance(data, dict):
            raise FormatError("message is not a JSON object, not a ppcti envelope", file=where)
        if data.get("schema") != SCHEMA:
            raise FormatError(f"unsupported envelope schema (expected {SCHEMA})", file=where)
        missing = [k for k in ("id", "kind", "run_id", "holder", "content_type", "payload") if k not in data]
        if missing:
            raise FormatError(f"envelope lacks {', '.join(missing)}", file=where)
        payload = data["payload"]
        if data.get("encoding") == "base64":
            payload = base64.b64decode(payload)
        return cls(
            id=str(data["id"]),
            kind=str(data["kind"]),
            run_id=str(data["run_id"]),
            holder=str(data["holder"]),
            content_type=str(data["content_type"]),
            payload=payload,
            seq=data.get("seq"),
            source=data.get("source"),
        )


def message_key(holder: str, run_id: str) -> bytes:
    """All messages of one run and holder share this key, so they land in order on one partition."""
    return f"{holder}:{run_id}".encode()


def payload_json(payload: Any, content_type: str) -> tuple[bytes, bool]:
    """The payload as JSON bytes for the envelope, and whether it had to be base64-encoded."""
    if is_json_type(content_type):
        if isinstance(payload, JsonBytes):
            return payload, False
        if isinstance(payload, bytes | bytearray | memoryview):
            raw = bytes(payload)
            try:  # spliced into the envelope as it is, so it must be one valid JSON value
                orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise FormatError(f"payload declared {content_type} is not valid JSON") from None
            return raw.strip(), False
        return orjson.dumps(payload, option=_SORT), False
    if isinstance(payload, str):
        return orjson.dumps(payload), False
    if isinstance(payload, bytes | bytearray | memoryview):
        raw = bytes(payload)
        if is_text_type(content_type):
            try:
                return orjson.dumps(raw.decode("utf-8")), False
            except UnicodeDecodeError:
                pass
        return orjson.dumps(base64.b64encode(raw).decode("ascii")), True
    return orjson.dumps(payload, option=_SORT), False


@lru_cache(maxsize=256)
def _frame(kind: str, run_id: str, holder: str, content_type: str) -> tuple[bytes, Any]:
    """What every envelope of one kind, run and holder shares: its JSON fields and the id hash's prefix.

    Computed once per run instead of once per message; publishing a million bundles is dominated by
    per-message work, and this halves the part that is ppcti's own.
    """
    middle = orjson.dumps({"kind": kind, "run_id": run_id, "holder": holder, "content_type": content_type})
    digest = hashlib.blake2b(id_prefix(kind, run_id, holder), digest_size=16)
    return middle[1:-1], digest


@lru_cache(maxsize=256)
def envelope_parts(
    kind: str, run_id: str, holder: str, content_type: str
) -> tuple[bytes, bytes, bytes, bytes]:
    """The bytes around the id, the ``seq`` and the payload of an envelope of a JSON payload with a
    ``seq`` and no ``source``: ``before_id + id + before_seq + seq + before_payload + payload + after``
    is exactly what :func:`encode` makes for it.

    The compiled batch step (``ppcti_native.EnvelopeFrame``) and :func:`envelope_template` both build
    envelopes from these, so the two paths cannot drift apart.
    """
    middle, _digest = _frame(kind, run_id, holder, content_type)
    before_id = b'{"schema":' + orjson.dumps(SCHEMA) + b',"id":"'
    return before_id, b'",' + middle + b',"seq":', b',"payload":', b"}"


def id_prefix(kind: str, run_id: str, holder: str) -> bytes:
    """What the content id hashes before the payload (BLAKE2b, 16 bytes, in hex)."""
    return f"{kind}\0{run_id}\0{holder}\0".encode()


@lru_cache(maxsize=256)
def envelope_template(kind: str, run_id: str, holder: str, content_type: str) -> tuple[bytes, Any]:
    """``(template, id hash prefix)`` for the envelopes of JSON payloads with a ``seq`` and no ``source``.

    ``template % (id, seq, payload)`` gives exactly the bytes :func:`encode` makes for such an output;
    the pure-Python batch path formats this once per message instead of assembling the parts.
    """
    _middle, digest = _frame(kind, run_id, holder, content_type)
    before_id, before_seq, before_payload, after = (
        part.replace(b"%", b"%%") for part in envelope_parts(kind, run_id, holder, content_type)
    )
    return before_id + b"%s" + before_seq + b"%d" + before_payload + b"%s" + after, digest


def derived_id(source: str, index: int, kind: str) -> str:
    """The id of output ``index`` that a worker made from input ``source``: stable across replays."""
    return hashlib.blake2b(f"{source}\0{index}\0{kind}".encode(), digest_size=16).hexdigest()


def encode(
    output: Output,
    *,
    run_id: str,
    holder: str,
    seq: int | None = None,
    source: str | None = None,
    id: str | None = None,
) -> tuple[str, bytes]:
    """The envelope bytes of ``output`` and their id (content-derived unless ``id`` is given)."""
    body, b64 = payload_json(output.payload, output.content_type)
    middle, digest = _frame(output.kind, run_id, holder, output.content_type)
    if id is None:
        digest = digest.copy()
        digest.update(body)
        id = digest.hexdigest()
    # Field order: schema, id, kind, run_id, holder, content_type, [seq], [source], [encoding], payload.
    parts = [b'{"schema":"' + SCHEMA.encode() + b'","id":', orjson.dumps(id), b",", middle]
    if seq is not None:
        parts.append(b',"seq":%d' % seq)
    if source is not None:
        parts.append(b',"source":' + orjson.dumps(source))
    if b64:
        parts.append(b',"encoding":"base64"')
    parts.append(b',"payload":')
    parts.append(body)
    parts.append(b"}")
    return id, b"".join(parts)


def headers(envelope_id: str, kind: str, content_type: str, extra: Mapping[str, str] | None = None) -> list:
    """Kafka headers: routing facts a consumer can read without parsing the value."""
    out = [
        ("ppcti-schema", SCHEMA),
        ("ppcti-kind", kind),
        ("ppcti-id", envelope_id),
        ("content-type", content_type),
    ]
    if extra:
        out.extend(extra.items())
    return out
