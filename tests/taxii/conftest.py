"""A real TAXII 2.1 server (medallion, memory backend) on loopback, in its own environment."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "misp"))
from servers import executable, free_port, stop, wait_http

COLLECTION = "4f0e1b9a-6c1d-4d8e-9a2b-3c4d5e6f7a8b"
MEDIA = "application/stix+json;version=2.1"


def _data(port: int) -> dict[str, Any]:
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
                "max_content_length": 30_000,  # small on purpose: pushes need several envelopes
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


@pytest.fixture(scope="session")
def taxii_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    exe = executable("PPCTI_MEDALLION", ".venv-medallion", "medallion")
    tmp = tmp_path_factory.mktemp("medallion")
    port = free_port()
    user, password = "publisher", secrets.token_urlsafe(16)
    (tmp / "data.json").write_bytes(orjson.dumps(_data(port)))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(tmp / "data.json"),
        },
        "users": {user: password},
        "taxii": {"max_page_size": 100},
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
