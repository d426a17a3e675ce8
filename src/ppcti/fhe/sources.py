"""Which addresses the holder queries, and where in its CTI each one came from.

Inputs: a run folder (its ``events.jsonl``), ``cti/bundles.jsonl`` (STIX 2.1 bundles, one per line),
an ``events.jsonl`` file, or a plain list of addresses. Attackers are ``src_ip``; victims ``dst_ip`` and
``nat_ip``; e-mail addresses come from ``emails`` and ``extra.sender``/``extra.recipients``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import FormatError, InputRefused
from ppcti.fhe.encoding import canonical_address
from ppcti.jsonl import iter_jsonl

_PATTERN_VALUE = re.compile(r"(ipv4-addr|ipv6-addr|email-addr):value\s*=\s*'((?:[^'\\]|\\.)*)'")
_SCO_TYPES = ("ipv4-addr", "ipv6-addr", "email-addr")


@dataclass(slots=True)
class QueriedAddress:
    kind: str
    value: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    #: The entries already listed, as hashable keys: an address seen on 100,000 lines would otherwise
    #: cost a scan of its list per line (minutes on a 100 MB upload).
    seen: set[tuple[Any, ...]] = field(default_factory=set, repr=False, compare=False)

    def add(self, entry: dict[str, Any]) -> None:
        key = tuple(sorted(entry.items()))
        if key not in self.seen:
            self.seen.add(key)
            self.entries.append(entry)


@dataclass(slots=True)
class CtiSelection:
    """Distinct addresses in first-seen order, plus the STIX bundles file to mark later (if any)."""

    addresses: dict[str, QueriedAddress]
    input_kind: str
    bundles_path: str | None = None

    def add(self, raw: Any, entry: dict[str, Any]) -> None:
        if not isinstance(raw, str):
            return
        found = canonical_address(raw)
        if found is None:
            return
        kind, canon = found
        self.addresses.setdefault(canon, QueriedAddress(kind, canon)).add(entry)


def _first_json(path: Path) -> dict[str, Any] | None:
    with path.open("rb") as fh:
        for raw in fh:
            if raw.strip():
                try:
                    value = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    return None
                return value if isinstance(value, dict) else None
    return None


def _events(path: Path, sel: CtiSelection) -> None:
    for _number, event in iter_jsonl(path, what="a JSON event"):
        src = {"source_file": event.get("source_file"), "line": event.get("line")}
        sel.add(event.get("src_ip"), {**src, "role": "attacker"})
        sel.add(event.get("dst_ip"), {**src, "role": "victim"})
        sel.add(event.get("nat_ip"), {**src, "role": "victim"})
        for email in event.get("emails") or []:
            sel.add(email, {**src, "role": "email"})
        extra = event.get("extra") or {}
        sel.add(extra.get("sender"), {**src, "role": "sender"})
        recipients = extra.get("recipients") or []
        for rcpt in [recipients] if isinstance(recipients, str) else recipients:
            sel.add(rcpt, {**src, "role": "recipient"})


def _bundles(path: Path, sel: CtiSelection) -> None:
    sel.bundles_path = str(path)
    for number, bundle in iter_jsonl(path, what="a JSON STIX bundle"):
        for obj in bundle.get("objects") or []:
            kind = obj.get("type")
            if kind in _SCO_TYPES:
                sel.add(
                    obj.get("value"),
                    {"bundle_line": number, "stix_id": obj.get("id"), "role": "observable"},
                )
            elif kind == "indicator" and obj.get("pattern_type", "stix") == "stix":
                for _, value in _PATTERN_VALUE.findall(obj.get("pattern") or ""):
                    sel.add(
                        value.replace("\\'", "'"),
                        {"bundle_line": number, "stix_id": obj.get("id"), "role": "indicator"},
                    )


def _plain(path: Path, sel: CtiSelection) -> None:
    """One address per line (``#`` starts a comment): a line that is not one is an error with its
    number, as the blacklist parser treats its lists, never silently skipped."""
    try:
        with path.open(encoding="utf-8", errors="strict") as fh:
            for number, raw in enumerate(fh, start=1):
                text = raw.split("#", 1)[0].strip()
                if not text:
                    continue
                if canonical_address(text) is None:
                    raise FormatError("not an IPv4, IPv6 or e-mail address", file=str(path), line=number)
                sel.add(text, {"source_file": path.name, "line": number})
    except UnicodeDecodeError:
        raise FormatError("address list is not UTF-8 text", file=str(path)) from None


def select_addresses(input_path: str | Path) -> CtiSelection:
    """Read any supported CTI input; never loses an address silently (bad JSON raises FormatError).

    An input without a single address is refused: an empty query would only tell the holder "0 found".
    """
    sel = _select(Path(input_path))
    if not sel.addresses:
        raise InputRefused("no IPv4, IPv6 or e-mail address to query", file=str(input_path))
    return sel


def _select(path: Path) -> CtiSelection:
    sel = CtiSelection({}, "list")
    if path.is_dir():
        events = path / "events.jsonl"
        bundles = path / "cti" / "bundles.jsonl"
        if events.is_file():
            sel.input_kind = "run"
            _events(events, sel)
            if bundles.is_file():
                sel.bundles_path = str(bundles)
        elif bundles.is_file() or (path / "bundles.jsonl").is_file():
            sel.input_kind = "bundles"
            _bundles(bundles if bundles.is_file() else path / "bundles.jsonl", sel)
        else:
            raise InputRefused("folder has neither events.jsonl nor cti/bundles.jsonl", file=str(path))
        return sel
    if not path.is_file():
        raise InputRefused("input not found", file=str(path))
    first = _first_json(path) if path.suffix in (".jsonl", ".json", ".ndjson") else None
    if first is not None and first.get("type") == "bundle":
        sel.input_kind = "bundles"
        _bundles(path, sel)
    elif first is not None:
        sel.input_kind = "events"
        _events(path, sel)
    else:
        _plain(path, sel)
    return sel
