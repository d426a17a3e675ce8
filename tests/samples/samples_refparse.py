"""An independent, deliberately plain reading of the sample files by the documented rules.

The generator derives its ground truth from the values it draws; this module derives the expected
events from the *written files* using only the rules in docs/samples.md. The two agreeing on every
entry is what shows the ground truth is right (and the defects are repairable as documented). It shares
no code with ``ppcti.samples``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from ppcti.samples import load_ground_truth

MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
CONFIG = {"timezone": "UTC", "year": 2023, "date_for_time_only": "2023-03-07"}

_IP = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
_MAC = re.compile(r"(?<![0-9A-Fa-f:])([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})(?![0-9A-Fa-f:])")
_SRC_MAC = re.compile(r"src-mac ([^,\s]+)")
_PROTO = re.compile(r"proto ([^\s(,]+)")
_HEADERS = (
    ("routeros", re.compile(r"^([A-Z][a-z]{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2}) ")),
    (
        "rfc3339",
        re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2}:\d{2}|Z) (\S+) "),
    ),
    ("bsd", re.compile(r"^<\d+>([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([A-Za-z][\w.-]*) ")),
    ("time", re.compile(r"^(\d{2}):(\d{2}):(\d{2}) ")),
)


def _stix(moment: datetime, fraction: str = "") -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def firewall_entry(line: str) -> dict[str, Any] | str:
    """The expected event of one firewall line, or the reject reason kind."""
    fields: dict[str, Any] = {}
    for style, pattern in _HEADERS:
        m = pattern.match(line)
        if not m:
            continue
        g = m.groups()
        if style == "routeros":
            moment = datetime(int(g[2]), MONTHS[g[0]], int(g[1]), int(g[3]), int(g[4]), int(g[5]), tzinfo=UTC)
            fields["timestamp"] = _stix(moment)
        elif style == "rfc3339":
            moment = datetime.fromisoformat(g[0] + g[2])
            fields["timestamp"] = _stix(moment, (g[1] or ".")[1:])
        elif style == "bsd":
            moment = datetime(
                CONFIG["year"], MONTHS[g[0]], int(g[1]), int(g[2]), int(g[3]), int(g[4]), tzinfo=UTC
            )
            fields["timestamp"] = _stix(moment)
        else:
            day = datetime.fromisoformat(CONFIG["date_for_time_only"]).replace(tzinfo=UTC)
            fields["timestamp"] = _stix(
                day + timedelta(hours=int(g[0]), minutes=int(g[1]), seconds=int(g[2]))
            )
        line = line[m.end() :]
        break
    ips = list(_IP.finditer(line))
    if not ips:
        return "no_ip"
    for key, port_key, match in (
        ("src_ip", "src_port", ips[0]),
        ("dst_ip", "dst_port", ips[1] if len(ips) > 1 else None),
    ):
        if match is None:
            continue
        fields[key] = match.group(1)
        port = re.match(r":(\d+)", line[match.end() :])
        if port:
            fields[port_key] = int(port.group(1))
    if len(ips) > 2:
        fields["nat_ip"] = ips[-1].group(1)
    proto = _PROTO.search(line)
    if proto:
        fields["protocol"] = proto.group(1).upper()
    mac = _MAC.search(line)
    if mac:
        fields["src_mac"] = mac.group(1).lower()
    declared = _SRC_MAC.search(line)
    if declared and not _MAC.fullmatch(declared.group(1)):
        fields["flags"] = ["malformed_mac"]
    return fields


# --- e-mail ---------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_MERGED = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}|\d{2}/\d{2}/\d{4} \d{2}:\d{2})([A-Za-z].*)$")
HEADER = ["date", "sender", "recipients", "subject", "verdict", "size"]


def clean_email(text: str) -> str | None:
    text = text.strip()
    for lead in ("<-", "<", "'", '"'):
        if text.startswith(lead):
            text = text[len(lead) :]
    text = text.rstrip(">'\";.,")
    if not _EMAIL.match(text):
        return None
    local, domain = text.split("@")
    return f"{local}@{domain.lower()}"


def _email_time(text: str) -> str:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"):
        try:
            return _stix(datetime.strptime(text, fmt).replace(tzinfo=UTC))
        except ValueError:
            pass
    return _stix(parsedate_to_datetime(text))


def _addresses(field: str) -> list[str] | None:
    out = []
    for part in field.split(";"):
        if not part.strip():
            continue
        cleaned = clean_email(part)
        if cleaned is None:
            return None
        out.append(cleaned)
    return out or None


def email_entry(row: list[Any]) -> dict[str, Any] | str:
    """The expected event of one CSV/XLSX row, or the reject reason kind."""
    when = row[0] if row else None
    cells = [("" if c is None else str(c)) for c in row]
    while cells and cells[-1] == "":
        cells.pop()
    if [c.strip().lower() for c in cells] == HEADER or len(cells) < 3:
        return "not_a_record"
    if len(cells) < len(HEADER):
        m = _MERGED.match(cells[0])
        if not m:
            return "ambiguous_repair"
        cells = [m.group(1), m.group(2), *cells[1:]]
        when = m.group(1)
    sender = clean_email(cells[1])
    if sender is None:
        return "ambiguous_repair"
    recipients: list[str] = []
    index = 2
    while index < len(cells) - 3:
        found = _addresses(cells[index])
        if found is None:
            break
        recipients.extend(found)
        index += 1
    subject = ",".join(cells[index:-2])
    timestamp = _stix(when.replace(tzinfo=UTC)) if isinstance(when, datetime) else _email_time(cells[0])
    emails = list(dict.fromkeys([sender, *recipients]))
    return {
        "timestamp": timestamp,
        "protocol": "SMTP",
        "emails": emails,
        "extra": {"sender": sender, "recipients": recipients, "subject": subject, "verdict": cells[-2]},
    }


def csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    for row in reader:
        rows.append((reader.line_num, row))
    return rows[1:]


def xlsx_rows(path: Path) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    rows = [(n, list(r)) for n, r in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1)]
    wb.close()
    return rows[1:]


# --- JSON -----------------------------------------------------------------------------------------------


def _mac(text: str | None) -> str | None:
    if text is None:
        return None
    bare = re.sub(r"[-:.]", "", text).lower()
    assert re.fullmatch(r"[0-9a-f]{12}", bare), text
    return ":".join(bare[i : i + 2] for i in range(0, 12, 2))


def json_entry(raw: str) -> dict[str, Any] | str:
    """The expected event of one JSON element/line, or the reject reason kind."""
    try:
        record = json.loads(raw)
    except json.JSONDecodeError:
        return "invalid_json"
    if not isinstance(record, dict):
        return "not_an_object"
    if "event_type" in record:  # Suricata EVE
        if "src_ip" not in record and "dest_ip" not in record:
            return "missing_ips"
        ts = record["timestamp"]
        frac = ts.split(".")[1][:6] if "." in ts else ""
        fields = {
            "timestamp": _stix(datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z"), frac),
            "src_ip": record.get("src_ip"),
            "src_port": record.get("src_port"),
            "dst_ip": record.get("dest_ip"),
            "dst_port": record.get("dest_port"),
            "protocol": record.get("proto", "").upper() or None,
            "src_mac": _mac(record.get("ether", {}).get("src_mac")),
        }
        extra = {
            "event_type": record["event_type"],
            "signature": record.get("alert", {}).get("signature"),
            "dst_mac": _mac(record.get("ether", {}).get("dest_mac")),
        }
    elif "@timestamp" in record:  # Elastic Common Schema
        source, destination = record.get("source", {}), record.get("destination", {})
        if "ip" not in source and "ip" not in destination:
            return "missing_ips"
        ts = record["@timestamp"]
        frac = ts.rstrip("Z").split(".")[1] if "." in ts else ""
        fields = {
            "timestamp": _stix(datetime.fromisoformat(ts), frac),
            "src_ip": source.get("ip"),
            "src_port": source.get("port"),
            "dst_ip": destination.get("ip"),
            "dst_port": destination.get("port"),
            "protocol": record.get("network", {}).get("transport", "").upper() or None,
            "src_mac": _mac(source.get("mac")),
        }
        extra = {"event_type": record.get("event", {}).get("action"), "dst_mac": _mac(destination.get("mac"))}
    else:  # Zeek conn
        if "id.orig_h" not in record and "id.resp_h" not in record:
            return "missing_ips"
        ts = Decimal(repr(record["ts"]))
        frac = repr(record["ts"]).split(".")[1] if "." in repr(record["ts"]) else ""
        moment = datetime.fromtimestamp(int(ts), UTC)
        fields = {
            "timestamp": _stix(moment, frac),
            "src_ip": record["id.orig_h"],
            "src_port": record["id.orig_p"],
            "dst_ip": record["id.resp_h"],
            "dst_port": record["id.resp_p"],
            "protocol": record["proto"].upper(),
        }
        extra = {}
    fields["extra"] = {k: v for k, v in extra.items() if v is not None}
    return {k: v for k, v in fields.items() if v not in (None, {}, [])}


def json_items(path: Path) -> list[tuple[int, str]]:
    """``(line, raw element)``: NDJSON lines, or array elements written one per physical line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not path.name.endswith(".json"):
        return list(enumerate(lines, start=1))
    items = []
    for number, line in enumerate(lines, start=1):
        text = line
        if number == 1:
            assert text.startswith("[")
            text = text[1:]
        text = text[:-1] if text.endswith(",") or number == len(lines) else text
        items.append((number, text))
    whole = json.loads("\n".join(lines))
    assert [json.loads(t) for _, t in items] == whole
    return items


# --- agreement with the ground truth ---------------------------------------------------------------------

_META = {"expect", "format", "holder", "source_file", "line", "defects"}


def reference_entries(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    """``(line, expected event or reject kind)`` for every entry of one file, by the reference reader."""
    if path.suffix in (".log", ".txt"):
        lines = path.read_text(encoding="utf-8").split("\n")
        assert lines[-1] == ""
        return [(n, firewall_entry(text)) for n, text in enumerate(lines[:-1], start=1)]
    if path.suffix == ".csv":
        return [(n, email_entry(row)) for n, row in csv_rows(path)]
    if path.suffix == ".xlsx":
        return [(n, email_entry(row)) for n, row in xlsx_rows(path)]
    return [(n, json_entry(raw)) for n, raw in json_items(path)]


def check_against_reference(result: Any) -> None:
    truth = load_ground_truth(result.ground_truth)
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in truth:
        by_file[record["source_file"]].append(record)
    assert set(by_file) == {f.name for f in result.files}
    seen: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)  # format -> event key -> first entry
    for item in result.files:
        records = by_file[item.name]
        entries = reference_entries(item.path)
        # Exactly one ground-truth record per entry, in order.
        assert [r["line"] for r in records] == [n for n, _ in entries], item.name
        first_events: dict[int, str] = {}
        for record, (line, expected) in zip(records, entries, strict=True):
            where = f"{item.name}:{line}"
            if record["expect"] == "reject":
                assert expected == record["reason_kind"], where
                continue
            assert isinstance(expected, dict), (where, expected)
            key = json.dumps(expected, sort_keys=True)
            if record["expect"] == "duplicate":
                assert first_events[record["of_line"]] == key, where
                assert seen[item.format][key] == (item.name, record["of_line"]), where
                continue
            got = {k: v for k, v in record.items() if k not in _META}
            assert got == expected, where
            # Independently generated entries never normalise alike (else the cleaner would drop them).
            assert key not in seen[item.format], (where, seen[item.format].get(key))
            seen[item.format][key] = (item.name, line)
            first_events[line] = key
