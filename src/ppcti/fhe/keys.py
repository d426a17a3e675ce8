"""Key generation and loading (CTI holder side: the secret key never leaves it)."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from ppcti.errors import FHEError
from ppcti.fhe.backend import FheBackend, make_backend
from ppcti.fhe.fileformat import read_file, write_file
from ppcti.fhe.params import FheParams

PUBLIC_NAME = "public.key"
SECRET_NAME = "secret.key"


@dataclass(frozen=True, slots=True)
class KeygenSummary:
    public_path: str
    secret_path: str
    key_id: str
    params_fingerprint: str
    public_bytes: int
    secret_bytes: int


@dataclass(slots=True)
class LoadedKey:
    """Parameters, key id and a backend with the key loaded."""

    params: FheParams
    key_id: str
    backend: FheBackend
    path: str

    @property
    def fingerprint(self) -> str:
        return self.params.fingerprint()


def keygen(out_dir: str | os.PathLike[str], params: FheParams | None = None) -> KeygenSummary:
    """Create ``secret.key`` (mode 0600, stays with the holder) and ``public.key`` in ``out_dir``."""
    params = params or FheParams()
    if not params.hash_key:
        params = replace(params, hash_key=secrets.token_hex(32))
    params.check()
    backend = make_backend(params)
    secret, public, relin = backend.generate_keys()
    key_id = hashlib.sha256(public).hexdigest()[:16]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    header = {
        "params": params.to_dict(),
        "params_fingerprint": params.fingerprint(),
        "key_id": key_id,
        "backend": backend.name,
    }
    secret_path = out / SECRET_NAME
    public_path = out / PUBLIC_NAME
    secret_size = write_file(secret_path, {**header, "kind": "secret-key"}, [secret], private=True)
    public_size = write_file(public_path, {**header, "kind": "public-key"}, [public, relin])
    return KeygenSummary(
        str(public_path), str(secret_path), key_id, params.fingerprint(), public_size, secret_size
    )


def _params_of(header: dict[str, object], path: str) -> FheParams:
    try:
        params = FheParams.from_dict(header["params"])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as exc:
        raise FHEError("key file has no valid parameter block", file=path) from exc
    if params.fingerprint() != header.get("params_fingerprint"):
        raise FHEError("key file parameters do not match their fingerprint (edited or corrupt)", file=path)
    params.check()
    return params


def load_public(path: str | os.PathLike[str]) -> LoadedKey:
    path = os.fspath(path)
    file = read_file(path, "public-key")
    params = _params_of(file.header, path)
    if len(file.blobs) != 2:
        raise FHEError("public key file must hold a public key and relinearisation keys", file=path)
    if hashlib.sha256(file.blobs[0]).hexdigest()[:16] != file.header.get("key_id"):
        raise FHEError("public key does not match its key id", file=path)
    backend = make_backend(params, str(file.header.get("backend", "seal-bfv")))
    backend.load_public(file.blobs[0], file.blobs[1])
    return LoadedKey(params, str(file.header["key_id"]), backend, path)


def load_secret(path: str | os.PathLike[str]) -> LoadedKey:
    path = os.fspath(path)
    file = read_file(path, "secret-key")
    params = _params_of(file.header, path)
    if len(file.blobs) != 1:
        raise FHEError("secret key file must hold exactly one key", file=path)
    backend = make_backend(params, str(file.header.get("backend", "seal-bfv")))
    backend.load_secret(file.blobs[0])
    return LoadedKey(params, str(file.header["key_id"]), backend, path)
