"""Repair of delimited rows whose field count does not match the header.

Exports lose or gain delimiters: a missing comma glues two fields (``...10:38:03user@x.com``), an
unquoted comma in free text splits one (``Invoice, urgent``), and address lists spill over into extra
columns. A row is repaired only when the column roles (date, address, address list, free text, short
token) admit exactly one reading of its fields; otherwise it is rejected with the reason. Every reading is
searched, so "unambiguous" is a checked property, not a hope.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache, lru_cache

from ppcti.clean.emails import clean_email
from ppcti.clean.timestamps import TimeContext, cached_stix_timestamp


class Role(Enum):
    DATE = "date"
    ADDRESS = "address"  # exactly one e-mail address (or empty)
    ADDRESSES = "addresses"  # a list of addresses, may spill over several fields
    TEXT = "text"  # free text, may contain the delimiter
    TOKEN = "token"  # a short value without free text (verdict, id, size)
    IP = "ip"


_SPLIT = re.compile(r"[;,\s]+")


@dataclass(frozen=True, slots=True)
class Reading:
    """One consistent assignment: for each column, the fields it takes (joined by the delimiter)."""

    values: tuple[str, ...]
    repair: str | None  # None (row as it was), "merged" or "extra"


@lru_cache(maxsize=1 << 16)
def addresses_in(field: str) -> tuple[str, ...] | None:
    """The cleaned addresses of an address-list field; ``None`` if any part is not an address."""
    parts = [p for p in _SPLIT.split(field.strip()) if p]
    cleaned = [clean_email(p) for p in parts]
    if any(c is None for c in cleaned):
        return None
    return tuple(c for c in cleaned if c is not None)


def _is_ip(field: str) -> bool:
    try:
        ipaddress.ip_address(field.strip())
    except ValueError:
        return False
    return True


def fits(role: Role, field: str, time: TimeContext) -> bool:
    """Whether one field can hold a value of ``role``."""
    text = field.strip()
    if role is Role.DATE:
        return cached_stix_timestamp(text, time) is not None
    if role is Role.ADDRESS:
        return text == "" or clean_email(text) is not None
    if role is Role.ADDRESSES:
        return text == "" or addresses_in(text) is not None
    if role is Role.IP:
        return text == "" or _is_ip(text)
    if role is Role.TOKEN:
        return len(text) <= 64 and clean_email(text) is None and "@" not in text
    return True  # TEXT


def _strong(role: Role) -> bool:
    return role in (Role.DATE, Role.ADDRESS, Role.ADDRESSES, Role.IP)


def _tight(role: Role, part: str, check: Callable[[Role, str], bool]) -> bool:
    """A part of a split field: no stray characters at the cut, so the cut point is well defined."""
    if not part.strip() or part != part.strip():
        return False
    if role is Role.ADDRESS:
        return (
            clean_email(part) == part[: part.index("@")] + part[part.index("@") :].lower()
            if "@" in part
            else False
        )
    return check(role, part)


def read_row(
    fields: Sequence[str], roles: Sequence[Role], delimiter: str, time: TimeContext, *, limit: int = 2
) -> list[Reading]:
    """All readings of ``fields`` under ``roles`` (at most ``limit``: two already mean "ambiguous")."""
    n, m = len(fields), len(roles)
    if n == m and all(fits(r, f, time) for r, f in zip(roles, fields, strict=True)):
        return [Reading(tuple(fields), None)]
    check: Callable[[Role, str], bool] = cache(lambda role, field: fits(role, field, time))
    out: list[Reading] = []

    def absorbs(role: Role) -> bool:
        return role in (Role.ADDRESSES, Role.TEXT)

    def walk(i: int, j: int, acc: list[str], repair: str | None) -> None:
        if len(out) >= limit:
            return
        if j == m:
            if i == n:
                out.append(Reading(tuple(acc), repair))
            return
        if i == n:
            return
        role = roles[j]
        # 1. the field as it is
        if check(role, fields[i]):
            walk(i + 1, j + 1, [*acc, fields[i]], repair)
        # 2. several fields joined (an unquoted delimiter in text, an address list that spilled over)
        if absorbs(role) and n > m and repair in (None, "extra"):
            for k in range(i + 2, n - (m - j - 1) + 1):
                parts = fields[i:k]
                if role is Role.TEXT and any(clean_email(p) is not None for p in parts):
                    continue  # a bare address is never free text: it belongs to an address column
                joined = delimiter.join(parts)
                if role is Role.ADDRESSES and not all(check(Role.ADDRESSES, p) for p in parts):
                    continue
                walk(k, j + 1, [*acc, joined], "extra")
        # 3. one field holding two typed columns whose delimiter went missing (date|address, ...);
        #    free text never takes part, since any cut of it would fit
        if n < m and j + 1 < m and repair in (None, "merged") and _strong(role) and _strong(roles[j + 1]):
            field = fields[i]
            for cut in range(1, len(field)):
                if _tight(role, field[:cut], check) and _tight(roles[j + 1], field[cut:], check):
                    walk(i + 1, j + 2, [*acc, field[:cut], field[cut:]], "merged")

    walk(0, 0, [], None)
    return out
