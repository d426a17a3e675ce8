"""MISP test fixtures: the holder's keys, an encrypted MISP feed, the correlation service."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parents[1] / "data" / "misp"


@pytest.fixture(scope="session")
def holder_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("tenseal")
    from ppcti.fhe import keygen

    out = tmp_path_factory.mktemp("holder-keys")
    keygen(out)
    return out


@pytest.fixture(scope="session")
def fhe_service(holder_keys: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``ppcti fhe serve`` holding the sample MISP feed, encrypted for the holder."""
    from servers import child_env, start_fhe_service, stop

    from ppcti.fhe import encrypt_blacklist

    tmp = tmp_path_factory.mktemp("owner")
    encrypt_blacklist([DATA / "feed"], holder_keys / "public.key", tmp / "bl.fhe", name="c2feed", threads=1)
    proc, url = start_fhe_service(
        "--blacklist", str(tmp / "bl.fhe"), "--public", str(holder_keys / "public.key"), env=child_env()
    )
    try:
        yield {"url": url, "blacklist": tmp / "bl.fhe"}
    finally:
        stop(proc)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def misp_modules(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real misp-modules server (PyPI) on loopback, with ppcti's module folder as custom root."""
    from servers import executable, free_port, stop, wait_http

    from ppcti.misp.modules_path import modules_path

    exe = executable("PPCTI_MISP_MODULES", ".venv-misp-modules", "misp-modules")
    port = free_port()
    log = tmp_path_factory.mktemp("misp-modules") / "server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [exe, "-l", "127.0.0.1", "-p", str(port), "-c", str(modules_path())], stdout=fh, stderr=fh
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/healthcheck", proc)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ppcti run`` on the bundled sample upload: a real aggregate with several object kinds."""
    from servers import child_env, ppcti_command

    out = tmp_path_factory.mktemp("run") / "acme"
    sample = Path(__file__).parents[2] / "samples" / "sample-upload.zip"
    done = subprocess.run(
        ppcti_command("run", str(sample), "--holder", "acme", "--out", str(out), "--skip", "report"),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.fixture(scope="session")
def taxii_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from servers import medallion

    yield from medallion(tmp_path_factory.mktemp("medallion"), 4_000_000, 5000)
