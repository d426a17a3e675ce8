"""The policy decisions on simulated evidence, one rule at a time (every reason is reported)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ppcti.errors import AttestationRefused
from ppcti.tee.backends import SIMULATED_MR_SIGNER, SimulationBackend, source_measurement
from ppcti.tee.policy import Policy
from ppcti.tee.ratls import make_envelope

SPKI = b"a key"
MINE = {"mr_enclave": source_measurement().hex()}


def judge(tmp_path: Path, policy: Policy, *, now: float | None = None, nonce: str | None = None, **kw):  # type: ignore[no-untyped-def]
    from ppcti.tee.verify import verify_envelope

    envelope = make_envelope(SimulationBackend(tmp_path), SPKI, nonce=kw.get("claimed_nonce"))
    return verify_envelope(envelope, SPKI, policy, now=now, nonce=nonce)


def reasons(tmp_path: Path, policy: Policy, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(AttestationRefused) as info:
        judge(tmp_path, policy, **kw)
    return info.value.reasons


def allow(**kw) -> Policy:  # type: ignore[no-untyped-def]
    return Policy(**{"measurements": (MINE,), "allow_debug": True, "allow_simulation": True, **kw})


def test_accepted_only_as_a_simulation(tmp_path: Path) -> None:
    attestation = judge(tmp_path, allow())
    assert attestation.simulated and attestation.measurement["mr_signer"] == SIMULATED_MR_SIGNER.hex()


@pytest.mark.parametrize(
    ("policy", "kw", "expected"),
    [
        (allow(measurements=({"mr_enclave": "00" * 32},)), {}, "measurement not allowed"),
        (allow(measurements=()), {}, "lists no allowed measurement"),
        (
            allow(measurements=({"mr_signer": SIMULATED_MR_SIGNER.hex()},), min_svn=3),
            {},
            "below the policy's minimum 3",
        ),
        (allow(max_evidence_age=10), {"now": time.time() + 3600}, "s old; the policy allows 10 s"),
        (allow(), {"now": time.time() - 3600}, "from the future"),
        (allow(), {"nonce": "ab" * 32, "claimed_nonce": "cd" * 32}, "does not answer our nonce"),
        (allow(allow_debug=False), {}, "DEBUG mode"),
        (allow(allow_simulation=False), {}, "simulation evidence"),
    ],
    ids=["measurement", "empty", "svn", "age", "future", "nonce", "debug", "simulation"],
)
def test_each_rule_refuses(tmp_path: Path, policy: Policy, kw: dict, expected: str) -> None:
    found = reasons(tmp_path, policy, **kw)
    assert any(expected in r for r in found), found
    assert len(found) == 1  # exactly the rule under test, nothing else


def test_signer_pin_accepts_any_build_by_that_signer(tmp_path: Path) -> None:
    assert judge(tmp_path, allow(measurements=({"mr_signer": SIMULATED_MR_SIGNER.hex()},))).simulated


def test_production_policy_lists_all_reasons(tmp_path: Path) -> None:
    found = reasons(tmp_path, Policy(measurements=({"mr_enclave": "11" * 32},)))
    assert len(found) == 3 and any("simulation" in r for r in found) and any("DEBUG" in r for r in found)
