"""How a ``ppcti`` command ends: the one place that turns exceptions and signals into exit codes and text.

=====  =====================================================================================
code   meaning
=====  =====================================================================================
0      the command completed (a run may still have rejects)
1      an internal error: a bug in ppcti; its type and place are printed, never its message
2      a usage or configuration error (unknown option, missing ``--holder``, bad ``--out``, ...)
3      the input was refused, or nothing in it could be processed
130    interrupted by Ctrl-C (SIGINT); 143 for SIGTERM; nothing that looks complete is left
=====  =====================================================================================

Recent typer releases ship their own copy of click (``typer._click``), so ``click.ClickException`` from
the click package never matches what such a typer app raises; the usage errors are caught here through
their public base, ``typer.exceptions.TyperException``, and through click's class as well for a typer
that still uses the click package (either may be installed: ``typer>=0.12``).

Messages of unexpected exceptions may quote input values (personal data), so only
the exception's type and the ppcti source line it came from are printed; ``PPCTI_DEBUG=1`` prints the
traceback for a developer.

Signals become :class:`Interrupted`, a ``BaseException`` like ``KeyboardInterrupt``: ``except Exception``
in library code does not swallow it, and every ``with`` block and ``finally`` on the way out runs, which
is how temporary folders (extracted uploads, staged outputs) are removed on Ctrl-C and SIGTERM alike.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.markup import escape

from ppcti.errors import PpctiError
from ppcti.outdir import private_tempdir

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
#: 128 + the signal number, as shells report a process ended by a signal.
EXIT_SIGINT = 128 + signal.SIGINT
EXIT_SIGTERM = 128 + signal.SIGTERM


class Interrupted(BaseException):
    """A run was stopped by a signal; carries the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread while the block runs.

    After the first signal, further ones are only noted, so the clean-up that the first one started
    (removing temporary folders) is not itself cut short.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        del frame
        fired.append(signum)
        if len(fired) == 1:
            raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _usage_classes() -> tuple[type[BaseException], ...]:
    """Usage-error base classes of the typer that is installed: its own copy of click's (typer 0.24
    and later, ``typer._click``, under the public ``typer.exceptions.TyperException``), or click's."""
    classes: list[type[BaseException]] = []
    try:
        from typer.exceptions import TyperException
    except ImportError:  # typer before its vendored click
        pass
    else:
        classes.append(TyperException)
    try:
        import click
    except ImportError:  # typer with its own click does not need the click package
        pass
    else:
        classes.append(click.ClickException)
    return tuple(classes)


def _where(exc: BaseException) -> str:
    """``module.py:line`` where ``exc`` was raised: the innermost ppcti frame, else the innermost one
    (names and numbers of source files only: no values, no paths of data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in frames if os.path.basename(f.filename) != "exits.py"]
    ours = [f for f in frames if f"{os.sep}ppcti{os.sep}" in f.filename]
    frame = (ours or frames or [None])[-1]
    return "?" if frame is None else f"{os.path.basename(frame.filename)}:{frame.lineno}"


def run_cli(
    app: Callable[..., Any],
    args: Sequence[str] | None = None,
    *,
    err: Console | None = None,
    debug: bool = False,
) -> int:
    """Run a typer ``app`` (non-standalone) and return its exit code, having printed what went wrong.

    Nothing raised inside reaches the caller except ``SystemExit`` from an explicit ``sys.exit``.
    """
    from typer import Abort

    err = err or Console(stderr=True, highlight=False)
    usage = _usage_classes()
    try:
        with signals_interrupt():
            result = app(args=None if args is None else list(args), standalone_mode=False)
    except Interrupted as exc:
        err.print(f"interrupted by {exc.name}: the run was stopped and its partial outputs discarded")
        return exc.exit_code
    except (KeyboardInterrupt, Abort):  # click turns Ctrl-C into Abort when no handler of ours ran
        err.print("interrupted by SIGINT: the run was stopped and its partial outputs discarded")
        return EXIT_SIGINT
    except PpctiError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        return exc.exit_code
    except usage as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:  # pragma: no cover - every typer/click usage error has show()
            err.print(f"error: {escape(str(exc))}")
        return int(getattr(exc, "exit_code", EXIT_USAGE)) or EXIT_USAGE
    except EOFError:
        err.print("aborted: no input")
        return EXIT_USAGE
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # e.g. ``ppcti formats | head``: the reader left, nothing to say
            return EXIT_OK
        where = f": {exc.filename}" if exc.filename else ""
        err.print(f"[bold red]error:[/] {escape((exc.strerror or type(exc).__name__) + where)}")
        return EXIT_USAGE
    except Exception as exc:
        if debug:
            traceback.print_exception(exc)
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__} at {escape(_where(exc))} "
            "(set PPCTI_DEBUG=1 for the traceback); please report it"
        )
        return EXIT_INTERNAL
    if isinstance(result, int) and not isinstance(result, bool):
        return result  # typer returns the code of ``typer.Exit`` in non-standalone mode
    return EXIT_OK


#: Prefix of the per-process temporary folder every command works in (``$TMPDIR/ppcti-run-*``).
RUN_TMP_PREFIX = "ppcti-run-"


def main(app: Callable[..., Any]) -> None:
    """Console entry point: run ``app`` and exit with its code.

    The command works in a locked temporary folder of its own (``tempfile.tempdir`` points there, so
    extracted uploads land in it): removed when the command ends, by error or signal, and swept by the
    next command when the process was killed outright. Only the CLI reads the environment
    (``TMPDIR``, ``PPCTI_DEBUG``).
    """
    code = EXIT_INTERNAL
    try:
        base = Path(tempfile.gettempdir())
        with private_tempdir(base, RUN_TMP_PREFIX) as workdir:
            tempfile.tempdir = str(workdir)
            try:
                code = run_cli(app, debug=os.environ.get("PPCTI_DEBUG", "") not in ("", "0"))
            finally:
                for sig in (signal.SIGINT, signal.SIGTERM):  # the clean-up below is not cut short
                    signal.signal(sig, signal.SIG_IGN)
                tempfile.tempdir = None
    except (Interrupted, KeyboardInterrupt) as exc:  # a signal before or after the command itself
        code = exc.exit_code if isinstance(exc, Interrupted) else EXIT_SIGINT
    except OSError as exc:  # the temporary folder itself cannot be made
        Console(stderr=True).print(f"error: no temporary folder: {escape(exc.strerror or str(exc))}")
        code = EXIT_USAGE
    with contextlib.suppress(OSError):  # a closed pipe: nothing more can be said there
        sys.stdout.flush()
    sys.exit(code)
