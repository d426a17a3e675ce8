"""Free-text recognisers beyond the value detectors: ages, times and date phrases, postal codes and
street lines in addresses, names in context, places from a gazetteer.

Why rules and not a model: the only offline NER model ppcti can install is English and tags ages,
postal codes and street lines not at all, and numbers as dates far too often; these forms are written
in a few fixed ways ("aged 42", "42-year-old", "10115 Berlin", "ul. Długa 5/7"), which rules find in
any language the word lists cover. Every recogniser is a :class:`~ppcti.pii.detectors.Detector` with a
free-text regex (``in_columns=False``), so both the Presidio path and the regex path run it; the places
gazetteer is a token matcher (:func:`gazetteer_spans`), since a regex cannot take the longest known
place among capitalised words.
"""

from __future__ import annotations

import re
from functools import cache

from ppcti.pii import checks
from ppcti.pii.detectors import Detector

# ------------------------------------------------------------------------------------------- ages

_AGE_AFTER = (
    r"(?:(?<=\baged )|(?<=\bage )|(?<=\bAge )|(?<=\bage: )|(?<=\bAge: )|(?<=\bAlter: )|(?<=\bAlter von )"
    r"|(?<=\bim Alter von )|(?<=\bâgé de )|(?<=\bâgée de )|(?<=\bedad de ))"
)
_AGE_BEFORE = (
    r"(?=[- ]years?[- ]old\b|[- ]yrs?\.?[- ]old\b|-year\b| ?y/?o\b|yo\b| Jahre alt\b| Jahren\b|-?j[äa]hrig"
    r"|[- ]J\.(?!\w)| ans\b| años\b|[MFmf]\b(?![.'-]))"
)
#: "turned 85", "I'm 50 and", "Ich bin 67 und", "wird heute 44": the number after these is an age when a
#: conjunction, punctuation or the line's end follows.
_AGE_SAYING = (
    r"(?:(?<=\bturned )|(?<=\bturns )|(?<=\bturning )|(?<=\bwird heute )|(?<=\bwurde )|(?<=\bwird )"
    r"|(?<=\bI'm )|(?<=\bI’m )|(?<=\bI am )|(?<=\bIch bin )|(?<=\bich bin )|(?<=\bis now )|(?<=\bist jetzt ))"
    r"\d{1,3}(?= and\b| und\b|[,.!;)]| 🎉| today| heute|\s*$)"
)
AGE_TEXT = (
    rf"{_AGE_AFTER}\d{{1,3}}\b|\b\d{{1,3}}{_AGE_BEFORE}|{_AGE_SAYING}"
    r"|(?<=[a-zà-ÿ] \()\d{1,2}(?=\))"  # "Maria Rossi (42)"
    r"|(?<=[a-zà-ÿ], )\d{2}(?=, )"  # "Candidate Jamie de Haan, 50, currently"
)


def age_text(value: str) -> bool:
    v = value.strip()
    return v.isdigit() and 0 < int(v) <= 120


# ------------------------------------------------------------------------------------ times, dates

_WEEKDAYS = (
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Tues|Wed|Thu|Thurs|Fri|Sat|Sun"
    r"|Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonnabend|Sonntag|Mo|Di|Mi|Do|Fr|Sa|So"
    r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
)
_MONTH_WORDS = (
    r"(?:Jan(?:uary|uar)?|Feb(?:ruary|ruar)?|Mar(?:ch)?|März|Apr(?:il)?|May|Mai|June?|Juni|July?|Juli"
    r"|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Okt(?:ober)?|Nov(?:ember)?|Dec(?:ember)?|Dez(?:ember)?)"
)
_ZONE = r"(?: ?(?:UTC|GMT|CET|CEST|MEZ|MESZ|BST|EST|PST))?"
#: Times: with a colon ("14:45", "9:45 pm"), or with a dot only before am/pm/Uhr ("12.20pm",
#: "20.15 Uhr"; "8.12" alone is a version or an amount).
_TIME = (
    rf"\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?: ?(?:[ap]\.?m\.?|Uhr|h)(?!\w))?{_ZONE}"
    rf"|\d{{1,2}}\.\d{{2}} ?(?:[ap]\.?m\.?|Uhr|h)(?!\w){_ZONE}"
)
TIME_TEXT = rf"(?<![\w.:/-])(?:{_TIME}|\d{{1,2}} ?(?:[ap]\.?m\.?)(?!\w)|\d{{1,2}} Uhr\b)(?![\w/-]|:\d|\.\d)"
#: Weekday used as a date, optionally with its date ("Friday", "Fri 3 May", "Montag, 3. März 2024").
WEEKDAY_TEXT = (
    rf"\b{_WEEKDAYS}\b(?:,? (?:the )?\d{{1,2}}(?:st|nd|rd|th|\.)? {_MONTH_WORDS}\.?(?: \d{{4}})?"
    rf"|,? {_MONTH_WORDS} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?"
    rf"|,? \d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}|,? den \d{{1,2}}\.\d{{1,2}}\.(?:\d{{2,4}})?)?(?!\w)"
)
#: Month and year ("March 2024", "im März 2023"), day and month without year ("3 March", "March 3rd").
MONTH_TEXT = (
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th|\.)? {_MONTH_WORDS}\b\.?|{_MONTH_WORDS}\.? \d{{1,2}}(?:st|nd|rd|th)?\b"
    rf"|{_MONTH_WORDS} \d{{4}}\b)(?!,? \d{{4}})"
)
#: A year as a point in time: after "in", "since", "born", "seit", "im Jahr", or a range "(2016–2019)".
YEAR_TEXT = (
    r"(?:(?<=\bin )|(?<=\bIn )|(?<=\bsince )|(?<=\bborn )|(?<=\bseit )|(?<=\bSeit )|(?<=\bJahr )"
    r"|(?<=\bgeboren )|(?<=\bgeb\. )|(?<=\bbis )|(?<=\buntil )|(?<=\()|(?<=\d{4}–)|(?<=\(\d{4}-))"
    r"(?:19|20)\d{2}(?=[)–]|\b)(?![.,]\d|-\d)"
)
#: Numeric dates, also with a time ("05.03.2024, 14:22 Uhr", "2024-03-05 14:22", "3/5/24").
NUMERIC_DATE_TEXT = (
    r"(?<![\w./-])(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[./]\d{1,2}[./](?:\d{4}|\d{2})(?:,? \d{1,2}:\d{2}(?::\d{2})?(?: ?Uhr)?)?)(?![\w/-]|\.\d)"
)


def date_phrase(value: str) -> bool:
    """A numeric date must parse; word forms are already specific."""
    v = value.strip()
    if v[:1].isdigit() and ("/" in v or "-" in v[:5] or v.count(".") >= 2) and not v.endswith("."):
        head = re.split(r",? \d{1,2}:\d{2}", v)[0]
        return checks.parse_date(head) is not None
    return True


# ---------------------------------------------------------------------------------- postal codes

POSTAL_TEXT = (
    # UK, Canada, Ireland (Eircode), Netherlands before a town, Malta
    r"\b(?:[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}|[A-Z]\d[A-Z] \d[A-Z]\d|[AC-FHKNPRTV-Y]\d{2} [0-9AC-FHKNPRTV-Y]{4}"
    r"|\d{4} ?[A-Z]{2}(?= [A-Z][a-z])|[A-Z]{3} \d{4})\b"
    # US ZIP after a state, Australian postcode after a state
    r"|(?<=\b[A-Z]{2} )\d{5}(?:-\d{4})?\b|(?<=\b(?:NSW|VIC|QLD|TAS|ACT) )\d{4}\b"
    # continental codes written before the town: 10115 Berlin, 1010 Wien, 00-950 Warszawa, D-80331
    r"|(?:(?<=\b[ADF]-)|(?<=\bCH-))?\b(?:\d{5}|\d{4}|\d{2}-\d{3})(?=,? [A-ZÄÖÜŁŚŻ][a-zäöüßéèłśżźćńó]+)"
    # after a label
    r"|(?:(?<=\bZIP )|(?<=\bzip )|(?<=\bpostcode )|(?<=\bPLZ )|(?<=\bPLZ: )|(?<=\bZIP: ))"
    r"[A-Z0-9][A-Z0-9 -]{2,8}[A-Z0-9]\b"
    # Indian PIN after a town and a dash
    r"|(?<=[a-z] - )\d{6}\b|(?<=[a-z] )\d{3} \d{3}\b(?=[,.]|$)"
)


def postal_text(value: str) -> bool:
    v = value.strip()
    if v.isdigit() and len(v) == 4 and v[:2] in ("19", "20"):
        return False  # "2019 Berlin": a year before a place, more often than a postcode
    return bool(v)


# ---------------------------------------------------------------------------------- street lines


@cache
def _street_suffixes() -> str:
    words = set(checks._names_file().get("street_suffixes_en", ()))
    words |= {"St", "Ave", "Rd", "Dr", "Ln", "Blvd", "Ct", "Pl", "Sq", "Ter", "Hwy", "Pkwy", "Cres", "Gdns"}
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_UNIT = r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|#)\.? ?[\w-]+)?"
_CAP = r"[A-ZÀ-ÖØ-ÞŁŚŻŹĆŃ][\w'’.-]*"
_DE_SUFFIX = (
    r"(?:straße|strasse|str\.|gasse|weg|platz|allee|ring|damm|ufer|chaussee|steig|pfad|markt|berg|graben"
    r"|straat|laan|plein|gracht|kade|singel|dreef|hof|dijk|pad|gatan|vägen|gade|vej|katu|tie)"
)


@cache
def address_text_regex() -> str:
    """Street lines in the forms of the countries the recognisers know (number-first English, name-first
    continental with the street type as prefix or suffix)."""
    return (
        rf"(?:(?:Flat|Apt|Apartment|Unit|Suite) [\w-]+, (?:{_CAP} ){{1,3}}(?:{_street_suffixes()})\b\.?"
        rf"|\b\d{{1,5}}[A-Za-z]?(?:-\d{{1,4}})? (?:{_CAP} ){{1,3}}(?:{_street_suffixes()})\b\.?{_UNIT}"
        rf"|\b{_CAP}{_DE_SUFFIX} \d{{1,4}}(?: ?[a-zA-Z]\b)?(?:/\d+)?"
        rf"|\b(?:{_CAP}[ -]){{1,3}}(?:Straße|Strasse|Str\.|Gasse|Weg|Platz|Allee|Ring|Damm) \d{{1,4}}[a-z]?"
        r"|\b\d{1,4}(?: bis| ter)?,? (?:rue|avenue|boulevard|bd|place|chemin|impasse|allée|quai|cours) "
        r"(?:(?:de la|de l'|du|des|de|d'|la|le|l')\s?)?[\w'’-]+(?: [A-ZÉ][\w'’-]+){0,3}"
        r"|\b(?:Calle|C/|Avenida|Avda\.|Plaza|Paseo|Camino|Carrer|Rua|Avenida) (?:de (?:la |los |las )?)?"
        rf"{_CAP}(?: {_CAP}){{0,2}},? \d{{1,4}}(?:, ?\d+º? ?\w?)?"
        rf"|\b(?:ul\.|al\.|pl\.|os\.|ulica|aleja|plac) {_CAP}(?: {_CAP})? \d{{1,4}}[a-zA-Z]?(?:/\d{{1,4}})?)"
    )


def address_text(value: str) -> bool:
    return any(ch.isdigit() for ch in value) and 5 <= len(value) <= 80


# ----------------------------------------------------------------------------------- named people

#: Titles, salutations and kinship words a name follows ("Mr Smith", "Tochter Jane", "Dear Ayesha"):
#: after these any capitalised word is taken as a name.
_STRONG_CUES = (
    "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dear", "Herr", "Frau", "Hallo", "Hi", "Hello",
    "Liebe", "Lieber", "Tochter", "Sohn", "Mutter", "Vater", "Ehemann", "Ehefrau", "Patientin", "Kundin",
    "Kollegin", "Mme", "Mlle", "Monsieur", "Madame", "Sra", "Dhr", "Mevr", "Pani", "daughter", "son",
    "wife", "husband", "mother", "father", "sister", "brother", "Schwester", "Bruder", "patient",
    "nurse", "officer", "Regards", "Grüße", "Gruß", "Cheers", "Thanks", "Danke", "child", "Kind",
)  # fmt: skip
#: The cue words in lower case (also stripped from the front of a model's PERSON span).
TITLE_WORDS = frozenset(w.lower() for w in (*_STRONG_CUES, "child", "kid", "baby", "kind", "enfant"))
#: Words a name often follows but other capitalised words too ("by Ren", "from Glasgow"): the word must
#: then be a known first name or surname.
_WEAK_CUES = ("by", "von", "for", "für", "with", "mit", "cc", "und", "and")


def _forms(words: tuple[str, ...]) -> list[str]:
    return sorted({f for w in words for f in (w, w[:1].upper() + w[1:])})


def _cues(words: tuple[str, ...]) -> str:
    """Lookbehinds for "WORD " and "WORD. ": the match starts after the cue (Presidio takes whole
    matches as entities, so the cue must not be part of it)."""
    return "(?:" + "|".join(rf"(?<=\b{re.escape(c)} )|(?<=\b{re.escape(c)}\. )" for c in _forms(words)) + ")"


def cue_anchor(words: tuple[str, ...]) -> str:
    """The cue words themselves, consumed: each match ends where :func:`_cues` holds. Cues are single
    words, so no two occurrences overlap and ``finditer`` finds every one."""
    assert all(" " not in w for w in words)
    longest_first = sorted(_forms(words), key=lambda f: (-len(f), f))
    return r"\b(?:" + "|".join(re.escape(c) for c in longest_first) + r")\.? "


_UP = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĲĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ"
#: A capitalised name word in any Latin script ("Jeżyk", "Hayrioğlu", "O'Brien", "Min-jun").
NAME_WORD = rf"[{_UP}](?:[^\W\d_]|['’])*(?:-[{_UP}a-z](?:[^\W\d_]|['’])*)?"
_PARTICLE = r"(?:van der|van den|van de|von der|van|von|de la|de|del|della|da|di|du|le|la|bin|al|ten|ter) "
_FULL_NAME = rf"{NAME_WORD}(?: (?:{_PARTICLE})?{NAME_WORD}){{0,2}}(?![\w'’-])"
NAME_AFTER_TITLE = _cues(_STRONG_CUES) + _FULL_NAME
NAME_IN_CONTEXT = _cues(_WEAK_CUES) + _FULL_NAME


def name_in_context(value: str) -> bool:
    """A known first name or surname among capitalised words."""
    parts = [p for p in re.split(r"[ -]", value.strip()) if p and p[:1].isupper()]
    if not parts or any(p.lower() in NOT_NAMES for p in parts):
        return False
    from ppcti.pii.places import gazetteer

    if value.strip().lower() in gazetteer():
        return False  # "to Madrid", "from Jordan": after these weak cues a known place is a place
    first, last = checks.vocabulary("first_names"), checks.vocabulary("last_names")
    return any(p.lower() in first or p.lower() in last for p in parts)


def name_after_title(value: str) -> bool:
    """Any capitalised words after a title or kinship word, unless they are common non-names."""
    parts = [p for p in re.split(r"[ -]", value.strip()) if p and p[:1].isupper()]
    return bool(parts) and not any(p.lower() in NOT_NAMES for p in parts) and not value.isupper()


NOT_NAMES = frozenset(
    {"the", "team", "support", "customer", "service", "admin", "monday", "tuesday", "wednesday", "thursday",
     "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july",
     "august", "september", "october", "november", "december", "street", "road", "avenue", "bank", "hospital",
     "police", "ticket", "order", "invoice", "account", "ihre", "ihr", "bitte", "danke", "sehr", "geehrte",
     "madam", "sir", "all", "everyone", "kollegen", "damen", "herren", "und", "and", "note", "notiz",
     "informed", "informiert", "wird", "is", "was", "hat", "has", "ist"}
)  # fmt: skip

# ------------------------------------------------------------------------------- national numbers

#: UK NHS numbers, German tax and social-insurance numbers as people write them in text.
NHS_TEXT = r"(?<![\d-])\d{3} \d{3} \d{4}(?![\d-])"
STEUER_ID_TEXT = r"(?<![\d-])\d{2} ?\d{3} ?\d{3} ?\d{3}(?![\d-])"
DE_SVNR_TEXT = r"\b\d{2} ?\d{6} ?[A-Z] ?\d{3}\b"


def de_svnr(value: str) -> bool:
    """German Rentenversicherungsnummer: area, birth date (ddmmyy), surname letter, serial, check digit
    (weights 2,1,2,5,7,1,2,1,2,1,2,1 over the digits with the letter as its two-digit alphabet index)."""
    v = re.sub(r"\s", "", value.upper())
    if not re.fullmatch(r"\d{8}[A-Z]\d{3}", v):
        return False
    digits = v[:8] + f"{ord(v[8]) - 64:02d}" + v[9:11]
    weights = (2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1)
    total = sum(sum(divmod(int(d) * w, 10)) for d, w in zip(digits, weights, strict=True))
    return total % 10 == int(v[11])


def de_svnr_shape(value: str) -> bool:
    """The structure without the check digit: area 02-89 and a real birth date (ddmmyy) in the middle,
    written in the usual groups ("62 311060 G 756"), a shape no other number has."""
    v = re.sub(r"\s", "", value.upper())
    if de_svnr(v):
        return True
    if not re.fullmatch(r"\d{8}[A-Z]\d{3}", v) or not 2 <= int(v[:2]) <= 89:
        return False
    day, month = int(v[2:4]), int(v[4:6])
    return 1 <= day <= 31 and 1 <= month <= 12 and " " in value


def ssn_spaced(value: str) -> bool:
    return checks.us_ssn(value.strip().replace(" ", "-"))


#: US social security numbers written with spaces ("039 32 9358"); weak without a context word.
SSN_SPACED_TEXT = r"(?<![\d-])\d{3} \d{2} \d{4}(?![\d-])"


TEXT_DETECTORS: tuple[Detector, ...] = (
    Detector("age_text", ("AGE",), age_text, None, in_columns=False, text_regex=AGE_TEXT, text_score=0.85),
    Detector("time_text", ("DATE_TIME",), lambda v: True, None, in_columns=False, text_regex=TIME_TEXT,
             text_score=0.85),
    Detector("weekday_text", ("DATE_TIME",), lambda v: True, None, in_columns=False, text_regex=WEEKDAY_TEXT,
             text_score=0.8),
    Detector("month_text", ("DATE_TIME",), lambda v: True, None, in_columns=False, text_regex=MONTH_TEXT,
             text_score=0.75),
    Detector("year_text", ("DATE_TIME",), lambda v: True, None, in_columns=False, text_regex=YEAR_TEXT,
             text_score=0.7),
    Detector("numeric_date_text", ("DATE_TIME",), date_phrase, None, in_columns=False,
             text_regex=NUMERIC_DATE_TEXT, text_score=0.9),
    Detector("postal_text", ("POSTAL_CODE",), postal_text, None, in_columns=False, text_regex=POSTAL_TEXT,
             text_score=0.8),
    Detector("name_in_context", ("PERSON",), name_in_context, None, in_columns=False,
             text_regex=NAME_IN_CONTEXT, text_score=0.75, text_anchor=cue_anchor(_WEAK_CUES)),
    Detector("name_after_title", ("PERSON",), name_after_title, None, in_columns=False,
             text_regex=NAME_AFTER_TITLE, text_score=0.8, text_anchor=cue_anchor(_STRONG_CUES)),
    Detector("nhs_text", ("NATIONAL_ID",), checks.stdnum_check("gb.nhs"), None, in_columns=False,
             text_regex=NHS_TEXT, text_score=0.7),
    Detector("de_idnr_text", ("NATIONAL_ID",), checks.stdnum_check("de.idnr"), None, in_columns=False,
             text_regex=STEUER_ID_TEXT, text_score=0.7),
    Detector("de_svnr_text", ("NATIONAL_ID",), de_svnr_shape, None, in_columns=False,
             text_regex=DE_SVNR_TEXT, text_score=0.8),
    Detector("ssn_spaced_text", ("NATIONAL_ID",), ssn_spaced, None, in_columns=False,
             text_regex=SSN_SPACED_TEXT, text_score=0.4, context=("ssn", "social", "security")),
)  # fmt: skip


#: Phone regions tried by phonenumbers' matcher, per text language.
PHONE_REGIONS: dict[str, tuple[str, ...]] = {
    "en": ("US", "GB", "IE", "AU", "CA", "IN", "NG", "KE", "SG", "NZ", "ZA"),
    "de": ("DE", "AT", "CH", "LU", "LI"),
    "fr": ("FR", "BE", "CH", "LU", "CA"),
}


def phone_matcher_spans(text: str, language: str) -> list[tuple[int, int]]:
    """(start, end) of the numbers phonenumbers' ``PhoneNumberMatcher`` finds valid in the regions of the
    text's language (international numbers in any region); national numbers without a country code need
    the region, which only the language gives."""
    import phonenumbers

    out: set[tuple[int, int]] = set()
    for region in PHONE_REGIONS.get(language, PHONE_REGIONS["en"]):
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            before = text[m.start - 1] if m.start else " "
            after = text[m.end] if m.end < len(text) else " "
            if (
                sum(ch.isdigit() for ch in m.raw_string) >= 7  # short codes and years are not phone numbers
                and not (before.isalnum() or before in "-/_.:")  # "CVE-2024-21357", "ORD-2025-60628"
                and not (after.isalnum() or after in "-/_")
            ):
                out.add((m.start, m.end))
    return sorted(out)


def address_detector() -> Detector:
    """Built on first use: the street-type list comes from the packaged names file."""
    return Detector("address_text", ("ADDRESS",), address_text, None, in_columns=False,
                    text_regex=address_text_regex(), text_score=0.8)  # fmt: skip
