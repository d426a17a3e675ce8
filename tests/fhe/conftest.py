"""Shared FHE fixtures: one key pair per session (key generation is the slow, reusable part)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("tenseal")

from ppcti.fhe import correlate, decrypt, encrypt_blacklist, encrypt_cti, keygen


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("keys")
    keygen(out)
    return out


from fhe_helpers import Pipeline  # noqa: E402

from kafka_fixtures import bus_settings, kafka_bootstrap  # noqa: E402,F401  (the broker fixture: skip/require behaviour)


@pytest.fixture
def pipeline(keys: Path, tmp_path: Path) -> Pipeline:
    """Run all four tools on a query list and blacklist lines; returns value -> found."""

    def run(
        query: list[str], blacklist: list[str], *, key_dir: Path = keys, threads: int = 1
    ) -> dict[str, bool]:
        qfile = tmp_path / "query.txt"
        qfile.write_text("\n".join(query) + "\n")
        bfile = tmp_path / "list.txt"
        bfile.write_text("\n".join(blacklist) + "\n")
        encrypt_cti(qfile, key_dir / "public.key", tmp_path / "q")
        encrypt_blacklist([bfile], key_dir / "public.key", tmp_path / "bl.fhe")
        correlate(
            key_dir / "public.key",
            tmp_path / "q/query.fhe",
            tmp_path / "bl.fhe",
            tmp_path / "r.fhe",
            threads=threads,
        )
        decrypt(tmp_path / "r.fhe", key_dir / "secret.key", tmp_path / "q/mapping.json", tmp_path / "out")
        data = orjson.loads((tmp_path / "out/fhe_matches.json").read_bytes())
        return {m["value"]: m["found"] for m in data["matches"]}

    return run


@pytest.fixture(scope="session")
def shard_case(keys: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A blacklist tall enough for three row groups, a query with hits and misses, and the unsharded
    answer: what the sharded paths (files and Kafka) must reproduce."""
    import random

    from fhe_helpers import plain_membership

    tmp = tmp_path_factory.mktemp("shards")
    rng = random.Random(15)
    octet = rng.randrange
    listed = sorted({f"10.{octet(256)}.{octet(256)}.{octet(256)}" for _ in range(20000)})
    blacklist = [*listed, "192.0.2.0/24", "phish@evil.example", "2001:db8::/32"]
    queries = [
        *rng.sample(listed, 40),
        *(f"172.16.{i}.{i}" for i in range(40)),
        "192.0.2.77",
        "192.0.3.77",
        "Phish@evil.example",
        "ok@good.example",
        "2001:db8::5",
    ]
    (tmp / "list.txt").write_text("\n".join(blacklist) + "\n")
    (tmp / "query.txt").write_text("\n".join(queries) + "\n")
    encrypt_blacklist([tmp / "list.txt"], keys / "public.key", tmp / "bl.fhe", name="drop", threads=1)
    encrypt_cti(tmp / "query.txt", keys / "public.key", tmp / "q")
    correlate(keys / "public.key", tmp / "q/query.fhe", tmp / "bl.fhe", tmp / "r.fhe", threads=1)
    decrypt(tmp / "r.fhe", keys / "secret.key", tmp / "q/mapping.json", tmp / "out")
    matches = orjson.loads((tmp / "out/fhe_matches.json").read_bytes())["matches"]
    found = {m["value"]: m["found"] for m in matches}
    assert found == plain_membership(queries, blacklist)  # the reference itself is right
    assert 0 < sum(found.values()) < len(found)
    return {"dir": tmp, "keys": keys, "found": found}
