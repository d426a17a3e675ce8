"""Commands of ppcti.bus: ``ppcti worker cti|pii|fhe`` and ``ppcti bus publish|announce``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ppcti.bus.envelope import Envelope, Output
    from ppcti.bus.settings import BusSettings
    from ppcti.bus.worker import Process

worker_app = typer.Typer(
    help="Run a stage as a Kafka consumer-group worker (start several with one --group to scale out).",
    no_args_is_help=True,
)
bus_app = typer.Typer(help="Publish to the Kafka event bus.", no_args_is_help=True)

_BOOTSTRAP = typer.Option(
    None, "--bootstrap", "-b", help="Kafka bootstrap address (default: $PPCTI_KAFKA_BOOTSTRAP)."
)
_MAX = typer.Option(None, "--max-messages", min=1, help="Stop after this many input messages.")
_IDLE = typer.Option(None, "--idle-timeout", min=0.1, help="Stop after this many seconds without input.")
_BATCH = typer.Option(100, "--batch", min=1, help="Input messages processed per commit.")


def bus_settings(bootstrap: str | None) -> BusSettings:
    """Settings from ``--bootstrap`` and ``PPCTI_KAFKA_*``; a clear error when no broker is given."""
    from ppcti.bus.settings import BusSettings
    from ppcti.errors import ConfigError

    settings = BusSettings.from_env(bootstrap)
    if settings is None:
        raise ConfigError("no Kafka broker given: use --bootstrap or set PPCTI_KAFKA_BOOTSTRAP")
    return settings


def _run_worker(
    process: Process,
    settings: BusSettings,
    topic: str,
    group: str,
    batch: int,
    max_messages: int | None,
    idle: float | None,
    *,
    max_poll_interval_ms: int = 300_000,
) -> None:
    from rich.console import Console
    from rich.markup import escape

    from ppcti.bus.worker import Worker, WorkerOptions

    options = WorkerOptions(
        group=group,
        input_topic=topic,
        batch=batch,
        max_messages=max_messages,
        idle_timeout_s=idle,
        max_poll_interval_ms=max_poll_interval_ms,
    )
    worker = Worker(process, settings, options)
    worker.install_signal_handlers()
    console = Console(stderr=True)
    console.print(
        f"worker in group [bold]{escape(group)}[/] consuming {escape(topic)} "
        f"from {escape(settings.bootstrap)}",
        highlight=False,
    )
    stats = worker.run()
    console.print(
        f"consumed {stats.consumed}, produced {stats.produced}, rejected {stats.rejected}, "
        f"commits {stats.commits} (refused {stats.failed_commits})",
        highlight=False,
    )


@worker_app.command("cti")
def worker_cti(
    group: str = typer.Option("ppcti-cti", "--group", "-g", help="Consumer group id."),
    bootstrap: str | None = _BOOTSTRAP,
    batch: int = _BATCH,
    max_messages: int | None = _MAX,
    idle_timeout: float | None = _IDLE,
) -> None:
    """Consume event batches from ppcti.events and publish one STIX bundle per event to ppcti.cti."""
    from ppcti.bus.processors import cti_step, stix_bundle_fn

    settings = bus_settings(bootstrap)
    _run_worker(
        cti_step(stix_bundle_fn()),
        settings,
        settings.topic("events"),
        group,
        batch,
        max_messages,
        idle_timeout,
    )


@worker_app.command("pii")
def worker_pii(
    shared_dir: Path = typer.Option(
        ..., "--shared-dir", exists=True, file_okay=False, help="Folder the uploads are announced in."
    ),
    group: str = typer.Option("ppcti-pii", "--group", "-g", help="Consumer group id."),
    bootstrap: str | None = _BOOTSTRAP,
    batch: int = typer.Option(1, "--batch", min=1, help="Announcements processed per commit."),
    max_messages: int | None = _MAX,
    idle_timeout: float | None = _IDLE,
) -> None:
    """Consume upload announcements from ppcti.uploads and publish PII reports to ppcti.pii."""
    from ppcti.bus.processors import pii_scan_fn, pii_step

    settings = bus_settings(bootstrap)
    _run_worker(
        pii_step(pii_scan_fn(), shared_dir),
        settings,
        settings.topic("uploads"),
        group,
        batch,
        max_messages,
        idle_timeout,
    )


@worker_app.command("fhe")
def worker_fhe(
    shards: Path = typer.Option(
        ..., "--shards", exists=True, file_okay=False, help="Folder from `ppcti fhe shard-blacklist`."
    ),
    public: Path = typer.Option(..., "--public", help="Public key the blacklist was encrypted for."),
    group: str = typer.Option("ppcti-fhe", "--group", "-g", help="Consumer group id."),
    bootstrap: str | None = _BOOTSTRAP,
    threads: int = typer.Option(
        1, "--threads", min=1, help="Processes per correlation (1: scale out with more workers instead)."
    ),
    max_message_bytes: int = typer.Option(
        8_000_000, "--max-message-bytes", min=100_000, help="Largest request or result message."
    ),
    max_correlation_s: float = typer.Option(
        1800.0,
        "--max-correlation-time",
        min=10.0,
        help="Seconds one shard's correlation may take before the group reassigns the shard.",
    ),
    max_messages: int | None = _MAX,
    idle_timeout: float | None = _IDLE,
) -> None:
    """Answer sharded FHE correlation requests from ppcti.fhe-requests (partition = shard) with partial
    results on ppcti.fhe-results; start several with one --group to share the shards."""
    import dataclasses

    from ppcti.bus.fhe import ensure_topic, fhe_step
    from ppcti.fhe.shards import ShardSet

    settings = dataclasses.replace(bus_settings(bootstrap), max_message_bytes=max_message_bytes)
    shard_set = ShardSet(shards, public)
    ensure_topic(settings, "fhe-requests", shard_set.count)
    ensure_topic(settings, "fhe-results", shard_set.count)
    step = fhe_step(shard_set, settings.max_message_bytes, threads=threads)

    def announced(envelope: Envelope) -> list[Output]:
        outputs = step(envelope)
        shard = envelope.payload.get("shard") if isinstance(envelope.payload, dict) else None
        typer.echo(f"answered request {envelope.run_id} shard {shard} in {len(outputs)} messages")
        sys.stdout.flush()
        return outputs

    _run_worker(
        announced,
        settings,
        settings.topic("fhe-requests"),
        group,
        1,  # one request per commit: a crash repeats at most one correlation
        max_messages,
        idle_timeout,
        max_poll_interval_ms=int(max_correlation_s * 1000),
    )


@bus_app.command("publish")
def bus_publish(
    run_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="A run folder (ppcti run --out)."),
    run_id: str = typer.Option(..., "--run-id", help="Identifier of the run."),
    holder: str = typer.Option(..., "--holder", help="Data holder the run belongs to."),
    events: bool = typer.Option(False, "--events", help="Also publish events.jsonl to ppcti.events."),
    bootstrap: str | None = _BOOTSTRAP,
) -> None:
    """Publish a finished run's summary, PII, knowledge graph, CTI and insights; wait for delivery."""
    from rich.console import Console

    from ppcti.bus.run import publish_run

    settings = bus_settings(bootstrap)
    with Console(stderr=True).status(f"publishing {run_dir.name} to {settings.bootstrap}"):
        report = publish_run(run_dir, settings, run_id=run_id, holder=holder, include_events=events)
    topics = ", ".join(f"{t} {n}" for t, n in sorted(report.by_topic.items()))
    typer.echo(f"delivered {report.delivered} messages ({topics})")


@bus_app.command("announce")
def bus_announce(
    path: str = typer.Argument(..., help="File or folder, relative to the workers' shared folder."),
    holder: str = typer.Option(..., "--holder", help="Data holder of the upload."),
    upload_id: str = typer.Option(..., "--upload-id", help="Identifier of the upload (also its run id)."),
    bootstrap: str | None = _BOOTSTRAP,
) -> None:
    """Announce an upload on ppcti.uploads for the PII workers."""
    from ppcti.bus.publisher import Publisher

    with Publisher(bus_settings(bootstrap)) as publisher:
        publisher.publish(
            "upload",
            {"path": path, "holder": holder, "upload_id": upload_id},
            run_id=upload_id,
            holder=holder,
        )
    typer.echo("announced")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the main app."""
    app.add_typer(worker_app, name="worker")
    app.add_typer(bus_app, name="bus")
