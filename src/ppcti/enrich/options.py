"""Every enrichment setting, declared once, and how keys, URLs and limits are put together.

The library never reads the environment: the CLI passes ``os.environ`` and the parsed config file to
:func:`EnrichSettings.from_sources`. Keys come from ``PPCTI_<SVC>_KEY`` or the config file only,
never from flags (which land in shell history), and never appear in a repr, a log or an error.

Config file (YAML, ``ppcti enrich --config`` / ``ppcti run --enrich-config`` / ``PPCTI_ENRICH_CONFIG``)::

    virustotal: {key: "...", url: "https://www.virustotal.com", rate: "4/min", burst: 4, ttl: 7d}
    abuseipdb: {key: "..."}
    cache: ~/.cache/ppcti/enrich.sqlite
    timeout: 10
    concurrency: 4
    skip_warninglists: ["List of known IPv4 public DNS resolvers"]

The environment wins over the file for the same setting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ppcti.enrich.engine import EngineOptions
from ppcti.enrich.limits import Rate
from ppcti.enrich.services import SERVICES, ServiceSettings, check_url
from ppcti.errors import ConfigError

#: Global settings: name → (default, help). Per-service ones are key, url, rate, burst, ttl.
SETTINGS: dict[str, tuple[Any, str]] = {
    "cache": (None, "SQLite file of cached answers (default: ~/.cache/ppcti/enrich.sqlite)."),
    "timeout": (10.0, "Seconds before a request counts as timed out."),
    "concurrency": (4, "Requests in flight per service."),
    "retries": (3, "Retries of a timed-out, reset or 5xx request."),
    "backoff_base": (0.5, "First back-off in seconds; doubles per retry, with full jitter."),
    "backoff_cap": (30.0, "Longest back-off in seconds."),
    "max_retry_after": (120.0, "A longer Retry-After is taken for an exhausted quota."),
    "breaker_threshold": (5, "Consecutive failures that open a service's circuit breaker."),
    "breaker_cooldown": (30.0, "Seconds a breaker stays open before one trial request."),
    "skip_warninglists": ((), "Names of MISP warninglists not to apply."),
}
SERVICE_SETTINGS = ("key", "url", "rate", "burst", "ttl")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(value: Any) -> float:
    """Seconds from a number or text such as ``90``, ``15m``, ``12h``, ``7d``."""
    match = _DURATION.match(str(value).lower())
    if not match:
        raise ConfigError(f"a duration is a number of seconds or N[smhd], not {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """One service's settings; ``key`` None means not configured (dry runs may still count it)."""

    name: str
    key: str | None
    url: str
    rate: Rate
    burst: int
    quota: Rate
    ttl: float

    def __repr__(self) -> str:
        key = "<set>" if self.key else None
        return f"ServiceConfig({self.name}, url={self.url!r}, rate={self.rate}, key={key})"

    def client_settings(self, timeout: float) -> ServiceSettings:
        if not self.key:
            raise ConfigError(f"no key for {self.name}")
        return ServiceSettings(key=self.key, url=self.url, timeout=timeout)


@dataclass(frozen=True, slots=True)
class EnrichSettings:
    services: dict[str, ServiceConfig]
    cache: Path | None = None
    timeout: float = 10.0
    engine: EngineOptions = field(default_factory=EngineOptions)
    skip_warninglists: tuple[str, ...] = ()

    @property
    def configured(self) -> list[str]:
        """Services with a key, in registry order."""
        return [name for name, svc in self.services.items() if svc.key]

    @classmethod
    def from_sources(cls, env: Mapping[str, str], file: Mapping[str, Any] | None = None) -> EnrichSettings:
        """Settings from the environment (wins) and a parsed config mapping."""
        data = dict(file or {})
        if isinstance(data.get("enrich"), Mapping):
            data = dict(data["enrich"])
        unknown = set(data) - set(SETTINGS) - set(SERVICES)
        if unknown:
            raise ConfigError(f"unknown enrichment settings {sorted(unknown)}")
        services = {}
        for name, service in SERVICES.items():
            section = data.get(name) or {}
            if not isinstance(section, Mapping):
                raise ConfigError(f"enrichment setting {name!r} must be a mapping")
            bad = set(section) - set(SERVICE_SETTINGS)
            if bad:
                raise ConfigError(f"unknown settings for {name}: {sorted(bad)}")

            def pick(setting: str, section: Mapping[str, Any] = section, prefix: str = service.env) -> Any:
                return env.get(f"PPCTI_{prefix}_{setting.upper()}") or section.get(setting)

            d = service.defaults
            url = str(pick("url") or d.url)
            check_url(url)
            try:
                burst = int(pick("burst") or d.burst)
            except (TypeError, ValueError):
                raise ConfigError(f"{name} burst must be a whole number") from None
            key = pick("key")
            services[name] = ServiceConfig(
                name=name,
                key=str(key).strip() or None if key else None,
                url=url,
                rate=Rate.parse(pick("rate") or d.rate),
                burst=max(1, burst),
                quota=Rate.parse(d.quota),
                ttl=duration(pick("ttl") or d.ttl),
            )

        def get(name: str) -> Any:
            return data.get(name, SETTINGS[name][0])

        try:
            engine = EngineOptions(
                concurrency=max(1, int(get("concurrency"))),
                retries=max(0, int(get("retries"))),
                backoff_base=float(get("backoff_base")),
                backoff_cap=float(get("backoff_cap")),
                max_retry_after=float(get("max_retry_after")),
                breaker_threshold=max(1, int(get("breaker_threshold"))),
                breaker_cooldown=float(get("breaker_cooldown")),
            )
            timeout = float(env.get("PPCTI_ENRICH_TIMEOUT") or get("timeout"))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad enrichment setting: {exc}") from None
        cache = env.get("PPCTI_ENRICH_CACHE") or get("cache")
        skip = get("skip_warninglists") or ()
        if isinstance(skip, str) or not all(isinstance(s, str) for s in skip):
            raise ConfigError("skip_warninglists must be a list of list names")
        return cls(
            services=services,
            cache=Path(str(cache)).expanduser() if cache else None,
            timeout=timeout,
            engine=engine,
            skip_warninglists=tuple(skip),
        )
