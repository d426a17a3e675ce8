"""The data holder's side: verify the enclave on the connection, then upload, wait, collect, check.

The TLS handshake completes without certificate validation by ``ssl`` (the certificate is self-signed
by design); before the first byte of application data, :func:`ppcti.tee.verify.verify_certificate`
judges the peer certificate of *this* socket against the policy, and only then does the client speak.
If the connection must be re-opened, the new one is verified again and must present the same key.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import secrets
import ssl
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from ppcti.errors import AttestationRefused, TeeError
from ppcti.tee.digest import file_sha256
from ppcti.tee.policy import Policy
from ppcti.tee.ratls import Envelope, spki_der
from ppcti.tee.receipt import ATTESTATION_FILE, RECEIPT_FILE, check_receipt_signature
from ppcti.tee.verify import Attestation, verify_certificate, verify_envelope

Progress = Callable[[str, int, int], None]
SEND_BLOCK = 1024 * 1024


class AttestedConnection:
    """One HTTPS connection to the service whose peer was verified before any request."""

    def __init__(self, service_url: str, policy: Policy, *, timeout: float = 600.0) -> None:
        url = urlsplit(service_url)
        if url.scheme != "https" or not url.hostname:
            raise TeeError(f"the service address must be https://HOST:PORT, not {service_url!r}")
        self.host, self.port = url.hostname, url.port or 443
        self.policy = policy
        self.timeout = timeout
        self.attestation: Attestation | None = None
        self._spki: bytes | None = None
        self._conn: http.client.HTTPSConnection | None = None

    def _context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # no CA vouches for an enclave: we verify the evidence below
        return context

    def connect(self) -> Attestation:
        conn = http.client.HTTPSConnection(
            self.host, self.port, context=self._context(), timeout=self.timeout
        )
        try:
            conn.connect()
        except OSError as exc:
            raise TeeError(f"cannot reach the service at {self.host}:{self.port}: {exc}") from None
        assert conn.sock is not None
        try:
            der = conn.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
            if not der:
                raise AttestationRefused(["the service presented no certificate"])
            certificate, attestation = verify_certificate(der, self.policy)
            spki = spki_der(certificate)
            if self._spki is not None and spki != self._spki:
                raise AttestationRefused(["the service's key changed between connections"])
            self._conn = conn
            if self.policy.nonce:
                attestation = self._challenge(spki)
        except BaseException:
            conn.close()
            self._conn = None
            raise
        self._spki, self.attestation = spki, attestation
        return attestation

    def _challenge(self, spki: bytes) -> Attestation:
        nonce = secrets.token_hex(32)
        status, body = self.request("GET", f"/v1/attestation?nonce={nonce}")
        if status != 200:
            raise AttestationRefused([f"the service did not answer our nonce (HTTP {status})"])
        try:
            envelope = Envelope.from_json(body)
        except ValueError as exc:
            raise AttestationRefused([str(exc)]) from None
        return verify_envelope(envelope, spki, self.policy, nonce=nonce)

    @property
    def conn(self) -> http.client.HTTPSConnection:
        if self._conn is None:
            self.connect()
        assert self._conn is not None
        return self._conn

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2 or method != "GET":
                    raise TeeError("the service closed the connection") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def server_spki(self) -> bytes | None:
        return self._spki


def _check(status: int, body: bytes, expected: int) -> dict[str, Any]:
    try:
        data = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        data = {}
    if status != expected:
        message = data.get("error") if isinstance(data, dict) else None
        raise TeeError(
            f"the service refused (HTTP {status}): {message or 'no reason given'}", http_status=status
        )
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True, slots=True)
class SubmitResult:
    out: Path
    attestation: Attestation
    receipt: dict[str, Any]
    upload_sha256: str


def _safe_extract(tar: tarfile.TarFile, out: Path) -> None:
    for member in tar:
        if not member.isfile() and not member.isdir():
            raise TeeError(f"unexpected entry in the result: {member.name!r}")
        tar.extract(member, out, filter="data")


def submit(
    upload: Path,
    *,
    holder: str,
    service_url: str,
    policy: Policy,
    public_key: Path,
    out: Path,
    options: dict[str, Any] | None = None,
    progress: Progress | None = None,
    poll: float = 0.5,
) -> SubmitResult:
    """The whole client side of a session; raises :class:`TeeError` (or AttestationRefused) on refusal."""
    if not upload.is_file():
        raise TeeError(f"the upload must be one file (a ZIP for several): {upload}")
    if not public_key.is_file():
        raise TeeError(f"no FHE public key at {public_key} (ppcti fhe keygen makes one)")
    report = progress or (lambda stage, done, total: None)
    link = AttestedConnection(service_url, policy)
    try:
        attestation = link.connect()
        size = upload.stat().st_size
        opened = _check(
            *link.request(
                "POST",
                "/v1/sessions",
                orjson.dumps(
                    {
                        "holder": holder,
                        "upload_name": upload.name,
                        "upload_size": size,
                        "options": options or {},
                    }
                ),
                {"Content-Type": "application/json"},
            ),
            201,
        )
        base, auth = f"/v1/sessions/{opened['session']}", {"Authorization": f"Bearer {opened['token']}"}
        _check(*link.request("PUT", f"{base}/public-key", public_key.read_bytes(), auth), 200)
        digest = _send_upload(link, f"{base}/upload", upload, size, auth, report)
        _check(*link.request("POST", f"{base}/run", b"", auth), 202)
        while True:
            status = _check(*link.request("GET", base, None, auth), 200)
            stage = status.get("progress") or {}
            report(str(stage.get("stage", "queued")), int(stage.get("done", 0)), int(stage.get("total", 0)))
            if status["state"] in ("done", "failed"):
                break
            time.sleep(poll)
        if status["state"] == "failed":
            _check(*link.request("POST", f"{base}/finish", b"", auth), 200)
            raise TeeError(f"the service could not process the upload: {status.get('error')}")
        out.mkdir(parents=True, exist_ok=True)
        link.conn.request("GET", f"{base}/result", headers=auth)
        response = link.conn.getresponse()
        if response.status != 200:
            _check(response.status, response.read(), 200)
        buffered = io.BufferedReader(response, buffer_size=SEND_BLOCK)  # type: ignore[arg-type]
        with tarfile.open(fileobj=buffered, mode="r|") as tar:
            _safe_extract(tar, out)
        response.read()
        receipt = _check(*link.request("POST", f"{base}/finish", b"", auth), 200)
    finally:
        link.close()
    body = _check_receipt(receipt, link.server_spki, digest, out)
    (out / ATTESTATION_FILE).write_bytes(
        orjson.dumps(attestation.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"
    )
    (out / RECEIPT_FILE).write_bytes(orjson.dumps(receipt, option=orjson.OPT_INDENT_2) + b"\n")
    return SubmitResult(out=out, attestation=attestation, receipt=body, upload_sha256=digest)


def _send_upload(
    link: AttestedConnection, path: str, upload: Path, size: int, auth: dict[str, str], report: Progress
) -> str:
    conn = link.conn
    conn.putrequest("PUT", path)
    for name, value in {
        **auth,
        "Content-Length": str(size),
        "Content-Type": "application/octet-stream",
    }.items():
        conn.putheader(name, value)
    conn.endheaders()
    digest, sent = hashlib.sha256(), 0
    with open(upload, "rb") as handle:
        while block := handle.read(SEND_BLOCK):
            conn.send(block)
            digest.update(block)
            sent += len(block)
            report("upload (sealed on arrival)", sent, size)
    response = conn.getresponse()
    answer = _check(response.status, response.read(), 200)
    if answer.get("sha256") != digest.hexdigest():
        raise TeeError("the service received different bytes than were sent")
    return digest.hexdigest()


def _check_receipt(
    document: dict[str, Any], spki: bytes | None, upload_sha256: str, out: Path
) -> dict[str, Any]:
    body, certificate = check_receipt_signature(document)
    if spki_der(certificate) != spki:
        raise TeeError("the receipt is not signed by the key of the verified connection")
    if body.get("upload", {}).get("sha256") != upload_sha256:
        raise TeeError("the receipt names a different upload than the one sent")
    for name, expected in body.get("results", {}).items():
        path = out / name
        if not path.is_file() or file_sha256(path) != expected:
            raise TeeError(f"result file {name} does not match the receipt")
    if not body.get("session_key_destroyed_at") or not body.get("files_removed"):
        raise TeeError("the receipt does not confirm that the session was shredded")
    return body
