"""Ctrl-C and SIGTERM during a run: exit 130/143, say so, leave no output that looks complete and no
extracted upload in $TMPDIR; folders of runs that were killed outright are swept by the next command.

The run is the real command in a subprocess. To signal it at a known point, a small launcher makes the
report stage wait (after events, CTI and insights were written) and tells the test when it got there.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from hostile_output_helpers import QUICK, check, check_contained, env_for, run

FIREWALL = (
    "Mar/08/2023 07:00:43 firewall,info drop-tcp input: in:ether1-WAN out:(unknown 0), connection-state:new "
    "src-mac dc:a6:32:b2:4b:b6, proto TCP (SYN), 93.19.228.74:45727->10.0.0.2:3389, len 48\n"
)

LAUNCHER = """
import sys, time, pathlib
from ppcti import pipeline

marker = pathlib.Path(sys.argv[1])

def waiting(ctx):
    marker.write_text(str(ctx.out))
    time.sleep(120)
    return {}

pipeline.STAGES["report"] = waiting
sys.argv = ["ppcti", *sys.argv[2:]]
from ppcti.cli import main
main()
"""


def _start(work: Path, tmpdir: Path, out: str) -> tuple[subprocess.Popen[str], Path]:
    tmpdir.mkdir(exist_ok=True)
    marker = work.parent / "reached"
    launcher = work.parent / "launcher.py"
    launcher.write_text(LAUNCHER)
    args = [sys.executable, str(launcher), str(marker), "run", "fw.log", "--out", out, *QUICK]
    proc = subprocess.Popen(
        args, cwd=work, env=env_for(tmpdir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 90
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"run ended before the report stage: {proc.communicate()}")
        time.sleep(0.05)
    return proc, marker


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "fw.log").write_text(FIREWALL)
    return folder


@pytest.mark.parametrize(
    ("sig", "code", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")]
)
def test_signal_mid_run_leaves_nothing_that_looks_complete(
    work: Path, tmp_path: Path, sig: int, code: int, name: str
) -> None:
    tmpdir = tmp_path / "tmp"
    proc, marker = _start(work, tmpdir, "out")
    staging = Path(marker.read_text())
    assert (staging / "events.jsonl").is_file()  # the run had written results when it was stopped
    assert any(tmpdir.iterdir())  # and its upload was extracted under $TMPDIR
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    result_text = stdout + stderr
    assert proc.returncode == code, result_text
    assert f"interrupted by {name}" in stderr
    assert "Traceback" not in result_text
    assert not (work / "out").exists()  # a new --out never appears half-written
    assert not staging.exists()
    check_contained(work, {"fw.log"}, tmpdir)


def test_interrupt_keeps_the_previous_complete_run(work: Path, tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    first = run("run", "fw.log", "--out", "out", *QUICK, cwd=work, tmpdir=tmpdir)
    check(first, codes={0})
    before = {p.relative_to(work / "out"): p.read_bytes() for p in (work / "out").rglob("*") if p.is_file()}
    proc, _ = _start(work, tmpdir, "out")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    after = {p.relative_to(work / "out"): p.read_bytes() for p in (work / "out").rglob("*") if p.is_file()}
    assert after == before  # the earlier run's outputs, whole, next to its own summary
    assert orjson.loads(after[Path("summary.json")])["events"] == 1
    check_contained(work, {"fw.log", "out"}, tmpdir)


def test_folders_of_killed_runs_are_swept_live_ones_kept(work: Path, tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    dead = tmpdir / "ppcti-run-dead1234"
    (dead / "ppcti-upload-x").mkdir(parents=True)
    (dead / "ppcti-upload-x" / "member.log").write_text("extracted upload of a killed run")
    (dead / ".ppcti-lock").write_text("")
    staged = work / ".ppcti-staging-dead5678"
    staged.mkdir()
    (staged / ".ppcti-lock").write_text("")
    (staged / "events.jsonl").write_text("{}\n")
    live = tmpdir / "ppcti-run-live9999"
    live.mkdir()
    fd = os.open(live / ".ppcti-lock", os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running ppcti holds it
    try:
        result = run("run", "fw.log", "--out", "out", *QUICK, cwd=work, tmpdir=tmpdir)
        check(result, codes={0})
        assert not dead.exists()
        assert not staged.exists()
        assert live.is_dir()
    finally:
        os.close(fd)
    assert {p.name for p in tmpdir.iterdir()} == {"ppcti-run-live9999"}
    assert {p.name for p in work.iterdir()} == {"fw.log", "out"}
