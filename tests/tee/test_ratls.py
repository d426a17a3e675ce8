"""Attested TLS on loopback with real sockets: what the client accepts and what it refuses."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from tee_helpers import CertificateServer, ServiceHandle

from ppcti.errors import AttestationRefused
from ppcti.tee.backends import SimulationBackend
from ppcti.tee.client import AttestedConnection
from ppcti.tee.policy import Policy
from ppcti.tee.ratls import EVIDENCE_OID, Envelope, certificate_envelope, issue_certificate, new_key
from ppcti.tee.verify import SIMULATION_VERDICT


def refused(url: str, policy: Policy) -> list[str]:
    link = AttestedConnection(url, policy, timeout=10)
    with pytest.raises(AttestationRefused) as info:
        link.connect()
    return info.value.reasons


def test_good_service_passes_and_says_simulation(service: ServiceHandle, sim_policy: Policy) -> None:
    link = AttestedConnection(service.url, sim_policy, timeout=10)
    attestation = link.connect()
    assert attestation.verdict == SIMULATION_VERDICT
    assert attestation.debug
    assert attestation.measurement == service.service.measurement
    assert "SIMULATION" in attestation.to_dict()["WARNING"]
    status, _ = link.request("GET", "/v1/attestation?nonce=" + "ab" * 16)
    assert status == 200
    link.close()


def test_nonce_challenge_on_the_same_connection(service: ServiceHandle, sim_policy: Policy) -> None:
    policy = Policy(measurements=sim_policy.measurements, allow_debug=True, allow_simulation=True, nonce=True)
    link = AttestedConnection(service.url, policy, timeout=10)
    attestation = link.connect()
    link.close()
    assert attestation.nonce is not None and len(attestation.nonce) == 64
    assert service.server.bytes_received > 0  # the challenge itself travelled on the connection


def test_simulated_debug_enclave_fails_a_production_policy(
    service: ServiceHandle, production_policy: Policy
) -> None:
    reasons = refused(service.url, production_policy)
    assert any("simulation evidence" in r for r in reasons)
    assert any("DEBUG" in r for r in reasons)


def test_client_sends_nothing_before_verification(service: ServiceHandle, production_policy: Policy) -> None:
    refused(service.url, production_policy)
    time.sleep(0.2)
    assert service.server.bytes_received == 0
    # the counter does count: a verified client's request arrives
    link = AttestedConnection(
        service.url,
        Policy(measurements=production_policy.measurements, allow_debug=True, allow_simulation=True),
    )
    link.connect()
    link.request("GET", "/v1/attestation?nonce=" + "cd" * 16)
    link.close()
    assert service.server.bytes_received > 0


def _signed(
    key, like: x509.Certificate, extension: x509.ExtensionType | None = None, subject: str | None = None
) -> x509.Certificate:
    """A certificate for ``key`` shaped like ``like`` (names, validity, serial), carrying ``extension``."""
    name = x509.Name.from_rfc4514_string(subject) if subject else like.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(like.serial_number)
        .not_valid_before(like.not_valid_before_utc)
        .not_valid_after(like.not_valid_after_utc)
    )
    if extension is not None:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(key, hashes.SHA256())


def _served_refusals(certificate: x509.Certificate, key, policy: Policy) -> tuple[list[str], int]:
    """What a client says when a service presents ``certificate``, and the bytes that service received."""
    server = CertificateServer(certificate, key)
    try:
        return refused(server.url, policy), server.received
    finally:
        server.close()


def test_evidence_replayed_under_another_key_fails(tmp_path, sim_policy: Policy) -> None:
    genuine = issue_certificate(SimulationBackend(tmp_path), new_key())
    thief = new_key()
    copied = genuine.extensions.get_extension_for_oid(EVIDENCE_OID).value
    forged = _signed(thief, genuine, copied, subject="CN=ppcti-tee (simulation)")
    reasons, received = _served_refusals(forged, thief, sim_policy)
    assert any("not made for this TLS key" in r for r in reasons)
    assert received == 0


def test_tampered_extension_fails_even_when_re_signed(tmp_path, sim_policy: Policy) -> None:
    key = new_key()
    genuine = issue_certificate(SimulationBackend(tmp_path), key)
    envelope = certificate_envelope(genuine)
    claims = {**envelope.claims, "issued_at": envelope.claims["issued_at"] + 3600}  # a younger claim
    value = Envelope(claims=claims, evidence=envelope.evidence).to_json()
    tampered = _signed(key, genuine, x509.UnrecognizedExtension(EVIDENCE_OID, value))
    reasons, _ = _served_refusals(tampered, key, sim_policy)
    assert any("report data differs" in r for r in reasons)


def test_tampered_certificate_bytes_fail(tmp_path, sim_policy: Policy) -> None:
    """A flipped byte inside the evidence, without re-signing: the self-signature breaks."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from ppcti.tee.verify import verify_certificate

    genuine = issue_certificate(SimulationBackend(tmp_path), new_key())
    der = bytearray(genuine.public_bytes(Encoding.DER))
    spot = bytes(der).index(b'"evidence":"') + 20
    der[spot] = ord("B") if der[spot] != ord("B") else ord("C")
    with pytest.raises(AttestationRefused) as info:
        verify_certificate(bytes(der), sim_policy)
    assert "self-signature" in str(info.value)


def test_expired_evidence_fails(tmp_path, sim_policy: Policy) -> None:
    key = new_key()
    old = issue_certificate(
        SimulationBackend(tmp_path), key, now=time.time() - 2 * 86400, lifetime=timedelta(days=7)
    )
    reasons, received = _served_refusals(old, key, sim_policy)
    assert any("s old; the policy allows 86400 s" in r for r in reasons)
    assert received == 0


def test_certificate_without_evidence_fails(tmp_path, sim_policy: Policy) -> None:
    key = new_key()
    genuine = issue_certificate(SimulationBackend(tmp_path), key)
    plain = _signed(key, genuine, subject="CN=plain")
    reasons, _ = _served_refusals(plain, key, sim_policy)
    assert reasons == ["the certificate carries no evidence extension"]
