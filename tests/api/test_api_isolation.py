"""A holder never sees another holder's uploads, results or jobs, nor learns that they exist: every
operation of the OpenAPI document that takes an upload id answers another holder exactly as it answers
an id that does not exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from webapp_fixtures import Finished

MISSING = "AAAAAAAAAAAAAAAAAAAAAA"


def _operations(finished: Finished) -> list[tuple[str, str]]:
    spec = finished.world.client.get("/api/v1/openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        if "{upload_id}" in path
        for method in item
    ]


def _url(path: str, upload_id: str) -> str:
    url = path.replace("{upload_id}", upload_id).replace("{name}", "summary.json")
    return url + ("?timeout=1" if url.endswith("/events") else "")


def _body(path: str, taxii: dict[str, str], keys: Path) -> dict[str, Any]:
    """What an operation that needs a request body is sent (the same for every caller)."""
    if path.endswith("/export/taxii"):
        return {
            "json": {k: taxii[k] for k in ("user", "password", "collection")} | {"server": taxii["api_root"]}
        }
    if path.endswith("/fhe/query"):
        return {"files": {"public_key": ("public.key", (keys / "public.key").read_bytes())}}
    if path.endswith("/fhe/matches"):
        found = b'{"matches": [{"value": "198.51.100.2", "found": true, "entries": []}]}'
        return {"files": {"matches": ("fhe_matches.json", found)}}
    return {}


@pytest.mark.parametrize("store", ["finished", pytest.param("finished_pg", marks=pytest.mark.postgres)])
def test_every_upload_operation_is_isolated(
    store: str, request: pytest.FixtureRequest, taxii_server: dict[str, str], fhe_keys: Path
) -> None:
    finished: Finished = request.getfixturevalue(store)
    c = finished.world.client
    operations = _operations(finished)
    assert len(operations) >= 13, operations
    for method, path in operations:
        body = _body(path, taxii_server, fhe_keys)
        mine = c.request(
            method if method != "DELETE" else "GET",
            _url(path, finished.upload_id),
            headers=finished.acme,
            **body,
        )
        assert mine.status_code == 200, (method, path, mine.status_code)
        other = c.request(method, _url(path, finished.upload_id), headers=finished.globex, **body)
        missing = c.request(method, _url(path, MISSING), headers=finished.globex, **body)
        assert other.status_code == missing.status_code == 404, (method, path, other.status_code)
        assert other.json() == missing.json()
        assert finished.upload_id not in other.text
    # the DELETE above did nothing to acme's upload
    assert (
        c.get(f"/api/v1/uploads/{finished.upload_id}", headers=finished.acme).json()["job"]["state"] == "done"
    )


def test_lists_hold_only_the_holders_own(finished: Finished) -> None:
    c = finished.world.client
    assert [u["id"] for u in c.get("/api/v1/uploads", headers=finished.acme).json()] == [finished.upload_id]
    assert c.get("/api/v1/uploads", headers=finished.globex).json() == []
    mine = c.get("/api/v1/tokens", headers=finished.acme).json()
    assert c.delete(f"/api/v1/tokens/{mine[0]['id']}", headers=finished.globex).status_code == 404


@pytest.mark.parametrize(
    "page",
    [
        "",
        "/pii",
        "/cti",
        "/analysis",
        "/attacks",
        "/assessment",
        "/enrichment",
        "/export",
        "/fhe",
        "/nothing",
    ],
)
def test_pages_are_isolated(finished: Finished, page: str) -> None:
    from fastapi.testclient import TestClient

    from webapp_fixtures import PASSWORD

    browser = TestClient(finished.world.app)
    r = browser.post(
        "/signin", data={"email": "bob@globex.test", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303
    other = browser.get(f"/uploads/{finished.upload_id}{page}")
    missing = browser.get(f"/uploads/{MISSING}{page}")
    assert other.status_code == missing.status_code == 404
    assert re.sub(MISSING, "", missing.text) == other.text.replace(finished.upload_id, "")
    assert finished.upload_id not in other.text
    listing = browser.get("/uploads")
    assert listing.status_code == 200 and finished.upload_id not in listing.text
