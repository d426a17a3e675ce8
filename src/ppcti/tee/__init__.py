"""Trusted execution: the processing service inside an enclave, and the client that verifies it.

Modules, one job each: :mod:`~ppcti.tee.backends` (where evidence and sealing keys come from),
:mod:`~ppcti.tee.quote` and :mod:`~ppcti.tee.snp` (evidence layouts), :mod:`~ppcti.tee.ratls` (the
attested certificate), :mod:`~ppcti.tee.policy` and :mod:`~ppcti.tee.verify` (how the client decides),
:mod:`~ppcti.tee.sealing` (session keys, sealed files), :mod:`~ppcti.tee.sessions` (limits, shredding),
:mod:`~ppcti.tee.processing` (the pipeline inside), :mod:`~ppcti.tee.receipt`, :mod:`~ppcti.tee.service`
and :mod:`~ppcti.tee.client`. Design and threat model: docs/tee.md.
"""

from __future__ import annotations

from ppcti.tee.backends import EnclaveBackend, GramineSgxBackend, SimulationBackend, TsmBackend, make_backend
from ppcti.tee.policy import Policy, load_policy, policy_template
from ppcti.tee.verify import SIMULATION_VERDICT, Attestation, verify_certificate

__all__ = [
    "SIMULATION_VERDICT",
    "Attestation",
    "EnclaveBackend",
    "GramineSgxBackend",
    "Policy",
    "SimulationBackend",
    "TsmBackend",
    "load_policy",
    "make_backend",
    "policy_template",
    "verify_certificate",
]
