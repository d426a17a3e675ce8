"""The correlation server as an HTTP(S) service: blacklists stay loaded, queries arrive as requests.

``ppcti fhe correlate`` reads a query file and a blacklist file per call; a MISP module or a platform
asking many small questions would pay for reading a large blacklist each time. The service reads each
blacklist and each holder's public key once and answers::

    GET  /v1/health                      {"status": "ok"}
    GET  /v1/blacklists                  [{"name", "key_id", "params_fingerprint", "kinds"}]
    POST /v1/correlate?blacklist=NAME    body: query.fhe bytes → result.fhe bytes

Like the file tool it holds no secret key and sees only ciphertexts; the query's header tells which
holder key (``key_id``) it was made for, and only blacklists encrypted for that key can answer it.
Errors come back as ``{"error": message}`` with the status of the :class:`~ppcti.errors.PpctiError`.
An optional bearer token (given by the caller, never read here) guards every endpoint; TLS is the
caller's ``ssl.SSLContext``.
"""

from __future__ import annotations

import hmac
import os
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from ppcti.errors import FHEError, PpctiError, UnknownBlacklist
from ppcti.fhe.fileformat import FheFile, dump_bytes, parse_bytes, read_file
from ppcti.fhe.keys import LoadedKey, load_public
from ppcti.fhe.server import correlate_loaded

#: Largest query accepted (a query of 100,000 addresses is about 40 MB).
DEFAULT_MAX_QUERY_BYTES = 256 * 1024 * 1024


@dataclass(slots=True)
class _Blacklist:
    name: str
    file: FheFile
    key: LoadedKey


class CorrelationService:
    """Loaded keys and blacklists; :meth:`correlate` is the whole server side of one request."""

    def __init__(
        self,
        blacklists: Sequence[str | os.PathLike[str]],
        publics: Sequence[str | os.PathLike[str]],
        *,
        threads: int = 1,
    ) -> None:
        keys: dict[str, LoadedKey] = {}
        for path in publics:
            key = load_public(path)
            keys[key.key_id] = key
        self.blacklists: dict[str, _Blacklist] = {}
        for path in blacklists:
            path = os.fspath(path)
            file = read_file(path, "blacklist")
            key = keys.get(str(file.header.get("key_id")))
            if key is None:
                raise FHEError("blacklist was encrypted for a key the service was not given", file=path)
            if file.header.get("params_fingerprint") != key.fingerprint:
                raise FHEError("blacklist was made with other FHE parameters than its key", file=path)
            name = str(file.header.get("name") or os.path.basename(path))
            if name in self.blacklists:
                raise FHEError(f"two blacklists are named {name!r}; rename one (--name)", file=path)
            self.blacklists[name] = _Blacklist(name, file, key)
        if not self.blacklists:
            raise FHEError("the service needs at least one blacklist")
        self.threads = threads
        # SEAL work forks worker processes; one correlation at a time keeps the cores for it
        self._lock = threading.Lock()

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": b.name,
                "key_id": b.key.key_id,
                "params_fingerprint": b.key.fingerprint,
                "kinds": b.file.header.get("kinds") or [],
            }
            for b in self.blacklists.values()
        ]

    def correlate(self, query: bytes, blacklist: str | None = None) -> bytes:
        """The encrypted result container for one query, against the named (or the only fitting) list."""
        qfile = parse_bytes(query, "query", "request body")
        key_id = qfile.header.get("key_id")
        if blacklist is None:
            fitting = [b for b in self.blacklists.values() if b.key.key_id == key_id]
            if len(fitting) != 1:
                raise FHEError(f"{len(fitting)} blacklists fit this query's key; name one (?blacklist=NAME)")
            chosen = fitting[0]
        else:
            found = self.blacklists.get(blacklist)
            if found is None:
                raise UnknownBlacklist("no blacklist of that name on this service")
            chosen = found
        with self._lock:
            header, results, _skipped, _used = correlate_loaded(
                chosen.key,
                qfile,
                chosen.file,
                query_path="request body",
                blacklist_path=chosen.name,
                threads=self.threads,
            )
        return dump_bytes(header, results)


def _handler(service: CorrelationService, token: str | None, max_bytes: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ppcti-fhe"
        sys_version = ""
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Request lines only go to stderr when asked; they never carry data, only paths."""

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str) -> None:
            self._send(status, orjson.dumps({"error": message}), "application/json")

        def _authorised(self) -> bool:
            if token is None:
                return True
            given = self.headers.get("Authorization", "")
            if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return True
            self._error(401, "missing or wrong bearer token")
            return False

        def do_GET(self) -> None:
            if not self._authorised():
                return
            path = urlsplit(self.path).path
            if path == "/v1/health":
                self._send(200, b'{"status":"ok"}', "application/json")
            elif path == "/v1/blacklists":
                self._send(200, orjson.dumps(service.describe()), "application/json")
            else:
                self._error(404, "no such endpoint")

        def do_POST(self) -> None:
            if not self._authorised():
                return
            url = urlsplit(self.path)
            if url.path != "/v1/correlate":
                self._error(404, "no such endpoint")
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._error(411, "Content-Length required")
                return
            if length <= 0 or length > max_bytes:
                self.close_connection = True
                self._error(413, f"query must be 1 to {max_bytes} bytes")
                return
            body = self.rfile.read(length)
            names = parse_qs(url.query).get("blacklist")
            try:
                result = service.correlate(body, names[0] if names else None)
            except PpctiError as exc:
                self._error(exc.http_status, exc.message)
                return
            self._send(200, result, "application/octet-stream")

    return Handler


def make_server(
    service: CorrelationService,
    host: str,
    port: int,
    *,
    token: str | None = None,
    tls: ssl.SSLContext | None = None,
    max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES,
) -> ThreadingHTTPServer:
    """A bound server (``port`` 0 picks a free one: read ``server.server_address``)."""
    server = ThreadingHTTPServer((host, port), _handler(service, token, max_query_bytes))
    server.daemon_threads = True
    if tls is not None:
        # the handshake runs in the request thread, so a slow client cannot hold up accept()
        server.socket = tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    return server
