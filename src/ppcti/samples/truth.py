"""The ground-truth file: for every generated entry, what the cleaning stage must make of it.

``ground_truth.jsonl`` holds one JSON object per entry (per data line of a text, CSV or JSON file, per
data row of a spreadsheet), in file order, with one of three ``expect`` values:

* ``"event"``: the normalised event fields (``timestamp``, ``src_ip`` ... ``emails``, ``extra``; absent
  values omitted), plus ``flags`` the cleaner must raise (``malformed_mac``);
* ``"reject"``: with ``reason_kind`` (``no_ip``, ``not_a_record``, ``ambiguous_repair``,
  ``not_an_object``, ``missing_ips``, ``invalid_json``);
* ``"duplicate"``: with ``of_line`` (an earlier line of the same file) and ``kind`` (``exact`` or
  ``normalised``).

Every record also names the defects injected into the entry (``defects``), which is what defect-rate
tests and a reader debugging a parser need; they are informational, not part of the expected output.
Records are serialised with sorted keys so the file is byte-identical for a seed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from ppcti.errors import FormatError
from ppcti.jsonl import iter_jsonl

#: The STIX timestamp form every expected ``timestamp`` matches.
STIX_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?Z$")
#: Lower-case colon MAC form.
MAC_COLON = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")

EXPECT_VALUES = ("event", "reject", "duplicate")
REASON_KINDS = ("no_ip", "not_a_record", "ambiguous_repair", "not_an_object", "missing_ips", "invalid_json")

_DUMP_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


class TruthWriter:
    """Streams ground-truth records to a file and counts them per source file."""

    def __init__(self, handle: IO[bytes] | None, *, holder: str) -> None:
        """``handle=None`` only counts (benchmarks that need the data but not the expectations)."""
        self._handle = handle
        self._holder = holder
        self.counts: dict[str, dict[str, int]] = {}

    def _count(self, source_file: str, expect: str) -> None:
        per_file = self.counts.setdefault(source_file, {"event": 0, "reject": 0, "duplicate": 0})
        per_file[expect] += 1

    def event(
        self,
        fmt: str,
        source_file: str,
        line: int,
        fields: dict[str, Any],
        *,
        defects: Iterable[str] = (),
        flags: Iterable[str] = (),
    ) -> None:
        """An entry that must become this normalised event (``fields`` without ``None`` values)."""
        self._count(source_file, "event")
        if self._handle is None:
            return
        record = {k: v for k, v in fields.items() if v is not None and v != [] and v != {}}
        record.update(expect="event", format=fmt, holder=self._holder, source_file=source_file, line=line)
        if defects:
            record["defects"] = list(defects)
        if flags:
            record["flags"] = list(flags)
        self._handle.write(orjson.dumps(record, option=_DUMP_OPTS))

    def reject(
        self, fmt: str, source_file: str, line: int, reason_kind: str, *, defects: Iterable[str] = ()
    ) -> None:
        """An entry that no cleaning can make usable."""
        assert reason_kind in REASON_KINDS, reason_kind
        self._count(source_file, "reject")
        if self._handle is None:
            return
        record = {
            "expect": "reject",
            "format": fmt,
            "holder": self._holder,
            "source_file": source_file,
            "line": line,
            "reason_kind": reason_kind,
            "defects": list(defects) or [reason_kind],
        }
        self._handle.write(orjson.dumps(record, option=_DUMP_OPTS))

    def duplicate(self, fmt: str, source_file: str, line: int, of_line: int, kind: str) -> None:
        """An entry whose normalised event equals the one at ``of_line`` of the same file."""
        self._count(source_file, "duplicate")
        if self._handle is None:
            return
        record = {
            "expect": "duplicate",
            "format": fmt,
            "holder": self._holder,
            "source_file": source_file,
            "line": line,
            "of_line": of_line,
            "kind": kind,
            "defects": [f"duplicate_{kind}"],
        }
        self._handle.write(orjson.dumps(record, option=_DUMP_OPTS))


class KeyGuard:
    """Keeps distinct entries distinct after normalisation.

    The cleaner removes entries whose normalised event repeats an earlier one, so two *independently*
    generated entries that happen to normalise alike would turn the second into a duplicate the ground
    truth does not know about. Timestamps are non-decreasing within a file and files cover disjoint
    days, so only entries with the same timestamp can collide; the guard remembers just those.
    """

    __slots__ = ("_keys", "_ts")

    def __init__(self) -> None:
        self._ts: object = None
        self._keys: set[object] = set()

    def claim(self, ts: object, key: object) -> bool:
        """True when ``key`` is new for timestamp ``ts`` (and remember it); False on a collision."""
        if ts != self._ts:
            self._ts = ts
            self._keys.clear()
        if key in self._keys:
            return False
        self._keys.add(key)
        return True


def load_ground_truth(path: Path | str) -> list[dict[str, Any]]:
    """Read ``ground_truth.jsonl`` into a list of records, in file order.

    Raises :class:`~ppcti.errors.FormatError` naming the line when a record is not a JSON object with a
    known ``expect`` value.
    """
    path = Path(path)
    records: list[dict[str, Any]] = []
    for number, record in iter_jsonl(path):
        if not isinstance(record, dict) or record.get("expect") not in EXPECT_VALUES:
            raise FormatError("not a ground-truth record", file=str(path), line=number)
        records.append(record)
    return records
