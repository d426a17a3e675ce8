"""Each service's documented errors, through the engine against the fakes: kept apart, counted, survived."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from enrich_fakes import KEYS, FakeServices
from enrich_helpers import PUBLIC

from ppcti.enrich import SERVICES, Engine, EngineOptions, Indicator, Lane, ServiceSettings
from ppcti.enrich.limits import CircuitBreaker, TokenBucket

ALL = tuple(SERVICES)
FAST = EngineOptions(concurrency=2, retries=2, backoff_base=0.01, backoff_cap=0.02, breaker_threshold=50)


def lanes(
    fake: FakeServices,
    names: tuple[str, ...] = ALL,
    *,
    timeout: float = 10.0,
    rate: float = 1e6,
    burst: int = 1000,
    threshold: int = 50,
    key: str | None = None,
) -> dict[str, Lane]:
    return {
        n: Lane(
            service=SERVICES[n](ServiceSettings(key=key or KEYS[n], url=fake[n].url, timeout=timeout)),
            bucket=TokenBucket(rate, burst),
            breaker=CircuitBreaker(threshold, 30.0),
            ttl=3600,
        )
        for n in names
    }


def run(engine: Engine, values: list[str], names: tuple[str, ...] = ALL):
    jobs = {n: [Indicator(v, "ipv4") for v in values] for n in names}
    return asyncio.run(engine.run(jobs))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    ("mode", "status", "error", "requests"),
    [
        ("ok", "ok", None, 1),
        ("unknown", "not_found", None, 1),
        ("404", "not_found", None, 1),
        ("422", "error", "invalid", 1),
        ("malformed", "error", "malformed", 1),
        ("500", "error", "server", 3),  # first try + 2 retries
        ("reset", "error", "network", 3),
        ("quota", "error", "quota", 1),
    ],
)
def test_each_documented_answer(
    fake: FakeServices, name: str, mode: str, status: str, error: str | None, requests: int
) -> None:
    if mode == "unknown" and name in ("abuseipdb", "ipqs"):
        status = "ok"  # both score every address: an unknown one gets a zero score
    fake[name].modes[PUBLIC[0]] = mode
    engine = Engine(lanes(fake, (name,)), options=FAST)
    [result] = run(engine, [PUBLIC[0]], (name,))
    assert result.status == status
    assert result.error == error
    if (name, mode) == ("virustotal", "reset"):
        requests *= 2  # aiohttp itself retries once when a kept-alive connection is dropped
    assert len(fake[name].values) == requests
    stats = engine.stats[name]
    assert stats.failed == (status == "error")
    if error:
        assert stats.failures[error] == 1


@pytest.mark.parametrize("name", ALL)
def test_bad_key_stops_the_service_for_the_run(fake: FakeServices, name: str) -> None:
    engine = Engine(lanes(fake, (name,), key="wrong-key"), options=FAST)
    results = run(engine, PUBLIC, (name,))
    # one refusal per worker already under way, then the breaker is tripped
    assert len(fake[name].values) <= FAST.concurrency
    assert 1 <= [r.error for r in results].count("auth") <= FAST.concurrency
    assert all(r.status in ("error", "skipped") for r in results)
    assert engine.stats[name].breaker == "open"
    assert engine.stats[name].skipped >= len(PUBLIC) - FAST.concurrency


@pytest.mark.parametrize("name", ALL)
def test_429_retry_after_is_honoured(fake: FakeServices, name: str) -> None:
    fake[name].modes[PUBLIC[0]] = "429"
    fake[name].retry_after = "1"
    engine = Engine(lanes(fake, (name,)), options=dataclasses.replace(FAST, retries=1))
    [result] = run(engine, [PUBLIC[0]], (name,))
    times = [r.at for r in fake[name].requests]
    assert len(times) == 2
    assert times[1] - times[0] >= 0.95  # waited Retry-After before asking again
    assert result.error == "rate"


def test_429_then_success(fake: FakeServices) -> None:
    fake["abuseipdb"].retry_after = "0.3"
    calls = {"n": 0}
    original = fake["abuseipdb"].answer

    def flaky(mode: str, value: str):
        calls["n"] += 1
        return original("429" if calls["n"] == 1 else mode, value)

    fake["abuseipdb"].answer = flaky  # type: ignore[method-assign]
    try:
        engine = Engine(lanes(fake, ("abuseipdb",)), options=FAST)
        [result] = run(engine, [PUBLIC[0]], ("abuseipdb",))
    finally:
        del fake["abuseipdb"].answer
    assert result.status == "ok"
    assert len(fake["abuseipdb"].values) == 2


@pytest.mark.parametrize("name", ALL)
def test_slow_answers_time_out_and_are_retried(fake: FakeServices, name: str) -> None:
    fake[name].modes[PUBLIC[0]] = "slow"
    fake[name].slow = 1.0
    engine = Engine(lanes(fake, (name,), timeout=0.2), options=dataclasses.replace(FAST, retries=1))
    [result] = run(engine, [PUBLIC[0]], (name,))
    assert result.error == "timeout"
    assert len(fake[name].values) == 2


def test_failing_service_leaves_the_others_intact(fake: FakeServices) -> None:
    fake["virustotal"].default = "500"
    fake["hybrid"].default = "reset"
    engine = Engine(lanes(fake, threshold=3), options=dataclasses.replace(FAST, breaker_threshold=3))
    results = run(engine, PUBLIC)
    by_service: dict[str, list[str]] = {}
    for r in results:
        by_service.setdefault(r.service, []).append(r.status)
    assert by_service["abuseipdb"] == ["ok"] * len(PUBLIC)
    assert by_service["ipqs"] == ["ok"] * len(PUBLIC)
    for dead in ("virustotal", "hybrid"):
        assert "ok" not in by_service[dead]
        assert engine.stats[dead].breaker == "open"
        # the breaker opened after 3 consecutive failures: far fewer requests than lookups x tries
        assert len(fake[dead].values) < len(PUBLIC) * 3
        assert engine.stats[dead].skipped > 0


@pytest.mark.parametrize("name", ["virustotal", "abuseipdb"])
def test_rate_limit_holds_at_the_fake(fake: FakeServices, name: str) -> None:
    rate, burst = 20.0, 2
    values = [f"45.155.{i // 200}.{i % 200 + 1}" for i in range(30)]
    engine = Engine(
        lanes(fake, (name,), rate=rate, burst=burst), options=dataclasses.replace(FAST, concurrency=8)
    )
    run(engine, values, (name,))
    times = sorted(r.at for r in fake[name].requests)
    assert len(times) == 30
    # in any window of one second the fake never counts more than rate + burst requests
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t - start < 1.0)
        assert in_window <= rate + burst
    assert times[-1] - times[0] >= (30 - burst) / rate * 0.9


def test_max_calls_holds_while_workers_wait_for_tokens(fake: FakeServices) -> None:
    options = dataclasses.replace(FAST, concurrency=4, max_calls=2)
    engine = Engine(lanes(fake, ("abuseipdb",), rate=20.0, burst=1), options=options)
    results = run(engine, PUBLIC, ("abuseipdb",))
    assert len(fake["abuseipdb"].values) == 2
    assert [r.status for r in results].count("ok") == 2
    assert engine.stats["abuseipdb"].failures["max-calls"] == len(PUBLIC) - 2


def test_workers_queued_on_the_bucket_stop_when_the_key_is_refused(fake: FakeServices) -> None:
    options = dataclasses.replace(FAST, concurrency=4)
    engine = Engine(lanes(fake, ("virustotal",), rate=2.0, burst=1, key="wrong-key"), options=options)
    results = run(engine, PUBLIC, ("virustotal",))
    assert len(fake["virustotal"].values) == 1  # the others were waiting for a token, then skipped
    assert engine.stats["virustotal"].skipped == len(PUBLIC) - 1
    assert [r.error for r in results].count("auth") == 1
    assert len(engine.stats["virustotal"].sent) == 1  # summary.json lists only what really left
