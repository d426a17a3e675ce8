"""Uploads and their jobs: create (the file streams to disk), list, follow (server-sent events), delete,
and the run's overview: summary, rejects with reasons, downloads."""

from __future__ import annotations

import asyncio
import enum
import hashlib
import re
import shutil
from pathlib import Path, PurePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ppcti.api.deps import DbSession, HolderUser, Principal, owned_upload
from ppcti.api.jobs import JOB_OPTIONS, run_options, run_path, upload_path
from ppcti.api.results import DOWNLOADS, JSON_OBJECT, JSONBytes, file_json, page_jsonl, result_file
from ppcti.api.routers.common import RunDir, UploadId
from ppcti.api.schemas import JobOut, Page, UploadOut
from ppcti.errors import ConfigError, PpctiError
from ppcti.model import reason_key
from ppcti.store import Job, JobState, Upload

router = APIRouter(tags=["uploads"])

#: File kinds the pipeline reads, by name ending.
ACCEPTED_SUFFIXES = (".zip", ".json", ".jsonl", ".ndjson", ".csv", ".txt", ".log", ".xlsx")
CHUNK = 1024 * 1024
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")

DownloadName = enum.StrEnum("DownloadName", {k.replace(".", "_").replace("-", "_"): k for k in DOWNLOADS})


def safe_filename(name: str | None) -> str:
    """The upload's base name with only harmless characters, keeping its suffix (the pipeline reads file
    kinds from it); refused when the suffix is not one the pipeline reads."""
    base = PurePath((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .") or "upload"
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot or f".{suffix.lower()}" not in ACCEPTED_SUFFIXES:
        raise HTTPException(415, f"upload a ZIP archive or a log file ({', '.join(ACCEPTED_SUFFIXES)})")
    return f"{stem[:100] or 'upload'}.{suffix.lower()}"


def validate_options(options: dict[str, Any]) -> dict[str, Any]:
    """Keep the set options, checked by building the pipeline's own options from them."""
    kept = {k: v for k, v in options.items() if k in JOB_OPTIONS and v not in (None, "", [])}
    try:
        run_options("check", Path("."), kept)
        if kept.get("format"):
            from ppcti.formats import available

            if kept["format"] not in available():
                raise ConfigError(f"unknown format; choose from {sorted(available())}")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(kept.get("timezone") or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("unknown time zone; use an IANA name such as Europe/Vienna") from None
        if kept.get("tlp") and kept["tlp"] not in ("clear", "green", "amber", "amber+strict", "red"):
            raise ConfigError("tlp must be clear, green, amber, amber+strict or red")
        if kept.get("nlp") and kept["nlp"] not in ("auto", "spacy", "regex"):
            raise ConfigError("nlp must be auto, spacy or regex")
    except PpctiError as exc:
        raise HTTPException(422, exc.message) from None
    except ValueError:
        raise HTTPException(422, "an option has an invalid value (date: YYYY-MM-DD)") from None
    return kept


def upload_out(upload: Upload, capabilities: list[Any]) -> UploadOut:
    files = upload.job.results.get("files", []) if upload.job.state is JobState.DONE else []
    return UploadOut(
        id=upload.id,
        filename=upload.filename,
        size=upload.size,
        sha256=upload.sha256,
        options=upload.options,
        created_at=upload.created_at,
        job=JobOut.model_validate(upload.job),
        capabilities=[c.name for c in capabilities if c.applies(files)],
    )


async def store_upload(
    request: Request, s: Session, principal: Principal, file: UploadFile, options: dict[str, Any]
) -> Upload:
    """Copy the (already spooled) file into the results folder in chunks, hash it, add upload and job,
    commit, and hand the job to the workers."""
    state = request.app.state.ppcti
    filename = safe_filename(file.filename)
    kept = validate_options(options)
    upload = Upload(
        holder_id=principal.holder_id,
        user_id=principal.user_id,
        filename=filename,
        size=0,
        sha256="",
        options=kept,
    )
    s.add(upload)
    s.flush()
    target = upload_path(state.settings.data_dir, upload.id, filename)
    target.parent.mkdir(parents=True, exist_ok=True)
    sha, size = hashlib.sha256(), 0
    try:
        with target.open("wb") as out:
            while chunk := await file.read(CHUNK):
                size += len(chunk)
                if size > state.settings.max_upload_bytes:
                    raise HTTPException(413, "the upload is larger than this server accepts")
                sha.update(chunk)
                out.write(chunk)
        if size == 0:
            raise HTTPException(422, "the upload is empty")
    except BaseException:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    upload.size, upload.sha256 = size, sha.hexdigest()
    job = Job(upload_id=upload.id, state=JobState.QUEUED, progress=0, attempts=0, results={})
    s.add(job)
    s.commit()
    s.refresh(upload)
    # handing over may wait on Kafka (a broker round trip, longer when it is slow): not on the event loop
    await run_in_threadpool(state.pool.submit, job.id)
    return upload


@router.post(
    "/uploads",
    status_code=201,
    summary="Upload a ZIP or log file and start its run",
    responses={
        413: {"description": "Too large"},
        415: {"description": "Not a file kind ppcti reads"},
        422: {"description": "Invalid options"},
    },
)
async def create_upload(
    request: Request,
    principal: HolderUser,
    s: DbSession,
    file: Annotated[UploadFile, File(description="ZIP archive or one log file")],
    format: Annotated[str | None, Form(max_length=50)] = None,
    timezone: Annotated[str | None, Form(max_length=64)] = None,
    year: Annotated[int | None, Form(ge=1, le=9999)] = None,
    date: Annotated[str | None, Form(max_length=10)] = None,
    date_order: Annotated[str | None, Form(pattern="^(DMY|MDY|dmy|mdy)$")] = None,
    tlp: Annotated[str | None, Form(max_length=20)] = None,
    nlp: Annotated[str | None, Form(max_length=10)] = None,
    skip: Annotated[list[str] | None, Form()] = None,
) -> UploadOut:
    options = {
        "format": format,
        "timezone": timezone,
        "year": year,
        "date": date,
        "date_order": date_order,
        "tlp": tlp,
        "nlp": nlp,
        "skip": skip,
    }
    upload = await store_upload(request, s, principal, file, options)
    return upload_out(upload, request.app.state.ppcti.capabilities)


def holder_uploads(s: Session, principal: Principal) -> list[Upload]:
    return list(
        s.scalars(
            select(Upload).where(Upload.holder_id == principal.holder_id).order_by(Upload.created_at.desc())
        ).unique()
    )


@router.get("/uploads", summary="My holder's uploads, newest first")
def list_uploads(request: Request, principal: HolderUser, s: DbSession) -> list[UploadOut]:
    caps = request.app.state.ppcti.capabilities
    return [upload_out(u, caps) for u in holder_uploads(s, principal)]


@router.get(
    "/uploads/{upload_id}", summary="An upload and its job", responses={404: {"description": "Not found"}}
)
def get_upload(upload_id: UploadId, request: Request, principal: HolderUser, s: DbSession) -> UploadOut:
    return upload_out(owned_upload(s, principal, upload_id), request.app.state.ppcti.capabilities)


@router.delete(
    "/uploads/{upload_id}",
    status_code=204,
    summary="Delete an upload and its results",
    responses={404: {"description": "Not found"}, 409: {"description": "Still running"}},
)
def delete_upload(upload_id: UploadId, request: Request, principal: HolderUser, s: DbSession) -> Response:
    upload = owned_upload(s, principal, upload_id)
    if upload.job.state in (JobState.QUEUED, JobState.RUNNING):
        raise HTTPException(409, "the upload is still being processed")
    data_dir = request.app.state.ppcti.settings.data_dir
    s.delete(upload)
    s.commit()
    shutil.rmtree(upload_path(data_dir, upload_id, "x").parent, ignore_errors=True)
    shutil.rmtree(run_path(data_dir, upload_id), ignore_errors=True)
    return Response(status_code=204)


@router.get(
    "/uploads/{upload_id}/events",
    summary="Job progress as server-sent events until it ends",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        404: {"description": "Not found"},
    },
)
async def upload_events(
    upload_id: UploadId,
    request: Request,
    principal: HolderUser,
    s: DbSession,
    timeout: Annotated[float, Query(gt=0, le=600)] = 300,
) -> StreamingResponse:
    job_id = owned_upload(s, principal, upload_id).job.id
    db = request.app.state.ppcti.db

    async def stream() -> Any:
        last: bytes | None = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and not await request.is_disconnected():
            with db.session() as ss:
                job = ss.get(Job, job_id)
                if job is None:
                    return
                data = JobOut.model_validate(job).model_dump_json().encode()
                final = job.state in (JobState.DONE, JobState.FAILED)
            if data != last:
                yield b"data: " + data + b"\n\n"
                last = data
            if final:
                return
            await asyncio.sleep(0.5)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.get(
    "/uploads/{upload_id}/summary",
    summary="The run's summary.json",
    response_class=JSONBytes,
    tags=["results"],
    responses={404: {"description": "Not found"}, **JSON_OBJECT},
)
def get_summary(run_dir: RunDir) -> JSONBytes:
    return file_json(run_dir, "summary.json")


@router.get(
    "/uploads/{upload_id}/rejects",
    summary="Rejected entries with reasons (paged)",
    tags=["results"],
    responses={404: {"description": "Not found"}},
)
def get_rejects(
    run_dir: RunDir,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    reason: Annotated[
        str | None,
        Query(max_length=200, description="Only rejects with this reason, or of this group of summary.json"),
    ] = None,
    file: Annotated[str | None, Query(max_length=300, description="Only rejects of this file")] = None,
) -> Page:
    def keep(r: dict[str, Any]) -> bool:
        text = str(r.get("reason", ""))
        wanted = reason is None or text == reason or reason_key(text) == reason
        return wanted and (file is None or r.get("file") == file)

    return Page(**page_jsonl(run_dir, "rejects.jsonl", offset=offset, limit=limit, keep=keep))


@router.get(
    "/uploads/{upload_id}/downloads/{name}",
    summary="Download a result file",
    tags=["results"],
    response_class=FileResponse,
    responses={404: {"description": "Not found"}},
)
def download(run_dir: RunDir, name: DownloadName) -> FileResponse:
    path, media = DOWNLOADS[name.value]
    return FileResponse(result_file(run_dir, path), media_type=media, filename=name.value)
