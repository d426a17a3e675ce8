"""Synthetic, deterministic sample datasets with ground truth.

``generate()`` writes realistic logs in the three formats ppcti reads (MikroTik firewall text, e-mail
gateway CSV/XLSX exports, Suricata/ECS/Zeek JSON feeds) with the defects the cleaning stage must repair,
and ``ground_truth.jsonl`` saying what every entry must become. See ``docs/samples.md``.
"""

from ppcti.samples.build import (
    DEFAULT_HOLDER,
    DEFAULT_ROWS,
    DEFAULT_SEED,
    FORMATS,
    TIME_CONFIG,
    GeneratedFile,
    GeneratedSet,
    generate,
)
from ppcti.samples.truth import STIX_TIMESTAMP, load_ground_truth

__all__ = [
    "DEFAULT_HOLDER",
    "DEFAULT_ROWS",
    "DEFAULT_SEED",
    "FORMATS",
    "STIX_TIMESTAMP",
    "TIME_CONFIG",
    "GeneratedFile",
    "GeneratedSet",
    "generate",
    "load_ground_truth",
]
