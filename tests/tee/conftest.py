"""Fixtures of the TEE tests: one FHE key pair, policies, and a real RA-TLS service on loopback."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("tenseal")

from tee_helpers import ServiceHandle

from ppcti.fhe import keygen
from ppcti.tee.backends import SIMULATED_MR_SIGNER, SimulationBackend, source_measurement
from ppcti.tee.limits import Limits
from ppcti.tee.policy import Policy
from ppcti.tee.service import RaTlsServer, TeeService

SIM_MEASUREMENT = {"mr_enclave": source_measurement().hex(), "mr_signer": SIMULATED_MR_SIGNER.hex()}


@pytest.fixture(scope="session")
def public_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("keys")
    keygen(out)
    return out / "public.key"


@pytest.fixture
def sim_policy() -> Policy:
    return Policy(measurements=(SIM_MEASUREMENT,), allow_debug=True, allow_simulation=True)


@pytest.fixture
def production_policy() -> Policy:
    """Pins the very same measurement, but as production must: no debug, no simulation."""
    return Policy(measurements=(SIM_MEASUREMENT,))


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process's temporary folder, moved where a test can search all of it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def start_service(state: Path, limits: Limits = Limits()) -> ServiceHandle:
    service = TeeService(SimulationBackend(state), state, limits)
    server = RaTlsServer(("127.0.0.1", 0), service)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    return ServiceHandle(
        server=server, service=service, url=f"https://127.0.0.1:{server.server_address[1]}", state=state
    )


@pytest.fixture
def service(tmp_path: Path, private_tmp: Path) -> Iterator[ServiceHandle]:
    handle = start_service(tmp_path / "state")
    yield handle
    handle.stop()


@pytest.fixture
def service_factory(tmp_path: Path, private_tmp: Path) -> Iterator[object]:
    handles: list[ServiceHandle] = []

    def make(limits: Limits = Limits(), name: str = "state") -> ServiceHandle:
        handle = start_service(tmp_path / name, limits)
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop()
