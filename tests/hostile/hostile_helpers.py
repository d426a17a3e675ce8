"""Shared pieces of the hostile-input suite: inputs that look like real logs, and the run invariants."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from ppcti.pipeline import RunOptions, RunSummary, run_pipeline

SKIP_LATER = frozenset({"pii", "cti", "analysis", "report"})


def fw_line(i: int, *, day: int = 7, src: str | None = None, dst: str = "10.0.0.5") -> str:
    """A RouterOS firewall line; ``i`` varies the source address and port so lines are distinct."""
    src = src or f"203.0.113.{i % 250 + 1}"
    return (
        f"Mar/{day:02d}/2023 10:{i // 60 % 60:02d}:{i % 60:02d} firewall,info prerouting: in:ether1 "
        f"out:(unknown 0), connection-state:new src-mac 00:17:10:88:bc:02, proto TCP (SYN), "
        f"{src}:{1024 + i}->{dst}:22, len 60"
    )


def mail_csv(rows: int, *, subject: str = "Invoice") -> list[str]:
    lines = ["date,sender,recipients,subject,verdict"]
    lines += [
        f"2023-03-07 10:{i // 60 % 60:02d}:{i % 60:02d},s{i}@evil.example,bob{i}@corp.example,"
        f'"{subject} {i}",spam'
        for i in range(rows)
    ]
    return lines


def run(inputs: Path | list[Path], out: Path, **options: object) -> RunSummary:
    return run_pipeline(inputs, RunOptions(holder="acme", out=out, skip=SKIP_LATER, **options))  # type: ignore[arg-type]


def jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def file_entry(out: Path, name: str) -> dict:
    return next(f for f in summary(out)["files"] if f["path"] == name)


def assert_accounted(out: Path) -> None:
    """Every entry of every parsed file is an event, a reject or a duplicate, and the files agree."""
    data = summary(out)
    events = jsonl(out / "events.jsonl")
    rejects = jsonl(out / "rejects.jsonl")
    for f in data["files"]:
        if not f["format"]:
            continue
        assert f["entries"] == f["events"] + f["rejects"] + f["duplicates"], f
        assert f["events"] == sum(e["source_file"] == f["path"] for e in events)
        assert f["rejects"] + f["duplicates"] == sum(r["file"] == f["path"] for r in rejects)
