"""RA-TLS: a self-signed TLS certificate that carries the enclave's evidence for its own key.

The service makes its TLS key inside the enclave. The certificate holds one non-critical extension
(:data:`EVIDENCE_OID`) whose value is a small JSON envelope: the claims (platform, time of issue, nonce)
and the hardware evidence. The evidence's 64 bytes of report data are::

    SHA-256(certificate SubjectPublicKeyInfo DER) || SHA-256(canonical JSON of the claims)

so the evidence vouches for exactly this key (a quote replayed under another key does not match) and
for the time it was made (a policy can bound its age). A nonce answered on an open connection goes
through the same function with the client's nonce in the claims.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ppcti.tee.backends import EnclaveBackend

#: OID of the evidence extension: a UUID-derived OID (ITU-T X.667, arc 2.25), needing no registration.
EVIDENCE_OID = x509.ObjectIdentifier("2.25.231862461287352837006419446094960413781")
ENVELOPE_FORMAT = "ppcti-ratls/1"


@dataclass(frozen=True, slots=True)
class Envelope:
    """Claims and evidence as they travel (in the certificate or in a nonce answer)."""

    claims: dict[str, Any]
    evidence: bytes

    def to_json(self) -> bytes:
        return orjson.dumps(
            {"claims": self.claims, "evidence": base64.b64encode(self.evidence).decode()},
            option=orjson.OPT_SORT_KEYS,
        )

    @classmethod
    def from_json(cls, raw: bytes) -> Envelope:
        try:
            data = orjson.loads(raw)
            claims = data["claims"]
            evidence = base64.b64decode(data["evidence"], validate=True)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"the evidence envelope is malformed ({type(exc).__name__})") from None
        if not isinstance(claims, dict) or claims.get("format") != ENVELOPE_FORMAT:
            raise ValueError(f"the evidence envelope is not {ENVELOPE_FORMAT}")
        return cls(claims=claims, evidence=evidence)


def spki_der(certificate: x509.Certificate) -> bytes:
    return certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def report_data_for(spki: bytes, claims: dict[str, Any]) -> bytes:
    """The 64 bytes the evidence must carry for this key and these claims."""
    return (
        hashlib.sha256(spki).digest()
        + hashlib.sha256(orjson.dumps(claims, option=orjson.OPT_SORT_KEYS)).digest()
    )


def make_envelope(
    backend: EnclaveBackend, spki: bytes, *, nonce: str | None = None, now: float | None = None
) -> Envelope:
    claims = {
        "format": ENVELOPE_FORMAT,
        "platform": backend.platform,
        "evidence_format": backend.evidence_format,
        "simulated": backend.simulated,
        "issued_at": int(time.time() if now is None else now),
        "nonce": nonce,
    }
    return Envelope(claims=claims, evidence=backend.evidence(report_data_for(spki, claims)))


def issue_certificate(
    backend: EnclaveBackend,
    key: ec.EllipticCurvePrivateKey,
    *,
    lifetime: timedelta = timedelta(days=1),
    now: float | None = None,
) -> x509.Certificate:
    """A self-signed certificate for ``key`` with fresh evidence in its extension."""
    public = key.public_key()
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    envelope = make_envelope(backend, spki, now=now)
    start = datetime.fromtimestamp(envelope.claims["issued_at"], UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ppcti-tee ({backend.platform})")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - timedelta(minutes=5))
        .not_valid_after(start + lifetime)
        .add_extension(x509.UnrecognizedExtension(EVIDENCE_OID, envelope.to_json()), critical=False)
        .sign(key, hashes.SHA256())
    )


def new_key() -> ec.EllipticCurvePrivateKey:
    """The TLS (and receipt-signing) key: P-256, made in enclave memory, never written out."""
    return ec.generate_private_key(ec.SECP256R1())


def certificate_envelope(certificate: x509.Certificate) -> Envelope:
    """The envelope a certificate carries; ``ValueError`` when it has none or a broken one."""
    try:
        ext = certificate.extensions.get_extension_for_oid(EVIDENCE_OID)
    except x509.ExtensionNotFound:
        raise ValueError("the certificate carries no evidence extension") from None
    value = ext.value
    if not isinstance(value, x509.UnrecognizedExtension):
        raise ValueError("the evidence extension has an unexpected type")
    return Envelope.from_json(value.value)
