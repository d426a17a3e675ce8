"""National and tax identifiers per country, validated through python-stdnum and the SSA/HMRC rules."""

from __future__ import annotations

import pytest
from faker import Faker

from ppcti.pii import checks
from ppcti.pii.detectors import by_name


def _faker(locale: str, method: str, n: int = 3) -> list[str]:
    fk = Faker(locale)
    fk.seed_instance(77)
    return [getattr(fk, method)() for _ in range(n)]


def _flip_last(value: str) -> str:
    last = value[-1]
    if last.isdigit():
        return value[:-1] + str((int(last) + 1) % 10)
    return value[:-1] + ("A" if last.upper() != "A" else "B")


VALID = (
    [("ssn_dashed", v) for v in _faker("en_US", "ssn")]
    + [("nl_bsn", v) for v in _faker("nl_NL", "ssn")]
    + [("fr_nir", v) for v in _faker("fr_FR", "ssn")]
    + [("it_codicefiscale", v) for v in _faker("it_IT", "ssn")]
    + [("es_dni", v) for v in _faker("es_ES", "nif")]
    + [("es_nie", v) for v in _faker("es_ES", "nie")]
    + [("br_cpf", v) for v in _faker("pt_BR", "cpf")]
    + [("br_cnpj", v) for v in _faker("pt_BR", "cnpj")]
    + [("us_itin", v) for v in _faker("en_US", "itin")]
    + [
        ("de_idnr", "36 574 261 809"),
        ("de_idnr", "36574261809"),
        ("gb_nino", "AB 12 34 56 C"),
        ("gb_nino", "JG103759A"),
        ("us_ein", "04-2103594"),
        ("fr_nif", "0701987765493"),
        ("dea", "AB1234563"),
        ("dea", "BJ6125341"),
    ]
)


@pytest.mark.parametrize(("detector", "value"), VALID, ids=[f"{d}-{i}" for i, (d, _) in enumerate(VALID)])
def test_valid_identifier(detector: str, value: str) -> None:
    assert by_name(detector).check(value)


INVALID = [
    ("ssn_dashed", "000-12-3456"),
    ("ssn_dashed", "666-12-3456"),
    ("ssn_dashed", "912-12-3456"),
    ("ssn_dashed", "123-00-4567"),
    ("ssn_dashed", "123-45-0000"),
    ("ssn_dashed", "123456789"),
    ("gb_nino", "ZZ631706T"),
    ("gb_nino", "DA123456A"),
    ("gb_nino", "AB123456E"),
    ("dea", "AB1234564"),
    ("de_idnr", "36574261890"),
] + [(d, _flip_last(v)) for d, v in VALID if d not in ("ssn_dashed", "gb_nino", "us_itin", "us_ein")]


@pytest.mark.parametrize(
    ("detector", "value"), INVALID, ids=[f"{d}-bad-{i}" for i, (d, _) in enumerate(INVALID)]
)
def test_invalid_identifier(detector: str, value: str) -> None:
    assert not by_name(detector).check(value)


def test_stdnum_module_names_are_checked() -> None:
    with pytest.raises(ValueError, match="stdnum"):
        checks.stdnum_module("../os")
    assert checks.named_validator("stdnum:nl.bsn")("214035797")
