"""Who is asking, and what they may see: the dependencies every route builds on.

A request is authenticated by an API token (``Authorization: Bearer ppcti_...``, for tools) or by the
session cookie (for the browser). Requests that change something with a session cookie must also carry
the session's CSRF token (``X-CSRF-Token`` header, or the ``csrf_token`` form field of the pages); token
requests need none, since a browser never attaches a bearer token on its own.

Every look-up of an upload goes through :func:`owned_upload`, which filters by the caller's holder and
answers 404 for anything else, so another holder's uploads are indistinguishable from missing ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ppcti.api.security import digest, same
from ppcti.store import ApiToken, Database, Role, Upload, User, WebSession

SESSION_COOKIE = "ppcti_session"
SECURE_SESSION_COOKIE = "__Host-ppcti_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: How precisely a token's last use is recorded.
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user of one request."""

    user_id: str
    email: str
    role: Role
    holder_id: str | None
    holder_name: str | None
    via: str  # "session" or "token"
    csrf_token: str | None = None

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.PLATFORM_ADMIN


def app_state(request: Request) -> Any:
    return request.app.state.ppcti


async def db_session(request: Request) -> AsyncIterator[Session]:
    """The request's session. An async generator on purpose: its end (commit, close: short calls) runs
    on the event loop. As a sync generator its end would need a free worker thread while it still holds
    a connection, and under load every thread can be waiting for a connection held that way."""
    db: Database = request.app.state.ppcti.db
    with db.session() as s:
        yield s


#: Committed when the route function returns, before the response is sent: a client that reads the
#: response and sends the next request always finds the change (e.g. a new session) in the database.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def session_cookie_name(request: Request) -> str:
    return SECURE_SESSION_COOKIE if request.app.state.ppcti.settings.secure_cookies else SESSION_COOKIE


def _principal(user: User, via: str, csrf: str | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        email=user.email,
        role=user.role,
        holder_id=user.holder_id,
        holder_name=user.holder.name if user.holder else None,
        via=via,
        csrf_token=csrf,
    )


def authenticate(request: Request, s: Session) -> Principal | None:
    """The principal of the request, or None; never raises for a bad credential (the caller decides)."""
    now = datetime.now(UTC)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = s.scalar(select(ApiToken).where(ApiToken.token_hash == digest(header[7:].strip())))
        if token is None:
            return None
        user = s.get(User, token.user_id)
        if user is None:
            return None
        last = token.last_used_at
        if last is None or now - last > LAST_USED_RESOLUTION:  # one write per token and period, not per call
            token.last_used_at = now
        return _principal(user, "token")
    cookie = request.cookies.get(session_cookie_name(request))
    if not cookie:
        return None
    ws = s.get(WebSession, digest(cookie))
    if ws is None:
        return None
    expires = ws.expires_at if ws.expires_at.tzinfo else ws.expires_at.replace(tzinfo=UTC)
    if expires <= now:
        s.delete(ws)
        return None
    user = s.get(User, ws.user_id)
    return None if user is None else _principal(user, "session", ws.csrf_token)


def check_csrf(request: Request, principal: Principal, form_token: str | None = None) -> None:
    if principal.via != "session" or request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER) or form_token or ""
    if not principal.csrf_token or not same(sent, principal.csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token")


def current_user(request: Request, s: DbSession) -> Principal:
    """The API's authentication: 401 without valid credentials, 403 without the CSRF token."""
    principal = authenticate(request, s)
    if principal is None:
        raise HTTPException(401, "sign in or send an API token", headers={"WWW-Authenticate": "Bearer"})
    check_csrf(request, principal)
    # hand the connection back before the next dependency waits for a worker thread
    s.commit()
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def holder_user(principal: CurrentUser) -> Principal:
    """Routes about uploads and results: only users of a holder (platform admins see no holder's data)."""
    if principal.holder_id is None:
        raise HTTPException(403, "only users of a data holder have uploads")
    return principal


HolderUser = Annotated[Principal, Depends(holder_user)]


def owned_upload(s: Session, principal: Principal, upload_id: str) -> Upload:
    upload = s.scalar(select(Upload).where(Upload.id == upload_id, Upload.holder_id == principal.holder_id))
    if upload is None or principal.holder_id is None:
        raise HTTPException(404, "upload not found")
    return upload
