"""Privacy assessment of a run: posture, re-identification risk, breach severity and cost, and the
recommendation of a privacy-enhancing technique (``ppcti assess``; method in docs/assess.md)."""

from __future__ import annotations

__all__ = ["SCHEMA", "assess", "load_profile"]

from ppcti.assess.engine import SCHEMA, assess
from ppcti.assess.profile import load_profile
