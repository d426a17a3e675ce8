"""Local fake reputation services on loopback: real HTTP servers speaking each API's documented JSON.

One threaded pytest-httpserver per service, on 127.0.0.1 and a free port. Each records every request
(the value asked, the time, whether the key came along) so tests can assert what left the machine and
at what rate. Behaviour is chosen per value (``fake.modes[value] = "429"``) or for the whole service
(``fake.default = "500"``):

``ok`` (a score derived from the address), ``unknown`` (the service has no record), ``401``, ``404``,
``422``, ``429`` (with Retry-After ``fake.retry_after``), ``quota`` (the service's exhausted-quota
answer), ``500``, ``malformed`` (a body that is not JSON), ``slow`` (answers after ``fake.slow``
seconds), ``reset`` (the connection is reset without an answer).
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

KEYS = {
    "ipqs": "ipqs-test-key",
    "virustotal": "vt-test-key",
    "abuseipdb": "abuse-test-key",
    "hybrid": "ha-test-key",
}
ENV = {"ipqs": "IPQS", "virustotal": "VT", "abuseipdb": "ABUSEIPDB", "hybrid": "HYBRID"}


def score_of(value: str) -> int:
    """A deterministic 0..100 score per value, so tests know what to expect."""
    return sum(value.encode()) * 37 % 101


@dataclass
class Recorded:
    value: str
    at: float
    key_ok: bool
    path: str


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status=status, headers=headers or {}, content_type="application/json")


def _reset(request: Request) -> Response:
    """Drop the connection without an answer (and with a RST when the server finally closes it)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    return Response(b"", status=500)


@dataclass
class Fake:
    """One fake service; subclasses answer in its format."""

    name: str
    server: HTTPServer
    latency: float = 0.0
    default: str = "ok"
    modes: dict[str, str] = field(default_factory=dict)
    retry_after: str = "1"
    slow: float = 2.0
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def values(self) -> list[str]:
        with self.lock:
            return [r.value for r in self.requests]

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
        self.modes.clear()
        self.default = "ok"
        self.retry_after = "1"

    def handle(self, request: Request) -> Response:
        value, key_ok = self.parse(request)
        with self.lock:
            self.requests.append(Recorded(value, time.monotonic(), key_ok, request.path))
        if self.latency:
            time.sleep(self.latency)
        mode = self.modes.get(value, self.default) if key_ok else "401"
        if mode == "slow":
            time.sleep(self.slow)
            mode = "ok"
        if mode == "reset":
            return _reset(request)
        if mode == "malformed":
            return Response(b"<html>upstream error</html>", status=200, content_type="application/json")
        if mode == "500":
            return Response(b"internal error", status=500, content_type="text/plain")
        return self.answer(mode, value)

    def parse(self, request: Request) -> tuple[str, bool]:
        raise NotImplementedError

    def answer(self, mode: str, value: str) -> Response:
        raise NotImplementedError


class FakeVirusTotal(Fake):
    def parse(self, request: Request) -> tuple[str, bool]:
        value = unquote(request.path.rsplit("/", 1)[-1])
        return value, request.headers.get("X-Apikey") == KEYS["virustotal"]

    def answer(self, mode: str, value: str) -> Response:
        errors = {
            "401": (401, "WrongCredentialsError", "Wrong API key"),
            "404": (404, "NotFoundError", "Resource not found"),
            "unknown": (404, "NotFoundError", "Resource not found"),
            "422": (400, "InvalidArgumentError", "Invalid IP address"),
            "429": (429, "TooManyRequestsError", "Too many requests"),
            "quota": (429, "QuotaExceededError", "Quota exceeded"),
        }
        if mode in errors:
            status, code, message = errors[mode]
            headers = {"Retry-After": self.retry_after} if mode == "429" else {}
            if mode == "quota":
                headers = {"Retry-After": "86400"}
            return _json({"error": {"code": code, "message": message}}, status, headers)
        score = score_of(value)
        malicious, suspicious = score // 20, score % 3
        return _json(
            {
                "data": {
                    "id": value,
                    "type": "ip_address",
                    "links": {"self": f"https://www.virustotal.com/api/v3/ip_addresses/{value}"},
                    "attributes": {
                        "as_owner": "Example Hosting",
                        "asn": 64500,
                        "country": "NL",
                        "network": value.rsplit(".", 1)[0] + ".0/24",
                        "reputation": -score,
                        "tags": ["scanner"] if malicious else [],
                        "last_analysis_date": 1714557600,
                        "last_analysis_stats": {
                            "harmless": 60,
                            "malicious": malicious,
                            "suspicious": suspicious,
                            "undetected": 25,
                            "timeout": 0,
                        },
                        "last_analysis_results": {
                            f"Engine{i}": {
                                "category": "malicious",
                                "result": "malware",
                                "method": "blacklist",
                                "engine_name": f"Engine{i}",
                            }
                            for i in range(malicious)
                        },
                        "total_votes": {"harmless": 0, "malicious": malicious},
                    },
                }
            }
        )


class FakeAbuseIPDB(Fake):
    def parse(self, request: Request) -> tuple[str, bool]:
        return request.args.get("ipAddress", ""), request.headers.get("Key") == KEYS["abuseipdb"]

    def answer(self, mode: str, value: str) -> Response:
        if mode == "401":
            detail = "Authentication failed. Your API key is either missing, incorrect, or revoked."
            return _json({"errors": [{"detail": detail, "status": 401}]}, 401)
        if mode == "422":
            detail = (
                "The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or 2001:4860:4860::8888)."
            )
            return _json(
                {"errors": [{"detail": detail, "status": 422, "source": {"parameter": "ipAddress"}}]}, 422
            )
        if mode in ("429", "quota"):
            retry = self.retry_after if mode == "429" else "43200"
            detail = (
                "Daily rate limit of 1000 requests exceeded for this endpoint. "
                "See headers for additional details."
            )
            headers = {"Retry-After": retry, "X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0"}
            return _json({"errors": [{"detail": detail, "status": 429}]}, 429, headers)
        if mode == "404":
            return _json({"errors": [{"detail": "Not found.", "status": 404}]}, 404)
        score = 0 if mode == "unknown" else score_of(value)
        reports = (
            []
            if mode == "unknown"
            else [
                {
                    "reportedAt": "2024-04-01T10:00:00+00:00",
                    "comment": "sshd brute force",
                    "categories": [18, 22],
                    "reporterId": 1,
                    "reporterCountryCode": "US",
                    "reporterCountryName": "United States",
                },
                {
                    "reportedAt": "2024-04-20T08:00:00+00:00",
                    "comment": "port scan",
                    "categories": [14],
                    "reporterId": 2,
                    "reporterCountryCode": "DE",
                    "reporterCountryName": "Germany",
                },
            ]
        )
        return _json(
            {
                "data": {
                    "ipAddress": value,
                    "isPublic": True,
                    "ipVersion": 4,
                    "isWhitelisted": False,
                    "abuseConfidenceScore": score,
                    "countryCode": "NL",
                    "countryName": "Netherlands",
                    "usageType": "Data Center/Web Hosting/Transit",
                    "isp": "Example Hosting",
                    "domain": "example.net",
                    "hostnames": [],
                    "isTor": False,
                    "totalReports": len(reports),
                    "numDistinctUsers": len(reports),
                    "lastReportedAt": "2024-04-20T08:00:00+00:00" if reports else None,
                    "reports": reports,
                }
            },
            headers={"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "999"},
        )


_IPQS_PATH = re.compile(r"^/api/json/(ip|email)/([^/]+)/(.+)$")


class FakeIPQS(Fake):
    def parse(self, request: Request) -> tuple[str, bool]:
        """Both documented forms: the key in the path, or in the IPQS-KEY header with a parameter."""
        match = _IPQS_PATH.match(request.path)
        if match:
            return unquote(match.group(3)), unquote(match.group(2)) == KEYS["ipqs"]
        value = request.args.get("ip") or request.args.get("email") or ""
        return value, request.headers.get("IPQS-KEY") == KEYS["ipqs"]

    def answer(self, mode: str, value: str) -> Response:
        rid = "4T5fQbLaxy"
        if mode == "401":
            message = "Invalid or unauthorized key. Please check the API key and try again."
            return _json({"success": False, "message": message, "request_id": rid})
        if mode == "quota":
            message = (
                "You have insufficient credits to make this query. Please contact IPQualityScore support."
            )
            return _json({"success": False, "message": message, "request_id": rid})
        if mode == "422":
            return _json(
                {
                    "success": False,
                    "message": "Invalid IPv4 address, IPv6 address or hostname.",
                    "request_id": rid,
                }
            )
        if mode == "429":  # IPQS's API style guide: a rate limit is answered with 403
            return _json(
                {"success": False, "message": "Too many requests."}, 403, {"Retry-After": self.retry_after}
            )
        if mode == "404":
            return Response(b"Not Found", status=404, content_type="text/html")
        score = 0 if mode == "unknown" else score_of(value)
        if "@" in value:
            return _json(
                {
                    "success": True,
                    "message": "Success.",
                    "valid": True,
                    "disposable": False,
                    "smtp_score": 3,
                    "overall_score": 4,
                    "first_name": "Unknown",
                    "generic": False,
                    "common": False,
                    "dns_valid": True,
                    "honeypot": False,
                    "deliverability": "high",
                    "frequent_complainer": False,
                    "spam_trap_score": "none",
                    "catch_all": False,
                    "timed_out": False,
                    "suspect": score > 50,
                    "recent_abuse": score > 70,
                    "fraud_score": score,
                    "suggested_domain": "N/A",
                    "leaked": True,
                    "domain_age": {
                        "human": "3 years ago",
                        "timestamp": 1600000000,
                        "iso": "2020-09-13T08:26:40-04:00",
                    },
                    "first_seen": {
                        "human": "2 years ago",
                        "timestamp": 1650000000,
                        "iso": "2022-04-15T01:20:00-04:00",
                    },
                    "sanitized_email": value,
                    "request_id": rid,
                }
            )
        return _json(
            {
                "success": True,
                "message": "Success",
                "fraud_score": score,
                "country_code": "NL",
                "region": "Noord-Holland",
                "city": "Amsterdam",
                "ISP": "Example Hosting",
                "ASN": 64500,
                "organization": "Example Hosting",
                "is_crawler": False,
                "timezone": "Europe/Amsterdam",
                "mobile": False,
                "host": value,
                "proxy": score > 60,
                "vpn": score > 80,
                "tor": False,
                "active_vpn": False,
                "active_tor": False,
                "recent_abuse": score > 70,
                "bot_status": False,
                "connection_type": "Data Center",
                "abuse_velocity": "high" if score > 70 else "none",
                "zip_code": "N/A",
                "latitude": 52.37,
                "longitude": 4.89,
                "request_id": rid,
            }
        )


class FakeHybrid(Fake):
    def parse(self, request: Request) -> tuple[str, bool]:
        return request.form.get("host", ""), request.headers.get("api-key") == KEYS["hybrid"]

    def answer(self, mode: str, value: str) -> Response:
        if mode == "401":
            return _json(
                {"validation_errors": [], "message": "Failed to authenticate. Invalid API key?"}, 401
            )
        if mode == "422":
            return _json(
                {
                    "validation_errors": [{"field": "host", "errors": ["Invalid host"]}],
                    "message": "Validation failed",
                },
                400,
            )
        if mode == "429":
            return _json(
                {"message": "Exceeded maximum API requests per minute(200)."},
                429,
                {"Retry-After": self.retry_after},
            )
        if mode == "quota":
            return _json(
                {"message": "Exceeded maximum API requests per hour(2000)."}, 429, {"Retry-After": "3600"}
            )
        if mode == "404":
            return _json({"message": "Not Found"}, 404)
        score = score_of(value)
        results = (
            []
            if mode == "unknown"
            else [
                {
                    "verdict": "malicious" if score >= 50 else "no specific threat",
                    "av_detect": str(score),
                    "threat_score": score,
                    "vx_family": "Trojan.Generic" if score >= 50 else None,
                    "job_id": "5f0c1e0a2d3a4b5c6d7e8f90",
                    "sha256": "a" * 64,
                    "environment_id": 120,
                    "analysis_start_time": "2024-03-01T10:00:00+00:00",
                    "submit_name": "invoice.exe",
                    "environment_description": "Windows 10 64 bit",
                    "size": 102400,
                    "type": "PE32 executable (GUI) Intel 80386, for MS Windows",
                    "type_short": "peexe",
                }
            ]
        )
        return _json(
            {"search_terms": [{"id": "host", "value": value}], "count": len(results), "result": results}
        )


FAKE_CLASSES = {
    "ipqs": FakeIPQS,
    "virustotal": FakeVirusTotal,
    "abuseipdb": FakeAbuseIPDB,
    "hybrid": FakeHybrid,
}


class FakeServices:
    """All four fakes; ``env()`` gives the PPCTI_* settings pointing ppcti at them."""

    def __init__(self, latency: float = 0.0, names: tuple[str, ...] | None = None) -> None:
        self.fakes: dict[str, Fake] = {}
        for name, cls in FAKE_CLASSES.items():
            if names is not None and name not in names:
                continue
            server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
            fake = cls(name=name, server=server, latency=latency)
            server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
            server.start()
            self.fakes[name] = fake

    def __getitem__(self, name: str) -> Fake:
        return self.fakes[name]

    def env(self, services: tuple[str, ...] | None = None) -> dict[str, str]:
        env = {}
        for name, fake in self.fakes.items():
            if services is None or name in services:
                env[f"PPCTI_{ENV[name]}_KEY"] = KEYS[name]
                env[f"PPCTI_{ENV[name]}_URL"] = fake.url
                env[f"PPCTI_{ENV[name]}_RATE"] = "1000/s"
                env[f"PPCTI_{ENV[name]}_BURST"] = "1000"
        return env

    def all_values(self) -> list[str]:
        return [v for fake in self.fakes.values() for v in fake.values]

    def reset(self) -> None:
        for fake in self.fakes.values():
            fake.reset()
            fake.server.clear_log()

    def stop(self) -> None:
        for fake in self.fakes.values():
            if fake.server.is_running():
                fake.server.stop()
