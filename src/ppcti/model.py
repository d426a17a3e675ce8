"""The records every stage agrees on.

A normalised event is the contract between ingestion/cleaning and everything after it (PII, STIX,
analysis, FHE, Kafka). It is stored one JSON object per line in ``events.jsonl``; in memory the hot path
keeps events in Polars frames with :data:`EVENT_SCHEMA`, and :class:`Event` is the row-at-a-time view
for code that is not on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

#: Columns of ``events.jsonl``, in output order.
EVENT_FIELDS: tuple[str, ...] = (
    "holder",
    "format",
    "source_file",
    "line",
    "timestamp",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "nat_ip",
    "protocol",
    "src_mac",
    "emails",
    "extra",
)

#: Polars schema of an event batch, except ``extra`` which each format gives its own struct type.
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "holder": pl.String(),
    "format": pl.String(),
    "source_file": pl.String(),
    "line": pl.Int64(),
    "timestamp": pl.String(),
    "src_ip": pl.String(),
    "src_port": pl.Int32(),
    "dst_ip": pl.String(),
    "dst_port": pl.Int32(),
    "nat_ip": pl.String(),
    "protocol": pl.String(),
    "src_mac": pl.String(),
    "emails": pl.List(pl.String()),
}


@dataclass(slots=True)
class Event:
    """One normalised log entry.

    ``timestamp`` is STIX format (RFC 3339, UTC, ``Z``); IPs are canonical text; MACs lower-case colon
    form; e-mails stripped with lower-case domains. Absent values are ``None`` (never empty strings).
    ``extra`` holds format-specific fields (e.g. ``sender``, ``recipients``, ``subject``, ``verdict`` for
    e-mail; ``event_type``, ``signature`` for JSON feeds; ``dst_mac``).
    """

    holder: str
    format: str
    source_file: str
    line: int
    timestamp: str | None = None
    src_ip: str | None = None
    src_port: int | None = None
    dst_ip: str | None = None
    dst_port: int | None = None
    nat_ip: str | None = None
    protocol: str | None = None
    src_mac: str | None = None
    emails: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        known = {k: data[k] for k in EVENT_FIELDS if k in data and data[k] is not None}
        known.setdefault("emails", [])
        known.setdefault("extra", {})
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        """The ``events.jsonl`` form: absent values omitted."""
        out: dict[str, Any] = {}
        for name in EVENT_FIELDS:
            value = getattr(self, name)
            if value is None or (name in ("emails", "extra") and not value):
                continue
            out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class Reject:
    """An entry that could not be used; written to ``rejects.jsonl`` with its raw text.

    ``summary.json`` counts rejects by :func:`reason_key` of their reason.
    """

    file: str
    line: int | None
    reason: str
    raw: str
    stage: str = "parse"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "line": self.line, "stage": self.stage, "reason": self.reason, "raw": self.raw
        }


def reason_key(reason: str) -> str:
    """The group a reject's reason is counted under in ``summary.json``: reasons that differ only in the
    line they point to (``duplicate (exact) of fw.log:53``) are one group (``duplicate (exact)``)."""
    if reason.startswith("duplicate ("):
        return reason.split(" of ", 1)[0]
    return reason
