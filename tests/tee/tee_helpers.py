"""Helpers shared by the TEE tests (imported by name: pytest puts this folder on the path)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from ppcti.tee.service import RaTlsServer, TeeService

FW = (
    "Mar/07/2023 10:38:03 firewall,info prerouting: in:ether1 out:(unknown 0), connection-state:new "
    "src-mac 00:17:10:88:BC:02, proto TCP (SYN), 203.0.113.{i}:51234->10.0.0.5:22, len 60"
)
FAST = {"skip": ["pii", "analysis", "report"], "nlp": "regex"}


@dataclass
class ServiceHandle:
    server: RaTlsServer
    service: TeeService
    url: str
    state: Path

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def firewall_upload(path: Path, marker: str, lines: int = 40) -> Path:
    """A firewall log whose lines carry ``marker`` in the interface name and in a garbage line."""
    text = "\n".join(FW.format(i=i % 250 + 1).replace("ether1", f"ether1-{marker}") for i in range(lines))
    path.write_text(text + f"\n{marker} garbage line\n")
    return path


def marker_forms(marker: str) -> list[bytes]:
    """The marker raw and base64-encoded at each of the three alignments (edge characters dropped)."""
    raw = marker.encode()
    forms = [raw]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        start = (shift * 4 + 2) // 3 + 1
        forms.append(encoded[start : len(encoded) - 3])
    return forms


def files_containing(roots: list[Path], marker: str) -> list[Path]:
    forms = marker_forms(marker)
    hits = []
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(form in data for form in forms):
                    hits.append(path)
    return hits


class CertificateServer:
    """A bare TLS 1.3 server presenting a chosen certificate; counts the application bytes it receives."""

    def __init__(self, certificate: object, key: object) -> None:
        import os
        import socket
        import ssl
        import threading

        from cryptography.hazmat.primitives import serialization

        self.received = 0
        self.handshakes = 0
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        pem = certificate.public_bytes(serialization.Encoding.PEM) + key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.memfd_create("test-cert")
        os.write(fd, pem)
        context.load_cert_chain(f"/proc/self/fd/{fd}")
        os.close(fd)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._context = context
        self.url = f"https://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        import ssl

        while True:
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return
            try:
                with self._context.wrap_socket(raw, server_side=True) as tls:
                    self.handshakes += 1
                    tls.settimeout(5)
                    while data := tls.recv(65536):
                        self.received += len(data)
            except (ssl.SSLError, OSError):
                continue

    def close(self) -> None:
        self._listener.close()
