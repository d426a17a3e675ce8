"""Limits of the service, declared once with their help text (the CLI builds its flags from them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Service limits; the CLI builds its flags from :data:`LIMIT_HELP`."""

    max_upload_bytes: int = 2 * 1024**3
    max_sessions: int = 4
    session_timeout: int = 3600
    max_public_key_bytes: int = 256 * 1024**2


LIMIT_HELP = {
    "max_upload_bytes": "Largest upload accepted, in bytes (refused with HTTP 413).",
    "max_sessions": "Sessions open at once (more are refused with HTTP 503).",
    "session_timeout": "Seconds a session may live before it is shredded unfinished (HTTP 410 after).",
    "max_public_key_bytes": "Largest FHE public key accepted, in bytes.",
}
