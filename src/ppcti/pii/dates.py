"""Dates as people write them in European data: parsing and the checks built on it.

Numeric dates are read from their digits (year first with four digits, otherwise day first, month first
only where day first cannot be; two-digit years in the last century when not yet reached), word dates with
month names of every CLDR language, and the suffixes forms add ("2023 г.", "1973.", "r.").
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache

from ppcti.pii.cldr import cldr

_DATE_SUFFIX = re.compile(r"\s*(?:г\.?|r\.?|god\.?|m\.?|\.)$", re.IGNORECASE)
_DOT_SPACE = re.compile(r"(?<=\d)\.\s+(?=\d)")


def parse_date(value: str, today: date | None = None) -> date | None:
    """Parse the common date and date-time notations; ``None`` when none fits. Written as European
    forms write them too: "1975. 01. 29." (hu), "11. 10. 2016" (cs), "06.07.1973." (lv), "03.08.2023 г."
    (bg), two-digit years (a year not yet reached is in the previous century)."""
    v = _DOT_SPACE.sub(".", _DATE_SUFFIX.sub("", value.strip()))
    if not 6 <= len(v) <= 35:
        return None
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    if v[:3].isalpha() and "," in v[:5]:  # RFC 5322 mail dates: "Sat, 11 Mar 2023 08:00:31 +0100"
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(v).date()
        except (TypeError, ValueError, IndexError):
            return None
    head = v.split(" ")[0] if ":" in v else v
    m = _NUMERIC_DATE.fullmatch(head)
    if m:
        return _numeric_date(*m.groups(), today=today)
    if len(head) == 8 and head.isdigit():
        return _ymd(int(head[:4]), int(head[4:6]), int(head[6:]))
    return _word_date(value) if any(ch.isalpha() for ch in v) else None


_NUMERIC_DATE = re.compile(r"(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})")


def _ymd(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _numeric_date(a: str, b: str, c: str, today: date | None = None) -> date | None:
    """Year first when the first group has four digits; otherwise day first ("17.03.2024"), and month
    first only where day first cannot be ("03/17/2024"). Two-digit years: a year not yet reached is in
    the previous century. Read from the digits directly: ``strptime`` per candidate format costs ~15x."""
    if len(a) == 4:
        return _ymd(int(a), int(b), int(c)) if len(c) <= 2 else None
    if len(c) not in (2, 4) or len(a) > 2:
        return None
    year = int(c)
    if len(c) == 2:
        now = today or date.today()
        year += 2000 if 2000 + year <= now.year else 1900
    return _ymd(year, int(b), int(a)) or _ymd(year, int(a), int(b))


_TIME_SUFFIX = re.compile(r",? (?:at )?\d{1,2}:\d{2}(?::\d{2})?$")
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b")


_MONTH_NUMBERS = {
    name: i
    for i, names in enumerate(
        (
            ("january", "januar", "janvier", "jan"), ("february", "februar", "février", "feb"),
            ("march", "märz", "mars", "mar"), ("april", "avril", "apr"), ("may", "mai"),
            ("june", "juni", "juin", "jun"), ("july", "juli", "juillet", "jul"), ("august", "août", "aug"),
            ("september", "septembre", "sep", "sept"), ("october", "oktober", "octobre", "oct"),
            ("november", "novembre", "nov"), ("december", "dezember", "décembre", "dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip


@cache
def month_numbers() -> dict[str, int]:
    """Month names and abbreviations of every language in ``data/cldr.json`` (and the English, German
    and French ones above) to their number; the first language listing a word keeps it."""
    out = dict(_MONTH_NUMBERS)
    for lang in ("en", "de", "fr", "it", "es", "pt", "nl", "pl", *sorted(cldr()["months"])):
        for number, names in enumerate(cldr()["months"].get(lang, ()), start=1):
            for name in names:
                if len(name) >= 3:
                    out.setdefault(name, number)
    return out


_WORD_DATE = re.compile(r"(\d{1,2})\.? ([^\W\d_]+),? (\d{4})|([^\W\d_]+) (\d{1,2}),? (\d{4})")


def _word_date(value: str) -> date | None:
    m = _WORD_DATE.fullmatch(_ORDINAL.sub("", _TIME_SUFFIX.sub("", _DATE_SUFFIX.sub("", value.strip()))))
    if not m:
        return None
    day, month, year = (m.group(1), m.group(2), m.group(3)) if m.group(1) else m.group(5, 4, 6)
    number = month_numbers().get(month.lower().rstrip("."))
    if number is None:
        return None
    try:
        return date(int(year), number, int(day))
    except ValueError:
        return None


def date_value(value: str) -> bool:
    """A parseable date or date-time between 1800 and 2200, also with month names in the European
    languages ("July 6, 2026 at 10:15", "3. März 2024", "12 juillet 2023", "5 stycznia 2021")."""
    d = parse_date(value)
    return d is not None and 1800 <= d.year <= 2200


def birth_date(value: str, today: date | None = None) -> bool:
    """A date in the past, at most 120 years ago (age 0-120)."""
    d = parse_date(value)
    today = today or date.today()
    return d is not None and d <= today and today.year - d.year <= 120


def deceased_date(value: str, today: date | None = None) -> bool:
    d = parse_date(value)
    today = today or date.today()
    return d is not None and d.year >= 1900 and d <= today
