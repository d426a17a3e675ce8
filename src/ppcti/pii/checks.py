"""Value validators: checksums, parsers and closed vocabularies.

Each check answers one question about one string ("is this a valid IBAN?") and never raises, so a
malformed cell only counts as a non-match. Checks are shared by the column classifier, the free-text
recognisers and custom rules (by name, see :data:`NAMED_VALIDATORS`), which is why they live apart
from both. Where a maintained library exists (python-stdnum, phonenumbers, ipaddress) it is used;
crypto address checksums are implemented here with hashlib.
"""

from __future__ import annotations

import hashlib
import importlib
import ipaddress
import json
import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import yaml

# dates live in ppcti.pii.dates; re-exported here, where detectors and named validators find them
from ppcti.pii.cldr import cldr as cldr
from ppcti.pii.dates import birth_date as birth_date
from ppcti.pii.dates import date_value as date_value
from ppcti.pii.dates import deceased_date as deceased_date
from ppcti.pii.dates import month_numbers as month_numbers
from ppcti.pii.dates import parse_date as parse_date

Check = Callable[[str], bool]

_NON_DIGIT = re.compile(r"[\s\-./]")


def digits_only(value: str) -> str:
    return _NON_DIGIT.sub("", value)


# --- checksums ------------------------------------------------------------------------------------


def luhn(value: str) -> bool:
    """Luhn mod-10 over the digits of ``value`` (separators ignored)."""
    number = digits_only(value)
    if not number.isdigit() or len(number) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_iin_ok(number: str) -> bool:
    """Issuer prefix and length of the major card schemes, so random Luhn-valid numbers mostly fail."""
    n = len(number)
    two, four, six = int(number[:2]), int(number[:4]), int(number[:6])
    if number[0] == "4":
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if four == 6011 or two == 65 or 644 <= int(number[:3]) <= 649 or 622126 <= six <= 622925:
        return 16 <= n <= 19
    if 3500 <= four <= 3599:
        return 16 <= n <= 19
    if four in (1800, 2131):  # JCB's 15-digit ranges
        return n == 15
    if two == 50 or 56 <= two <= 69:  # Maestro
        return 12 <= n <= 19
    if two in (36, 38, 39) or 300 <= int(number[:3]) <= 305:
        return 14 <= n <= 19
    if two == 62:
        return 16 <= n <= 19
    return False


def credit_card(value: str) -> bool:
    number = digits_only(value)
    return 12 <= len(number) <= 19 and number.isdigit() and _card_iin_ok(number) and luhn(number)


def iban(value: str) -> bool:
    from stdnum import iban as _iban

    return bool(_iban.is_valid(value))


def mod97(value: str) -> bool:
    """ISO 7064 mod 97-10 over an alphanumeric string whose check digits are in positions 3-4 (IBAN style)."""
    compact = re.sub(r"\s", "", value).upper()
    if len(compact) < 5 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


@cache
def stdnum_module(name: str) -> Any:
    """Import ``stdnum.<name>`` (e.g. ``"de.idnr"``); names are checked against a pattern first."""
    if not re.fullmatch(r"[a-z]{2,4}_?(\.[a-z0-9_]+)?", name):
        raise ValueError("not a python-stdnum module name")
    return importlib.import_module(f"stdnum.{name}")


def stdnum_check(name: str) -> Check:
    module = stdnum_module(name)

    def check(value: str) -> bool:
        try:
            return bool(module.is_valid(value))
        except Exception:  # stdnum raises on some odd inputs; a failed check is a non-match
            return False

    check.__name__ = f"stdnum_{name.replace('.', '_')}"
    return check


_SSN = re.compile(r"(\d{3})-?(\d{2})-?(\d{4})")


def us_ssn(value: str) -> bool:
    """SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000; no well-known dummies."""
    m = _SSN.fullmatch(value.strip())
    if not m:
        return False
    area, group, serial = m.groups()
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return value.replace("-", "") not in ("123456789", "078051120", "219099999")


def us_ssn_dashed(value: str) -> bool:
    return len(value.strip()) == 11 and us_ssn(value)


_NINO = re.compile(r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")


def gb_nino(value: str) -> bool:
    return bool(_NINO.fullmatch(re.sub(r"\s", "", value.upper())))


def hu_taj(value: str) -> bool:
    """Hungarian social-security number (TAJ): nine digits, the last the weighted (3, 7, ...) sum of
    the first eight mod 10. Not in python-stdnum."""
    d = [ord(c) - 48 for c in value if c.isdigit()]
    if len(d) != 9 or any(c.isalpha() for c in value):
        return False
    return sum(x * (3 if i % 2 == 0 else 7) for i, x in enumerate(d[:8])) % 10 == d[8]


def hu_tax_id(value: str) -> bool:
    """Hungarian personal tax identifier (adóazonosító jel): ten digits starting with 8, check digit the
    position-weighted sum of the first nine mod 11. Not in python-stdnum (which has the VAT number)."""
    v = value.strip()
    if not (len(v) == 10 and v.isdigit() and v[0] == "8"):
        return False
    return sum(int(x) * (i + 1) for i, x in enumerate(v[:9])) % 11 == int(v[9])


_DEA = re.compile(r"[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7}")


def dea_number(value: str) -> bool:
    """US DEA registration number: (d1+d3+d5) + 2*(d2+d4+d6) ends in d7."""
    v = value.strip().upper()
    if not _DEA.fullmatch(v):
        return False
    d = [int(c) for c in v[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


# --- crypto addresses -----------------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def base58check(value: str) -> bytes | None:
    """Decode Base58Check; ``None`` unless the 4-byte double-SHA256 checksum matches."""
    num = 0
    for ch in value:
        idx = _B58_INDEX.get(ch)
        if idx is None:
            return None
        num = num * 58 + idx
    raw = num.to_bytes((num.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(value) - len(value.lstrip("1"))) + raw
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def bitcoin_base58(value: str) -> bool:
    """P2PKH (``1…``) or P2SH (``3…``) with a valid checksum and a 20-byte hash."""
    if not 25 <= len(value) <= 35 or value[0] not in "13":
        return False
    payload = base58check(value)
    return payload is not None and len(payload) == 21 and payload[0] in (0x00, 0x05)


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _bech32_polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _BECH32_GEN[i] if (top >> i) & 1 else 0
    return chk


def bitcoin_bech32(value: str) -> bool:
    """Segwit address (BIP-173 bech32 for v0, BIP-350 bech32m for v1+) on mainnet or testnet."""
    if value.lower() != value and value.upper() != value:
        return False
    v = value.lower()
    pos = v.rfind("1")
    hrp, data_part = v[:pos], v[pos + 1 :]
    if hrp not in ("bc", "tb") or not len(data_part) >= 6 or len(v) > 90:
        return False
    try:
        data = [_BECH32.index(c) for c in data_part]
    except ValueError:
        return False
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    const = _bech32_polymod(expanded + data)
    witver = data[0]
    program_len = (len(data) - 7) * 5 // 8
    if witver == 0:
        return const == 1 and program_len in (20, 32)
    return const == 0x2BC830A3 and witver <= 16 and 2 <= program_len <= 40


_ETH = re.compile(r"0x[0-9a-fA-F]{40}")


def ethereum_plain(value: str) -> bool:
    """``0x`` + 40 hex in one case only: EIP-55 mixed-case checksums need Keccak, see :func:`ethereum`."""
    if not _ETH.fullmatch(value):
        return False
    body = value[2:]
    return body == body.lower() or body == body.upper()


def ethereum(value: str) -> bool:
    """Ethereum address: single-case hex, or mixed case with a valid EIP-55 checksum."""
    if not _ETH.fullmatch(value):
        return False
    body = value[2:]
    if body == body.lower() or body == body.upper():
        return True
    from ppcti.pii.keccak import keccak256

    digest = keccak256(body.lower().encode("ascii")).hex()
    for ch, h in zip(body, digest[:40], strict=True):
        if ch.isalpha() and ch.isupper() != (int(h, 16) >= 8):
            return False
    return True


def ethereum_checksummed(value: str) -> bool:
    body = value[2:] if value.startswith("0x") else ""
    return body != body.lower() and body != body.upper() and ethereum(value)


def crypto(value: str) -> bool:
    v = value.strip()
    return bitcoin_base58(v) or bitcoin_bech32(v) or ethereum_checksummed(v)


# --- network identifiers --------------------------------------------------------------------------


def ip_address(value: str) -> bool:
    v = value.strip()
    if "%" in v:
        v = v.split("%", 1)[0]
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return False
    return True


_MAC = re.compile(
    r"(?:[0-9A-Fa-f]{2}([:-]))(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}|(?:[0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}"
)


def mac_address(value: str) -> bool:
    return bool(_MAC.fullmatch(value.strip()))


_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}"
)


def email(value: str) -> bool:
    v = value.strip()
    return bool(_EMAIL.fullmatch(v)) and ".." not in v and not v.startswith(".")


_URL = re.compile(
    r"(?:(?:https?|ftp)://[^\s/?#]+\.[^\s/?#]+|www\.[^\s/?#]+\.[A-Za-z]{2,})[^\s]*", re.IGNORECASE
)


def url(value: str) -> bool:
    return bool(_URL.fullmatch(value.strip()))


def phone_number(value: str, region: str | None = None) -> bool:
    """Valid by phonenumbers' metadata; without a leading ``+`` a region hint is needed."""
    import phonenumbers

    v = value.strip()
    if not v.startswith("+") and not region:
        region = "US"
    try:
        parsed = phonenumbers.parse(v, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)


# --- numbers --------------------------------------------------------------------------------------

_NUMBER = re.compile(r"\d{1,3}(?:[.,]\d{1,2})?")


def age(value: str) -> bool:
    v = value.strip()
    return v.isdigit() and 0 <= int(v) <= 120


def weight(value: str) -> bool:
    v = re.sub(r"\s*(kg|kgs|lb|lbs|g)$", "", value.strip().lower())
    if not _NUMBER.fullmatch(v):
        return False
    return 1.0 <= float(v.replace(",", ".")) <= 400.0


# --- closed vocabularies --------------------------------------------------------------------------


@cache
def _vocab_file() -> dict[str, Any]:
    text = resources.files("ppcti.pii").joinpath("data/vocab.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def _names_file() -> dict[str, list[str]]:
    return json.loads(resources.files("ppcti.pii").joinpath("data/names.json").read_text(encoding="utf-8"))


def _cldr_names(kind: str) -> frozenset[str]:
    return frozenset(
        name.lower() for by_lang in cldr()[kind].values() for names in by_lang.values() for name in names
    )


@cache
def vocabulary(name: str) -> frozenset[str]:
    """Lower-case words of a closed vocabulary: gender, marital_status, smoking_status, nationality,
    nationality_cldr, language, country, boolean, gender_codes, language_codes, first_names, last_names,
    places."""
    data = _vocab_file()
    if name in ("gender", "marital_status", "smoking_status", "nationality"):
        return frozenset(str(w).lower() for w in data[name]["words"])
    if name == "language":
        return (
            frozenset(str(w).lower() for w in data["language"]["words"])
            | frozenset(_names_file()["language_names_en"])
            | _cldr_names("languages")
        )
    if name == "nationality_cldr":
        # In many languages the nationality adjective is the language's name (hu "magyar", "román"):
        # a weaker form of nationality evidence that the header or the stronger list decides.
        return _cldr_names("languages") - vocabulary("country")
    if name in ("gender_codes", "language_codes"):
        return frozenset(str(w).lower() for w in data[name.split("_")[0]]["codes"]) | frozenset(
            str(w).lower() + "." for w in data[name.split("_")[0]]["codes"] if name == "gender_codes"
        )
    if name == "boolean":
        return frozenset(str(w).lower() for w in data["boolean"]["true"] + data["boolean"]["false"] if w)
    if name == "country":
        return (
            _country_names()
            | frozenset(_names_file()["countries"])
            | _cldr_names("countries")
            | frozenset(str(w).lower() for w in data.get("country", {}).get("words", ()))
        )
    if name == "non_personal_fields":
        return frozenset(str(w).lower() for w in data.get(name, ()))
    if name in ("first_names", "last_names", "places"):
        return frozenset(_names_file()[name])
    raise KeyError(name)


def _country_names() -> frozenset[str]:
    """Country names in the project's languages plus ISO alpha-2 codes, from phonenumbers' locale data."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    names: set[str] = set()
    for region, by_lang in LOCALE_DATA.items():
        if not (len(region) == 2 and region.isalpha()):
            continue
        for lang in ("en", "de", "fr", "it", "es", "nl", "pt"):
            name = by_lang.get(lang, "")
            while name.startswith("*"):
                name = by_lang.get(name[1:], "")
            if name:
                names.add(name.lower())
    return frozenset(names)


@cache
def vocab_pairs(name: str) -> frozenset[str]:
    """Code pairs of a vocabulary ("f m"), sorted within each pair."""
    return frozenset(
        " ".join(sorted(str(p).lower().split())) for p in _vocab_file()[name].get("code_pairs", ())
    )


_VARIANT = re.compile(r"\s*(?:/|\().*$")


def vocab_key(value: str) -> tuple[str, ...]:
    """The forms of a cell looked up in a vocabulary: as written, and without a gender-variant suffix
    ("coniugato/a", "verheiratet (in)", "Né(e)")."""
    v = value.strip().lower()
    base = _VARIANT.sub("", v)
    return (v, base) if base and base != v else (v,)


def in_vocabulary(name: str) -> Check:
    words = vocabulary(name)

    def check(value: str) -> bool:
        return any(k in words for k in vocab_key(value))

    check.__name__ = f"vocab_{name}"
    return check


#: Lower-case name particles ("Matthijs de Vries", "Ludwig van Beethoven", "Leonardo da Vinci").
NAME_PARTICLES = frozenset({
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "do", "du", "la", "le",
    "ten", "ter", "te", "zu", "af", "av", "y", "e", "bin", "al", "mac", "st",
})  # fmt: skip


def person_name(value: str) -> bool:
    """Two to five words, capitalised or upper-case (particles like "van" or "de" aside), with a known
    first name at either end or a known surname at either end ("Maria Rossi", "ROSSI Maria",
    "Rossi, Maria", "Matthijs de Vries")."""
    parts = value.strip().replace(",", " ").split()
    words = [p for p in parts if p.lower() not in NAME_PARTICLES or p[:1].isupper()]
    if not 2 <= len(words) <= 4 or len(parts) > 5:
        return False
    if not all(
        p[:1].isupper() and p.replace("-", "").replace("'", "").replace(".", "").isalpha() for p in words
    ):
        return False
    first, last = vocabulary("first_names"), vocabulary("last_names")
    a, b = words[0].lower(), words[-1].lower()
    return a in first or b in last or b in first or (a in last and a not in _NOT_SURNAMES)


def person_name_text(value: str) -> bool:
    """Free-text names: a known first name followed by one or two capitalised words (``Maria Rossi``).
    Stricter than :func:`person_name` because sentences are full of capitalised words."""
    parts = value.split()
    if not 2 <= len(parts) <= 3 or parts[0].lower() not in vocabulary("first_names"):
        return False
    last = parts[-1].lower()
    return last not in _NOT_SURNAMES and (
        last in vocabulary("last_names") or last not in vocabulary("first_names")
    )


_NOT_SURNAMES = frozenset({"street", "road", "avenue", "city", "county", "university", "hospital", "bank"})


#: Validators custom rules may name (``validator: luhn``); any ``stdnum:<module>`` is accepted too.
NAMED_VALIDATORS: dict[str, Check] = {
    "none": lambda value: True,
    "luhn": luhn,
    "mod97": mod97,
    "iban": iban,
    "credit_card": credit_card,
    "us_ssn": us_ssn,
    "gb_nino": gb_nino,
    "dea": dea_number,
    "crypto": crypto,
    "ethereum": ethereum,
    "ip": ip_address,
    "email": email,
    "date": date_value,
}


def named_validator(name: str) -> Check:
    """Resolve a validator name from a rules file; raises ``KeyError``/``ValueError`` for unknown names."""
    if name.startswith("stdnum:"):
        return stdnum_check(name.split(":", 1)[1])
    return NAMED_VALIDATORS[name]
