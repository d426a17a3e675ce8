"""The MISP/TAXII export capability: the MISP event and feed are those ``ppcti.misp`` builds from the run's
aggregate, and a push reaches a real TAXII 2.1 server (medallion on loopback) with credentials that are
never echoed, logged or kept."""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile

import pytest
from taxii2client.v21 import Collection, as_pages

from ppcti.misp.export import build_event, load_aggregate
from webapp_fixtures import PASSWORD, Finished

pytestmark = pytest.mark.slow


def _collection_ids(server: dict[str, str], kind: str) -> set[str]:
    """Ids of the collection's objects of one type (medallion fails listing all objects at once here: it
    reads the extension definition's ``version`` as a timestamp)."""
    url = f"{server['api_root']}collections/{server['collection']}/"
    coll = Collection(url, user=server["user"], password=server["password"])
    pages = as_pages(coll.get_objects, per_request=100, type=kind)
    return {o["id"] for page in pages for o in page.get("objects", [])}


def test_misp_event_and_feed(finished: Finished) -> None:
    c, h, uid = finished.world.client, finished.acme, finished.upload_id
    run = finished.world.data / "runs" / uid
    expected, summary = build_event(load_aggregate(run))
    event = c.get(f"/api/v1/uploads/{uid}/export/misp/event", headers=h)
    assert event.status_code == 200
    body = event.json()["Event"]
    assert body["uuid"] == expected.uuid == summary.event_uuid
    assert len(body["Object"]) == summary.objects > 0
    feed = c.get(f"/api/v1/uploads/{uid}/export/misp/feed", headers=h)
    assert feed.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(feed.content)) as zf:
        event_file = f"misp-feed/{summary.event_uuid}.json"
        assert sorted(zf.namelist()) == sorted(["misp-feed/manifest.json", event_file])
        assert list(json.loads(zf.read("misp-feed/manifest.json"))) == [summary.event_uuid]
        assert json.loads(zf.read(event_file))["Event"]["uuid"] == summary.event_uuid
    hashed = c.get(f"/api/v1/uploads/{uid}/export/misp/feed", params={"hashes": "md5"}, headers=h)
    with zipfile.ZipFile(io.BytesIO(hashed.content)) as zf:
        assert "misp-feed/hashes.csv" in zf.namelist()
    odd = c.get(f"/api/v1/uploads/{uid}/export/misp/feed", params={"hashes": "x"}, headers=h)
    assert odd.status_code == 422
    # the run's observations only when asked: the holder's own MISP
    assert {o["name"] for o in body["Object"]} <= {"ip-port"}
    full = c.get(f"/api/v1/uploads/{uid}/export/misp/event", params={"observations": "true"}, headers=h)
    with_observations, _ = build_event(load_aggregate(run, observations=True))
    names = {o["name"] for o in full.json()["Event"]["Object"]}
    assert len(full.json()["Event"]["Object"]) == len(with_observations.objects) > len(body["Object"])
    assert "network-connection" in names


def test_taxii_push_reaches_the_collection_and_keeps_no_credentials(
    finished: Finished, taxii_server: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    c, h, uid = finished.world.client, finished.acme, finished.upload_id
    aggregate = json.loads((finished.world.data / "runs" / uid / "cti" / "aggregate.json").read_text())
    url = f"/api/v1/uploads/{uid}/export/taxii"
    body = {
        "server": taxii_server["api_root"],
        "collection": taxii_server["collection"],
        "user": taxii_server["user"],
        "password": taxii_server["password"],
    }
    caplog.set_level(logging.DEBUG)
    r = c.post(url, json=body, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["objects"] == len({o["id"] for o in aggregate["objects"]})
    assert out["succeeded"] + out["already_present"] == out["objects"] and out["failed"] == 0
    for kind in ("indicator", "sighting", "identity", "report"):
        ids = {o["id"] for o in aggregate["objects"] if o["type"] == kind}
        assert ids and ids <= _collection_ids(taxii_server, kind)
    again = c.post(url, json=body, headers=h).json()  # repeatable: already there, not failed
    assert again["already_present"] == again["objects"] and again["failed"] == 0
    wrong = c.post(url, json={**body, "password": "wrong-password-x"}, headers=h)
    assert wrong.status_code == 502 and "401" in wrong.json()["detail"]
    assert "wrong-password-x" not in wrong.text
    unreachable = c.post(url, json={**body, "server": "http://127.0.0.1:9/cti/"}, headers=h)
    assert unreachable.status_code == 502 and "unreachable" in unreachable.json()["detail"]
    for refused in ({**body, "server": "ftp://x.test/"}, {**body, "server": "http://u:p@127.0.0.1:9/"}):
        assert c.post(url, json=refused, headers=h).status_code == 400
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "TAXII push" in logged
    assert taxii_server["password"] not in logged and "wrong-password-x" not in logged
    run = finished.world.data / "runs" / uid
    assert not any(taxii_server["password"] in p.read_text(errors="ignore") for p in run.rglob("*.json"))


def test_export_page_pushes_with_csrf_and_never_echoes_the_password(
    finished: Finished, taxii_server: dict[str, str]
) -> None:
    from fastapi.testclient import TestClient

    browser = TestClient(finished.world.app)
    r = browser.post(
        "/signin", data={"email": "adam@acme.test", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303
    uid = finished.upload_id
    page = browser.get(f"/uploads/{uid}/export")
    assert page.status_code == 200
    assert f'href="/api/v1/uploads/{uid}/export/misp/feed"' in page.text
    assert f'href="/api/v1/uploads/{uid}/export/misp/event"' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {
        "server": taxii_server["api_root"],
        "collection": taxii_server["collection"],
        "user": taxii_server["user"],
        "password": taxii_server["password"],
    }
    assert browser.post(f"/uploads/{uid}/export", data=form).status_code == 403
    done = browser.post(f"/uploads/{uid}/export", data={**form, "csrf_token": csrf.group(1)})
    assert done.status_code == 200 and 'id="taxii-pushed"' in done.text
    assert taxii_server["password"] not in done.text
    bad = browser.post(
        f"/uploads/{uid}/export", data={**form, "password": "not-it-123", "csrf_token": csrf.group(1)}
    )
    assert bad.status_code == 502 and 'role="alert"' in bad.text and "not-it-123" not in bad.text
    assert taxii_server["api_root"] in bad.text  # what was typed, except the password, is kept
