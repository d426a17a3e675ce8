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
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import SQLAlchemyError

from ppcti.api.jobs import LEASE_SECONDS, MAX_ATTEMPTS, execute_job
from ppcti.bus.envelope import Envelope, Output
from ppcti.bus.publisher import Publisher
from ppcti.bus.settings import BusSettings
from ppcti.bus.worker import Process, Worker, WorkerOptions, check_envelope_kind
from ppcti.errors import BusError, FormatError
from ppcti.store import Database, Job, JobState

log = logging.getLogger(__name__)

JOB_KIND = "job"
#: Seconds between two looks for jobs to publish again (lost runners, a broker that was away).
RECHECK_SECONDS = 60.0
#: A whole pipeline run happens between two polls of a runner: a day before the group gives up on it.
#: A runner that dies is noticed by its missing heartbeats (the session timeout), not by this.
RUN_POLL_INTERVAL_MS = 86_400_000


class KafkaJobQueue:
    """The server's side: hands jobs to the runners through the ``jobs`` topic.

    Besides publishing new jobs, it looks again every :data:`RECHECK_SECONDS` for jobs whose runner's
    lease ran out with no other runner taking them over, and for jobs it could not hand over (the broker
    was down): both are published again, so neither waits for the next server start.
    """

    def __init__(
        self,
        db: Database,
        settings: BusSettings,
        *,
        defaults: dict[str, Any] | None = None,
        lease: float = LEASE_SECONDS,
        recheck: float = RECHECK_SECONDS,
    ) -> None:
        self.db = db
        self.settings = settings
        #: The server's job options (``ppcti serve --nlp``), sent with each job: they win over a runner's.
        self.defaults = dict(defaults or {})
        self.lease = lease
        self.recheck_seconds = recheck
        self._unsent: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self.recover()
        self._watcher = threading.Thread(target=self._watch, name="ppcti-job-recheck", daemon=True)
        self._watcher.start()

    def recover(self) -> list[str]:
        """Queue again the jobs whose runner's lease ran out (or fail them), then publish every queued job."""
        self._requeue_stale()
        with self.db.session() as s:
            queued = list(
                s.scalars(select(Job.id).where(Job.state == JobState.QUEUED).order_by(Job.created_at))
            )
        self._hand_over(queued)
        return queued

    def recheck(self) -> list[str]:
        """Publish again what was not handed over and what lost its runner; the ids published."""
        with self._lock:
            again = sorted(self._unsent)
            self._unsent.clear()
        again += [job_id for job_id in self._requeue_stale() if job_id not in again]
        self._hand_over(again)
        return again

    def _requeue_stale(self) -> list[str]:
        now = datetime.now(UTC)
        grace = now - timedelta(seconds=self.lease)  # a runner that is only late keeps its job
        stale = and_(Job.state == JobState.RUNNING, or_(Job.lease_until.is_(None), Job.lease_until < grace))
        requeued = []
        with self.db.session() as s:
            for job in s.scalars(select(Job).where(stale)):
                if job.attempts < MAX_ATTEMPTS:
                    job.state, job.progress = JobState.QUEUED, 0
                    job.stage = "queued again: its runner stopped"
                    job.worker = job.lease_until = None
                    requeued.append(job.id)
                else:
                    job.state, job.finished_at, job.stage = JobState.FAILED, now, "failed"
                    job.error = f"its runner stopped {job.attempts} times; upload it again"
        return requeued

    def _watch(self) -> None:
        while not self._stop.wait(self.recheck_seconds):
            try:
                self.recheck()
            except Exception as exc:  # the database or broker is away: the next round tries again
                log.warning("job recheck failed (%s)", type(exc).__name__)

    def submit(self, job_id: str) -> None:
        self._hand_over([job_id])

    def _hand_over(self, job_ids: list[str]) -> None:
        if not job_ids:
            return
        try:
            with Publisher(self.settings) as publisher:
                for job_id in job_ids:
                    # keyed by job id: jobs spread over the partitions, each job's messages stay in one
                    payload = {"job_id": job_id, "defaults": self.defaults}
                    publisher.send(Output(JOB_KIND, payload), run_id=job_id, holder="", key=job_id.encode())
        except BusError as exc:
            # the jobs stay queued in the database; the next recheck publishes them again
            log.warning("%d job(s) not handed to Kafka yet: %s", len(job_ids), exc.message)
            with self._lock:
                self._unsent.update(job_ids)

    def shutdown(self, wait: bool = True) -> None:
        del wait  # the runners are other processes; only the recheck thread stops here
        self._stop.set()


class RunnerMustStop(BaseException):
    """The runner cannot reach the job store: its message must stay uncommitted for another runner (or
    this one after a restart), so this passes the worker's per-message error handling and ends the run."""


def job_step(db_url: str, data_dir: Path, defaults: dict[str, Any], *, lease: float) -> Process:
    """The runner's processing step: run the job a message names; it publishes nothing itself."""

    def process(envelope: Envelope) -> list[Output]:
        check_envelope_kind(envelope, JOB_KIND)
        payload = envelope.payload
        job_id = payload.get("job_id") if isinstance(payload, dict) else None
        if not isinstance(job_id, str) or not job_id or len(job_id) > 32:
            raise FormatError("a job message must be an object with a 'job_id'")
        server = payload.get("defaults")
        options = {**defaults, **(server if isinstance(server, dict) else {})}
        try:
            state = execute_job(db_url, str(data_dir), job_id, options, lease=lease, wait=True)
        except SQLAlchemyError as exc:
            raise RunnerMustStop(f"the job database cannot be used ({type(exc).__name__})") from None
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
