"""Intel SGX DCAP quote, version 3: the byte layout, parsed and (for the simulation only) built.

The layout follows Intel's "SGX ECDSA Quote Library API" (quote format v3): a 48-byte header, the
384-byte enclave report body, then the length-prefixed ECDSA signature data. Parsing is hand-written
because it is twenty fixed offsets; checking the signature chain is not, and is left to ``dcap-qvl``
(see :mod:`ppcti.tee.verify`). The simulation builds a quote of exactly this shape with the DEBUG
attribute set and an all-zero signature, so the same parser and the same policy judge it, and no
verifier can mistake it for a signed one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

QUOTE_VERSION = 3
#: ECDSA-256-with-P-256 curve attestation key.
ATT_KEY_ECDSA_P256 = 2
#: Intel's Quoting Enclave vendor id.
INTEL_QE_VENDOR_ID = bytes.fromhex("939a7233f79c4ca9940a0db3957f0607")
#: Header ``user_data`` of a simulated quote: readable in a hex dump, never produced by Intel's QE.
SIMULATION_USER_DATA = b"ppcti-simulation" + bytes(4)

HEADER_SIZE = 48
REPORT_BODY_SIZE = 384
#: SGX ``ATTRIBUTES.FLAGS`` bits.
FLAG_INIT = 0x01
FLAG_DEBUG = 0x02
FLAG_MODE64BIT = 0x04
#: Certification data type 5: the PCK certificate chain in PEM.
CERT_TYPE_PCK_CHAIN = 5

_HEADER = struct.Struct("<HHIHH16s20s")
_BODY = struct.Struct("<16sI28sQQ32s32s32s96sHH60s64s")
assert _HEADER.size == HEADER_SIZE
assert _BODY.size == REPORT_BODY_SIZE


@dataclass(frozen=True, slots=True)
class SgxQuote:
    """The fields of a v3 quote that a policy looks at."""

    version: int
    att_key_type: int
    qe_svn: int
    pce_svn: int
    qe_vendor_id: bytes
    user_data: bytes
    cpu_svn: bytes
    misc_select: int
    attribute_flags: int
    xfrm: int
    mr_enclave: bytes
    mr_signer: bytes
    isv_prod_id: int
    isv_svn: int
    report_data: bytes
    signature_data: bytes

    @property
    def debug(self) -> bool:
        """The enclave was launched in debug mode: its memory can be read by the host's debugger."""
        return bool(self.attribute_flags & FLAG_DEBUG)

    @property
    def signature_is_blank(self) -> bool:
        """No signature at all (the simulation's quotes): nothing a verifier could check."""
        return not any(self.signature_data[:128])


def parse_sgx_quote(raw: bytes) -> SgxQuote:
    """Parse a v3 SGX quote; ``ValueError`` names what is wrong with a malformed one."""
    if len(raw) < HEADER_SIZE + REPORT_BODY_SIZE + 4:
        raise ValueError(f"quote too short ({len(raw)} bytes) for an SGX v3 quote")
    version, akt, tee_type, qe_svn, pce_svn, vendor, user_data = _HEADER.unpack_from(raw, 0)
    if version != QUOTE_VERSION:
        raise ValueError(f"quote version {version}, expected 3 (SGX DCAP)")
    if tee_type != 0:
        raise ValueError(f"quote TEE type {tee_type:#x} is not SGX")
    (cpu_svn, misc, _r1, flags, xfrm, mr_enclave, _r2, mr_signer, _r3, prod_id, isv_svn, _r4, rdata) = (
        _BODY.unpack_from(raw, HEADER_SIZE)
    )
    offset = HEADER_SIZE + REPORT_BODY_SIZE
    (sig_len,) = struct.unpack_from("<I", raw, offset)
    sig = raw[offset + 4 : offset + 4 + sig_len]
    if len(sig) != sig_len:
        raise ValueError("quote signature data is truncated")
    if offset + 4 + sig_len != len(raw):
        raise ValueError("bytes after the quote's signature data")
    return SgxQuote(
        version=version,
        att_key_type=akt,
        qe_svn=qe_svn,
        pce_svn=pce_svn,
        qe_vendor_id=vendor,
        user_data=user_data,
        cpu_svn=cpu_svn,
        misc_select=misc,
        attribute_flags=flags,
        xfrm=xfrm,
        mr_enclave=mr_enclave,
        mr_signer=mr_signer,
        isv_prod_id=prod_id,
        isv_svn=isv_svn,
        report_data=rdata,
        signature_data=sig,
    )


def build_simulated_quote(
    report_data: bytes, *, mr_enclave: bytes, mr_signer: bytes, isv_prod_id: int = 1, isv_svn: int = 0
) -> bytes:
    """A v3 quote with DEBUG set and a blank signature: the shape of real evidence, none of its proof."""
    if len(report_data) != 64 or len(mr_enclave) != 32 or len(mr_signer) != 32:
        raise ValueError("report data is 64 bytes, measurements 32 bytes")
    header = _HEADER.pack(
        QUOTE_VERSION, ATT_KEY_ECDSA_P256, 0, 0, 0, INTEL_QE_VENDOR_ID, SIMULATION_USER_DATA
    )
    body = _BODY.pack(
        bytes(16),
        0,
        bytes(28),
        FLAG_INIT | FLAG_DEBUG | FLAG_MODE64BIT,
        0x3,
        mr_enclave,
        bytes(32),
        mr_signer,
        bytes(96),
        isv_prod_id,
        isv_svn,
        bytes(60),
        report_data,
    )
    # Signature (64), attestation key (64), QE report (384), QE report signature (64): all zero;
    # no QE authentication data; certification data of type 5 with an empty chain.
    signature = bytes(64 + 64 + REPORT_BODY_SIZE + 64) + struct.pack("<H", 0)
    signature += struct.pack("<HI", CERT_TYPE_PCK_CHAIN, 0)
    return header + body + struct.pack("<I", len(signature)) + signature
