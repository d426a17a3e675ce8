"""``ppcti enrich RUN_DIR``: the command, and the one place enrichment settings are read from outside.

Keys, base URLs and limits come from the environment (``PPCTI_<SVC>_KEY``, ``_URL``, ``_RATE``, ...)
and an optional YAML file; never from flags. Only counts are printed: the values sent are written to
the run folder's ``summary.json``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ppcti.errors import ConfigError

if TYPE_CHECKING:
    from ppcti.enrich.options import EnrichSettings


def register(app: typer.Typer) -> None:
    """Add ``ppcti enrich`` to the main app."""
    app.command("enrich", no_args_is_help=True)(enrich)


#: Import names of the ``[enrich]`` extra, checked before a lookup starts.
_EXTRA_MODULES = ("httpx", "vt", "numpy", "pymispwarninglists")


def require_extra() -> None:
    """A clear error instead of an ImportError when the ``[enrich]`` dependencies are missing."""
    import importlib.util

    from ppcti.errors import MissingExtra

    if any(importlib.util.find_spec(m) is None for m in _EXTRA_MODULES):
        raise MissingExtra("enrich", "Enrichment with reputation services")


def settings_for_run(config: Path | None) -> EnrichSettings | None:
    """The settings of the enrich stage of ``ppcti run``: None (stage off) unless a key is configured."""
    settings = load_settings(config)
    return settings if settings.configured else None


def default_cache(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ppcti" / "enrich.sqlite"


def load_settings(config: Path | None, env: Mapping[str, str] | None = None) -> EnrichSettings:
    """Settings from ``env`` (default: the process environment) and the YAML file ``config``."""
    import yaml

    from ppcti.enrich.options import EnrichSettings

    env = os.environ if env is None else env
    data: Any = None
    if config is not None:
        try:
            data = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
            # the parser's message may quote the file, which may hold a key: name the error type only
            raise ConfigError(
                f"cannot read the enrichment configuration ({type(exc).__name__})", file=str(config)
            ) from None
        if not isinstance(data, dict):
            raise ConfigError("the enrichment configuration must be a mapping", file=str(config))
    settings = EnrichSettings.from_sources(env, data)
    if settings.cache is None:
        import dataclasses

        settings = dataclasses.replace(settings, cache=default_cache(env))
    return settings


def enrich(
    run_dir: Path = typer.Argument(
        ..., help="A run folder written by 'ppcti run' (needs cti/aggregate.json)."
    ),
    services: str | None = typer.Option(
        None,
        "--services",
        help="Comma-separated: ipqs,virustotal,abuseipdb,hybrid (default: every one with a key).",
    ),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Only count the calls per service and the quota they would use; send nothing.",
    ),
    max_calls: int | None = typer.Option(
        None, "--max-calls", min=0, help="At most N values sent to each service in this run."
    ),
    config: Path | None = typer.Option(
        None, "--config", envvar="PPCTI_ENRICH_CONFIG", help="YAML file of keys, URLs, rates and limits."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the answer cache."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or table."),
) -> None:
    """Look the attacker IPs and e-mail senders of a run up on reputation services; add it to the CTI."""
    import dataclasses

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ppcti.enrich.run import enrich_run, record_in_summary

    if not run_dir.is_dir():
        raise ConfigError("not a run folder", file=str(run_dir))
    require_extra()
    settings = load_settings(config)
    if no_cache:
        settings = dataclasses.replace(settings, cache=None)
    names = [s.strip() for s in services.split(",") if s.strip()] if services else None
    console = Console(stderr=True, quiet=quiet)
    with Progress(
        TextColumn("[bold]enrich"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet,
    ) as bar:
        task = bar.add_task("enrich", total=None)
        summary = enrich_run(
            run_dir,
            settings,
            services=names,
            dry_run=dry_run,
            max_calls=max_calls,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if not dry_run:
        record_in_summary(run_dir, summary)
        if (run_dir / "insights.json").is_file():
            from ppcti.analysis import write_report

            write_report(run_dir)
    _print(console if not quiet else Console(stderr=True, quiet=True), summary)
    typer.echo(summary["message"])


def _print(console: Any, summary: dict[str, Any]) -> None:
    from rich.table import Table

    dry = summary["dry_run"]
    table = Table(title="enrichment (dry run)" if dry else "enrichment")
    columns = (
        ("service", "lookups", "cache_hits", "calls", "quota_used_percent", "min_seconds")
        if dry
        else ("service", "lookups", "cache_hits", "values_sent", "ok", "not_found", "failed", "skipped")
    )
    for col in columns:
        table.add_column(col.replace("_", " "), justify="left" if col == "service" else "right")
    for name, stats in summary["services"].items():
        table.add_row(name, *(str(stats.get(col, "")) for col in columns[1:]))
    console.print(table)
    excluded = summary["indicators"]["excluded"]
    if excluded:
        console.print("held back: " + ", ".join(f"{n} {reason}" for reason, n in excluded.items()))
