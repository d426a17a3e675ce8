"""Public parameters of the private blacklist correlation, declared once.

Why these numbers (measured on the project machine, see docs/fhe.md):

* BFV with ring dimension 8192 and SEAL's 128-bit-secure default coefficient modulus (218 bits, five
  primes) leaves 143 bits of noise budget in a fresh ciphertext; a product tree of depth 3 (groups of 8
  rows), one random-mask multiplication and a switch to the last level leave about 10 bits, so the
  decryption is exact.
* The plaintext modulus must be a batching prime (``t ≡ 1 mod 2N``) larger than every slot value:
  cuckoo index (3 choices) × 2^21 item bits = 6,291,456 plus room for dummies, so a 23-bit prime.
* 8192 slots = 8192 cuckoo bins; the item domain is 34 bits, 13 of them implied by the bin.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

import orjson

#: Ring dimension = number of batching slots = number of cuckoo bins.
DEFAULT_POLY_DEGREE = 8192
#: Batching prime, 23 bits, ``t ≡ 1 (mod 16384)``.
DEFAULT_PLAIN_MODULUS = 8273921
#: SEAL's BFVDefault(8192, 128-bit) coefficient modulus bit sizes.
DEFAULT_COEFF_BITS: tuple[int, ...] = (43, 43, 44, 44, 44)
#: Rows multiplied together by one product tree (depth log2 = 3).
DEFAULT_GROUP_SIZE = 8
#: Query items per ciphertext (cuckoo load 0.75 with 3 hash functions inserts reliably).
DEFAULT_BATCH_CAPACITY = 6144
#: IPv4 prefix lengths that are queried; listed blocks are split up to the next of these lengths.
DEFAULT_IPV4_PREFIXES: tuple[int, ...] = (16, 24, 32)
#: IPv6 prefix lengths that are queried (hashed items).
DEFAULT_IPV6_PREFIXES: tuple[int, ...] = (32, 48, 64, 128)
#: A listed block is split into at most this many blocks of a queried length; wider ones are refused.
MAX_SPLIT = 65536

#: Item bits carried by the slot value (the other 13 bits are implied by the bin).
SLOT_ITEM_BITS = 21
#: Number of cuckoo hash functions.
CUCKOO_HASHES = 3
#: Values >= this are never real first-felt item values: they are used for blacklist dummies.
DUMMY_LOW = CUCKOO_HASHES << SLOT_ITEM_BITS
#: Bits of each extra felt of a hashed item.
EXTRA_FELT_BITS = 22
#: Felts per hashed item (one 34-bit cuckoo item plus two 22-bit extra values = 78 hash bits).
HASH_FELTS = 3


@dataclass(frozen=True, slots=True)
class FheParams:
    """Everything both sides must agree on; hashed into the fingerprint carried by every file."""

    poly_degree: int = DEFAULT_POLY_DEGREE
    plain_modulus: int = DEFAULT_PLAIN_MODULUS
    coeff_bits: tuple[int, ...] = DEFAULT_COEFF_BITS
    group_size: int = DEFAULT_GROUP_SIZE
    batch_capacity: int = DEFAULT_BATCH_CAPACITY
    ipv4_prefixes: tuple[int, ...] = DEFAULT_IPV4_PREFIXES
    ipv6_prefixes: tuple[int, ...] = DEFAULT_IPV6_PREFIXES
    #: Hex key of the item hash (e-mails, IPv6) and seed of the cuckoo hash functions. Public on purpose:
    #: holder and blacklist owner must hash alike; it gives domain separation per deployment.
    hash_key: str = field(default="")

    @property
    def bin_bits(self) -> int:
        return self.poly_degree.bit_length() - 1

    @property
    def item_bits(self) -> int:
        return self.bin_bits + SLOT_ITEM_BITS

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["coeff_bits"] = list(self.coeff_bits)
        data["ipv4_prefixes"] = list(self.ipv4_prefixes)
        data["ipv6_prefixes"] = list(self.ipv6_prefixes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FheParams:
        return cls(
            poly_degree=int(data["poly_degree"]),  # type: ignore[arg-type]
            plain_modulus=int(data["plain_modulus"]),  # type: ignore[arg-type]
            coeff_bits=tuple(int(b) for b in data["coeff_bits"]),  # type: ignore[attr-defined]
            group_size=int(data["group_size"]),  # type: ignore[arg-type]
            batch_capacity=int(data["batch_capacity"]),  # type: ignore[arg-type]
            ipv4_prefixes=tuple(int(b) for b in data["ipv4_prefixes"]),  # type: ignore[attr-defined]
            ipv6_prefixes=tuple(int(b) for b in data["ipv6_prefixes"]),  # type: ignore[attr-defined]
            hash_key=str(data["hash_key"]),
        )

    def fingerprint(self) -> str:
        """Short stable digest: two files with the same fingerprint were made for the same parameters."""
        blob = orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(blob).hexdigest()[:16]

    def check(self) -> None:
        """Refuse parameter sets the encoding cannot be exact with."""
        from ppcti.errors import FHEError

        if self.plain_modulus % (2 * self.poly_degree) != 1:
            raise FHEError("plain modulus is not a batching prime for this ring dimension")
        if self.plain_modulus <= max(DUMMY_LOW + 1024, 1 << EXTRA_FELT_BITS):
            raise FHEError("plain modulus too small for the slot encoding")
        if self.group_size < 1 or self.group_size & (self.group_size - 1):
            raise FHEError("group size must be a power of two")
        if not 0 < self.batch_capacity < self.poly_degree:
            raise FHEError("batch capacity must be below the number of slots")
        if 32 not in self.ipv4_prefixes or 128 not in self.ipv6_prefixes:
            raise FHEError("the exact prefix lengths /32 (IPv4) and /128 (IPv6) must be queried")
        if len(bytes.fromhex(self.hash_key)) < 16:
            raise FHEError("hash key must be at least 128 bits")
