"""Masked examples: recognisable shape, never the value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.pii.masking import mask
from ppcti.pii.options import TYPE_IDS


@pytest.mark.parametrize(
    ("type_id", "value", "masked"),
    [
        ("EMAIL_ADDRESS", "john@example.com", "j***@e******.com"),
        ("IP_ADDRESS", "203.0.113.5", "203.0.***.***"),
        ("IP_ADDRESS", "2001:db8::1", "2001:****:****:****:****:****:****:****"),
        ("CREDIT_CARD", "4111 1111 1111 1111", "**** **** **** 1111"),
        ("PERSON", "John Doe", "J*** D**"),
        ("NATIONAL_ID", "123-45-6789", "1**-**-****"),
        ("BIRTH_DATE", "1985-03-07", "****-**-**"),
        ("MAC_ADDRESS", "00:1a:2b:3c:4d:5e", "00:1a:2b:**:**:**"),
    ],
)
def test_partial_masks_keep_the_old_detail_on_request(type_id: str, value: str, masked: str) -> None:
    assert mask(type_id, value, "partial") == masked


@pytest.mark.parametrize(
    ("type_id", "value", "masked"),
    [
        ("EMAIL_ADDRESS", "john@example.com", "***@***.***"),
        ("IP_ADDRESS", "203.0.113.5", "***.***.***.***"),
        ("IP_ADDRESS", "2001:db8::1", "***:***::***"),
        ("CREDIT_CARD", "4111 1111 1111 1111", "*** *** *** ***"),
        ("PERSON", "John Doe", "*** ***"),
        ("PERSON", "Bartholomew   Al", "*** ***"),
        ("BIRTH_DATE", "1985-03-07", "***-***-***"),
        ("MAC_ADDRESS", "00:1a:2b:3c:4d:5e", "***:***:***:***:***:***"),
        ("POSTAL_CODE", "85-316", "***-***"),
    ],
)
def test_default_masks_keep_only_the_shape(type_id: str, value: str, masked: str) -> None:
    assert mask(type_id, value) == masked


@given(st.sampled_from(TYPE_IDS), st.text(min_size=1, max_size=60))
def test_default_mask_keeps_no_letter_or_digit(type_id: str, value: str) -> None:
    """Whatever the value, the default example holds no letter or digit of it, and values of equal shape
    but different lengths mask the same."""
    masked = mask(type_id, value)
    assert not any(ch.isalnum() for ch in masked)
    assert mask(type_id, value + value[-1:] if value[-1:].isalnum() else value) == masked


@given(
    st.sampled_from(TYPE_IDS),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789@.-: ", min_size=6, max_size=40),
)
def test_mask_hides_most_characters(type_id: str, value: str) -> None:
    """Whatever the type, at most ~half the letters and digits survive, and never the whole value."""
    masked = mask(type_id, value, "partial")
    alnum = sum(ch.isalnum() for ch in value.strip())
    kept = sum(ch.isalnum() for ch in masked)
    if alnum >= 6:
        assert masked != value.strip()
        assert kept <= max(4, alnum // 2 + 2)


def test_public_api_matches_all() -> None:
    import ppcti.pii as pii

    namespace: dict[str, object] = {}
    exec("from ppcti.pii import *", namespace)
    assert set(pii.__all__) <= set(namespace)
    assert {"scan_upload", "scan_paths", "classify_table", "analyze_text", "write_pii_json"} <= set(
        pii.__all__
    )
