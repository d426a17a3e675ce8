"""Real servers on loopback for the MISP and TAXII tests, each in the environment it pins.

misp-modules and medallion pin dependencies that ppcti's environment does not share, so
``scripts/test`` installs each into its own virtual environment (``.venv-misp-modules``,
``.venv-medallion``); ``PPCTI_MISP_MODULES`` / ``PPCTI_MEDALLION`` may point at other executables.
Without them the tests skip, unless ``PPCTI_REQUIRE_SERVERS=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def executable(env_name: str, venv: str, name: str) -> str:
    path = os.environ.get(env_name) or str(ROOT / venv / "bin" / name)
    if not Path(path).is_file():
        if os.environ.get("PPCTI_REQUIRE_SERVERS") == "1":
            pytest.fail(f"{name} not installed at {path} (scripts/test installs it)")
        pytest.skip(f"{name} not installed ({venv}; scripts/test installs it)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                resp.read()
                return
        except OSError as exc:
            if getattr(exc, "code", None) is not None:  # an HTTP error status: it is up
                return
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url} within {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=20)


def ppcti_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from ppcti.cli import main; main()", *args]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def ppcti_wrapper(folder: Path) -> Path:
    """An executable ``ppcti`` that runs this source tree (what a deployment's console script does)."""
    path = folder / "ppcti"
    run = "from ppcti.cli import main; main()"
    path.write_text(f"#!/bin/sh\nPYTHONPATH='{ROOT / 'src'}' exec '{sys.executable}' -c '{run}' \"$@\"\n")
    path.chmod(0o755)
    return path


def start_fhe_service(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
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
