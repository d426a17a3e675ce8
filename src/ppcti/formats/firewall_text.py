"""``firewall-text``: router and firewall text logs in the MikroTik RouterOS style.

Example::

    Mar/07/2023 10:38:03 firewall,info prerouting: in:ether1 out:(unknown 0), connection-state:new
    src-mac 00:17:10:88:bc:02, proto TCP (SYN), 203.0.113.7:51234->10.0.0.5:22, len 60

Header styles: RouterOS ``Mar/07/2023 10:38:03``; RFC 3339 with the relaying host
(``2023-03-18T20:35:05.734011+01:00 10.120.127.1``); BSD syslog ``<134>Mar  2 08:14:23 router1``;
and time only ``10:38:03``. Feature rules, applied to the message after the header: source IP = first
address, destination = second, NAT IP = last when there are more than two; a port follows an IP
after a colon (IPv6: ``[2001:db8::1]:443``, or bare without a port); source MAC = the ``src-mac``
value (else the first MAC); protocol = the word after ``proto`` up to ``(``, space or comma. A line
without any IP address or without a usable timestamp is rejected with the reason. Both paths below
read IPv4; lines that may hold IPv6 are read by :func:`ppcti.formats._addresses.addresses`, and a
file with IPv6 in its head is read by the reference path as a whole.

Two paths give the same result. By default a compiled scanner (``ppcti_native``, built from ``native/``)
does one pass per line; the reference path parses column-wise in Polars, one regex pass per feature over
a batch. The compiled path is about 3x faster end to end (``bench/ingest.py``, docs/formats.md).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from ppcti.clean.mac import normalise_mac_series
from ppcti.clean.timestamps import MONTH_NUMBER, stix_timestamp_expr, utc_parts_expr
from ppcti.formats._addresses import IPV4, IPV6_HINT, IPV6_HINT_PY, addresses
from ppcti.formats._lines import BINARY_LINE, iter_line_chunks, iter_line_frames
from ppcti.formats.base import BATCH_COLUMNS, ParsedBatch, ParseOptions
from ppcti.ingest import Limits
from ppcti.model import Reject
from ppcti.native import native_module

if TYPE_CHECKING:
    from ppcti.ingest import SourceFile

_log = logging.getLogger(__name__)

_IP_PORT = rf"(?-u:\b){IPV4}(?-u:\b)(?::[0-9]{{1,5}})?"

_HEADER = (
    r"^(?:<(?P<pri>[0-9]{1,3})>)?\s*(?:"
    r"(?P<r_mon>[A-Za-z]{3})/(?P<r_day>[0-9]{2})/(?P<r_year>[0-9]{4}) (?P<r_clock>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"|(?P<i_year>[0-9]{4})-(?P<i_mon>[0-9]{2})-(?P<i_day>[0-9]{2})"
    r"[T ](?P<i_clock>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:[.,](?P<i_frac>[0-9]{1,9}))?(?P<i_off>Z|[+-][0-9]{2}:?[0-9]{2})?"
    r"|(?P<b_mon>[A-Za-z]{3}) {1,2}(?P<b_day>[0-9]{1,2}) (?P<b_clock>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"|(?P<t_clock>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r")"
)
#: The header's parts and the first four tokens after it (relay host, topics, rule prefix, chain), in
#: one anchored pass that stops where the tokens end: capturing the rest of the line costs 10x more.
_HEAD = _HEADER + r"\s*(?P<t1>\S+)?(?:\s+(?P<t2>\S+))?(?:\s+(?P<t3>\S+))?(?:\s+(?P<t4>\S+))?"

#: A relay host written as an IPv6 address (the header's other tokens never are one).
_HOST_V6 = r"^\[?[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}\]?$"

_MAC_SRC = r"src-mac ([^\s,]+)"
_MAC_ANY = r"(?-u:\b)([0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5})(?-u:\b)"
_PROTO = r"(?-u:\b)proto (?P<name>[^\s(,]+)(?: \((?P<detail>[^)]*)\))?"
#: Every pattern of the hot path, shared by the Polars path and the compiled scanner.
PATTERNS = {
    "head": _HEAD,
    "ip_port": _IP_PORT,
    "host_ip": rf"^{IPV4}$",
    "mac_src": _MAC_SRC,
    "mac_any": _MAC_ANY,
    "proto": _PROTO,
}

_RECOGNISE = re.compile(
    r"(?:firewall|src-mac|proto (?:TCP|UDP|ICMP|[0-9]+)|connection-state:|in:\S+ out:|->)", re.IGNORECASE
)
_TIME_START = re.compile(
    r"^(?:<\d{1,3}>)?\s*(?:[A-Za-z]{3}/\d{2}/\d{4} |\d{4}-\d{2}-\d{2}[T ]\d{2}:"
    r"|[A-Za-z]{3} {1,2}\d{1,2} \d{2}:|\d{2}:\d{2}:\d{2} )"
)

EXTRA_TYPE = pl.Struct(
    {
        "host": pl.String(),
        "chain": pl.String(),
        "prefix": pl.String(),
        "tcp_flags": pl.String(),
        "icmp": pl.String(),
        "mac_malformed": pl.Boolean(),
    }
)


class FirewallText:
    name = "firewall-text"
    description = "Router/firewall text logs in the MikroTik RouterOS style (also relayed by syslog)."
    kinds = frozenset({"text", "csv"})

    def cleaned_name(self, source: SourceFile) -> str:
        return source.path

    def score(self, source: SourceFile, sample: str) -> float:
        lines = [ln for ln in sample.splitlines()[:200] if ln.strip()]
        if not lines:
            return 0.0
        timed = sum(1 for ln in lines if _TIME_START.match(ln))
        shaped = sum(1 for ln in lines if _RECOGNISE.search(ln))
        with_ip = sum(1 for ln in lines if re.search(IPV4, ln))
        n = len(lines)
        return round(0.4 * timed / n + 0.4 * shaped / n + 0.2 * with_ip / n, 3)

    def parse(self, source: SourceFile, options: ParseOptions) -> Iterator[ParsedBatch]:
        scanner = native_scanner(options)
        if scanner is not None and IPV6_HINT_PY.search(source.sample_text()):
            scanner = None  # IPv6 from the start: the reference path reads it (the scanner is IPv4-only)
        if scanner is not None:
            yield from _parse_native(source, options, scanner)
            return
        limits = options.limits or Limits()
        context = _Carry(options)
        for chunk in iter_line_frames(
            source, batch_bytes=options.batch_bytes, max_line_bytes=limits.max_line_bytes
        ):
            rejects = [
                Reject(source.path, line, f"line longer than {limits.max_line_bytes} bytes", prefix, "ingest")
                for line, prefix in chunk.oversized
            ]
            rejects += _binary_rejects(source.path, chunk.binary)
            batch = _parse_frame(chunk.frame, source.path, context, limits.max_line_bytes)
            batch.rejects[:0] = rejects
            batch.notes["blank_lines"] -= len(chunk.binary)  # emptied by the reader, rejected above
            yield batch


def native_scanner(options: ParseOptions) -> Any | None:
    """The compiled scanner (package ``ppcti-native``) for these options, or None for the Polars path.

    The scanner covers the default source zone, UTC; another zone needs Polars' time-zone database, and
    ``PPCTI_NATIVE=0`` forces the Polars path (the reference the scanner is tested against). The scanner
    implements ``PATTERNS`` by hand and refuses others, so a changed pattern falls back to the reference.
    """
    module = native_module()
    if module is None or options.time.timezone != "UTC":
        return None
    ctx = options.time
    try:
        return module.FirewallScanner(
            PATTERNS,
            max_line_bytes=(options.limits or Limits()).max_line_bytes,
            year=ctx.year,
            date=ctx.date.isoformat() if ctx.date is not None else None,
            run_year=datetime.now(UTC).year,
        )
    except ValueError as exc:  # PATTERNS changed since the scanner was written: the reference path
        _log.warning("compiled firewall-text scanner not used: %s", exc)
        return None


def _parse_native(source: SourceFile, options: ParseOptions, scanner: Any) -> Iterator[ParsedBatch]:
    limits = options.limits or Limits()
    carry = _Carry(options)
    too_long = f"line longer than {limits.max_line_bytes} bytes"
    for chunk in iter_line_chunks(
        source, batch_bytes=options.batch_bytes, max_line_bytes=limits.max_line_bytes
    ):
        rejects = [Reject(source.path, line, too_long, prefix, "ingest") for line, prefix in chunk.oversized]
        notes: Counter[str] = Counter()
        table, counts, oversized = scanner.scan(chunk.data, chunk.first_line)
        notes.update(dict(counts))
        notes["blank_lines"] -= len(chunk.binary)  # emptied by the reader, rejected here
        rejects += _binary_rejects(source.path, chunk.binary)
        rejects.extend(Reject(source.path, line, too_long, prefix, "ingest") for line, prefix in oversized)
        frame = pl.DataFrame(table)
        failed = pl.col("_reason").is_not_null()
        # a line the scanner found no IPv4 address in may hold IPv6 ones: the reference path reads it
        # (the regex runs on those few rows only, never on the whole chunk)
        rerouted = frame.filter(pl.col("_reason") == "no IP address")
        if rerouted.height:
            rerouted = rerouted.filter(pl.col("raw").str.contains(IPV6_HINT))
        if rerouted.height:
            frame = frame.filter(~pl.col("line").is_in(rerouted.get_column("line").implode()))
            carry.last_date = _last_date_before(frame, int(rerouted.get_column("line")[0]))
            redo = _parse_frame(
                rerouted.select("line", pl.col("raw").alias("text")),
                source.path,
                carry,
                limits.max_line_bytes,
            )
            rejects.extend(redo.rejects)
        rejects.extend(
            Reject(source.path, line, why, text)
            for line, why, text in frame.filter(failed).select("line", "_reason", "raw").iter_rows()
        )
        events = frame.filter(~failed).select(_NATIVE_EVENT)
        if rerouted.height:
            events = pl.concat([events, redo.events], how="vertical_relaxed").sort("line")
        yield ParsedBatch(events=events, rejects=rejects, notes=notes)


def _binary_rejects(path: str, lines: list[tuple[int, str]]) -> list[Reject]:
    return [Reject(path, line, BINARY_LINE, prefix, "ingest") for line, prefix in lines]


def _event_columns(extra: pl.Expr, raw: pl.Expr) -> list[pl.Expr]:
    """The batch columns (:data:`BATCH_COLUMNS`; firewall logs hold no e-mails), ``extra`` and ``raw``:
    the shape both paths hand on."""
    columns = [
        pl.lit(None, dtype).alias(name) if name == "emails" else pl.col(name)
        for name, dtype in BATCH_COLUMNS.items()
    ]
    return [*columns, extra.cast(EXTRA_TYPE).alias("extra"), raw.alias("raw")]


#: The compiled scanner's columns in the shape of the Polars path's events.
_NATIVE_EVENT = _event_columns(
    pl.struct("host", "chain", "prefix", "tcp_flags", "icmp", "mac_malformed"), pl.col("raw")
)


class _Carry:
    """State carried from one batch to the next: the last complete date seen, for lines lacking one."""

    def __init__(self, options: ParseOptions) -> None:
        self.time = options.time
        self.last_date: str | None = None  # "YYYY-MM-DD" of the last complete timestamp (source zone)


def _parse_frame(frame: pl.DataFrame, path: str, carry: _Carry, max_line_bytes: int) -> ParsedBatch:
    notes: Counter[str] = Counter()
    blank = frame.filter(pl.col("text").is_null() | (pl.col("text").str.strip_chars() == ""))
    notes["blank_lines"] += blank.height
    df = frame.filter(pl.col("text").is_not_null() & (pl.col("text").str.strip_chars() != ""))
    long = df.filter(pl.col("text").str.len_bytes() > max_line_bytes)
    rejects = [
        Reject(path, line, f"line longer than {max_line_bytes} bytes", text[:200], "ingest")
        for line, text in long.select("line", "text").iter_rows()
    ]
    df = df.filter(pl.col("text").str.len_bytes() <= max_line_bytes)

    # One pass finds the header's extent and the two tokens after it (relay host and topics).
    df = df.with_columns(_head=pl.col("text").str.extract_groups(_HEAD)).unnest("_head")
    syslog_style = pl.col("i_clock").is_not_null() | pl.col("b_clock").is_not_null()
    t1, t2, t3, t4 = (pl.col(f"t{i}") for i in range(1, 5))
    has_host = (
        syslog_style
        & t2.str.contains(",", literal=True).fill_null(False)
        & ~t1.str.contains(",", literal=True).fill_null(True)
        & (~t1.str.contains(":", literal=True) | t1.str.contains(_HOST_V6)).fill_null(True)
    )
    # after the topics (``firewall,info``): ``chain:`` or ``prefix chain:``; masks first, so that only
    # the chosen token is copied
    df = df.with_columns(
        _host=has_host,
        _t1c=t1.str.contains(",", literal=True).fill_null(False),
        _t2c=t2.str.contains(",", literal=True).fill_null(False),
        _e2=t2.str.ends_with(":").fill_null(False),
        _e3=t3.str.ends_with(":").fill_null(False),
        _e4=t4.str.ends_with(":").fill_null(False),
    )
    host, t1c, t2c, e2, e3, e4 = (pl.col(c) for c in ("_host", "_t1c", "_t2c", "_e2", "_e3", "_e4"))
    direct = ~host & t1c
    relayed = host & t2c
    df = df.with_columns(
        host=pl.when(host).then(t1),
        _chain=pl.when(direct & e2)
        .then(t2)
        .when((direct & e3) | (relayed & e3))
        .then(t3)
        .when(relayed & e4)
        .then(t4)
        .str.strip_suffix(":"),
        _prefix=pl.when(direct & ~e2 & e3).then(t2).when(relayed & ~e3 & e4).then(t3),
    )

    df = _timestamps(df, carry, notes)

    # Features are read from the whole line: the header holds no address except a relay host, which
    # is dropped from the address list (slicing the message off every line would copy it).
    found = pl.col("text").str.extract_all(_IP_PORT)
    host_is_ip = pl.col("host").str.contains(PATTERNS["host_ip"]).fill_null(False)  # IPv4: see addresses()
    ips = pl.when(host_is_ip).then(found.list.slice(1)).otherwise(found)
    df = df.with_columns(
        _ips=ips,
        _mac_raw=pl.col("text").str.extract(_MAC_SRC),
        _proto=pl.col("text").str.extract_groups(_PROTO),
    )
    df = df.with_columns(
        _n=pl.col("_ips").list.len(),
        _mac_raw=_first_mac(df),
        protocol=pl.col("_proto").struct.field("name").str.to_uppercase(),
        _detail=pl.col("_proto").struct.field("detail"),
    ).with_columns(
        _tcp=pl.when(pl.col("protocol") == "TCP").then(pl.col("_detail")),
        _icmp=pl.when(pl.col("protocol") == "ICMP").then(pl.col("_detail")),
    )
    df = df.with_columns(
        _src=pl.col("_ips").list.get(0, null_on_oob=True).str.split_exact(":", 1),
        _dst=pl.col("_ips").list.get(1, null_on_oob=True).str.split_exact(":", 1),
        _nat=pl.when(pl.col("_n") > 2)
        .then(pl.col("_ips").list.get(-1, null_on_oob=True))
        .str.split_exact(":", 1),
        src_mac=normalise_mac_series(df.get_column("_mac_raw")),
    )
    df = df.with_columns(
        src_ip=pl.col("_src").struct.field("field_0"),
        src_port=_port(pl.col("_src").struct.field("field_1")),
        dst_ip=pl.col("_dst").struct.field("field_0"),
        dst_port=_port(pl.col("_dst").struct.field("field_1")),
        nat_ip=pl.col("_nat").struct.field("field_0"),
    )
    df = _ipv6_rows(df)
    notes["malformed_mac"] += _count(df, pl.col("_mac_raw").is_not_null() & pl.col("src_mac").is_null())

    reason = (
        pl.when(pl.col("_n") == 0)
        .then(pl.lit("no IP address"))
        .when(pl.col("_no_time"))
        .then(pl.lit("no timestamp at the start of the line"))
        .when(pl.col("_no_date"))
        .then(pl.lit("time without a date: set --date"))
        .when(pl.col("timestamp").is_null())
        .then(pl.lit("invalid timestamp"))
    )
    # Narrow first, then split: filtering the wide working frame would copy every helper column.
    extra = pl.struct(
        pl.col("host"),
        pl.col("_chain").alias("chain"),
        pl.col("_prefix").alias("prefix"),
        pl.col("_tcp").str.replace_all(" ", "").alias("tcp_flags"),
        pl.col("_icmp").alias("icmp"),
        pl.when(pl.col("_mac_raw").is_not_null() & pl.col("src_mac").is_null())
        .then(True)
        .alias("mac_malformed"),
    )
    events = df.select(*_event_columns(extra, pl.col("text")), reason.alias("_reason"))
    failed = pl.col("_reason").is_not_null()
    rejects.extend(
        Reject(path, line, why, text)
        for line, why, text in events.filter(failed).select("line", "_reason", "raw").iter_rows()
    )
    events = events.filter(~failed).drop("_reason")
    return ParsedBatch(events=events, rejects=rejects, notes=notes)


def _ipv6_rows(df: pl.DataFrame) -> pl.DataFrame:
    """Address columns of the rows that may hold IPv6, read by :func:`addresses`."""
    hinted = df.get_column("text").str.contains(IPV6_HINT).fill_null(False)
    rows = hinted.arg_true()
    if rows.len() == 0:
        return df
    texts = df.get_column("text").gather(rows).to_list()
    hosts = df.get_column("host").gather(rows).to_list()
    cols: dict[str, list[object]] = {
        k: [] for k in ("src_ip", "src_port", "dst_ip", "dst_port", "nat_ip", "_n")
    }
    for text, host in zip(texts, hosts, strict=True):
        found = addresses(text, host)
        src = found[0] if found else (None, None)
        dst = found[1] if len(found) > 1 else (None, None)
        cols["src_ip"].append(src[0])
        cols["src_port"].append(src[1])
        cols["dst_ip"].append(dst[0])
        cols["dst_port"].append(dst[1])
        cols["nat_ip"].append(found[-1][0] if len(found) > 2 else None)
        cols["_n"].append(len(found))
    updates = []
    for name, values in cols.items():
        column = df.get_column(name)
        updates.append(column.scatter(rows, pl.Series(values, dtype=column.dtype)))
    return df.with_columns(updates)


def _last_date_before(frame: pl.DataFrame, line: int) -> str | None:
    """The date of the last event the scanner read before ``line`` (what the reference path carries)."""
    before = frame.filter((pl.col("line") < line) & pl.col("timestamp").is_not_null())
    return before.get_column("timestamp")[-1][:10] if before.height else None


def _count(df: pl.DataFrame, condition: pl.Expr) -> int:
    return int(df.select(condition.sum()).item() or 0)


def _port(col: pl.Expr) -> pl.Expr:
    port = col.cast(pl.Int32, strict=False)
    return pl.when(port <= 65535).then(port)


def _first_mac(df: pl.DataFrame) -> pl.Series:
    """The ``src-mac`` value, else the first MAC-shaped token; the fallback regex runs only where needed."""
    found = df.get_column("_mac_raw")
    missing = found.is_null().arg_true()
    if missing.len() == 0:
        return found
    fallback = df.get_column("text").gather(missing).str.extract(_MAC_ANY)
    return found.scatter(missing, fallback)


def _timestamps(df: pl.DataFrame, carry: _Carry, notes: Counter[str]) -> pl.DataFrame:
    """Complete and convert the header timestamps of a batch (vectorised)."""
    ctx = carry.time
    months = dict(MONTH_NUMBER.iter_rows())

    def month_of(column: str) -> pl.Expr:
        return pl.col(column).str.to_lowercase().replace_strict(months, default=None, return_dtype=pl.Int8)

    full_date = pl.coalesce(
        pl.format(
            "{}-{}-{}", pl.col("r_year"), month_of("r_mon").cast(pl.String).str.zfill(2), pl.col("r_day")
        ),
        pl.format("{}-{}-{}", pl.col("i_year"), pl.col("i_mon"), pl.col("i_day")),
    )
    df = df.with_columns(_full_date=full_date)
    # Carry the last complete date forward through the file, across batches.
    df = df.with_columns(_known=pl.col("_full_date").forward_fill().fill_null(pl.lit(carry.last_date)))
    last = df.get_column("_full_date").drop_nulls()
    if last.len():
        carry.last_date = last[-1]

    run_year = datetime.now(UTC).year
    bsd_year = (
        pl.lit(ctx.year)
        if ctx.year is not None
        else pl.coalesce(pl.col("_known").str.slice(0, 4).cast(pl.Int32, strict=False), pl.lit(run_year))
    )
    is_bsd = pl.col("b_clock").is_not_null()
    is_time_only = pl.col("t_clock").is_not_null()
    if ctx.year is None:
        notes["year_from_context"] += _count(df, is_bsd & pl.col("_known").is_not_null())
        notes["year_from_run_date"] += _count(df, is_bsd & pl.col("_known").is_null())
    else:
        notes["year_from_settings"] += _count(df, is_bsd)
    given_date = ctx.date.isoformat() if ctx.date is not None else None
    day_for_time = pl.lit(given_date) if given_date else pl.col("_known")
    if given_date:
        notes["date_from_settings"] += _count(df, is_time_only)
    else:
        notes["date_from_context"] += _count(df, is_time_only & pl.col("_known").is_not_null())

    year = (
        pl.when(pl.col("r_year").is_not_null())
        .then(pl.col("r_year").cast(pl.Int32))
        .when(pl.col("i_year").is_not_null())
        .then(pl.col("i_year").cast(pl.Int32))
        .when(is_bsd)
        .then(bsd_year)
        .otherwise(day_for_time.str.slice(0, 4).cast(pl.Int32, strict=False))
    )
    month = (
        pl.when(pl.col("r_mon").is_not_null())
        .then(month_of("r_mon").cast(pl.Int32))
        .when(pl.col("i_mon").is_not_null())
        .then(pl.col("i_mon").cast(pl.Int32))
        .when(is_bsd)
        .then(month_of("b_mon").cast(pl.Int32))
        .otherwise(day_for_time.str.slice(5, 2).cast(pl.Int32, strict=False))
    )
    day = pl.coalesce(pl.col("r_day"), pl.col("i_day"), pl.col("b_day"), day_for_time.str.slice(8, 2)).cast(
        pl.Int32, strict=False
    )
    clock = pl.coalesce(pl.col("r_clock"), pl.col("i_clock"), pl.col("b_clock"), pl.col("t_clock"))
    off = pl.col("i_off")
    sign = pl.when(off.str.starts_with("-")).then(-1).otherwise(1)
    digits = off.str.replace_all(r"[^0-9]", "")
    offset_minutes = (
        pl.when(off == "Z")
        .then(0)
        .when(off.is_not_null())
        .then(sign * (digits.str.slice(0, 2).cast(pl.Int32) * 60 + digits.str.slice(2, 2).cast(pl.Int32)))
    )
    df = df.with_columns(
        _y=year,
        _m=month,
        _d=day,
        _clock=clock,
        _off=offset_minutes,
        _no_time=clock.is_null(),
        _no_date=is_time_only & day_for_time.is_null(),
    )
    parts = {
        "year": pl.col("_y"),
        "month": pl.col("_m"),
        "day": pl.col("_d"),
        "clock": pl.col("_clock"),
        "fraction": pl.col("i_frac"),
    }
    if ctx.timezone != "UTC":
        return df.with_columns(
            timestamp=stix_timestamp_expr(**parts, offset_minutes=pl.col("_off"), zone=ctx.timezone)
        )
    # UTC wall-clock rows (no offset, or +00:00) are assembled from their parts; only rows with a real
    # offset take the datetime arithmetic
    df = df.with_columns(timestamp=utc_parts_expr(**parts))
    shifted = (pl.col("_off").is_not_null() & (pl.col("_off") != 0)).fill_null(False)
    rows = df.select(shifted).to_series().arg_true()
    if rows.len():
        fixed = (
            df[rows]
            .select(stix_timestamp_expr(**parts, offset_minutes=pl.col("_off"), zone="UTC"))
            .to_series()
        )
        df = df.with_columns(df.get_column("timestamp").scatter(rows, fixed))
    return df
