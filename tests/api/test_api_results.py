"""Views of a run folder: cached while the file is unchanged, rebuilt when it changes, 404 when absent."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fastapi import HTTPException

from ppcti.api.results import pii_overview


def _finding(file: str, column: str | None, kind: str, confidence: float, example: str) -> dict[str, object]:
    return {
        "file": file,
        "column": column,
        "type": kind,
        "confidence": confidence,
        "detector": "d",
        "examples": [example],
    }


def test_pii_view_groups_by_file_column_and_type_and_follows_the_file(tmp_path: Path) -> None:
    with pytest.raises(HTTPException) as missing:
        pii_overview(tmp_path)
    assert missing.value.status_code == 404
    findings = [
        _finding("a.csv", "sender", "EMAIL_ADDRESS", 0.9, "a***@x.test"),
        _finding("a.csv", "sender", "EMAIL_ADDRESS", 0.97, "b***@x.test"),
        _finding("fw.log", None, "IP_ADDRESS", 1.0, "1.2.***.***"),
    ]
    path = tmp_path / "pii.json"
    path.write_text(json.dumps({"files": [], "flags": [], "findings": findings}))
    first = pii_overview(tmp_path)
    assert [(r["file"], r["column"], r["type"], r["findings"]) for r in first["rows"]] == [
        ("a.csv", "sender", "EMAIL_ADDRESS", 2),
        ("fw.log", None, "IP_ADDRESS", 1),
    ]
    assert first["rows"][0]["confidence"] == 0.97 and first["rows"][0]["examples"] == [
        "a***@x.test",
        "b***@x.test",
    ]
    assert pii_overview(tmp_path) is first  # unchanged file: the cached view
    path.write_text(json.dumps({"files": [], "flags": [], "findings": findings[:1]}))
    os.utime(path, ns=(1, 1))
    assert [r["findings"] for r in pii_overview(tmp_path)["rows"]] == [1]
