"""Timestamps without a year or a date take them from the upload, then the ZIP member's time."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hostile_helpers import assert_accounted, file_entry, fw_line, jsonl, run

from ppcti.clean.timestamps import TimeContext

BSD = (
    "<134>Mar  2 07:00:{s:02d} router2 firewall,info input: in:ether1 out:(unknown 0), proto UDP, "
    "211.37.75.{n}:8497->198.51.100.2:23, len 60"
)
TIME_ONLY = (
    "07:01:{s:02d} firewall,info input: in:ether1 out:(unknown 0), proto TCP (SYN), "
    "179.126.185.{n}:41343->198.51.100.2:3389, len 60"
)


def _zip(tmp_path: Path, members: dict[str, tuple[str, tuple[int, ...]]]) -> Path:
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, (text, when) in members.items():
            zf.writestr(zipfile.ZipInfo(name, when), text)
    return path


def _lines(template: str, n: int) -> str:
    return "\n".join(template.format(s=i, n=i + 1) for i in range(n)) + "\n"


@pytest.mark.parametrize("native", ["1", "0"])
def test_year_and_date_come_from_the_other_files_of_the_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, native: str
) -> None:
    monkeypatch.setenv("PPCTI_NATIVE", native)
    dated = "\n".join(fw_line(i).replace("Mar/07/2023", "Mar/08/2019") for i in range(5)) + "\n"
    upload = _zip(
        tmp_path,
        {
            "fw.log": (dated, (2019, 3, 9, 0, 0, 0)),
            "syslog.txt": (_lines(BSD, 20), (1980, 1, 1, 0, 0, 0)),
            "console.txt": (_lines(TIME_ONLY, 45), (1980, 1, 1, 0, 0, 0)),
        },
    )
    out = tmp_path / "run"
    run(upload, out)
    syslog, console = file_entry(out, "syslog.txt"), file_entry(out, "console.txt")
    assert (syslog["events"], syslog["date_source"]) == (20, "upload")
    assert (console["events"], console["rejects"], console["date_source"]) == (45, 0, "upload")
    assert console["assumed_date"] == "2019-03-08"
    assert syslog["notes"]["year_from_upload"] == 20
    times = {e["source_file"]: e["timestamp"] for e in jsonl(out / "events.jsonl")}
    assert times["syslog.txt"].startswith("2019-03-02T07:00")
    assert times["console.txt"].startswith("2019-03-08T07:01")
    assert "date_source" not in file_entry(out, "fw.log")  # it needed nothing
    assert_accounted(out)


def test_the_zip_member_time_when_no_other_file_has_a_date(tmp_path: Path) -> None:
    upload = _zip(tmp_path, {"console.txt": (_lines(TIME_ONLY, 10), (2021, 6, 5, 8, 0, 0))})
    out = tmp_path / "run"
    run(upload, out)
    console = file_entry(out, "console.txt")
    assert (console["events"], console["date_source"], console["assumed_date"]) == (
        10,
        "archive member time",
        "2021-06-05",
    )
    assert jsonl(out / "events.jsonl")[0]["timestamp"].startswith("2021-06-05T07:01")


def test_the_run_clock_last_and_settings_first(tmp_path: Path) -> None:
    upload = _zip(tmp_path, {"syslog.txt": (_lines(BSD, 3), (1980, 1, 1, 0, 0, 0))})
    out = tmp_path / "run"
    run(upload, out)
    entry = file_entry(out, "syslog.txt")
    assert entry["date_source"] == "run clock"
    year = datetime.now(UTC).year
    assert jsonl(out / "events.jsonl")[0]["timestamp"].startswith(f"{year}-03-02")
    run(upload, tmp_path / "run2", time=TimeContext(year=2017))
    assert file_entry(tmp_path / "run2", "syslog.txt")["date_source"] == "settings"
    assert jsonl(tmp_path / "run2" / "events.jsonl")[0]["timestamp"].startswith("2017-03-02")


def test_the_demo_upload_needs_no_year_or_date(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    demo = (root / "scripts" / "demo").read_text()
    command = next(line for line in demo.splitlines() if line.startswith("exec "))
    assert "--year" not in command and "--date" not in command
    out = tmp_path / "run"
    run(root / "samples" / "sample-upload.zip", out)
    reasons = {r["reason"] for r in jsonl(out / "rejects.jsonl")}
    assert not any("date" in reason and "set --date" in reason for reason in reasons)
    assert file_entry(out, "router-console.txt")["date_source"] == "upload"
    syslog = [e for e in jsonl(out / "events.jsonl") if e["source_file"] == "firewall-syslog.txt"]
    assert syslog and all(e["timestamp"].startswith("2023-03-02") for e in syslog)
