"""JSON-lines files as the project reads them: blank lines skipped, a broken line named by file and line.

Runs, CTI, ground truth and FHE inputs are all JSON lines; reading them through one function keeps the
error a user sees the same everywhere ("file:line: not a JSON STIX bundle") and keeps raw content out of
the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import FormatError, PpctiError


def iter_jsonl(
    path: Path, *, what: str = "valid JSON", error: type[PpctiError] = FormatError
) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` for every non-blank line of ``path``.

    A line that does not parse raises ``error("not <what>", file=path, line=n)``.
    """
    with Path(path).open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise error(f"not {what}", file=str(path), line=number) from exc
            yield number, value
