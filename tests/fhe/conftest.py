"""Shared FHE fixtures: one key pair per session (key generation is the slow, reusable part)."""

from __future__ import annotations

from pathlib import Path

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
