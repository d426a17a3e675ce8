"""The compiled helpers of package ``ppcti-native`` (``native/``, Rust), when they are installed.

Today that is the line scanner of ``firewall-text``, the hottest step of a firewall run. It has a pure
Polars reference that gives the same output (the two are tested against each other), so ppcti works
without a Rust toolchain, only slower; ``PPCTI_NATIVE=0`` forces the reference path.
"""

from __future__ import annotations

import os
from types import ModuleType


def native_module() -> ModuleType | None:
    """``ppcti_native``, or None when it is not installed or ``PPCTI_NATIVE=0``."""
    if os.environ.get("PPCTI_NATIVE", "1") == "0":
        return None
    try:
        import ppcti_native
    except ImportError:
        return None
    return ppcti_native
