"""Blacklists from MISP feeds, MISP CSV exports and STIX bundles, as list entries for the parser.

The owner's lists rarely arrive as plain text: MISP distributes them as feeds (a folder with
``manifest.json`` and one ``<uuid>.json`` per event), as CSV exports, and STIX bundles carry them as
indicators. Each reader turns its source into the plain entries :class:`~ppcti.fhe.encoding.BlacklistParser`
already understands (an address, a CIDR block or an e-mail address) and *counts* every entry it cannot
use, by reason, so that a summary can say what was left out (nothing is dropped silently). Reasons never
contain values: they name attribute types, operators or the stage, which is what an owner needs to fix a
feed.

STIX patterns are parsed with ``stix2-patterns`` (the OASIS grammar), not with regular expressions: only
equality comparisons of ``ipv4-addr``/``ipv6-addr``/``email-addr`` ``value`` joined by ``OR`` are
blacklist entries; anything that constrains more than one value at once (``AND``, ``FOLLOWEDBY``,
qualifiers, other operators) is not a list of values and is counted as unusable.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import FormatError

#: MISP attribute types that hold a listable value, and which part of a composite value to take.
MISP_TYPES: dict[str, int | None] = {
    "ip-src": None,
    "ip-dst": None,
    "ip-src|port": 0,
    "ip-dst|port": 0,
    "domain|ip": 1,
    "email-src": None,
    "email-dst": None,
    "email": None,
}
_STIX_TYPES = ("ipv4-addr", "ipv6-addr", "email-addr")
_TRUE = {"1", "true", "yes", "y"}


@dataclass(slots=True)
class SourceRead:
    """Entries of one source (``value``, ``where``) and the unusable ones counted per reason."""

    kind: str
    entries: list[tuple[str, str]] = field(default_factory=list)
    unusable: Counter[str] = field(default_factory=Counter)


def detect(path: Path) -> str:
    """``misp-feed``, ``misp-event``, ``misp-csv``, ``stix`` or ``list`` (plain, netset, DROP)."""
    if path.is_dir():
        if (path / "manifest.json").is_file():
            return "misp-feed"
        raise FormatError("folder is not a MISP feed (no manifest.json)", file=str(path))
    if not path.is_file():
        raise FormatError("blacklist not found", file=str(path))
    with path.open("rb") as fh:
        head = fh.read(4096)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{"):
        if b'"Event"' in head:
            return "misp-event"
        return "stix"
    first = text.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lower()
    if "," in first and "value" in [c.strip().strip('"') for c in first.split(",")]:
        return "misp-csv"
    return "list"


def _load_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON ({exc.msg})", file=str(path)) from None
    except OSError as exc:
        raise FormatError(f"cannot read ({exc.strerror})", file=str(path)) from None


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _misp_attribute(attr: Any, where: str, out: SourceRead) -> None:
    if not isinstance(attr, dict):
        out.unusable["malformed attribute"] += 1
        return
    kind = str(attr.get("type") or "")
    if kind not in MISP_TYPES:
        out.unusable[f"attribute type {kind or '(none)'} is not an address"] += 1
        return
    if _truthy(attr.get("deleted", False)):
        out.unusable["deleted attribute"] += 1
        return
    if not _truthy(attr.get("to_ids", False)):
        out.unusable["to_ids is off"] += 1
        return
    value = attr.get("value")
    if not isinstance(value, str) or not value.strip():
        out.unusable["attribute without a value"] += 1
        return
    part = MISP_TYPES[kind]
    if part is not None:
        pieces = value.split("|")
        if len(pieces) != 2:
            out.unusable[f"{kind} value is not two parts"] += 1
            return
        value = pieces[part]
    out.entries.append((value.strip(), where))


def _misp_event(data: Any, where: str, out: SourceRead) -> None:
    event = data.get("Event") if isinstance(data, dict) else None
    if not isinstance(event, dict):
        raise FormatError("not a MISP event (no Event object)", file=where)
    for attr in event.get("Attribute") or []:
        _misp_attribute(attr, where, out)
    for obj in event.get("Object") or []:
        if not isinstance(obj, dict):
            out.unusable["malformed object"] += 1
            continue
        if _truthy(obj.get("deleted", False)):
            out.unusable["deleted object"] += len(obj.get("Attribute") or []) or 1
            continue
        for attr in obj.get("Attribute") or []:
            _misp_attribute(attr, where, out)


def read_misp_feed(folder: Path) -> SourceRead:
    """Every event the manifest lists; an event file the manifest names but the folder lacks is an error."""
    out = SourceRead("misp-feed")
    manifest = _load_json(folder / "manifest.json")
    if not isinstance(manifest, dict):
        raise FormatError("manifest.json is not a JSON object", file=str(folder / "manifest.json"))
    for uuid in manifest:
        path = folder / f"{uuid}.json"
        if "/" in uuid or "\\" in uuid or uuid.startswith("."):
            raise FormatError("manifest names an event outside the feed", file=str(folder / "manifest.json"))
        if not path.is_file():
            raise FormatError("event listed in manifest.json is missing", file=str(path))
        _misp_event(_load_json(path), str(path), out)
    return out


def read_misp_event(path: Path) -> SourceRead:
    out = SourceRead("misp-event")
    _misp_event(_load_json(path), str(path), out)
    return out


def read_misp_csv(path: Path) -> SourceRead:
    """MISP's CSV export (``uuid,event_id,category,type,value,comment,to_ids,...``) or any CSV with a
    ``value`` column; ``type`` and ``to_ids`` are respected when the header has them."""
    out = SourceRead("misp-csv")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError("CSV is not UTF-8 text", file=str(path)) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    reader.fieldnames = header
    for number, row in enumerate(reader, start=2):
        where = f"{path}:{number}"
        if None in row:
            out.unusable["row with more fields than the header"] += 1
            continue
        attr: dict[str, Any] = {
            "type": (row.get("type") or "ip-dst").strip(),
            "value": row.get("value") or "",
            "to_ids": row.get("to_ids", "1") or "0",
        }
        if "type" not in header:
            # no type column: a plain value list in CSV form; the parser decides what each value is
            attr["type"] = "email" if "@" in attr["value"] else "ip-dst"
        _misp_attribute(attr, where, out)
    return out


def _stix_objects(path: Path) -> Iterator[Any]:
    """Objects of a bundle file, or of one bundle per line (``bundles.jsonl``)."""
    raw = path.read_bytes()
    try:
        docs = [orjson.loads(raw)]
    except orjson.JSONDecodeError:
        docs = []
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                docs.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise FormatError(f"not valid JSON ({exc.msg})", file=str(path), line=number) from None
    for doc in docs:
        if not isinstance(doc, dict):
            raise FormatError("not a STIX bundle", file=str(path))
        if doc.get("type") == "bundle":
            yield from doc.get("objects") or []
        else:
            yield doc


def stix_pattern_values(pattern: str) -> tuple[list[str], str | None]:
    """Values of a simple equality pattern, or ``([], reason)`` for anything else."""
    from stix2patterns.exceptions import ParseException
    from stix2patterns.v21.grammars.STIXPatternListener import STIXPatternListener
    from stix2patterns.v21.pattern import Pattern

    try:
        parsed = Pattern(pattern)
    except ParseException:
        return [], "pattern does not parse"

    class _AndFinder(STIXPatternListener):  # type: ignore[misc]
        found = False

        def enterComparisonExpressionAnd(self, ctx: Any) -> None:  # noqa: N802 (ANTLR's name)
            if ctx.getChildCount() > 1:
                self.found = True

    finder = _AndFinder()
    parsed.walk(finder)
    data = parsed.inspect()
    if finder.found or data.observation_ops - {"OR"}:
        return [], "pattern joins conditions with AND or FOLLOWEDBY"
    if data.qualifiers:
        return [], "pattern has qualifiers"
    values = []
    for sco_type, comparisons in data.comparisons.items():
        if sco_type not in _STIX_TYPES:
            return [], f"pattern compares {sco_type}, not an address"
        for path, op, literal in comparisons:
            if path != ["value"] or op != "=" or not literal.startswith("'"):
                return [], "pattern is not an equality on value"
            values.append(literal[1:-1].replace("\\'", "'").replace("\\\\", "\\"))
    return values, None


def read_stix(path: Path) -> SourceRead:
    """Indicators with ``pattern_type`` ``stix`` and simple equality patterns; revoked ones are counted."""
    out = SourceRead("stix")
    for obj in _stix_objects(path):
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        where = f"{path}"
        if obj.get("revoked") is True:
            out.unusable["revoked indicator"] += 1
            continue
        if obj.get("pattern_type", "stix") != "stix":
            out.unusable[f"pattern type {obj.get('pattern_type')} is not STIX"] += 1
            continue
        pattern = obj.get("pattern")
        if not isinstance(pattern, str):
            out.unusable["indicator without a pattern"] += 1
            continue
        values, reason = stix_pattern_values(pattern)
        if reason is not None:
            out.unusable[reason] += 1
            continue
        out.entries.extend((v, where) for v in values)
    return out


def read_source(path: Path) -> SourceRead | None:
    """The entries of a structured source, or ``None`` for a plain/netset list (the parser reads it)."""
    kind = detect(path)
    if kind == "misp-feed":
        return read_misp_feed(path)
    if kind == "misp-event":
        return read_misp_event(path)
    if kind == "misp-csv":
        return read_misp_csv(path)
    if kind == "stix":
        return read_stix(path)
    return None
