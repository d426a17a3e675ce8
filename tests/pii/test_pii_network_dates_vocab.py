"""Network identifiers, phone numbers, dates with plausible ranges, numbers and closed vocabularies."""

from __future__ import annotations

from datetime import date

import pytest

from ppcti.pii import checks
from ppcti.pii.detectors import by_name

phone = by_name("phone").check


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        (checks.email, "anna.keller@example.org", True),
        (checks.email, "a+tag@sub.example.co.uk", True),
        (checks.email, "no-at-sign.example.org", False),
        (checks.email, "two..dots@example.org", False),
        (checks.email, "x@localhost", False),
        (checks.ip_address, "203.0.113.5", True),
        (checks.ip_address, "2001:db8::1", True),
        (checks.ip_address, "fe80::1%eth0", True),
        (checks.ip_address, "256.1.1.1", False),
        (checks.ip_address, "1.2.3", False),
        (checks.mac_address, "00:1a:2b:3c:4d:5e", True),
        (checks.mac_address, "00-1A-2B-3C-4D-5E", True),
        (checks.mac_address, "001a.2b3c.4d5e", True),
        (checks.mac_address, "00:1a-2b:3c:4d:5e", False),
        (checks.mac_address, "00:1a:2b:3c:4d", False),
        (checks.url, "https://intranet.example.com/x?y=1", True),
        (checks.url, "www.example.org", True),
        (checks.url, "example", False),
        (phone, "+49 30 901820", True),
        (phone, "(617) 555-0123", True),
        (phone, "030 1234567", True),
        (phone, "+1-437-586-5797x543", True),
        (phone, "12.50", False),
        (phone, "2023-03-07", False),
        (phone, "123-45-6789", False),
        (phone, "10.0.0.1", False),
        (phone, "4815162342", False),
        (phone, "12345-6789", False),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_network_and_phone(check, value: str, expected: bool) -> None:
    assert check(value) is expected


def test_bare_digit_phones_need_the_weak_detector() -> None:
    assert by_name("phone_digits").check("2025550143")
    assert by_name("phone_digits").weak


TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("1985-03-07", date(1985, 3, 7)),
        ("07.03.1985", date(1985, 3, 7)),
        ("2023-03-07T10:38:03Z", date(2023, 3, 7)),
        ("2023-03-07 10:38:03", date(2023, 3, 7)),
        ("7 March 1985", date(1985, 3, 7)),
        ("not a date", None),
        ("31.02.2020", None),
    ],
)
def test_parse_date(value: str, parsed: date | None) -> None:
    assert checks.parse_date(value) == parsed


@pytest.mark.parametrize(
    ("value", "birth", "death"),
    [
        ("1950-01-01", True, True),
        ("1890-01-01", False, False),  # older than 120 years, and before 1900
        ("2030-01-01", False, False),  # in the future
        ("2026-11-28", True, True),
    ],
)
def test_date_ranges(value: str, birth: bool, death: bool) -> None:
    assert checks.birth_date(value, TODAY) is birth
    assert checks.deceased_date(value, TODAY) is death


@pytest.mark.parametrize(
    "value", ["July 06, 2026 at 10:15", "3. März 2024", "12 juillet 2023", "March 3rd, 2024"]
)
def test_dates_with_month_names(value: str) -> None:
    assert checks.date_value(value)


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        (checks.age, "0", True),
        (checks.age, "120", True),
        (checks.age, "121", False),
        (checks.age, "4.5", False),
        (checks.weight, "72.5", True),
        (checks.weight, "72,5 kg", True),
        (checks.weight, "180 lbs", True),
        (checks.weight, "0.2", False),
        (checks.weight, "1200", False),
    ],
)
def test_numbers(check, value: str, expected: bool) -> None:
    assert check(value) is expected


@pytest.mark.parametrize(
    ("vocabulary", "word"),
    [
        ("gender", "Weiblich"),
        ("gender", "femme"),
        ("gender", "maschio"),
        ("gender", "mujer"),
        ("gender", "vrouw"),
        ("gender", "feminino"),
        ("marital_status", "verheiratet"),
        ("marital_status", "célibataire"),
        ("marital_status", "viuda"),
        ("marital_status", "gescheiden"),
        ("smoking_status", "Nichtraucher"),
        ("smoking_status", "ex fumatore"),
        ("smoking_status", "não fumante"),
        ("nationality", "française"),
        ("nationality", "Duitse"),
        ("nationality", "marroquí"),
        ("language", "Swahili"),
        ("language", "Französisch"),
        ("language", "inglés"),
        ("country", "Deutschland"),
        ("country", "Royaume-Uni"),
        ("country", "Brasil"),
        ("country", "Spain"),
        ("boolean", "sì"),
        ("boolean", "nee"),
        ("places", "aachen"),
        ("places", "positano"),
    ],
)
def test_closed_vocabularies(vocabulary: str, word: str) -> None:
    assert checks.in_vocabulary(vocabulary)(f"  {word} ")


@pytest.mark.parametrize(
    ("vocabulary", "word"), [("gender", "open"), ("country", "pending"), ("language", "blue")]
)
def test_vocabulary_negatives(vocabulary: str, word: str) -> None:
    assert not checks.in_vocabulary(vocabulary)(word)


def test_person_name_heuristic() -> None:
    assert checks.person_name("Maria Rossi")
    assert checks.person_name("Müller, Hans")
    assert not checks.person_name("Open Ticket")
    assert not checks.person_name("maria rossi")
    assert checks.person_name_text("Maria Schneider")
    assert not checks.person_name_text("Yesterday Maria Schneider")
