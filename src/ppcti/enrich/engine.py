"""The asynchronous lookup engine: every service at once, each within its own limits.

Each service gets its own workers, token bucket and circuit breaker, so a slow or dead service only
ever delays itself: the others' results are complete and kept. Per lookup: the cache first (a hit
makes no request), then the breaker (open: skipped at once), the per-service call budget
(``max_calls``), a token, the request. Failures of a retryable kind are retried with exponential
back-off and full jitter; a 429 pauses the whole bucket for its Retry-After (or a back-off when it
gives none), and a Retry-After longer than ``max_retry_after`` is taken for an exhausted quota. A bad
key or an exhausted quota trips the breaker for the rest of the run.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ppcti.enrich.cache import Cache
from ppcti.enrich.limits import CircuitBreaker, TokenBucket, backoff_delay
from ppcti.enrich.model import Indicator, Result
from ppcti.enrich.services.base import FATAL, RETRYABLE, Service
from ppcti.errors import EnrichError

Progress = Callable[[int, int], None]
"""``progress(done, total)`` over all (indicator, service) lookups."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How hard to try; every field is a setting of ``ppcti enrich`` (see :mod:`ppcti.enrich.options`)."""

    concurrency: int = 4
    retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 120.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    max_calls: int | None = None


@dataclass(slots=True)
class Lane:
    """One service as the engine drives it: the client, its bucket and breaker, and its cache TTL."""

    service: Service
    bucket: TokenBucket
    breaker: CircuitBreaker
    ttl: float


@dataclass(slots=True)
class ServiceStats:
    """What happened with one service; ``sent`` is every distinct value that left the machine."""

    lookups: int = 0
    requests: int = 0
    cache_hits: int = 0
    ok: int = 0
    not_found: int = 0
    failed: int = 0
    skipped: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    sent: dict[str, None] = field(default_factory=dict)
    breaker: str = "closed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "lookups": self.lookups,
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "ok": self.ok,
            "not_found": self.not_found,
            "failed": self.failed,
            "skipped": self.skipped,
            "failures": dict(sorted(self.failures.items())),
            "values_sent": len(self.sent),
            "breaker": self.breaker,
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Engine:
    """Runs lookups of indicators on services; results in input order per service."""

    def __init__(
        self,
        lanes: Mapping[str, Lane],
        *,
        cache: Cache | None = None,
        options: EngineOptions = EngineOptions(),
        rng: random.Random | None = None,
    ) -> None:
        self.lanes = dict(lanes)
        self.cache = cache
        self.options = options
        self.rng = rng or random.Random()
        self.stats: dict[str, ServiceStats] = {name: ServiceStats() for name in self.lanes}
        self._done = 0
        self._total = 0

    async def run(
        self, jobs: Mapping[str, Sequence[Indicator]], progress: Progress | None = None
    ) -> list[Result]:
        """Look every indicator of ``jobs[service]`` up on that service; never raises for a service."""
        self._total = sum(len(v) for name, v in jobs.items() if name in self.lanes)
        results: dict[str, list[Result | None]] = {}
        try:
            for lane in self.lanes.values():
                await lane.service.open()
            await asyncio.gather(
                *(self._service(name, list(jobs.get(name, ())), results, progress) for name in self.lanes)
            )
        finally:
            for lane in self.lanes.values():
                await lane.service.close()
        for name, lane in self.lanes.items():
            self.stats[name].breaker = lane.breaker.state
        return [r for name in self.lanes for r in results.get(name, []) if r is not None]

    async def _service(
        self,
        name: str,
        indicators: list[Indicator],
        results: dict[str, list[Result | None]],
        progress: Progress | None,
    ) -> None:
        slots: list[Result | None] = [None] * len(indicators)
        results[name] = slots
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(len(indicators)):
            queue.put_nowait(i)

        async def worker() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                slots[i] = await self.lookup(name, indicators[i])
                self._done += 1
                if progress is not None:
                    progress(self._done, self._total)

        workers = max(1, min(self.options.concurrency, len(indicators)))
        await asyncio.gather(*(worker() for _ in range(workers)))

    async def lookup(self, name: str, indicator: Indicator) -> Result:
        """One indicator on one service, through cache, breaker, budget, bucket and retries."""
        lane = self.lanes[name]
        stats = self.stats[name]
        stats.lookups += 1
        if self.cache is not None:
            cached = self.cache.get(name, indicator.value)
            if cached is not None:
                stats.cache_hits += 1
                self._count(stats, cached)
                return cached
        attempt = 0
        opts = self.options
        while True:
            if not lane.breaker.allow():
                return self._skip(stats, indicator, name, f"breaker-{lane.breaker.tripped_by or 'open'}")
            if (
                opts.max_calls is not None
                and len(stats.sent) >= opts.max_calls
                and (indicator.value not in stats.sent)
            ):
                return self._skip(stats, indicator, name, "max-calls")
            # counted before waiting for a token, so workers queued on the bucket cannot overrun max_calls
            newly = indicator.value not in stats.sent
            stats.sent.setdefault(indicator.value, None)
            await lane.bucket.acquire()
            if lane.breaker.tripped_by is not None:  # a bad key or quota was found while this one waited
                if newly:
                    del stats.sent[indicator.value]
                return self._skip(stats, indicator, name, f"breaker-{lane.breaker.tripped_by}")
            stats.requests += 1
            try:
                finding = await lane.service.lookup(indicator)
            except EnrichError as exc:
                kind = exc.kind
                if kind == "rate" and exc.retry_after is not None and exc.retry_after > opts.max_retry_after:
                    kind = "quota"
                if kind in FATAL:
                    lane.breaker.trip(kind)
                    return self._fail(stats, indicator, name, kind)
                if kind == "rate":
                    wait = exc.retry_after
                    if wait is None:
                        wait = backoff_delay(
                            attempt, base=opts.backoff_base, cap=opts.backoff_cap, rng=self.rng
                        )
                    lane.bucket.pause(wait)
                elif kind in RETRYABLE or kind == "malformed":
                    lane.breaker.failure()
                if kind not in RETRYABLE or attempt >= opts.retries:
                    return self._fail(stats, indicator, name, kind)
                if kind != "rate":
                    await asyncio.sleep(
                        backoff_delay(attempt, base=opts.backoff_base, cap=opts.backoff_cap, rng=self.rng)
                    )
                attempt += 1
                continue
            lane.breaker.success()
            result = Result.from_finding(indicator, name, finding, _now())
            if self.cache is not None:
                self.cache.put(result, lane.ttl)
            self._count(stats, result)
            return result

    @staticmethod
    def _count(stats: ServiceStats, result: Result) -> None:
        if result.status == "ok":
            stats.ok += 1
        elif result.status == "not_found":
            stats.not_found += 1

    @staticmethod
    def _fail(stats: ServiceStats, indicator: Indicator, name: str, kind: str) -> Result:
        stats.failed += 1
        stats.failures[kind] += 1
        return Result(indicator.value, indicator.kind, name, "error", fetched_at=_now(), error=kind)

    @staticmethod
    def _skip(stats: ServiceStats, indicator: Indicator, name: str, reason: str) -> Result:
        stats.skipped += 1
        stats.failures[reason] += 1
        return Result(indicator.value, indicator.kind, name, "skipped", error=reason)
