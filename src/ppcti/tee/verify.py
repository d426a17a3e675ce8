"""How the client decides: the service's certificate and evidence against the policy.

Every check runs and every failure is reported (not just the first), so a refused connection says all
that is wrong. What is checked, in order (docs/tee.md, "How the client decides"):

1. the certificate's self-signature (a tampered certificate or extension fails here);
2. the evidence envelope parses, and the evidence parses in its declared format;
3. the evidence's report data equals SHA-256(certificate key) || SHA-256(claims): the evidence was made
   for this very TLS key (a quote replayed under another key fails here);
4. the hardware signature: SGX/TDX quotes through ``dcap-qvl`` with the collateral the policy names
   (PCK chain to Intel's root, CRLs, TCB info, QE identity); SEV-SNP reports against the VCEK;
   a blank signature is the simulation and passes only under ``allow_simulation``;
5. TCB status, debug attribute, measurement, minimum SVN, evidence age and nonce against the policy.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from ppcti.errors import AttestationRefused
from ppcti.tee.policy import Policy
from ppcti.tee.quote import parse_sgx_quote
from ppcti.tee.ratls import Envelope, certificate_envelope, report_data_for, spki_der
from ppcti.tee.snp import parse_snp_report, verify_snp_signature

SIMULATION_VERDICT = "simulation — not attested"
ATTESTED_VERDICT = "attested"
#: Seconds a service clock may run ahead of the client's.
CLOCK_SKEW = 300


@dataclass(slots=True)
class Attestation:
    """What was verified, against which policy: written to ``attestation.json``."""

    verdict: str
    platform: str
    evidence_format: str
    measurement: dict[str, str]
    svn: int | None
    debug: bool
    signature: str
    tcb_status: str | None
    advisory_ids: list[str]
    issued_at: int
    checked_at: int
    tls_key_sha256: str
    nonce: str | None
    policy: dict[str, Any]
    checks: list[str] = field(default_factory=list)

    @property
    def simulated(self) -> bool:
        return self.verdict == SIMULATION_VERDICT

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]
        if self.simulated:
            data = {"WARNING": "SIMULATION — NOT ATTESTED: no TEE protected this data", **data}
        return data


@dataclass(slots=True)
class _Findings:
    measurement: dict[str, str] = field(default_factory=dict)
    report_data: bytes = b""
    debug: bool = True
    svn: int | None = None
    blank_signature: bool = False
    signature: str = "not checked"
    tcb_status: str | None = None
    advisories: list[str] = field(default_factory=list)


def _check_dcap(raw: bytes, policy: Policy, now: int, found: _Findings, reasons: list[str]) -> None:
    if policy.sgx_collateral is None:
        reasons.append("the policy names no sgx_collateral, so the quote's signature cannot be verified")
        return
    try:
        status, advisories = dcap_verify(raw, policy.sgx_collateral.read_text(encoding="utf-8"), now)
    except OSError as exc:
        reasons.append(f"cannot read the collateral {policy.sgx_collateral}: {exc.strerror}")
        return
    except ValueError as exc:
        reasons.append(f"quote signature or collateral does not verify: {exc}")
        return
    found.signature, found.tcb_status, found.advisories = "dcap-qvl: valid", status, advisories
    if status not in policy.tcb_statuses:
        reasons.append(f"TCB status {status} is not among the accepted {list(policy.tcb_statuses)}")


def dcap_verify(raw: bytes, collateral_json: str, now: int) -> tuple[str, list[str]]:
    """Intel DCAP quote verification by dcap-qvl: (TCB status, advisory ids); ``ValueError`` if invalid."""
    try:
        import dcap_qvl
    except ImportError:
        raise ValueError("dcap-qvl is not installed: pip install 'ppcti[tee]'") from None
    try:
        collateral = dcap_qvl.QuoteCollateralV3.from_json(collateral_json)
        report = dcap_qvl.verify(raw, collateral, now)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(str(exc)) from None
    return str(report.status), list(report.advisory_ids)


def _inspect(envelope: Envelope, policy: Policy, now: int, reasons: list[str]) -> _Findings:
    found = _Findings()
    kind = envelope.claims.get("evidence_format")
    raw = envelope.evidence
    if kind == "sgx-dcap-quote-v3":
        quote = parse_sgx_quote(raw)
        found.measurement = {"mr_enclave": quote.mr_enclave.hex(), "mr_signer": quote.mr_signer.hex()}
        found.report_data, found.debug, found.svn = quote.report_data, quote.debug, quote.isv_svn
        found.blank_signature = quote.signature_is_blank
        if not found.blank_signature:
            _check_dcap(raw, policy, now, found, reasons)
    elif kind == "tdx-quote":
        try:
            import dcap_qvl
        except ImportError:
            raise ValueError("TDX quotes need dcap-qvl: pip install 'ppcti[tee]'") from None
        report = dcap_qvl.parse_quote(raw).report
        found.measurement = {"mr_td": bytes(report.mr_td).hex()}
        found.report_data = bytes(report.report_data)
        found.debug = bool(bytes(report.td_attributes)[0] & 0x01)  # TDATTRIBUTES.DEBUG
        _check_dcap(raw, policy, now, found, reasons)
    elif kind == "sev-snp-report":
        snp = parse_snp_report(raw)
        found.measurement = {"launch_measurement": snp.measurement.hex()}
        found.report_data, found.debug, found.svn = snp.report_data, snp.debug, snp.guest_svn
        if policy.snp_vcek is None:
            reasons.append("the policy names no snp_vcek, so the report's signature cannot be verified")
        else:
            chain = policy.snp_chain.read_bytes() if policy.snp_chain else None
            verify_snp_signature(snp, policy.snp_vcek.read_bytes(), chain)
            found.signature = "VCEK: valid" + (" (chain to AMD root checked)" if chain else "")
    else:
        raise ValueError(f"unknown evidence format {kind!r}")
    return found


def is_bound(envelope: Envelope, spki: bytes) -> bool:
    """The evidence carries the report data of this key and these claims (no signature check)."""
    kind = envelope.claims.get("evidence_format")
    if kind == "sgx-dcap-quote-v3":
        carried = parse_sgx_quote(envelope.evidence).report_data
    elif kind == "sev-snp-report":
        carried = parse_snp_report(envelope.evidence).report_data
    elif kind == "tdx-quote":
        import dcap_qvl

        carried = bytes(dcap_qvl.parse_quote(envelope.evidence).report.report_data)
    else:
        raise ValueError(f"unknown evidence format {kind!r}")
    return carried == report_data_for(spki, envelope.claims)


def _matches(measurement: dict[str, str], allowed: dict[str, str]) -> bool:
    return all(measurement.get(key) == value for key, value in allowed.items())


def verify_envelope(
    envelope: Envelope, spki: bytes, policy: Policy, *, now: float | None = None, nonce: str | None = None
) -> Attestation:
    """Judge evidence made for the key ``spki``; raise :class:`AttestationRefused` with every reason."""
    checked_at = int(time.time() if now is None else now)
    reasons: list[str] = []
    claims = envelope.claims
    try:
        found = _inspect(envelope, policy, checked_at, reasons)
    except (ValueError, OSError) as exc:
        raise AttestationRefused([f"the evidence cannot be read: {exc}"]) from None
    if found.report_data != report_data_for(spki, claims):
        reasons.append("the evidence was not made for this TLS key (report data differs): replayed evidence?")
    simulated = found.blank_signature or bool(claims.get("simulated"))
    if simulated:
        found.signature = "none (simulation: blank quote signature)"
        if not policy.allow_simulation:
            reasons.append(
                "simulation evidence (no TEE, no hardware signature); the policy does not allow it"
            )
    if found.debug and not policy.allow_debug:
        reasons.append("the enclave runs in DEBUG mode (host can read its memory); the policy forbids debug")
    if not policy.measurements:
        reasons.append("the policy lists no allowed measurement")
    elif not any(_matches(found.measurement, m) for m in policy.measurements):
        shown = ", ".join(f"{k}={v}" for k, v in found.measurement.items())
        reasons.append(f"measurement not allowed by the policy ({shown})")
    if found.svn is not None and found.svn < policy.min_svn:
        reasons.append(f"security version {found.svn} is below the policy's minimum {policy.min_svn}")
    issued = claims.get("issued_at")
    if not isinstance(issued, int):
        reasons.append("the evidence has no time of issue")
        issued = 0
    elif checked_at - issued > policy.max_evidence_age:
        reasons.append(
            f"the evidence is {checked_at - issued} s old; the policy allows {policy.max_evidence_age} s"
        )
    elif issued - checked_at > CLOCK_SKEW:
        reasons.append("the evidence claims to come from the future (clock skew over 5 minutes)")
    if nonce is not None and claims.get("nonce") != nonce:
        reasons.append("the evidence does not answer our nonce")
    if reasons:
        raise AttestationRefused(reasons)
    return Attestation(
        verdict=SIMULATION_VERDICT if simulated else ATTESTED_VERDICT,
        platform=str(claims.get("platform")),
        evidence_format=str(claims.get("evidence_format")),
        measurement=found.measurement,
        svn=found.svn,
        debug=found.debug,
        signature=found.signature,
        tcb_status=found.tcb_status,
        advisory_ids=found.advisories,
        issued_at=issued,
        checked_at=checked_at,
        tls_key_sha256=hashlib.sha256(spki).hexdigest(),
        nonce=claims.get("nonce"),
        policy=policy.to_dict(),
        checks=[
            "certificate self-signature",
            "evidence bound to the TLS key and claims (report data)",
            f"hardware signature: {found.signature}",
            "debug, measurement, SVN, TCB status, evidence age" + (", nonce" if nonce else ""),
        ],
    )


def verify_certificate(
    cert_der: bytes, policy: Policy, *, now: float | None = None
) -> tuple[x509.Certificate, Attestation]:
    """Check the peer certificate of an RA-TLS connection (the client calls this before sending)."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError:
        raise AttestationRefused(["the service's certificate cannot be parsed"]) from None
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError):
        raise AttestationRefused(
            ["the certificate's self-signature is invalid (tampered certificate)"]
        ) from None
    try:
        envelope = certificate_envelope(cert)
    except ValueError as exc:
        raise AttestationRefused([str(exc)]) from None
    return cert, verify_envelope(envelope, spki_der(cert), policy, now=now)
