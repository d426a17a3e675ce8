"""Uploads, jobs and results: limits, options, the sample run's results, restart recovery."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ppcti.api.jobs import upload_path
from ppcti.model import reason_key
from ppcti.store import Database, Job, JobState, Upload
from ppcti.store.models import Holder
from ppcti.web.app import create_app
from webapp_fixtures import Finished, World, add_people, settings_for, wait_done

SMALL_LOG = (
    "Mar/08/2023 07:00:43 firewall,info input: in:ether1-WAN out:(unknown 0), proto TCP (SYN), "
    "203.0.113.7:51234->198.51.100.2:22, len 60\n"
) * 3


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "form", "status"),
    [
        ("evil.exe", b"MZ", {}, 415),
        ("noext", b"x", {}, 415),
        ("empty.zip", b"", {}, 422),
        ("a.txt", b"x", {"timezone": "Mars/Olympus"}, 422),
        ("a.txt", b"x", {"tlp": "purple"}, 422),
        ("a.txt", b"x", {"skip": "everything"}, 422),
        ("a.txt", b"x", {"date": "yesterday"}, 422),
        ("a.txt", b"x", {"format": "no-such-format"}, 422),
    ],
)
def test_bad_uploads_get_a_clear_error_and_leave_nothing(
    world: World, name: str, data: bytes, form: dict[str, str], status: int
) -> None:
    headers = world.token("adam@acme.test")
    r = world.client.post("/api/v1/uploads", files={"file": (name, data)}, data=form, headers=headers)
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], (str, list))
    assert world.client.get("/api/v1/uploads", headers=headers).json() == []
    assert not any((world.data / "uploads").iterdir())


def test_an_upload_over_the_limit_is_cut_off(tmp_path: Path) -> None:
    app = create_app(
        settings_for(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data", max_upload_bytes=1000)
    )
    add_people(app.state.ppcti.db)
    with TestClient(app) as client:
        headers = World(client, app, tmp_path).token("adam@acme.test")
        r = client.post("/api/v1/uploads", files={"file": ("big.txt", b"x" * 200_000)}, headers=headers)
        assert r.status_code == 413
        r = client.post("/api/v1/uploads", files={"file": ("mid.txt", b"x" * 5000)}, headers=headers)
        assert r.status_code == 413  # past the limit though within the envelope allowance
        assert client.get("/api/v1/uploads", headers=headers).json() == []


def test_a_small_upload_runs_on_both_databases(world: World) -> None:
    headers = world.token("adam@acme.test")
    r = world.client.post(
        "/api/v1/uploads",
        files={"file": ("router.log", SMALL_LOG.encode())},
        data={"skip": ["report", "analysis"], "timezone": "Europe/Vienna"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["options"] == {"skip": ["report", "analysis"], "timezone": "Europe/Vienna"}
    body = wait_done(world.client, r.json()["id"], headers)
    assert body["job"]["state"] == "done", body["job"]
    assert body["job"]["results"]["events"] == 1 and body["job"]["results"]["duplicates"] == 2
    # skipped stages leave their capabilities out, never an empty page
    assert "report" not in body["capabilities"] and "analysis" not in body["capabilities"]
    assert "cti" in body["capabilities"]
    assert world.client.get(f"/api/v1/uploads/{body['id']}/report", headers=headers).status_code == 404
    events = world.client.get(f"/api/v1/uploads/{body['id']}/events", headers=headers)
    last = [line for line in events.text.splitlines() if line.startswith("data: ")][-1]
    assert json.loads(last[6:])["state"] == "done"
    assert world.client.delete(f"/api/v1/uploads/{body['id']}", headers=headers).status_code == 204
    assert world.client.get(f"/api/v1/uploads/{body['id']}", headers=headers).status_code == 404
    assert not (world.data / "runs" / body["id"]).exists()


def test_hostile_archive_members_are_refused_and_reported(world: World) -> None:
    headers = world.token("adam@acme.test")
    data = _zip({"../../escape.log": SMALL_LOG.encode(), "ok/router.log": SMALL_LOG.encode()})
    r = world.client.post("/api/v1/uploads", files={"file": ("hostile.zip", data)}, headers=headers)
    body = wait_done(world.client, r.json()["id"], headers)
    summary = world.client.get(f"/api/v1/uploads/{body['id']}/summary", headers=headers).json()
    assert [m["member"] for m in summary["refused_members"]] == ["../../escape.log"]
    assert not (world.data / "escape.log").exists() and not (world.data.parent / "escape.log").exists()


def test_the_sample_run_results(finished: Finished) -> None:
    c, h, uid = finished.world.client, finished.acme, finished.upload_id
    run = finished.world.data / "runs" / uid
    summary = json.loads((run / "summary.json").read_text())
    assert c.get(f"/api/v1/uploads/{uid}/summary", headers=h).json() == summary
    assert finished.upload["job"]["results"]["events"] == summary["events"] > 0
    expected = {"pii", "cti", "analysis", "attacks", "assessment", "enrichment", "export", "fhe", "report"}
    assert set(finished.upload["capabilities"]) == expected
    rejects = c.get(f"/api/v1/uploads/{uid}/rejects", params={"limit": 7, "offset": 2}, headers=h).json()
    assert rejects["total"] == summary["rejects"] and len(rejects["items"]) == 7
    reason, count = next(iter(summary["rejects_by_reason"].items()))
    by_reason = c.get(
        f"/api/v1/uploads/{uid}/rejects", params={"reason": reason, "limit": 1000}, headers=h
    ).json()
    # summary.json groups reasons that differ only in the line they point to; the filter takes the group
    assert by_reason["total"] == count and {reason_key(r["reason"]) for r in by_reason["items"]} == {reason}
    pii = c.get(f"/api/v1/uploads/{uid}/pii", headers=h).json()
    raw_pii = json.loads((run / "pii.json").read_text())
    assert sum(r["findings"] for r in pii["rows"]) == len(raw_pii["findings"])
    assert all(0 <= r["confidence"] <= 1 for r in pii["rows"])
    cti = c.get(f"/api/v1/uploads/{uid}/cti", params={"limit": 5}, headers=h).json()
    aggregate = json.loads((run / "cti" / "aggregate.json").read_text())
    assert cti["objects"] == len(aggregate["objects"]) and len(cti["indicators"]) == 5
    observed = json.loads((run / "cti" / "observations.json").read_text())["objects"]
    assert cti["observations"] == dict(sorted(Counter(o["type"] for o in observed).items()))
    assert cti["observations"]["ipv4-addr"] > 0 and "ipv4-addr" not in cti["counts"]
    assert cti["matching"] == cti["counts"]["indicator"]
    needle = cti["indicators"][0]["pattern"][-20:]
    found = c.get(f"/api/v1/uploads/{uid}/cti", params={"q": needle}, headers=h).json()
    assert 1 <= found["matching"] < cti["matching"]
    stix = c.get(f"/api/v1/uploads/{uid}/cti/stix", headers=h)
    assert stix.headers["content-type"].startswith("application/stix+json") and stix.json() == aggregate
    kg = c.get(f"/api/v1/uploads/{uid}/kg", headers=h).json()
    assert kg["nodes"] and kg["edges"] and kg["triples"] > len(kg["edges"])
    ids = {n["id"] for n in kg["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in kg["edges"])
    insights = c.get(f"/api/v1/uploads/{uid}/insights", headers=h).json()
    assert insights == json.loads((run / "insights.json").read_text())
    attacks = c.get(f"/api/v1/uploads/{uid}/attacks", headers=h).json()
    assert attacks == json.loads((run / "insights.json").read_text())["attacks"] and attacks["counts"]
    lines = [json.loads(x) for x in (run / "attacks.jsonl").read_text().splitlines()]
    entries = c.get(f"/api/v1/uploads/{uid}/attacks/entries", params={"limit": 1000}, headers=h).json()
    assert entries["total"] == len(lines) > 0 and entries["items"] == lines[:1000]
    wanted = lines[0]["attack"]["class"]
    one = c.get(f"/api/v1/uploads/{uid}/attacks/entries", params={"class": wanted}, headers=h).json()
    assert one["total"] == sum(1 for x in lines if x["attack"]["class"] == wanted)
    assert {x["attack"]["class"] for x in one["items"]} == {wanted}
    attack_stix = c.get(f"/api/v1/uploads/{uid}/attacks/stix", headers=h)
    assert attack_stix.headers["content-type"].startswith("application/stix+json")
    assert attack_stix.json() == json.loads((run / "cti" / "attacks.json").read_text())
    default = c.get(f"/api/v1/uploads/{uid}/assessment", headers=h).json()  # made on first read
    assert default["profile"]["source"] == "defaults"
    assert default["recommendation"]["top"] == "fhe-correlation"
    bad = c.post(f"/api/v1/uploads/{uid}/assessment", json={"profile": "priorities: {trust: 12}"}, headers=h)
    assert bad.status_code == 400 and "priorities.trust" in bad.json()["detail"]
    made = c.post(
        f"/api/v1/uploads/{uid}/assessment", json={"profile": "constraints: {tee_hardware: true}"}, headers=h
    )
    assert made.status_code == 200, made.text
    doc = made.json()
    assert doc["schema"] == "ppcti-assessment/1" and doc["run"]["run_id"] == summary["run_id"]
    assert doc["recommendation"]["top"] and "tee-processing" not in doc["recommendation"]["excluded"]
    assert c.get(f"/api/v1/uploads/{uid}/assessment", headers=h).json() == doc
    report = c.get(f"/api/v1/uploads/{uid}/report", headers=h)
    assert report.headers["content-security-policy"].startswith("sandbox allow-scripts;")
    for name in ("events.jsonl", "rejects.jsonl", "kg.ttl", "stix-bundles.jsonl", "attacks.jsonl"):
        r = c.get(f"/api/v1/uploads/{uid}/downloads/{name}", headers=h)
        assert r.status_code == 200 and r.content
    assert c.get(f"/api/v1/uploads/{uid}/downloads/..%2Fsummary.json", headers=h).status_code in (404, 422)


def _interrupted(db_url: str, data: Path, attempts: int) -> str:
    """An upload whose job a stopped server left running."""
    db = Database(db_url)
    add_people(db)
    with db.session() as s:
        holder = s.query(Holder).filter_by(name="acme").one()
        upload = Upload(
            holder_id=holder.id, filename="router.log", size=len(SMALL_LOG), sha256="0" * 64, options={}
        )
        s.add(upload)
        s.flush()
        s.add(
            Job(
                upload_id=upload.id,
                state=JobState.RUNNING,
                attempts=attempts,
                progress=40,
                stage="parse",
                results={},
            )
        )
        upload_id = upload.id
    target = upload_path(data, upload_id, "router.log")
    target.parent.mkdir(parents=True)
    target.write_text(SMALL_LOG)
    db.dispose()
    return upload_id


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_jobs_survive_a_restart(db: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from webapp_fixtures import new_postgres_db

    url = (
        f"sqlite:///{tmp_path / 'db.sqlite'}"
        if db == "sqlite"
        else new_postgres_db(request.getfixturevalue("postgres_server"))
    )
    data = tmp_path / "data"
    again = _interrupted(url, data, attempts=1)
    app = create_app(settings_for(url, data))
    with TestClient(app) as client:
        headers = World(client, app, data).token("adam@acme.test")
        body = wait_done(client, again, headers)
        assert body["job"]["state"] == "done" and body["job"]["attempts"] == 2
    given_up = _interrupted(url, data, attempts=2)
    app = create_app(settings_for(url, data))
    with TestClient(app) as client:
        headers = World(client, app, data).token("adam@acme.test")
        job = client.get(f"/api/v1/uploads/{given_up}", headers=headers).json()["job"]
        assert job["state"] == "failed" and "interrupted" in job["error"]
