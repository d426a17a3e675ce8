"""Jobs over Kafka (``ppcti serve --kafka``): the server publishes job ids, ``ppcti worker jobs``
processes run them.

The database stays the one source of truth for a job's state; the ``jobs`` topic only says "this job is
waiting". The server publishes a job id when the upload is stored, and again at start for every job
still queued (or whose runner's lease ran out), so a message lost with a stopped server is sent again.
Runners are members of one consumer group and share the topic's partitions. A runner commits a job's
message only after the job ended; a runner that dies mid-job leaves its message uncommitted, the group
hands the partition to another member, and that member waits for the dead runner's lease to run out
before it takes the job over (:func:`ppcti.api.jobs.claim_job`). Duplicate messages are harmless: one
conditional UPDATE decides who runs a job, and a finished job is never run again.

Runners share the server's database and data folder (uploads are read from it, results written to it),
as the in-process pool does.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select

from ppcti.api.jobs import LEASE_SECONDS, MAX_ATTEMPTS, execute_job
from ppcti.bus.envelope import Envelope, Output
from ppcti.bus.publisher import Publisher
from ppcti.bus.settings import BusSettings
from ppcti.bus.worker import Process, Worker, WorkerOptions, check_envelope_kind
from ppcti.errors import BusError, FormatError
from ppcti.store import Database, Job, JobState

log = logging.getLogger(__name__)

JOB_KIND = "job"
#: A whole pipeline run happens between two polls of a runner: a day before the group gives up on it.
#: A runner that dies is noticed by its missing heartbeats (the session timeout), not by this.
RUN_POLL_INTERVAL_MS = 86_400_000


class KafkaJobQueue:
    """The server's side: hands jobs to the runners through the ``jobs`` topic."""

    def __init__(self, db: Database, settings: BusSettings, *, lease: float = LEASE_SECONDS) -> None:
        self.db = db
        self.settings = settings
        self.lease = lease

    def start(self) -> None:
        self.recover()

    def recover(self) -> list[str]:
        """Queue again the jobs whose runner's lease ran out (or fail them), then publish every queued job."""
        now = datetime.now(UTC)
        grace = now - timedelta(seconds=self.lease)  # a runner that is only late keeps its job
        stale = and_(Job.state == JobState.RUNNING, or_(Job.lease_until.is_(None), Job.lease_until < grace))
        with self.db.session() as s:
            for job in s.scalars(select(Job).where(stale)):
                if job.attempts < MAX_ATTEMPTS:
                    job.state, job.stage, job.progress = (
                        JobState.QUEUED,
                        "queued again: its runner stopped",
                        0,
                    )
                    job.worker = job.lease_until = None
                else:
                    job.state, job.finished_at, job.stage = JobState.FAILED, now, "failed"
                    job.error = f"its runner stopped {job.attempts} times; upload it again"
            queued = list(
                s.scalars(select(Job.id).where(Job.state == JobState.QUEUED).order_by(Job.created_at))
            )
        if queued:
            self._publish(queued)
        return queued

    def submit(self, job_id: str) -> None:
        try:
            self._publish([job_id])
        except BusError as exc:
            # the job stays queued in the database and is published again at the next start
            log.warning("job %s not handed to Kafka yet: %s", job_id, exc.message)

    def _publish(self, job_ids: list[str]) -> None:
        with Publisher(self.settings) as publisher:
            for job_id in job_ids:
                # keyed by job id: jobs spread over the partitions, each job's messages stay in one
                publisher.send(
                    Output(JOB_KIND, {"job_id": job_id}), run_id=job_id, holder="", key=job_id.encode()
                )

    def shutdown(self, wait: bool = True) -> None:
        del wait  # nothing runs here: the runners are other processes


def job_step(db_url: str, data_dir: Path, defaults: dict[str, Any], *, lease: float) -> Process:
    """The runner's processing step: run the job a message names; it publishes nothing itself."""

    def process(envelope: Envelope) -> list[Output]:
        check_envelope_kind(envelope, JOB_KIND)
        payload = envelope.payload
        job_id = payload.get("job_id") if isinstance(payload, dict) else None
        if not isinstance(job_id, str) or not job_id or len(job_id) > 32:
            raise FormatError("a job message must be an object with a 'job_id'")
        state = execute_job(db_url, str(data_dir), job_id, defaults, lease=lease, wait=True)
        log.info("job %s: %s", job_id, state)
        return []

    return process


def job_runner(
    settings: BusSettings,
    *,
    db_url: str,
    data_dir: Path,
    defaults: dict[str, Any],
    group: str = "ppcti-jobs",
    lease: float = LEASE_SECONDS,
    max_messages: int | None = None,
    idle_timeout_s: float | None = None,
) -> Worker:
    """A consumer-group member that runs jobs one at a time (start one per core)."""
    options = WorkerOptions(
        group=group,
        input_topic=settings.topic("jobs"),
        batch=1,
        max_messages=max_messages,
        idle_timeout_s=idle_timeout_s,
        max_poll_interval_ms=RUN_POLL_INTERVAL_MS,
    )
    return Worker(job_step(db_url, data_dir, defaults, lease=lease), settings, options)
