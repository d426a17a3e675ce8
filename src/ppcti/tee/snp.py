"""AMD SEV-SNP attestation report (ABI spec 56860, table "ATTESTATION_REPORT"): parse and check.

No maintained Python verifier for SNP reports exists on PyPI, so the few checks are written here with
``cryptography``: the report's ECDSA P-384 signature against the VCEK certificate, and, when the AMD
chain is given, VCEK ← ASK ← ARK. The collateral (VCEK, ASK, ARK from AMD's key distribution service) is
given offline by the client; nothing is fetched.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

REPORT_SIZE = 0x4A0
SIGNED_SIZE = 0x2A0
#: Guest policy bit 19: debugging allowed (the hypervisor can read and write guest memory).
POLICY_DEBUG = 1 << 19


@dataclass(frozen=True, slots=True)
class SnpReport:
    version: int
    guest_svn: int
    policy: int
    vmpl: int
    report_data: bytes
    measurement: bytes
    host_data: bytes
    reported_tcb: int
    raw: bytes

    @property
    def debug(self) -> bool:
        return bool(self.policy & POLICY_DEBUG)


def parse_snp_report(raw: bytes) -> SnpReport:
    if len(raw) != REPORT_SIZE:
        raise ValueError(f"an SEV-SNP report is {REPORT_SIZE} bytes, not {len(raw)}")
    version, guest_svn, policy = struct.unpack_from("<IIQ", raw, 0)
    (vmpl,) = struct.unpack_from("<I", raw, 0x30)
    (reported_tcb,) = struct.unpack_from("<Q", raw, 0x180)
    return SnpReport(
        version=version,
        guest_svn=guest_svn,
        policy=policy,
        vmpl=vmpl,
        report_data=raw[0x50:0x90],
        measurement=raw[0x90:0xC0],
        host_data=raw[0xC0:0xE0],
        reported_tcb=reported_tcb,
        raw=raw,
    )


def verify_snp_signature(report: SnpReport, vcek_pem: bytes, chain_pem: bytes | None = None) -> None:
    """Raise ``ValueError`` unless the VCEK signed the report (and the chain, if given, signed the VCEK)."""
    vcek = x509.load_pem_x509_certificate(vcek_pem)
    if chain_pem:
        certs = x509.load_pem_x509_certificates(chain_pem)  # ASK then ARK, as AMD's KDS serves them
        if len(certs) != 2:
            raise ValueError("the AMD chain must hold the ASK and the ARK")
        ask, ark = certs
        try:
            ark.verify_directly_issued_by(ark)
            ask.verify_directly_issued_by(ark)
            vcek.verify_directly_issued_by(ask)
        except (InvalidSignature, ValueError, TypeError) as exc:
            raise ValueError(f"the VCEK does not chain to the given AMD root: {exc}") from None
    r = int.from_bytes(report.raw[0x2A0 : 0x2A0 + 72], "little")
    s = int.from_bytes(report.raw[0x2E8 : 0x2E8 + 72], "little")
    key = vcek.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("the VCEK is not an ECDSA key")
    try:
        key.verify(encode_dss_signature(r, s), report.raw[:SIGNED_SIZE], ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise ValueError("the SEV-SNP report signature does not verify under the VCEK") from None
