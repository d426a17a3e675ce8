"""``ppcti taxii push`` against a real TAXII 2.1 server, read back with taxii2-client."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from taxii2client.v21 import Collection, as_pages

from ppcti.errors import TaxiiError
from ppcti.taxii.push import bundle_objects, envelopes, push

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]


def _bundle(tmp: Path, name: str, count: int, prefix: str) -> Path:
    """A strictly valid bundle of ``count`` indicators (distinct ids per prefix)."""
    objects = []
    for i in range(count):
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{prefix}{i:04d}-0000-4000-8000-{i:012d}",
                "created": "2023-03-08T07:00:43.000Z",
                "modified": "2023-03-08T07:00:43.000Z",
                "pattern": f"[ipv4-addr:value = '198.51.100.{i % 250}']",
                "pattern_type": "stix",
                "valid_from": "2023-03-08T07:00:43Z",
                "description": "x" * 300,  # makes envelopes fill up
            }
        )
    path = tmp / name
    path.write_bytes(
        orjson.dumps(
            {
                "type": "bundle",
                "id": "bundle--" + prefix + "000-0000-4000-8000-000000000000",
                "objects": objects,
            }
        )
    )
    return path


def _collection(server: dict[str, str]) -> Collection:
    return Collection(
        f"{server['api_root']}collections/{server['collection']}/",
        user=server["user"],
        password=server["password"],
    )


def _read_all(server: dict[str, str], **filters: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in as_pages(_collection(server).get_objects, per_request=40, **filters):
        out += page.get("objects", [])
    return out


def test_push_paginated_and_added_after(taxii_server: dict[str, str], tmp_path: Path) -> None:
    first = bundle_objects(_bundle(tmp_path, "a.json", 130, "aaaa"))
    url = f"{taxii_server['api_root']}collections/{taxii_server['collection']}/"
    summary = push(first, url, user=taxii_server["user"], password=taxii_server["password"])
    assert summary.succeeded == 130
    assert summary.failed == 0
    assert summary.envelopes > 1  # 30 kB limit, ~500 bytes per object
    back = _read_all(taxii_server)
    assert {o["id"] for o in first} <= {o["id"] for o in back}
    # pagination really happened: 40 per page
    coll = _collection(taxii_server)
    page = coll.get_objects(limit=40)
    assert len(page["objects"]) == 40
    assert page.get("more") is True

    manifest = [m for p in as_pages(coll.get_manifest, per_request=50) for m in p.get("objects", [])]
    assert len(manifest) == len(back)
    cut = max(m["date_added"] for m in manifest)
    time.sleep(1.1)
    second = bundle_objects(_bundle(tmp_path, "b.json", 45, "bbbb"))
    push(second, url, user=taxii_server["user"], password=taxii_server["password"])
    newer = _read_all(taxii_server, added_after=cut)
    assert {o["id"] for o in newer} == {o["id"] for o in second}

    again = push(first, url, user=taxii_server["user"], password=taxii_server["password"])
    assert (again.succeeded, again.already_present, again.failed) == (0, 130, 0)
    assert len(_read_all(taxii_server)) == len({o["id"] for o in back} | {o["id"] for o in second})


def test_push_command_with_credentials_from_environment(taxii_server: dict[str, str], tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, "c.json", 12, "cccc")
    cmd = [
        sys.executable,
        "-c",
        "from ppcti.cli import main; main()",
        "taxii",
        "push",
        str(bundle),
        "--server",
        taxii_server["api_root"],
        "--collection",
        taxii_server["collection"],
    ]
    env = {
        "PYTHONPATH": str(ROOT / "src"),
        "PPCTI_TAXII_USER": taxii_server["user"],
        "PPCTI_TAXII_PASSWORD": taxii_server["password"],
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "12 of 12 objects added" in done.stdout
    wrong = {**env, "PPCTI_TAXII_PASSWORD": "wrong"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=wrong, timeout=120, check=False)
    assert done.returncode == 2
    assert "HTTP 401" in done.stderr
    assert "Traceback" not in done.stderr
    assert taxii_server["password"] not in done.stderr


def test_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(TaxiiError, match="unreachable"):
        push([{"type": "x"}], "http://127.0.0.1:9/cti/collections/x/")


def test_envelopes_respect_the_size_limit() -> None:
    objects = [{"type": "indicator", "id": f"indicator--{i}", "pad": "y" * (i % 97)} for i in range(500)]
    batches = list(envelopes(objects, 2_000, 1000))
    assert sum(len(b) for b in batches) == 500
    for batch in batches:
        assert len(b'{"objects":[' + b",".join(batch) + b"]}") <= 2_000
    with pytest.raises(TaxiiError, match="larger than"):
        list(envelopes([{"type": "indicator", "pad": "z" * 3000}], 2_000, 1000))


def test_a_server_that_never_answers_fails_the_push_in_time() -> None:
    import socket

    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(TaxiiError, match=r"unreachable: (ReadTimeout|ConnectionError)"):
            push([], f"http://127.0.0.1:{port}/api/collections/c/", request_timeout=1.0)
        assert time.monotonic() - started < 20
