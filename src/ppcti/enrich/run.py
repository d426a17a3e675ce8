"""Enrich a run folder: select the indicators, look them up, write the results and the STIX.

Reads ``cti/aggregate.json`` and ``infrastructure.json``; writes ``enrichment.jsonl`` (one record per
indicator and service), ``enrichment-overview.json`` (the overall confidence per indicator, riskiest
first, for the report), ``cti/enrichment.json`` (notes and opinions, merged into the aggregate). What
it returns goes into ``summary.json`` under ``stages.enrich``: counts per service, the reasons values
were held back, and the values that left the machine per service (values stay in the run folder: the
returned ``message`` and every log line hold counts only).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from ppcti.enrich.cache import Cache
from ppcti.enrich.engine import Engine, Lane, Progress
from ppcti.enrich.limits import CircuitBreaker, TokenBucket
from ppcti.enrich.model import Indicator
from ppcti.enrich.options import EnrichSettings
from ppcti.enrich.scoring import overall
from ppcti.enrich.select import read_indicators, read_infrastructure, select
from ppcti.enrich.services import SERVICES
from ppcti.enrich.stix import build_bundle, marking_and_producer, write_and_merge
from ppcti.enrich.warninglists import WarninglistIndex, load_index
from ppcti.errors import ConfigError

RESULTS_FILE = "enrichment.jsonl"
OVERVIEW_FILE = "enrichment-overview.json"


def choose_services(settings: EnrichSettings, names: Sequence[str] | None, *, dry_run: bool) -> list[str]:
    """The services to ask: those named (validated) or every configured one."""
    if not names:
        chosen = settings.configured
        if not chosen and not dry_run:
            raise ConfigError(
                "no enrichment service has a key: set PPCTI_IPQS_KEY, PPCTI_VT_KEY, "
                "PPCTI_ABUSEIPDB_KEY or PPCTI_HYBRID_KEY (or a key in the config file)"
            )
        return chosen or list(SERVICES)
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise ConfigError(f"unknown services {unknown}; choose from {list(SERVICES)}")
    if not dry_run:
        missing = [n for n in names if not settings.services[n].key]
        if missing:
            envs = ", ".join(f"PPCTI_{SERVICES[n].env}_KEY" for n in missing)
            raise ConfigError(f"no key for {', '.join(missing)}: set {envs} or the config file")
    return list(dict.fromkeys(names))


def enrich_run(
    run_dir: Path,
    settings: EnrichSettings,
    *,
    services: Sequence[str] | None = None,
    dry_run: bool = False,
    max_calls: int | None = None,
    progress: Progress | None = None,
    warninglists: WarninglistIndex | None = None,
) -> dict[str, Any]:
    """Enrich ``run_dir`` (or, with ``dry_run``, only count what would be asked); returns the summary."""
    run_dir = Path(run_dir)
    names = choose_services(settings, services, dry_run=dry_run)
    if max_calls is not None and max_calls < 0:
        raise ConfigError("--max-calls must be 0 or more")
    indicators, aggregate = read_indicators(run_dir / "cti" / "aggregate.json")
    own_values, own_domains = read_infrastructure(run_dir / "infrastructure.json")
    index = warninglists or load_index(
        settings.skip_warninglists, settings.cache.parent if settings.cache else None
    )
    selection = select(indicators, index, own_values=own_values, own_domains=own_domains)
    jobs = {n: [i for i in selection.sendable if i.kind in SERVICES[n].kinds] for n in names}
    cache = Cache(settings.cache) if settings.cache else None
    try:
        if dry_run:
            return _dry_run(settings, jobs, cache, max_calls, selection.to_dict())
        lanes = {
            n: Lane(
                service=SERVICES[n](settings.services[n].client_settings(settings.timeout)),
                bucket=TokenBucket(settings.services[n].rate.per_second, settings.services[n].burst),
                breaker=CircuitBreaker(settings.engine.breaker_threshold, settings.engine.breaker_cooldown),
                ttl=settings.services[n].ttl,
            )
            for n in names
        }
        options = dataclasses.replace(settings.engine, max_calls=max_calls)
        engine = Engine(lanes, cache=cache, options=options)
        results = asyncio.run(engine.run(jobs, progress))
    finally:
        if cache is not None:
            cache.close()
    _write_lines(run_dir / RESULTS_FILE, [orjson.dumps(r.to_dict()) for r in results])
    weights = {n: SERVICES[n].weight for n in SERVICES}
    ranked = overall(results, weights)
    by_value: dict[str, Indicator] = {i.value: i for i in selection.sendable}
    marking, producer = marking_and_producer(aggregate)
    bundle = build_bundle(
        results,
        ranked,
        by_value,
        labels={n: s.label for n, s in SERVICES.items()},
        links={(r.service, r.value): SERVICES[r.service].gui_url(by_value[r.value]) for r in results},
        marking=marking,
        producer=producer,
    )
    added = write_and_merge(run_dir / "cti", bundle, aggregate)
    _write_bytes(
        run_dir / OVERVIEW_FILE,
        orjson.dumps({"indicators": [o.to_dict() for o in ranked]}, option=orjson.OPT_INDENT_2),
    )
    stats = engine.stats
    failed = sum(s.failed for s in stats.values())
    sent = sum(len(s.sent) for s in stats.values())
    risky = sum(1 for o in ranked if o.verdict in ("malicious", "suspicious"))
    return {
        "dry_run": False,
        "indicators": selection.to_dict(),
        "services": {n: s.to_dict() for n, s in stats.items()},
        "sent": {n: list(s.sent) for n, s in stats.items()},
        "records": len(results),
        "stix_objects_added": added,
        "risky_indicators": risky,
        "message": (
            f"{len(selection.sendable)} of {selection.candidates} indicators eligible, {sent} values sent "
            f"to {len(names)} service(s), {failed} failed lookups, {risky} risky → {RESULTS_FILE}, "
            "cti/enrichment.json"
        ),
    }


def _dry_run(
    settings: EnrichSettings,
    jobs: dict[str, list[Indicator]],
    cache: Cache | None,
    max_calls: int | None,
    selection: dict[str, Any],
) -> dict[str, Any]:
    per_service: dict[str, Any] = {}
    for name, indicators in jobs.items():
        config = settings.services[name]
        cached = sum(1 for i in indicators if cache is not None and cache.get(name, i.value) is not None)
        calls = len(indicators) - cached
        if max_calls is not None:
            calls = min(calls, max_calls)
        waiting = max(0, calls - config.burst) / config.rate.per_second
        per_service[name] = {
            "lookups": len(indicators),
            "cache_hits": cached,
            "calls": calls,
            "quota": str(config.quota),
            "quota_used_percent": round(100 * calls / config.quota.count, 1),
            "rate": str(config.rate),
            "min_seconds": round(waiting, 1),
            "key_configured": bool(config.key),
        }
    total = sum(s["calls"] for s in per_service.values())
    return {
        "dry_run": True,
        "indicators": selection,
        "services": per_service,
        "message": f"dry run: {total} calls would be made; nothing was sent",
    }


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_lines(path: Path, lines: list[bytes]) -> None:
    _write_bytes(path, b"".join(line + b"\n" for line in lines))


def record_in_summary(run_dir: Path, data: dict[str, Any]) -> None:
    """Put the enrichment summary into ``summary.json`` (``stages.enrich``) of a finished run."""
    path = Path(run_dir) / "summary.json"
    summary: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = orjson.loads(path.read_bytes())
            summary = loaded if isinstance(loaded, dict) else {}
        except orjson.JSONDecodeError:
            summary = {}
    stages = summary.setdefault("stages", {})
    if isinstance(stages, dict):
        stages["enrich"] = data
    _write_bytes(path, orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
