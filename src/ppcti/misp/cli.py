"""Commands of ppcti.misp: ``ppcti misp export|compare|modules-path``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

misp_app = typer.Typer(
    name="misp", help="MISP events, feeds and the private-blacklist module.", no_args_is_help=True
)


def _need_misp() -> None:
    import importlib.util

    from ppcti.errors import MissingExtra

    if importlib.util.find_spec("pymisp") is None:
        raise MissingExtra("misp", "MISP export")


def _hash_key(key_file: Path | None) -> bytes | None:
    """The keyed-hash key: a file (hex or raw bytes) or PPCTI_MISP_HASH_KEY (hex); never a flag value."""
    from ppcti.errors import ConfigError

    if key_file is not None:
        try:
            raw = key_file.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the hash key file: {exc.strerror}", file=str(key_file)) from None
        try:
            return bytes.fromhex(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return raw
    env = os.environ.get("PPCTI_MISP_HASH_KEY")
    if env:
        try:
            return bytes.fromhex(env.strip())
        except ValueError:
            raise ConfigError("PPCTI_MISP_HASH_KEY must be hex") from None
    return None


@misp_app.command("export")
def export_cmd(
    source: Path = typer.Argument(..., help="Run folder (cti/aggregate.json) or an aggregate bundle."),
    out: Path = typer.Option(..., "--out", help="MISP feed folder to write (manifest.json, <uuid>.json)."),
    hashes: str = typer.Option(
        "none",
        "--hashes",
        help="none, keyed (HMAC-SHA256, key from --hash-key-file or "
        "PPCTI_MISP_HASH_KEY) or md5 (MISP's hashes.csv: enumerable, see docs/misp.md).",
    ),
    hash_key_file: Path | None = typer.Option(None, "--hash-key-file", help="Key for --hashes keyed."),
    with_observations: bool = typer.Option(
        False,
        "--with-observations",
        help="Also export the run's observations (traffic, messages: the holder's own addresses and its "
        "recipients) as network-connection and email objects; for the holder's own MISP.",
    ),
) -> None:
    """The run's CTI as one MISP event in a MISP feed folder."""
    _need_misp()
    from ppcti.misp.export import build_event, load_aggregate
    from ppcti.misp.feed import write_feed

    event, summary = build_event(load_aggregate(source, observations=with_observations))
    feed = write_feed(
        [event], out, hashes=hashes, key=_hash_key(hash_key_file) if hashes == "keyed" else None
    )
    typer.echo(
        f"event {summary.event_uuid}: {summary.objects} objects, {summary.attributes} attributes, "
        f"{summary.sightings} sightings, tags {', '.join(summary.tags) or 'none'} → {feed.folder}"
        + (f" ({feed.hashes} hashes in {feed.hashes_file})" if feed.hashes_file else "")
    )


@misp_app.command("compare")
def compare_cmd(
    source: Path = typer.Argument(..., help="Run folder (cti/aggregate.json) or an aggregate bundle."),
    out: Path | None = typer.Option(None, "--out", help="Write the comparison as JSON here."),
) -> None:
    """Convert the bundle with misp-stix and compare with ppcti's direct export (objects, sightings, tags)."""
    _need_misp()
    import orjson

    from ppcti.misp.convert import compare

    report = compare(source)
    if out is not None:
        out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    for side in ("ppcti", "misp-stix"):
        s = report[side]
        typer.echo(
            f"{side:>9}: {s['events']} event(s), {s['objects']} objects, {s['attributes']} attributes, "
            f"{s['sightings']} sightings, event tags {', '.join(s['event_tags']) or 'none'}, "
            f"{s['untagged_attributes']} attributes without TLP, {s['duplicate_uuids']} duplicate uuids"
        )
    typer.echo(f"misp-stix warnings: {report['misp-stix']['warnings']}")


@misp_app.command("modules-path")
def modules_path_cmd() -> None:
    """Print the folder to pass to ``misp-modules -c`` (holds the ppcti_blacklist expansion module)."""
    from ppcti.misp.modules_path import modules_path

    typer.echo(str(modules_path()))


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the main app."""
    app.add_typer(misp_app, name="misp")
