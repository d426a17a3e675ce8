"""Real servers on loopback for the MISP and TAXII tests, each in the environment it pins.

misp-modules and medallion pin dependencies that ppcti's environment does not share, so
``scripts/test`` installs each into its own virtual environment (``.venv-misp-modules``,
``.venv-medallion``); ``PPCTI_MISP_MODULES`` / ``PPCTI_MEDALLION`` may point at other executables.
Without them the tests skip, unless ``PPCTI_REQUIRE_SERVERS=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ppcti_process import child_env, ppcti_command, start_fhe_service  # noqa: F401 (used by tests)

ROOT = Path(__file__).parents[2]


def executable(env_name: str, venv: str, name: str) -> str:
    path = os.environ.get(env_name) or str(ROOT / venv / "bin" / name)
    if not Path(path).is_file():
        if os.environ.get("PPCTI_REQUIRE_SERVERS") == "1":
            pytest.fail(f"{name} not installed at {path} (scripts/test installs it)")
        pytest.skip(f"{name} not installed ({venv}; scripts/test installs it)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                resp.read()
                return
        except OSError as exc:
            if getattr(exc, "code", None) is not None:  # an HTTP error status: it is up
                return
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url} within {timeout} s")


def stop(proc: subprocess.Popen[Any]) -> str:
    """Terminate a server; whatever it wrote to pipes (empty when it wrote to files)."""
    proc.terminate()
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=20)
    text = [x.decode(errors="replace") if isinstance(x, bytes) else x for x in (out, err) if x]
    return "".join(text)


def ppcti_wrapper(folder: Path) -> Path:
    """An executable ``ppcti`` that runs this source tree (what a deployment's console script does)."""
    path = folder / "ppcti"
    run = "from ppcti.cli import main; main()"
    path.write_text(f"#!/bin/sh\nPYTHONPATH='{ROOT / 'src'}' exec '{sys.executable}' -c '{run}' \"$@\"\n")
    path.chmod(0o755)
    return path


COLLECTION = "4f0e1b9a-6c1d-4d8e-9a2b-3c4d5e6f7a8b"
MEDIA = "application/stix+json;version=2.1"


def _data(port: int, max_content_length: int) -> dict[str, Any]:
    return {
        "/discovery": {
            "title": "ppcti test TAXII server",
            "default": f"http://127.0.0.1:{port}/cti/",
            "api_roots": [f"http://127.0.0.1:{port}/cti/"],
        },
        "cti": {
            "information": {
                "title": "ppcti CTI",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": max_content_length,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "Shared CTI",
                    "can_read": True,
                    "can_write": True,
                    "media_types": [MEDIA],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }


def medallion(tmp: Path, max_content_length: int, max_page_size: int = 100) -> Iterator[dict[str, str]]:
    """medallion (TAXII 2.1, memory backend) on a free loopback port with a one-off password."""
    exe = executable("PPCTI_MEDALLION", ".venv-medallion", "medallion")
    port = free_port()
    user, password = "publisher", secrets.token_urlsafe(16)
    (tmp / "data.json").write_bytes(orjson.dumps(_data(port, max_content_length)))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(tmp / "data.json"),
        },
        "users": {user: password},
        "taxii": {"max_page_size": max_page_size},
    }
    (tmp / "config.json").write_bytes(orjson.dumps(config))
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [exe, "--host", "127.0.0.1", "--port", str(port), str(tmp / "config.json")], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}/cti/"
    try:
        wait_http(f"http://127.0.0.1:{port}/taxii2/", proc)
        yield {"api_root": url, "collection": COLLECTION, "user": user, "password": password}
    finally:
        stop(proc)
        log.close()
