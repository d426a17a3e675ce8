"""``ppcti assess``: the privacy assessment of a run, and ``ppcti assess init`` for a commented profile."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import orjson
import typer

from ppcti.errors import ConfigError

INIT = "init"
DEFAULT_PROFILE_FILE = "assess-profile.yaml"


def _write(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename, never through a link already at ``path``."""
    if path.is_symlink():
        raise ConfigError(f"{path.name} in the output folder is a symbolic link; remove it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _out_dir(out: Path) -> Path:
    if out.is_symlink():
        raise ConfigError(f"--out {out.name} is a symbolic link; give a real folder")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out.name} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create --out {out.name}: {exc.strerror or type(exc).__name__}") from None
    return out


def assess_command(
    target: str = typer.Argument(
        ..., metavar="RUN_DIR|init",
        help="A run folder written by `ppcti run`, or `init` to write a commented profile.",
    ),
    profile: Path | None = typer.Option(
        None, "--profile", "-p", help="The organisation's profile (YAML; `ppcti assess init` writes one). "
        "Without it the template's defaults are used.",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o",
        help="Folder for assessment.json, assessment.html and report.html with the assessment section "
        "(default: the run folder). With `init`: the profile file to write.",
    ),
    upload: list[Path] = typer.Option(
        [], "--upload", help="The upload the run was made from, for the re-identification risk of its "
        "tables (read with the same archive defences as `ppcti run`). Repeat for several.",
    ),
    force: bool = typer.Option(False, "--force", help="With `init`: overwrite an existing profile file."),
) -> None:
    """Privacy posture, re-identification risk, breach severity and cost, and the recommended
    privacy-enhancing technique with its reasons."""
    from rich.console import Console

    from ppcti.assess.profile import template_text

    console = Console(stderr=True, highlight=False)
    if target == INIT:
        path = out or Path(DEFAULT_PROFILE_FILE)
        if path.exists() and not force:
            raise ConfigError(f"{path.name} exists; pass --force to overwrite it")
        if path.is_symlink():
            raise ConfigError(f"{path.name} is a symbolic link; give another file")
        _write(path, template_text().encode("utf-8"))
        console.print(f"profile written: {path}", markup=False)
        return

    from ppcti.assess.engine import assess
    from ppcti.assess.profile import load_profile
    from ppcti.assess.report import render_page, render_section, update_report

    run_dir = Path(target)
    prof = load_profile(profile)
    dest = _out_dir(out or run_dir)
    with console.status("assessing") as status:
        doc = assess(run_dir, prof, inputs=list(upload), progress=lambda msg: status.update(msg))
    section = render_section(doc)
    _write(dest / "assessment.json", orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    _write(dest / "assessment.html", render_page(section).encode("utf-8"))
    report = dest / "report.html"
    if not report.exists() and (run_dir / "report.html").is_file() and dest.resolve() != run_dir.resolve():
        _write(report, (run_dir / "report.html").read_bytes())
    in_report = update_report(report, section)
    rec = doc["recommendation"]
    top = rec["ranking"][0]["name"] if rec.get("top") else "none fits the hard constraints"
    console.print(f"severity: {doc['severity']['score']} ({doc['severity']['band']})", markup=False)
    console.print(f"recommended technique: {top}", markup=False)
    wrote = "assessment.json, assessment.html" + (", report.html" if in_report else "")
    console.print(f"→ {dest}: {wrote}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("assess")(assess_command)
