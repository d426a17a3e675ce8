"""VirusTotal API v3 ``GET /api/v3/ip_addresses/{ip}`` through the official client, vt-py.

vt-py takes the service root as ``host`` (``https://www.virustotal.com`` by default) and adds
``/api/v3``, so the fake in the tests is reached the same way as the real service. The score counts
engines: each engine calling the address malicious adds 20 and each suspicious one 10, capped at 100,
so five independent malicious verdicts make a full score; three or more malicious engines make the
verdict malicious, any malicious or suspicious engine makes it suspicious.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from ppcti.enrich.model import Finding, Indicator, Kind
from ppcti.enrich.services.base import Service, ServiceDefaults, require, retry_after_seconds

_ERROR_KINDS = {
    "WrongCredentialsError": "auth",
    "AuthenticationRequiredError": "auth",
    "ForbiddenError": "auth",
    "UserNotActiveError": "auth",
    "QuotaExceededError": "rate",
    "TooManyRequestsError": "rate",
    "InvalidArgumentError": "invalid",
    "BadRequestError": "invalid",
}
_KEPT = ("as_owner", "asn", "country", "network", "reputation", "last_analysis_stats", "total_votes")


def _iso(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int | float) or timestamp <= 0:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class VirusTotal(Service):
    name: ClassVar[str] = "virustotal"
    env: ClassVar[str] = "VT"
    label: ClassVar[str] = "VirusTotal"
    kinds: ClassVar[frozenset[Kind]] = frozenset({"ipv4"})
    defaults: ClassVar[ServiceDefaults] = ServiceDefaults(
        url="https://www.virustotal.com", rate="4/min", burst=4, quota="500/day", ttl=7 * 86400.0
    )

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._client: Any = None
        self._connector: Any = None

    async def open(self) -> None:
        import aiohttp
        import vt

        # our own connector, so it is closed even when no request was made (vt-py closes it only
        # through a session it has opened)
        self._connector = aiohttp.TCPConnector()
        self._client = vt.Client(
            self.settings.key,
            agent="ppcti",
            host=self.settings.url.rstrip("/"),
            timeout=self.settings.timeout,  # type: ignore[arg-type]  # aiohttp takes float seconds
            connector=self._connector,
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close_async()
            await self._connector.close()
            self._client = None

    async def lookup(self, indicator: Indicator) -> Finding:
        import aiohttp

        if self._client is None:
            await self.open()
        try:
            response = await self._client.get_async("/ip_addresses/{}", indicator.value)
            try:
                return await self._answer(response)
            finally:
                response.release()  # back to the pool, read or not
        except TimeoutError:
            raise self.fail("timeout") from None
        except aiohttp.ClientError as exc:
            raise self.fail("network", type(exc).__name__) from None

    async def _answer(self, response: Any) -> Finding:
        """The finding in a 200 answer; any other status as the failure it stands for."""
        import aiohttp

        if response.status == 200:
            try:
                body = await response.json_async()
            except (ValueError, aiohttp.ContentTypeError):
                raise self.fail("malformed", "body is not JSON") from None
            return self._finding(body)
        if response.status == 404:
            return Finding("unknown", 0, status="not_found")
        if response.status >= 500:
            raise self.fail("server", f"HTTP {response.status}")
        retry = retry_after_seconds(response.headers.get("Retry-After"))
        try:
            error = await self._client.get_error_async(response)
        except (ValueError, aiohttp.ContentTypeError):
            error = None
        code = getattr(error, "code", "")
        kind = _ERROR_KINDS.get(code) or (
            "rate" if response.status == 429 else "auth" if response.status in (401, 403) else "invalid"
        )
        raise self.fail(kind, f"HTTP {response.status} {code}".strip(), retry_after=retry)

    def _finding(self, body: Any) -> Finding:
        attributes = require(body, self, "data", "attributes")
        stats = attributes.get("last_analysis_stats")
        if not isinstance(stats, dict):
            raise self.fail("malformed", "no last_analysis_stats")
        malicious = int(stats.get("malicious") or 0)
        suspicious = int(stats.get("suspicious") or 0)
        engines = sum(int(v) for v in stats.values() if isinstance(v, int | float))
        score = min(100, 20 * malicious + 10 * suspicious)
        verdict = (
            "malicious"
            if malicious >= 3
            else "suspicious"
            if malicious or suspicious
            else "harmless"
            if engines
            else "unknown"
        )
        results = attributes.get("last_analysis_results")
        labels: set[str] = set()
        if isinstance(results, dict):
            for engine in results.values():
                if isinstance(engine, dict) and engine.get("category") in ("malicious", "suspicious"):
                    label = engine.get("result")
                    if isinstance(label, str) and label not in ("malicious", "suspicious"):
                        labels.add(label)
        tags = attributes.get("tags")
        if isinstance(tags, list):
            labels.update(str(t) for t in tags)
        return Finding(
            verdict=verdict,  # type: ignore[arg-type]
            score=score,
            categories=tuple(sorted(labels)),
            last_seen=_iso(attributes.get("last_analysis_date")),
            raw={k: attributes[k] for k in _KEPT if k in attributes},
        )

    @classmethod
    def gui_url(cls, indicator: Indicator) -> str | None:
        return f"https://www.virustotal.com/gui/ip-address/{indicator.value}"
