"""Regex mode tries the name patterns only where a cue word ends: the same spans as testing every position.

The anchored search is an optimisation of ``pattern.search``; it must give the very matches the plain
search gives, including the restarts inside a rejected match, on texts full of the near misses that
matter: cue words glued to other words, cues with and without a full stop, overlapping cues, several
spaces, capitalised non-names, and Unicode.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.pii import PiiOptions
from ppcti.pii import text as text_module
from ppcti.pii.text_rules import _STRONG_CUES, _WEAK_CUES

OPTIONS = PiiOptions(nlp="regex")

WORDS = [
    *_STRONG_CUES[:12], *_WEAK_CUES, "dear", "DR", "Mrx", "xMr", "Anna", "Müller", "O'Brien", "van", "der",
    "Jeżyk", "Support", "Team", "Monday", "Ren", "Madrid", "john", "Smith-Jones", "42", "ALICE", "Ärzte",
]  # fmt: skip
SEPARATORS = [" ", ". ", ", ", "  ", "\n", "-", ".", "", "\t", " (", ") "]


def _plain_spans(text: str) -> list[text_module.Span]:
    """The same matcher with every anchor removed: the pattern tested at every position."""
    compiled = text_module._compiled(OPTIONS)
    unanchored = tuple((det, pattern, None) for det, pattern, _anchor in compiled)
    original = text_module._compiled
    text_module._compiled = lambda _options: unanchored  # type: ignore[assignment]
    try:
        return text_module._regex_spans(text, OPTIONS)
    finally:
        text_module._compiled = original


def test_the_name_detectors_are_anchored() -> None:
    anchored = {det.name for det, _pattern, anchor in text_module._compiled(OPTIONS) if anchor is not None}
    assert {"name_after_title", "name_in_context"} <= anchored


@pytest.mark.parametrize(
    "text",
    [
        "Dear Mr John Smith, regards Anna. Dr. Who met Frau Müller and Brother Tom",
        "Mr Mrs Smith by Ren and for Madrid, von Jeżyk; Hi  Anna\nThanks Bob",
        "xMr Anna DrAnna Dr.Anna Dr. anna Mr. O'Brien-Smith van der Berg",
        "Yesterday Mr Support Team and Dr Anna Maria van der Berg Jones",
    ],
)
def test_known_texts_give_the_same_spans(text: str) -> None:
    assert text_module._regex_spans(text, OPTIONS) == _plain_spans(text)


@given(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=40))
def test_random_texts_give_the_same_spans(parts: list[tuple[str, str]]) -> None:
    text = "".join(word + sep for word, sep in parts)
    spans = text_module._regex_spans(text, OPTIONS)
    assert spans == _plain_spans(text)


def test_the_anchor_finds_every_cue_end() -> None:
    det, pattern, anchor = next(
        entry for entry in text_module._compiled(OPTIONS) if entry[0].name == "name_after_title"
    )
    text = "Mr. Mrs Dr Dear  Hi. Herr-Frau Sir"
    ends = {m.end() for m in anchor.finditer(text)}
    lookbehind = re.compile(det.text_regex.split("[", 1)[0] + r"\w")  # the cue alternation before a letter
    possible = {m.start() for m in lookbehind.finditer(text)}
    assert possible and possible <= ends
    assert pattern.pattern == det.text_regex
