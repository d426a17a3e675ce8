"""Regenerate ``data/cldr.json`` from the Unicode CLDR as packaged by Babel (a development dependency,
never needed at run time).

Why generated: country and language names in every EU language, and month names for reading dates,
should come from the reference data the whole industry uses rather than be typed by hand, and the
run-time install should not carry Babel's 30 MB of locale data for a few thousand words. Run::

    .venv/bin/python -m ppcti.pii._build_cldr

The file records the CLDR version it was built from.
"""

from __future__ import annotations

import json
from pathlib import Path

#: The 24 official EU languages, plus the other languages of the EEA and Switzerland, and a few widely
#: spoken ones whose names turn up in European data.
LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv", "mt",
    "nl", "pl", "pt", "ro", "sk", "sl", "sv", "nb", "nn", "is", "lb", "rm", "ca", "eu", "gl", "tr", "ru",
    "uk", "sr", "sq", "mk", "bs",
)  # fmt: skip
OUT = Path(__file__).parent / "data" / "cldr.json"


def _is_country(code: str) -> bool:
    return len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "QO", "XA", "XB", "ZZ")


def build() -> dict[str, object]:
    import babel
    from babel import Locale

    countries: dict[str, dict[str, list[str]]] = {}
    languages: dict[str, dict[str, list[str]]] = {}
    months: dict[str, list[list[str]]] = {}
    date_patterns: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        loc = Locale.parse(lang)
        for code, name in loc.territories.items():
            if _is_country(code):
                countries.setdefault(code, {}).setdefault(lang, []).append(name)
        for code, name in loc.languages.items():
            if len(code) == 2 and code.isalpha():
                languages.setdefault(code, {}).setdefault(lang, []).append(name)
        per_month: list[list[str]] = [[] for _ in range(12)]
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in loc.months[context][width].items():
                    word = str(name).strip(".").lower()
                    if word and word not in per_month[number - 1]:
                        per_month[number - 1].append(word)
        months[lang] = per_month
        date_patterns[lang] = sorted({loc.date_formats[w].pattern for w in ("short", "medium", "long")})
    return {
        "source": f"Unicode CLDR via Babel {babel.__version__}",
        "countries": countries,
        "languages": languages,
        "months": months,
        "date_patterns": date_patterns,
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
                   encoding="utf-8")  # fmt: skip
    print(f"wrote {OUT}")
