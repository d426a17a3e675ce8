"""Log format plugins and their registry.

Built-in formats register here explicitly; third-party formats register through the ``ppcti.formats``
entry-point group (each entry point names a :class:`~ppcti.formats.base.LogFormat` instance). A new log
format is one module: a class with ``score`` and ``parse``, and one line below.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from ppcti.errors import ConfigError
from ppcti.formats.base import BATCH_COLUMNS, LogFormat, ParsedBatch, ParseOptions

if TYPE_CHECKING:
    from ppcti.ingest import SourceFile

__all__ = [
    "BATCH_COLUMNS",
    "DETECTION_THRESHOLD",
    "Detection",
    "LogFormat",
    "ParseOptions",
    "ParsedBatch",
    "available",
    "detect",
    "get",
    "register",
]

#: A file is given to the best-scoring format only if that score reaches this.
DETECTION_THRESHOLD = 0.5

_REGISTRY: dict[str, LogFormat] = {}
_loaded = False


def register(fmt: LogFormat) -> LogFormat:
    """Add a format; a second format with the same name is a configuration error."""
    if fmt.name in _REGISTRY and _REGISTRY[fmt.name] is not fmt:
        raise ConfigError(f"log format {fmt.name!r} is registered twice")
    _REGISTRY[fmt.name] = fmt
    return fmt


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from ppcti.formats.email_csv import EmailCsv
    from ppcti.formats.events_json import EventsJson
    from ppcti.formats.firewall_text import FirewallText

    for fmt in (FirewallText(), EmailCsv(), EventsJson()):
        register(fmt)
    for ep in entry_points(group="ppcti.formats"):
        register(ep.load())


def available() -> dict[str, LogFormat]:
    """All registered formats by name."""
    _load()
    return dict(_REGISTRY)


def get(name: str) -> LogFormat:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown log format {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


@dataclass(frozen=True, slots=True)
class Detection:
    """The outcome of format recognition for one file: the winner (or None) and every score."""

    format: str | None
    score: float
    scores: dict[str, float]


def detect(source: SourceFile, sample: str | None = None) -> Detection:
    """Score ``source`` with every format that reads its kind; the best one above the threshold wins."""
    _load()
    text = source.sample_text() if sample is None else sample
    scores = {
        name: round(float(fmt.score(source, text)), 3)
        for name, fmt in _REGISTRY.items()
        if source.kind in fmt.kinds
    }
    best = max(scores.items(), key=lambda kv: (kv[1], kv[0]), default=(None, 0.0))
    if best[0] is None or best[1] < DETECTION_THRESHOLD:
        return Detection(None, best[1], scores)
    return Detection(best[0], best[1], scores)
