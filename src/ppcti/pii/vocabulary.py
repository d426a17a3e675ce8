"""PII categories and their header vocabulary, read from the packaged ontology.

The ontology Turtle (``data/ontology.ttl``) is the single source of truth: detection reads which types
exist, their validators and whether a header is required from here, so adding a synonym or a language
is a data change, not a code change. Headers are compared after :func:`normalise_header`, which makes
``Date_Of-Birth``, ``dateOfBirth`` and ``DATE OF BIRTH`` the same string.

Parsing costs ~0.1 s and happens once per process (``lru_cache``); each :func:`load_vocabulary` call
gets its own :class:`Vocabulary` so user extensions (:meth:`Vocabulary.add_synonyms`) never leak into
the cached copy other callers share.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ppcti.errors import ConfigError

#: Namespace of the project's classes and annotation properties.
PPII = "https://w3id.org/ppcti/pii#"
#: W3C DPV personal-data extension.
DPV_PD = "https://w3id.org/dpv/pd#"

_SKOS = "http://www.w3.org/2004/02/skos/core#"

#: The fixed type identifiers of issue 4; more may be added, none renamed.
FIXED_TYPE_IDS: tuple[str, ...] = (
    "MAC_ADDRESS", "PERSON", "GENDER", "AGE", "WEIGHT", "SMOKING_STATUS", "LANGUAGE", "NATIONALITY",
    "MARITAL_STATUS", "TAX_ID", "NATIONAL_ID", "BIRTH_DATE", "COUNTRY", "DECEASED", "DECEASED_DATE",
    "ADDRESS", "POSTAL_CODE", "EMAIL_ADDRESS", "IP_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE",
    "CRYPTO", "URL", "DATE_TIME", "MEDICAL_LICENSE", "LOCATION",
)  # fmt: skip

#: Header tokens that carry no meaning of their own (prefixes of obfuscated headers, articles, "no"/"nr"
#: suffixes); they are ignored when measuring how much of a header a synonym explains.
NOISE_TOKENS: frozenset[str] = frozenset({
    "c", "f", "x", "y", "z", "col", "column", "fld", "field", "attr", "val", "value", "txt", "str", "raw",
    "the", "of", "de", "du", "des", "di", "da", "do", "del", "dos", "van", "het", "le", "la", "el", "der",
    "die", "das", "no", "nr", "num", "nbr", "number", "id", "code", "cd", "info", "data", "user", "usr",
})  # fmt: skip

#: Synonyms shorter than this only match whole tokens, never as a substring ("age" in "message").
MIN_CONTAINS_LEN = 5
#: Longest synonym looked for inside a header (longer ones only match as whole tokens).
MAX_SYNONYM_LEN = 40

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_ALNUM = re.compile(r"[\W_]+")
_TRAILING_DIGITS = re.compile(r"(?<=[a-z])\d+$")


@dataclass(frozen=True, slots=True)
class Category:
    """One PII type as the ontology defines it."""

    type_id: str
    label: str
    iri: str
    dpv_iri: str | None
    parent: str | None
    synonyms: tuple[str, ...]
    header_required: bool
    special_category: bool
    validators: tuple[str, ...]
    identifier_kind: str = "attribute"  # direct | quasi | attribute: drives re-identification flags


def header_tokens(header: str) -> tuple[str, ...]:
    """Split a header into lower-case tokens: camelCase, accents, ``_ - . /`` and spaces; letters of any
    script stay (Greek and Cyrillic headers match their synonyms)."""
    text = _CAMEL.sub(" ", header.strip())
    # decomposed before case folding too: a compatibility character can decompose to a capital
    # (U+1D2C MODIFIER LETTER CAPITAL A is "A"), which would make the form depend on how often it is taken
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return tuple(t for t in _NON_ALNUM.split(text) if t)


def normalise_header(header: str) -> str:
    """The form synonyms are stored and compared in: tokens joined, no separators."""
    return "".join(header_tokens(header))


def _variants(tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The header as written, and without numbering ("email2", "addr_1", "ipv4_2", "ipv42"), which people
    add to repeated columns."""
    out = [tokens]
    words = tuple(t for t in tokens if not t.isdigit())
    for candidate in (
        words,
        tuple(_TRAILING_DIGITS.sub("", t) for t in words),
        (*words[:-1], words[-1][:-1]) if words and words[-1][-1:].isdigit() else words,
    ):
        candidate = tuple(t for t in candidate if t)
        if candidate and candidate not in out:
            out.append(candidate)
    return out


class Vocabulary:
    """The categories and an index from normalised synonym to type id, for header matching."""

    def __init__(self, categories: Iterable[Category], date_of: dict[str, str] | None = None) -> None:
        self.categories: dict[str, Category] = {c.type_id: c for c in categories}
        #: event type -> its date type (DECEASED -> DECEASED_DATE), from ``ppii:dateOf``
        self.date_of: dict[str, str] = dict(date_of or {})
        self._index: dict[str, set[str]] = {}
        self._matches: dict[str, list[tuple[str, float]]] = {}  # header -> match_header result
        for cat in self.categories.values():
            self._add_to_index(cat.type_id, cat.synonyms)

    def _add_to_index(self, type_id: str, synonyms: Iterable[str]) -> None:
        self._matches.clear()
        for syn in synonyms:
            self._index.setdefault(syn, set()).add(type_id)

    def match_header(self, header: str) -> list[tuple[str, float]]:
        """Types the header names, best first, with a score in (0, 1].

        1.0 for an exact synonym; 0.5-0.9 when a run of whole tokens is a synonym (scaled by how much of
        the meaningful header it explains, so ``fld_dob_x`` scores 0.9 and ``host_name`` less); 0.3-0.7
        when a long synonym is only a substring. The detector weighs this against value evidence.
        Results are remembered per header (tables repeat headers across files and members).
        """
        cached = self._matches.get(header)
        if cached is None:
            if len(self._matches) > 100_000:
                self._matches.clear()
            cached = self._matches[header] = self._match_header(header)
        return list(cached)

    def _match_header(self, header: str) -> list[tuple[str, float]]:
        best: dict[str, float] = {}

        def offer(type_ids: Iterable[str], score: float) -> None:
            for t in type_ids:
                if score > best.get(t, 0.0):
                    best[t] = score

        for tokens in _variants(header_tokens(header)):
            if not tokens:
                continue
            joined = "".join(tokens)
            if joined in self._index:
                offer(self._index[joined], 1.0)
            content = [t for t in tokens if t not in NOISE_TOKENS]
            content_len = sum(len(t) for t in content)
            if not content_len:
                continue
            matched_spans: set[str] = set()
            span_len: dict[str, int] = {}  # longest whole-token synonym per type
            covered: dict[str, set[int]] = {}  # token positions synonyms of a type explain
            for i in range(len(tokens)):
                for j in range(i + 1, len(tokens) + 1):
                    span = "".join(tokens[i:j])
                    if span in self._index and span not in NOISE_TOKENS:
                        matched_spans.add(span)
                        coverage = min(1.0, len(span) / content_len)
                        offer(self._index[span], 0.5 + 0.4 * coverage)
                        for t in self._index[span]:
                            span_len[t] = max(span_len.get(t, 0), len(span))
                            covered.setdefault(t, set()).update(range(i, j))
            # "adres_ulica", "street_address_line": several words of the same type explain the header
            # together as much as one synonym for all of it would.
            for t, positions in covered.items():
                explained = sum(len(tokens[k]) for k in positions if tokens[k] not in NOISE_TOKENS)
                if explained > span_len[t]:
                    offer([t], 0.5 + 0.4 * min(1.0, explained / content_len))
            # "fecha_defuncion", "death_dt": an event word plus a date word name the event's date
            if "DATE_TIME" in span_len:
                for event, date_type in self.date_of.items():
                    if event in span_len:
                        coverage = min(1.0, (span_len[event] + span_len["DATE_TIME"]) / content_len)
                        offer([date_type], 0.5 + 0.45 * coverage)
            content_joined = "".join(content)
            # Every substring of the header is looked up (quadratic in the header's length, which is
            # short), rather than every synonym searched in the header (linear in a vocabulary of
            # thousands): a 10,000-column table stays cheap.
            n = len(content_joined)
            for i in range(n - MIN_CONTAINS_LEN + 1):
                for j in range(i + MIN_CONTAINS_LEN, min(n, i + MAX_SYNONYM_LEN) + 1):
                    syn = content_joined[i:j]
                    type_ids = self._index.get(syn)
                    if type_ids is not None and syn not in matched_spans:
                        coverage = min(1.0, len(syn) / content_len)
                        offer(type_ids, 0.3 + 0.4 * coverage)
        return sorted(((t, round(s, 4)) for t, s in best.items()), key=lambda ts: (-ts[1], ts[0]))

    def add_synonyms(self, type_id: str, synonyms: Iterable[str]) -> None:
        """Teach the vocabulary more headers; an unknown ``type_id`` becomes a new custom category
        (custom rules add their own entity types this way)."""
        normalised = tuple(n for n in (normalise_header(s) for s in synonyms) if n)
        cat = self.categories.get(type_id)
        if cat is None:
            cat = Category(
                type_id=type_id,
                label=type_id,
                iri=PPII + _local_name(type_id),
                dpv_iri=None,
                parent=None,
                synonyms=(),
                header_required=False,
                special_category=False,
                validators=(),
            )
        merged = tuple(sorted(set(cat.synonyms) | set(normalised)))
        self.categories[type_id] = replace(cat, synonyms=merged)
        self._add_to_index(type_id, normalised)

    def by_iri(self, iri: str) -> Category | None:
        """The category whose class IRI is ``iri``."""
        return next((c for c in self.categories.values() if c.iri == iri), None)


def _local_name(type_id: str) -> str:
    """CamelCase class name for a type id; anything but letters and digits is dropped (IRI-safe)."""
    parts = re.split(r"[^a-z0-9]+", type_id.lower())
    return "".join(part.capitalize() for part in parts) or "Custom"


def ontology_path() -> Path:
    """The packaged ontology file (also what ``export`` and the docs point users at)."""
    return Path(str(resources.files("ppcti.pii").joinpath("data/ontology.ttl")))


@lru_cache(maxsize=8)
def ontology_graph(extra_ttl: Path | None = None):  # -> rdflib.Graph (rdflib imported lazily)
    """The ontology as an rdflib graph, plus a user's extra Turtle. Shared: callers must not mutate it."""
    import rdflib

    graph = rdflib.Graph()
    graph.bind("ppii", PPII)
    graph.bind("pd", DPV_PD)
    graph.parse(ontology_path(), format="turtle")
    if extra_ttl is not None:
        path = Path(extra_ttl)
        if not path.is_file():
            raise ConfigError("extra ontology file not found", file=str(path))
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises several parser exception types
            raise ConfigError(
                f"extra ontology file is not valid Turtle ({type(exc).__name__})", file=str(path)
            ) from exc
    return graph


@lru_cache(maxsize=8)
def _categories(extra_ttl: Path | None) -> tuple[Category, ...]:
    from rdflib import Literal, URIRef

    graph = ontology_graph(extra_ttl)
    p = {
        name: URIRef(PPII + name)
        for name in (
            "typeId",
            "validator",
            "headerRequired",
            "specialCategory",
            "dpvParent",
            "identifierKind",
        )
    }
    pref, alt = URIRef(_SKOS + "prefLabel"), URIRef(_SKOS + "altLabel")
    exact, close = URIRef(_SKOS + "exactMatch"), URIRef(_SKOS + "closeMatch")

    def one(subject: URIRef, pred: URIRef) -> object | None:
        return next(iter(graph.objects(subject, pred)), None)

    def flag(subject: URIRef, pred: URIRef) -> bool:
        value = one(subject, pred)
        return bool(value.toPython()) if isinstance(value, Literal) else False

    out: list[Category] = []
    seen: set[str] = set()
    for subject, type_id in sorted(graph.subject_objects(p["typeId"])):
        tid = str(type_id)
        if tid in seen:
            raise ConfigError(f"type id {tid} is defined by two classes in the ontology")
        seen.add(tid)
        labels = [*graph.objects(subject, pref), *graph.objects(subject, alt)]
        english = sorted(
            str(lbl) for lbl in graph.objects(subject, pref) if getattr(lbl, "language", None) == "en"
        )
        dpv = one(subject, exact) or one(subject, close)
        parent = one(subject, p["dpvParent"])
        out.append(
            Category(
                type_id=tid,
                label=english[0] if english else tid,
                iri=str(subject),
                dpv_iri=str(dpv) if dpv is not None else None,
                parent=str(parent).removeprefix(DPV_PD) if parent is not None else None,
                synonyms=tuple(
                    sorted(
                        {n for n in (normalise_header(str(lbl)) for lbl in labels) if n}
                        | set(header_terms().get(tid, ()))
                    )
                ),
                header_required=flag(subject, p["headerRequired"]),
                special_category=flag(subject, p["specialCategory"]),
                validators=tuple(sorted(str(v) for v in graph.objects(subject, p["validator"]))),
                identifier_kind=str(one(subject, p["identifierKind"]) or "attribute"),
            )
        )
    return tuple(out)


@lru_cache(maxsize=1)
def header_terms() -> dict[str, tuple[str, ...]]:
    """Normalised header words per type from ``data/headers.yaml`` (24 EU languages), merged into the
    ontology's labels: the ontology keeps its few labels per language, the data file the long tail."""
    import yaml

    text = resources.files("ppcti.pii").joinpath("data/headers.yaml").read_text(encoding="utf-8")
    out: dict[str, set[str]] = {}
    for type_id, by_lang in (yaml.safe_load(text) or {}).items():
        words = out.setdefault(str(type_id), set())
        for terms in (by_lang or {}).values():
            words.update(n for n in (normalise_header(t) for t in str(terms).split("|")) if n)
    return {t: tuple(sorted(w)) for t, w in out.items()}


def load_vocabulary(extra_ttl: Path | None = None) -> Vocabulary:
    """The vocabulary from the packaged ontology (and ``extra_ttl``, a user's Turtle with more classes
    or more ``skos:altLabel`` on existing ones). Parsed once per process; each call returns a fresh,
    independently extensible :class:`Vocabulary`."""
    path = Path(extra_ttl) if extra_ttl is not None else None
    return Vocabulary(_categories(path), _dates(path))


@lru_cache(maxsize=8)
def _dates(extra_ttl: Path | None) -> dict[str, str]:
    from rdflib import URIRef

    graph = ontology_graph(extra_ttl)
    type_id = URIRef(PPII + "typeId")
    out: dict[str, str] = {}
    for date_cls, event_cls in graph.subject_objects(URIRef(PPII + "dateOf")):
        date_id, event_id = graph.value(date_cls, type_id), graph.value(event_cls, type_id)
        if date_id is not None and event_id is not None:
            out[str(event_id)] = str(date_id)
    return out
