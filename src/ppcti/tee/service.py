"""The service: HTTPS whose TLS terminates inside the enclave, one sealed session per upload.

Standard-library HTTP (``http.server.ThreadingHTTPServer``) wrapped in ``ssl`` TLS 1.3; there is no
plain-HTTP listener. The TLS handshake runs in the connection's own thread, so a slow client cannot
stall the others. Protocol (every session call carries ``Authorization: Bearer <token>``)::

    GET  /v1/attestation?nonce=HEX        fresh evidence over the client's nonce, for this TLS key
    POST /v1/sessions                     {holder, upload_name, upload_size, options} -> {session, token}
    PUT  /v1/sessions/ID/public-key       the holder's FHE public key
    PUT  /v1/sessions/ID/upload           the upload, streamed and sealed chunk by chunk
    POST /v1/sessions/ID/run              start processing (202)
    GET  /v1/sessions/ID                  state and progress
    GET  /v1/sessions/ID/result           the results (a tar stream, decrypted on the fly)
    POST /v1/sessions/ID/finish           shred the session; answers the signed receipt

Errors are JSON ``{"error": message}`` with the status of the :class:`~ppcti.errors.PpctiError`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import ssl
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socket import socket
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ppcti.errors import PpctiError, TeeError
from ppcti.tee.backends import EnclaveBackend
from ppcti.tee.limits import Limits
from ppcti.tee.processing import PUBLIC_KEY_FILE, RESULT_FILE, UPLOAD_FILE, process_session
from ppcti.tee.ratls import issue_certificate, make_envelope, new_key, spki_der
from ppcti.tee.receipt import iso, sign_receipt
from ppcti.tee.sealing import CHUNK, SealedWriter, read_sealed
from ppcti.tee.sessions import Session, SessionStore
from ppcti.tee.verify import SIMULATION_VERDICT

log = logging.getLogger("ppcti.tee")

HANDSHAKE_TIMEOUT = 30.0
IDLE_TIMEOUT = 600.0
MAX_JSON = 64 * 1024
_SESSION_PATH = re.compile(r"^/v1/sessions/([0-9a-f]{32})(?:/(public-key|upload|run|result|finish))?$")


class TeeService:
    """State shared by all connections: the backend, the attested key and certificate, the sessions."""

    def __init__(
        self, backend: EnclaveBackend, state_dir: Path, limits: Limits = Limits(), *, refresh: int = 3600
    ) -> None:
        self.backend = backend
        self.refresh = refresh
        self.key = new_key()
        self.measurement = backend.measurement()
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.store = SessionStore(state_dir, backend.sealing_key(), limits)
        self.orphans = self.store.recover()
        self.certificate: x509.Certificate
        self.ssl_context: ssl.SSLContext
        self.reissue()

    @property
    def verdict(self) -> str:
        return SIMULATION_VERDICT if self.backend.simulated else f"hardware TEE ({self.backend.platform})"

    def reissue(self) -> None:
        """New evidence and certificate for the same key; new connections get them (old ones keep theirs)."""
        certificate = issue_certificate(
            self.backend, self.key, lifetime=timedelta(seconds=max(2 * self.refresh, 3600))
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        password = secrets.token_bytes(32)
        pem = certificate.public_bytes(serialization.Encoding.PEM) + self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
        # ssl loads keys only from a path: an anonymous in-memory file where the kernel has memfd
        # (Gramine has not), else a file removed at once; the PEM is encrypted either way.
        try:
            fd = os.memfd_create("ppcti-tls", os.MFD_CLOEXEC)
            path = f"/proc/self/fd/{fd}"
        except OSError:
            path = str(self.store.root.parent / f".tls-{secrets.token_hex(8)}.pem")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, pem)
            context.load_cert_chain(path, password=password)
        finally:
            os.close(fd)
            if not path.startswith("/proc/"):
                os.unlink(path)
        self.certificate, self.ssl_context = certificate, context

    def fresh_envelope(self, nonce: str) -> bytes:
        return make_envelope(self.backend, spki_der(self.certificate), nonce=nonce).to_json()

    def receipt(self, session: Session, destroyed_at: float) -> dict[str, Any]:
        body = {
            "verdict": self.verdict,
            "session_id": session.id,
            "holder": session.holder,
            "platform": self.backend.platform,
            "measurement": self.measurement,
            "upload": {
                "name": session.upload_name,
                "bytes": session.upload_size,
                "sha256": session.upload_sha256,
            },
            "results": session.results,
            "state": session.state,
            "error": session.error,
            "started_at": iso(session.created_at),
            "processed_at": iso(session.processed_at) if session.processed_at else None,
            "session_key_destroyed_at": iso(destroyed_at),
            "files_removed": not session.folder.exists(),
        }
        return sign_receipt(body, self.key, self.certificate)

    def run_session(self, session: Session) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            session.progress = {"stage": stage, "done": done, "total": total}

        try:
            process_session(session, progress)
            session.state = "done"
        except PpctiError as exc:
            session.state, session.error = "failed", str(exc)
        except Exception:
            log.exception("session %s: processing failed", session.id)
            session.state, session.error = "failed", "internal error in the service (see its log)"


class _CountingReader:
    """Counts application bytes received, so tests can prove a client sent nothing before verifying."""

    def __init__(self, raw: IO[bytes], server: RaTlsServer) -> None:
        self._raw, self._server = raw, server

    def _count(self, data: bytes) -> bytes:
        with self._server.count_lock:
            self._server.bytes_received += len(data)
        return data

    def read(self, size: int = -1) -> bytes:
        return self._count(self._raw.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._count(self._raw.readline(size))

    def close(self) -> None:
        self._raw.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RaTlsServer

    def setup(self) -> None:
        super().setup()
        self.rfile = _CountingReader(self.rfile, self.server)  # type: ignore[assignment]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- plumbing ---------------------------------------------------------------------------------------
    def _json(self, status: int, data: Any) -> None:
        body = orjson.dumps(data)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _length(self) -> int:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise TeeError("Content-Length is required", http_status=411) from None
        if length < 0:
            raise TeeError("bad Content-Length")
        return length

    def _body_json(self) -> dict[str, Any]:
        length = self._length()
        if length > MAX_JSON:
            raise TeeError("request too large", http_status=413)
        try:
            data = orjson.loads(self.rfile.read(length))
        except orjson.JSONDecodeError:
            raise TeeError("the request body is not JSON") from None
        if not isinstance(data, dict):
            raise TeeError("the request body must be a JSON object")
        return data

    def _session(self, session_id: str) -> Session:
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        return self.server.service.store.get(session_id, token)

    def _dispatch(self, method: str) -> None:
        self.close_connection = False
        try:
            self._route(method)
        except PpctiError as exc:
            self.close_connection = True  # the body may be unread: do not reuse the connection
            self._json(exc.http_status, {"error": str(exc)})
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True
        except Exception:
            log.exception("request failed")
            self.close_connection = True
            self._json(500, {"error": "internal error in the service (see its log)"})

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        service = self.server.service
        if url.path == "/v1/attestation" and method == "GET":
            nonce = parse_qs(url.query).get("nonce", [""])[0]
            if not re.fullmatch(r"[0-9a-f]{32,128}", nonce):
                raise TeeError("nonce must be 32 to 128 lowercase hex digits")
            body = service.fresh_envelope(nonce)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if url.path == "/v1/sessions" and method == "POST":
            return self._open(service)
        match = _SESSION_PATH.match(url.path)
        if not match:
            raise TeeError("not found", http_status=404)
        session = self._session(match.group(1))
        action = (method, match.group(2))
        handlers = {
            ("GET", None): self._status,
            ("PUT", "public-key"): self._public_key,
            ("PUT", "upload"): self._upload,
            ("POST", "run"): self._run,
            ("GET", "result"): self._result,
            ("POST", "finish"): self._finish,
        }
        if action not in handlers:
            raise TeeError("method not allowed", http_status=405)
        handlers[action](session)

    # -- endpoints --------------------------------------------------------------------------------------
    def _open(self, service: TeeService) -> None:
        data = self._body_json()
        holder, name, size = data.get("holder"), data.get("upload_name"), data.get("upload_size")
        options = data.get("options") or {}
        if not isinstance(holder, str) or not holder.strip():
            raise TeeError("holder must name the data holder")
        if not isinstance(name, str) or not isinstance(size, int) or size < 0:
            raise TeeError("upload_name and upload_size (bytes) are required")
        if not isinstance(options, dict):
            raise TeeError("options must be an object")
        session = service.store.create(holder, name, size, options)
        self._json(201, {"session": session.id, "token": session.token, "deadline": int(session.deadline)})

    def _status(self, session: Session) -> None:
        self._json(200, session.status())

    def _stream_in(self, length: int, sink: Any, digest: Any = None) -> None:
        left = length
        while left:
            block = self.rfile.read(min(CHUNK, left))
            if not block:
                raise TeeError("the connection closed before the body was complete")
            sink.write(block)
            if digest is not None:
                digest.update(block)
            left -= len(block)

    def _public_key(self, session: Session) -> None:
        length = self._length()
        if length > self.server.service.store.limits.max_public_key_bytes:
            raise TeeError("the public key is over the service's limit", http_status=413)
        with session.lock:
            if session.state != "created":
                raise TeeError(
                    f"the public key is sent before the upload (session is {session.state})", http_status=409
                )
            path = session.folder / PUBLIC_KEY_FILE
            with open(path, "wb") as out:
                self._stream_in(length, out)
        self._json(200, {"bytes": length})

    def _upload(self, session: Session) -> None:
        length = self._length()
        if length != session.upload_size:
            raise TeeError(f"the upload is {length} bytes, but {session.upload_size} were announced")
        with session.lock:
            if session.state != "created" or not (session.folder / PUBLIC_KEY_FILE).exists():
                raise TeeError("send the public key first, and the upload only once", http_status=409)
            session.state = "uploading"
            digest = hashlib.sha256()
            try:
                with SealedWriter(session.folder / UPLOAD_FILE, session.key, "upload") as sealed:
                    self._stream_in(length, sealed, digest)
            except BaseException:
                (session.folder / UPLOAD_FILE).unlink(missing_ok=True)
                session.state = "created"
                raise
            session.upload_sha256 = digest.hexdigest()
            session.state = "sealed"
        self._json(200, {"bytes": length, "sha256": session.upload_sha256})

    def _run(self, session: Session) -> None:
        with session.lock:
            if session.state != "sealed":
                raise TeeError(f"nothing to run (session is {session.state})", http_status=409)
            session.state = "processing"
        threading.Thread(target=self.server.service.run_session, args=(session,), daemon=True).start()
        self._json(202, session.status())

    def _result(self, session: Session) -> None:
        if session.state != "done":
            raise TeeError(f"no result (session is {session.state})", http_status=409)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-tar")
        self.send_header("Content-Length", str(session.result_size))
        self.end_headers()
        for chunk in read_sealed(session.folder / RESULT_FILE, session.key, "result"):
            self.wfile.write(chunk)

    def _finish(self, session: Session) -> None:
        with session.lock:
            if session.state in ("uploading", "processing"):
                raise TeeError(f"the session is still {session.state}", http_status=409)
            destroyed = self.server.service.store.shred(session, reason="finished")
        self._json(200, self.server.service.receipt(session, destroyed))


class RaTlsServer(ThreadingHTTPServer):
    """Accepts TCP, then does the TLS 1.3 handshake in the connection's thread."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], service: TeeService) -> None:
        self.service = service
        self.bytes_received = 0
        self.count_lock = threading.Lock()
        self._stop = threading.Event()
        super().__init__(address, _Handler)
        threading.Thread(target=self._housekeeping, daemon=True).start()

    def finish_request(self, request: socket, client_address: Any) -> None:  # type: ignore[override]
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.service.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.info("TLS handshake with %s failed: %s", client_address[0], type(exc).__name__)
            return
        try:
            tls.settimeout(IDLE_TIMEOUT)
            self.RequestHandlerClass(tls, client_address, self)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass
        finally:
            tls.close()

    def _housekeeping(self) -> None:
        last_issue = time.monotonic()
        while not self._stop.wait(2.0):
            self.service.store.expire()
            if time.monotonic() - last_issue > self.service.refresh:
                self.service.reissue()
                last_issue = time.monotonic()

    def server_close(self) -> None:
        self._stop.set()
        super().server_close()
        self.service.store.close_all()
