"""Rendering one instant in the timestamp styles the three formats use, and in the STIX form.

Generators keep time as integer microseconds since the epoch (UTC) and render it twice: in the style a
device writes, and in the STIX form the ground truth expects. Rendering from one integer is what makes
the two agree by construction. Names of days and months are spelled out here rather than taken from
``strftime``, whose output depends on the process locale.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

MONTHS: tuple[str, ...] = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

US = 1_000_000


def epoch_us(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """Microseconds since the epoch of a UTC wall-clock time."""
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()) * US


def _dt(us: int, offset_minutes: int = 0) -> datetime:
    tz = UTC if offset_minutes == 0 else timezone(timedelta(minutes=offset_minutes))
    return datetime.fromtimestamp(us // US, tz)


def stix(us: int, digits: int = 0) -> str:
    """``YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z`` with ``digits`` fractional digits (0, 3 or 6)."""
    d = _dt(us)
    base = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    if digits == 0:
        return base + "Z"
    frac = f"{us % US:06d}"[:digits]
    return f"{base}.{frac}Z"


def _offset(offset_minutes: int, colon: bool) -> str:
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}" if colon else f"{sign}{hours:02d}{minutes:02d}"


def routeros_local(us: int) -> str:
    """RouterOS local log: ``Mar/07/2023 10:38:03`` (no zone)."""
    d = _dt(us)
    return f"{MONTHS[d.month - 1]}/{d.day:02d}/{d.year:04d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"


def rfc3339(us: int, offset_minutes: int) -> str:
    """rsyslog's high-precision form: ``2023-03-18T20:35:05.734011+01:00``."""
    d = _dt(us, offset_minutes)
    return (
        f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        f".{us % US:06d}{_offset(offset_minutes, colon=True)}"
    )


def bsd(us: int) -> str:
    """BSD syslog (RFC 3164): ``Mar  2 08:14:23``: no year, no zone, day padded with a space."""
    d = _dt(us)
    return f"{MONTHS[d.month - 1]} {d.day:2d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"


def time_only(us: int) -> str:
    """RouterOS console for today's entries: ``10:38:03``."""
    d = _dt(us)
    return f"{d.hour:02d}:{d.minute:02d}:{d.second:02d}"


def iso_space(us: int) -> str:
    """Spreadsheet-style export: ``2023-03-07 10:38:03`` (no zone)."""
    d = _dt(us)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"


def dmy_minutes(us: int) -> str:
    """European export to the minute: ``14/03/2023 10:38`` (day first, no zone, no seconds)."""
    d = _dt(us)
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d} {d.hour:02d}:{d.minute:02d}"


def rfc2822(us: int, offset_minutes: int) -> str:
    """Mail header date: ``Tue, 07 Mar 2023 10:38:03 +0100``."""
    d = _dt(us, offset_minutes)
    return (
        f"{DAYS[d.weekday()]}, {d.day:02d} {MONTHS[d.month - 1]} {d.year:04d} "
        f"{d.hour:02d}:{d.minute:02d}:{d.second:02d} {_offset(offset_minutes, colon=False)}"
    )


def eve(us: int, offset_minutes: int) -> str:
    """Suricata EVE: ``2017-03-25T16:49:58.856335-0600`` (offset without a colon)."""
    d = _dt(us, offset_minutes)
    return (
        f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        f".{us % US:06d}{_offset(offset_minutes, colon=False)}"
    )


def ecs(us: int) -> str:
    """Elastic ``@timestamp``: UTC with milliseconds, ``2023-03-22T10:38:03.123Z``."""
    return stix(us, 3)


def zeek(us: int) -> str:
    """Zeek ``ts``: epoch seconds with six decimals, written as a JSON number."""
    return f"{us // US}.{us % US:06d}"


def nonzero_last_digit(us: int, digits: int) -> int:
    """Nudge ``us`` forward so its last written fractional digit is not 0.

    A fraction like ``.120`` is ambiguous once parsed (was the source precision 2 or 3 digits?), and a
    JSON float loses trailing zeros; avoiding them keeps the expected precision unambiguous.
    """
    step = 10 ** (6 - digits)
    while (us // step) % 10 == 0:
        us += step
    return us
