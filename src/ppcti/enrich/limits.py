"""Staying within what a service allows: a token bucket per key, back-off with jitter, a circuit breaker.

All three take a clock (and the bucket a sleep) so tests can drive them without waiting; the engine
passes :func:`time.monotonic` and :func:`asyncio.sleep`.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ppcti.errors import ConfigError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_PERIODS = {
    "s": 1.0,
    "sec": 1.0,
    "min": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "day": 86400.0,
    "month": 2592000.0,
}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*([a-z]+)\s*$")


@dataclass(frozen=True, slots=True)
class Rate:
    """``count`` requests per ``period`` seconds, e.g. ``Rate.parse("4/min")``."""

    count: float
    period: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = _RATE.match(str(text).lower())
        if not match or match.group(2) not in _PERIODS or float(match.group(1)) <= 0:
            raise ConfigError(f"a rate is N/s, N/min, N/hour, N/day or N/month, not {text!r}")
        return cls(float(match.group(1)), _PERIODS[match.group(2)])

    @property
    def per_second(self) -> float:
        return self.count / self.period

    def __str__(self) -> str:
        unit = next(name for name, secs in _PERIODS.items() if secs == self.period)
        count = int(self.count) if self.count == int(self.count) else self.count
        return f"{count}/{unit}"


class TokenBucket:
    """Classic token bucket: ``burst`` tokens at most, refilled at ``rate`` per second.

    A 429 with Retry-After pauses the whole bucket (every worker of that key), not just the one request,
    because the service counts the key, not the connection.
    """

    def __init__(
        self, rate: float, burst: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ConfigError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self) -> None:
        """Wait until a token is free and take it; callers queue in arrival order on the lock."""
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                self._refill(now)
                if self._tokens >= 1 - 1e-9:  # float slack: a wait of exactly 1/rate must suffice
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                await self._sleep((1 - self._tokens) / self.rate)

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (a Retry-After); the tokens left are kept for afterwards."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential back-off with full jitter: uniform in [0, min(cap, base * 2**attempt)].

    Full jitter spreads the retries of many workers that failed together, so they do not hit a
    recovering service in lock-step.
    """
    ceiling = min(cap, base * (2**attempt))
    return (rng or random).uniform(0, ceiling)


class CircuitBreaker:
    """Closed → open after ``threshold`` consecutive failures → half-open after ``cooldown`` seconds.

    While open, calls are refused at once, so one dead service costs the run ``threshold`` timeouts
    instead of one per indicator. In half-open one trial call goes through: success closes the
    breaker, failure opens it again. ``trip()`` opens it for good (a bad key or an exhausted quota will
    not heal within a run).
    """

    def __init__(self, threshold: int = 5, cooldown: float = 30.0, *, clock: Clock = time.monotonic) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False
        self.tripped_by: str | None = None

    @property
    def state(self) -> str:
        if self.tripped_by is not None:
            return "open"
        if self._opened_at is None:
            return "closed"
        return "half-open" if self._clock() - self._opened_at >= self.cooldown else "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self._trial:
            self._trial = True
            return True
        return False

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial = False

    def failure(self) -> None:
        self._failures += 1
        self._trial = False
        if self._failures >= self.threshold or self._opened_at is not None:
            self._opened_at = self._clock()

    def trip(self, reason: str) -> None:
        self.tripped_by = reason
