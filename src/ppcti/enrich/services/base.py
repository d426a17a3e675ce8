"""The one interface every reputation service implements, and the HTTP plumbing most of them share.

A service is one small module: a :class:`Service` subclass that says which indicator kinds it takes,
its free-tier defaults, and how to turn one HTTP answer into a :class:`~ppcti.enrich.model.Finding`.
Rate limits, retries, the circuit breaker and the cache live in the engine, so a service module only
speaks its API. Failures are raised as :class:`~ppcti.errors.EnrichError` with a ``kind`` the engine
understands: ``retryable`` kinds are retried with back-off, ``fatal`` kinds stop the service for the run.
"""

from __future__ import annotations

import ipaddress
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson

from ppcti.enrich.model import Finding, Indicator, Kind
from ppcti.errors import ConfigError, EnrichError

#: Failure kinds the engine retries (with back-off, or after Retry-After for ``rate``).
RETRYABLE = frozenset({"timeout", "network", "server", "rate"})
#: Failure kinds after which no further call to the service can succeed in this run.
FATAL = frozenset({"auth", "quota"})


@dataclass(frozen=True, slots=True)
class ServiceDefaults:
    """Free-tier figures of a service: rate and burst of its token bucket, its quota, the cache TTL."""

    url: str
    rate: str
    burst: int
    quota: str
    ttl: float


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """What a service needs at run time; built at the CLI edge from the environment or config file."""

    key: str
    url: str
    timeout: float = 10.0

    def __post_init__(self) -> None:
        check_url(self.url)

    def __repr__(self) -> str:  # the key never reaches a log, a traceback or an error message
        return f"ServiceSettings(url={self.url!r}, timeout={self.timeout}, key=<hidden>)"


def check_url(url: str) -> None:
    """HTTPS anywhere; plain HTTP only to a loopback address (local fakes and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if loopback:
            return
        raise ConfigError(f"plain http is accepted for loopback only, not for {host}")
    raise ConfigError("a service URL must be https://HOST[/PATH] (or http:// on loopback)")


class Service(ABC):
    """One reputation service. Subclasses set the class attributes and implement :meth:`lookup`."""

    #: Short name used in settings, summary.json and ``--services`` (also the module name).
    name: ClassVar[str]
    #: Infix of its environment variables: PPCTI_<env>_KEY, PPCTI_<env>_URL, PPCTI_<env>_RATE.
    env: ClassVar[str]
    #: Human name, used as the STIX note's author and in the report.
    label: ClassVar[str]
    #: Indicator kinds this service can look up.
    kinds: ClassVar[frozenset[Kind]]
    defaults: ClassVar[ServiceDefaults]
    #: Weight of this service's score in the overall confidence (see :mod:`ppcti.enrich.scoring`).
    weight: ClassVar[float] = 1.0

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings

    async def open(self) -> None:  # noqa: B027  (optional hook)
        """Create connections; called inside the running event loop."""

    async def close(self) -> None:  # noqa: B027  (optional hook)
        """Release connections."""

    @abstractmethod
    async def lookup(self, indicator: Indicator) -> Finding:
        """What the service knows about ``indicator``; raises EnrichError on failure."""

    @classmethod
    def gui_url(cls, indicator: Indicator) -> str | None:
        """A link for analysts to the service's own page for the value, if it has one."""
        return None

    def fail(self, kind: str, message: str = "", retry_after: float | None = None) -> EnrichError:
        return EnrichError(self.name, kind, message, retry_after=retry_after)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _RedactRequestLines(logging.Filter):
    """Keeps looked-up values out of httpx's INFO line ``HTTP Request: GET <url> ...``.

    httpx logs every request URL at INFO, and a lookup URL carries the value (and, for some APIs, the
    key). The URL of a request to a service base that ppcti opened is replaced by that base alone.
    """

    def __init__(self) -> None:
        super().__init__()
        self.bases: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 2:
            url = str(args[1])
            base = next((b for b in self.bases if url.startswith(b)), None)
            if base is not None:
                record.args = (args[0], base + "/<redacted>", *args[2:])
        return True


_REDACT = _RedactRequestLines()
logging.getLogger("httpx").addFilter(_REDACT)


class HttpService(Service):
    """A service spoken to with httpx: one pooled async client per service, errors mapped to kinds."""

    #: Statuses that mean "slow down" for this API (IPQS also answers 403 to a rate limit).
    rate_limit_statuses: ClassVar[frozenset[int]] = frozenset({429})

    def __init__(self, settings: ServiceSettings) -> None:
        super().__init__(settings)
        self._client: Any = None

    def headers(self) -> dict[str, str]:
        """Headers of every request (typically the key); subclasses override."""
        return {}

    async def open(self) -> None:
        import httpx

        _REDACT.bases.add(self.settings.url.rstrip("/"))
        self._client = httpx.AsyncClient(
            base_url=self.settings.url.rstrip("/"),
            headers={"Accept": "application/json", "User-Agent": "ppcti", **self.headers()},
            timeout=httpx.Timeout(self.settings.timeout),
            follow_redirects=False,
            trust_env=False,
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, parsed JSON body or None); transport failures and 5xx/401/429 raised as EnrichError.

        4xx other than 401/403/429 are returned to the caller, which knows what they mean for its API.
        Exception texts of httpx are never passed on: they hold the URL, which may hold a key or value.
        """
        import httpx

        if self._client is None:
            await self.open()
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise self.fail("timeout") from None
        except httpx.TransportError as exc:
            raise self.fail("network", type(exc).__name__) from None
        status = response.status_code
        if status in self.rate_limit_statuses:
            retry = retry_after_seconds(response.headers.get("Retry-After"))
            raise self.fail("rate", f"HTTP {status}", retry_after=retry)
        if status in (401, 403):
            raise self.fail("auth", f"HTTP {status}")
        if status >= 500:
            raise self.fail("server", f"HTTP {status}")
        try:
            body = orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            if status == 200:
                raise self.fail("malformed", "body is not JSON") from None
            body = None
        return status, body


def require(body: Any, service: Service, *keys: str) -> dict[str, Any]:
    """``body[keys[0]][keys[1]]...`` as a dict, or a ``malformed`` failure."""
    node = body
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            raise service.fail("malformed", f"no {'.'.join(keys)} in the answer")
        node = node[key]
    if not isinstance(node, dict):
        raise service.fail("malformed", f"{'.'.join(keys) or 'body'} is not an object")
    return node


def verdict_for(score: int, *, malicious: int, suspicious: int) -> str:
    if score >= malicious:
        return "malicious"
    if score >= suspicious:
        return "suspicious"
    return "harmless"
