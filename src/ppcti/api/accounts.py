"""Signing in and out, shared by the API and the sign-in page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import HTTPException, Request, Response
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ppcti.api.deps import session_cookie_name
from ppcti.api.security import digest, hash_password, new_secret, verify_password
from ppcti.store import Holder, Role, User, WebSession


def sign_in(request: Request, s: Session, email: str, password: str) -> tuple[str, WebSession, User]:
    """Check the password (rate-limited per client address and per account) and open a session."""
    state: Any = request.app.state.ppcti
    client = f"ip:{request.client.host if request.client else '?'}"
    account = f"user:{email.strip().lower()}"
    wait = state.limiter.blocked(client, account)
    if wait > 0:
        raise HTTPException(
            429, "too many sign-in attempts; try again later", headers={"Retry-After": str(int(wait) + 1)}
        )
    user = s.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        state.limiter.failed(client, account)
        raise HTTPException(401, "wrong e-mail or password")
    state.limiter.reset(account)
    secret = new_secret()
    ws = WebSession(
        id_hash=digest(secret),
        user_id=user.id,
        csrf_token=new_secret(),
        expires_at=datetime.now(UTC) + timedelta(hours=state.settings.session_hours),
    )
    s.add(ws)
    s.execute(delete(WebSession).where(WebSession.expires_at < datetime.now(UTC)))
    return secret, ws, user


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    settings = request.app.state.ppcti.settings
    response.set_cookie(
        session_cookie_name(request),
        secret,
        max_age=int(settings.session_hours * 3600),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def sign_out(request: Request, s: Session, response: Response) -> None:
    cookie = request.cookies.get(session_cookie_name(request))
    if cookie:
        s.execute(delete(WebSession).where(WebSession.id_hash == digest(cookie)))
    response.delete_cookie(
        session_cookie_name(request),
        path="/",
        secure=request.app.state.ppcti.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def create_user(s: Session, email: str, password: str, role: Role, holder: Holder | None) -> User:
    """A new account; holder roles need a holder, the platform admin role must not have one."""
    from ppcti.api.security import MIN_PASSWORD_LENGTH
    from ppcti.errors import ConfigError

    if (role is Role.PLATFORM_ADMIN) != (holder is None):
        raise ConfigError("platform admins belong to no holder; every other user belongs to one")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"passwords have at least {MIN_PASSWORD_LENGTH} characters")
    if s.scalar(select(User).where(func.lower(User.email) == email.lower())) is not None:
        raise ConfigError("a user with this e-mail exists already")
    user = User(
        email=email, password_hash=hash_password(password), role=role, holder_id=holder.id if holder else None
    )
    s.add(user)
    s.flush()
    return user


def ensure_holder(s: Session, name: str) -> Holder:
    holder = s.scalar(select(Holder).where(Holder.name == name))
    if holder is None:
        holder = Holder(name=name)
        s.add(holder)
        s.flush()
    return holder
