"""Column classification: multilingual headers, headerless columns, weak patterns, negative controls."""

from __future__ import annotations

import hashlib
import random
import uuid

import polars as pl
import pytest
from faker import Faker

from ppcti.pii import PiiOptions, classify_table
from ppcti.pii.columns import classify_column, profile_column

N = 120
REGEX = PiiOptions(nlp="regex")


def _fk(locales: list[str] | str = "en_US", seed: int = 11) -> Faker:
    fk = Faker(locales)
    fk.seed_instance(seed)
    return fk


def _column(name: str, values: list[str], options: PiiOptions = REGEX) -> tuple[str | None, float]:
    _, found = classify_column(pl.Series(name, values, dtype=pl.String), file="t.csv", options=options)
    return (found[0].type, found[0].confidence) if found else (None, 0.0)


MULTI = ["en_US", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "pt_BR"]


def _values(kind: str) -> list[str]:
    fk = _fk(MULTI)
    rnd = random.Random(5)
    gen = {
        "email": fk.email,
        "ipv4": fk.ipv4,
        "ipv6": fk.ipv6,
        "mac": fk.mac_address,
        "iban": fk.iban,
        "card": fk.credit_card_number,
        "url": fk.url,
        "phone": fk.phone_number,
        "name": fk.name,
        "address": lambda: fk.address().replace("\n", ", "),
        "country": fk.country,
        "dob": lambda: fk.date_of_birth(minimum_age=1, maximum_age=99).strftime("%d.%m.%Y"),
        "date": lambda: fk.date_between("-3y").isoformat(),
        "ssn": _fk("en_US").ssn,
        "bsn": _fk("nl_NL").ssn,
        "nir": _fk("fr_FR").ssn,
        "cf": _fk("it_IT").ssn,
        "dni": _fk("es_ES").nif,
        "cpf": _fk("pt_BR").cpf,
        "gender": lambda: rnd.choice(["männlich", "weiblich", "divers"]),
        "marital": lambda: rnd.choice(["married", "single", "divorced", "widowed"]),
        "smoking": lambda: rnd.choice(["Raucher", "Nichtraucher", "Ex-Raucher"]),
        "nationality": lambda: rnd.choice(["German", "French", "Italian", "Spanish", "Dutch", "Brazilian"]),
        "language": lambda: rnd.choice(["Englisch", "Deutsch", "Französisch", "Italienisch", "Swahili"]),
        "zip5": lambda: f"{rnd.randint(1000, 99999):05d}",
        "age": lambda: str(rnd.randint(0, 99)),
        "weight": lambda: f"{rnd.uniform(40, 120):.1f}",
        "bool": lambda: rnd.choice(["yes", "no"]),
        "ssn9": lambda: _fk("en_US").ssn().replace("-", ""),
        "btc": lambda: rnd.choice(
            [
                "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
                "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
                "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            ]
        ),
        "eth_lower": lambda: "0x" + "".join(rnd.choice("0123456789abcdef") for _ in range(40)),
        "dea": lambda: rnd.choice(["AB1234563", "BJ6125341", "FM1234563"]),
        "guid": lambda: str(uuid.UUID(int=rnd.getrandbits(128))),
        "order": lambda: f"ORD-{rnd.randint(10**5, 10**7)}",
        "sku": lambda: f"SKU-{rnd.randint(100, 999)}-{rnd.choice('XYZ')}",
        "measure": lambda: f"{rnd.uniform(0, 1000):.3f}",
        "md5": lambda: hashlib.md5(rnd.randbytes(8)).hexdigest(),
        "sha256": lambda: hashlib.sha256(rnd.randbytes(8)).hexdigest(),
        "sha1": lambda: hashlib.sha1(rnd.randbytes(8)).hexdigest(),
        "qty": lambda: str(rnd.randint(1, 60)),
        "invoice": lambda: f"{rnd.randint(10**9, 10**10 - 1)}",
        "part_no": lambda: f"{rnd.choice('ABFM')}{rnd.choice('KLMN')}{rnd.randint(10**6, 10**7 - 1)}",
    }[kind]
    return [gen() for _ in range(N)]


@pytest.mark.parametrize(
    ("header", "kind", "expected"),
    [
        ("E-Mail-Adresse", "email", "EMAIL_ADDRESS"),
        ("courriel", "email", "EMAIL_ADDRESS"),
        ("col_7", "email", "EMAIL_ADDRESS"),
        ("", "ipv4", "IP_ADDRESS"),
        ("x", "ipv6", "IP_ADDRESS"),
        ("c1", "mac", "MAC_ADDRESS"),
        ("Kontonummer", "iban", "IBAN_CODE"),
        ("f3", "iban", "IBAN_CODE"),
        ("numero_carta", "card", "CREDIT_CARD"),
        ("c9", "url", "URL"),
        ("Telefon", "phone", "PHONE_NUMBER"),
        ("telefono", "phone", "PHONE_NUMBER"),
        ("nombre_completo", "name", "PERSON"),
        ("column_2", "name", "PERSON"),
        ("Anschrift", "address", "ADDRESS"),
        ("pays", "country", "COUNTRY"),
        ("Geburtsdatum", "dob", "BIRTH_DATE"),
        ("date_de_naissance", "dob", "BIRTH_DATE"),
        ("fecha_nacimiento", "dob", "BIRTH_DATE"),
        ("created", "date", "DATE_TIME"),
        ("field_4", "dob", "DATE_TIME"),
        ("ssn", "ssn", "NATIONAL_ID"),
        ("c2", "ssn", "NATIONAL_ID"),
        ("burgerservicenummer", "bsn", "NATIONAL_ID"),
        ("numero_securite_sociale", "nir", "NATIONAL_ID"),
        ("codice_fiscale", "cf", "NATIONAL_ID"),
        ("x4", "cf", "NATIONAL_ID"),
        ("partita_iva_persona", "cf", "TAX_ID"),
        ("dni", "dni", "NATIONAL_ID"),
        ("cpf", "cpf", "TAX_ID"),
        ("Geschlecht", "gender", "GENDER"),
        ("v5", "gender", "GENDER"),
        ("estado_civil", "marital", "MARITAL_STATUS"),
        ("Raucherstatus", "smoking", "SMOKING_STATUS"),
        ("nationalite", "nationality", "NATIONALITY"),
        ("Muttersprache", "language", "LANGUAGE"),
        ("wallet", "btc", "CRYPTO"),
        ("c8", "btc", "CRYPTO"),
        ("wallet_address", "eth_lower", "CRYPTO"),
        ("dea_number", "dea", "MEDICAL_LICENSE"),
        ("c5", "dea", "MEDICAL_LICENSE"),
    ],
)
def test_column_types(header: str, kind: str, expected: str) -> None:
    got, confidence = _column(header or "column_1", _values(kind))
    assert got == expected
    assert 0.5 <= confidence <= 1.0


@pytest.mark.parametrize(
    ("kind", "header", "expected"),
    [
        ("zip5", "PLZ", "POSTAL_CODE"),
        ("zip5", "code_postal", "POSTAL_CODE"),
        ("zip5", "c3", None),
        ("age", "Alter", "AGE"),
        ("age", "edad", "AGE"),
        ("age", "x1", None),
        ("weight", "Gewicht", "WEIGHT"),
        ("weight", "poids", "WEIGHT"),
        ("weight", "v2", None),
        ("ssn9", "social_security_number", "NATIONAL_ID"),
        ("bool", "verstorben", "DECEASED"),
        ("bool", "flag", None),
        ("bool", "smoker", "SMOKING_STATUS"),
        ("eth_lower", "hash_ref", None),
        ("dob", "sterbedatum", "DECEASED_DATE"),
    ],
)
def test_weak_patterns_need_a_header(kind: str, header: str, expected: str | None) -> None:
    assert _column(header, _values(kind))[0] == expected


@pytest.mark.parametrize(
    "kind",
    ["guid", "order", "sku", "measure", "md5", "sha1", "sha256", "qty", "invoice"],
)
@pytest.mark.parametrize("header", ["column_5", "id", "reference"])
def test_negative_controls_are_not_flagged(kind: str, header: str) -> None:
    assert _column(header, _values(kind)) == (None, 0.0)


def _p2pkh(hash160: bytes) -> str:
    """Base58Check-encode a version-0 payload (test data only)."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    data = b"\x00" + hash160
    data += hashlib.sha256(hashlib.sha256(data).digest()).digest()[:4]
    n, out = int.from_bytes(data, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = alphabet[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _p2pkh(hash160: bytes) -> str:
    """Base58Check-encode a version-0 payload (test data only)."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    data = b"\x00" + hash160
    data += hashlib.sha256(hashlib.sha256(data).digest()).digest()[:4]
    n, out = int.from_bytes(data, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = alphabet[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def test_weak_form_joins_strong_evidence_of_the_same_type() -> None:
    """Headerless wallets mixing checksummed Bitcoin with unverifiable lower-case Ethereum addresses."""
    rnd = random.Random(3)
    btc = [_p2pkh(rnd.randbytes(20)) for _ in range(60)]
    eth = ["0x" + "".join(rnd.choice("0123456789abcdef") for _ in range(40)) for _ in range(40)]
    assert _column("column_3", btc + eth)[0] == "CRYPTO"
    assert _column("column_3", eth)[0] is None  # alone, the weak form still needs a header


def test_header_of_related_type_supports_dates_of_death() -> None:
    assert _column("date_deces", _values("dob"))[0] == "DECEASED_DATE"


def test_leading_zeros_restored_in_integer_columns() -> None:
    codes = [f"{i:05d}" for i in range(1000, 99999, 997)]  # many start with 0
    as_int = pl.Series("PLZ", [int(c) for c in codes])
    _, sample = profile_column(as_int, 500)
    assert set(sample) == set(codes)
    quantities = pl.Series("qty", [1, 25, 300, 4])
    assert sorted(profile_column(quantities, 10)[1]) == ["1", "25", "300", "4"]


@pytest.mark.parametrize(
    "value",
    [
        "94710 Cameron Island",
        "Viale Bragadin, 59",
        "Rambla Íngrid Pina 58",
        "Kyanoboulevard 84",
        "Hauptstr. 5, 10115 Berlin",
        "12, rue de la Paix",
        "Aeroporto Barbosa, 5",
    ],
)
def test_address_shapes(value: str) -> None:
    from ppcti.pii.detectors import address

    assert address(value)


@pytest.mark.parametrize("value", ["Windows 10", "Order 12345", "3 Pack", "Maria Rossi", "ORD-123456"])
def test_not_addresses(value: str) -> None:
    from ppcti.pii.detectors import address

    assert not address(value)


def test_places_from_the_gazetteer() -> None:
    towns = ["Aachen", "Kronach", "Positano", "Sevilla", "Veulen", "Aurich", "Wertingen", "Huelva"] * 10
    assert _column("column_9", towns)[0] == "LOCATION"


def test_table_runner_up_and_evidence_counts() -> None:
    df = pl.DataFrame(
        {"Date_of_Birth": _values("dob"), "customer_email": _values("email"), "qty": _values("qty")}
    )
    found = {f.column: f for f in classify_table(df, file="people.csv", options=REGEX)}
    assert set(found) == {"Date_of_Birth", "customer_email"}
    dob = found["Date_of_Birth"]
    assert dob.type == "BIRTH_DATE"
    assert [r["type"] for r in dob.runner_up] == ["DATE_TIME"]
    assert dob.sampled == len(set(_values("dob")))
    assert dob.matched == dob.sampled and dob.match_rate == 1.0
    assert all("*" in e for e in dob.examples)


def test_below_match_rate_gives_no_type() -> None:
    emails = _values("email")[:60] + [f"not an email {i}" for i in range(60)]
    assert _column("email", emails)[0] is None
    assert _column("email", emails, PiiOptions(nlp="regex", min_match_rate=0.4))[0] == "EMAIL_ADDRESS"


def test_numeric_dtype_columns_are_read_as_text() -> None:
    series = pl.Series("Alter", [int(v) for v in _values("age")])
    _, found = classify_column(series, file="t.csv", options=REGEX)
    assert found[0].type == "AGE"


def test_profile_counts() -> None:
    series = pl.Series("c", ["a1", "a1", None, "  ", "bb 2", "333"], dtype=pl.String)
    profile, sample = profile_column(series, 10)
    assert (profile.rows, profile.nulls, profile.distinct) == (6, 1, 3)
    assert sorted(sample) == ["333", "a1", "bb 2"]
    assert profile.digit_share == pytest.approx(1 / 3)
    assert profile.min_len == 2 and profile.max_len == 4


def test_free_text_column_reports_types_inside() -> None:
    fk = _fk("en_US", 3)
    notes = [
        f"Please call back regarding ticket {i}, write to {fk.email()} before Friday." for i in range(40)
    ]
    _, found = classify_column(pl.Series("notes", notes), file="t.csv", options=REGEX)
    types = {f.type: f for f in found}
    assert "EMAIL_ADDRESS" in types
    assert types["EMAIL_ADDRESS"].match_rate == 1.0
    assert types["EMAIL_ADDRESS"].detector == "column:free-text"


def test_ner_resolves_unlabelled_name_column_in_spacy_mode() -> None:
    fk = _fk("en_US", 9)
    names = [f"{fk.first_name()[:1]}. {fk.last_name()}" for _ in range(40)]  # initials defeat the name lists
    got, _ = _column("c7", names, PiiOptions(nlp="spacy"))
    assert got in ("PERSON", None)  # NER may be unsure on initials, but must never invent another type
    full = [fk.name() for _ in range(40)]
    assert _column("c7", full, PiiOptions(nlp="spacy"))[0] == "PERSON"


def test_few_cells_need_checksum_or_header() -> None:
    assert _column("date_order", ["DMY"]) == (None, 0.0)
    assert _column("c1", ["Maria Rossi"])[0] is None
    assert _column("c1", ["DE89 3704 0044 0532 0130 00"])[0] == "IBAN_CODE"  # checksummed
    assert _column("full_name", ["Maria Rossi"])[0] == "PERSON"
    assert _column("c1", ["male", "female"] * 50)[0] == "GENDER"  # two distinct values, many cells
