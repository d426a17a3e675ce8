"""Enclave backends: where evidence and the sealing key come from.

One small interface (:class:`EnclaveBackend`): evidence for 64 bytes of report data, a sealing key, the
platform name and the measurement. Three implementations:

* ``simulation`` — no hardware. Evidence is an SGX DCAP v3 quote with the DEBUG attribute and a blank
  signature; the "measurement" is a hash of the installed ppcti sources; the sealing key is a file the
  operator can read. It protects nothing from the operator and every output says so.
* ``gramine-sgx`` — inside a Gramine SGX enclave: ``/dev/attestation/user_report_data`` and
  ``/dev/attestation/quote`` give a DCAP quote signed by Intel's Quoting Enclave; the sealing key is
  Gramine's MRENCLAVE-bound key (``/dev/attestation/keys/_sgx_mrenclave``).
* ``tsm`` — an AMD SEV-SNP or Intel TDX confidential VM through the kernel's configfs-tsm interface
  (``/sys/kernel/config/tsm/report``). configfs-tsm offers no sealing key, so the key is random and
  held in memory only: nothing sealed outlives the process (sessions never resume anyway).

The library reads no environment: paths come from the constructor, chosen by the CLI.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import ppcti
from ppcti.errors import TeeError
from ppcti.tee.quote import build_simulated_quote, parse_sgx_quote
from ppcti.tee.snp import parse_snp_report

PLATFORMS = ("simulation", "gramine-sgx", "tsm")


class EnclaveBackend(Protocol):
    """What the service needs from the hardware (or from its stand-in)."""

    #: ``simulation``, ``gramine-sgx``, ``tsm``.
    platform: str
    #: Format of :meth:`evidence`: ``sgx-dcap-quote-v3``, ``tdx-quote``, ``sev-snp-report``.
    evidence_format: str
    #: True only for the simulation: nothing it produces is attested.
    simulated: bool

    def evidence(self, report_data: bytes) -> bytes:
        """Hardware-signed evidence that carries ``report_data`` (64 bytes)."""
        ...

    def sealing_key(self) -> bytes:
        """32 bytes only this enclave (this measurement on this platform) can derive."""
        ...

    def measurement(self) -> dict[str, str]:
        """The identity a policy pins, as hex: ``mr_enclave``/``mr_signer`` or ``launch_measurement``."""
        ...


def _stretch(material: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ppcti-tee sealing " + label).derive(
        material
    )


def source_measurement(package_dir: Path | None = None) -> bytes:
    """SHA-256 over the ppcti sources (paths and contents): the simulation's stand-in for MRENCLAVE.

    It changes whenever the code changes, as a real measurement would, so a policy can pin it; it is
    computed by the very code it measures, so it proves nothing to anyone but the operator.
    """
    root = package_dir or Path(ppcti.__file__).parent
    digest = hashlib.sha256(b"ppcti-simulated-mrenclave/1\0")
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.digest()


SIMULATED_MR_SIGNER = hashlib.sha256(b"ppcti simulation signer (no key)").digest()


class SimulationBackend:
    """No TEE: evidence shaped like a debug SGX quote without a signature. Never attested."""

    platform = "simulation"
    evidence_format = "sgx-dcap-quote-v3"
    simulated = True

    def __init__(self, state_dir: Path) -> None:
        self._key_file = state_dir / "simulation-sealing.key"
        self._mr_enclave = source_measurement()

    def evidence(self, report_data: bytes) -> bytes:
        return build_simulated_quote(report_data, mr_enclave=self._mr_enclave, mr_signer=SIMULATED_MR_SIGNER)

    def sealing_key(self) -> bytes:
        # A key on the operator's disk: sealing here only rehearses the data path (docs/tee.md).
        if not self._key_file.exists():
            self._key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
        return _stretch(self._key_file.read_bytes(), b"simulation")

    def measurement(self) -> dict[str, str]:
        return {"mr_enclave": self._mr_enclave.hex(), "mr_signer": SIMULATED_MR_SIGNER.hex()}


class GramineSgxBackend:
    """Inside a Gramine SGX enclave with ``sgx.remote_attestation = "dcap"``."""

    platform = "gramine-sgx"
    evidence_format = "sgx-dcap-quote-v3"
    simulated = False

    def __init__(self, attestation_dir: Path = Path("/dev/attestation")) -> None:
        self._dir = attestation_dir
        self._lock = threading.Lock()
        kind_file = attestation_dir / "attestation_type"
        try:
            kind = kind_file.read_text().strip()
        except OSError:
            raise TeeError(
                f"{attestation_dir} is not readable: gramine-sgx runs only inside a Gramine SGX enclave "
                "(see docs/tee.md, 'Gramine')"
            ) from None
        if kind != "dcap":
            raise TeeError(
                f"Gramine attestation type is {kind!r}; the manifest must say remote_attestation = dcap"
            )

    def evidence(self, report_data: bytes) -> bytes:
        if len(report_data) != 64:
            raise ValueError("report data is 64 bytes")
        with self._lock:  # the pseudo-files are one shared register per enclave
            (self._dir / "user_report_data").write_bytes(report_data)
            return (self._dir / "quote").read_bytes()

    def sealing_key(self) -> bytes:
        return _stretch((self._dir / "keys" / "_sgx_mrenclave").read_bytes(), b"sgx-mrenclave")

    def measurement(self) -> dict[str, str]:
        quote = parse_sgx_quote(self.evidence(bytes(64)))
        return {"mr_enclave": quote.mr_enclave.hex(), "mr_signer": quote.mr_signer.hex()}


class TsmBackend:
    """AMD SEV-SNP or Intel TDX confidential VM through configfs-tsm (Linux 6.7+)."""

    platform = "tsm"
    simulated = False

    def __init__(self, report_root: Path = Path("/sys/kernel/config/tsm/report")) -> None:
        if not report_root.is_dir():
            raise TeeError(
                f"{report_root} does not exist: tsm runs only in an SEV-SNP or TDX guest with configfs "
                "mounted (mount -t configfs none /sys/kernel/config)"
            )
        self._root = report_root
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)
        provider = self._report(bytes(64))[1]
        self.evidence_format = {"sev_guest": "sev-snp-report", "tdx_guest": "tdx-quote"}.get(provider, "")
        if not self.evidence_format:
            raise TeeError(f"unknown configfs-tsm provider {provider!r}")
        self._first = self._report(bytes(64))[0]

    def _report(self, report_data: bytes) -> tuple[bytes, str]:
        with self._lock:
            entry = self._root / f"ppcti-{secrets.token_hex(8)}"
            entry.mkdir()
            try:
                (entry / "inblob").write_bytes(report_data)
                blob = (entry / "outblob").read_bytes()
                provider = (entry / "provider").read_text().strip()
            finally:
                entry.rmdir()
        return blob, provider

    def evidence(self, report_data: bytes) -> bytes:
        if len(report_data) != 64:
            raise ValueError("report data is 64 bytes")
        return self._report(report_data)[0]

    def sealing_key(self) -> bytes:
        return self._key

    def measurement(self) -> dict[str, str]:
        if self.evidence_format == "sev-snp-report":
            return {"launch_measurement": parse_snp_report(self._first).measurement.hex()}
        import dcap_qvl  # TDX quotes are parsed by the verifier's own parser

        return {"mr_td": dcap_qvl.parse_quote(self._first).report.mr_td.hex()}


def make_backend(platform: str, *, state_dir: Path, insecure_simulation: bool = False) -> EnclaveBackend:
    """The backend named on the command line; the simulation only when explicitly made insecure."""
    if platform == "simulation":
        if not insecure_simulation:
            raise TeeError(
                "the simulation backend has no TEE: the operator can read every upload, and its evidence "
                "is unsigned. Start it only for development, with --insecure-simulation"
            )
        return SimulationBackend(state_dir)
    if platform == "gramine-sgx":
        return GramineSgxBackend()
    if platform == "tsm":
        return TsmBackend()
    raise TeeError(f"unknown backend {platform!r}; choose from {', '.join(PLATFORMS)}")
