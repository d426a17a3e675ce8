"""A MISP feed folder: ``manifest.json``, one ``<uuid>.json`` per event, and optionally a hashes file.

MISP's own hashes file (``hashes.csv``: ``md5(value),event_uuid`` per attribute value) lets a MISP
instance find overlaps without downloading events. Unsalted MD5 of an IPv4 address is no protection:
all 2^32 addresses hash in minutes on one core, so ``hashes.csv`` publishes every address in the feed
to anyone who can read it. The keyed variant (``hashes-hmac-sha256.csv``: HMAC-SHA256 under a key
shared only with the intended consumers) supports the same membership check for key holders and
reveals nothing to anyone else; MISP itself does not read it (docs/misp.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import ConfigError

HASH_MODES = ("none", "keyed", "md5")
MD5_NAME = "hashes.csv"
KEYED_NAME = "hashes-hmac-sha256.csv"
#: Shortest accepted key for the keyed hashes.
MIN_KEY_BYTES = 16


@dataclass(frozen=True, slots=True)
class FeedSummary:
    folder: str
    events: int
    hashes_file: str | None
    hashes: int


def _values(event: Any) -> list[str]:
    """Every attribute value as MISP hashes it (composite values part by part)."""
    out: list[str] = []
    attributes = list(event.attributes) + [a for o in event.objects for a in o.attributes]
    for attr in attributes:
        text = str(attr.value)
        out.extend(text.split("|") if "|" in attr.type else [text])
    return out


def keyed_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def write_feed(
    events: list[Any], folder: str | os.PathLike[str], *, hashes: str = "none", key: bytes | None = None
) -> FeedSummary:
    """Write (or add to) a feed folder; an existing manifest keeps its other events."""
    if hashes not in HASH_MODES:
        raise ConfigError(f"hashes must be one of {', '.join(HASH_MODES)}")
    if hashes == "keyed" and (key is None or len(key) < MIN_KEY_BYTES):
        raise ConfigError(f"keyed hashes need a key of at least {MIN_KEY_BYTES} bytes")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    manifest: dict[str, Any] = {}
    if manifest_path.is_file():
        try:
            manifest = orjson.loads(manifest_path.read_bytes())
        except orjson.JSONDecodeError:
            raise ConfigError(
                "the feed folder's manifest.json is not valid JSON", file=str(manifest_path)
            ) from None
    lines: list[str] = []
    for event in events:
        feed = event.to_feed(with_meta=False)
        (out / f"{event.uuid}.json").write_bytes(orjson.dumps(feed, option=orjson.OPT_INDENT_2))
        manifest.update(event.manifest)
        if hashes == "md5":
            lines += [f"{hashlib.md5(v.encode()).hexdigest()},{event.uuid}" for v in _values(event)]
        elif hashes == "keyed":
            assert key is not None
            lines += [f"{keyed_hash(key, v)},{event.uuid}" for v in _values(event)]
    manifest_path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    name = {"md5": MD5_NAME, "keyed": KEYED_NAME}.get(hashes)
    if name is not None:
        (out / name).write_text("\n".join(lines) + ("\n" if lines else ""), encoding="ascii")
    return FeedSummary(str(out), len(events), str(out / name) if name else None, len(lines))
