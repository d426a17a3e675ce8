"""The ``ppcti`` command line in child processes, for tests: run with this source tree's package, and the
FHE correlation service started on a free loopback port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ppcti_command(*args: str) -> list[str]:
    """The ``ppcti`` command line in a child process, with this source tree's package."""
    return [sys.executable, "-c", "from ppcti.cli import main; main()", *args]


def child_env(**extra: str) -> dict[str, str]:
    """This environment with the source tree first on the child's path, plus ``extra``."""
    env = dict(os.environ)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def start_fhe_service(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """Start ``ppcti fhe serve ARGS --listen 127.0.0.1:0``; the process and its URL once it listens."""
    proc = subprocess.Popen(
        ppcti_command("fhe", "serve", *args, "--listen", "127.0.0.1:0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or child_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"on (https?://127\.0\.0\.1:\d+)", line)
    if found is None:
        proc.kill()
        _out, err = proc.communicate(timeout=30)
        raise AssertionError(f"service did not start: {line!r} {err[-2000:]!r}")
    return proc, found.group(1)


def start_tee_service(
    state: Path, *, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str, list[str]]:
    """Start the TEE service on the simulation backend (``ppcti tee serve``) on a free loopback port.

    Returns the process, its URL and the lines it printed up to its banner (start-up reports such as
    shredded orphans). Its output stays merged on ``stdout``; the caller stops it.
    """
    args = ["--backend", "simulation", "--insecure-simulation", "--listen", "127.0.0.1:0"]
    proc = subprocess.Popen(
        ppcti_command("tee", "serve", *args, "--state", str(state)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env or child_env(COLUMNS="300"),
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        found = re.search(r"ppcti tee \(simulation\) on (https://127\.0\.0\.1:\d+)", line)
        if found:
            return proc, found.group(1), seen
    proc.kill()
    proc.wait(30)
    raise AssertionError("the TEE service did not start: " + "".join(seen)[-2000:])
