"""dcap-qvl on a real, published TDX quote and its Intel collateral (tests/data/tee/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ppcti.errors import AttestationRefused
from ppcti.tee.policy import Policy
from ppcti.tee.quote import build_simulated_quote
from ppcti.tee.ratls import ENVELOPE_FORMAT, Envelope
from ppcti.tee.verify import dcap_verify, verify_envelope

pytest.importorskip("dcap_qvl")

DATA = Path(__file__).parents[1] / "data" / "tee"
QUOTE = bytes.fromhex((DATA / "tdx_quote.hex").read_text().strip())
COLLATERAL = (DATA / "tdx_quote_collateral.json").read_text()
#: 2025-09-03, inside the collateral's validity (issued 2025-09-02, next update 2025-10-02).
WHEN = 1756900000
MR_TD = "f06dfda6dce1cf904d4e2bab1dc370634cf95cefa2ceb2de2eee127c9382698090d7a4a13e14c536ec6c9c3c8fa87077"


def test_the_published_quote_verifies_up_to_date() -> None:
    assert dcap_verify(QUOTE, COLLATERAL, WHEN) == ("UpToDate", [])


@pytest.mark.parametrize(
    "offset", [200, 600, 700, 1100], ids=["td-report", "report-data", "sig", "qe-report"]
)
def test_a_flipped_bit_anywhere_fails(offset: int) -> None:
    tampered = bytearray(QUOTE)
    tampered[offset] ^= 0x01
    with pytest.raises(ValueError, match=r"(?i)invalid|failed|mismatch"):
        dcap_verify(bytes(tampered), COLLATERAL, WHEN)


def test_collateral_past_its_next_update_fails() -> None:
    with pytest.raises(ValueError, match="Expired"):
        dcap_verify(QUOTE, COLLATERAL, WHEN + 400 * 86400)


def test_the_simulations_blank_signature_never_verifies() -> None:
    simulated = build_simulated_quote(bytes(64), mr_enclave=bytes(32), mr_signer=bytes(32))
    with pytest.raises(ValueError, match=r"(?i)invalid|failed|certificate|chain"):
        dcap_verify(simulated, COLLATERAL, WHEN)


def test_the_policy_path_checks_signature_measurement_and_binding(tmp_path: Path) -> None:
    collateral = tmp_path / "collateral.json"
    collateral.write_text(COLLATERAL)
    claims = {
        "format": ENVELOPE_FORMAT,
        "platform": "tsm",
        "evidence_format": "tdx-quote",
        "simulated": False,
        "issued_at": WHEN,
        "nonce": None,
    }
    envelope = Envelope(claims=claims, evidence=QUOTE)
    policy = Policy(measurements=({"mr_td": MR_TD},), sgx_collateral=collateral)
    with pytest.raises(AttestationRefused) as info:
        verify_envelope(envelope, b"some other key", policy, now=WHEN + 60)
    # signature, TCB status, debug and measurement pass; only the binding to our key fails
    assert len(info.value.reasons) == 1 and "not made for this TLS key" in info.value.reasons[0]
    wrong = Policy(
        measurements=({"mr_td": "00" * 48},), sgx_collateral=collateral, tcb_statuses=("OutOfDate",)
    )
    with pytest.raises(AttestationRefused) as info:
        verify_envelope(envelope, b"some other key", wrong, now=WHEN + 60)
    text = str(info.value)
    assert "TCB status UpToDate is not among" in text and "measurement not allowed" in text
    no_collateral = Policy(measurements=({"mr_td": MR_TD},))
    with pytest.raises(AttestationRefused, match="names no sgx_collateral"):
        verify_envelope(envelope, b"k", no_collateral, now=WHEN + 60)
