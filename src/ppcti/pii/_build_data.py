"""Regenerate ``data/names.json`` from Faker (a development dependency, never needed at run time).

Why a generated file: the first-name/surname heuristic, the closed vocabularies of language and
country names, and the gazetteer of real places (German, Austrian, Italian and Dutch towns; states and
provinces) need word lists in several languages, and the run-time install must not depend on Faker. Run::

    .venv/bin/python -m ppcti.pii._build_data
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

LOCALES = (
    "en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "pt_BR",
    # the other official EU languages (and neighbours) Faker has names for
    "bg_BG", "cs_CZ", "da_DK", "de_AT", "de_CH", "el_GR", "en_IE", "et_EE", "fi_FI", "fr_BE", "fr_CH",
    "ga_IE", "hr_HR", "hu_HU", "lt_LT", "lv_LV", "nl_BE", "pl_PL", "pt_PT", "ro_RO", "sk_SK", "sl_SI",
    "sv_SE", "no_NO", "is_IS",
    # names of people living in Europe come from everywhere: Latin-script name lists of other locales
    "tr_TR", "en_IN", "vi_VN", "id_ID", "yo_NG", "tw_GH", "en_NG", "es_MX", "sw", "zu_ZA",
)  # fmt: skip
#: Locales whose Faker names are in another script but which also list romanised names.
ROMANISED = ("ja_JP", "zh_CN")
OUT = Path(__file__).parent / "data" / "names.json"


def _words(provider: object, attr: str) -> set[str]:
    values = getattr(provider, attr, ())
    if isinstance(values, dict):
        values = values.keys()
    return {str(v).strip().lower() for v in values if str(v).strip()}


def build() -> dict[str, list[str]]:
    first: set[str] = set()
    last: set[str] = set()
    for loc in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            first |= _words(provider, attr)
        for attr in ("last_names", "last_names_male", "last_names_female"):
            last |= _words(provider, attr)
    for loc in ROMANISED:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        first |= _words(provider, "first_romanized_names")
        last |= _words(provider, "last_romanized_names")
    # names only in a non-Latin script cannot match Latin-script text; keep the lists lean
    first = {w for w in first if w.isascii() or any("a" <= c <= "z" for c in w)}
    last = {w for w in last if w.isascii() or any("a" <= c <= "z" for c in w)}
    languages = _words(importlib.import_module("faker.providers.person.en").Provider, "language_names")
    places: set[str] = set()
    countries: set[str] = set()
    for loc in (*LOCALES, "es_MX"):
        try:
            provider = importlib.import_module(f"faker.providers.address.{loc}").Provider
        except ModuleNotFoundError:
            continue
        for attr in ("cities", "states", "provinces", "city_names", "regions", "departments"):
            places |= _words(provider, attr)
        countries |= _words(provider, "countries")
    suffixes: set[str] = set()
    for loc in ("en_US", "en_GB", "en_AU", "en_CA", "en_IE", "en_IN", "en_NZ"):
        try:
            provider = importlib.import_module(f"faker.providers.address.{loc}").Provider
        except ModuleNotFoundError:
            continue
        suffixes |= {str(v).strip() for v in getattr(provider, "street_suffixes", ()) if str(v).strip()}
    return {
        "first_names": sorted(first), "last_names": sorted(last), "language_names_en": sorted(languages),
        "places": sorted(places), "countries": sorted(countries), "street_suffixes_en": sorted(suffixes),
    }  # fmt: skip


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
