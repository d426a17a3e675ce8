"""The FHE library behind a small interface.

The correlation needs only batched BFV: encrypt a vector, subtract, multiply, mask, re-randomise,
serialise and decrypt. :class:`FheBackend` names exactly that, so a threshold-capable backend (OpenFHE,
once its wheels load here) can replace :class:`SealBfvBackend` without touching the protocol code.
Ciphertexts are opaque objects to callers; files hold their serialised bytes.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Protocol

import numpy as np

from ppcti.errors import FHEError, MissingExtra
from ppcti.fhe.params import FheParams


class FheBackend(Protocol):
    """What the protocol needs from an FHE library (public-key BFV with batching)."""

    name: str

    def generate_keys(self) -> tuple[bytes, bytes, bytes]:
        """``(secret, public, relinearisation)`` key bytes."""
        ...

    def load_public(self, public: bytes | memoryview, relin: bytes | memoryview) -> None: ...

    def load_secret(self, secret: bytes | memoryview) -> None: ...

    def encrypt(self, values: np.ndarray) -> Any: ...

    def encrypt_random_nonzero(self) -> Any:
        """A fresh, last-level encryption of uniformly random non-zero slots (an answer of "no match")."""
        ...

    def correlate_group(self, query: Any, rows: list[Any]) -> Any:
        """``mask * prod(query - row)`` re-randomised and switched to the last level."""
        ...

    def decrypt(self, ct: Any) -> np.ndarray: ...

    def noise_budget(self, ct: Any) -> int: ...

    def dumps(self, ct: Any) -> bytes: ...

    def loads(self, data: bytes | memoryview) -> Any: ...


def _shm_dir() -> str:
    return (
        "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    )


class SealBfvBackend:
    """Microsoft SEAL 4 BFV through ``tenseal.sealapi``.

    ``sealapi`` serialises only to file paths, so bytes go through a private temporary file in
    ``/dev/shm`` (memory-backed), created and removed per call; well under a millisecond per ciphertext.
    """

    name = "seal-bfv"

    def __init__(self, params: FheParams) -> None:
        try:
            import tenseal.sealapi as seal
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise MissingExtra("fhe", "FHE blacklist correlation") from exc
        self._seal = seal
        self.params = params
        parms = seal.EncryptionParameters(seal.SCHEME_TYPE.BFV)
        parms.set_poly_modulus_degree(params.poly_degree)
        parms.set_coeff_modulus(seal.CoeffModulus.Create(params.poly_degree, list(params.coeff_bits)))
        parms.set_plain_modulus(seal.Modulus(params.plain_modulus))
        self.context = seal.SEALContext(parms, True, seal.SEC_LEVEL_TYPE.TC128)
        if not self.context.parameters_set():
            raise FHEError(f"invalid FHE parameters: {self.context.parameters_error_message()}")
        self.encoder = seal.BatchEncoder(self.context)
        self.evaluator = seal.Evaluator(self.context)
        self.encryptor: Any = None
        self.decryptor: Any = None
        self.relin: Any = None
        self._tmpdir = _shm_dir()

    # -- bytes <-> SEAL objects -------------------------------------------------------------------
    def _temp(self) -> str:
        """A fresh private path, removed right after use (also in forked workers that never exit cleanly)."""
        fd, path = tempfile.mkstemp(prefix="ppcti-fhe-", dir=self._tmpdir)
        os.close(fd)
        return path

    def _save(self, obj: Any) -> bytes:
        path = self._temp()
        try:
            obj.save(path)
            with open(path, "rb") as fh:
                return fh.read()
        finally:
            os.unlink(path)

    def _load(self, cls: Any, data: bytes | memoryview, what: str) -> Any:
        path = self._temp()
        try:
            with open(path, "wb") as fh:
                fh.write(data)
            obj = cls()
            obj.load(self.context, path)
        except Exception as exc:  # SEAL raises plain RuntimeError/ValueError on bad data
            raise FHEError(f"{what} cannot be loaded: corrupt data or made for other parameters") from exc
        finally:
            os.unlink(path)
        return obj

    # -- keys -------------------------------------------------------------------------------------
    def generate_keys(self) -> tuple[bytes, bytes, bytes]:
        seal = self._seal
        keygen = seal.KeyGenerator(self.context)
        public = seal.PublicKey()
        keygen.create_public_key(public)
        relin = seal.RelinKeys()
        keygen.create_relin_keys(relin)
        return self._save(keygen.secret_key()), self._save(public), self._save(relin)

    def load_public(self, public: bytes | memoryview, relin: bytes | memoryview) -> None:
        seal = self._seal
        self.encryptor = seal.Encryptor(self.context, self._load(seal.PublicKey, public, "public key"))
        self.relin = self._load(seal.RelinKeys, relin, "relinearisation keys")

    def load_secret(self, secret: bytes | memoryview) -> None:
        seal = self._seal
        self.decryptor = seal.Decryptor(self.context, self._load(seal.SecretKey, secret, "secret key"))

    # -- operations -------------------------------------------------------------------------------
    def _plain(self, values: np.ndarray) -> Any:
        pt = self._seal.Plaintext()
        self.encoder.encode(np.asarray(values, dtype=np.int64).tolist(), pt)
        return pt

    def encrypt(self, values: np.ndarray) -> Any:
        if self.encryptor is None:
            raise FHEError("no public key loaded")
        ct = self._seal.Ciphertext()
        self.encryptor.encrypt(self._plain(values), ct)
        return ct

    def random_nonzero(self) -> np.ndarray:
        """Uniform in ``[1, t)`` from the OS CSPRNG (modulo bias below 2^-40)."""
        raw = np.frombuffer(os.urandom(8 * self.params.poly_degree), dtype=np.uint64)
        return (raw % np.uint64(self.params.plain_modulus - 1) + np.uint64(1)).astype(np.int64)

    def _finish(self, ct: Any) -> Any:
        """Re-randomise with a fresh encryption of zero and drop to the last level."""
        zero = self._seal.Ciphertext()
        self.encryptor.encrypt_zero(zero)
        self.evaluator.add_inplace(ct, zero)
        self.evaluator.mod_switch_to_inplace(ct, self.context.last_parms_id())
        return ct

    def encrypt_random_nonzero(self) -> Any:
        return self._finish(self.encrypt(self.random_nonzero()))

    def correlate_group(self, query: Any, rows: list[Any]) -> Any:
        ev = self.evaluator
        level = []
        for row in rows:
            diff = self._seal.Ciphertext()
            ev.sub(query, row, diff)
            level.append(diff)
        while len(level) > 1:
            nxt = []
            for i in range(0, len(level) - 1, 2):
                prod = self._seal.Ciphertext()
                ev.multiply(level[i], level[i + 1], prod)
                ev.relinearize_inplace(prod, self.relin)
                nxt.append(prod)
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        out = level[0]
        ev.multiply_plain_inplace(out, self._plain(self.random_nonzero()))
        return self._finish(out)

    def decrypt(self, ct: Any) -> np.ndarray:
        if self.decryptor is None:
            raise FHEError("no secret key loaded")
        pt = self._seal.Plaintext()
        self.decryptor.decrypt(ct, pt)
        return np.asarray(self.encoder.decode_uint64(pt), dtype=np.int64)

    def noise_budget(self, ct: Any) -> int:
        if self.decryptor is None:
            raise FHEError("no secret key loaded")
        return int(self.decryptor.invariant_noise_budget(ct))

    def dumps(self, ct: Any) -> bytes:
        return self._save(ct)

    def loads(self, data: bytes | memoryview) -> Any:
        return self._load(self._seal.Ciphertext, data, "ciphertext")


def make_backend(params: FheParams, name: str = "seal-bfv") -> FheBackend:
    """The registry of backends (one today)."""
    if name != "seal-bfv":
        raise FHEError(f"unknown FHE backend {name!r}")
    return SealBfvBackend(params)
