"""Settings of ``ppcti serve``, declared once with their defaults; the CLI reads them from flags and the
environment, the library never does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ppcti.bus.settings import BusSettings

#: Largest accepted upload, in bytes; bigger request bodies are cut off while they stream (HTTP 413).
DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024**2
#: Sign-in attempts allowed per address and per account within ``SIGNIN_WINDOW_SECONDS``.
DEFAULT_SIGNIN_ATTEMPTS = 10
SIGNIN_WINDOW_SECONDS = 300.0
DEFAULT_SESSION_HOURS = 12.0
DEFAULT_WORKERS = 2
#: Seconds a runner's claim on a job holds unless renewed; it renews every third of that while it runs.
LEASE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Everything the app needs: where the database and the results folder are, and its limits.

    ``secure_cookies`` marks cookies ``Secure`` and sends HSTS: set it when the server is reached over
    TLS (directly or through a reverse proxy that terminates TLS).
    """

    db_url: str
    data_dir: Path
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    workers: int = DEFAULT_WORKERS
    worker_kind: str = "process"
    secure_cookies: bool = False
    session_hours: float = DEFAULT_SESSION_HOURS
    signin_attempts: int = DEFAULT_SIGNIN_ATTEMPTS
    #: Pipeline options applied to every job unless the upload sets them (e.g. ``{"nlp": "regex"}``).
    job_defaults: tuple[tuple[str, str], ...] = ()
    #: Hand jobs to ``ppcti worker jobs`` processes over Kafka instead of the in-process pool.
    kafka: BusSettings | None = None

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"
