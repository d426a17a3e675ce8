"""Backends off their hardware: the Gramine pseudo-file protocol, and SEV-SNP report checks."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding

from ppcti.errors import TeeError
from ppcti.tee.backends import GramineSgxBackend, SimulationBackend
from ppcti.tee.quote import build_simulated_quote, parse_sgx_quote
from ppcti.tee.snp import POLICY_DEBUG, REPORT_SIZE, parse_snp_report, verify_snp_signature


def fake_attestation_dir(tmp_path: Path, kind: str = "dcap") -> Path:
    folder = tmp_path / "attestation"
    (folder / "keys").mkdir(parents=True)
    (folder / "attestation_type").write_text(kind + "\n")
    (folder / "keys" / "_sgx_mrenclave").write_bytes(b"K" * 16)
    (folder / "quote").write_bytes(
        build_simulated_quote(bytes(64), mr_enclave=b"M" * 32, mr_signer=b"S" * 32)
    )
    return folder


def test_gramine_backend_writes_report_data_then_reads_the_quote(tmp_path: Path) -> None:
    folder = fake_attestation_dir(tmp_path)
    backend = GramineSgxBackend(folder)
    quote = backend.evidence(bytes(range(64)))
    assert (folder / "user_report_data").read_bytes() == bytes(range(64))
    assert parse_sgx_quote(quote).mr_enclave == b"M" * 32
    assert backend.measurement() == {"mr_enclave": (b"M" * 32).hex(), "mr_signer": (b"S" * 32).hex()}
    key = backend.sealing_key()
    assert len(key) == 32 and key == GramineSgxBackend(folder).sealing_key()
    with pytest.raises(ValueError, match="64 bytes"):
        backend.evidence(b"short")


def test_gramine_backend_refuses_without_dcap(tmp_path: Path) -> None:
    with pytest.raises(TeeError, match="remote_attestation = dcap"):
        GramineSgxBackend(fake_attestation_dir(tmp_path, kind="none"))
    with pytest.raises(TeeError, match="inside a Gramine SGX enclave"):
        GramineSgxBackend(tmp_path / "missing")


def test_simulation_sealing_key_is_stable_and_private(tmp_path: Path) -> None:
    first = SimulationBackend(tmp_path).sealing_key()
    assert first == SimulationBackend(tmp_path).sealing_key()
    assert (tmp_path / "simulation-sealing.key").stat().st_mode & 0o077 == 0
    assert SimulationBackend(tmp_path / "other").sealing_key() != first


def _vcek() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name.from_rfc4514_string("CN=SEV-VCEK")
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA384())
    )
    return key, cert.public_bytes(Encoding.PEM)


def _report(key: ec.EllipticCurvePrivateKey, *, debug: bool) -> bytes:
    body = bytearray(REPORT_SIZE)
    struct.pack_into("<IIQ", body, 0, 2, 7, (1 << 17) | (POLICY_DEBUG if debug else 0))
    body[0x50:0x90] = bytes(range(64))
    body[0x90:0xC0] = b"L" * 48
    r, s = decode_dss_signature(key.sign(bytes(body[:0x2A0]), ec.ECDSA(hashes.SHA384())))
    body[0x2A0 : 0x2A0 + 72] = r.to_bytes(72, "little")
    body[0x2E8 : 0x2E8 + 72] = s.to_bytes(72, "little")
    return bytes(body)


def test_snp_report_fields_and_signature(tmp_path: Path) -> None:
    key, vcek = _vcek()
    report = parse_snp_report(_report(key, debug=True))
    assert report.debug and report.guest_svn == 7
    assert report.report_data == bytes(range(64)) and report.measurement == b"L" * 48
    verify_snp_signature(report, vcek)
    assert not parse_snp_report(_report(key, debug=False)).debug
    tampered = bytearray(report.raw)
    tampered[0x90] ^= 1
    with pytest.raises(ValueError, match="does not verify"):
        verify_snp_signature(parse_snp_report(bytes(tampered)), vcek)
    _other, other_vcek = _vcek()
    with pytest.raises(ValueError, match="does not verify"):
        verify_snp_signature(report, other_vcek)
    with pytest.raises(ValueError, match="1184 bytes"):
        parse_snp_report(report.raw[:-1])


def test_package_names_resolve_lazily() -> None:
    import ppcti.tee as tee

    assert all(getattr(tee, name) is not None for name in tee.__all__)
    with pytest.raises(AttributeError):
        _ = tee.no_such_name
