"""Shared pieces of the hostile-input suite: inputs that look like real logs, and the run invariants."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``ppcti ARGS`` in a child process, as a user runs it: exit code and both streams as text."""
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-c", "from ppcti.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def run_cli(inputs: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``ppcti run`` without the later stages; checks the invariants every run must keep."""
    result = cli("run", str(inputs), "--holder", "acme", "--out", str(out), "-q", *SKIP_ARGS, *extra)
    assert result.returncode in (0, 2, 3, 130), result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


SKIP_ARGS = tuple(arg for stage in sorted(SKIP_LATER) for arg in ("--skip", stage))
