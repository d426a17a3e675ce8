"""Timestamps to the STIX format: RFC 3339, UTC, ``Z``, e.g. ``2023-03-07T10:38:03Z``.

Fractional seconds are kept to the precision the source wrote (a source that logged microseconds keeps
them, one that logged whole seconds gets none), because inventing precision misleads correlation.
Log lines often lack a zone, a year or a date. Those gaps are filled from :class:`TimeContext` -- the
configured source zone, year and date -- or from the last complete timestamp earlier in the same file;
every such assumption is counted in the run summary, so nothing is guessed silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from ppcti.errors import ConfigError

STIX_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}


@dataclass(frozen=True, slots=True)
class TimeContext:
    """How to complete timestamps that lack a zone, a year or a date.

    ``timezone``: IANA zone of timestamps written without an offset (default UTC).
    ``year``: year for timestamps without one (BSD syslog); ``None`` takes the year of the last complete
    timestamp earlier in the file, and failing that the year of the run.
    ``date``: date for time-only lines; ``None`` takes the date of the last complete timestamp earlier
    in the file, and failing that the line is rejected.
    ``date_order``: how to read ``01/02/2023``: ``DMY`` (default) or ``MDY``.
    """

    timezone: str = "UTC"
    year: int | None = None
    date: date | None = None
    date_order: str = "DMY"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone {self.timezone!r}") from exc
        if self.year is not None and not 1 <= self.year <= 9999:
            raise ConfigError(f"year must be between 1 and 9999, not {self.year}")
        if self.date_order not in ("DMY", "MDY"):
            raise ConfigError(f"date order must be DMY or MDY, not {self.date_order!r}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def format_stix(moment: datetime, fraction: str | None = None) -> str:
    """``moment`` (aware) in STIX form; ``fraction`` is the source's fractional digits, kept verbatim."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + fraction
    return text + "Z"


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_SLASHED = re.compile(
    r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$"
)
_ROUTEROS = re.compile(r"^([A-Za-z]{3})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})$")
_EPOCH = re.compile(r"^(\d{9,10})(?:\.(\d{1,9}))?$")


def _offset(text: str | None, ctx: TimeContext, naive: datetime) -> timezone | ZoneInfo:
    if not text:
        return ctx.zone
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def to_stix_timestamp(text: str | float | int | None, ctx: TimeContext | None = None) -> str | None:
    """Parse one timestamp in any of the styles the formats meet; ``None`` when it is not one.

    Styles: RFC 3339 / ISO 8601 (offset with or without colon, space or ``T``), RouterOS
    ``Mar/07/2023 10:38:03``, ``07/03/2023 10:38[:03]`` (per ``date_order``), RFC 2822 mail dates, and
    Unix epoch seconds (Zeek ``ts``).
    """
    ctx = ctx or TimeContext()
    if text is None:
        return None
    if isinstance(text, int | float) and not isinstance(text, bool):
        return _from_epoch(repr(float(text)) if isinstance(text, float) else str(text))
    value = str(text).strip()
    if not value:
        return None
    try:
        if m := _ISO.match(value):
            y, mo, d, h, mi, s, frac, off = m.groups()
            naive = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))
            return format_stix(naive.replace(tzinfo=_offset(off, ctx, naive)), _frac(frac))
        if m := _ROUTEROS.match(value):
            mon, d, y, h, mi, s = m.groups()
            month = _MONTHS.get(mon.lower())
            if month is None:
                return None
            naive = datetime(int(y), month, int(d), int(h), int(mi), int(s))
            return format_stix(naive.replace(tzinfo=ctx.zone))
        if m := _SLASHED.match(value):
            a, b, y, h, mi, s, frac = m.groups()
            day, month = (a, b) if ctx.date_order == "DMY" else (b, a)
            naive = datetime(int(y), int(month), int(day), int(h), int(mi), int(s or 0))
            return format_stix(naive.replace(tzinfo=ctx.zone), _frac(frac))
        if _EPOCH.match(value):
            return _from_epoch(value)
        if "," in value or value[:3].isalpha():
            parsed = parsedate_to_datetime(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=ctx.zone)
            return format_stix(parsed)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return None


@lru_cache(maxsize=1 << 16)
def cached_stix_timestamp(text: str, ctx: TimeContext) -> str | None:
    """:func:`to_stix_timestamp` for row-at-a-time parsers, where the same second recurs in many rows."""
    return to_stix_timestamp(text, ctx)


def _frac(frac: str | None) -> str | None:
    return frac.rstrip() if frac else None


def _from_epoch(value: str) -> str | None:
    whole, _, frac = value.partition(".")
    try:
        moment = datetime.fromtimestamp(int(whole), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    frac = frac.rstrip("0") if frac else ""
    return format_stix(moment, frac[:6] or None)


#: A clock within a day, leap seconds excluded.
_CLOCK = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"


def stix_timestamp_expr(
    *,
    year: pl.Expr,
    month: pl.Expr,
    day: pl.Expr,
    clock: pl.Expr,
    fraction: pl.Expr,
    offset_minutes: pl.Expr,
    zone: str,
) -> pl.Expr:
    """Vectorised assembly of STIX timestamps from parts already extracted by a format.

    ``clock`` is ``HH:MM:SS``; ``fraction`` the source's digits or null; ``offset_minutes`` the written
    UTC offset or null for "local time in ``zone``". Impossible dates (Feb 30) come out null.
    """
    text = pl.format(
        "{}-{}-{} {}",
        year.cast(pl.String),
        month.cast(pl.String).str.zfill(2),
        day.cast(pl.String).str.zfill(2),
        clock,
    )
    naive = text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    if zone == "UTC":  # the default: local time is UTC already, no zone arithmetic per row
        utc = (
            pl.when(offset_minutes.is_null())
            .then(naive)
            .otherwise(naive - pl.duration(minutes=offset_minutes))
        )
    else:
        local = naive.dt.replace_time_zone(
            zone, ambiguous="earliest", non_existent="null"
        ).dt.convert_time_zone("UTC")
        written = (naive - pl.duration(minutes=offset_minutes)).dt.replace_time_zone("UTC")
        utc = pl.when(offset_minutes.is_null()).then(local).otherwise(written)
    base = utc.dt.strftime("%Y-%m-%dT%H:%M:%S")
    text = (
        pl.when(fraction.is_null())
        .then(pl.concat_str([base, pl.lit("Z")]))
        .otherwise(pl.concat_str([base, pl.lit("."), fraction, pl.lit("Z")]))
    )
    # strptime reads second 60 as the next minute, and an offset can push the year out of four digits;
    # both are invalid timestamps, as they are for rows without an offset (utc_parts_expr)
    valid = clock.str.contains(_CLOCK) & utc.dt.year().is_between(0, 9999)
    return pl.when(valid.fill_null(False)).then(text)


def utc_parts_expr(
    *, year: pl.Expr, month: pl.Expr, day: pl.Expr, clock: pl.Expr, fraction: pl.Expr
) -> pl.Expr:
    """STIX text for parts that are already UTC, assembled without parsing a datetime.

    The hot path of text logs: most lines carry no offset and the default zone is UTC, so the
    timestamp is the parts in order once they are checked (month length with leap years, a clock
    within 00:00:00-23:59:59). Equal to :func:`stix_timestamp_expr` for such rows, at a third of the
    cost; impossible dates come out null the same way.
    """
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = (
        pl.when(month == 2)
        .then(pl.when(leap).then(29).otherwise(28))
        .when(month.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )
    valid = (
        year.is_between(1, 9999)
        & month.is_between(1, 12)
        & (day >= 1)
        & (day <= month_days)
        & clock.str.contains(_CLOCK)
    )
    base = pl.format(
        "{}-{}-{}T{}",
        year.cast(pl.String).str.zfill(4),
        month.cast(pl.String).str.zfill(2),
        day.cast(pl.String).str.zfill(2),
        clock,
    )
    text = (
        pl.when(fraction.is_null())
        .then(pl.concat_str([base, pl.lit("Z")]))
        .otherwise(pl.concat_str([base, pl.lit("."), fraction, pl.lit("Z")]))
    )
    return pl.when(valid.fill_null(False)).then(text)


MONTH_NUMBER = pl.DataFrame(
    {"mon": list(_MONTHS), "month": list(_MONTHS.values())}, schema={"mon": pl.String, "month": pl.Int8}
)
