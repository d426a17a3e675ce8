"""``ppcti run --workers 2`` writes what one process writes: the PII scan, CTI and analysis run in worker
processes beside the core stages, and every output file is the same (only times differ)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

import ppcti.pipeline.parallel as parallel
from ppcti.errors import InputRefused
from ppcti.pipeline import RunOptions, run_pipeline

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "sample-upload.zip"
STARTED = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
#: Fields that say when, not what.
TIMES = re.compile(rb'"generated_at": "[^"]*"|<urn:uuid:[0-9a-f-]{36}>|"[^"]*"\^\^xsd:dateTime')


def _run(tmp_path: Path, workers: int, name: str) -> tuple[Path, dict]:
    out = tmp_path / name
    summary = run_pipeline(
        [SAMPLE], RunOptions(holder="acme", out=out, nlp="regex", workers=workers), started=STARTED
    )
    return out, summary.to_dict()


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): TIMES.sub(b"", p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("summary.json", "report.html")
    }


@pytest.mark.slow
def test_two_workers_write_the_same_files_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)  # the bundled sample is small
    ran: list[int] = []
    real = parallel.WorkerProcesses.__init__

    def counting(self: parallel.WorkerProcesses, workers: int) -> None:
        ran.append(workers)
        real(self, workers)

    monkeypatch.setattr(parallel.WorkerProcesses, "__init__", counting)
    one, one_summary = _run(tmp_path, 1, "one")
    assert ran == []
    two, two_summary = _run(tmp_path, 2, "two")
    assert ran == [2]  # the second run did use worker processes
    assert _files(one) == _files(two)
    assert _files(one).keys() >= {"events.jsonl", "pii.json", "kg.ttl", "cti/aggregate.json", "insights.json"}
    for summary in (one_summary, two_summary):
        del summary["stage_seconds"]
        del summary["stages"]["cti"]["elapsed"]  # seconds, like stage_seconds
    assert one_summary == two_summary
    assert set(two_summary["stages"]) == {"pii", "cti", "analysis", "report"}
    insights = orjson.loads((two / "insights.json").read_bytes())
    assert insights["summary"]["inputs"] == ["events.jsonl"]  # not the staging folder's path


def test_small_uploads_stay_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: parallel.WorkerProcesses, workers: int) -> None:
        raise AssertionError("worker processes started for a small upload")

    monkeypatch.setattr(parallel.WorkerProcesses, "__init__", refuse)
    _out, summary = _run(tmp_path, 4, "small")
    assert summary["events"] > 0


def test_a_run_that_fails_stops_its_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    stopped: list[bool] = []
    real_exit = parallel.WorkerProcesses.__exit__

    def exit_(self, exc_type, exc, tb):  # type: ignore[no-untyped-def]
        stopped.append(exc_type is not None)
        return real_exit(self, exc_type, exc, tb)

    monkeypatch.setattr(parallel.WorkerProcesses, "__exit__", exit_)
    notes = tmp_path / "notes.txt"
    notes.write_text("nothing here is a log line\n" * 10)
    with pytest.raises(InputRefused, match="no file in the upload holds a recognised log format"):
        run_pipeline([notes], RunOptions(holder="acme", out=tmp_path / "out", nlp="regex", workers=2))
    assert stopped == [True]  # terminated, not left scanning
    assert (tmp_path / "out" / "summary.json").is_file()
