"""Where a file's missing year or date comes from, when its lines do not say.

BSD-syslog lines carry no year and router console lines no date. Within a file, the last complete
timestamp earlier in it fills the gap (:mod:`ppcti.formats.firewall_text`). A file with no complete
timestamp at all is completed, in this order, from:

1. ``settings``: ``--year`` / ``--date``;
2. ``upload``: the latest complete date found in the other files of the same upload (exports handed
   over together cover the same days);
3. ``archive member time``: the modification time the ZIP recorded for the file (when a log was last
   written), unless it is the ZIP format's "no date" value of 1980;
4. ``run clock``: the year of the run (a time-only line is then rejected: a day cannot be guessed).

The run summary names the source each file's dates came from, so no assumption is silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from ppcti.clean.timestamps import TimeContext

SETTINGS = "settings"
FILE = "file"
UPLOAD = "upload"
MEMBER_TIME = "archive member time"
RUN_CLOCK = "run clock"

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_FULL_DATE = re.compile(
    r"(?<![0-9])(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})[T ][0-9]{2}:[0-9]{2}"
    r"|(?<![A-Za-z])(?P<mon>[A-Za-z]{3})/(?P<rd>[0-9]{2})/(?P<ry>[0-9]{4})(?![0-9])"
)
#: ZIP writers store this when a file has no time; it says nothing about the log.
_ZIP_NO_DATE_YEAR = 1980


#: Parts every match of ``_FULL_DATE`` holds, led by a literal character: the regex engine skips to
#: that character at C speed, where ``_FULL_DATE`` tries both branches at every position (a 64 KiB sample
#: without a date cost ~6 ms).
_ISO_HINT = re.compile(r"-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")
_SLASH_HINT = re.compile(r"/[0-9]{2}/[0-9]{4}")


def _may_hold_date(sample: str) -> bool:
    """False only when ``_FULL_DATE`` matches nowhere in ``sample``."""
    if _ISO_HINT.search(sample):
        return True
    for found in _SLASH_HINT.finditer(sample):
        month = sample[max(0, found.start() - 3) : found.start()]
        if len(month) == 3 and month.isascii() and month.isalpha():
            return True
    return False


def latest_date(sample: str, *, max_matches: int = 100) -> date | None:
    """The latest plausible complete date (ISO or RouterOS style) written in ``sample``."""
    best: date | None = None
    if not _may_hold_date(sample):
        return None
    ceiling = datetime.now(UTC).year + 1
    for n, found in enumerate(_FULL_DATE.finditer(sample)):
        if n >= max_matches:
            break
        try:
            if found.group("y"):
                day = date(int(found.group("y")), int(found.group("m")), int(found.group("d")))
            else:
                month = _MONTHS.get(found.group("mon").lower())
                if month is None:
                    continue
                day = date(int(found.group("ry")), month, int(found.group("rd")))
        except ValueError:
            continue
        if 1990 <= day.year <= ceiling and (best is None or day > best):
            best = day
    return best


@dataclass(frozen=True, slots=True)
class FileDates:
    """The time context one file is parsed with, and where its year and date come from."""

    time: TimeContext
    source: str
    assumed: date | None = None


def file_dates(
    time: TimeContext,
    *,
    own: date | None,
    others: date | None,
    member_time: datetime | None,
) -> FileDates:
    """How to complete the timestamps of one file (see the module docstring for the order)."""
    if time.year is not None and time.date is not None:
        return FileDates(time, SETTINGS)
    if own is not None:
        return FileDates(time, FILE)
    if others is not None:
        ref, source = others, UPLOAD
    elif member_time is not None and member_time.year > _ZIP_NO_DATE_YEAR:
        ref, source = member_time.date(), MEMBER_TIME
    else:
        return FileDates(time, RUN_CLOCK)
    completed = replace(time, year=time.year if time.year is not None else ref.year, date=time.date or ref)
    return FileDates(completed, source, ref)


def rename_notes(notes: dict[str, int], dates: FileDates) -> tuple[dict[str, int], str | None]:
    """The parser's notes with settings-made assumptions credited to their real source, and the
    source to report for the file (``None`` when no line needed a year or date)."""
    counts = dict(notes)
    used = {k: v for k, v in counts.items() if k.startswith(("year_from_", "date_from_")) and v}
    if not used:
        return counts, None
    if dates.source in (UPLOAD, MEMBER_TIME):
        label = dates.source.replace(" ", "_")
        for key in ("year_from_settings", "date_from_settings"):
            if key in counts:
                counts[key.replace("settings", label)] = counts.pop(key)
        return counts, dates.source
    if any(k.endswith("_run_date") for k in used):
        return counts, RUN_CLOCK
    if any(k.endswith("_settings") for k in used):
        return counts, SETTINGS
    return counts, FILE
