"""Jobs: each upload becomes one run of the pipeline, executed by an in-process worker pool.

The job's state lives in the database, never only in memory: a worker claims a queued job with one
conditional UPDATE (so two pools never run the same job), writes its stage and progress as it goes, and
records the outcome and an index of the run's results. When the server starts again, a job left
``running`` by a stopped server is queued again (up to ``MAX_ATTEMPTS``) or marked failed with the
reason: never lost, never stuck.

Workers are processes by default (the pipeline is CPU-bound and holds the GIL in places); ``thread``
workers exist for tests and small installations. A worker opens its own database connection.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy import and_, or_, select, update

from ppcti.api.settings import LEASE_SECONDS
from ppcti.errors import ConfigError, PpctiError
from ppcti.pipeline import RunOptions, run_pipeline
from ppcti.store import Database, Job, JobState, Upload
from ppcti.store.models import Holder

log = logging.getLogger(__name__)

#: How often a job is started before an interruption marks it failed.
MAX_ATTEMPTS = 2
#: Seconds between two progress writes of one job.
PROGRESS_INTERVAL = 0.5
#: Run-folder files (and folders) whose presence the results index records.
RESULT_FILES = (
    "summary.json",
    "events.jsonl",
    "rejects.jsonl",
    "pii.json",
    "kg.ttl",
    "cti/bundles.jsonl",
    "cti/aggregate.json",
    "cti/observations.json",
    "insights.json",
    "infrastructure.json",
    "report.html",
    "attacks.jsonl",
    "cti/attacks.json",
    "assessment.json",
    "enrichment.jsonl",
    "enrichment-overview.json",
    "cti/enrichment.json",
)
#: Upload options a job may set, with the pipeline option each maps to.
JOB_OPTIONS = ("format", "timezone", "year", "date", "date_order", "tlp", "nlp", "skip")

_databases: dict[str, Database] = {}


def _database(url: str) -> Database:
    db = _databases.get(url)
    if db is None:
        db = _databases[url] = Database(url)
    return db


def upload_path(data_dir: Path, upload_id: str, filename: str) -> Path:
    """Where an upload's bytes are kept: under its own folder, with its (already sanitised) name, since the
    pipeline reads file kinds from the name and names files in its results by it."""
    return data_dir / "uploads" / upload_id / filename


def run_path(data_dir: Path, upload_id: str) -> Path:
    return data_dir / "runs" / upload_id


def _now() -> datetime:
    return datetime.now(UTC)


def run_options(holder: str, out: Path, options: dict[str, Any]) -> RunOptions:
    """The pipeline's options for a job: the upload's options over the server's defaults."""
    from datetime import date

    from ppcti.clean.timestamps import TimeContext

    day = options.get("date")
    return RunOptions(
        holder=holder,
        out=out,
        format=options.get("format") or None,
        time=TimeContext(
            timezone=options.get("timezone") or "UTC",
            year=options.get("year"),
            date=date.fromisoformat(day) if day else None,
            date_order=(options.get("date_order") or "DMY").upper(),
        ),
        skip=frozenset(options.get("skip") or ()),
        tlp=options.get("tlp") or "amber",
        nlp=options.get("nlp") or "auto",
    )


def results_index(run_dir: Path) -> dict[str, Any]:
    """Counts from ``summary.json`` and the result files present, for lists that need no file reads."""
    index: dict[str, Any] = {
        "files": [name for name in RESULT_FILES if (run_dir / name).is_file()],
    }
    try:
        summary = orjson.loads((run_dir / "summary.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return index
    index.update(
        run_id=summary.get("run_id"),
        events=summary.get("events", 0),
        rejects=summary.get("rejects", 0),
        input_files=len(summary.get("files", [])),
        refused=len(summary.get("refused_members", [])),
        duplicates=sum((summary.get("duplicates") or {}).values()),
    )
    return index


def runner_name() -> str:
    """This process as a job runner: ``host:pid``."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def runner_gone(worker: str | None) -> bool:
    """Whether the process named in ``worker`` (``host:pid/thread``) is known to have stopped: only a
    process of this host can be checked; one of another host is judged by its lease alone."""
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid = rest.split("/", 1)[0]
    if host != socket.gethostname()[:80] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _claim(db: Database, job_id: str, *, worker: str, lease: float, reclaim: bool) -> bool:
    """Take the job: a queued one, or (``reclaim``) a running one whose runner stopped renewing its lease.

    One conditional UPDATE decides, so of two runners racing for a job exactly one wins. A reclaimed job
    that was already started ``MAX_ATTEMPTS`` times is marked failed instead.
    """
    now = _now()
    expired = and_(Job.state == JobState.RUNNING, or_(Job.lease_until.is_(None), Job.lease_until < now))
    claimable = or_(Job.state == JobState.QUEUED, and_(expired, Job.attempts < MAX_ATTEMPTS))
    with db.session() as s:
        claimed = s.execute(
            update(Job)
            .where(Job.id == job_id, claimable if reclaim else Job.state == JobState.QUEUED)
            .values(
                state=JobState.RUNNING,
                started_at=now,
                attempts=Job.attempts + 1,
                stage="starting",
                progress=0,
                worker=worker[:100],
                lease_until=now + timedelta(seconds=lease),
            )
        ).rowcount
        if not claimed and reclaim:
            s.execute(
                update(Job)
                .where(Job.id == job_id, expired, Job.attempts >= MAX_ATTEMPTS)
                .values(
                    state=JobState.FAILED,
                    finished_at=now,
                    stage="failed",
                    error=f"its runner stopped {MAX_ATTEMPTS} times; upload it again",
                )
            )
    return bool(claimed)


def _state(db: Database, job_id: str) -> tuple[JobState | None, datetime | None]:
    with db.session() as s:
        row = s.execute(select(Job.state, Job.lease_until).where(Job.id == job_id)).first()
    return (row[0], row[1]) if row else (None, None)


def claim_job(db: Database, job_id: str, *, worker: str, lease: float, wait: bool) -> str | None:
    """Claim the job, or say why not: ``None`` when claimed, else the state it is left in.

    With ``wait`` (a Kafka runner that got the job's message again after its first runner vanished), a
    job still under another runner's lease is watched until it ends or the lease runs out, then taken.
    """
    while True:
        if _claim(db, job_id, worker=worker, lease=lease, reclaim=wait):
            return None
        state, lease_until = _state(db, job_id)
        if state is None:
            return "skipped"
        if not wait or state is not JobState.RUNNING:
            return state.value if state in (JobState.DONE, JobState.FAILED) else "skipped"
        left = (lease_until - _now()).total_seconds() if lease_until else 0.0
        time.sleep(min(max(left, 0.05), lease / 3))


@contextmanager
def _holding(db: Database, job_id: str, worker: str, lease: float) -> Iterator[None]:
    """Renew the job's lease every third of its length while the block runs."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease / 3):
            try:
                with db.session() as s:
                    kept = s.execute(
                        update(Job)
                        .where(Job.id == job_id, Job.worker == worker, Job.state == JobState.RUNNING)
                        .values(lease_until=_now() + timedelta(seconds=lease))
                    ).rowcount
            except Exception as exc:  # a busy database: the next beat comes well within the lease
                log.warning("job %s: lease not renewed this time (%s)", job_id, type(exc).__name__)
                continue
            if not kept:
                log.warning("job %s: no longer this runner's; its outcome is left to the other", job_id)
                return

    thread = threading.Thread(target=renew, name="ppcti-job-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def execute_job(
    db_url: str,
    data_dir: str,
    job_id: str,
    defaults: dict[str, Any],
    *,
    lease: float = LEASE_SECONDS,
    wait: bool = False,
) -> str:
    """Claim and run one job; returns its final state. Runs inside a worker (thread or process) or a
    Kafka job runner (``wait``: see :func:`claim_job`)."""
    db = _database(db_url)
    worker = f"{runner_name()}/{threading.get_ident()}"
    refused = claim_job(db, job_id, worker=worker, lease=lease, wait=wait)
    if refused is not None:
        return refused
    with db.session() as s:
        job = s.get(Job, job_id)
        upload = s.get(Upload, job.upload_id) if job else None
        holder = s.get(Holder, upload.holder_id) if upload else None
        if job is None or upload is None or holder is None:
            return "skipped"
        options = {**defaults, **upload.options}
        upload_id, filename, holder_name = upload.id, upload.filename, holder.name
    root = Path(data_dir)
    out = run_path(root, upload_id)
    last = 0.0
    mine = and_(Job.id == job_id, Job.worker == worker, Job.state == JobState.RUNNING)

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_INTERVAL and done != total:
            return
        last = now
        percent = int(100 * done / total) if total else 0
        with db.session() as ps:
            ps.execute(update(Job).where(mine).values(stage=stage[:100], progress=percent))

    state, error = JobState.DONE, None
    with _holding(db, job_id, worker, lease):
        try:
            shutil.rmtree(out, ignore_errors=True)
            run_pipeline(
                upload_path(root, upload_id, filename),
                run_options(holder_name, out, options),
                progress=progress,
            )
        except PpctiError as exc:  # messages of ppcti errors never quote input values
            state, error = JobState.FAILED, str(exc)
        except Exception as exc:
            log.exception("job %s failed", job_id)
            state, error = (
                JobState.FAILED,
                f"internal error ({type(exc).__name__}); the server log has details",
            )
    with db.session() as s:
        s.execute(
            update(Job)
            .where(mine)  # a runner that lost its job to another leaves the outcome to that one
            .values(
                state=state,
                error=error,
                finished_at=_now(),
                stage="done" if state is JobState.DONE else "failed",
                progress=100 if state is JobState.DONE else Job.progress,
                results=results_index(out),
                lease_until=None,
            )
        )
    return state.value


class JobQueue(Protocol):
    """Where the server hands its jobs: the in-process :class:`WorkerPool`, or Kafka
    (:class:`ppcti.api.jobbus.KafkaJobQueue`)."""

    def start(self) -> None: ...
    def recover(self) -> list[str]: ...
    def submit(self, job_id: str) -> None: ...
    def shutdown(self, wait: bool = True) -> None: ...


class WorkerPool:
    """Runs queued jobs in ``workers`` threads or processes; recovers interrupted jobs on start."""

    def __init__(self, db: Database, data_dir: Path, *, workers: int, kind: str, defaults: dict[str, Any]):
        if kind not in ("process", "thread"):
            raise ConfigError("--worker-kind must be 'process' or 'thread'")
        self.db = db
        self.data_dir = data_dir
        self.workers = workers
        self.kind = kind
        self.defaults = defaults
        self._executor: Executor | None = None
        self.futures: dict[str, Future[str]] = {}

    def start(self) -> None:
        if self.kind == "process":
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        else:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="ppcti-job")
        self.recover()

    def recover(self) -> list[str]:
        """Queue again the jobs a stopped server left running (or fail them), then submit all queued."""
        with self.db.session() as s:
            now = _now()
            for job in s.scalars(select(Job).where(Job.state == JobState.RUNNING)):
                if job.lease_until is not None and job.lease_until >= now and not runner_gone(job.worker):
                    continue  # another server process of this database runs it, and is alive
                if job.attempts < MAX_ATTEMPTS:
                    job.state, job.stage, job.progress = JobState.QUEUED, "queued again after a restart", 0
                else:
                    job.state, job.finished_at = JobState.FAILED, _now()
                    job.error = f"interrupted by a server stop {job.attempts} times; upload it again"
            queued = list(
                s.scalars(select(Job.id).where(Job.state == JobState.QUEUED).order_by(Job.created_at))
            )
        for job_id in queued:
            self.submit(job_id)
        return queued

    def submit(self, job_id: str) -> None:
        if self._executor is None:
            raise RuntimeError("the worker pool is not started")
        future = self._executor.submit(execute_job, self.db.url, str(self.data_dir), job_id, self.defaults)
        self.futures[job_id] = future
        future.add_done_callback(lambda _f, j=job_id: self.futures.pop(j, None))

    def shutdown(self, wait: bool = True) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=True)
            self._executor = None
