"""On-disk cache of service answers with a time-to-live per service, so a re-run spends no quota.

SQLite from the standard library: one file, safe against a crash mid-write, readable by a later run
and by several processes. Keys are the SHA-256 of service and value, so the key column alone does not
list the addresses that were looked up; the stored answer does carry the value (it is the answer), so
the file is created readable by its owner only. Only answers are cached (found or not found), never
failures: a timeout today says nothing about tomorrow.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

import orjson

from ppcti.enrich.model import Result

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    expires REAL NOT NULL,
    payload BLOB NOT NULL
)
"""


def _key(service: str, value: str) -> str:
    return hashlib.sha256(f"{service}\x00{value}".encode()).hexdigest()


class Cache:
    """``get``/``put`` of :class:`Result` per (service, value); ``ttl`` in seconds per put."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self.hits = 0
        self.misses = 0

    def get(self, service: str, value: str, *, now: float | None = None) -> Result | None:
        row = self._db.execute(
            "SELECT expires, payload FROM answers WHERE key = ?", (_key(service, value),)
        ).fetchone()
        if row is None or row[0] <= (time.time() if now is None else now):
            self.misses += 1
            return None
        self.hits += 1
        return Result.from_dict(orjson.loads(row[1])).cached()

    def put(self, result: Result, ttl: float, *, now: float | None = None) -> None:
        if not result.usable or ttl <= 0:
            return
        expires = (time.time() if now is None else now) + ttl
        self._db.execute(
            "INSERT OR REPLACE INTO answers (key, service, expires, payload) VALUES (?, ?, ?, ?)",
            (_key(result.service, result.value), result.service, expires, orjson.dumps(result.to_dict())),
        )

    def purge_expired(self, *, now: float | None = None) -> int:
        cursor = self._db.execute(
            "DELETE FROM answers WHERE expires <= ?", (time.time() if now is None else now,)
        )
        return cursor.rowcount

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
