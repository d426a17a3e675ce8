"""``Finding.to_dict`` is what ``pii.json`` and the ``ppcti.pii`` topic carry: every set field, in
declaration order, as :func:`dataclasses.asdict` gives it, and a copy the finding does not share."""

from __future__ import annotations

from dataclasses import asdict

import orjson
from hypothesis import given
from hypothesis import strategies as st

from ppcti.pii.model import Finding

_text = st.text(max_size=12)
_maybe_int = st.none() | st.integers(min_value=0, max_value=10**9)

findings = st.builds(
    Finding,
    file=_text,
    type=_text,
    confidence=st.floats(min_value=0, max_value=1),
    detector=_text,
    column=st.none() | _text,
    start=_maybe_int,
    end=_maybe_int,
    line=_maybe_int,
    matched=st.integers(min_value=0, max_value=10**6),
    sampled=st.integers(min_value=0, max_value=10**6),
    match_rate=st.none() | st.floats(min_value=0, max_value=1),
    runner_up=st.lists(
        st.dictionaries(_text, st.integers(min_value=-(2**63), max_value=2**63 - 1) | _text, max_size=3),
        max_size=3,
    ),
    examples=st.lists(_text, max_size=3),
)


@given(findings)
def test_to_dict_is_asdict_without_nones(finding: Finding) -> None:
    expected = {k: v for k, v in asdict(finding).items() if v is not None}
    got = finding.to_dict()
    assert list(got) == list(expected)
    assert orjson.dumps(got) == orjson.dumps(expected)


def test_to_dict_does_not_share_the_lists() -> None:
    finding = Finding(
        file="f", type="EMAIL", confidence=1.0, detector="d", runner_up=[{"type": "X"}], examples=["a"]
    )
    out = finding.to_dict()
    out["runner_up"][0]["type"] = "Y"
    out["examples"].append("b")
    assert finding.runner_up == [{"type": "X"}]
    assert finding.examples == ["a"]
