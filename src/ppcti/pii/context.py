"""What classification needs that is built once per rules file: the header vocabulary and the detectors.

Kept apart from :mod:`ppcti.pii.columns` and :mod:`ppcti.pii.text` so both can use it without importing
each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ppcti.pii.detectors import DETECTORS, Detector
from ppcti.pii.options import PiiOptions
from ppcti.pii.rules import load_rules
from ppcti.pii.vocabulary import Vocabulary, load_vocabulary


@dataclass(slots=True)
class Context:
    """Everything classification needs that is built once per rules file (vocabulary, detectors)."""

    vocabulary: Vocabulary
    detectors: tuple[Detector, ...]
    #: the detectors that run on table columns, strongest evidence first (sorted once, not per column)
    column_detectors: tuple[Detector, ...] = ()

    def __post_init__(self) -> None:
        if not self.column_detectors:
            ranked = sorted((d for d in self.detectors if d.in_columns), key=lambda d: -d.specificity)
            self.column_detectors = tuple(ranked)


def build_context(options: PiiOptions) -> Context:
    """Detectors (built-in plus custom rules) and the header vocabulary, taught the rules' keywords.
    Built once per rules file, whatever the other options."""
    return _context_for(options.rules_file)


@lru_cache(maxsize=8)
def _context_for(rules_file: Path | None) -> Context:
    vocabulary = load_vocabulary()
    custom = load_rules(rules_file)
    for rule in custom:
        vocabulary.add_synonyms(rule.name, rule.header_keywords or (rule.name.replace("_", " "),))
    from ppcti.pii.text_rules import TEXT_DETECTORS, address_detector

    detectors = tuple(r.detector() for r in custom) + DETECTORS + TEXT_DETECTORS + (address_detector(),)
    return Context(vocabulary=vocabulary, detectors=detectors)
