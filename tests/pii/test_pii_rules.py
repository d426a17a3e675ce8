"""Custom YAML rules: loading, validation errors, use in columns and free text."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from ppcti.errors import ConfigError
from ppcti.pii import PiiOptions, analyze_text, classify_table
from ppcti.pii.checks import luhn
from ppcti.pii.rules import example_rules_path, load_rules


def _loyalty_numbers(n: int, seed: int = 3) -> list[str]:
    rnd = random.Random(seed)
    out = []
    while len(out) < n:
        body = "9901" + "".join(rnd.choice("0123456789") for _ in range(11))
        check = next(d for d in "0123456789" if luhn(body + d))
        number = body + check
        out.append(" ".join(number[i : i + 4] for i in range(0, 16, 4)))
    return out


def test_example_file_loads() -> None:
    rules = {r.name: r for r in load_rules(example_rules_path())}
    assert set(rules) == {"LOYALTY_CARD", "EMPLOYEE_ID", "ZIP_PLUS4"}
    assert rules["LOYALTY_CARD"].validator == "luhn"
    assert rules["ZIP_PLUS4"].header_required


@pytest.fixture
def options() -> PiiOptions:
    return PiiOptions(nlp="regex", rules_file=example_rules_path())


def test_rules_classify_columns(options: PiiOptions) -> None:
    rnd = random.Random(1)
    df = pl.DataFrame(
        {
            "Kundenkarte": _loyalty_numbers(80),
            "c2": _loyalty_numbers(80, seed=9),
            "staff": [f"EMP-{rnd.randint(0, 999999):06d}" for _ in range(80)],
            "zip": [f"{rnd.randint(10000, 99999)}-{rnd.randint(1000, 9999)}" for _ in range(80)],
            "ref": [f"{rnd.randint(10000, 99999)}-{rnd.randint(1000, 9999)}" for _ in range(80)],
        }
    )
    found = {f.column: f.type for f in classify_table(df, file="t.csv", options=options)}
    assert found["Kundenkarte"] == "LOYALTY_CARD"
    assert found["c2"] == "LOYALTY_CARD"
    assert found["staff"] == "EMPLOYEE_ID"
    assert found["zip"] == "ZIP_PLUS4"
    assert "ref" not in found  # header_required: the same values under a neutral header are not flagged
    assert "Kundenkarte" not in {
        f.column for f in classify_table(df, file="t.csv", options=PiiOptions(nlp="regex"))
    }


def test_rules_in_free_text(options: PiiOptions) -> None:
    text = f"Badge EMP-004211 used card {_loyalty_numbers(1)[0]} at the desk."
    found = {(f.type, text[f.start : f.end]) for f in analyze_text(text, file="a.txt", options=options)}
    assert ("EMPLOYEE_ID", "EMP-004211") in found
    assert ("LOYALTY_CARD", _loyalty_numbers(1)[0]) in found


def test_rule_validator_rejects_bad_checksum(options: PiiOptions) -> None:
    good = _loyalty_numbers(1)[0]
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    found = {f.type for f in analyze_text(f"card {bad} here", file="a.txt", options=options)}
    assert "LOYALTY_CARD" not in found


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("rules: [{name: X_ID}]", "'regex' is required"),
        ("rules: [{name: lower, regex: 'a'}]", "upper-case identifier"),
        ("rules: [{name: X_ID, regex: '(unclosed'}]", "invalid regex"),
        ("rules: [{name: X_ID, regex: 'a', validator: crc99}]", "unknown validator"),
        ("rules: [{name: X_ID, regex: 'a', validator: 'stdnum:zz.nothing'}]", "unknown validator"),
        ("rules: [{name: X_ID, regex: 'a', score: 2}]", "'score'"),
        ("rules: [{name: X_ID, regex: 'a', header_required: true}]", "needs 'header_keywords'"),
        ("rules: [{name: X_ID, regex: 'a'}, {name: X_ID, regex: 'b'}]", "defined twice"),
        ("rules: [{name: X_ID, regex: 'a', colour: red}]", "unknown keys: colour"),
        ("just: text", "top-level 'rules:'"),
        ("rules: [unclosed", "not valid YAML"),
    ],
    ids=[
        "no-regex",
        "bad-name",
        "bad-regex",
        "bad-validator",
        "bad-stdnum",
        "score",
        "required-no-keywords",
        "duplicate",
        "unknown-key",
        "no-rules",
        "yaml",
    ],
)
def test_invalid_rules_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_rules(path)
    assert info.value.file == str(path)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_rules(tmp_path / "absent.yaml")
