"""Mark the holder's STIX objects whose addresses are on the blacklist.

The original ``bundles.jsonl`` stays untouched; ``bundles.fhe.jsonl`` is written next to it with, per
bundle that has a match: matching indicators re-versioned (``modified`` advanced) with the label
``blacklisted``, and one ``note`` "on blacklist NAME" referring to every matching indicator and
observable. The note id is derived from the bundle, blacklist name and referenced ids (UUIDv4 layout,
as strict STIX validation requires for SDOs), so re-running the same decryption writes identical files.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import FHEError
from ppcti.fhe.encoding import canonical_address
from ppcti.fhe.sources import _PATTERN_VALUE, _SCO_TYPES
from ppcti.jsonl import iter_jsonl
from ppcti.outdir import write_atomic

LABEL = "blacklisted"
MARKED_NAME = "bundles.fhe.jsonl"


def deterministic_uuid4(*parts: str) -> str:
    """A UUID with version-4 layout derived from a hash: STIX wants v4 for SDOs, re-runs want stable ids."""
    digest = bytearray(hashlib.sha256("\x1f".join(("ppcti-fhe-note", *parts)).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


def _parse_ts(text: str) -> datetime:
    return datetime.strptime(
        text.replace("Z", "+0000") if "." in text else text.replace("Z", ".000+0000"),
        "%Y-%m-%dT%H:%M:%S.%f%z",
    )


def _fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _canon(value: Any) -> str | None:
    found = canonical_address(value) if isinstance(value, str) else None
    return found[1] if found else None


def resolve_bundles(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if p.is_dir():
        for candidate in (p / "cti" / "bundles.jsonl", p / "bundles.jsonl"):
            if candidate.is_file():
                return candidate
        raise FHEError("no cti/bundles.jsonl or bundles.jsonl in this folder", file=str(p))
    if not p.is_file():
        raise FHEError("STIX bundles file not found", file=str(p))
    return p


def mark_bundle(
    bundle: dict[str, Any], found: set[str], blacklist: str, when: str
) -> tuple[dict[str, Any], int]:
    """One bundle with matching objects marked; returns it and the number of matching objects."""
    refs: list[str] = []
    objects = []
    when_ts = _parse_ts(when)
    for obj in bundle.get("objects") or []:
        kind = obj.get("type")
        hit = False
        if kind in _SCO_TYPES:
            hit = _canon(obj.get("value")) in found
        elif kind == "indicator":
            hit = any(
                _canon(v.replace("\\'", "'")) in found
                for _, v in _PATTERN_VALUE.findall(obj.get("pattern") or "")
            )
        if hit and kind == "indicator":
            obj = dict(obj)
            labels = list(obj.get("labels") or [])
            if LABEL not in labels:
                labels.append(LABEL)
                obj["labels"] = labels
                bumped = _parse_ts(obj["modified"]) + timedelta(milliseconds=1)
                obj["modified"] = _fmt(max(bumped, when_ts))
        if hit:
            refs.append(obj["id"])
        objects.append(obj)
    if not refs:
        return bundle, 0
    refs = sorted(set(refs))
    note_id = "note--" + deterministic_uuid4(bundle.get("id", ""), blacklist, *refs)
    objects = [o for o in objects if o.get("id") != note_id]
    objects.append(
        {
            "type": "note",
            "spec_version": "2.1",
            "id": note_id,
            "created": _fmt(when_ts),
            "modified": _fmt(when_ts),
            "abstract": "blacklist correlation",
            "content": f"on blacklist {blacklist} (private FHE correlation)",
            "object_refs": refs,
        }
    )
    return {**bundle, "objects": objects}, len(refs)


def mark_bundles(
    path: str | os.PathLike[str], found_values: list[str], blacklist: str, when: str
) -> tuple[str, int]:
    """Write ``bundles.fhe.jsonl`` next to the bundles file; returns its path and the objects marked."""
    source = resolve_bundles(path)
    found = {c for c in (_canon(v) for v in found_values) if c}
    target = source.with_name(MARKED_NAME)
    marked = 0
    lines = []
    for _number, bundle in iter_jsonl(source, what="a JSON STIX bundle", error=FHEError):
        bundle, count = mark_bundle(bundle, found, blacklist, when)
        marked += count
        lines.append(orjson.dumps(bundle))
    write_atomic(target, b"\n".join(lines) + (b"\n" if lines else b""))
    return str(target), marked
