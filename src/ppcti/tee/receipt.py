"""Receipts: what the enclave did with an upload, signed by the enclave's attested key.

The signing key is the service's TLS key, made in the enclave and bound to the hardware evidence in the
certificate, so a receipt needs no separate trust: whoever trusts the connection trusts the receipt,
and ``ppcti tee verify-receipt`` re-checks it offline from the certificate it carries.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ppcti.errors import AttestationRefused, TeeError
from ppcti.tee.digest import file_sha256
from ppcti.tee.policy import Policy
from ppcti.tee.ratls import certificate_envelope, spki_der
from ppcti.tee.verify import SIMULATION_VERDICT, Attestation, is_bound, verify_envelope

RECEIPT_FORMAT = "ppcti-tee-receipt/1"
RECEIPT_FILE = "receipt.json"
ATTESTATION_FILE = "attestation.json"
SIGNATURE_ALGORITHM = "ecdsa-p256-sha256"


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _canonical(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def sign_receipt(
    body: dict[str, Any], key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> dict[str, Any]:
    body = {
        **body,
        "format": RECEIPT_FORMAT,
        "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
    }
    signature = key.sign(_canonical(body), ec.ECDSA(hashes.SHA256()))
    return {
        "receipt": body,
        "signature": {"algorithm": SIGNATURE_ALGORITHM, "value": base64.b64encode(signature).decode()},
    }


def check_receipt_signature(document: Any) -> tuple[dict[str, Any], x509.Certificate]:
    """The receipt body and its certificate, if the signature holds; :class:`TeeError` otherwise."""
    try:
        body = document["receipt"]
        signature = base64.b64decode(document["signature"]["value"], validate=True)
        algorithm = document["signature"]["algorithm"]
        certificate = x509.load_pem_x509_certificate(body["certificate"].encode())
    except (KeyError, TypeError, ValueError):
        raise TeeError("the receipt is malformed") from None
    if body.get("format") != RECEIPT_FORMAT or algorithm != SIGNATURE_ALGORITHM:
        raise TeeError(f"not a {RECEIPT_FORMAT} receipt signed with {SIGNATURE_ALGORITHM}")
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise TeeError("the receipt's certificate does not hold an ECDSA key")
    try:
        key.verify(signature, _canonical(body), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise TeeError(
            "the receipt's signature does not verify: it was altered or not signed by the enclave"
        ) from None
    return body, certificate


def result_path(folder: Path, name: object) -> Path:
    """Where a result file the receipt names is: only ever inside ``folder``. A receipt is checked
    before anything vouches for it, so its names are untrusted (``../../etc/passwd`` would otherwise
    make a checking server hash, and report on, its own files)."""
    parts = PurePosixPath(str(name)).parts
    if not parts or PurePosixPath(str(name)).is_absolute() or ".." in parts or "\\" in str(name):
        raise TeeError("the receipt names a result file outside its folder")
    return folder.joinpath(*parts)


def verify_receipt_dir(
    folder: Path, *, policy: Policy | None = None
) -> tuple[dict[str, Any], Attestation | None]:
    """Offline re-check of ``receipt.json`` in a submit folder: signature, key binding, file hashes.

    With a policy, the certificate's evidence is judged again as at the time it was issued (an old
    receipt is not refused for its age). Raises :class:`TeeError` on the first broken check.
    """
    try:
        document = orjson.loads((folder / RECEIPT_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise TeeError(f"cannot read {folder / RECEIPT_FILE}: {exc}") from None
    body, certificate = check_receipt_signature(document)
    try:
        envelope = certificate_envelope(certificate)
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, InvalidSignature, TypeError) as exc:
        raise TeeError(f"the receipt's certificate is broken: {exc}") from None
    spki = spki_der(certificate)
    attestation = None
    if policy is not None:
        try:
            attestation = verify_envelope(envelope, spki, policy, now=envelope.claims.get("issued_at"))
        except AttestationRefused as exc:
            raise TeeError(f"the receipt's evidence fails the policy: {'; '.join(exc.reasons)}") from None
    else:
        try:
            bound = is_bound(envelope, spki)
        except ValueError as exc:
            raise TeeError(f"the receipt's evidence cannot be read: {exc}") from None
        if not bound:
            raise TeeError("the receipt's evidence was not made for its signing key")
    if bool(envelope.claims.get("simulated")) != (body.get("verdict") == SIMULATION_VERDICT):
        raise TeeError("the receipt's verdict does not match its evidence")
    results = body.get("results")
    if not isinstance(results, dict) or not results:
        raise TeeError("the receipt lists no result files")
    for name, digest in results.items():
        path = result_path(folder, name)
        if not path.is_file():
            raise TeeError(f"result file {name} is missing")
        if file_sha256(path) != digest:
            raise TeeError(f"result file {name} differs from what the enclave produced")
    return body, attestation
