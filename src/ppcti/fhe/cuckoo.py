"""Permutation-based cuckoo hashing into the 8192 slots of a BFV plaintext.

An item ``x`` of 34 bits is split into ``x_L`` (top 13 bits) and ``x_R`` (low 21 bits). Hash function
``i`` puts it in bin ``x_L XOR H_i(x_R)`` with slot value ``i * 2^21 + x_R``: bin and value together
give back ``x``, so one slot comparison is an exact item comparison. The holder places each query item
in one of its three bins (cuckoo insertion); the blacklist owner puts every list item in all three, so
whichever bin the query used holds the matching row.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np

from ppcti.errors import FHEError
from ppcti.fhe.params import CUCKOO_HASHES, DUMMY_LOW, EXTRA_FELT_BITS, SLOT_ITEM_BITS, FheParams

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_R_MASK = (1 << SLOT_ITEM_BITS) - 1
_MAX_KICKS = 2000


def hash_seeds(params: FheParams) -> np.ndarray:
    digest = hashlib.blake2b(
        bytes.fromhex(params.hash_key), digest_size=8 * CUCKOO_HASHES, person=b"ppcti-cuckoo"
    ).digest()
    return np.frombuffer(digest, dtype=np.uint64).copy()


def _mix(v: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on arrays (wrapping arithmetic is intended)."""
    v = v ^ (v >> np.uint64(30))
    v = v * _M1
    v = v ^ (v >> np.uint64(27))
    v = v * _M2
    return v ^ (v >> np.uint64(31))


def candidates(xs: np.ndarray, params: FheParams) -> tuple[np.ndarray, np.ndarray]:
    """Bins and slot values of every item under each hash function: two ``(3, n)`` arrays."""
    xs = np.asarray(xs, dtype=np.uint64)
    seeds = hash_seeds(params)
    right = xs & np.uint64(_R_MASK)
    left = xs >> np.uint64(SLOT_ITEM_BITS)
    nbins = np.uint64(params.poly_degree - 1)
    bins = np.empty((CUCKOO_HASHES, xs.size), dtype=np.int64)
    vals = np.empty((CUCKOO_HASHES, xs.size), dtype=np.int64)
    for i in range(CUCKOO_HASHES):
        bins[i] = (left ^ (_mix(right ^ seeds[i : i + 1]) & nbins)).astype(np.int64)
        vals[i] = (right + np.uint64(i << SLOT_ITEM_BITS)).astype(np.int64)
    return bins, vals


def cuckoo_insert(xs: list[int], params: FheParams, rng: random.Random) -> tuple[list[int], list[int]]:
    """Place items in distinct bins: returns ``(slot_of_item, used_hash_of_item)``.

    Random-walk insertion; at the configured load (0.75) it practically never fails, and when it does
    the caller retries with a fresh shuffle rather than dropping an item.
    """
    nbins = params.poly_degree
    bins, _ = candidates(np.array(xs, dtype=np.uint64), params)
    cand = bins.T.tolist()
    owner = [-1] * nbins
    used = [0] * len(xs)
    for start in range(len(xs)):
        item, h = start, 0
        for _ in range(_MAX_KICKS):
            free = [j for j in range(CUCKOO_HASHES) if owner[cand[item][j]] == -1]
            h = free[0] if free else rng.randrange(CUCKOO_HASHES)
            slot = cand[item][h]
            evicted = owner[slot]
            owner[slot] = item
            used[item] = h
            if evicted == -1:
                break
            item = evicted
        else:
            raise FHEError("cuckoo insertion failed; lower the batch capacity")
    slot_of = [0] * len(xs)
    for slot, item in enumerate(owner):
        if item != -1:
            slot_of[item] = slot
    return slot_of, used


def dummy_rows(shape: tuple[int, ...], felt: int, params: FheParams, rng: np.random.Generator) -> np.ndarray:
    """Padding no query slot can equal: first felt in ``[DUMMY_LOW, t-1)``, extra felts below ``2^22``.

    Empty query slots hold ``t - 1``, which neither range contains, so padding never reads as a match.
    """
    if felt == 0:
        return rng.integers(DUMMY_LOW, params.plain_modulus - 1, size=shape, dtype=np.int64)
    return rng.integers(0, 1 << EXTRA_FELT_BITS, size=shape, dtype=np.int64)


def blacklist_layout(
    xs: np.ndarray, extras: np.ndarray | None, params: FheParams, rng: np.random.Generator
) -> list[np.ndarray]:
    """Row matrices ``(rows, bins)`` per felt: every item in all its candidate bins, shuffled, padded.

    The number of rows is the fullest bin's height (public, like the file size); the server's last
    group of rows may be smaller than the others.
    ``extras`` is ``(n, felts-1)`` for hashed items; the extra felts go where the first felt went.
    """
    nbins = params.poly_degree
    felts = 1 if extras is None else 1 + extras.shape[1]
    if xs.size == 0:
        rows = 1
        return [dummy_rows((rows, nbins), f, params, rng) for f in range(felts)]
    bins, vals = candidates(xs, params)
    flat_bins = bins.reshape(-1)
    # one sort on (bin, random tie-break) packed in 64 bits: groups by bin and shuffles within each bin
    keys = (flat_bins.astype(np.uint64) << np.uint64(40)) | rng.integers(
        0, 1 << 40, size=flat_bins.size, dtype=np.uint64
    )
    order = np.argsort(keys)
    sorted_bins = flat_bins[order]
    counts = np.bincount(sorted_bins, minlength=nbins)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(sorted_bins.size) - starts[sorted_bins]
    rows = int(counts.max())
    out = []
    for f in range(felts):
        matrix = dummy_rows((rows, nbins), f, params, rng)
        if f == 0:
            source = vals.reshape(-1)
        else:
            assert extras is not None
            source = np.tile(extras[:, f - 1], CUCKOO_HASHES)
        matrix[rank, sorted_bins] = source[order]
        out.append(matrix)
    return out
