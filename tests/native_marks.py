"""Which part of ``ppcti-native`` a test module needs.

Without the compiled part the module is skipped (a developer's machine without the Rust build); with
``PPCTI_REQUIRE_NATIVE=1``, as CI sets it, it fails instead, so a broken build cannot pass as skipped.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def native_part(attribute: str) -> tuple[ModuleType | None, pytest.MarkDecorator]:
    """``(ppcti_native or None, the module's skip mark)`` for a test module that needs ``attribute``."""
    try:
        module: ModuleType | None = importlib.import_module("ppcti_native")
    except ImportError:
        module = None
    present = module is not None and hasattr(module, attribute)
    if not present and os.environ.get("PPCTI_REQUIRE_NATIVE") == "1":
        pytest.fail(f"PPCTI_REQUIRE_NATIVE=1 but ppcti_native has no {attribute}", pytrace=False)
    mark = pytest.mark.skipif(not present, reason=f"ppcti-native has no {attribute}")
    return (module if present else None), mark
