"""Who runs a job: one claim per job, leases that expire when a runner stops, and the limit on attempts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ppcti.api.jobs import MAX_ATTEMPTS, claim_job
from ppcti.store import Database, Job, JobState, Upload
from ppcti.store.models import Holder


@pytest.fixture
def job(db_url: str) -> Iterator[tuple[Database, str]]:
    db = Database(db_url)
    db.migrate()
    with db.session() as s:
        holder = Holder(name="acme")
        s.add(holder)
        s.flush()
        upload = Upload(holder_id=holder.id, filename="x.zip", size=1, sha256="0" * 64, options={})
        s.add(upload)
        s.flush()
        row = Job(upload_id=upload.id)
        s.add(row)
        s.flush()
        job_id = row.id
    yield db, job_id
    db.dispose()


def _job(db: Database, job_id: str) -> Job:
    with db.session() as s:
        found = s.get(Job, job_id)
        assert found is not None
        return found


def _expire(db: Database, job_id: str) -> None:
    with db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None
        row.lease_until = datetime.now(UTC) - timedelta(seconds=1)


def test_a_queued_job_is_claimed_once(job: tuple[Database, str]) -> None:
    db, job_id = job
    assert claim_job(db, job_id, worker="a", lease=30, wait=False) is None
    assert claim_job(db, job_id, worker="b", lease=30, wait=False) == "skipped"
    row = _job(db, job_id)
    assert (row.state, row.worker, row.attempts) == (JobState.RUNNING, "a", 1)
    assert row.lease_until is not None and row.lease_until > datetime.now(UTC) + timedelta(seconds=20)


def test_a_job_whose_runner_stopped_is_taken_over_after_its_lease(job: tuple[Database, str]) -> None:
    db, job_id = job
    assert claim_job(db, job_id, worker="a", lease=30, wait=False) is None
    _expire(db, job_id)
    # the in-process pool never takes over (its server re-queues at start); a Kafka runner does
    assert claim_job(db, job_id, worker="b", lease=30, wait=False) == "skipped"
    assert claim_job(db, job_id, worker="b", lease=30, wait=True) is None
    row = _job(db, job_id)
    assert (row.state, row.worker, row.attempts) == (JobState.RUNNING, "b", 2)


def test_a_waiting_runner_takes_the_job_when_the_lease_runs_out(job: tuple[Database, str]) -> None:
    db, job_id = job
    assert claim_job(db, job_id, worker="a", lease=0.6, wait=False) is None
    started = datetime.now(UTC)
    assert claim_job(db, job_id, worker="b", lease=30, wait=True) is None
    assert datetime.now(UTC) - started >= timedelta(seconds=0.4)
    assert _job(db, job_id).worker == "b"


def test_a_finished_job_is_never_run_again(job: tuple[Database, str]) -> None:
    db, job_id = job
    with db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None
        row.state = JobState.DONE
    assert claim_job(db, job_id, worker="b", lease=30, wait=True) == "done"
    assert _job(db, job_id).attempts == 0


def test_a_job_that_lost_its_runner_too_often_fails_with_the_reason(job: tuple[Database, str]) -> None:
    db, job_id = job
    for attempt in range(MAX_ATTEMPTS):
        assert claim_job(db, job_id, worker=f"r{attempt}", lease=30, wait=True) is None
        _expire(db, job_id)
    assert claim_job(db, job_id, worker="last", lease=30, wait=True) == "failed"
    row = _job(db, job_id)
    assert row.state is JobState.FAILED and "stopped" in (row.error or "")


def test_a_missing_job_is_skipped(job: tuple[Database, str]) -> None:
    db, _ = job
    assert claim_job(db, "no-such-job", worker="a", lease=30, wait=True) == "skipped"
