"""Sessions of the service: where each lives, its limits, and how it is shredded.

Each session has a folder ``STATE/sessions/<id>/`` (mode 0700) that no other session touches, a random
id and a separate bearer token (the id shows in logs, the token never does), and a :class:`SessionKey`
held only in memory. A session never resumes: after a crash the key is gone with the process, so the
next start finds the orphaned folder, says so, and shreds it (:meth:`SessionStore.recover`).

Shredding destroys the key first (crypto-shredding: the sealed files become noise and are simply
removed), then overwrites every other file with zeros and removes the folder. The overwrite is a
courtesy on copy-on-write or flash storage, where old blocks may survive; the key destruction is what
the design relies on.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import TeeError
from ppcti.tee.limits import Limits
from ppcti.tee.sealing import SessionKey

log = logging.getLogger("ppcti.tee")


@dataclass(slots=True)
class Session:
    id: str
    token: str
    folder: Path
    key: SessionKey
    holder: str
    upload_name: str
    upload_size: int
    options: dict[str, Any]
    created_at: float
    deadline: float
    state: str = "created"
    progress: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    upload_sha256: str | None = None
    results: dict[str, str] = field(default_factory=dict)
    result_size: int = 0
    processed_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self) -> dict[str, Any]:
        return {"session": self.id, "state": self.state, "progress": self.progress, "error": self.error}


def shred_file(path: Path) -> None:
    """Overwrite a file with zeros, flush it to the device, remove it.

    Sealed files are only removed: they are ciphertext under a key that is already destroyed.
    """
    if path.suffix == ".sealed":
        path.unlink(missing_ok=True)
        return
    try:
        size = path.stat().st_size
        with open(path, "r+b", buffering=0) as handle:
            block = bytes(min(size, 1024 * 1024))
            done = 0
            while done < size:
                done += handle.write(block[: size - done])
            os.fsync(handle.fileno())
    except OSError:
        pass
    path.unlink(missing_ok=True)


def shred_tree(folder: Path) -> None:
    if not folder.exists():
        return
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and not path.is_symlink():
            shred_file(path)
    shutil.rmtree(folder, ignore_errors=True)


class SessionStore:
    """The open sessions of one service process, under ``state_dir/sessions``."""

    def __init__(self, state_dir: Path, sealing_key: bytes, limits: Limits) -> None:
        self.root = state_dir / "sessions"
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._sealing_key = sealing_key
        self.limits = limits
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def recover(self) -> list[str]:
        """Shred every session folder left by an earlier process: none can be resumed, by design."""
        orphans = sorted(p.name for p in self.root.iterdir())
        for name in orphans:
            log.warning(
                "orphaned session %s found (the service stopped mid-session): refused, shredding it", name
            )
            target = self.root / name
            if target.is_dir() and not target.is_symlink():
                shred_tree(target)
            else:
                target.unlink(missing_ok=True)
        return orphans

    def create(self, holder: str, upload_name: str, upload_size: int, options: dict[str, Any]) -> Session:
        if upload_size > self.limits.max_upload_bytes:
            raise TeeError(
                f"upload of {upload_size} bytes is over the service's limit "
                f"of {self.limits.max_upload_bytes} bytes",
                http_status=413,
            )
        with self._lock:
            if len(self._sessions) >= self.limits.max_sessions:
                raise TeeError(
                    f"the service is busy ({self.limits.max_sessions} sessions open); try again later",
                    http_status=503,
                )
            session_id = secrets.token_hex(16)
            folder = self.root / session_id
            folder.mkdir(mode=0o700)
            now = time.time()
            session = Session(
                id=session_id,
                token=secrets.token_urlsafe(32),
                folder=folder,
                key=SessionKey(self._sealing_key, session_id),
                holder=holder,
                upload_name=upload_name,
                upload_size=upload_size,
                options=options,
                created_at=now,
                deadline=now + self.limits.session_timeout,
            )
            (folder / "session.json").write_bytes(
                orjson.dumps({"session": session_id, "created_at": int(now)})
            )
            self._sessions[session_id] = session
        log.info("session %s opened", session_id)
        return session

    def get(self, session_id: str, token: str) -> Session:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None or not hmac.compare_digest(session.token, token):
            raise TeeError("no such session (finished, expired or never opened)", http_status=404)
        if time.time() > session.deadline:
            self.shred(session, reason="timed out")
            raise TeeError("the session timed out and was shredded", http_status=410)
        return session

    def shred(self, session: Session, *, reason: str) -> float:
        """Destroy the session key, then the files; returns when the key was destroyed."""
        destroyed = session.key.destroy()
        shred_tree(session.folder)
        with self._lock:
            self._sessions.pop(session.id, None)
        log.info("session %s shredded (%s)", session.id, reason)
        return destroyed

    def expire(self, now: float | None = None) -> list[str]:
        """Shred sessions past their deadline that nothing is working on."""
        now = time.time() if now is None else now
        with self._lock:
            late = [s for s in self._sessions.values() if now > s.deadline]
        for session in late:
            self.shred(session, reason="timed out")
        return [s.id for s in late]

    def close_all(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            self.shred(session, reason="service stopping")

    def __len__(self) -> int:
        return len(self._sessions)
