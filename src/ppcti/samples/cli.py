"""Commands of ppcti.samples: ``ppcti samples``."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the main app."""
    app.command(name="samples")(samples)


def samples(
    out: Path = typer.Option(..., "--out", help="Folder to write the sample files and ground truth into."),
    rows: int = typer.Option(
        300, "--rows", min=20, help="Entries per format, split over the format's files."
    ),
    seed: int = typer.Option(7, "--seed", help="Random seed; the same seed gives byte-identical files."),
    make_zip: bool = typer.Option(
        True, "--zip/--no-zip", help="Also pack the data files into sample-upload.zip."
    ),
    holder: str = typer.Option("sample-holder", "--holder", help="Data holder named in the ground truth."),
    ground_truth: bool = typer.Option(
        True, "--ground-truth/--no-ground-truth", help="Write ground_truth.jsonl (skip it for benchmarks)."
    ),
) -> None:
    """Write realistic synthetic logs in all three formats, with defects and ground truth.

    Firewall text (MikroTik RouterOS, four timestamp styles), e-mail gateway exports (CSV and XLSX) and
    JSON event feeds (Suricata EVE, Elastic Common Schema, Zeek), each with the defects the cleaning
    stage repairs or rejects; ground_truth.jsonl says what every entry must become.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ppcti.outdir import check_out
    from ppcti.samples.build import FORMATS, PLANS, generate, split_rows

    check_out(out)
    total = sum(sum(split_rows(rows, PLANS[f])) for f in FORMATS)
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("generating", total=total)
        pending = [0]

        def on_file(name: str, count: int) -> None:
            progress.update(task, advance=pending[0], description=f"writing {name}")
            pending[0] = count

        result = generate(
            out,
            rows=rows,
            seed=seed,
            make_zip=make_zip,
            holder=holder,
            ground_truth=ground_truth,
            on_file=on_file,
        )
        progress.update(task, advance=pending[0])
    for item in result.files:
        console.print(
            f"{escape(item.name):24} {item.format:14} {item.entries:>9,} entries "
            f"({item.rejects:,} rejects, {item.duplicates:,} duplicates)",
            highlight=False,
            soft_wrap=True,
        )
    if ground_truth:
        console.print(f"ground truth: {escape(str(result.ground_truth))}", highlight=False, soft_wrap=True)
    if result.zip_path is not None:
        console.print(f"upload archive: {escape(str(result.zip_path))}", highlight=False, soft_wrap=True)
