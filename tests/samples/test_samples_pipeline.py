"""Contract test: ``ppcti run`` on the sample upload produces exactly what the ground truth says.

This is the check the ground truth exists for. It runs the real pipeline (ingestion, format detection,
parsing, cleaning, de-duplication) with the settings from ``ground_truth_config.json`` and the ``full``
feature profile (the default profile drops subjects on purpose), and compares every entry.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ppcti.cli import app
from ppcti.samples import GeneratedSet, load_ground_truth

_FIELDS = ("timestamp", "src_ip", "src_port", "dst_ip", "dst_port", "nat_ip", "protocol", "src_mac", "emails")


def _mismatches(result: GeneratedSet, run: Path) -> list[str]:
    events = {
        (e["source_file"], e["line"]): e
        for e in map(json.loads, (run / "events.jsonl").read_text().splitlines())
    }
    rejects = {
        (r["file"], r["line"]): r for r in map(json.loads, (run / "rejects.jsonl").read_text().splitlines())
    }
    truth = load_ground_truth(result.ground_truth)
    problems: list[str] = []
    for t in truth:
        key = (t["source_file"], t["line"])
        where = f"{key[0]}:{key[1]}"
        event, reject = events.get(key), rejects.get(key)
        if t["expect"] == "event":
            if event is None:
                problems.append(f"{where}: expected an event, got {reject and reject['reason']}")
                continue
            for name in _FIELDS:
                got: Any = event.get(name)
                if t.get(name) != (got or None):
                    problems.append(f"{where}: {name} {t.get(name)!r} != {got!r}")
            extra = event.get("extra") or {}
            problems += [f"{where}: extra.{k}" for k, v in t.get("extra", {}).items() if extra.get(k) != v]
            if "malformed_mac" in t.get("flags", []) and not extra.get("mac_malformed"):
                problems.append(f"{where}: malformed MAC not flagged")
        elif t["expect"] == "reject":
            if reject is None or reject["stage"] == "dedup":
                problems.append(f"{where}: expected a reject ({t['reason_kind']})")
        else:
            m = (
                re.search(r"of (.+):(\d+)", reject["reason"])
                if reject and reject["stage"] == "dedup"
                else None
            )
            if not m or (m.group(1), int(m.group(2))) != (t["source_file"], t["of_line"]):
                problems.append(f"{where}: expected a duplicate of line {t['of_line']}")
    known = {(t["source_file"], t["line"]) for t in truth}
    problems += [f"{k[0]}:{k[1]}: not in the ground truth" for k in (set(events) | set(rejects)) - known]
    return problems


def test_pipeline_output_matches_ground_truth(default_set: GeneratedSet, tmp_path: Path) -> None:
    config = json.loads(default_set.config.read_text())
    args = [
        "run",
        str(default_set.zip_path),
        "--holder",
        "sample-holder",
        "--out",
        str(tmp_path / "run"),
        "--timezone",
        config["timezone"],
        "--year",
        str(config["year"]),
        "--date",
        config["date_for_time_only"],
        "--date-order",
        config["date_order"],
        "--profile",
        "full",
    ]
    for stage in ("pii", "cti", "analysis", "report"):
        args += ["--skip", stage]
    outcome = CliRunner().invoke(app, args)
    assert outcome.exit_code == 0, outcome.output
    problems = _mismatches(default_set, tmp_path / "run")
    assert not problems, "\n".join(problems[:20])
