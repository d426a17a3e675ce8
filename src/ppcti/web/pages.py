"""The pages: sign-in, uploads, an upload's overview and one page per capability, API tokens.

Pages use the same session, isolation and CSRF rules as the API (``ppcti.api.deps``): every form that
changes something carries the session's CSRF token, and another holder's upload answers 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ppcti.api.accounts import create_user, set_session_cookie, sign_in, sign_out
from ppcti.api.capabilities import Capability, PageAction
from ppcti.api.deps import DbSession, Principal, authenticate, check_csrf, owned_upload
from ppcti.api.jobs import run_path
from ppcti.api.results import DOWNLOADS, page_jsonl
from ppcti.api.routers.uploads import holder_uploads, store_upload, upload_out
from ppcti.api.security import TOKEN_PREFIX, digest, new_secret
from ppcti.errors import ConfigError, PpctiError
from ppcti.store import ApiToken, Holder, JobState, Role, User

HERE = Path(__file__).parent
#: Form fields whose names have these are never sent back into a refused form.
SECRET_FIELDS = ("password", "secret", "token", "key")
templates = Jinja2Templates(directory=str(HERE / "templates"))


class SignInRequired(Exception):
    pass


def _user(request: Request, s: Session) -> Principal:
    principal = authenticate(request, s)
    if principal is None or principal.via != "session":
        raise SignInRequired
    s.commit()
    return principal


def _same_origin(request: Request) -> None:
    """Sign-in has no session yet to hold a CSRF token: the browser's Origin header must be ours."""
    origin = request.headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host", ""):
        raise HTTPException(403, "cross-site form submission refused")


def _render(
    request: Request, name: str, principal: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"user": principal, **context}, status_code=status)


def _overview(run_dir: Path) -> dict[str, Any]:
    import orjson

    summary_path = run_dir / "summary.json"
    summary = orjson.loads(summary_path.read_bytes()) if summary_path.is_file() else None
    rejects = (
        page_jsonl(run_dir, "rejects.jsonl", offset=0, limit=50)
        if (run_dir / "rejects.jsonl").is_file()
        else None
    )
    downloads = [name for name, (path, _m) in DOWNLOADS.items() if (run_dir / path).is_file()]
    return {"summary": summary, "rejects": rejects, "downloads": downloads}


def mount_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(SignInRequired)
    async def _to_sign_in(_request: Request, _exc: SignInRequired) -> Response:
        return RedirectResponse("/signin", status_code=303)

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/uploads", status_code=303)

    @app.get("/signin", include_in_schema=False)
    def sign_in_page(request: Request) -> HTMLResponse:
        return _render(request, "signin.html", None)

    @app.post("/signin", include_in_schema=False)
    def sign_in_form(
        request: Request,
        s: DbSession,
        email: Annotated[str, Form(max_length=254)],
        password: Annotated[str, Form(max_length=1024)],
    ) -> Response:
        _same_origin(request)
        try:
            secret, _ws, _user_row = sign_in(request, s, email, password)
        except HTTPException as exc:
            return _render(
                request, "signin.html", None, status=exc.status_code, error=exc.detail, email=email
            )
        s.commit()
        response = RedirectResponse("/uploads", status_code=303)
        set_session_cookie(request, response, secret)
        return response

    @app.post("/signout", include_in_schema=False)
    def sign_out_form(request: Request, s: DbSession, csrf_token: Annotated[str, Form()] = "") -> Response:
        principal = _user(request, s)
        check_csrf(request, principal, csrf_token)
        response = RedirectResponse("/signin", status_code=303)
        sign_out(request, s, response)
        s.commit()
        return response

    @app.get("/uploads", include_in_schema=False)
    def uploads_page(request: Request, s: DbSession) -> HTMLResponse:
        principal = _user(request, s)
        caps = request.app.state.ppcti.capabilities
        rows = [upload_out(u, caps) for u in holder_uploads(s, principal)] if principal.holder_id else []
        return _render(request, "uploads.html", principal, uploads=rows)

    @app.post("/uploads", include_in_schema=False)
    async def upload_form(
        request: Request,
        s: DbSession,
        file: UploadFile,
        csrf_token: Annotated[str, Form()] = "",
        timezone: Annotated[str, Form(max_length=64)] = "",
        tlp: Annotated[str, Form(max_length=20)] = "",
        nlp: Annotated[str, Form(max_length=10)] = "",
        date: Annotated[str, Form(max_length=10)] = "",
    ) -> Response:
        principal = _user(request, s)
        check_csrf(request, principal, csrf_token)
        if principal.holder_id is None:
            raise HTTPException(403, "only users of a data holder have uploads")
        try:
            upload = await store_upload(
                request, s, principal, file, {"timezone": timezone, "tlp": tlp, "nlp": nlp, "date": date}
            )
        except HTTPException as exc:
            s.rollback()
            caps = request.app.state.ppcti.capabilities
            rows = [upload_out(u, caps) for u in holder_uploads(s, principal)]
            return _render(
                request, "uploads.html", principal, status=exc.status_code, uploads=rows, error=exc.detail
            )
        return RedirectResponse(f"/uploads/{upload.id}", status_code=303)

    @app.get("/uploads/{upload_id}", include_in_schema=False)
    def upload_page(upload_id: str, request: Request, s: DbSession) -> HTMLResponse:
        principal = _user(request, s)
        state = request.app.state.ppcti
        upload = owned_upload(s, principal, upload_id)
        out = upload_out(upload, state.capabilities)
        s.commit()  # the connection goes back to the pool before result files are read
        context = (
            _overview(run_path(state.settings.data_dir, upload.id))
            if upload.job.state in (JobState.DONE, JobState.FAILED)
            else {}
        )
        return _render(request, "upload.html", principal, upload=out, caps=_caps(state, out), **context)

    @app.get("/uploads/{upload_id}/{capability}", include_in_schema=False)
    def capability_page(upload_id: str, capability: str, request: Request, s: DbSession) -> HTMLResponse:
        principal = _user(request, s)
        cap, out, run_dir = _capability(request, s, principal, upload_id, capability)
        assert cap.template is not None and cap.context is not None
        context = cap.context(run_dir, request.query_params)
        state = request.app.state.ppcti
        return _render(
            request, cap.template, principal, upload=out, caps=_caps(state, out), current=cap.name, **context
        )

    @app.post("/uploads/{upload_id}/{capability}", include_in_schema=False)
    async def capability_action(upload_id: str, capability: str, request: Request, s: DbSession) -> Response:
        """A capability page's form: the same checks as the page, then the CSRF token, then the action
        (in a worker thread: actions read and write run files); its outcome is shown on the page."""
        principal = _user(request, s)
        async with request.form() as form:  # closes the spooled files of the upload fields
            token = form.get("csrf_token")
            check_csrf(request, principal, token if isinstance(token, str) else "")
            cap, out, run_dir = _capability(request, s, principal, upload_id, capability)
            if cap.action is None:
                raise HTTPException(405, "this page has no form")
            # what was typed goes back into the form when the action refuses it (files are not kept)
            typed = {
                k: v
                for k, v in form.items()
                if isinstance(v, str) and k != "csrf_token" and not any(w in k for w in SECRET_FIELDS)
            }
            status, outcome = 200, {}
            try:
                outcome = await run_in_threadpool(cap.action, PageAction(request, out.id, run_dir, form))
            except PpctiError as exc:
                status, outcome = exc.http_status, {"error": exc.message, "typed": typed}
            except HTTPException as exc:
                if exc.status_code == 404:
                    raise
                status, outcome = exc.status_code, {"error": str(exc.detail), "typed": typed}
        if isinstance(outcome, Response):
            return outcome
        assert cap.template is not None and cap.context is not None
        context = {**cap.context(run_dir, request.query_params), **outcome}
        state = request.app.state.ppcti
        return _render(
            request,
            cap.template,
            principal,
            status=status,
            upload=out,
            caps=_caps(state, out),
            current=cap.name,
            **context,
        )

    @app.get("/tokens", include_in_schema=False)
    def tokens_page(request: Request, s: DbSession, created: str | None = None) -> HTMLResponse:
        principal = _user(request, s)
        rows = list(s.scalars(select(ApiToken).where(ApiToken.user_id == principal.user_id)))
        return _render(request, "tokens.html", principal, tokens=rows, created=created)

    @app.post("/tokens", include_in_schema=False)
    def token_form(
        request: Request,
        s: DbSession,
        name: Annotated[str, Form(min_length=1, max_length=100)],
        csrf_token: Annotated[str, Form()] = "",
    ) -> HTMLResponse:
        principal = _user(request, s)
        check_csrf(request, principal, csrf_token)
        secret = new_secret(TOKEN_PREFIX)
        s.add(ApiToken(user_id=principal.user_id, name=name, token_hash=digest(secret)))
        s.commit()
        rows = list(s.scalars(select(ApiToken).where(ApiToken.user_id == principal.user_id)))
        return _render(request, "tokens.html", principal, tokens=rows, created=secret)

    @app.get("/users", include_in_schema=False)
    def users_page(request: Request, s: DbSession) -> HTMLResponse:
        principal = _admin(request, s)
        return _render(request, "users.html", principal, users=_users(s, principal))

    @app.post("/users", include_in_schema=False)
    def user_form(
        request: Request,
        s: DbSession,
        email: Annotated[str, Form(max_length=254)],
        password: Annotated[str, Form(max_length=1024)],
        role: Annotated[str, Form(max_length=20)] = "holder_user",
        csrf_token: Annotated[str, Form()] = "",
    ) -> HTMLResponse:
        principal = _admin(request, s)
        check_csrf(request, principal, csrf_token)
        try:
            chosen = Role(role)
            if chosen is Role.PLATFORM_ADMIN or principal.holder_id is None:
                raise ConfigError("on this page, admins add users of their own holder")
            create_user(s, email.strip(), password, chosen, s.get(Holder, principal.holder_id))
            s.commit()
        except (ConfigError, ValueError) as exc:
            s.rollback()
            message = exc.message if isinstance(exc, ConfigError) else "unknown role"
            return _render(
                request, "users.html", principal, status=422, users=_users(s, principal), error=message
            )
        return _render(request, "users.html", principal, users=_users(s, principal), added=email.strip())

    @app.exception_handler(404)
    async def _not_found(request: Request, exc: Exception) -> Response:
        detail = getattr(exc, "detail", "not found")
        if request.url.path.startswith("/api/"):
            from fastapi.responses import JSONResponse

            return JSONResponse({"detail": detail}, status_code=404)
        return _render(request, "error.html", None, status=404, message=detail)


def _capability(
    request: Request, s: Session, principal: Principal, upload_id: str, name: str
) -> tuple[Capability, Any, Path]:
    """The page capability ``name`` of an upload the caller may see, with the upload and its run folder;
    404 (the same for another holder's upload as for a missing one) otherwise."""
    state = request.app.state.ppcti
    upload = owned_upload(s, principal, upload_id)
    out = upload_out(upload, state.capabilities)
    s.commit()  # the connection goes back to the pool before result files are read
    cap = next((c for c in state.capabilities if c.name == name and c.name in out.capabilities), None)
    if cap is None or cap.template is None or cap.context is None:
        raise HTTPException(404, "no such page for this upload")
    return cap, out, run_path(state.settings.data_dir, upload.id)


def _admin(request: Request, s: Session) -> Principal:
    principal = _user(request, s)
    if principal.role is not Role.HOLDER_ADMIN:
        raise HTTPException(403, "only holder admins manage their holder's users here")
    return principal


def _users(s: Session, principal: Principal) -> list[User]:
    return list(s.scalars(select(User).where(User.holder_id == principal.holder_id).order_by(User.email)))


def _caps(state: Any, out: Any) -> list[dict[str, str]]:
    return [
        {"name": c.name, "title": c.title, "page": bool(c.template)}
        for c in state.capabilities
        if c.name in out.capabilities
    ]
