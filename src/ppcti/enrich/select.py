"""Which indicators may be sent: attacker-side, public, routable values only.

The candidates are the indicators of the run's ``cti/aggregate.json`` (one per attacking address or
e-mail sender). A value is held back, with the reason counted, when it is

* not a well-formed IPv4 address or e-mail address (``invalid``);
* private, reserved, documentation, multicast or another bogon range (:func:`netclass.bogon_range`);
* the holder's own infrastructure (``infrastructure.json``: its attacked addresses, mailboxes and mail
  domains) — attacker-side by pattern, but one of the holder's machines all the same;
* on a MISP warninglist (:class:`~ppcti.enrich.warninglists.WarninglistIndex`).

Only what survives all four reaches a service.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ppcti.analysis.netclass import bogon_range
from ppcti.enrich.model import Indicator
from ppcti.enrich.warninglists import WarninglistIndex
from ppcti.errors import InputRefused
from ppcti.stix.build import pattern_value
from ppcti.stix.ids import value_sco_id

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_KINDS = {"ipv4-addr": "ipv4", "email-addr": "email"}


@dataclass(slots=True)
class Selection:
    """The indicators to send, and how many were held back for which reason."""

    sendable: list[Indicator] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)
    candidates: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates,
            "sendable": len(self.sendable),
            "excluded": dict(sorted(self.excluded.items())),
        }


def read_indicators(aggregate: Path) -> tuple[list[Indicator], dict[str, Any]]:
    """IPv4 and e-mail indicators of an aggregate bundle, and the bundle itself."""
    if not aggregate.is_file():
        raise InputRefused("no cti/aggregate.json: run 'ppcti cti' or 'ppcti run' first", file=str(aggregate))
    try:
        bundle = orjson.loads(aggregate.read_bytes())
    except orjson.JSONDecodeError:
        raise InputRefused("not valid JSON", file=str(aggregate)) from None
    if not isinstance(bundle, dict) or not isinstance(bundle.get("objects"), list):
        raise InputRefused("not a STIX bundle", file=str(aggregate))
    found: dict[str, Indicator] = {}
    for obj in bundle["objects"]:
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        single = pattern_value(str(obj.get("pattern", "")))
        if single is None or single[0] not in _KINDS:
            continue
        sco_type, value = single
        if value not in found:
            found[value] = Indicator(
                value=value,
                kind=_KINDS[sco_type],  # type: ignore[arg-type]
                indicator_id=obj.get("id"),
                sco_id=value_sco_id(sco_type, value),
            )
    return list(found.values()), bundle


def read_infrastructure(path: Path) -> tuple[set[str], set[str]]:
    """(values, e-mail domains) of the holder's own infrastructure; empty when the file is absent."""
    if not path.is_file():
        return set(), set()
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        raise InputRefused("not valid JSON", file=str(path)) from None
    values: set[str] = set()
    domains: set[str] = set()
    holders = data.get("holders") if isinstance(data, dict) else None
    for holder in (holders or {}).values():
        if not isinstance(holder, dict):
            continue
        for key in ("ips", "emails"):
            for entry in holder.get(key) or ():
                address = entry.get("address") if isinstance(entry, dict) else entry
                if isinstance(address, str):
                    values.add(address.lower())
        domains.update(str(d).lower() for d in holder.get("internal_email_domains") or ())
    return values, domains


def select(
    indicators: Iterable[Indicator],
    warninglists: WarninglistIndex,
    *,
    own_values: Collection[str] = frozenset(),
    own_domains: Collection[str] = frozenset(),
) -> Selection:
    """Split ``indicators`` into those that may be sent and counted reasons for the rest."""
    selection = Selection()
    ips: list[Indicator] = []
    for indicator in indicators:
        selection.candidates += 1
        value = indicator.value
        if indicator.kind == "ipv4":
            label = bogon_range(value)
            if label is None and value.count(".") != 3:
                label = "invalid"
            if label is not None:
                selection.excluded[_reason(label)] += 1
            elif value.lower() in own_values:
                selection.excluded["infrastructure"] += 1
            else:
                ips.append(indicator)
        else:
            lowered = value.lower()
            domain = lowered.rpartition("@")[2]
            if not _EMAIL.match(value):
                selection.excluded["invalid"] += 1
            elif lowered in own_values or domain in own_domains:
                selection.excluded["infrastructure"] += 1
            elif warninglists.email_listed(value):
                selection.excluded["warninglist"] += 1
            else:
                selection.sendable.append(indicator)
    listed = warninglists.contains_ipv4([i.value for i in ips])
    for indicator, on_list in zip(ips, listed, strict=True):
        if on_list:
            selection.excluded["warninglist"] += 1
        else:
            selection.sendable.append(indicator)
    return selection


def _reason(label: str) -> str:
    if label == "documentation":
        return "documentation"
    if label == "invalid":
        return "invalid"
    if label in ("rfc1918", "cgnat", "ula", "link-local", "loopback", "site-local"):
        return "private"
    return "reserved"
