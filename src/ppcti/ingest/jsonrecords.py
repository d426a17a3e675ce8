"""JSON records read one by one from text that is not one valid document.

A feed cut short by a full disk, documents written one after another (``{...}{...}``, pretty-printed or
not), an array with one ``NaN`` in it: a strict parser refuses each of these whole, and reading them line
by line turns one pretty-printed record into a dozen rejects. Here values are decoded one after another
with the standard library's C scanner; a value that does not decode is one :class:`BadRecord`, and
reading resumes where the next record starts:

1. pretty-printed text: the next line that opens ``{`` at the same indentation as the broken record;
2. otherwise: the next ``}, {`` (or ``},{``) after it, where records of a one-line array meet;
3. failing both, the rest of the text is the bad span.

``NaN``, ``Infinity`` and ``-Infinity`` are not JSON: a record holding one is bad, the others are not.
An escaped lone surrogate (``"\\ud800"``) decodes to a character no UTF-8 text can hold; it becomes
``?``, as in the records the streaming array parser reads.
Records are numbered from 1 in the order they appear, bad ones included, which is the ``line`` the
events-json format gives records of arrays and documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Characters of a bad span kept as its raw text.
MAX_RAW = 2000

_WS = re.compile(r"[ \t\r\n]*")
_SEP = re.compile(r"[ \t\r\n,]*")
_NEXT_INLINE = re.compile(r"\}[ \t\r\n]*,[ \t\r\n]*(?=\{)")


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A span that does not decode: its position among the records, the parser's reason, its text."""

    index: int
    reason: str
    raw: str


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _without_surrogates(value: Any) -> Any:
    """``value`` with each surrogate code point of its strings (keys too) replaced by ``?``."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def _resync(text: str, start: int) -> int:
    """Where the record after the broken one starting at ``start`` begins (``len(text)`` if nowhere)."""
    line_start = text.rfind("\n", 0, start) + 1
    indent = text[line_start:start]
    if not indent.strip():  # the record opens its line: look for the next one opened the same way
        found = re.compile("\n" + re.escape(indent) + r"\{").search(text, start + 1)
        if found is not None:
            return found.start() + 1 + len(indent)
    inline = _NEXT_INLINE.search(text, start + 1)
    if inline is not None:
        return inline.end()
    return len(text)


def iter_json_records(text: str) -> Iterator[tuple[int, Any] | BadRecord]:
    """``(index, value)`` for each record of ``text`` and :class:`BadRecord` for each broken span.

    The elements of a top-level array are records; so are top-level values one after another.
    """
    index = 0
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    end = len(text)
    in_array = False
    while pos < end:
        char = text[pos]
        if not in_array and char == "[":
            in_array = True
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            continue
        if in_array and char == "]":
            in_array = False
            pos = _SEP.match(text, pos + 1).end()  # type: ignore[union-attr]
            continue
        index += 1
        try:
            value, after = _DECODER.raw_decode(text, pos)
        except ValueError as exc:  # JSONDecodeError, or a NaN refused above
            resume = _resync(text, pos)
            span = text[pos:resume].rstrip(" \t\r\n,]")
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            yield BadRecord(index, f"not valid JSON: {reason}", span[:MAX_RAW])
            pos = resume
            continue
        if _SURROGATE_ESCAPE.search(text, pos, after):
            value = _without_surrogates(value)
        yield index, value
        pos = _SEP.match(text, after).end()  # type: ignore[union-attr]
