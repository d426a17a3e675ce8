"""What the holder sees when it decrypts every slot: zeros only for real matches, uniform noise elsewhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from ppcti.fhe import SealBfvBackend, correlate, encrypt_blacklist, encrypt_cti, load_secret
from ppcti.fhe.fileformat import read_file

#: Chi-square critical value, 15 degrees of freedom, p ~ 1e-6 (Wilson-Hilferty): a false alarm is
#: practically impossible, while unmasked results score in the thousands (see the power test below).
CHI2_15_CRIT = 57.0


def _chi_square_uniform(values: np.ndarray, low: int, high: int, buckets: int = 16) -> float:
    counts, _ = np.histogram(values, bins=buckets, range=(low, high))
    expected = values.size / buckets
    return float(((counts - expected) ** 2 / expected).sum())


QUERIES = [f"198.51.100.{i}" for i in range(200)]


def _run(keys: Path, tmp_path: Path) -> None:
    (tmp_path / "q.txt").write_text("\n".join(QUERIES))
    (tmp_path / "bl.txt").write_text("198.51.100.5\n198.51.100.77\n")
    encrypt_cti(tmp_path / "q.txt", keys / "public.key", tmp_path / "q")
    encrypt_blacklist([tmp_path / "bl.txt"], keys / "public.key", tmp_path / "bl.fhe")
    correlate(
        keys / "public.key", tmp_path / "q/query.fhe", tmp_path / "bl.fhe", tmp_path / "r.fhe", threads=1
    )


def test_without_the_mask_the_uniformity_test_fails(
    keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Power check: with the random mask replaced by 1 the non-matching slots are visibly not uniform."""
    monkeypatch.setattr(
        SealBfvBackend, "random_nonzero", lambda self: np.ones(self.params.poly_degree, dtype=np.int64)
    )
    _run(keys, tmp_path)
    key = load_secret(keys / "secret.key")
    values = key.backend.decrypt(key.backend.loads(read_file(tmp_path / "r.fhe", "result").blobs[0]))
    assert _chi_square_uniform(values[values != 0], 1, key.params.plain_modulus) > CHI2_15_CRIT


def test_result_slots_are_uniform_except_matches(keys: Path, tmp_path: Path) -> None:
    queries = QUERIES
    _run(keys, tmp_path)
    key = load_secret(keys / "secret.key")
    result = read_file(tmp_path / "r.fhe", "result")
    mapping = orjson.loads((tmp_path / "q/mapping.json").read_bytes())
    t = key.params.plain_modulus
    match_slots = {
        s
        for s, owners in mapping["batches"][0]["slots"]
        if queries[owners[0]] in ("198.51.100.5", "198.51.100.77")
    }
    assert len(match_slots) == 2
    for blob in result.blobs:
        ct = key.backend.loads(blob)
        assert key.backend.noise_budget(ct) > 0
        values = key.backend.decrypt(ct)
        zero = set(np.flatnonzero(values == 0).tolist())
        assert zero == match_slots  # every empty slot and every dummy row stays non-zero
        others = np.delete(values, sorted(match_slots))
        assert _chi_square_uniform(others, 1, t) < CHI2_15_CRIT
        # low bits too: a value mod 16 must not betray the row or the query
        counts = np.bincount(others % 16, minlength=16)
        expected = others.size / 16
        assert float(((counts - expected) ** 2 / expected).sum()) < CHI2_15_CRIT
    # results are at the last level: the holder gets no more noise budget than it needs
    assert len(result.blobs) == 1


def test_results_are_rerandomised(keys: Path, tmp_path: Path) -> None:
    """Two runs on the same inputs give different ciphertexts and different non-zero slot values."""
    (tmp_path / "q.txt").write_text("192.0.2.1\n192.0.2.2\n")
    (tmp_path / "bl.txt").write_text("192.0.2.1\n")
    encrypt_cti(tmp_path / "q.txt", keys / "public.key", tmp_path / "q")
    encrypt_blacklist([tmp_path / "bl.txt"], keys / "public.key", tmp_path / "bl.fhe")
    key = load_secret(keys / "secret.key")
    decrypted = []
    for name in ("r1.fhe", "r2.fhe"):
        correlate(
            keys / "public.key", tmp_path / "q/query.fhe", tmp_path / "bl.fhe", tmp_path / name, threads=1
        )
        blob = read_file(tmp_path / name, "result").blobs[0]
        decrypted.append((blob, key.backend.decrypt(key.backend.loads(blob))))
    assert decrypted[0][0] != decrypted[1][0]
    a, b = decrypted[0][1], decrypted[1][1]
    assert (a == 0).sum() == (b == 0).sum() == 1
    assert np.mean(a[a != 0] == b[b != 0]) < 0.01


def test_dummy_rows_never_match_empty_query_slots(keys: Path, tmp_path: Path) -> None:
    """An empty query (all slots empty) against a padded blacklist decrypts to no zero at all."""
    (tmp_path / "q.txt").write_text("203.0.113.99\n")
    (tmp_path / "bl.txt").write_text("\n".join(f"10.0.{i}.{j}" for i in range(4) for j in range(256)))
    encrypt_cti(tmp_path / "q.txt", keys / "public.key", tmp_path / "q")
    encrypt_blacklist([tmp_path / "bl.txt"], keys / "public.key", tmp_path / "bl.fhe")
    correlate(
        keys / "public.key", tmp_path / "q/query.fhe", tmp_path / "bl.fhe", tmp_path / "r.fhe", threads=1
    )
    key = load_secret(keys / "secret.key")
    for blob in read_file(tmp_path / "r.fhe", "result").blobs:
        assert not (key.backend.decrypt(key.backend.loads(blob)) == 0).any()
