"""The ``ppcti`` command line.

Each capability contributes its commands from its own ``cli`` module through ``register(app)``, so the
command tree is assembled here in one explicit list rather than discovered. Command modules import their
heavy dependencies (spaCy, SEAL, librdkafka) inside the command functions, so ``ppcti --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

from ppcti import __version__, exits

#: Modules that register commands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "ppcti.pipeline_cli",
    "ppcti.ingest.cli",
    "ppcti.samples.cli",
    "ppcti.pii.cli",
    "ppcti.stix.cli",
    "ppcti.analysis.cli",
    "ppcti.fhe.cli",
    "ppcti.misp.cli",
    "ppcti.taxii.cli",
    "ppcti.bus.cli",
    "ppcti.web.cli",
    "ppcti.tee.cli",
    "ppcti.enrich.cli",
    "ppcti.assess.cli",
)

app = typer.Typer(
    name="ppcti",
    help="Privacy-preserving cyber threat intelligence: security logs in, shareable STIX 2.1 CTI out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ppcti {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Privacy-preserving cyber threat intelligence."""


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    """Console entry point: errors print one clear line and map to an exit code (:mod:`ppcti.exits`)."""
    exits.main(app)


if __name__ == "__main__":
    main()
