"""Declarative field mappings for JSON event feeds.

A mapping (a YAML file in ``mappings/`` or given by the user) lists, for each event field, the paths
that may hold it, first match wins. A path is dotted (``alert.signature``); a key that itself contains
dots (Zeek's ``id.orig_h``) wins over the same path reached by nesting. Records are flattened once
(:func:`flatten`) and read by path. ``signature`` names the keys that identify the shape; each record
goes to the mapping whose signature it matches best.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ppcti.errors import ConfigError

#: libyaml's loader where PyYAML has it: the built-in mappings load at the start of every run that reads
#: JSON, and the pure-Python loader took 50 ms of it.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FIELDS = ("timestamp", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "src_mac", "emails")
EXTRA_FIELDS = (
    "event_type",
    "signature",
    "category",
    "severity",
    "action",
    "dst_mac",
    "app_proto",
    "uid",
    "url",
    "http_method",
    "user_agent",
)


@dataclass(frozen=True, slots=True)
class Mapping:
    name: str
    signature: tuple[str, ...]
    fields: dict[str, tuple[str, ...]]
    extra: dict[str, tuple[str, ...]]

    def score(self, keys: frozenset[str]) -> float:
        """Share of signature paths among ``keys``, the paths of a record flattened by :func:`flatten`."""
        return sum(1 for path in self.signature if path in keys) / len(self.signature)

    def first(self, flat: dict[str, Any], field: str, *, extra: bool = False) -> Any:
        """The first non-empty value of ``field`` in a flattened record: one look-up per candidate path."""
        for path in (self.extra if extra else self.fields).get(field, ()):
            value = flat.get(path)
            if value is not None and value != "":
                return value
        return None

    def values(self, flat: dict[str, Any], field: str) -> list[Any]:
        """Every value of ``field`` in a flattened record, lists spread out."""
        out: list[Any] = []
        for path in self.fields.get(field, ()):
            value = flat.get(path)
            if value is not None:
                out.extend(value if isinstance(value, list) else [value])
        return out


def flatten(record: dict[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested objects to dotted paths (``{"source": {"ip": x}}`` → ``{"source.ip": x}``).

    Feeds are matched and read through their flattened form: one pass per record instead of a walk per
    candidate path, which is what keeps JSON parsing out of the profile.
    """
    if out is None:
        out = {}
    for key, value in record.items():
        path = prefix + key
        # a key written with dots (Zeek's "id.orig_h") wins over the same path reached by nesting
        if "." in key or path not in out:
            out[path] = value
        if isinstance(value, dict) and value:
            flatten(value, path + ".", out)
    return out


def load_mapping(path: Path | str, text: str | None = None) -> Mapping:
    try:
        data = yaml.load(
            text if text is not None else Path(path).read_text(encoding="utf-8"), Loader=_YAML_LOADER
        )
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read mapping: {exc}", file=str(path)) from exc
    if not isinstance(data, dict) or "name" not in data or "fields" not in data:
        raise ConfigError("a mapping needs 'name' and 'fields'", file=str(path))
    fields = {k: tuple(_paths(v)) for k, v in (data.get("fields") or {}).items()}
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ConfigError(f"mapping names unknown fields {sorted(unknown)}", file=str(path))
    extra = {k: tuple(_paths(v)) for k, v in (data.get("extra") or {}).items()}
    signature = tuple(_paths(data.get("signature") or []))
    if not signature:
        raise ConfigError("a mapping needs a non-empty 'signature'", file=str(path))
    return Mapping(str(data["name"]), signature, fields, extra)


def _paths(value: Any) -> Sequence[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ConfigError(f"paths must be a string or a list of strings, not {type(value).__name__}")


@cache
def builtin_mappings() -> tuple[Mapping, ...]:
    """The shipped mappings: Suricata EVE, Elastic Common Schema, Zeek."""
    folder = resources.files("ppcti.formats") / "mappings"
    return tuple(
        load_mapping(entry.name, entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    )
