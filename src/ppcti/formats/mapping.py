"""Declarative field mappings for JSON event feeds.

A mapping (a YAML file in ``mappings/`` or given by the user) lists, for each event field, the paths
that may hold it, first match wins. A path is dotted (``alert.signature``); a key that itself contains
dots (Zeek's ``id.orig_h``) is matched literally first. ``signature`` names the keys that identify the
shape; each record goes to the mapping whose signature it matches best.
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

FIELDS = ("timestamp", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "src_mac", "emails")
EXTRA_FIELDS = ("event_type", "signature", "category", "severity", "action", "dst_mac", "app_proto", "uid")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Mapping:
    name: str
    signature: tuple[str, ...]
    fields: dict[str, tuple[str, ...]]
    extra: dict[str, tuple[str, ...]]

    def match_score(self, record: dict[str, Any]) -> float:
        """Share of signature paths present in ``record``."""
        found = sum(1 for path in self.signature if lookup(record, path) is not _MISSING)
        return found / len(self.signature)

    def flat_score(self, keys: frozenset[str]) -> float:
        """:meth:`match_score` for a record already flattened by :func:`flatten` (``keys`` are its paths)."""
        return sum(1 for path in self.signature if path in keys) / len(self.signature)

    def flat_first(self, flat: dict[str, Any], field: str, *, extra: bool = False) -> Any:
        """:meth:`first` on a flattened record: one dictionary look-up per candidate path."""
        for path in (self.extra if extra else self.fields).get(field, ()):
            value = flat.get(path)
            if value is not None and value != "":
                return value
        return None

    def flat_all(self, flat: dict[str, Any], field: str) -> list[Any]:
        out: list[Any] = []
        for path in self.fields.get(field, ()):
            value = flat.get(path)
            if value is not None:
                out.extend(value if isinstance(value, list) else [value])
        return out

    def first(self, record: dict[str, Any], field: str, *, extra: bool = False) -> Any:
        for path in (self.extra if extra else self.fields).get(field, ()):
            value = lookup(record, path)
            if value is not _MISSING and value is not None and value != "":
                return value
        return None

    def all_values(self, record: dict[str, Any], field: str) -> list[Any]:
        out: list[Any] = []
        for path in self.fields.get(field, ()):
            value = lookup(record, path)
            if value is _MISSING or value is None:
                continue
            out.extend(value if isinstance(value, list) else [value])
        return out


def lookup(record: dict[str, Any], path: str) -> Any:
    """The value at ``path``; literal dotted keys win over nesting. ``_MISSING`` when absent."""
    if path in record:
        return record[path]
    node: Any = record
    parts = path.split(".")
    i = 0
    while i < len(parts):
        if not isinstance(node, dict):
            return _MISSING
        # allow partially flattened keys: {"id": {"orig_h": ..}} and {"id.orig_h": ..}
        for j in range(len(parts), i, -1):
            key = ".".join(parts[i:j])
            if key in node:
                node = node[key]
                i = j
                break
        else:
            return _MISSING
    return node


def flatten(record: dict[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested objects to dotted paths (``{"source": {"ip": x}}`` → ``{"source.ip": x}``).

    Feeds are matched and read through their flattened form: one pass per record instead of a walk per
    candidate path, which is what keeps JSON parsing out of the profile.
    """
    if out is None:
        out = {}
    for key, value in record.items():
        path = prefix + key
        if isinstance(value, dict) and value:
            out[path] = value
            flatten(value, path + ".", out)
        else:
            out[path] = value
    return out


def load_mapping(path: Path | str, text: str | None = None) -> Mapping:
    try:
        data = yaml.safe_load(text if text is not None else Path(path).read_text(encoding="utf-8"))
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
