import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.clean.emails import clean_email, clean_email_expr, find_emails

CASES = [
    ("angle", "<alice@Example.COM>", "alice@example.com"),
    ("arrow", "<-bob.smith@Corp.Example", "bob.smith@corp.example"),
    ("quotes", '"carol@example.org"', "carol@example.org"),
    ("semicolon", "dave@example.org;", "dave@example.org"),
    ("trailing-dot", "erin@example.org.", "erin@example.org"),
    ("local-part-case-kept", "Frank.Ng@EXAMPLE.org", "Frank.Ng@example.org"),
    ("plus-tag", "  gil+spam@example.net , ", "gil+spam@example.net"),
    ("no-at", "not an address", None),
    ("no-tld", "a@b", None),
    ("two-addresses", "a@b.com c@d.com", None),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_clean_email(raw: str, expected: str | None) -> None:
    assert clean_email(raw) == expected


def test_vectorised_agrees() -> None:
    values = [c[1] for c in CASES]
    out = pl.DataFrame({"e": values}).select(clean_email_expr(pl.col("e")))["e"].to_list()
    assert out == [clean_email(v) for v in values]


def test_find_emails_keeps_order_and_drops_repeats() -> None:
    text = "From <a@X.org> to b@y.org; cc A@x.ORG, a@x.org and <-c@z.net>"
    assert find_emails(text) == ["a@x.org", "b@y.org", "A@x.org", "c@z.net"]


local = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,5})?", fullmatch=True)
domain = st.from_regex(r"[a-z]{1,10}\.[a-z]{2,5}", fullmatch=True)


@given(
    local, domain, st.sampled_from(["", "<", "<-", '"', " "]), st.sampled_from(["", ">", '"', ";", ".", ","])
)
def test_stray_characters_are_stripped(lp: str, dom: str, left: str, right: str) -> None:
    wrapped = f"{left}{lp}@{dom.upper()}{right}"
    assert clean_email(wrapped) == f"{lp}@{dom}"
