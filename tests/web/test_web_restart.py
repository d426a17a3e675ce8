"""A job survives a crash of the real server: ``ppcti serve`` (process workers) is killed with its workers
while the job runs; the next start queues the job again and it completes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from ppcti.store import Database
from ppcti_process import child_env, ppcti_command
from webapp_fixtures import PASSWORD, SAMPLE, add_people, free_port

pytestmark = pytest.mark.slow


def _start(db_url: str, data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = child_env()
    command = ppcti_command(
        "serve",
        "--db",
        db_url,
        "--data",
        str(data),
        "--listen",
        f"127.0.0.1:{port}",
        "--nlp",
        "regex",
        "--workers",
        "1",
    )
    with log.open("ab") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=2).read()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("ppcti serve did not start: " + log.read_text()) from None
            time.sleep(0.3)


def test_a_job_interrupted_by_a_crash_completes_after_the_restart(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'ppcti.db'}"
    db = Database(db_url)
    add_people(db)
    db.dispose()
    port, log = free_port(), tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    proc = _start(db_url, tmp_path / "data", port, log)
    try:
        with httpx.Client(base_url=base, timeout=60) as c:
            csrf = c.post(
                "/api/v1/auth/signin", json={"email": "adam@acme.test", "password": PASSWORD}
            ).json()
            token = c.post("/api/v1/tokens", json={"name": "t"}, headers={"X-CSRF-Token": csrf["csrf_token"]})
            headers = {"Authorization": f"Bearer {token.json()['token']}"}
            made = c.post(
                "/api/v1/uploads", files={"file": (SAMPLE.name, SAMPLE.read_bytes())}, headers=headers
            )
            upload_id = made.json()["id"]
            deadline = time.monotonic() + 120
            while c.get(f"/api/v1/uploads/{upload_id}", headers=headers).json()["job"]["state"] != "running":
                assert time.monotonic() < deadline, "the job never started"
                time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the server and its worker processes, mid-job
        proc.wait(timeout=30)
    proc = _start(db_url, tmp_path / "data", port, log)
    try:
        with httpx.Client(base_url=base, timeout=60, headers=headers) as c:
            deadline = time.monotonic() + 300
            while (job := c.get(f"/api/v1/uploads/{upload_id}").json()["job"])["state"] not in (
                "done",
                "failed",
            ):
                assert time.monotonic() < deadline, f"the job did not finish after the restart: {job}"
                time.sleep(0.3)
            assert job["state"] == "done" and job["attempts"] == 2, job
            assert c.get(f"/api/v1/uploads/{upload_id}/summary").json()["events"] > 0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
