"""``ppcti serve`` (the web application and API), ``ppcti worker jobs`` (its jobs over Kafka) and
``ppcti user add`` (accounts, e.g. the first admin).

Settings come from flags or the environment (``PPCTI_DB``, ``PPCTI_DATA``, ``PPCTI_PASSWORD``); passwords
are never flags.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ppcti.api.settings import DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_WORKERS, LEASE_SECONDS
from ppcti.bus.cli import bus_settings, worker_app

DEFAULT_DATA = Path("ppcti-data")

user_app = typer.Typer(help="Manage web accounts.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
    worker_app.command("jobs")(worker_jobs)


def _default_db(data: Path) -> str:
    return f"sqlite:///{(data / 'ppcti.db').resolve()}"


def _extra_missing() -> None:
    try:
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError:
        from ppcti.errors import MissingExtra

        raise MissingExtra("web", "ppcti serve") from None


def serve(
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="PPCTI_DB",
        help="Database URL (default: SQLite in the data folder); postgresql+psycopg://...",
    ),
    listen: str = typer.Option("127.0.0.1:8000", "--listen", help="Address and port to listen on."),
    data: Path = typer.Option(
        DEFAULT_DATA, "--data", envvar="PPCTI_DATA", help="Folder of uploads and run results."
    ),
    workers: int = typer.Option(
        DEFAULT_WORKERS, "--workers", min=1, help="Jobs run at once (worker processes)."
    ),
    worker_kind: str = typer.Option("process", "--worker-kind", help="process or thread."),
    max_upload: int = typer.Option(
        DEFAULT_MAX_UPLOAD_BYTES, "--max-upload-bytes", min=1, help="Largest upload."
    ),
    secure: bool = typer.Option(False, "--secure-cookies", help="Reached over TLS: Secure cookies and HSTS."),
    nlp: str = typer.Option(
        "auto", "--nlp", help="Default PII free-text engine of jobs: auto, spacy, regex."
    ),
    openapi: Path | None = typer.Option(
        None, "--write-openapi", help="Write the OpenAPI document to this file and exit (docs/openapi.json)."
    ),
    proxy_headers: bool = typer.Option(
        False, "--proxy-headers", help="Trust X-Forwarded-* from 127.0.0.1 (behind a reverse proxy)."
    ),
    kafka: str | None = typer.Option(
        None,
        "--kafka",
        help="Kafka bootstrap servers: hand jobs to `ppcti worker jobs` processes instead of running them "
        "here (other PPCTI_KAFKA_* settings from the environment).",
    ),
) -> None:
    """Serve the web application and the API (FastAPI on uvicorn)."""
    _extra_missing()
    import uvicorn

    from ppcti.api.settings import ServerSettings
    from ppcti.errors import ConfigError
    from ppcti.web.app import create_app

    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError("--listen must be HOST:PORT, e.g. 127.0.0.1:8000")
    settings = ServerSettings(
        db_url=db or _default_db(data),
        data_dir=data.resolve(),
        workers=workers,
        worker_kind=worker_kind,
        max_upload_bytes=max_upload,
        secure_cookies=secure,
        job_defaults=(("nlp", nlp),),
        kafka=bus_settings(kafka) if kafka else None,
    )
    app = create_app(settings)
    if openapi is not None:
        from ppcti.api.app import write_openapi

        write_openapi(app, openapi)
        return
    uvicorn.run(
        app,
        host=host.strip("[]"),
        port=int(port),
        proxy_headers=proxy_headers,
        forwarded_allow_ips="127.0.0.1",
        timeout_keep_alive=30,
        log_level="info",
        server_header=False,
    )


def worker_jobs(
    db: str | None = typer.Option(
        None, "--db", envvar="PPCTI_DB", help="The server's database URL (default: SQLite in --data)."
    ),
    data: Path = typer.Option(
        DEFAULT_DATA, "--data", envvar="PPCTI_DATA", help="The server's folder of uploads and results."
    ),
    bootstrap: str | None = typer.Option(
        None, "--bootstrap", "-b", help="Kafka bootstrap address (default: $PPCTI_KAFKA_BOOTSTRAP)."
    ),
    group: str = typer.Option("ppcti-jobs", "--group", "-g", help="Consumer group id."),
    nlp: str = typer.Option(
        "auto", "--nlp", help="PII free-text engine when the server's job does not say (ppcti serve --nlp)."
    ),
    lease: float = typer.Option(
        LEASE_SECONDS,
        "--lease-seconds",
        min=1.0,
        help="How long a claim on a job holds without renewal; another runner takes over a job whose "
        "runner stopped renewing for this long.",
    ),
    max_messages: int | None = typer.Option(None, "--max-messages", min=1, help="Stop after this many jobs."),
    idle_timeout: float | None = typer.Option(
        None, "--idle-timeout", min=0.1, help="Stop after this many seconds without a job."
    ),
) -> None:
    """Run the web server's jobs handed over Kafka (`ppcti serve --kafka`); start one per core."""
    _extra_missing()
    from rich.console import Console

    from ppcti.api.jobbus import RunnerMustStop, job_runner
    from ppcti.errors import BusError

    settings = bus_settings(bootstrap)
    runner = job_runner(
        settings,
        db_url=db or _default_db(data),
        data_dir=data.resolve(),
        defaults={"nlp": nlp},
        group=group,
        lease=lease,
        max_messages=max_messages,
        idle_timeout_s=idle_timeout,
    )
    runner.install_signal_handlers()
    console = Console(stderr=True)
    topic = settings.topic("jobs")
    console.print(f"job runner in group {group} consuming {topic}", highlight=False, markup=False)
    try:
        stats = runner.run()
    except RunnerMustStop as stop:
        raise BusError(f"job runner stopped: {stop}; its job is left to the group") from None
    console.print(f"jobs taken {stats.consumed}, refused {stats.rejected}", highlight=False)


@user_app.command("add")
def add_user(
    email: str = typer.Argument(..., help="E-mail the user signs in with."),
    role: str = typer.Option("holder_user", "--role", help="holder_user, holder_admin or platform_admin."),
    holder: str | None = typer.Option(None, "--holder", help="The user's data holder (created if new)."),
    db: str | None = typer.Option(None, "--db", envvar="PPCTI_DB", help="Database URL."),
    data: Path = typer.Option(
        DEFAULT_DATA, "--data", envvar="PPCTI_DATA", help="Folder of the default database."
    ),
) -> None:
    """Add a web account; the password comes from PPCTI_PASSWORD or is asked for."""
    _extra_missing()
    from ppcti.api.accounts import create_user, ensure_holder
    from ppcti.errors import ConfigError
    from ppcti.store import Database, Role

    try:
        chosen = Role(role)
    except ValueError:
        raise ConfigError("--role must be holder_user, holder_admin or platform_admin") from None
    password = os.environ.get("PPCTI_PASSWORD") or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True
    )
    database = Database(db or _default_db(data))
    database.migrate()
    with database.session() as s:
        owner = ensure_holder(s, holder) if holder else None
        create_user(s, email, password, chosen, owner)
    database.dispose()
    typer.echo(f"added {email} ({chosen.value}{', ' + holder if holder else ''})")
