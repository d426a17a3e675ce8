"""Builders for hand-made event sets used by the analysis tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

T0 = datetime(2023, 3, 7, 10, 0, 0, tzinfo=UTC)


def stamp(offset_s: float) -> str:
    """STIX timestamp ``offset_s`` seconds after T0 (fractional seconds kept to the millisecond)."""
    moment = T0 + timedelta(seconds=offset_s)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fw(
    holder: str,
    offset_s: float,
    src: str | None,
    dst: str | None,
    *,
    port: int | None = 22,
    proto: str | None = "TCP",
    nat: str | None = None,
    line: int = 1,
    file: str = "fw.log",
) -> dict[str, Any]:
    """A firewall-text event; None values are omitted as in events.jsonl."""
    event = {
        "holder": holder,
        "format": "firewall-text",
        "source_file": file,
        "line": line,
        "timestamp": stamp(offset_s),
        "src_ip": src,
        "dst_ip": dst,
        "dst_port": port,
        "nat_ip": nat,
        "protocol": proto,
    }
    return {k: v for k, v in event.items() if v is not None}


def mail(
    holder: str,
    offset_s: float,
    sender: str | None,
    recipients: list[str],
    *,
    verdict: str = "phish",
    line: int = 1,
    file: str = "mail.csv",
) -> dict[str, Any]:
    extra: dict[str, Any] = {"verdict": verdict, "subject": "invoice"}
    if sender:
        extra["sender"] = sender
    return {
        "holder": holder,
        "format": "email-csv",
        "source_file": file,
        "line": line,
        "timestamp": stamp(offset_s),
        "emails": ([sender] if sender else []) + recipients,
        "extra": extra,
    }


def numbered(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each event its own line number (per file), in list order."""
    seen: dict[str, int] = {}
    for event in events:
        seen[event["source_file"]] = seen.get(event["source_file"], 0) + 1
        event["line"] = seen[event["source_file"]]
    return events


def write_events(path: Path, events: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return path
