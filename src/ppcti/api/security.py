"""Passwords, opaque tokens and the sign-in rate limit (shared by all server processes of a database).

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommended setting). API
tokens and session ids are 256-bit random strings; only their SHA-256 is stored, which is enough for
secrets of that entropy and keeps look-ups a single indexed equality.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from ppcti.store import Database, SigninFailure

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
    """At most ``attempts`` failures per key in a sliding window of ``window`` seconds, counted in the
    database (table ``signin_failures``), so every server process of one database enforces the same
    limit: a client spreading its attempts over several processes behind a proxy gains nothing.

    Keys are stored as their SHA-256 (they hold a client address or an e-mail). Each call is its own
    short transaction, committed at once, independent of the request's session. Two processes checking
    at the same instant may both let one more attempt through before either records its failure; the
    limit is exact to within the number of concurrent requests.
    """

    def __init__(self, db: Database, attempts: int, window: float) -> None:
        self.db = db
        self.attempts = attempts
        self.window = window

    def blocked(self, *keys: str) -> float:
        """Seconds to wait before another attempt for any of ``keys`` (0 when allowed)."""
        now = datetime.now(UTC)
        since = now - timedelta(seconds=self.window)
        with self.db.session() as s:
            rows = s.execute(
                select(SigninFailure.key, func.count(), func.min(SigninFailure.at))
                .where(SigninFailure.key.in_([digest(k) for k in keys]), SigninFailure.at > since)
                .group_by(SigninFailure.key)
            ).all()
        wait = 0.0
        for _key, count, oldest in rows:
            if count >= self.attempts:
                oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
                wait = max(wait, (oldest - since).total_seconds())
        return wait

    def failed(self, *keys: str) -> None:
        now = datetime.now(UTC)
        with self.db.session() as s:
            s.add_all(SigninFailure(key=digest(k), at=now) for k in keys)
            # failures older than the window count for nothing any more
            s.execute(delete(SigninFailure).where(SigninFailure.at <= now - timedelta(seconds=self.window)))

    def reset(self, key: str) -> None:
        with self.db.session() as s:
            s.execute(delete(SigninFailure).where(SigninFailure.key == digest(key)))
