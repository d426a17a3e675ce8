"""Passwords, opaque tokens and the sign-in rate limit.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommended setting). API
tokens and session ids are 256-bit random strings; only their SHA-256 is stored, which is enough for
secrets of that entropy and keeps look-ups a single indexed equality.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
#: Verified against when the account does not exist, so timing does not reveal which e-mails exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
#: Shortest password accepted.
MIN_PASSWORD_LENGTH = 12
#: Prefix of API tokens, so a leaked one is easy to recognise in a scanner.
TOKEN_PREFIX = "ppcti_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one Argon2 verification."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class RateLimiter:
    """At most ``attempts`` failures per key in a sliding window of ``window`` seconds (in memory, per
    process: behind several server processes each counts its own, see docs/web.md)."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> float:
        """Seconds to wait before another attempt for any of ``keys`` (0 when allowed)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                hits = self._hits.get(key)
                if not hits:
                    continue
                while hits and hits[0] <= now - self.window:
                    hits.popleft()
                if len(hits) >= self.attempts:
                    wait = max(wait, hits[0] + self.window - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._hits[key].append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
