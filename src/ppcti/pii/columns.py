"""Column classification of tables (CSV, XLSX, flattened JSON) with Polars.

Per column: profile it, sample distinct values, run every detector's vectorised prefilter over the
sample and the exact Python check only where the prefilter could still reach ``min_match_rate``; weigh
value evidence against the header's meaning from the knowledge-graph vocabulary; fall back to free-text
analysis for long prose cells and to NER for string columns nothing else resolved. Only distinct values
are validated, so cost grows with the sample size, not the row count.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import polars as pl

from ppcti.pii.context import Context, build_context
from ppcti.pii.detectors import DEFAULT_PHONE_REGIONS, HEADER_ONLY_TYPES, Detector, phone_check
from ppcti.pii.masking import mask
from ppcti.pii.model import Finding
from ppcti.pii.options import PiiOptions
from ppcti.pii.sampling import ColumnProfile, PrefilterHits, profile_column

log = logging.getLogger(__name__)

#: Header weight when combining with value evidence: conf = 1 - (1 - value) * (1 - HEADER_WEIGHT * header).
HEADER_WEIGHT = 0.6
#: Header score at which the header decides between types the values fit equally.
STRONG_HEADER = 0.8
#: Share of sampled values NER must label PERSON/LOCATION for an unresolved column.
NER_MIN_RATE = 0.6
#: Share of the sample strong detectors must have matched before a weak form of the same type joins.
WEAK_JOINS_STRONG = 0.25
#: Header support carried over between related types, and the factor it is scaled by.
RELATED_HEADERS: tuple[tuple[str, str], ...] = (("DECEASED", "DECEASED_DATE"), ("DECEASED_DATE", "DECEASED"))
RELATED_FACTOR = 0.9
#: Specific types and the generic type they refine.
SPECIALISES: dict[str, str] = {"BIRTH_DATE": "DATE_TIME", "DECEASED_DATE": "DATE_TIME"}
#: Non-empty cells below which a type needs a checksum or header support (config files, one-row tables).
MIN_VALUES = 3
#: Types of closed vocabularies a clear header may name over a categorical column (see _header_only).
CATEGORICAL_TYPES = frozenset({"NATIONALITY", "MARITAL_STATUS", "GENDER", "LANGUAGE", "SMOKING_STATUS"})
#: Distinct values at most for a column to count as categorical.
CATEGORICAL_MAX = 60
#: Cells of a free-text column analysed with the text recognisers.
FREE_TEXT_CELLS = 60


def _patterns(ctx: Context) -> list[str]:
    return sorted({d.prefilter for d in ctx.detectors if d.in_columns and d.prefilter is not None})


def _region_hints(df: pl.DataFrame, ctx: Context) -> tuple[str, ...]:
    """Regions of phone numbers, from a country or locale column when the table has one."""
    from ppcti.pii.checks import vocabulary

    hints: list[str] = []
    for name in df.columns:
        if (
            not any(t == "COUNTRY" and s >= 0.8 for t, s in ctx.vocabulary.match_header(name))
            and "locale" not in name.lower()
        ):
            continue
        top = df[name].drop_nulls().cast(pl.String, strict=False).value_counts(sort=True).head(5)
        for value in top[name].to_list():
            code = str(value).strip().replace("-", "_").split("_")[-1].upper()
            if len(code) == 2 and code.isalpha():
                hints.append(code)
            elif str(value).strip().lower() in vocabulary("country"):
                hints.extend(_country_code(str(value)))
    return tuple(dict.fromkeys(hints))


@lru_cache(maxsize=512)
def _country_code(name: str) -> tuple[str, ...]:
    from phonenumbers.geodata.locale import LOCALE_DATA

    wanted = name.strip().lower()
    return tuple(
        region
        for region, by_lang in LOCALE_DATA.items()
        if any(str(v).lower() == wanted for v in by_lang.values())
    )


def _evaluate(
    det: Detector, hits: tuple[PrefilterHits, int], values: list[str], check: Callable[[str], bool]
) -> set[str]:
    """The sampled values ``det`` validates (the caller has checked the prefilter count)."""
    candidates = values if det.prefilter is None else hits[0].values(hits[1], det.prefilter)
    return {v for v in candidates if check(v)}


@lru_cache(maxsize=64)
def _phone_check(regions: tuple[str, ...], bare_digits: bool) -> Callable[[str], bool]:
    merged = regions + tuple(r for r in DEFAULT_PHONE_REGIONS if r not in regions)
    return phone_check(merged, bare_digits=bare_digits)


def classify_column(
    series: pl.Series,
    *,
    file: str,
    options: PiiOptions,
    ctx: Context | None = None,
    regions: tuple[str, ...] = (),
    split: bool = True,
) -> tuple[ColumnProfile, list[Finding]]:
    """Classify one column; returns its profile and zero or one finding (per type for free text).

    Value evidence is pooled per type (a column mixing Bitcoin and Ethereum addresses, or national IDs
    of several countries, is one type); a type needs ``min_match_rate`` of the sample. A header that
    names a type strongly (score >= 0.8) wins over a better value match of another type, since both
    are consistent with the values and the header says which one the data holder meant. Cells holding
    lists ("a@x.org; b@y.org") are classified by their items when the whole cells match nothing.
    """
    ctx = ctx or build_context(options)
    profile, values = profile_column(series, options.sample_values)
    hits = PrefilterHits([values], _patterns(ctx))
    return _classify(series.name, profile, values, (hits, 0), file=file, options=options, ctx=ctx,
                     regions=regions, split=split)  # fmt: skip


def _classify(
    name: str,
    profile: ColumnProfile,
    values: list[str],
    hits: tuple[PrefilterHits, int],
    *,
    file: str,
    options: PiiOptions,
    ctx: Context,
    regions: tuple[str, ...],
    split: bool,
) -> tuple[ColumnProfile, list[Finding]]:
    n = len(values)
    if not n:
        return profile, []
    header = _with_related(dict(ctx.vocabulary.match_header(name)))
    threshold = max(1, int(options.min_match_rate * n + 0.9999))
    prune = max(1, n // 10)
    pooled: dict[str, dict[str, Any]] = {}
    table, column = hits
    for det in ctx.column_detectors:  # strongest evidence claims values first
        if det.prefilter is not None and table.count(column, det.prefilter) < prune:
            continue  # the prefilter already shows too few values could match: no Python check runs
        chosen = max(det.types, key=lambda t: (header.get(t, 0.0), -det.types.index(t)))
        if det.weak and header.get(chosen, 0.0) < options.header_min_score:
            # A weak form still counts where strong evidence has already established the type (a wallet
            # column mixing checksummed Bitcoin and unverifiable all-lower-case Ethereum addresses).
            strong = pooled.get(chosen)
            if strong is None or len(strong["values"]) < WEAK_JOINS_STRONG * n:
                continue
        check = (
            _phone_check(regions, det.name == "phone_digits")
            if regions and det.name.startswith("phone")
            else det.check
        )
        matched = _evaluate(det, hits, values, check)
        if not matched:
            continue
        if (
            det.set_check is not None
            and header.get(chosen, 0.0) < options.header_min_score
            and not det.set_check(matched)
        ):
            continue
        key = chosen if det.pool else f"{chosen}{_KEY_SEP}{det.name}"
        entry = pooled.setdefault(key, {"values": set(), "weighted": 0.0, "detectors": {}})
        new = matched - entry["values"]
        entry["values"] |= new
        entry["weighted"] += det.specificity * len(new)
        entry["detectors"][det.name] = entry["detectors"].get(det.name, 0) + len(new)
    few_rows = profile.rows - profile.nulls < MIN_VALUES
    candidates: list[dict[str, Any]] = []
    for key, entry in pooled.items():
        t = key.split(_KEY_SEP)[0]
        count = len(entry["values"])
        if count < threshold:
            continue
        hs = header.get(t, 0.0)
        value_conf = entry["weighted"] / n
        if few_rows and hs < options.header_min_score and value_conf / (count / n) < 0.95:
            continue  # one or two cells say little unless checksummed or named by the header
        candidates.append(
            {
                "type": t,
                "confidence": 1 - (1 - value_conf) * (1 - HEADER_WEIGHT * hs),
                "rate": count / n,
                "matched": count,
                "header": hs,
                "examples": sorted(entry["values"])[:3],
                "detector": max(entry["detectors"].items(), key=lambda kv: kv[1])[0],
            }
        )
    if candidates:
        _birth_dates_by_range(candidates, values, header)
        return profile, [_finding(file, name, n, candidates, options)]
    if split:
        listed = _split_items(values)
        if listed is not None:
            _, found = classify_column(
                listed.alias(name), file=file, options=options, ctx=ctx, regions=regions, split=False
            )
            for f in found:
                f.detector += "+split"
            if found and found[0].detector != "column:header+split":
                return profile, found
    named = _header_only(file, name, header, profile, n)
    if named:
        return profile, named
    if non_personal_field(name):
        return profile, []  # a rule name or user agent: look-alikes in its prose are not personal data
    if profile.mean_len >= options.free_text_min_len and profile.space_share >= 0.5:
        return profile, _free_text_findings(file, name, values, options)
    return profile, _ner_finding(file, name, values, profile, options)


_KEY_SEP = "\x00"
_LIST_SEPARATOR = re.compile(r"\s*[;,|]\s*")


def _split_items(values: list[str]) -> pl.Series | None:
    """The items of list-valued cells, or None when the cells are not lists of single tokens."""
    split = [[i for i in _LIST_SEPARATOR.split(v) if i] for v in values]
    multi = sum(1 for items in split if len(items) > 1)
    items = [i for its in split for i in its]
    if multi < 0.3 * len(values) or not items or sum(" " in i for i in items) > 0.2 * len(items):
        return None
    return pl.Series(items, dtype=pl.String)


def non_personal_field(name: str) -> bool:
    """Whether a column is a known non-personal log field (``non_personal_fields`` in data/vocab.yaml),
    by its whole path or its last part (``alert.signature``, ``http.http_user_agent``)."""
    from ppcti.pii.checks import vocabulary
    from ppcti.pii.vocabulary import normalise_header

    fields = vocabulary("non_personal_fields")
    last = re.split(r"[.!/\[\]]+", name.strip("[]."))[-1] if name else name
    return normalise_header(name) in fields or normalise_header(last) in fields


def _with_related(header: dict[str, float]) -> dict[str, float]:
    """A header naming the deceased flag also supports a date of death and vice versa ("date_deces")."""
    for a, b in RELATED_HEADERS:
        if a in header:
            header[b] = max(header.get(b, 0.0), RELATED_FACTOR * header[a])
    return header


def _prefer_specific(candidates: list[dict[str, Any]], options: PiiOptions) -> None:
    """A header-supported specialisation (BIRTH_DATE) beats the generic type (DATE_TIME) it refines."""
    by_type = {c["type"]: c for c in candidates}
    for specific, generic in SPECIALISES.items():
        a, b = by_type.get(specific), by_type.get(generic)
        if a and b and a["header"] >= options.header_min_score and a["confidence"] <= b["confidence"]:
            a["confidence"] = min(1.0, b["confidence"] + 0.01)


def _distinct_types(ranked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    return [c for c in ranked if not (c["type"] in seen or seen.add(c["type"]))]


#: Dates of birth, told from event dates by their values when no header says which: most at least this
#: many years ago, and spread over at least BIRTH_SPREAD years (registrations, visits and logins
#: cluster in the recent past).
BIRTH_MIN_AGE = 18
BIRTH_SPREAD = 20


def _birth_dates_by_range(
    candidates: list[dict[str, Any]], values: list[str], header: dict[str, float]
) -> None:
    """Turn a DATE_TIME candidate into BIRTH_DATE when the value range says so and no header names a
    date type (a header "registration date" keeps DATE_TIME whatever the range)."""
    from datetime import date

    from ppcti.pii.checks import parse_date

    date_header = max(header.get(t, 0.0) for t in ("DATE_TIME", "BIRTH_DATE", "DECEASED_DATE"))
    if date_header >= STRONG_HEADER:
        return
    for c in candidates:
        if c["type"] != "DATE_TIME":
            continue
        days = [d for d in (parse_date(v) for v in values) if d is not None]
        if len(days) < MIN_VALUES:
            return
        today = date.today()
        years = sorted(d.year for d in days)
        old = sum(1 for d in days if d <= today and today.year - d.year >= BIRTH_MIN_AGE)
        if old >= 0.9 * len(days) and years[-1] - years[0] >= BIRTH_SPREAD and years[0] >= today.year - 120:
            c["type"] = "BIRTH_DATE"
            c["detector"] = "birth_date_range"


def _finding(
    file: str, column: str, n: int, candidates: list[dict[str, Any]], options: PiiOptions
) -> Finding:
    _prefer_specific(candidates, options)
    ranked = sorted(candidates, key=lambda c: (c["header"] < STRONG_HEADER, -c["confidence"], c["type"]))
    best = ranked[0]
    return Finding(
        file=file,
        column=column,
        type=best["type"],
        confidence=round(min(1.0, best["confidence"]), 4),
        detector=f"column:{best['detector']}",
        matched=best["matched"],
        sampled=n,
        match_rate=round(best["rate"], 4),
        runner_up=[
            {"type": c["type"], "confidence": round(c["confidence"], 4), "match_rate": round(c["rate"], 4)}
            for c in _distinct_types(ranked)[1:4]
        ],
        examples=[mask(best["type"], v, options.examples) for v in best["examples"][: options.max_examples]],
    )


def _free_text_findings(file: str, column: str, values: list[str], options: PiiOptions) -> list[Finding]:
    """Prose cells: per type, how many sampled cells contain at least one span of it. The cells are
    analysed as one text (blank-line separated), which costs one NLP pass instead of one per cell."""
    import bisect

    from ppcti.pii.text import analyze_text

    cells = values[:FREE_TEXT_CELLS]
    starts, pos = [], 0
    for cell in cells:
        starts.append(pos)
        pos += len(cell) + 2
    per_type: dict[str, dict[int, float]] = {}
    examples: dict[str, list[str]] = {}
    for f in analyze_text("\n\n".join(cells), file=file, options=options):
        cell = bisect.bisect_right(starts, f.start or 0) - 1
        hits = per_type.setdefault(f.type, {})
        hits[cell] = max(hits.get(cell, 0.0), f.confidence)
        if len(examples.setdefault(f.type, [])) < options.max_examples:
            examples[f.type].extend(f.examples[:1])
    n = len(cells)
    return [
        Finding(
            file=file,
            column=column,
            type=t,
            confidence=round(sum(h.values()) / len(h), 4),
            detector="column:free-text",
            matched=len(h),
            sampled=n,
            match_rate=round(len(h) / n, 4),
            examples=examples.get(t, []),
        )
        for t, h in sorted(per_type.items(), key=lambda th: (-len(th[1]), th[0]))
    ]


def _ner_finding(
    file: str, column: str, values: list[str], profile: ColumnProfile, options: PiiOptions
) -> list[Finding]:
    """spaCy NER over a few values of a still-unresolved string column (PERSON, LOCATION)."""
    if profile.alpha_share < 0.9 or profile.digit_share > 0 or options.nlp == "regex":
        return []
    from ppcti.pii.text import ner_labels

    subset = values[: options.ner_sample]
    if len(subset) < MIN_VALUES:
        return []
    labels = ner_labels(subset, options)
    if labels is None:
        return []
    counts: dict[str, int] = {}
    for found in labels:
        for t in set(found):
            counts[t] = counts.get(t, 0) + 1
    if not counts:
        return []
    t, c = max(counts.items(), key=lambda tc: tc[1])
    rate = c / len(subset)
    if rate < NER_MIN_RATE:
        return []
    ex = [v for v, found in zip(subset, labels, strict=True) if t in found][: options.max_examples]
    return [
        Finding(
            file=file,
            column=column,
            type=t,
            confidence=round(0.75 * rate, 4),
            detector="column:ner",
            matched=c,
            sampled=len(subset),
            match_rate=round(rate, 4),
            examples=[mask(t, v, options.examples) for v in ex],
        )
    ]


def _header_only(
    file: str, column: str, header: dict[str, float], profile: ColumnProfile, n: int
) -> list[Finding]:
    """Names, addresses and places have no value-level test: a clear header over text values suffices.
    Closed-vocabulary types (nationality, marital status, gender, language) whose words in a language the
    vocabularies lack were not recognised count too, when the header names them clearly and the column
    is categorical: a few short words repeated over many rows."""
    if profile.alpha_share < 0.8:
        return []
    categorical = profile.distinct <= CATEGORICAL_MAX and profile.mean_len <= 30 and profile.space_share < 0.5
    for t, s in sorted(header.items(), key=lambda ts: -ts[1]):
        if s >= 0.8 and (t in HEADER_ONLY_TYPES or (t in CATEGORICAL_TYPES and categorical and s >= 0.9)):
            return [
                Finding(
                    file=file,
                    column=column,
                    type=t,
                    confidence=round(0.6 * s, 4),
                    detector="column:header",
                    matched=0,
                    sampled=n,
                    match_rate=0.0,
                )
            ]
    return []


def classify_table(df: pl.DataFrame, *, file: str, options: PiiOptions) -> list[Finding]:
    """Findings for every column of ``df`` that holds PII (one per column; free-text columns may yield
    several, one per type)."""
    findings, _ = classify_table_with_profiles(df, file=file, options=options)
    return findings


def classify_table_with_profiles(
    df: pl.DataFrame, *, file: str, options: PiiOptions
) -> tuple[list[Finding], list[ColumnProfile]]:
    ctx = build_context(options)
    regions = _region_hints(df, ctx)
    schema = df.schema  # built once: df.schema per column would make wide tables quadratic
    names = [
        name
        for name, dtype in schema.items()
        if dtype != pl.Null and not isinstance(dtype, pl.List | pl.Struct | pl.Array)
    ]
    sampled = [profile_column(df.get_column(name), options.sample_values) for name in names]
    all_hits = PrefilterHits([values for _, values in sampled], _patterns(ctx))
    findings: list[Finding] = []
    profiles: list[ColumnProfile] = []
    for i, (name, (profile, values)) in enumerate(zip(names, sampled, strict=True)):
        _, found = _classify(
            name,
            profile,
            values,
            (all_hits, i),
            file=file,
            options=options,
            ctx=ctx,
            regions=regions,
            split=True,
        )
        profiles.append(profile)
        findings.extend(found)
    log.debug("classified %d columns of %s: %d findings", len(profiles), file, len(findings))
    return findings, profiles
