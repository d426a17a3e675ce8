"""Resource limits of an upload and the record of a refused member.

An upload is hostile until proven otherwise, so every resource it can make us spend (disk, file
handles, decompression time, nesting) has a cap here, with defaults sized for real log exports. A member
that breaks a cap is *refused*: recorded as a :class:`Refusal` and never extracted, while the rest of the
upload proceeds.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Default caps, in one place so docs and code agree.
DEFAULT_MAX_TOTAL_BYTES = 2 * 1024**3
DEFAULT_MAX_MEMBERS = 10_000
DEFAULT_MAX_RATIO = 200.0
DEFAULT_RATIO_MIN_BYTES = 1024**2
DEFAULT_MAX_DEPTH = 3
DEFAULT_MAX_MEMBER_BYTES = 1024**3
DEFAULT_MAX_LINE_BYTES = 1024**2


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps applied while an upload is opened and read.

    ``max_ratio`` is only checked for members larger than ``ratio_min_bytes`` once decompressed: a tiny
    file of blanks legitimately compresses 500:1, and a small member cannot hurt us whatever its ratio
    (the total and per-member size caps still apply to it).

    ``max_depth`` counts archive levels: the uploaded ZIP itself (or a ZIP found in an uploaded
    directory) is level 1, a ZIP inside it level 2, and so on.
    """

    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES
    max_members: int = DEFAULT_MAX_MEMBERS
    max_ratio: float = DEFAULT_MAX_RATIO
    max_depth: int = DEFAULT_MAX_DEPTH
    max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    ratio_min_bytes: int = DEFAULT_RATIO_MIN_BYTES

    def __post_init__(self) -> None:
        for name in ("max_total_bytes", "max_members", "max_member_bytes", "max_line_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be at least 1")
        if self.max_ratio <= 1 or self.max_depth < 1 or self.ratio_min_bytes < 0:
            raise ValueError("Limits.max_ratio must be > 1, max_depth >= 1 and ratio_min_bytes >= 0")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A member of an upload that was not extracted or not accepted, and why.

    ``member`` is the path inside the upload as the archive spelled it (control characters shown as
    ``?``), so a user can find it; ``reason`` never quotes file content.
    """

    member: str
    reason: str


def human_bytes(n: int) -> str:
    """``2147483648`` -> ``"2 GiB"``: limits are quoted in reasons the way users set them."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def printable_name(name: str) -> str:
    """A member name safe to print: control characters (terminal escapes, NUL) become ``?``."""
    return "".join("?" if (ord(c) < 32 or 127 <= ord(c) < 160) else c for c in name)
