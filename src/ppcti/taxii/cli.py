"""Commands of ppcti.taxii: ``ppcti taxii push``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

taxii_app = typer.Typer(name="taxii", help="Publish CTI to a TAXII 2.1 server.", no_args_is_help=True)


@taxii_app.command("push")
def push_cmd(
    source: Path = typer.Argument(..., help="Run folder (cti/aggregate.json) or a STIX bundle file."),
    server: str = typer.Option(..., "--server", help="API root URL, e.g. https://taxii.example/api1/"),
    collection: str = typer.Option(..., "--collection", help="Collection id."),
    cafile: Path | None = typer.Option(None, "--cafile", help="CA certificate that signed the server's."),
    only: list[str] = typer.Option(
        [], "--type", help="Publish only objects of this STIX type (repeatable), e.g. note after decrypt."
    ),
) -> None:
    """Publish the aggregate bundle's objects (PPCTI_TAXII_USER / PPCTI_TAXII_PASSWORD authenticate)."""
    import importlib.util

    from ppcti.errors import MissingExtra

    if importlib.util.find_spec("taxii2client") is None:
        raise MissingExtra("taxii", "TAXII publishing")
    from ppcti.taxii.push import bundle_objects, push

    objects = bundle_objects(source)
    if only:
        objects = [o for o in objects if o.get("type") in set(only)]
    url = server.rstrip("/") + f"/collections/{collection}/"
    summary = push(
        objects,
        url,
        user=os.environ.get("PPCTI_TAXII_USER"),
        password=os.environ.get("PPCTI_TAXII_PASSWORD"),
        verify=str(cafile) if cafile else True,
    )
    typer.echo(
        f"{summary.succeeded} of {summary.objects} objects added in {summary.envelopes} envelopes"
        + (f", {summary.already_present} already there" if summary.already_present else "")
        + (f", {summary.failed} failed" if summary.failed else "")
    )
    if summary.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the main app."""
    app.add_typer(taxii_app, name="taxii")
