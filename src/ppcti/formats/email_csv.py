"""``email-csv``: e-mail security exports (CSV, TSV, or the same as an XLSX sheet).

Rows hold a date, a sender, a variable number of recipients, a subject and a verdict, in whatever order
and under whatever names the exporting product chose; column roles come from the header. Sender and
recipients cannot always be told apart by position (address lists spill into extra columns), so
``emails`` lists every address of the row in order, and ``extra.sender`` / ``extra.recipients`` are set
from the columns. Rows whose field count is off are repaired by :mod:`ppcti.clean.repair` when exactly
one reading exists, and rejected with the reason otherwise.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import polars as pl

from ppcti.clean.emails import clean_email
from ppcti.clean.repair import Role, addresses_in, fits, read_row
from ppcti.clean.timestamps import TimeContext, to_stix_timestamp
from ppcti.formats.base import BATCH_COLUMNS, ParsedBatch, ParseOptions
from ppcti.formats.events_json import canonical_ip
from ppcti.model import Reject

if TYPE_CHECKING:
    from ppcti.ingest import SourceFile

EXTRA_TYPE = pl.Struct(
    {
        "sender": pl.String(),
        "recipients": pl.List(pl.String()),
        "subject": pl.String(),
        "verdict": pl.String(),
        "repaired": pl.String(),
    }
)
_BATCH_ROWS = 50_000

#: Normalised header names (lower-case, letters and digits only) and the role they give a column.
HEADER_ROLES: dict[str, tuple[str, Role]] = {}
for _names, _key, _role in (
    (
        (
            "date",
            "time",
            "datetime",
            "timestamp",
            "received",
            "receivedtime",
            "receiveddate",
            "sent",
            "senttime",
            "datesent",
            "datereceived",
            "timestamputc",
            "logtime",
            "eventtime",
        ),
        "date",
        Role.DATE,
    ),
    (
        ("sender", "from", "mailfrom", "envelopefrom", "senderaddress", "fromaddress", "sendermail"),
        "sender",
        Role.ADDRESS,
    ),
    (
        (
            "recipients",
            "recipient",
            "to",
            "rcpt",
            "rcptto",
            "recipientaddress",
            "toaddress",
            "envelopeto",
            "recipientaddresses",
        ),
        "recipients",
        Role.ADDRESSES,
    ),
    (("cc", "bcc"), "cc", Role.ADDRESSES),
    (("subject", "title", "mailsubject"), "subject", Role.TEXT),
    (
        (
            "verdict",
            "action",
            "disposition",
            "status",
            "result",
            "classification",
            "threat",
            "threattype",
            "deliveryaction",
            "filteraction",
        ),
        "verdict",
        Role.TOKEN,
    ),
    (("senderip", "clientip", "sourceip", "srcip", "ip", "connectingip", "originatingip"), "src_ip", Role.IP),
):
    for _name in _names:
        HEADER_ROLES[_name] = (_key, _role)


def normalise_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.strip().lstrip("\ufeff").lower())


class EmailCsv:
    name = "email-csv"
    description = (
        "E-mail security exports (CSV/TSV/XLSX) with dates, senders, recipients, subjects, verdicts."
    )
    kinds = frozenset({"csv", "xlsx"})

    def cleaned_name(self, source: SourceFile) -> str:
        path = PurePosixPath(source.path)
        return str(path.with_suffix(".csv")) if source.kind == "xlsx" else source.path

    def score(self, source: SourceFile, sample: str) -> float:
        lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
        if not lines:
            return 0.0
        delimiter = getattr(getattr(source, "csv_dialect", None), "delimiter", None) or ","
        header = next(csv.reader([lines[0]], delimiter=delimiter), [])
        keys = {HEADER_ROLES[h][0] for h in map(normalise_header, header) if h in HEADER_ROLES}
        header_score = 0.5 * bool({"sender", "recipients"} & keys) + 0.2 * ("date" in keys)
        rows = lines[1:] or lines
        with_address = sum(1 for ln in rows if "@" in ln) / len(rows)
        return round(min(1.0, header_score + 0.3 * with_address), 3)

    def parse(self, source: SourceFile, options: ParseOptions) -> Iterator[ParsedBatch]:
        rows = _xlsx_rows(source) if source.kind == "xlsx" else _csv_rows(source)
        delimiter = "," if source.kind == "xlsx" else _dialect(source)[0]
        header: list[str] | None = None
        builder: _Rows | None = None
        pending_rejects: list[Reject] = []
        for line, fields in rows:
            if header is None:
                if not any(f.strip() for f in fields):
                    continue
                header = fields
                builder = _Rows(source.path, header, delimiter, options.time)
                builder.rejects.extend(pending_rejects)
                continue
            assert builder is not None
            builder.add(line, fields)
            if builder.size >= _BATCH_ROWS:
                yield builder.flush()
        if builder is None:
            yield ParsedBatch(events=_empty(), rejects=[Reject(source.path, None, "no header row", "")])
            return
        yield builder.flush()


def _dialect(source: SourceFile) -> tuple[str, str]:
    dialect = getattr(source, "csv_dialect", None)
    return (getattr(dialect, "delimiter", ",") or ","), (getattr(dialect, "quotechar", '"') or '"')


def _csv_rows(source: SourceFile) -> Iterator[tuple[int, list[str]]]:
    delimiter, quotechar = _dialect(source)
    encoding = source.encoding or "utf-8"
    with open(source.local_path, encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quotechar=quotechar, strict=False)
        start = 1
        try:
            for fields in reader:
                yield start, fields
                start = reader.line_num + 1
        except csv.Error:
            return


def _xlsx_rows(source: SourceFile) -> Iterator[tuple[int, list[str]]]:
    for _sheet, row, values in source.iter_xlsx_rows():
        yield row, [_cell(v) for v in values]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={**BATCH_COLUMNS, "extra": EXTRA_TYPE, "raw": pl.String(), "cleaned": pl.String()}
    )


class _Rows:
    """Accumulates parsed rows of one file."""

    def __init__(self, path: str, header: Sequence[str], delimiter: str, time: TimeContext) -> None:
        self.path = path
        self.header = list(header)
        self.delimiter = delimiter
        self.time = time
        self.keys = [HEADER_ROLES.get(normalise_header(h), (None, Role.TEXT))[0] for h in header]
        self.roles = [HEADER_ROLES.get(normalise_header(h), (None, Role.TOKEN))[1] for h in header]
        self.rows: list[tuple[object, ...]] = []
        self.rejects: list[Reject] = []
        self.notes: Counter[str] = Counter()
        self.cleaned_header = _csv_line(self.header, delimiter)

    @property
    def size(self) -> int:
        return len(self.rows)

    def add(self, line: int, fields: list[str]) -> None:
        raw = _csv_line(fields, self.delimiter)
        if not any(f.strip() for f in fields):
            self.notes["blank_lines"] += 1
            return
        readings = read_row(fields, self.roles, self.delimiter, self.time)
        if not readings:
            self.rejects.append(self._misfit(line, fields, raw))
            return
        if len(readings) > 1:
            self.rejects.append(
                Reject(
                    self.path,
                    line,
                    f"{len(fields)} fields where the header has {len(self.header)}, "
                    "and the repair is ambiguous",
                    raw,
                    "repair",
                )
            )
            return
        reading = readings[0]
        if reading.repair:
            self.notes[f"repaired_{reading.repair}"] += 1
        values = dict.fromkeys(("date", "sender", "recipients", "cc", "subject", "verdict", "src_ip"))
        emails: dict[str, None] = {}
        recipients: list[str] = []
        sender = None
        for key, role, value in zip(self.keys, self.roles, reading.values, strict=True):
            if role is Role.ADDRESS:
                address = clean_email(value)
                if address:
                    emails.setdefault(address)
                    if key == "sender" and sender is None:
                        sender = address
            elif role is Role.ADDRESSES:
                for address in addresses_in(value) or []:
                    emails.setdefault(address)
                    if key == "recipients":
                        recipients.append(address)
            elif key is not None and values.get(key) is None:
                values[key] = value.strip() or None
        timestamp = to_stix_timestamp(values["date"], self.time) if values["date"] else None
        if timestamp is None:
            reason = "no date column" if "date" not in self.keys else "invalid or missing date"
            self.rejects.append(Reject(self.path, line, reason, raw))
            return
        if not emails:
            self.rejects.append(Reject(self.path, line, "no e-mail address", raw))
            return
        cleaned = [
            self._cleaned_value(role, value, timestamp)
            for role, value in zip(self.roles, reading.values, strict=True)
        ]
        self.rows.append(
            (
                line,
                timestamp,
                canonical_ip(values["src_ip"]) if values["src_ip"] else None,
                None,
                None,
                None,
                None,
                "SMTP",
                None,
                list(emails),
                {
                    "sender": sender,
                    "recipients": list(dict.fromkeys(recipients)) or None,
                    "subject": values["subject"],
                    "verdict": values["verdict"],
                    "repaired": reading.repair,
                },
                raw,
                _csv_line(cleaned, self.delimiter),
            )
        )

    def _misfit(self, line: int, fields: list[str], raw: str) -> Reject:
        """Why a row has no reading: the first column whose value has the wrong type, or the field count."""
        if len(fields) == len(self.header):
            for name, role, value in zip(self.header, self.roles, fields, strict=True):
                if not fits(role, value, self.time):
                    what = "date" if role is Role.DATE else role.value
                    return Reject(self.path, line, f"column {name!r} does not hold a valid {what}", raw)
        return Reject(
            self.path,
            line,
            f"{len(fields)} fields where the header has {len(self.header)}, and no repair fits the columns",
            raw,
            "repair",
        )

    @staticmethod
    def _cleaned_value(role: Role, value: str, timestamp: str) -> str:
        if role is Role.DATE:
            return timestamp
        if role is Role.ADDRESS:
            return clean_email(value) or ""
        if role is Role.ADDRESSES:
            return ";".join(addresses_in(value) or [])
        return value

    def flush(self) -> ParsedBatch:
        names = [*BATCH_COLUMNS, "extra", "raw", "cleaned"]
        columns = list(zip(*self.rows, strict=True)) if self.rows else [[] for _ in names]
        frame = pl.DataFrame(
            {n: list(c) for n, c in zip(names, columns, strict=True)},
            schema={**BATCH_COLUMNS, "extra": EXTRA_TYPE, "raw": pl.String(), "cleaned": pl.String()},
        )
        batch = ParsedBatch(frame, self.rejects, self.notes, cleaned_header=self.cleaned_header)
        self.rows, self.rejects, self.notes = [], [], Counter()
        return batch


def _csv_line(fields: Sequence[str], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(fields)
    return buffer.getvalue()
