"""The SGX DCAP v3 quote layout of the simulation, and how the parser treats malformed quotes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.tee.quote import FLAG_DEBUG, HEADER_SIZE, REPORT_BODY_SIZE, build_simulated_quote, parse_sgx_quote


@given(
    report_data=st.binary(min_size=64, max_size=64),
    mr_enclave=st.binary(min_size=32, max_size=32),
    mr_signer=st.binary(min_size=32, max_size=32),
    svn=st.integers(0, 65535),
)
def test_simulated_quote_parses_back(
    report_data: bytes, mr_enclave: bytes, mr_signer: bytes, svn: int
) -> None:
    raw = build_simulated_quote(report_data, mr_enclave=mr_enclave, mr_signer=mr_signer, isv_svn=svn)
    quote = parse_sgx_quote(raw)
    assert (quote.report_data, quote.mr_enclave, quote.mr_signer, quote.isv_svn) == (
        report_data,
        mr_enclave,
        mr_signer,
        svn,
    )
    assert quote.version == 3 and quote.att_key_type == 2
    assert quote.debug and quote.attribute_flags & FLAG_DEBUG
    assert quote.signature_is_blank
    # the fields sit at Intel's offsets: report data is the last 64 bytes of the report body
    assert raw[HEADER_SIZE + REPORT_BODY_SIZE - 64 : HEADER_SIZE + REPORT_BODY_SIZE] == report_data
    assert raw[HEADER_SIZE + 64 : HEADER_SIZE + 96] == mr_enclave


def test_dcap_qvl_parses_the_simulated_quote_the_same_way() -> None:
    dcap_qvl = pytest.importorskip("dcap_qvl")
    raw = build_simulated_quote(bytes(range(64)), mr_enclave=b"E" * 32, mr_signer=b"S" * 32)
    quote = dcap_qvl.parse_quote(raw)
    assert quote.quote_type() == "SGX" and quote.header.version == 3
    assert bytes(quote.report.mr_enclave) == b"E" * 32
    assert bytes(quote.report.report_data) == bytes(range(64))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda q: q[:100], "too short"),
        (lambda q: b"\x04\x00" + q[2:], "version 4"),
        (lambda q: q[:4] + b"\x81\x00\x00\x00" + q[8:], "TEE type"),
        (lambda q: q[:-3], "truncated"),
        (lambda q: q + b"x", "bytes after"),
    ],
    ids=["short", "version", "tdx-type", "truncated", "trailing"],
)
def test_malformed_quotes_are_named(mutate, message: str) -> None:
    raw = build_simulated_quote(bytes(64), mr_enclave=bytes(32), mr_signer=bytes(32))
    with pytest.raises(ValueError, match=message):
        parse_sgx_quote(mutate(raw))
