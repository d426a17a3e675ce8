"""E-mail addresses: strip the stray characters exports leave around them, lower-case the domain.

Exports wrap addresses in ``<...>``, ``<-``, quotes, or leave list separators and sentence punctuation
behind (``a@b.com;``, ``a@b.com.``). The local part is kept as written (it is case-sensitive by RFC 5321);
the domain is lower-cased because DNS is not.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

#: A pragmatic address: dot-atom local part, dotted domain with a 2+ letter TLD.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
EMAIL_PATTERN = rf"{_LOCAL}@{_DOMAIN}"
_WHOLE = re.compile(rf"^({_LOCAL})@({_DOMAIN})$")
_FIND = re.compile(rf"(?<![A-Za-z0-9._%+-])({_LOCAL})@({_DOMAIN})")
#: What may stand around an address in an export and is not part of it.
_STRAY = " \t\r\n<>\"'`;,.:()[]{}"


@lru_cache(maxsize=1 << 16)
def clean_email(value: str | None) -> str | None:
    """The cleaned address, or ``None`` when ``value`` is not exactly one address after stripping.

    Cached: exports repeat the same few thousand addresses over millions of rows.
    """
    if value is None:
        return None
    text = value.strip()
    if text.startswith("<-"):  # a mail log's arrow, not part of the local part
        text = text[2:]
    text = text.strip(_STRAY)
    match = _WHOLE.match(text)
    if match is None:
        return None
    return f"{match.group(1)}@{match.group(2).lower()}"


def find_emails(text: str | None) -> list[str]:
    """All addresses in ``text``, cleaned, in order of appearance, without repeats."""
    if not text:
        return []
    seen: dict[str, None] = {}
    for match in _FIND.finditer(text):
        local = match.group(1)
        if local.startswith("-") and text[match.start() - 1 : match.start()] == "<":
            local = local[1:]  # the arrow of "<-a@b.com", not part of the address
        seen.setdefault(f"{local}@{match.group(2).lower()}", None)
    return list(seen)


def clean_email_expr(column: pl.Expr) -> pl.Expr:
    """Vectorised :func:`clean_email`."""
    stripped = column.str.strip_chars().str.replace(r"^<-", "").str.strip_chars(_STRAY)
    parts = stripped.str.extract_groups(rf"^({_LOCAL})@({_DOMAIN})$")
    return (
        pl.when(parts.struct.field("1").is_not_null())
        .then(
            pl.concat_str([parts.struct.field("1"), pl.lit("@"), parts.struct.field("2").str.to_lowercase()])
        )
        .alias(column.meta.output_name(raise_if_undetermined=False) or "email")
    )
