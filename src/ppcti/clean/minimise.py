"""Feature minimisation: a profile names the fields kept downstream; the rest is dropped early.

Dropping happens before any later stage (PII, STIX, analysis, Kafka) sees an event, so a field that is
not needed for threat intelligence never leaves the cleaning stage. The default profile keeps the network
features and the e-mail addresses but drops free text such as subjects, which often carries personal
data and rarely helps correlation; the ``full`` profile keeps everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ppcti.errors import ConfigError
from ppcti.model import EVENT_FIELDS

#: Fields every event keeps whatever the profile says: without them an event cannot be traced back.
REQUIRED_FIELDS = frozenset({"holder", "format", "source_file", "line"})


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    fields: frozenset[str]
    extra: frozenset[str] | None  # None keeps every extra key

    def keeps_extra(self, key: str) -> bool:
        return self.extra is None or key in self.extra


BUILTIN_PROFILES: dict[str, Profile] = {
    "default": Profile(
        "default",
        frozenset(EVENT_FIELDS),
        frozenset(
            {
                "sender",
                "recipients",
                "verdict",
                "event_type",
                "signature",
                "category",
                "severity",
                "action",
                "dst_mac",
                "tcp_flags",
                "chain",
                "prefix",
                "icmp",
                "host",
                "mac_malformed",
                "mapping",
                "app_proto",
                "repaired",
                # HTTP request parts: attack classification reads them in the run folder; what leaves it
                # (STIX, insights) carries masked evidence only
                "url",
                "http_method",
                "user_agent",
            }
        ),
    ),
    "full": Profile("full", frozenset(EVENT_FIELDS), None),
    "network": Profile(
        "network",
        frozenset(EVENT_FIELDS) - {"emails"},
        frozenset({"event_type", "signature", "tcp_flags", "chain", "icmp"}),
    ),
}


def load_profile(spec: str | Path | None) -> Profile:
    """A built-in profile by name, or a YAML file ``{name, fields: [...], extra: [...]}``."""
    if spec is None:
        return BUILTIN_PROFILES["default"]
    if isinstance(spec, str) and spec in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[spec]
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(
            f"unknown profile {str(spec)!r}: use one of {sorted(BUILTIN_PROFILES)} or a YAML file"
        )
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        # the parser's message quotes the offending line: only its position is reported
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"profile is not valid YAML{where}", file=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
        raise ConfigError("profile needs a list 'fields'", file=str(path))
    if not all(isinstance(f, str) for f in data["fields"]):
        raise ConfigError("profile 'fields' must be a list of field names", file=str(path))
    extra = data.get("extra")
    if extra is not None and (
        not isinstance(extra, list) or not all(isinstance(k, str | int | float) for k in extra)
    ):
        raise ConfigError("profile 'extra' must be a list of key names", file=str(path))
    unknown = set(data["fields"]) - set(EVENT_FIELDS)
    if unknown:
        raise ConfigError(f"profile names unknown fields {sorted(unknown)}", file=str(path))
    return Profile(
        str(data.get("name", path.stem)),
        frozenset(data["fields"]) | REQUIRED_FIELDS,
        None if extra is None else frozenset(str(k) for k in extra),
    )
