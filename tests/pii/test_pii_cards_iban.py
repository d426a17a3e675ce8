"""Payment identifiers: Luhn with issuer ranges, IBAN mod-97."""

from __future__ import annotations

import pytest
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st

from ppcti.pii import checks

_fk = Faker(["en_US", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "pt_BR"])
_fk.seed_instance(1204)


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("4111 1111 1111 1111", id="visa-spaced"),
        pytest.param("4012888888881881", id="visa"),
        pytest.param("5555-5555-5555-4444", id="mastercard-dashed"),
        pytest.param("2223003122003222", id="mastercard-2series"),
        pytest.param("378282246310005", id="amex"),
        pytest.param("6011111111111117", id="discover"),
        pytest.param("3530111333300000", id="jcb"),
        pytest.param("30569309025904", id="diners"),
    ]
    + [
        pytest.param(_fk.credit_card_number(card_type=t), id=f"faker-{t}")
        for t in ("visa16", "mastercard", "amex")
    ],
)
def test_valid_cards(number: str) -> None:
    assert checks.credit_card(number)


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("4111 1111 1111 1112", id="luhn-off-by-one"),
        pytest.param("1234567812345670", id="luhn-ok-unknown-issuer"),
        pytest.param("4111111111111", id="visa-13-bad-luhn"),
        pytest.param("41111111111111111111", id="too-long"),
        pytest.param("4111-1111-abcd-1111", id="letters"),
        pytest.param("", id="empty"),
    ],
)
def test_invalid_cards(number: str) -> None:
    assert not checks.credit_card(number)


@given(st.from_regex(r"[0-9]{12,18}", fullmatch=True))
def test_luhn_detects_every_single_digit_error(body: str) -> None:
    """Append the right check digit, then change one digit: Luhn must notice."""
    check = next(d for d in "0123456789" if checks.luhn(body + d))
    valid = body + check
    pos = len(valid) // 2
    wrong = valid[:pos] + str((int(valid[pos]) + 1) % 10) + valid[pos + 1 :]
    assert checks.luhn(valid)
    assert not checks.luhn(wrong)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("DE89 3704 0044 0532 0130 00", id="de-spaced"),
        pytest.param("GB82WEST12345698765432", id="gb"),
        pytest.param("FR1420041010050500013M02606", id="fr"),
        pytest.param("NL91ABNA0417164300", id="nl"),
    ]
    + [pytest.param(_fk.iban(), id=f"faker-{i}") for i in range(4)],
)
def test_valid_iban(value: str) -> None:
    assert checks.iban(value)
    assert checks.mod97(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("DE89 3704 0044 0532 0130 01", id="bad-check"),
        pytest.param("DE00370400440532013000", id="zero-check"),
        pytest.param("XX89370400440532013000", id="unknown-country"),
        pytest.param("DE89-3704", id="short"),
    ],
)
def test_invalid_iban(value: str) -> None:
    assert not checks.iban(value)
