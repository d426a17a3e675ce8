"""The pieces on their own: warninglist index, bogons, token bucket, breaker, cache, settings, scoring."""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import sqlite3
from pathlib import Path

import pytest
from enrich_helpers import LISTED, PUBLIC
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.analysis.netclass import bogon_range
from ppcti.enrich import Cache, EnrichSettings, Indicator, Result
from ppcti.enrich import warninglists as wl_module
from ppcti.enrich.limits import CircuitBreaker, Rate, TokenBucket, backoff_delay
from ppcti.enrich.scoring import confidence, overall
from ppcti.enrich.select import select
from ppcti.enrich.services import ServiceSettings
from ppcti.enrich.warninglists import WarninglistIndex, load_index
from ppcti.errors import ConfigError

CIDR_LISTS = [
    {"name": "a", "type": "cidr", "matching_attributes": ["ip-src"], "list": ["10.0.0.0/8", "45.1.2.0/24"]},
    {"name": "b", "type": "cidr", "list": ["45.1.2.128/25", "45.1.3.0/24", "99.0.0.1", "2001:db8::/32"]},
    {"name": "c", "type": "string", "matching_attributes": ["ip-dst"], "list": ["77.7.7.7", "not-an-ip"]},
    {"name": "d", "type": "substring", "matching_attributes": ["email-src"], "list": ["spam-domain.test"]},
    {"name": "e", "type": "regex", "matching_attributes": ["email-dst"], "list": ["/^(abuse|noc)@/i"]},
    {"name": "f", "type": "string", "matching_attributes": ["email-src"], "list": ["exact@sender.test"]},
]


def naive(lists: list[dict], address: str) -> bool:
    ip = ipaddress.ip_address(address)
    for wl in lists:
        for entry in wl["list"]:
            try:
                net = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            if ip.version == net.version and ip in net:
                return True
    return False


def test_index_merges_overlapping_networks() -> None:
    index = WarninglistIndex.build(CIDR_LISTS)
    # 45.1.2.0/24, 45.1.2.128/25 and 45.1.3.0/24 are one block; 10/8, 99.0.0.1, 77.7.7.7 three more
    assert index.intervals == 4
    assert "45.1.3.255" in index and "45.1.4.0" not in index and "45.1.1.255" not in index
    assert "77.7.7.7" in index and "99.0.0.1" in index and "99.0.0.2" not in index
    assert index.lists_for("45.1.2.200") == ["a", "b"]
    assert index.contains_ipv4(["10.0.0.1", "1.2", "garbage", "8.8.8.8"]) == [True, False, False, False]


@pytest.mark.parametrize(
    ("email", "listed"),
    [
        ("x@spam-domain.test", True),
        ("x@mail.spam-domain.test", True),
        ("x@notspam-domain.test", False),
        ("ABUSE@corp.test", True),
        ("exact@sender.test", True),
        ("other@sender.test", False),
    ],
)
def test_email_rules(email: str, listed: bool) -> None:
    assert WarninglistIndex.build(CIDR_LISTS).email_listed(email) is listed


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(st.integers(0, 2**32 - 1), st.integers(8, 32)).map(
            lambda t: str(ipaddress.IPv4Network((t[0] >> (32 - t[1]) << (32 - t[1]), t[1])))
        ),
        max_size=12,
    ),
    st.lists(st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))), min_size=1, max_size=30),
)
def test_index_agrees_with_a_naive_walk(networks: list[str], addresses: list[str]) -> None:
    lists = [
        {"name": "x", "type": "cidr", "list": networks[: len(networks) // 2]},
        {"name": "y", "type": "cidr", "list": networks[len(networks) // 2 :]},
    ]
    index = WarninglistIndex.build(lists)
    assert index.contains_ipv4(addresses) == [naive(lists, a) for a in addresses]
    # addresses at the edges of every network too
    edges = [str(a) for n in networks for a in (ipaddress.IPv4Network(n)[0], ipaddress.IPv4Network(n)[-1])]
    assert all(index.contains_ipv4(edges))


def test_real_lists_hold_known_resolvers(warninglists: WarninglistIndex) -> None:
    assert all(warninglists.contains_ipv4(LISTED))
    assert not any(warninglists.contains_ipv4(PUBLIC))
    assert warninglists.intervals > 1000


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("192.0.2.1", "documentation"),
        ("198.51.100.255", "documentation"),
        ("203.0.113.0", "documentation"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("192.88.99.1", "6to4-relay"),
        ("10.0.0.1", "rfc1918"),
        ("255.255.255.255", "reserved"),
        ("0.0.0.0", "this-network"),
        ("8.8.8.8", None),
        ("203.0.114.1", None),
        ("not an address", "invalid"),
        ("2001:db8::1", "reserved"),
        ("::ffff:192.0.2.1", "documentation"),
        ("2a00:1450:4001::1", None),
    ],
)
def test_bogon_range(address: str, label: str | None) -> None:
    assert bogon_range(address) == label


@settings(max_examples=300)
@given(st.integers(0, 2**32 - 1))
def test_bogon_range_never_calls_a_non_global_address_public(n: int) -> None:
    ip = ipaddress.IPv4Address(n)
    if bogon_range(str(ip)) is None:
        assert ip.is_global and not ip.is_multicast


def test_selection_reasons() -> None:
    index = WarninglistIndex.build(CIDR_LISTS)
    indicators = [
        Indicator("45.1.2.3", "ipv4"),
        Indicator("10.1.1.1", "ipv4"),
        Indicator("203.0.113.9", "ipv4"),
        Indicator("240.1.1.1", "ipv4"),
        Indicator("5.5.5.5", "ipv4"),
        Indicator("6.6.6.6", "ipv4"),
        Indicator("1.2.3", "ipv4"),
        Indicator("x@spam-domain.test", "email"),
        Indicator("boss@ourcorp.test", "email"),
        Indicator("bad@attacker.test", "email"),
        Indicator("no-at-sign", "email"),
    ]
    chosen = select(indicators, index, own_values={"6.6.6.6"}, own_domains={"ourcorp.test"})
    assert [i.value for i in chosen.sendable] == ["bad@attacker.test", "5.5.5.5"]
    assert dict(chosen.excluded) == {
        "warninglist": 2,
        "private": 1,
        "documentation": 1,
        "reserved": 1,
        "infrastructure": 2,
        "invalid": 2,
    }


def test_rate_parsing() -> None:
    assert Rate.parse("4/min").per_second == pytest.approx(4 / 60)
    assert str(Rate.parse("1000/day")) == "1000/day"
    for bad in ("4", "4/fortnight", "-1/s", "0/s", "x/min"):
        with pytest.raises(ConfigError):
            Rate.parse(bad)


class FakeTime:
    """A clock that only moves when the bucket sleeps: the bucket's arithmetic, without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_token_bucket_spaces_requests() -> None:
    t = FakeTime()

    async def go() -> list[float]:
        bucket = TokenBucket(rate=50.0, burst=3, clock=t.clock, sleep=t.sleep)
        stamps = []
        for _ in range(13):
            await bucket.acquire()
            stamps.append(t.now)
        return stamps

    stamps = asyncio.run(go())
    assert stamps[:3] == [0.0, 0.0, 0.0]  # the burst goes at once
    assert stamps[-1] == pytest.approx(10 / 50)  # then 50 per second
    gaps = [b - a for a, b in itertools.pairwise(stamps[3:])]
    assert all(g == pytest.approx(1 / 50) for g in gaps)


def test_token_bucket_pause() -> None:
    t = FakeTime()

    async def go() -> float:
        bucket = TokenBucket(rate=1000.0, burst=10, clock=t.clock, sleep=t.sleep)
        await bucket.acquire()
        bucket.pause(0.3)
        await bucket.acquire()
        return t.now

    assert asyncio.run(go()) == pytest.approx(0.3)


def test_backoff_has_full_jitter_and_a_cap() -> None:
    import random

    rng = random.Random(1)
    delays = [backoff_delay(a, base=0.5, cap=4.0, rng=rng) for a in range(10) for _ in range(50)]
    assert max(delays) <= 4.0
    assert min(delays) >= 0
    assert len({round(d, 6) for d in delays}) > 400


def test_circuit_breaker_states() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=lambda: now[0])
    for _ in range(2):
        breaker.failure()
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 10.5
    assert breaker.state == "half-open"
    assert breaker.allow()  # one trial
    assert not breaker.allow()  # not two
    breaker.failure()
    assert breaker.state == "open"
    now[0] = 21
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed"
    breaker.trip("auth")
    now[0] = 1e9
    assert not breaker.allow()


def test_cache_ttl_and_no_failures(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    ok = Result(
        "5.5.5.5",
        "ipv4",
        "virustotal",
        "ok",
        "malicious",
        80,
        ("scanner",),
        fetched_at="2024-01-01T00:00:00Z",
    )
    failed = Result("6.6.6.6", "ipv4", "virustotal", "error", error="timeout")
    with Cache(path) as cache:
        cache.put(ok, ttl=100, now=1000)
        cache.put(failed, ttl=100, now=1000)
        hit = cache.get("virustotal", "5.5.5.5", now=1050)
        assert hit is not None and hit.from_cache and hit.score == 80 and hit.categories == ("scanner",)
        assert cache.get("virustotal", "6.6.6.6", now=1050) is None
        assert cache.get("abuseipdb", "5.5.5.5", now=1050) is None
        assert cache.get("virustotal", "5.5.5.5", now=1101) is None
    assert path.stat().st_mode & 0o077 == 0  # owner only
    keys = [row[0] for row in sqlite3.connect(path).execute("SELECT key FROM answers")]
    assert len(keys) == 1 and "5.5.5.5" not in keys[0]  # keys are hashes
    with Cache(path) as again:  # survives a reopen
        assert again.get("virustotal", "5.5.5.5", now=1050) is not None


def test_settings_hide_keys_and_check_urls() -> None:
    env = {
        "PPCTI_VT_KEY": "sekrit-vt",
        "PPCTI_ABUSEIPDB_URL": "http://127.0.0.1:8080",
        "PPCTI_ABUSEIPDB_KEY": "k2",
    }
    s = EnrichSettings.from_sources(env, {"virustotal": {"rate": "10/min"}, "timeout": 3})
    assert s.configured == ["virustotal", "abuseipdb"]
    assert s.services["virustotal"].rate.per_second == pytest.approx(10 / 60)
    assert s.services["virustotal"].url == "https://www.virustotal.com"
    assert "sekrit" not in repr(s) and "sekrit" not in repr(s.services["virustotal"].client_settings(3))
    for url in ("http://10.0.0.1", "ftp://x", "http://example.org", "no-scheme"):
        with pytest.raises(ConfigError):
            ServiceSettings(key="k", url=url)
    ServiceSettings(key="k", url="http://localhost:9")
    ServiceSettings(key="k", url="http://[::1]:9")
    with pytest.raises(ConfigError):
        EnrichSettings.from_sources({}, {"shodan": {"key": "x"}})
    # the environment wins over the file
    s2 = EnrichSettings.from_sources({"PPCTI_VT_KEY": "from-env"}, {"virustotal": {"key": "from-file"}})
    assert s2.services["virustotal"].key == "from-env"


def test_overall_confidence_rule() -> None:
    weights = {"virustotal": 1.0, "ipqs": 0.8}
    vt = Result("5.5.5.5", "ipv4", "virustotal", "ok", "malicious", 60)
    ipqs = Result("5.5.5.5", "ipv4", "ipqs", "ok", "suspicious", 50)
    assert confidence([vt], weights) == 60
    assert confidence([vt, ipqs], weights) == round(100 * (1 - 0.4 * 0.6))  # 76: agreement raises it
    clean = Result("7.7.7.7", "ipv4", "virustotal", "ok", "harmless", 0)
    failed = Result("8.8.4.4", "ipv4", "virustotal", "error", error="timeout")
    ranked = overall([clean, vt, ipqs, failed], weights)
    assert [(o.value, o.verdict) for o in ranked] == [("5.5.5.5", "malicious"), ("7.7.7.7", "harmless")]


def test_compiled_index_round_trips(tmp_path: Path, warninglists: WarninglistIndex) -> None:
    path = tmp_path / "wl.npz"
    warninglists.save(path)
    again = WarninglistIndex.load(path)
    sample = [*PUBLIC, *LISTED, "45.1.2.3", "13.107.6.152", "20.190.128.1"]
    assert again.contains_ipv4(sample) == warninglists.contains_ipv4(sample)
    assert again.intervals == warninglists.intervals
    assert again.lists_for(LISTED[0]) == warninglists.lists_for(LISTED[0])
    for email in ("x@0-mail.com", "abuse@corp.example", "bob@gmail.com"):
        assert again.email_listed(email) == warninglists.email_listed(email)


def test_load_index_uses_and_repairs_its_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[list[str]] = []

    def small_lists(skip: list[str] = ()) -> list[dict]:  # the shipped lists' loader, counted
        reads.append(list(skip))
        return [wl for wl in CIDR_LISTS if wl["name"] not in skip]

    monkeypatch.setattr(wl_module, "load_lists", small_lists)
    first = load_index(cache_dir=tmp_path)
    [cached] = tmp_path.glob("warninglists-*.npz")
    assert load_index(cache_dir=tmp_path).intervals == first.intervals
    assert len(reads) == 1  # the second came from the compiled file
    cached.write_bytes(b"damaged")
    assert load_index(cache_dir=tmp_path).intervals == first.intervals  # rebuilt, not trusted
    assert len(reads) == 2
    assert load_index(["a"], cache_dir=tmp_path).intervals != first.intervals  # another key
    assert reads[-1] == ["a"]


def test_public_names_resolve() -> None:
    import ppcti.enrich as enrich

    assert all(getattr(enrich, name) is not None for name in enrich.__all__)
    with pytest.raises(AttributeError):
        _ = enrich.no_such_name


_MIXED = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
    st.sampled_from(
        ["10", "192.168", "172.16", "100.64", "127", "169.254", "192.0.2", "203.0.113", "224", "45.1.2"]
    ).flatmap(
        lambda p: st.lists(
            st.integers(0, 255), min_size=4 - p.count(".") - 1, max_size=4 - p.count(".") - 1
        ).map(lambda rest, p=p: ".".join([p, *map(str, rest)]))
    ),
)


@settings(max_examples=200)
@given(st.lists(_MIXED, min_size=1, max_size=40, unique=True))
def test_nothing_non_public_listed_or_own_is_ever_selected(addresses: list[str]) -> None:
    index = WarninglistIndex.build(CIDR_LISTS)
    own = set(addresses[::5])
    chosen = select([Indicator(a, "ipv4") for a in addresses], index, own_values=own)
    for indicator in chosen.sendable:
        ip = ipaddress.IPv4Address(indicator.value)
        assert ip.is_global and not ip.is_multicast
        assert indicator.value not in own
        assert not naive(CIDR_LISTS, indicator.value)
    assert len(chosen.sendable) + sum(chosen.excluded.values()) == len(addresses)
