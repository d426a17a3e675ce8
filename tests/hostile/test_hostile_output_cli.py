"""Usage errors, bad --out folders, malformed files of earlier steps, Rich markup in names: a clear
message and a documented exit code, never a traceback (run as the real command, in a subprocess)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from hostile_output_helpers import QUICK, check, check_contained, run

FIREWALL = (
    "Mar/08/2023 07:00:43 firewall,info drop-tcp input: in:ether1-WAN out:(unknown 0), connection-state:new "
    "src-mac dc:a6:32:b2:4b:b6, proto TCP (SYN), 93.19.228.74:45727->10.0.0.2:3389, len 48\n"
    "Mar/08/2023 07:02:00 firewall,info input: in:ether1-WAN out:(unknown 0), src-mac dc:a6:32:b2:4b:b6, "
    "proto TCP (SYN), 219.217.215.195:30670->10.0.0.3:110, len 72\n"
)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "fw.log").write_text(FIREWALL)
    return folder


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([], id="no-arguments"),
        pytest.param(["--bogus"], id="unknown-option"),
        pytest.param(["run", "fw.log", "--holder", "h", "--year", "notint"], id="year-not-int"),
        pytest.param(["run", "fw.log"], id="missing-holder"),
        pytest.param(["nosuchcommand"], id="unknown-command"),
    ],
)
def test_usage_errors_exit_2_with_a_message(work: Path, tmp_path: Path, args: list[str]) -> None:
    result = run(*args, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={2})
    assert "Usage" in result.text or "usage" in result.text
    check_contained(work, {"fw.log"}, tmp_path / "tmp")


def test_out_is_a_file(work: Path, tmp_path: Path) -> None:
    (work / "taken").write_text("mine")
    result = run("run", "fw.log", "--holder", "h", "--out", "taken", "-q", cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={2})
    assert "--out names a file" in result.stderr
    assert (work / "taken").read_text() == "mine"
    check_contained(work, {"fw.log", "taken"}, tmp_path / "tmp")


def test_out_under_a_file(work: Path, tmp_path: Path) -> None:
    (work / "taken").write_text("mine")
    args = ("run", "fw.log", "--holder", "h", "--out", "taken/run", "-q")
    result = run(*args, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={2})
    assert "--out is under a file" in result.stderr
    check_contained(work, {"fw.log", "taken"}, tmp_path / "tmp")


def _read_only(folder: Path) -> bool:
    """Make ``folder`` unwritable even for root (immutable flag) when possible, else by its mode."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            return False
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
        return done.returncode == 0
    folder.chmod(0o555)
    return True


def _writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


def test_out_read_only(work: Path, tmp_path: Path) -> None:
    locked = work / "locked"
    locked.mkdir()
    if not _read_only(locked):
        pytest.skip("no way to make a folder read-only for this user here")
    try:
        for out in ("locked", "locked/run"):
            args = ("run", "fw.log", "--holder", "h", "--out", out, "-q")
            result = run(*args, cwd=work, tmpdir=tmp_path / "tmp")
            check(result, codes={2})
            assert "--out is not writable" in result.stderr
        assert not list(locked.iterdir())
    finally:
        _writable(locked)
    check_contained(work, {"fw.log", "locked"}, tmp_path / "tmp")


def test_markup_in_file_and_holder_names_is_printed_literally(work: Path, tmp_path: Path) -> None:
    names = ["fw[/].log", "[link=https://evil.example]x[/link].log", "[bold red]b[/bold red].log"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, FIREWALL)
    (work / "up.zip").write_bytes(buffer.getvalue())
    holder = "[bold]acme[/]"
    args = ("run", "up.zip", "--holder", holder, "--out", "out", "--skip", "pii")
    result = run(*args, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={0})
    assert holder in result.stderr  # the title, literally
    flat = result.stderr.replace("\n", "")
    for needle in ("fw[/].log", "[bold red]b"):
        assert needle in flat, result.stderr
    check_contained(work, {"fw.log", "up.zip", "out"}, tmp_path / "tmp")


def test_markup_in_an_error_message_is_printed_literally(work: Path, tmp_path: Path) -> None:
    args = ("run", "[red]missing[bold].log", "--holder", "h", "--out", "o")
    result = run(*args, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={3})
    assert "[red]missing[bold].log" in result.stderr


@pytest.mark.parametrize(
    "content",
    [b'{"summary": {"activity": 7}}', b"[]", b"\xff\xfe"],
    ids=["activity-int", "array", "binary"],
)
def test_report_on_malformed_insights(work: Path, tmp_path: Path, content: bytes) -> None:
    run_dir = work / "run"
    run_dir.mkdir()
    (run_dir / "insights.json").write_bytes(content)
    result = run("report", "run", cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={3})
    assert "insights.json" in result.stderr
    assert not (run_dir / "report.html").exists()


def test_long_zip_member_name_is_cleaned_under_a_short_name(work: Path, tmp_path: Path) -> None:
    long_name = "d" * 300 + "/" + "é" * 200 + ".log"  # 300 and 404 bytes: over any file system's 255
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(long_name, FIREWALL)
        archive.writestr("short.log", FIREWALL.replace("07:0", "08:0"))  # not duplicates of the other
    (work / "up.zip").write_bytes(buffer.getvalue())
    result = run("run", "up.zip", "--out", "out", *QUICK, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={0})
    cleaned = [p for p in (work / "out" / "cleaned").rglob("*") if p.is_file()]
    assert len(cleaned) == 2
    assert all(len(part.encode()) <= 255 for p in cleaned for part in p.parts)
    assert all(p.read_text().count("\n") == 2 for p in cleaned)
    check_contained(work, {"fw.log", "up.zip", "out"}, tmp_path / "tmp")


def test_profile_with_nested_fields_has_no_traceback(work: Path, tmp_path: Path) -> None:
    (work / "profile.yaml").write_text("fields: [[timestamp]]\n")
    args = ("run", "fw.log", "--out", "out", "--profile", "profile.yaml", *QUICK)
    result = run(*args, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={2})  # a usage error naming what is wrong; never a traceback
    assert "'fields' must be a list of field names" in result.stderr
    assert not (work / "out").exists()
    check_contained(work, {"fw.log", "profile.yaml"}, tmp_path / "tmp")


@pytest.mark.slow  # one run with the PII stage (its NLP model loads for seconds)
def test_no_planted_personal_data_in_what_is_printed(work: Path, tmp_path: Path) -> None:
    planted = ("mallory.secret@victim-corp.example", "DE89370400440532013000", "4111111111111111")
    text = FIREWALL + f"garbage line with {planted[0]} iban {planted[1]} card {planted[2]}\n"
    (work / "fw.log").write_text(text)
    (work / "mail.csv").write_text(
        "date,sender,recipients,subject\n"
        f"not-a-date,{planted[0]},{planted[0]},pay {planted[1]}\n"
        f"2023-03-01T10:00:00Z,{planted[0]},bob@corp.example,card {planted[2]}\n"
    )
    for args in (("run", ".", "--out", "out", "--holder", "h"), ("run", ".", "--out", "out2", *QUICK)):
        result = run(*args, cwd=work, tmpdir=tmp_path / "tmp")
        check(result, codes={0}, planted=planted)
    result = run("run", "mail.csv", "--out", "fw.log", *QUICK, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={2}, planted=planted)
    check_contained(work, {"fw.log", "mail.csv", "out", "out2"}, tmp_path / "tmp")


def test_json_with_a_4300_digit_integer(work: Path, tmp_path: Path) -> None:
    huge = "9" * 4300  # past Python's default int/str conversion limit
    (work / "feed.json").write_text(
        f'[{{"timestamp": "2023-03-01T10:00:00Z", "src_ip": "45.155.205.7", "dest_ip": "10.0.0.1", '
        f'"event_type": "alert", "n": {huge}}}, {huge}]'
    )
    result = run("run", "feed.json", "--out", "out", *QUICK, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={0, 3})
    assert huge not in result.text
    (work / "events").mkdir()
    event = '{"holder": "h", "src_ip": "45.155.205.7", "timestamp": "2023-03-01T10:00:00Z", "extra": {"n": '
    (work / "events" / "events.jsonl").write_text(event + huge + "}}\n")
    for args in (("cti", "events", "--out", "cti"), ("analyse", "events", "--out", "an")):
        check(run(*args, cwd=work, tmpdir=tmp_path / "tmp"), codes={0, 2, 3})
