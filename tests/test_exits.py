"""ppcti.exits: one place maps every exception and signal to an exit code and one printed line."""

from __future__ import annotations

import errno
import io
import os
import signal

import pytest
import typer
from rich.console import Console

from ppcti.errors import ConfigError, InputRefused
from ppcti.exits import Interrupted, run_cli, signals_interrupt

PLANTED = "alice.secret@example.org"


def _app(exc: BaseException | None) -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.command()
    def go(n: int = typer.Option(1, "--n")) -> None:
        if exc is not None:
            raise exc

    @app.command()
    def other() -> None:
        pass

    return app


def _run(exc: BaseException | None, *args: str) -> tuple[int, str]:
    buffer = io.StringIO()
    code = run_cli(_app(exc), list(args) or ["go"], err=Console(file=buffer, width=200))
    return code, buffer.getvalue()


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (None, 0, ""),
        (ConfigError("bad [red]setting[/red]"), 2, "bad [red]setting[/red]"),
        (InputRefused("nothing usable"), 3, "nothing usable"),
        (KeyboardInterrupt(), 130, ""),
        (Interrupted(signal.SIGTERM), 143, "interrupted by SIGTERM"),
        (OSError(errno.ENOSPC, "No space left on device", "out/events.jsonl"), 2, "No space left"),
        (ValueError(f"cannot parse {PLANTED}"), 1, "internal error: ValueError at test_exits.py"),
        (typer.Exit(4), 4, ""),
    ],
    ids=["ok", "config", "refused", "ctrl-c", "sigterm", "disk-full", "bug", "exit"],
)
def test_exceptions_to_codes(exc: BaseException | None, code: int, text: str) -> None:
    got, printed = _run(exc)
    assert got == code
    assert text in printed
    assert PLANTED not in printed  # an unexpected error's message may hold input values: never printed
    assert "Traceback" not in printed


@pytest.mark.parametrize("args", [["--nope"], ["go", "--n", "x"], ["missing"], []])
def test_usage_errors_are_code_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    app = _app(None)
    app.info.no_args_is_help = True
    code = run_cli(app, args, err=Console(file=io.StringIO()))
    assert code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_signals_raise_interrupted_and_restore_handlers() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as caught:
        _signal_self(signal.SIGTERM)
    assert caught.value.exit_code == 143
    assert caught.value.name == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before


def _signal_self(sig: int) -> None:
    with signals_interrupt():
        os.kill(os.getpid(), sig)
        for _ in range(1000):  # Python runs the handler between bytecodes, right after the call
            pass


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_the_cli_is_still_loading(sig: int, code: int) -> None:
    """Between interpreter start and ppcti.exits taking over: one line, the usual code, no traceback."""
    import subprocess
    import sys

    script = (
        "import os, signal, time\n"
        "from ppcti.__main__ import install_early_handlers\n"
        "install_early_handlers()\n"
        f"os.kill(os.getpid(), {int(sig)})\n"
        "time.sleep(30)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == code
    assert "before the command started" in done.stderr
    assert "Traceback" not in done.stderr


def test_python_dash_m_ppcti_runs_the_cli() -> None:
    import subprocess
    import sys

    args = [sys.executable, "-m", "ppcti", "--version"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("ppcti ")
