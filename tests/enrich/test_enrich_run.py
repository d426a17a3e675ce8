"""End to end against the fakes: what is sent, what is written, what the STIX says."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import orjson
import pytest
from enrich_fakes import KEYS, FakeServices, score_of
from enrich_helpers import LISTED, OWN, PUBLIC, SENDERS
from stix2validator import ValidationOptions, validate_string

from ppcti.enrich import EnrichSettings, enrich_run
from ppcti.enrich.warninglists import WarninglistIndex

STRICT = ValidationOptions(strict=True, version="2.1")


def settings(fake: FakeServices, tmp_path: Path, **engine: float) -> EnrichSettings:
    s = EnrichSettings.from_sources(fake.env(), {"cache": str(tmp_path / "cache.sqlite"), "timeout": 10})
    options = dataclasses.replace(s.engine, backoff_base=0.01, backoff_cap=0.05, **engine)
    return dataclasses.replace(s, engine=options)


def test_only_public_unlisted_attacker_values_are_sent(
    fake: FakeServices, run_dir: Path, tmp_path: Path, warninglists: WarninglistIndex
) -> None:
    summary = enrich_run(run_dir, settings(fake, tmp_path), warninglists=warninglists)
    ip_services = ("virustotal", "abuseipdb", "hybrid", "ipqs")
    for name in ip_services:
        sent_ips = sorted(v for v in fake[name].values if "@" not in v)
        assert sent_ips == sorted(PUBLIC), name
        assert all(r.key_ok for r in fake[name].requests)
    assert sorted(v for v in fake["ipqs"].values if "@" in v) == sorted(SENDERS)
    for name in ("virustotal", "abuseipdb", "hybrid"):
        assert not any("@" in v for v in fake[name].values)
    excluded = summary["indicators"]["excluded"]
    assert excluded == {
        "documentation": 3,
        "infrastructure": 2,  # OWN and the holder's own mail domain
        "private": 6,
        "reserved": 4,
        "warninglist": len(LISTED) + 1,
    }
    # summary says exactly what left the machine
    for name in ip_services:
        assert sorted(summary["sent"][name]) == sorted(fake[name].values)
        assert summary["services"][name]["values_sent"] == len(fake[name].values)
    assert OWN not in fake.all_values()


def test_results_records_and_scores(
    fake: FakeServices, run_dir: Path, tmp_path: Path, warninglists: WarninglistIndex
) -> None:
    enrich_run(run_dir, settings(fake, tmp_path), warninglists=warninglists)
    records = [orjson.loads(line) for line in (run_dir / "enrichment.jsonl").read_bytes().splitlines()]
    assert len(records) == len(PUBLIC) * 4 + len(SENDERS)
    for record in records:
        assert set(record) >= {
            "value",
            "service",
            "verdict",
            "score",
            "categories",
            "first_seen",
            "last_seen",
            "raw",
            "fetched_at",
            "from_cache",
        }
        assert record["status"] == "ok"
        assert record["from_cache"] is False
    abuse = {r["value"]: r for r in records if r["service"] == "abuseipdb"}
    for ip in PUBLIC:
        assert abuse[ip]["score"] == score_of(ip)
        assert abuse[ip]["categories"] == ["brute-force", "port-scan", "ssh"]
        assert abuse[ip]["first_seen"] == "2024-04-01T10:00:00+00:00"
    vt = {r["value"]: r for r in records if r["service"] == "virustotal"}
    for ip in PUBLIC:
        m = score_of(ip) // 20
        assert vt[ip]["raw"]["last_analysis_stats"]["malicious"] == m
        assert vt[ip]["score"] == min(100, 20 * m + 10 * (score_of(ip) % 3))
    overview = orjson.loads((run_dir / "enrichment-overview.json").read_bytes())["indicators"]
    confidences = [o["confidence"] for o in overview]
    assert confidences == sorted(confidences, reverse=True)
    assert {o["value"] for o in overview} == set(PUBLIC) | set(SENDERS)


def test_stix_validates_strictly_and_is_merged(
    fake: FakeServices, run_dir: Path, tmp_path: Path, warninglists: WarninglistIndex
) -> None:
    before = orjson.loads((run_dir / "cti" / "aggregate.json").read_bytes())
    enrich_run(run_dir, settings(fake, tmp_path), warninglists=warninglists)
    text = (run_dir / "cti" / "enrichment.json").read_text()
    result = validate_string(text, STRICT)
    assert result.is_valid, [str(e) for e in result.errors]
    bundle = orjson.loads(text)
    notes = [o for o in bundle["objects"] if o["type"] == "note"]
    opinions = [o for o in bundle["objects"] if o["type"] == "opinion"]
    assert len(notes) == len(PUBLIC) * 4 + len(SENDERS)
    assert len(opinions) == len(PUBLIC) + len(SENDERS)
    indicator_ids = {o["id"] for o in before["objects"] if o["type"] == "indicator"}
    assert all(set(n["object_refs"]) & indicator_ids for n in notes + opinions)
    assert all(0 <= o["confidence"] <= 100 for o in opinions)
    aggregate_text = (run_dir / "cti" / "aggregate.json").read_text()
    assert validate_string(aggregate_text, STRICT).is_valid
    merged = orjson.loads(aggregate_text)
    assert len(merged["objects"]) == len(before["objects"]) + len(notes) + len(opinions) + 1
    # every reference of the merged aggregate stays inside it: it is the bundle that is shared
    ids = {o["id"] for o in merged["objects"]}
    assert {r for o in merged["objects"] for r in o.get("object_refs", [])} <= ids
    # a re-run (from the cache now) replaces the enrichment instead of piling it up
    enrich_run(run_dir, settings(fake, tmp_path), warninglists=warninglists)
    again = orjson.loads((run_dir / "cti" / "aggregate.json").read_bytes())
    assert len(again["objects"]) == len(merged["objects"])


def test_cache_hits_make_no_requests(
    fake: FakeServices, run_dir: Path, tmp_path: Path, warninglists: WarninglistIndex
) -> None:
    first = enrich_run(run_dir, settings(fake, tmp_path), warninglists=warninglists)
    sent = len(fake.all_values())
    assert sent == len(PUBLIC) * 4 + len(SENDERS)
    fake.reset()
    second = enrich_run(run_dir, settings(fake, tmp_path), warninglists=warninglists)
    assert fake.all_values() == []
    assert all(s["cache_hits"] == s["lookups"] for s in second["services"].values())
    assert all(s["values_sent"] == 0 for s in second["services"].values())
    assert first["records"] == second["records"]
    records = [orjson.loads(x) for x in (run_dir / "enrichment.jsonl").read_bytes().splitlines()]
    assert all(r["from_cache"] for r in records)


def test_expired_cache_entries_are_fetched_again(
    fake: FakeServices, run_dir: Path, tmp_path: Path, warninglists: WarninglistIndex
) -> None:
    env = {**fake.env(("abuseipdb",)), "PPCTI_ABUSEIPDB_TTL": "0.5"}
    s = EnrichSettings.from_sources(env, {"cache": str(tmp_path / "c.sqlite")})
    enrich_run(run_dir, s, warninglists=warninglists)
    import time

    time.sleep(0.6)
    fake.reset()
    enrich_run(run_dir, s, warninglists=warninglists)
    assert sorted(fake["abuseipdb"].values) == sorted(PUBLIC)


def test_dry_run_sends_nothing_and_counts_quota(
    fake: FakeServices, run_dir: Path, tmp_path: Path, warninglists: WarninglistIndex
) -> None:
    s = settings(fake, tmp_path)
    summary = enrich_run(run_dir, s, dry_run=True, max_calls=4, warninglists=warninglists)
    assert fake.all_values() == []
    assert not (run_dir / "enrichment.jsonl").exists()
    vt = summary["services"]["virustotal"]
    assert vt["lookups"] == len(PUBLIC)
    assert vt["calls"] == 4
    assert vt["quota"] == "500/day"
    assert vt["quota_used_percent"] == pytest.approx(0.8)
    assert summary["services"]["ipqs"]["lookups"] == len(PUBLIC) + len(SENDERS)


def test_max_calls_caps_values_sent_per_service(
    fake: FakeServices, run_dir: Path, tmp_path: Path, warninglists: WarninglistIndex
) -> None:
    summary = enrich_run(run_dir, settings(fake, tmp_path), max_calls=2, warninglists=warninglists)
    for name in ("virustotal", "abuseipdb", "hybrid", "ipqs"):
        assert len(set(fake[name].values)) == 2
        assert summary["services"][name]["failures"].get("max-calls", 0) >= len(PUBLIC) - 2


def test_values_and_keys_never_reach_the_logs(
    fake: FakeServices,
    run_dir: Path,
    tmp_path: Path,
    warninglists: WarninglistIndex,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake["virustotal"].modes[PUBLIC[0]] = "500"  # failures are logged nowhere with their value either
    enrich_run(run_dir, settings(fake, tmp_path), warninglists=warninglists)
    ours = [r for r in caplog.records if not r.name.startswith("werkzeug")]  # the fakes' own log aside
    text = "\n".join(r.getMessage() for r in ours)
    assert "HTTP Request" in text  # httpx did log its request lines, redacted
    for secret in [*PUBLIC, *SENDERS, *KEYS.values()]:
        assert secret not in text
