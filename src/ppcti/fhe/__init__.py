"""Private blacklist correlation under fully homomorphic encryption (BFV, Microsoft SEAL via TenSEAL).

Four tools, one per party: :func:`keygen` and :func:`encrypt_cti` / :func:`decrypt` (CTI holder),
:func:`encrypt_blacklist` (blacklist owner), :func:`correlate` (untrusted server); a server that scales
out splits the list with :func:`shard_blacklist` and the shards' answers are joined by
:func:`merge_results` (the Kafka transport is :mod:`ppcti.bus.fhe`). Protocol, leakage and
file formats: docs/fhe.md.

Names load lazily (PEP 562), so importing ``ppcti.fhe.cli`` for ``ppcti --help`` pulls in neither
NumPy nor SEAL.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ppcti.fhe.backend import FheBackend, SealBfvBackend, make_backend
    from ppcti.fhe.blacklist import BlacklistSummary, encrypt_blacklist
    from ppcti.fhe.decryption import DecryptSummary, decrypt
    from ppcti.fhe.keys import KeygenSummary, keygen, load_public, load_secret
    from ppcti.fhe.params import FheParams
    from ppcti.fhe.query import QuerySummary, encrypt_cti
    from ppcti.fhe.server import CorrelateSummary, correlate
    from ppcti.fhe.shards import ShardSet, ShardSummary, merge_results, shard_blacklist

_WHERE = {
    "FheBackend": "backend",
    "SealBfvBackend": "backend",
    "make_backend": "backend",
    "BlacklistSummary": "blacklist",
    "encrypt_blacklist": "blacklist",
    "DecryptSummary": "decryption",
    "decrypt": "decryption",
    "KeygenSummary": "keys",
    "keygen": "keys",
    "load_public": "keys",
    "load_secret": "keys",
    "FheParams": "params",
    "QuerySummary": "query",
    "encrypt_cti": "query",
    "CorrelateSummary": "server",
    "correlate": "server",
    "ShardSet": "shards",
    "ShardSummary": "shards",
    "merge_results": "shards",
    "shard_blacklist": "shards",
}

__all__ = [
    "BlacklistSummary",
    "CorrelateSummary",
    "DecryptSummary",
    "FheBackend",
    "FheParams",
    "KeygenSummary",
    "QuerySummary",
    "SealBfvBackend",
    "ShardSet",
    "ShardSummary",
    "correlate",
    "decrypt",
    "encrypt_blacklist",
    "encrypt_cti",
    "keygen",
    "load_public",
    "load_secret",
    "make_backend",
    "merge_results",
    "shard_blacklist",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ppcti.fhe' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ppcti.fhe.{module}"), name)
