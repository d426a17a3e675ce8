"""The FastAPI application: API under ``/api/v1``, pages at ``/``, static files from the package.

``create_api(settings)`` builds everything from a settings object and reads no environment, so tests
create as many apps as they need, each with its own database and results folder.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from ppcti import __version__
from ppcti.api.capabilities import Capability, load_capabilities
from ppcti.api.jobs import JobQueue, WorkerPool
from ppcti.api.middleware import BodyLimit, SecurityHeaders
from ppcti.api.routers import auth, tee, uploads
from ppcti.api.schemas import CapabilityOut
from ppcti.api.security import RateLimiter
from ppcti.api.settings import SIGNIN_WINDOW_SECONDS, ServerSettings
from ppcti.errors import PpctiError
from ppcti.store import Database

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DESCRIPTION = """Upload security logs, follow their processing and read what ppcti found: PII, STIX 2.1
CTI, analysis and the report. Authenticate with `Authorization: Bearer <token>` (create tokens at
`/api/v1/tokens` or on the Tokens page). Every upload and result belongs to one data holder; other holders'
ids answer 404."""


@dataclass
class AppState:
    settings: ServerSettings
    db: Database
    pool: JobQueue
    limiter: RateLimiter
    capabilities: list[Capability] = field(default_factory=list)


def create_api(settings: ServerSettings, *, start_workers: bool = True) -> FastAPI:
    """The API (routes under ``/api/v1``), its job queue, middleware and error handling; the pages are
    mounted on top by :func:`ppcti.web.app.create_app`."""
    db = Database(settings.db_url)
    pool: JobQueue
    if settings.kafka is not None:
        from ppcti.api.jobbus import KafkaJobQueue

        pool = KafkaJobQueue(db, settings.kafka, defaults=dict(settings.job_defaults))
    else:
        pool = WorkerPool(
            db,
            settings.data_dir,
            workers=settings.workers,
            kind=settings.worker_kind,
            defaults=dict(settings.job_defaults),
        )
    state = AppState(
        settings=settings,
        db=db,
        pool=pool,
        limiter=RateLimiter(db, settings.signin_attempts, SIGNIN_WINDOW_SECONDS),
        capabilities=load_capabilities(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        settings.runs_dir.mkdir(parents=True, exist_ok=True)
        db.migrate()
        if start_workers:
            pool.start()
        try:
            yield
        finally:
            pool.shutdown(wait=False)
            db.dispose()

    app = FastAPI(
        title="ppcti",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.ppcti = state

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(auth.router)
    api.include_router(uploads.router)
    api.include_router(tee.router)

    @api.get("/capabilities", tags=["uploads"], summary="Result views this server offers")
    def capabilities() -> list[CapabilityOut]:
        return [
            CapabilityOut(name=c.name, title=c.title, requires=list(c.requires)) for c in state.capabilities
        ]

    for cap in state.capabilities:
        api.include_router(
            cap.router,
            prefix="/uploads/{upload_id}",
            responses={404: {"description": "Not found, or not produced for this upload"}},
        )
    app.include_router(api)

    @app.exception_handler(PpctiError)
    async def ppcti_error(_request: Request, exc: PpctiError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.http_status)

    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    return app


def write_openapi(app: FastAPI, path: Path) -> None:
    import json

    path.write_text(json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
