"""Trusted execution: the processing service inside an enclave, and the client that verifies it.

Modules, one job each: :mod:`~ppcti.tee.backends` (where evidence and sealing keys come from),
:mod:`~ppcti.tee.quote` and :mod:`~ppcti.tee.snp` (evidence layouts), :mod:`~ppcti.tee.ratls` (the
attested certificate), :mod:`~ppcti.tee.policy` and :mod:`~ppcti.tee.verify` (how the client decides),
:mod:`~ppcti.tee.sealing` (session keys, sealed files), :mod:`~ppcti.tee.sessions` (limits, shredding),
:mod:`~ppcti.tee.processing` (the pipeline inside), :mod:`~ppcti.tee.receipt`, :mod:`~ppcti.tee.service`
and :mod:`~ppcti.tee.client`. Design and threat model: docs/tee.md.

Names load lazily (PEP 562), so ``ppcti --help`` imports neither ``cryptography`` nor ``dcap-qvl``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ppcti.tee.backends import (
        EnclaveBackend,
        GramineSgxBackend,
        SimulationBackend,
        TsmBackend,
        make_backend,
    )
    from ppcti.tee.client import submit
    from ppcti.tee.policy import Policy, load_policy, policy_template
    from ppcti.tee.receipt import verify_receipt_dir
    from ppcti.tee.verify import SIMULATION_VERDICT, Attestation, verify_certificate

_WHERE = {
    "EnclaveBackend": "backends",
    "GramineSgxBackend": "backends",
    "SimulationBackend": "backends",
    "TsmBackend": "backends",
    "make_backend": "backends",
    "submit": "client",
    "Policy": "policy",
    "load_policy": "policy",
    "policy_template": "policy",
    "verify_receipt_dir": "receipt",
    "SIMULATION_VERDICT": "verify",
    "Attestation": "verify",
    "verify_certificate": "verify",
}

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
    "submit",
    "verify_certificate",
    "verify_receipt_dir",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ppcti.tee' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ppcti.tee.{module}"), name)
