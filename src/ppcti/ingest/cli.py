"""Commands of ppcti.ingest: ``ppcti inspect`` shows what an upload would yield before a run."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the main app."""
    app.command("inspect")(inspect)


def inspect(
    inputs: list[Path] = typer.Argument(
        ..., help="ZIP files, directories or files, as given to `ppcti run`."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    max_total_mib: int = typer.Option(
        2048, "--max-total-mib", help="Cap on uncompressed bytes of the upload."
    ),
    max_members: int = typer.Option(10_000, "--max-members", help="Cap on files in the upload."),
    max_depth: int = typer.Option(3, "--max-depth", help="Cap on archive nesting levels."),
) -> None:
    """List the files an upload holds (kind, encoding, warnings) and every refused member with its reason.

    Nothing is processed or kept: extracted members are deleted when the listing is done.
    """
    import orjson
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from ppcti.ingest import Limits, open_upload

    limits = Limits(max_total_bytes=max_total_mib * 1024**2, max_members=max_members, max_depth=max_depth)
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        bar.add_task("opening upload", total=None)
        upload = open_upload(inputs, holder="inspect", limits=limits)
    with upload:
        files = [
            {
                "path": f.path,
                "kind": f.kind,
                "encoding": f.encoding,
                "size": f.size,
                "delimiter": f.csv_dialect.delimiter if f.csv_dialect else None,
                "warnings": list(f.warnings),
            }
            for f in upload.files
        ]
        refused = [{"member": r.member, "reason": r.reason} for r in upload.refused]
    if as_json:
        typer.echo(orjson.dumps({"root": upload.root, "files": files, "refused": refused}).decode())
        return
    out = Console()
    table = Table(title=f"{upload.root}: {len(files)} file(s) accepted")
    for column in ("path", "kind", "encoding", "size", "warnings"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for f in files:
        kind = f"{f['kind']} ({f['delimiter']!r})" if f["delimiter"] else f["kind"]
        table.add_row(f["path"], kind, f["encoding"] or "", f"{f['size']:,}", "; ".join(f["warnings"]))
    out.print(table)
    if refused:
        table = Table(title=f"{len(refused)} member(s) refused")
        table.add_column("member")
        table.add_column("reason")
        for r in refused:
            table.add_row(r["member"], r["reason"])
        out.print(table)
