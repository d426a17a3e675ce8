"""``python -m ppcti`` and the ``ppcti`` console script: signals are handled from the first instruction.

Importing the command modules takes a moment; Ctrl-C in that moment would otherwise end in a
``KeyboardInterrupt`` traceback. Until :mod:`ppcti.exits` takes over, SIGINT and SIGTERM end the process
with one line and exit code 130 or 143, as they do later.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType


def _early(signum: int, frame: FrameType | None) -> None:
    del frame
    sys.stderr.write(f"interrupted by {signal.Signals(signum).name} before the command started\n")
    raise SystemExit(128 + signum)


def install_early_handlers() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _early)


def main() -> None:
    install_early_handlers()
    from ppcti.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
