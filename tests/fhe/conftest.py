"""Shared FHE fixtures: one key pair per session (key generation is the slow, reusable part)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

pytest.importorskip("tenseal")

from ppcti.fhe import correlate, decrypt, encrypt_blacklist, encrypt_cti, keygen
from ppcti.fhe.encoding import canonical_address


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("keys")
    keygen(out)
    return out


Pipeline = Callable[..., dict[str, bool]]


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


def plain_membership(values: list[str], blacklist: list[str]) -> dict[str, bool]:
    """The reference: Python set / network membership on the same inputs."""
    nets, emails = [], set()
    for line in blacklist:
        text = line.split("#", 1)[0].split(";", 1)[0].strip()
        if not text:
            continue
        if "@" in text:
            emails.add(text.lower())
        else:
            nets.append(ipaddress.ip_network(text, strict=False))
    out = {}
    for value in values:
        found = canonical_address(value)
        if found is None:
            continue
        kind, canon = found
        if kind == "email":
            out[canon] = canon in emails
        else:
            ip = ipaddress.ip_address(canon)
            out[canon] = any(n.version == ip.version and ip in n for n in nets)
    return out
