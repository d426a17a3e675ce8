"""Crypto wallet addresses: Base58Check, bech32/bech32m, EIP-55 (with the project's own Keccak)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.pii import checks
from ppcti.pii.keccak import keccak256, sponge

GOOD = [
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "p2pkh-genesis"),
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "p2sh"),
    ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bech32-p2wpkh"),
    ("BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", "bech32-upper"),
    ("bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", "bech32m-taproot"),
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "eip55-1"),
    ("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "eip55-2"),
    ("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "eip55-3"),
]
BAD = [
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "p2pkh-bad-checksum"),
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz", "p2sh-bad-checksum"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a", "base58-invalid-char"),
    ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp", "bech32-bad-checksum"),
    ("bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bech32-mixed-case"),
    ("bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3298", "bech32m-bad"),
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "eip55-wrong-case"),
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA", "eth-short"),
]


@pytest.mark.parametrize("address", [a for a, _ in GOOD], ids=[i for _, i in GOOD])
def test_valid_addresses(address: str) -> None:
    assert checks.crypto(address)


@pytest.mark.parametrize("address", [a for a, _ in BAD], ids=[i for _, i in BAD])
def test_invalid_addresses(address: str) -> None:
    assert not checks.crypto(address)


def test_single_case_ethereum_is_plain_not_checksummed() -> None:
    plain = "0x" + "52908400098527886e0f7030069857d2e4169ee7"
    assert checks.ethereum_plain(plain)
    assert checks.ethereum(plain)
    assert not checks.ethereum_checksummed(plain)  # needs a header in columns (weak detector)


def test_keccak_known_vector() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@given(st.binary(max_size=400))
def test_permutation_matches_hashlib_sha3(data: bytes) -> None:
    """SHA3-256 shares Keccak's permutation; only the padding byte differs."""
    assert sponge(data, domain=0x06) == hashlib.sha3_256(data).digest()
