"""Commands of ppcti.pii."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the main app."""

    @app.command("pii")
    def pii_command(
        inputs: list[Path] = typer.Argument(
            ..., help="Files, folders or ZIPs (JSON, NDJSON, CSV, XLSX, TXT)."
        ),
        out: Path = typer.Option(..., "--out", help="Folder for pii.json and kg.ttl (created if missing)."),
        holder: str | None = typer.Option(None, "--holder", help="Name of the data holder."),
        nlp: str = typer.Option("auto", "--nlp", help="auto | spacy | regex (regex never loads a model)."),
        rules: Path | None = typer.Option(None, "--rules", help="YAML file of custom entity rules."),
        sample: int = typer.Option(500, "--sample", help="Distinct values tested per column."),
        examples: str = typer.Option(
            "shape", "--examples", help="shape (format only, default) | partial (IP prefix, initials...)."
        ),
    ) -> None:
        """Find personal data in an upload: writes OUT/pii.json (masked examples only) and OUT/kg.ttl."""
        from rich.console import Console
        from rich.progress import Progress

        from ppcti.kg.graph import annotate, export_turtle
        from ppcti.pii.options import PiiOptions
        from ppcti.pii.scan import scan_paths, write_pii_json

        options = PiiOptions(nlp=nlp, rules_file=rules, sample_values=sample, examples=examples)
        out.mkdir(parents=True, exist_ok=True)
        console = Console(stderr=True)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("scanning", total=None)

            def progress(path: str, i: int, n: int) -> None:
                bar.update(task, total=n, completed=i - 1, description=f"scanning {path}")

            report = annotate(scan_paths(inputs, holder=holder, options=options, progress=progress))
        write_pii_json(report, out / "pii.json")
        export_turtle(report, out / "kg.ttl")
        types = sorted({f.type for f in report.findings})
        console.print(
            f"{len(report.findings)} findings in {len(report.files)} files"
            f"{': ' + ', '.join(types) if types else ''}; use case: {report.use_case}"
        )
        console.print(f"wrote {out / 'pii.json'} and {out / 'kg.ttl'}")
