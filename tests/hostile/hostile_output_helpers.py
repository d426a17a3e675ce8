"""Running the real ``ppcti`` command in a subprocess and checking what every hostile case must keep.

Invariants: the exit code is one ppcti documents (0, 2, 3, 130 for SIGINT, 143 for SIGTERM), no Python
traceback reaches the user, nothing is written beside ``--out`` (the work folder holds only the inputs and
``--out``; ``$TMPDIR`` is empty afterwards), and no planted personal value shows in what is printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import ppcti

SRC = str(Path(ppcti.__file__).resolve().parents[1])
ALLOWED_CODES = {0, 2, 3, 130, 143}
#: Options of a quick run: a holder, no progress output, no PII stage (its model takes seconds to load).
QUICK = ("--holder", "h", "-q", "--skip", "pii")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def env_for(tmpdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PPCTI_", "PYTEST"))}
    env.update(PYTHONPATH=SRC, TMPDIR=str(tmpdir), COLUMNS="200", NO_COLOR="1")
    return env


def ppcti_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from ppcti.cli import main; main()", *args]


def run(*args: str, cwd: Path, tmpdir: Path, timeout: float = 120) -> Result:
    """``ppcti ARGS`` in ``cwd`` with ``TMPDIR=tmpdir``, as a user would run it."""
    tmpdir.mkdir(exist_ok=True)
    done = subprocess.run(
        ppcti_cmd(*args), cwd=cwd, env=env_for(tmpdir), capture_output=True, text=True, timeout=timeout
    )
    return Result(done.returncode, done.stdout, done.stderr)


def check(result: Result, *, codes: set[int] = ALLOWED_CODES, planted: tuple[str, ...] = ()) -> None:
    assert result.code in codes, (result.code, result.stderr[-2000:])
    assert "Traceback" not in result.text, result.text[-3000:]
    for value in planted:
        assert value not in result.text, f"planted value {value!r} printed"


def entries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def check_contained(work: Path, allowed: set[str], tmpdir: Path) -> None:
    """Nothing but ``allowed`` in the work folder, and no temporary folder left in ``tmpdir``."""
    assert entries(work) <= allowed, entries(work) - allowed
    assert not list(tmpdir.iterdir()), list(tmpdir.iterdir())
