"""Custom rules: users add entity types in a YAML file, used by both column and free-text detection.

Format (see ``data/custom_rules.example.yaml`` and docs/pii.md)::

    rules:
      - name: LOYALTY_CARD            # type id reported (upper-case, digits, underscore)
        regex: "LC-\\d{8}"            # Python regex for one whole value (also searched in free text)
        validator: luhn               # none | luhn | mod97 | iban | ... | stdnum:<module>
        header_keywords: [loyalty, kundenkarte]
        score: 0.8                    # confidence of one validated match (0-1)
        header_required: false        # true for weak patterns that only count under a matching header

A bad file raises :class:`ppcti.errors.ConfigError` naming the file and rule, never echoing values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ppcti.errors import ConfigError
from ppcti.pii import checks
from ppcti.pii.detectors import Detector

_NAME = re.compile(r"[A-Z][A-Z0-9_]{1,63}")
_KEYS = frozenset(
    {"name", "regex", "validator", "header_keywords", "score", "header_required", "description"}
)


@dataclass(frozen=True, slots=True)
class CustomRule:
    """One user-defined entity type."""

    name: str
    regex: str
    validator: str = "none"
    header_keywords: tuple[str, ...] = ()
    score: float = 0.8
    header_required: bool = False
    description: str = ""

    def detector(self) -> Detector:
        pattern = re.compile(self.regex)
        validate = checks.named_validator(self.validator)

        def check(value: str) -> bool:
            v = value.strip()
            return bool(pattern.fullmatch(v)) and validate(v)

        check.__name__ = f"rule_{self.name.lower()}"
        return Detector(
            name=f"rule:{self.name}",
            types=(self.name,),
            check=check,
            prefilter=None,
            weak=self.header_required,
            specificity=self.score,
            text_regex=self.regex,
            text_score=self.score,
            context=self.header_keywords,
        )


def parse_rules(data: Any, *, file: str) -> list[CustomRule]:
    """Validate the parsed YAML document; every problem names the file and the rule's position."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ConfigError("a rules file needs a top-level 'rules:' list", file=file)
    rules: list[CustomRule] = []
    seen: set[str] = set()
    for i, item in enumerate(data["rules"], start=1):
        where = f"rule #{i}"
        if not isinstance(item, dict):
            raise ConfigError(f"{where} must be a mapping", file=file)
        unknown = set(item) - _KEYS
        if unknown:
            raise ConfigError(f"{where} has unknown keys: {', '.join(sorted(unknown))}", file=file)
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError(f"{where}: 'name' must be an upper-case identifier like ZIP_CODE", file=file)
        where = f"rule {name}"
        if name in seen:
            raise ConfigError(f"{where} is defined twice", file=file)
        seen.add(name)
        regex = item.get("regex")
        if not isinstance(regex, str) or not regex:
            raise ConfigError(f"{where}: 'regex' is required", file=file)
        try:
            re.compile(regex)
        except re.error as exc:
            raise ConfigError(f"{where}: invalid regex ({exc.msg})", file=file) from None
        validator = str(item.get("validator", "none") or "none")
        try:
            checks.named_validator(validator)
        except (KeyError, ValueError, ImportError):
            raise ConfigError(f"{where}: unknown validator {validator!r}", file=file) from None
        keywords = item.get("header_keywords", [])
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise ConfigError(f"{where}: 'header_keywords' must be a list of strings", file=file)
        score = item.get("score", 0.8)
        if not isinstance(score, int | float) or not 0.0 < float(score) <= 1.0:
            raise ConfigError(f"{where}: 'score' must be a number in (0, 1]", file=file)
        required = item.get("header_required", False)
        if not isinstance(required, bool):
            raise ConfigError(f"{where}: 'header_required' must be true or false", file=file)
        if required and not keywords:
            raise ConfigError(f"{where}: 'header_required' needs 'header_keywords'", file=file)
        rules.append(
            CustomRule(
                name=name,
                regex=regex,
                validator=validator,
                header_keywords=tuple(keywords),
                score=float(score),
                header_required=required,
                description=str(item.get("description", "")),
            )
        )
    return rules


def load_rules(path: Path | None) -> list[CustomRule]:
    """Read a rules file; ``None`` means no custom rules."""
    if path is None:
        return []
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read rules file ({exc.strerror})", file=str(p)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError("rules file is not valid YAML", file=str(p), line=line) from None
    return parse_rules(data, file=str(p))


def example_rules_path() -> Path:
    """The packaged example rules file (``ppcti pii --rules`` accepts it as a template)."""
    from importlib import resources

    return Path(str(resources.files("ppcti.pii").joinpath("data/custom_rules.example.yaml")))
