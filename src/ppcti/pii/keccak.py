"""Keccak-256 (the pre-standard padding Ethereum uses), for EIP-55 address checksums.

Why here: ``hashlib.sha3_256`` is FIPS-202 SHA3, whose padding differs from the original Keccak that
Ethereum hashes with, and no Keccak library is a dependency. The permutation is shared with SHA3, so
:func:`sponge` with SHA3 padding is checked against ``hashlib`` in the tests; only the domain byte differs.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1


def _round_constants() -> tuple[int, ...]:
    constants = []
    lfsr = 1
    for _ in range(24):
        rc = 0
        for j in range(7):
            if lfsr & 1:
                rc |= 1 << ((1 << j) - 1)
            lfsr = ((lfsr << 1) ^ 0x71) & 0xFF if lfsr & 0x80 else lfsr << 1
        constants.append(rc)
    return tuple(constants)


def _rotations() -> list[list[int]]:
    rot = [[0] * 5 for _ in range(5)]
    x, y = 1, 0
    for t in range(24):
        rot[x][y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return rot


_RC = _round_constants()
_ROT = _rotations()


def _rotl(v: int, n: int) -> int:
    return ((v << n) | (v >> (64 - n))) & _MASK if n else v


def _permute(a: list[list[int]]) -> None:
    for rc in _RC:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl(c[(x + 1) % 5], 1) for x in range(5)]
        for x in range(5):
            for y in range(5):
                a[x][y] ^= d[x]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = _rotl(a[x][y], _ROT[x][y])
        for x in range(5):
            for y in range(5):
                a[x][y] = b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y])
        a[0][0] ^= rc


def sponge(data: bytes, *, rate: int = 136, out_len: int = 32, domain: int = 0x01) -> bytes:
    """Keccak sponge; ``domain=0x01`` is Keccak, ``0x06`` is FIPS-202 SHA3."""
    padded = bytearray(data)
    padded.append(domain)
    while len(padded) % rate:
        padded.append(0)
    padded[-1] |= 0x80
    state = [[0] * 5 for _ in range(5)]
    for off in range(0, len(padded), rate):
        block = padded[off : off + rate]
        for i in range(rate // 8):
            state[i % 5][i // 5] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        _permute(state)
    out = bytearray()
    while len(out) < out_len:
        for i in range(rate // 8):
            out += state[i % 5][i // 5].to_bytes(8, "little")
        if len(out) < out_len:
            _permute(state)
    return bytes(out[:out_len])


def keccak256(data: bytes) -> bytes:
    return sponge(data)
