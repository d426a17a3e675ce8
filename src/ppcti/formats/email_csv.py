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
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import polars as pl

from ppcti.clean.emails import clean_email
from ppcti.clean.repair import Role, addresses_in, fits, read_row
from ppcti.clean.timestamps import TimeContext, cached_stix_timestamp
from ppcti.errors import FormatError
from ppcti.formats._csvrecords import BadSpan, CsvRecords
from ppcti.formats._email_native import NativeChunk, NativeRows, native_available, native_reader
from ppcti.formats.base import BATCH_COLUMNS, ParsedBatch, ParseOptions
from ppcti.formats.events_json import canonical_ip
from ppcti.ingest.limits import Limits
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
_SEP = "\x1f"
_COLUMNS = (
    "line",
    "timestamp",
    "src_ip",
    "emails",
    "sender",
    "recipients",
    "subject",
    "verdict",
    "repaired",
    "raw",
    "cleaned",
)

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
        records: CsvRecords | None = None
        native: NativeRows | None = None
        quotechar = '"'
        if source.kind == "xlsx":
            rows: Iterable[tuple[int, list[str]] | BadSpan | NativeChunk] = _xlsx_rows(source)
            delimiter = ","
        else:
            delimiter, quotechar = _dialect(source)
            limits = options.limits or Limits()
            records = CsvRecords(source, limits, delimiter=delimiter, quotechar=quotechar)
            rows = records
            if native_available():
                rows = native = NativeRows.of(records, source, limits, options.batch_bytes)
        header: list[str] | None = None
        builder: _Rows | None = None
        pending_rejects: list[Reject] = []
        try:
            for row in rows:
                if isinstance(row, NativeChunk):
                    assert builder is not None  # the compiled reader starts after the header
                    builder.add_native(row)
                    yield builder.flush()
                    continue
                if isinstance(row, BadSpan):
                    reject = Reject(source.path, row.line, row.reason, row.raw, row.stage)
                    (builder.rejects if builder is not None else pending_rejects).append(reject)
                    continue
                line, fields = row
                if header is None:
                    if not any(f.strip() for f in fields):
                        continue
                    header = fields
                    if records is not None:
                        records.expected_fields = len(header)
                    builder = _Rows(source.path, header, delimiter, options.time)
                    builder.rejects.extend(pending_rejects)
                    if native is not None:
                        reader = native_reader(
                            header, builder.roles, builder.keys, delimiter, quotechar, options.time
                        )
                        native.use(reader)
                        if reader is None:  # only the reference reads: batches by size, as without it
                            native = None
                    continue
                assert builder is not None
                builder.add(line, fields)
                # with the compiled reader, a batch is a chunk of lines: rows stay in line order
                if builder.size >= _BATCH_ROWS and native is None:
                    yield builder.flush()
        except FormatError:
            # a workbook sheet openpyxl cannot read: keep the rows read so far, then report it
            if builder is not None:
                yield builder.flush()
            raise
        if builder is None:
            pending_rejects.append(Reject(source.path, None, "no header row", ""))
            yield ParsedBatch(events=_empty(), rejects=pending_rejects)
            return
        yield builder.flush()


def _dialect(source: SourceFile) -> tuple[str, str]:
    dialect = getattr(source, "csv_dialect", None)
    return (getattr(dialect, "delimiter", ",") or ","), (getattr(dialect, "quotechar", '"') or '"')


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
        self.columns: dict[str, list[object]] = {name: [] for name in _COLUMNS}
        self.native: list[pl.DataFrame] = []
        self.rejects: list[Reject] = []
        self.notes: Counter[str] = Counter()
        self.cleaned_header = _csv_line(self.header, delimiter)

    @property
    def size(self) -> int:
        return len(self.columns["line"])

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
            reason = (
                f"{len(fields)} fields where the header has {len(self.header)}, and the repair is ambiguous"
            )
            self.rejects.append(Reject(self.path, line, reason, raw, "repair"))
            return
        reading = readings[0]
        values: dict[str, str | None] = {}
        emails: dict[str, None] = {}
        recipients: dict[str, None] = {}
        sender = None
        cleaned: list[str] = []
        for key, role, value in zip(self.keys, self.roles, reading.values, strict=True):
            if role is Role.ADDRESS:
                address = clean_email(value)
                cleaned.append(address or "")
                if address:
                    emails.setdefault(address)
                    if key == "sender" and sender is None:
                        sender = address
            elif role is Role.ADDRESSES:
                found = addresses_in(value) or ()
                cleaned.append(";".join(found))
                for address in found:
                    emails.setdefault(address)
                    if key == "recipients":
                        recipients.setdefault(address)
            else:
                cleaned.append(value)
                if key is not None and values.get(key) is None:
                    values[key] = value.strip() or None
        date = values.get("date")
        timestamp = cached_stix_timestamp(date, self.time) if date else None
        if timestamp is None:
            reason = "no date column" if "date" not in self.keys else "invalid or missing date"
            self.rejects.append(Reject(self.path, line, reason, raw))
            return
        if not emails:
            self.rejects.append(Reject(self.path, line, "no e-mail address", raw))
            return
        if reading.repair:
            self.notes[f"repaired_{reading.repair}"] += 1
        for i, role in enumerate(self.roles):
            if role is Role.DATE:
                cleaned[i] = timestamp
        src_ip = values.get("src_ip")
        row = self.columns
        row["line"].append(line)
        row["timestamp"].append(timestamp)
        row["src_ip"].append(canonical_ip(src_ip) if src_ip else None)
        row["emails"].append(_SEP.join(emails))  # joined: building list columns from Python lists is slow
        row["sender"].append(sender)
        row["recipients"].append(_SEP.join(recipients) or None)
        row["subject"].append(values.get("subject"))
        row["verdict"].append(values.get("verdict"))
        row["repaired"].append(reading.repair)
        row["raw"].append(raw)
        row["cleaned"].append(_csv_line(cleaned, self.delimiter))

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

    def add_native(self, chunk: NativeChunk) -> None:
        """Rows the compiled reader decided, to be joined with the reference's at the next flush."""
        self.native.append(chunk.events)
        self.notes["blank_lines"] += chunk.blank
        self.rejects.extend(Reject(self.path, *reject) for reject in chunk.rejects)
        for repair, count in chunk.events.get_column("repaired").drop_nulls().value_counts().iter_rows():
            self.notes[f"repaired_{repair}"] += count

    def flush(self) -> ParsedBatch:
        c = self.columns
        frame = _frame(
            pl.DataFrame(
                [pl.Series(name, values, dtype=_DTYPES.get(name, pl.String)) for name, values in c.items()]
            )
        )
        if self.native:
            frames = [_frame(n) for n in self.native]
            if frame.height:
                frames.append(frame)
            # each frame is in line order: merging them is cheaper than sorting their concatenation
            frame = frames[0]
            for other in frames[1:]:
                frame = frame.merge_sorted(other, key="line")
            self.rejects.sort(key=lambda r: -1 if r.line is None else r.line)
        batch = ParsedBatch(frame, self.rejects, self.notes, cleaned_header=self.cleaned_header)
        self.columns = {name: [] for name in _COLUMNS}
        self.rejects, self.notes, self.native = [], Counter(), []
        return batch


_DTYPES: dict[str, pl.DataType] = {"line": pl.Int64()}


def _frame(rows: pl.DataFrame) -> pl.DataFrame:
    """The batch frame of the row columns: ``emails`` and ``recipients`` joined by :data:`_SEP` (the
    reference's rows) or already lists (the compiled reader's); the columns e-mail has no value for are
    constants, broadcast without a Python list per column."""

    def addresses(name: str) -> pl.Expr:
        column = pl.col(name)
        return column if isinstance(rows.schema[name], pl.List) else column.str.split(_SEP)

    return rows.select(
        "line",
        "timestamp",
        "src_ip",
        pl.lit(None, pl.Int32).alias("src_port"),
        pl.lit(None, pl.String).alias("dst_ip"),
        pl.lit(None, pl.Int32).alias("dst_port"),
        pl.lit(None, pl.String).alias("nat_ip"),
        pl.lit("SMTP", pl.String).alias("protocol"),
        pl.lit(None, pl.String).alias("src_mac"),
        addresses("emails"),
        pl.struct(
            [addresses(name) if name == "recipients" else pl.col(name) for name in EXTRA_TYPE.to_schema()]
        ).alias("extra"),
        "raw",
        "cleaned",
    )


def _csv_line(fields: Sequence[str], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(fields)
    return buffer.getvalue()
