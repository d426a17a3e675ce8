"""The value detectors: one declarative entry per pattern, shared by columns, free text and custom rules.

A :class:`Detector` couples a cheap vectorisable prefilter (a Rust-regex the column classifier runs with
Polars over a whole sample at once) with an exact Python check (checksum, parser, vocabulary), and an
optional free-text regex for the text recognisers. ``weak`` marks patterns that are common outside PII
(5 digits, small integers, 9 bare digits, a date that could be a birth date); they count only when the
column header supports one of their types. ``types`` lists every type a pattern can mean, most likely
first, so the header can pick (an Italian codice fiscale is a national ID, or the tax ID a header says).
The registry is an explicit tuple, never discovered by subclass scanning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ppcti.pii import checks
from ppcti.pii.identifiers import POSTAL_SHAPED as _POSTAL_SHAPED
from ppcti.pii.identifiers import STDNUM_IDS as _STDNUM_IDS
from ppcti.pii.identifiers import gender_pair as _gender_pair

#: Candidate regions for national phone formats when the data gives no hint (the project's locales).
DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IT", "ES", "NL", "BR")

_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
#: Identifier shapes that phone metadata would accept as possible numbers (SSN, CPF, CNPJ).
_DIGIT_GROUPS = re.compile(r"\d+")
_DECIMAL = re.compile(r"\d+[.,]\d+")
_ID_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}|\d{3}\.\d{3}\.\d{3}-\d{2}|\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}")
_NANP = re.compile(
    r"(?:\+?1[-. ]?)?(?:\(\d{3}\)|\d{3})[-. ]?\d{3}[-. ]?\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,6})?", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Detector:
    """One way of recognising a PII value."""

    name: str
    types: tuple[str, ...]
    check: Callable[[str], bool]
    prefilter: str | None = None  # Rust regex for polars ``str.contains``; None = every value
    weak: bool = False
    specificity: float = 0.85  # how sure a validated value is of this type (checksums ~1.0)
    text_regex: str | None = None  # Python regex for free text (None: not used in text)
    text_score: float = 0.6
    context: tuple[str, ...] = field(default_factory=tuple)
    in_columns: bool = True  # False: a free-text-only pattern
    rescan: bool = False  # text: after a rejected match, try again from the next word inside it
    pool: bool = True  # False: its matches count on their own, not added to other detectors' of the type
    set_check: Callable[[set[str]], bool] | None = None  # a test of all matched values together
    #: Regex whose matches end exactly where ``text_regex`` can start (its leading cue words): regex mode
    #: tries the pattern only there, instead of testing every cue's lookbehind at every position.
    text_anchor: str | None = None

    @property
    def type_id(self) -> str:
        return self.types[0]


def phone_check(
    regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS, *, bare_digits: bool = False
) -> Callable[[str], bool]:
    """A number phonenumbers finds possible (international with ``+``/``00``, or national in one of
    ``regions`` when written with separators or a trunk ``0``). Bare digit runs (order and invoice numbers
    look the same) count only with ``bare_digits`` and must then be valid numbers.
    Possible rather than valid because directories and test data are full of unassigned ranges."""
    import phonenumbers

    def parse_ok(text: str, region: str | None, strict: bool) -> bool:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.is_valid_number(number) if strict else phonenumbers.is_possible_number(number)

    def check(value: str) -> bool:
        v = value.strip()
        digits = sum(ch.isdigit() for ch in v)
        if (
            not 7 <= digits <= 20
            or _DATE_LIKE.fullmatch(v)
            or _ID_SHAPE.fullmatch(v)
            or _DECIMAL.fullmatch(v)
        ):
            return False
        if checks.ip_address(v):
            return False
        if v.startswith(("+", "00")):
            return parse_ok("+" + v[2:] if v.startswith("00") else v, None, strict=False)
        if v.isdigit() and not v.startswith("0"):
            return bare_digits and any(parse_ok(v, region, True) for region in regions)
        if _NANP.fullmatch(v):
            return True
        if not v.startswith(("0", "(")) and len(_DIGIT_GROUPS.findall(v)) < 3:
            return False  # "12345-6789", "1234-5678": ZIP+4 and product codes, not national numbers
        return any(parse_ok(v, region, False) for region in regions)

    check.__name__ = "phone"
    return check


_STREET_WORDS = (
    r"street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|place|pl|way|terrace|square|"
    r"parkway|circle|highway|suite|apt|"
    r"straße|strasse|str|weg|gasse|platz|allee|ring|damm|"
    r"rue|avenue|boulevard|chemin|impasse|allée|place|quai|"
    r"via|viale|piazza|corso|vicolo|largo|"
    r"calle|avenida|avda|plaza|paseo|camino|carrer|ronda|"
    r"rua|travessa|praça|alameda|rodovia|"
    r"straat|laan|plein|gracht|kade|steeg|singel|dreef|hof|pad|"
    # the other EU languages (street types written before the name)
    r"ulica|ul|aleja|al|plac|osiedle|os|rondo|skwer|ulice|náměstí|nám|třída|tř|námestie|"
    r"utca|út|tér|körút|krt|strada|bulevardul|bd|calea|aleea|piața|șoseaua|"
    r"ул|улица|бул|булевард|пл|площад|οδός|οδ|λεωφόρος|λεωφ|πλατεία|"
    r"trg|cesta|gatvė|g|prospektas|pr|aikštė|iela|prospekts|bulvāris|laukums|"
    r"tänav|mnt|maantee|puiestee|väljak|sráid|bóthar|triq|pjazza"
)
#: Street types written as a suffix of the name (German, Dutch, Nordic, Finnish, Estonian, Hungarian).
_STREET_SUFFIXES = (
    r"straße|strasse|str\.|weg|gasse|platz|allee|straat|laan|plein|gracht|steeg|pad|baan|boulevard"
    r"|dijk|kade|singel|dreef|hof|markt|park|ring|damm|ufer|chaussee"
    r"|gatan|gata|vägen|väg|gränd|torget|gade|vej|stræde|plads|veien|gaten|katu|tie|kuja|polku|väylä"
    r"|tänav|utca|út"
)


_ADDRESS = re.compile(
    rf"(?:\d+[a-z]?,?\s+(?:\w+\.?\s+){{0,4}}(?:{_STREET_WORDS})\b"
    rf"|\b(?:{_STREET_WORDS})\.?\s+(?:[\w'-]+\.?,?\s+){{0,4}}\d+"
    rf"|\w*(?:{_STREET_SUFFIXES})\s+\d+)",
    re.IGNORECASE | re.UNICODE,
)


_HOUSE_NUMBER = re.compile(r"\b\d{1,4}(?:[a-zA-Z]|/\d+)?\b")
_POSTAL_TOKEN = re.compile(
    r"\b(?:\d{4,5}|\d{4} ?[A-Z]{2}|\d{5}-\d{3}|\d{8}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b"
)


#: Street-line shapes without a known street word: "5989 Murphy Tunnel" (number first, then capitalised
#: words) or "Rambla Íngrid Pina 58", "Aeroporto Barbosa, 5" (capitalised words, then the number).
_STREET_LINE = re.compile(
    r"\d{1,6}[a-zA-Z]?,?(?:\s+[A-ZÀ-Þ][\w'.-]*){2,5}(?:\s+(?:Apt\.?|Suite|Unit|#)\s*\w+)?"
    r"|[A-ZÀ-Þ][\w'.-]*(?:,?\s+[\w'.-]+){1,5},?\s+\d{1,5}[a-zA-Z]?(?:[\s,/-]+\w[\w .-]*)?",
    re.UNICODE,
)


def address(value: str) -> bool:
    """A street pattern (number + street word in several languages), a street-line shape (house number
    before or after capitalised words), or a full postal address: words, a house number and a postal
    code separated by commas or lines."""
    v = value.strip()
    if not 8 <= len(v) <= 200 or not any(ch.isalpha() for ch in v):
        return False
    if checks.date_value(v):
        return False
    if _ADDRESS.search(v) or _STREET_LINE.fullmatch(v):
        return True
    parts = re.split(r",|\n", v)
    words = re.findall(r"[^\W\d_]{2,}", v)
    return (
        len(parts) >= 2
        and len(words) >= 2
        and bool(_POSTAL_TOKEN.search(v))
        and bool(_HOUSE_NUMBER.search(v))
    )


def _lazy_vocab(name: str) -> Callable[[str], bool]:
    """Vocabulary check that loads its word list on first use, so importing this module stays cheap."""

    def check(value: str) -> bool:
        words = checks.vocabulary(name)
        return any(k in words for k in checks.vocab_key(value))

    check.__name__ = f"vocab_{name}"
    return check


def _std(name: str) -> Callable[[str], bool]:
    return checks.stdnum_check(name)


_CF = "[0-9LMNPQRSTUVlmnpqrstuv]"
_END = r"(?![\w-]|\.\d)"  # a span may end before sentence punctuation, not inside a longer token
_EXTENSION = r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?"
_PHONE_CONTEXT = ("phone", "call", "tel", "telephone", "mobile", "cell", "fax", "dial", "reach", "telefon",
                  "telefono", "téléphone", "numero", "handy", "whatsapp", "sms")  # fmt: skip
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?|Januar|Februar|März|Mai|Juni|Juli|Oktober|Dezember"
    r"|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)"
)
_AT_TIME = r"(?:,? \d{1,2}:\d{2}(?::\d{2})?)?"


def _stdnum_detectors() -> tuple[Detector, ...]:
    return tuple(
        Detector(name, types, _std(module), prefilter, specificity=spec, pool=False)
        for name, types, module, prefilter, spec in _STDNUM_IDS
    )


#: Every built-in detector, strongest evidence first within a type.
DETECTORS: tuple[Detector, ...] = (
    Detector(
        "email",
        ("EMAIL_ADDRESS",),
        checks.email,
        "@",
        specificity=0.97,
        text_regex=r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        text_score=0.9,
    ),
    Detector(
        "url",
        ("URL",),
        checks.url,
        r"(?i)^(https?://|ftp://|www\.)",
        specificity=0.9,
        text_regex=r"\b(?:https?://|ftp://|www\.)[^\s<>\"')\]]+",
        text_score=0.7,
    ),
    Detector(
        "ipv4",
        ("IP_ADDRESS",),
        checks.ip_address,
        r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$",
        specificity=0.95,
        text_regex=r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)",
        text_score=0.8,
    ),
    Detector(
        "ipv6",
        ("IP_ADDRESS",),
        checks.ip_address,
        r"^[0-9A-Fa-f:.%a-z]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.%]*$",
        specificity=0.95,
        text_score=0.8,
        text_regex=r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,7}(?::|(?::[0-9A-Fa-f]{1,4}){1,7}|[0-9A-Fa-f]{1,4})(?![\w:])",
    ),
    Detector(
        "mac",
        ("MAC_ADDRESS",),
        checks.mac_address,
        r"^[0-9A-Fa-f]{2}[:-]|^[0-9A-Fa-f]{4}\.",
        specificity=0.95,
        text_regex=r"(?<![\w:-])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![\w:-])|\b(?:[0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}\b",
        text_score=0.8,
    ),
    Detector(
        "credit_card",
        ("CREDIT_CARD",),
        checks.credit_card,
        r"^[0-9][0-9 -]{11,22}[0-9]$",
        specificity=1.0,
        text_regex=r"(?<![\d-])(?:\d[ -]?){11,18}\d(?![\d-])",
        text_score=0.9,
    ),
    Detector(
        "iban",
        ("IBAN_CODE",),
        checks.iban,
        r"^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{10,32}$",
        specificity=1.0,
        text_regex=r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
        text_score=0.9,
    ),
    Detector(
        "crypto",
        ("CRYPTO",),
        checks.crypto,
        r"^([13][1-9A-HJ-NP-Za-km-z]{24,34}|(?i:(bc|tb)1[02-9ac-hj-np-z]{6,87})|0x[0-9a-fA-F]{40})$",
        specificity=1.0,
        text_score=0.9,
        text_regex=r"\b(?:[13][1-9A-HJ-NP-Za-km-z]{24,34}|(?:bc|tb|BC|TB)1[02-9ac-hj-np-zAC-HJ-NP-Z]{6,87}"
        r"|0x[0-9a-fA-F]{40})\b",
    ),
    Detector(
        "eth_plain",
        ("CRYPTO",),
        checks.ethereum_plain,
        r"^0x[0-9a-fA-F]{40}$",
        weak=True,
        specificity=0.75,
        text_regex=r"\b0x[0-9a-fA-F]{40}\b",
        text_score=0.4,  # unverifiable without a checksum: counts in text only next to a context word
        context=("wallet", "ethereum", "eth", "address", "paid", "ransom", "crypto"),
    ),
    Detector(
        "ssn_dashed",
        ("NATIONAL_ID",),
        checks.us_ssn_dashed,
        r"^\d{3}-\d{2}-\d{4}$",
        specificity=0.9,
        text_regex=r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])",
        text_score=0.6,
    ),
    Detector("ssn_bare", ("NATIONAL_ID",), checks.us_ssn, r"^\d{9}$", weak=True, specificity=0.6),
    Detector("nl_bsn", ("NATIONAL_ID",), _std("nl.bsn"), r"^\d{9}$", specificity=0.8),
    Detector(
        "fr_nir",
        ("NATIONAL_ID",),
        _std("fr.nir"),
        r"^[12][0-9AB ]{12,20}$",
        specificity=1.0,
        text_regex=r"\b[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b",
        text_score=0.7,
    ),
    Detector(
        "it_codicefiscale",
        ("NATIONAL_ID", "TAX_ID"),
        _std("it.codicefiscale"),
        rf"^[A-Za-z]{{6}}{_CF}{{2}}[A-Za-z]{_CF}{{2}}[A-Za-z]{_CF}{{3}}[A-Za-z]$",
        specificity=1.0,
        text_regex=rf"\b[A-Z]{{6}}{_CF}{{2}}[A-Z]{_CF}{{2}}[A-Z]{_CF}{{3}}[A-Z]\b",
        text_score=0.9,
    ),
    Detector(
        "es_dni",
        ("NATIONAL_ID", "TAX_ID"),
        _std("es.dni"),
        r"^[0-9]{8}-?[A-Za-z]$",
        specificity=1.0,
        text_regex=r"\b\d{8}-?[A-Z]\b",
        text_score=0.7,
    ),
    Detector(
        "es_nie",
        ("NATIONAL_ID", "TAX_ID"),
        _std("es.nie"),
        r"^[XYZxyz]-?[0-9]{7}-?[A-Za-z]$",
        specificity=1.0,
        text_regex=r"\b[XYZ]-?\d{7}-?[A-Z]\b",
        text_score=0.8,
    ),
    Detector(
        "br_cpf",
        ("TAX_ID", "NATIONAL_ID"),
        _std("br.cpf"),
        r"^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$",
        specificity=0.95,
        text_regex=r"\b\d{3}\.\d{3}\.\d{3}-\d{2}\b",
        text_score=0.8,
    ),
    Detector(
        "gb_nino",
        ("NATIONAL_ID",),
        checks.gb_nino,
        r"^[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]$",
        specificity=0.9,
        text_regex=r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
        text_score=0.6,
    ),
    Detector(
        "de_idnr",
        ("TAX_ID", "NATIONAL_ID"),
        _std("de.idnr"),
        r"^\d{2} ?\d{3} ?\d{3} ?\d{3}$",
        specificity=0.85,
    ),
    Detector(
        "us_itin",
        ("TAX_ID",),
        _std("us.itin"),
        r"^9\d{2}-?[5-9]\d-?\d{4}$",
        specificity=0.9,
        text_regex=r"\b9\d{2}-[5-9]\d-\d{4}\b",
        text_score=0.6,
    ),
    Detector(
        "us_ein",
        ("TAX_ID",),
        _std("us.ein"),
        r"^\d{2}-\d{7}$",
        specificity=0.8,
        text_regex=r"(?<![\d-])\d{2}-\d{7}(?![\d-])",
        text_score=0.4,
    ),
    Detector(
        "br_cnpj",
        ("TAX_ID",),
        _std("br.cnpj"),
        r"^\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}$",
        specificity=0.95,
        text_regex=r"\b\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}\b",
        text_score=0.8,
    ),
    Detector("es_cif", ("TAX_ID",), _std("es.cif"), r"^[A-Za-z]-?\d{7}-?[0-9A-Ja-j]$", specificity=0.9),
    Detector(
        "fr_nif", ("TAX_ID",), _std("fr.nif"), r"^[0-3]\d ?\d{2} ?\d{3} ?\d{3} ?\d{3}$", specificity=0.9
    ),
    Detector("de_stnr", ("TAX_ID",), _std("de.stnr"), r"^[0-9/ ]{10,14}$", weak=True, specificity=0.6),
    Detector(
        "dea",
        ("MEDICAL_LICENSE",),
        checks.dea_number,
        r"^[A-Za-z][A-Za-z9]\d{7}$",
        specificity=0.9,
        text_regex=r"\b[A-Z][A-Z9]\d{7}\b",
        text_score=0.4,
    ),
    Detector(
        "phone",
        ("PHONE_NUMBER",),
        phone_check(),
        r"^(\+|00|[0-9(])[0-9 ()./x+-]{5,26}$",
        specificity=0.85,
        text_regex=r"(?<![\w+])(?:\+|00)\d{1,3}(?:[ ().-]{0,2}\d){5,13}" + _EXTENSION + _END,
        text_score=0.75,
        context=_PHONE_CONTEXT,
    ),
    Detector(
        "phone_text_nanp",
        ("PHONE_NUMBER",),
        phone_check(),
        None,
        specificity=0.8,
        in_columns=False,
        text_regex=r"(?<![\w+.-])(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{4}" + _EXTENSION + _END,
        text_score=0.55,
        context=_PHONE_CONTEXT,
    ),
    Detector(
        "phone_text_national",
        ("PHONE_NUMBER",),
        phone_check(),
        None,
        specificity=0.8,
        in_columns=False,  # the "phone" detector covers columns
        text_regex=r"(?<![\w+.-])(?:\(0?\d{1,4}\)\s?|0\d{1,4}[\s/-]?)\d{2,4}[\s.-]?\d{2,5}(?:[\s.-]\d{2,4})?"
        + _END,
        text_score=0.4,
        context=_PHONE_CONTEXT,
    ),
    Detector(
        "phone_digits",
        ("PHONE_NUMBER",),
        phone_check(bare_digits=True),
        r"^[1-9]\d{6,14}$",
        weak=True,
        specificity=0.7,
    ),
    Detector(
        "date",
        ("DATE_TIME",),
        checks.date_value,
        r"^\d{1,4}[-./] ?\d{1,2}[-./] ?\d{1,4}|^\d{8}$|^\d{1,2}\.? \p{L}+\.? \d{4}|^\p{L}+ \d{1,2}, \d{4}$"
        r"|^[A-Za-z]{3}, \d{1,2} [A-Za-z]{3} \d{4}",
        specificity=0.8,
        text_regex=r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
        r"(?:Z|[+-]\d{2}:?\d{2})?)?(?![\w-])|\b\d{1,2}[./]\d{1,2}[./]\d{4}\b"
        rf"|\b\d{{1,2}}\.? {_MONTHS} \d{{4}}{_AT_TIME}"
        rf"|\b{_MONTHS}\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}{_AT_TIME}",
        text_score=0.9,
    ),
    Detector(
        "birth_date",
        ("BIRTH_DATE",),
        checks.birth_date,
        r"^\d{1,4}[-./] ?\d{1,2}[-./] ?\d{1,4}|^\d{8}$|\p{L}",
        weak=True,
        specificity=0.8,
    ),
    Detector(
        "deceased_date",
        ("DECEASED_DATE",),
        checks.deceased_date,
        r"^\d{1,4}[-./] ?\d{1,2}[-./] ?\d{1,4}|^\d{8}$|\p{L}",
        weak=True,
        specificity=0.8,
    ),
    Detector(
        "hu_taj", ("NATIONAL_ID",), checks.hu_taj, r"^\d{3} ?\d{3} ?\d{3}$", specificity=0.85, pool=False
    ),
    Detector("hu_tax_id", ("TAX_ID",), checks.hu_tax_id, r"^8\d{9}$", specificity=0.9, pool=False),
    *_stdnum_detectors(),
    Detector("age", ("AGE",), checks.age, r"^\d{1,3}$", weak=True, specificity=0.6),
    Detector(
        "weight",
        ("WEIGHT",),
        checks.weight,
        r"^\d{1,3}([.,]\d{1,2})?\s*(?i:kg|kgs|lb|lbs|g)?$",
        weak=True,
        specificity=0.6,
    ),
    Detector("postal_code_shaped", ("POSTAL_CODE",), lambda v: True, _POSTAL_SHAPED, specificity=0.7),
    Detector(
        "postal_code",
        ("POSTAL_CODE",),
        lambda v: True,
        r"^(\d{4,5}|\d{5}-\d{3,4}|\d{4} ?[A-Za-z]{2}|[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}"
        r"|[A-Za-z]-?\d{4,5}|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d|\d{3,8})$",
        weak=True,
        specificity=0.6,
    ),
    Detector("gender", ("GENDER",), _lazy_vocab("gender"), r"\p{L}", specificity=0.9),
    Detector(
        "gender_code",
        ("GENDER",),
        _lazy_vocab("gender_codes"),
        r"^\p{L}\.?$",
        specificity=0.7,
        set_check=_gender_pair,
    ),
    Detector("marital_status", ("MARITAL_STATUS",), _lazy_vocab("marital_status"), r"\p{L}", specificity=0.9),
    Detector("smoking_status", ("SMOKING_STATUS",), _lazy_vocab("smoking_status"), r"\p{L}", specificity=0.9),
    Detector("smoking_flag", ("SMOKING_STATUS",), _lazy_vocab("boolean"), None, weak=True, specificity=0.6),
    Detector("deceased_flag", ("DECEASED",), _lazy_vocab("boolean"), None, weak=True, specificity=0.6),
    Detector("country", ("COUNTRY",), _lazy_vocab("country"), r"\p{L}", specificity=0.9),
    Detector("nationality", ("NATIONALITY",), _lazy_vocab("nationality"), r"\p{L}", specificity=0.85),
    Detector(
        "nationality_cldr", ("NATIONALITY",), _lazy_vocab("nationality_cldr"), r"^\p{L}", specificity=0.7
    ),
    Detector("language", ("LANGUAGE",), _lazy_vocab("language"), r"\p{L}", specificity=0.85),
    Detector(
        "language_code",
        ("LANGUAGE", "COUNTRY"),
        _lazy_vocab("language_codes"),
        r"^[A-Za-z]{2}([-_][A-Za-z]{2})?$",
        weak=True,
        specificity=0.7,
    ),
    Detector(
        "person_name",
        ("PERSON",),
        checks.person_name,
        r"^\p{Lu}[\p{L}'.-]*,?( [\p{L}'.-]+){1,3}$",
        specificity=0.8,
    ),
    Detector(
        "person_name_text",
        ("PERSON",),
        checks.person_name_text,
        None,
        in_columns=False,
        text_regex=r"\b[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'-]+(?: (?:[A-ZÀ-ÖØ-Þ]\.|[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'-]+)){1,2}\b",
        text_score=0.6,
        rescan=True,  # "Yesterday Maria Schneider": the name starts at the second word
    ),
    Detector("given_name", ("PERSON",), _lazy_vocab("first_names"), r"^\p{Lu}[\p{L}'-]+$", specificity=0.7),
    Detector("place", ("LOCATION",), _lazy_vocab("places"), r"^\p{Lu}", specificity=0.75),
    Detector("address", ("ADDRESS",), address, r"\d", specificity=0.75),
)

#: Types a header alone may report for a string column no validator resolved (no value-level test).
HEADER_ONLY_TYPES: frozenset[str] = frozenset({"PERSON", "ADDRESS", "LOCATION"})


def by_name(name: str) -> Detector:
    return next(d for d in DETECTORS if d.name == name)
