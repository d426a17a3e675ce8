"""``ppcti serve --kafka``: jobs go through the real broker to ``ppcti worker jobs`` processes, and a job
whose runner is killed mid-run is finished by another runner of the group."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from ppcti.api.jobbus import KafkaJobQueue
from ppcti.bus import BusSettings
from ppcti.store import Database, Job, JobState, Upload
from ppcti.store.models import Holder
from ppcti.web.app import create_app
from ppcti_process import child_env, ppcti_command
from webapp_fixtures import World, add_people, settings_for, upload_file, wait_done

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def _runner(settings: BusSettings, db_url: str, data: Path, *extra: str) -> subprocess.Popen[str]:
    args = ["worker", "jobs", "--db", db_url, "--data", str(data), "-b", settings.bootstrap]
    return subprocess.Popen(
        ppcti_command(*args, "--group", f"{settings.topic_prefix}jobs", "--nlp", "regex", *extra),
        env=child_env(PPCTI_KAFKA_TOPIC_PREFIX=settings.topic_prefix),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(procs: list[subprocess.Popen[str]]) -> list[str]:
    """Stop the runners as a service manager would; what each printed on stderr."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    errors = []
    for proc in procs:
        try:
            errors.append(proc.communicate(timeout=30)[1])
        except subprocess.TimeoutExpired:
            proc.kill()
            errors.append(proc.communicate()[1])
    return errors


@pytest.fixture
def kafka_world(bus_settings: BusSettings, make_topics, tmp_path: Path) -> Iterator[World]:
    make_topics([bus_settings.topic("jobs")], 2)
    app = create_app(
        settings_for(f"sqlite:///{tmp_path / 'ppcti.db'}", tmp_path / "data", kafka=bus_settings)
    )
    add_people(app.state.ppcti.db)
    with TestClient(app) as client:
        yield World(client=client, app=app, data=tmp_path / "data")


def _job(world: World, upload_id: str) -> Job:
    with world.db().session() as s:
        job = s.query(Job).filter(Job.upload_id == upload_id).one()
        s.expunge(job)
        return job


def test_jobs_wait_in_kafka_and_run_in_runner_processes(
    kafka_world: World, bus_settings: BusSettings
) -> None:
    world = kafka_world
    acme, globex = world.token("adam@acme.test"), world.token("bob@globex.test")
    # uploaded before any runner exists: the jobs wait in the topic, not in this server
    ids = [upload_file(world.client, headers).json()["id"] for headers in (acme, globex)]
    time.sleep(1.0)
    assert [
        world.client.get(f"/api/v1/uploads/{i}", headers=h).json()["job"]["state"]
        for i, h in zip(ids, (acme, globex), strict=True)
    ] == ["queued", "queued"]
    runners = [_runner(bus_settings, world.app.state.ppcti.settings.db_url, world.data) for _ in range(2)]
    try:
        for upload_id, headers in zip(ids, (acme, globex), strict=True):
            body = wait_done(world.client, upload_id, headers)
            assert body["job"]["state"] == "done", body["job"]
            summary = orjson.loads((world.data / "runs" / upload_id / "summary.json").read_bytes())
            assert body["job"]["results"]["events"] == summary["events"] > 0
            job = _job(world, upload_id)
            assert job.attempts == 1 and job.lease_until is None
            assert job.worker and int(job.worker.split(":")[1].split("/")[0]) in {r.pid for r in runners}
    finally:
        errors = _stop(runners)
    taken = 0
    for runner, error in zip(runners, errors, strict=True):
        assert runner.returncode == 0, error
        found = re.search(r"jobs taken (\d+)", error)
        assert found, error
        taken += int(found.group(1))
    assert taken == 2  # each job's message taken once, whichever runner held its partition


def test_a_job_whose_runner_is_killed_is_finished_by_another(
    kafka_world: World, bus_settings: BusSettings
) -> None:
    world = kafka_world
    acme = world.token("adam@acme.test")
    db_url = world.app.state.ppcti.settings.db_url
    runners = [_runner(bus_settings, db_url, world.data, "--lease-seconds", "2") for _ in range(2)]
    try:
        time.sleep(8)  # both runners in the group, one partition each
        upload_id = upload_file(world.client, acme).json()["id"]
        deadline = time.monotonic() + 120
        while (job := _job(world, upload_id)).worker is None:
            assert time.monotonic() < deadline, "no runner took the job"
            time.sleep(0.05)
        first = int(job.worker.split(":")[1].split("/")[0])
        victim = next(r for r in runners if r.pid == first)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        body = wait_done(world.client, upload_id, acme, timeout=300)
        assert body["job"]["state"] == "done", body["job"]
        job = _job(world, upload_id)
        survivor = next(r for r in runners if r is not victim)
        assert job.attempts == 2
        assert job.worker and int(job.worker.split(":")[1].split("/")[0]) == survivor.pid
        summary = orjson.loads((world.data / "runs" / upload_id / "summary.json").read_bytes())
        assert body["job"]["results"]["events"] == summary["events"] > 0
    finally:
        _stop(runners)


def _job_row(db: Database, state: JobState, lease_until: datetime | None, attempts: int = 1) -> str:
    with db.session() as s:
        holder = Holder(name=f"h-{uuid.uuid4().hex[:8]}")
        s.add(holder)
        s.flush()
        upload = Upload(holder_id=holder.id, filename="x.zip", size=1, sha256="0" * 64, options={})
        s.add(upload)
        s.flush()
        job = Job(upload_id=upload.id, state=state, lease_until=lease_until, attempts=attempts, worker="h:1")
        s.add(job)
        s.flush()
        return job.id


def test_the_server_hands_over_again_what_lost_its_runner_or_never_left(
    bus_settings: BusSettings, make_topics, read_topics, tmp_path: Path
) -> None:
    make_topics([bus_settings.topic("jobs")], 1)
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.migrate()
    lost = _job_row(db, JobState.RUNNING, datetime.now(UTC) - timedelta(seconds=10))
    alive = _job_row(db, JobState.RUNNING, datetime.now(UTC) + timedelta(seconds=60))
    unsent = _job_row(db, JobState.QUEUED, None, attempts=0)
    away = dataclasses.replace(bus_settings, bootstrap="127.0.0.1:1", connect_timeout_s=1.0)
    queue = KafkaJobQueue(db, away, defaults={"nlp": "regex"}, lease=2.0, recheck=3600)
    queue.submit(unsent)  # the broker is away: kept for the next round, not lost
    queue.settings = bus_settings
    assert sorted(queue.recheck()) == sorted([lost, unsent])
    with db.session() as s:
        states = {j.id: (j.state, j.worker) for j in s.query(Job)}
    assert states[lost] == (JobState.QUEUED, None) and states[alive][0] is JobState.RUNNING
    messages = [orjson.loads(m.value())["payload"] for m in read_topics([bus_settings.topic("jobs")], 2)]
    assert sorted(m["job_id"] for m in messages) == sorted([lost, unsent])
    assert all(m["defaults"] == {"nlp": "regex"} for m in messages)  # the server's job options travel
    assert queue.recheck() == []  # nothing left to hand over
    db.dispose()
