"""The compiled helpers of package ``ppcti-native`` (``native/``, Rust), when they are installed.

They are the line scanner of ``firewall-text``, the readers of ``events-json`` and ``email-csv``, the
writers of events and cleaned lines, and the analysis' reader of ``events.jsonl``
(:mod:`ppcti.analysis._load_native`): the hottest steps of a run. Each has a pure Python/Polars
reference that gives the same output (they are tested against each other), so ppcti works without a
Rust toolchain, only slower. ``PPCTI_NATIVE=0`` (or ``false``, ``off``, ``no``) forces the reference
path.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from types import ModuleType

#: The interface this Python code expects of the extension (``INTERFACE`` in ``native/src/lib.rs``).
INTERFACE = 15

_log = logging.getLogger(__name__)


def native_module() -> ModuleType | None:
    """``ppcti_native``, or None when it is switched off, not installed, or built for another interface."""
    if os.environ.get("PPCTI_NATIVE", "1").strip().lower() in ("0", "false", "off", "no"):
        return None
    return _load()


@cache
def _load() -> ModuleType | None:
    try:
        import ppcti_native
    except ImportError:
        return None
    if getattr(ppcti_native, "INTERFACE", None) != INTERFACE:
        _log.warning(
            "ppcti-native is a stale build (interface %s, expected %s): not used; rebuild it "
            "with ./scripts/test or pip install ./native",
            getattr(ppcti_native, "INTERFACE", None),
            INTERFACE,
        )
        return None
    return ppcti_native
